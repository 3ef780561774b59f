//! GitLab Code Quality reports (`artifacts:reports:codequality`): a JSON array of issues in the
//! Code Climate subset GitLab reads (`description`, `check_name`, `fingerprint`, `severity`,
//! `location.path`, `location.lines.begin`).

use serde_json::{Value, json};

use crate::check::CheckResult;
use crate::diagnostic::Severity;
use crate::suppression::UNUSED_SUPPRESSION_CODE;

use super::printable::escape;

use super::{PathDisplay, fingerprint};

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut issues: Vec<Value> = Vec::new();
    for finding in &result.findings {
        let at = &finding.primary;
        issues.push(json!({
            "type": "issue",
            "description": format!("{}: {}", finding.code, escape(&finding.message)),
            "check_name": finding.code,
            "fingerprint": fingerprint(finding, paths),
            "severity": match finding.severity {
                Severity::Error => "major",
                Severity::Warning => "minor",
            },
            "categories": ["Bug Risk"],
            "location": {
                "path": paths.show(&at.path),
                "lines": {"begin": at.line, "end": at.end_line},
            },
        }));
        if !finding.members.is_empty() {
            // Code Climate's place for the other objects' definitions.
            let definitions: Vec<Value> = finding
                .members
                .iter()
                .filter_map(super::group::definition)
                .map(|definition| {
                    json!({
                        "path": paths.show(&definition.path),
                        "lines": {"begin": definition.line, "end": definition.end_line},
                    })
                })
                .collect();
            if let Some(issue) = issues.last_mut() {
                issue["other_locations"] = json!(definitions);
            }
        }
    }
    // Entries that are not findings get fingerprints of their own kind and place.
    let other = |kind: &str, path: &str, line: u32, message: &str| {
        let key = format!("{kind}\0{path}\0{line}\0{message}");
        format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
    };
    for unused in &result.unused_suppressions {
        let path = paths.show(&unused.path);
        issues.push(json!({
            "type": "issue",
            "description": format!("{UNUSED_SUPPRESSION_CODE}: {}", escape(&unused.message)),
            "check_name": UNUSED_SUPPRESSION_CODE,
            "fingerprint": other(UNUSED_SUPPRESSION_CODE, &path, unused.line, &unused.message),
            "severity": "info",
            "categories": ["Style"],
            "location": {"path": path, "lines": {"begin": unused.line}},
        }));
    }
    for error in &result.errors {
        let path = paths.show(&error.path);
        let line = error.line.unwrap_or(1);
        issues.push(json!({
            "type": "issue",
            "description": format!("stateleak could not analyse this file: {}", escape(&error.message)),
            "check_name": "stateleak-error",
            "fingerprint": other("error", &path, line, &error.message),
            "severity": "critical",
            "categories": ["Bug Risk"],
            "location": {"path": path, "lines": {"begin": line}},
        }));
    }
    let mut out = serde_json::to_string_pretty(&issues).expect("the report serialises");
    out.push('\n');
    out
}
