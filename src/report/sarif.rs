//! SARIF 2.1.0 (the OASIS Static Analysis Results Interchange Format), for code-scanning
//! dashboards: rule metadata with the rule's documentation as help, related locations, partial
//! fingerprints and CWE-488 tags.

use serde_json::{Value, json};

use crate::check::{CheckResult, Finding, Location};
use crate::diagnostic::Severity;
use crate::rules;

use super::{PathDisplay, fingerprint};

/// CWE-488, "Exposure of Data Element to Wrong Session": what a leak between requests is.
const TAGS: [&str; 3] = ["security", "CWE-488", "external/cwe/cwe-488"];

/// The rule id of reports about suppression comments that suppress nothing.
const UNUSED_SUPPRESSION: &str = "unused-suppression";

const SRCROOT: &str = "%SRCROOT%";

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let all = rules::all();
    let mut descriptors: Vec<Value> = all
        .iter()
        .map(|rule| {
            let meta = rule.meta();
            let documentation = meta.documentation();
            json!({
                "id": meta.code,
                "name": pascal_case(meta.name),
                "shortDescription": {"text": sentence(meta.summary)},
                "fullDescription": {"text": sentence(meta.summary)},
                "help": {"text": documentation, "markdown": documentation},
                "defaultConfiguration": {
                    "enabled": meta.enabled_by_default,
                    "level": level(meta.severity),
                },
                "properties": {
                    "tags": TAGS,
                    "precision": if meta.enabled_by_default { "high" } else { "medium" },
                    "problem.severity": level(meta.severity),
                },
            })
        })
        .collect();
    descriptors.push(json!({
        "id": UNUSED_SUPPRESSION,
        "name": "UnusedSuppression",
        "shortDescription": {"text": "A suppression comment suppresses nothing."},
        "help": {"text": "Remove the comment, or the codes in it that suppress nothing."},
        "defaultConfiguration": {"level": "warning"},
    }));

    let mut results: Vec<Value> = result
        .findings
        .iter()
        .map(|finding| {
            let rule_index = all.iter().position(|r| r.meta().code == finding.code);
            let related: Vec<Value> = finding
                .related
                .iter()
                .enumerate()
                .map(|(i, location)| {
                    json!({
                        "id": i + 1,
                        "physicalLocation": physical(location, paths),
                        "message": {"text": sentence(&location.message)},
                    })
                })
                .collect();
            let mut value = json!({
                "ruleId": finding.code,
                "level": level(finding.severity),
                "message": {"text": format!(
                    "{}\nnote: {}\nhelp: {}",
                    sentence(&finding.message),
                    sentence(&finding.note),
                    sentence(&finding.help)
                )},
                "locations": [{
                    "physicalLocation": physical(&finding.primary, paths),
                    "message": {"text": sentence(&finding.primary.message)},
                }],
                "relatedLocations": related,
                "partialFingerprints": {"stateleak/v1": fingerprint(finding, paths)},
            });
            if let Some(index) = rule_index {
                value["ruleIndex"] = json!(index);
            }
            if !finding.entry_path.is_empty() {
                value["codeFlows"] = code_flow(finding, paths);
            }
            if !finding.members.is_empty() {
                // The shared objects of a finding that names several, with the fingerprints
                // they have alone (what baselines record).
                let members: Vec<Value> = finding
                    .members
                    .iter()
                    .map(|member| {
                        json!({
                            "object": member.object.as_deref().map(super::printable::escape),
                            "message": sentence(&member.message),
                            "fingerprint": fingerprint(member, paths),
                        })
                    })
                    .collect();
                value["properties"] = json!({"members": members});
            }
            value
        })
        .collect();
    for unused in &result.unused_suppressions {
        results.push(json!({
            "ruleId": UNUSED_SUPPRESSION,
            "ruleIndex": all.len(),
            "level": "warning",
            "message": {"text": sentence(&unused.message)},
            "locations": [{"physicalLocation": {
                "artifactLocation": artifact(&paths.show(&unused.path)),
                "region": {"startLine": unused.line, "startColumn": unused.column},
            }}],
        }));
    }

    let notifications: Vec<Value> = result
        .errors
        .iter()
        .map(|error| {
            let mut region = json!({});
            if let Some(line) = error.line {
                region = json!({"startLine": line});
            }
            let mut location = json!({"artifactLocation": artifact(&paths.show(&error.path))});
            if error.line.is_some() {
                location["region"] = region;
            }
            json!({
                "level": "error",
                "message": {"text": sentence(&error.message)},
                "locations": [{"physicalLocation": location}],
            })
        })
        .collect();

    let mut run = json!({
        "tool": {"driver": {
            "name": "stateleak",
            "version": env!("CARGO_PKG_VERSION"),
            "semanticVersion": env!("CARGO_PKG_VERSION"),
            "rules": descriptors,
        }},
        "columnKind": "unicodeCodePoints",
        "results": results,
        "invocations": [{
            "executionSuccessful": !result.has_internal_errors(),
            "toolExecutionNotifications": notifications,
        }],
    });
    if let Some(root) = paths.root_uri() {
        run["originalUriBaseIds"] = json!({SRCROOT: {"uri": root}});
    }
    let document = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [run],
    });
    let mut out = serde_json::to_string_pretty(&document).expect("the document serialises");
    out.push('\n');
    out
}

/// The chain of calls from a request entry point to the finding, ending at the finding.
fn code_flow(finding: &Finding, paths: &PathDisplay) -> Value {
    let mut steps: Vec<Value> = finding
        .entry_path
        .iter()
        .enumerate()
        .map(|(i, step)| {
            let text = match (&step.entry_kind, i) {
                (Some(kind), 0) => {
                    format!("`{}` is a request entry point ({kind}).", step.function)
                }
                _ => format!("`{}` is called.", step.function),
            };
            json!({"location": {
                "physicalLocation": {
                    "artifactLocation": artifact(&paths.show(&step.path)),
                    "region": {"startLine": step.line},
                },
                "message": {"text": text},
            }})
        })
        .collect();
    steps.push(json!({"location": {
        "physicalLocation": physical(&finding.primary, paths),
        "message": {"text": sentence(&finding.primary.message)},
    }}));
    json!([{
        "message": {"text": "How a request reaches the finding."},
        "threadFlows": [{"locations": steps}],
    }])
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

fn physical(location: &Location, paths: &PathDisplay) -> Value {
    json!({
        "artifactLocation": artifact(&paths.show(&location.path)),
        "region": {
            "startLine": location.line,
            "startColumn": location.column,
            "endLine": location.end_line,
            "endColumn": location.end_column,
        },
    })
}

/// A relative path is relative to the working directory, which `%SRCROOT%` names.
fn artifact(shown: &str) -> Value {
    if std::path::Path::new(shown).is_absolute() {
        json!({"uri": file_uri(shown)})
    } else {
        json!({"uri": percent_encode(shown), "uriBaseId": SRCROOT})
    }
}

pub(super) fn file_uri(absolute: &str) -> String {
    let path = absolute.replace('\\', "/");
    if path.starts_with('/') {
        format!("file://{}", percent_encode(&path))
    } else {
        format!("file:///{}", percent_encode(&path))
    }
}

/// Escapes what may not stand in a URI path as is.
fn percent_encode(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for byte in path.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                out.push(byte as char)
            }
            b':' if out.len() == 2 => out.push(':'), // a Windows drive: `/C:`
            _ => out.push_str(&format!("%{byte:02X}")),
        }
    }
    out
}

/// SARIF asks that messages be sentences.
fn sentence(text: &str) -> String {
    let text = super::printable::escape(text);
    let text = text.trim_end();
    if text.ends_with(['.', '!', '?']) {
        text.to_string()
    } else {
        format!("{text}.")
    }
}

/// `shared-class-state-mutated-through-instance` → `SharedClassStateMutatedThroughInstance`.
fn pascal_case(name: &str) -> String {
    name.split(['-', '_'])
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_uppercase().chain(chars).collect(),
                None => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_and_names() {
        assert_eq!(percent_encode("a b/c#.py"), "a%20b/c%23.py");
        assert_eq!(file_uri("/tmp/x y.py"), "file:///tmp/x%20y.py");
        assert_eq!(pascal_case("shared-class-state"), "SharedClassState");
        assert_eq!(sentence("done"), "done.");
        assert_eq!(sentence("done."), "done.");
    }
}
