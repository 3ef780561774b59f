//! The JSON output: one stable document (schema version 1, described in the README).

use serde::Serialize;

use crate::check::{CheckResult, Finding};

use std::borrow::Cow;

use super::printable::escape;
use super::{PathDisplay, fingerprint};

#[derive(Serialize)]
struct Document<'a> {
    version: u32,
    findings: Vec<JsonFinding<'a>>,
    errors: Vec<JsonError>,
    /// Only filled with `--show-unused-suppressions`.
    unused_suppressions: Vec<JsonUnusedSuppression>,
    summary: Summary,
}

#[derive(Serialize)]
struct JsonUnusedSuppression {
    path: String,
    line: u32,
    column: u32,
    codes: Vec<String>,
    message: String,
}

#[derive(Serialize)]
struct JsonFinding<'a> {
    code: &'a str,
    severity: &'a str,
    message: Cow<'a, str>,
    path: String,
    line: u32,
    column: u32,
    end_line: u32,
    end_column: u32,
    related: Vec<Related<'a>>,
    fingerprint: String,
    /// The import path of the shared object, `null` when the finding names none.
    object: Option<&'a str>,
    /// The rule's documentation.
    url: String,
    /// The mechanical repair, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    fix: Option<JsonFix<'a>>,
    /// A shortest chain of calls from a request entry point to the finding, the entry point
    /// first; absent when no entry point reaches it.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    entry_points: Vec<JsonPathStep<'a>>,
    /// Steps of a long chain left out between its first and last steps in `entry_points`.
    #[serde(skip_serializing_if = "is_zero")]
    entry_points_omitted: usize,
    /// When the finding stands for the findings of its rule at this change expression about
    /// several shared objects: each of them, in report order (the first is the one the finding
    /// tells); absent for a finding about one object.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    members: Vec<JsonMember<'a>>,
}

/// One shared object of a finding that names several.
#[derive(Serialize)]
struct JsonMember<'a> {
    object: Option<&'a str>,
    message: Cow<'a, str>,
    /// The fingerprint the finding has alone (what baselines record and `--explain` accepts).
    fingerprint: String,
    /// Where the shared object is created, when known.
    definition: Option<Related<'a>>,
    /// How to repair this object's leak (members of one finding share its severity and help).
    help: Cow<'a, str>,
    /// This object's mechanical repair, when there is one.
    fix: Option<JsonFix<'a>>,
    /// The request path to the change that this object's finding tells.
    entry_points: Vec<JsonPathStep<'a>>,
    #[serde(skip_serializing_if = "is_zero")]
    entry_points_omitted: usize,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

#[derive(Serialize)]
struct JsonFix<'a> {
    /// The file the edits apply to (not always the finding's).
    path: String,
    applicability: crate::fix::Applicability,
    message: &'a str,
    edits: Vec<JsonEdit<'a>>,
}

/// Replace from `location` to `end_location` (exclusive) with `content`.
#[derive(Serialize)]
struct JsonEdit<'a> {
    content: &'a str,
    location: JsonPosition,
    end_location: JsonPosition,
}

#[derive(Serialize)]
struct JsonPosition {
    line: u32,
    column: u32,
}

/// One line of `json-lines`: an entry of the document, with its kind.
#[derive(Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
enum Line<'a> {
    Finding(Box<JsonFinding<'a>>),
    UnusedSuppression(JsonUnusedSuppression),
    Error(JsonError),
}

#[derive(Serialize)]
struct JsonPathStep<'a> {
    function: &'a str,
    path: String,
    line: u32,
    #[serde(skip_serializing_if = "Option::is_none")]
    entry: Option<&'a str>,
}

#[derive(Serialize)]
struct Related<'a> {
    path: String,
    line: u32,
    column: u32,
    message: Cow<'a, str>,
}

#[derive(Serialize)]
struct JsonError {
    path: String,
    line: Option<u32>,
    message: String,
}

#[derive(Serialize)]
struct Summary {
    files: usize,
    findings: usize,
    errors: usize,
}

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let document = Document {
        version: 1,
        findings: findings(result, paths),
        errors: errors(result, paths),
        unused_suppressions: unused_suppressions(result, paths),
        summary: Summary {
            files: result.files_checked,
            findings: result.findings.len(),
            errors: result.errors.len(),
        },
    };
    let mut out = serde_json::to_string_pretty(&document).expect("the document serialises");
    out.push('\n');
    out
}

/// `json-lines`: the document's entries, one compact object per line, each with its `kind`.
pub fn render_lines(result: &CheckResult, paths: &PathDisplay) -> String {
    let lines = findings(result, paths)
        .into_iter()
        .map(|finding| Line::Finding(Box::new(finding)))
        .chain(
            unused_suppressions(result, paths)
                .into_iter()
                .map(Line::UnusedSuppression),
        )
        .chain(errors(result, paths).into_iter().map(Line::Error));
    let mut out = String::new();
    for line in lines {
        out.push_str(&serde_json::to_string(&line).expect("an entry serialises"));
        out.push('\n');
    }
    out
}

fn findings<'a>(result: &'a CheckResult, paths: &PathDisplay) -> Vec<JsonFinding<'a>> {
    result
        .findings
        .iter()
        .map(|f| JsonFinding {
            code: f.code,
            severity: f.severity.as_str(),
            message: escape(&f.message),
            path: paths.show(&f.primary.path),
            line: f.primary.line,
            column: f.primary.column,
            end_line: f.primary.end_line,
            end_column: f.primary.end_column,
            related: f.related.iter().map(|r| related(r, paths)).collect(),
            fingerprint: fingerprint(f, paths),
            object: f.object.as_deref(),
            url: crate::rules::documentation_url(f.code),
            fix: json_fix(f, result, paths),
            entry_points: entry_points(f, paths),
            entry_points_omitted: f.entry_path_omitted,
            members: f
                .members
                .iter()
                .map(|member| JsonMember {
                    object: member.object.as_deref(),
                    message: escape(&member.message),
                    fingerprint: fingerprint(member, paths),
                    definition: super::group::definition(member).map(|r| related(r, paths)),
                    help: escape(&member.help),
                    fix: json_fix(member, result, paths),
                    entry_points: entry_points(member, paths),
                    entry_points_omitted: member.entry_path_omitted,
                })
                .collect(),
        })
        .collect()
}

fn json_fix<'a>(
    finding: &'a Finding,
    result: &CheckResult,
    paths: &PathDisplay,
) -> Option<JsonFix<'a>> {
    let fix = finding.fix.as_ref()?;
    // The repair may edit another file than the change's (a subclass's attribute).
    let text = result.sources.get(&fix.path)?;
    let at = |offset: u32| {
        let (line, column, _) = super::position(text, offset);
        JsonPosition { line, column }
    };
    Some(JsonFix {
        path: paths.show(&fix.path),
        applicability: fix.applicability,
        message: &fix.message,
        edits: fix
            .edits
            .iter()
            .map(|edit| JsonEdit {
                content: &edit.content,
                location: at(edit.start),
                end_location: at(edit.end),
            })
            .collect(),
    })
}

fn entry_points<'a>(finding: &'a Finding, paths: &PathDisplay) -> Vec<JsonPathStep<'a>> {
    finding
        .entry_path
        .iter()
        .map(|step| JsonPathStep {
            function: &step.function,
            path: paths.show(&step.path),
            line: step.line,
            entry: step.entry_kind.as_deref(),
        })
        .collect()
}

fn related<'a>(location: &'a crate::check::Location, paths: &PathDisplay) -> Related<'a> {
    Related {
        path: paths.show(&location.path),
        line: location.line,
        column: location.column,
        message: escape(&location.message),
    }
}

fn errors(result: &CheckResult, paths: &PathDisplay) -> Vec<JsonError> {
    result
        .errors
        .iter()
        .map(|e| JsonError {
            path: paths.show(&e.path),
            line: e.line,
            message: escape(&e.message).into_owned(),
        })
        .collect()
}

fn unused_suppressions(result: &CheckResult, paths: &PathDisplay) -> Vec<JsonUnusedSuppression> {
    result
        .unused_suppressions
        .iter()
        .map(|u| JsonUnusedSuppression {
            path: paths.show(&u.path),
            line: u.line,
            column: u.column,
            codes: u.codes.clone(),
            message: escape(&u.message).into_owned(),
        })
        .collect()
}
