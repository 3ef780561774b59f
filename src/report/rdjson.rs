//! reviewdog's Diagnostic Format (`rdjson`): one `DiagnosticResult` object. Columns count UTF-8
//! bytes from 1 and ranges end exclusively, as the format defines.

use serde_json::{Value, json};

use crate::check::{CheckResult, Location};
use crate::diagnostic::Severity;
use crate::rules;
use crate::suppression::UNUSED_SUPPRESSION_CODE;

use super::printable::escape;

use super::PathDisplay;

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut diagnostics: Vec<Value> = Vec::new();
    for finding in &result.findings {
        let message = super::message_with_related(finding, paths);
        let mut diagnostic = json!({
            "message": message,
            "location": {
                "path": paths.show(&finding.primary.path),
                "range": byte_range(result, &finding.primary),
            },
            "severity": match finding.severity {
                Severity::Error => "ERROR",
                Severity::Warning => "WARNING",
            },
            "code": {"value": finding.code, "url": rules::documentation_url(finding.code)},
        });
        // reviewdog applies suggestions to the diagnostic's own file: a repair of another file
        // is left to `stateleak check --fix`. A finding that names several objects suggests the
        // repair of each.
        let suggestions: Vec<Value> = super::group::members(finding)
            .iter()
            .filter_map(|member| member.fix.as_ref())
            .filter(|fix| fix.path == finding.primary.path)
            .flat_map(|fix| &fix.edits)
            .map(|edit| json!({"range": edit_range(result, &finding.primary, edit), "text": edit.content}))
            .collect();
        if !suggestions.is_empty() {
            diagnostic["suggestions"] = json!(suggestions);
        }
        diagnostics.push(diagnostic);
    }
    for unused in &result.unused_suppressions {
        diagnostics.push(json!({
            "message": escape(&unused.message),
            "location": {
                "path": paths.show(&unused.path),
                "range": {"start": {"line": unused.line}},
            },
            "severity": "WARNING",
            "code": {"value": UNUSED_SUPPRESSION_CODE},
        }));
    }
    for error in &result.errors {
        let mut location = json!({"path": paths.show(&error.path)});
        if let Some(line) = error.line {
            location["range"] = json!({"start": {"line": line}});
        }
        diagnostics.push(json!({
            "message": format!("stateleak could not analyse this file: {}", escape(&error.message)),
            "location": location,
            "severity": "ERROR",
        }));
    }
    let document = json!({
        "source": {"name": "stateleak", "url": rules::documentation_url("")},
        "diagnostics": diagnostics,
    });
    let mut out = serde_json::to_string_pretty(&document).expect("the report serialises");
    out.push('\n');
    out
}

/// The range of a location in lines and UTF-8 byte columns.
fn byte_range(result: &CheckResult, at: &Location) -> Value {
    match result.sources.get(&at.path) {
        Some(text) => range(text, at.start, at.end),
        None => json!({"start": {"line": at.line}, "end": {"line": at.end_line}}),
    }
}

fn edit_range(result: &CheckResult, at: &Location, edit: &crate::fix::Edit) -> Value {
    match result.sources.get(&at.path) {
        Some(text) => range(text, edit.start, edit.end),
        None => json!({"start": {"line": at.line}}),
    }
}

fn range(text: &str, start: u32, end: u32) -> Value {
    let position = |offset: u32| {
        let (line, _, byte_column) = super::position(text, offset);
        json!({"line": line, "column": byte_column})
    };
    json!({"start": position(start), "end": position(end)})
}
