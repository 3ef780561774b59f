//! Findings and errors as LSP diagnostics.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use lsp_types::{
    CodeDescription, Diagnostic, DiagnosticRelatedInformation, DiagnosticSeverity, Location,
    NumberOrString, Position, Range, Url,
};

use crate::check::{self, CheckResult, FileError, Finding};
use crate::config::{self, ConfigError};
use crate::diagnostic::Severity;

const SOURCE: &str = "stateleak";

pub fn uri(path: &Path) -> Option<Url> {
    Url::from_file_path(config::absolute(path)).ok()
}

/// Writes each rule's documentation to `<cache>/rules/CODE.md` (when it differs) for the
/// diagnostics to link to: the documentation of the very build that reports, readable offline.
/// A rule whose file cannot be written gets no link.
pub fn write_rule_documents(cache: &Path) -> HashMap<&'static str, Url> {
    let dir = cache.join("rules");
    if std::fs::create_dir_all(&dir).is_err() {
        return HashMap::new();
    }
    crate::rules::all()
        .iter()
        .filter_map(|rule| {
            let meta = rule.meta();
            let path = dir.join(format!("{}.md", meta.code));
            let text = meta.documentation();
            let current = std::fs::read_to_string(&path).is_ok_and(|old| old == text);
            if !current {
                std::fs::write(&path, text).ok()?;
            }
            Some((meta.code, uri(&path)?))
        })
        .collect()
}

/// The diagnostics of a run, by file: findings on their primary place, and file errors.
pub fn diagnostics(
    result: &CheckResult,
    documentation: &HashMap<&'static str, Url>,
) -> HashMap<Url, Vec<Diagnostic>> {
    let mut by_file: HashMap<Url, Vec<Diagnostic>> = HashMap::new();
    for finding in &result.findings {
        if let Some(uri) = uri(&finding.primary.path) {
            let diagnostic = finding_diagnostic(finding, result, documentation);
            by_file.entry(uri).or_default().push(diagnostic);
        }
    }
    for error in &result.errors {
        if let Some(uri) = uri(&error.path) {
            by_file
                .entry(uri)
                .or_default()
                .push(error_diagnostic(error));
        }
    }
    by_file
}

fn finding_diagnostic(
    finding: &Finding,
    result: &CheckResult,
    documentation: &HashMap<&'static str, Url>,
) -> Diagnostic {
    let mut message = finding.message.clone();
    if !finding.help.is_empty() {
        message.push_str("\nhelp: ");
        message.push_str(&finding.help);
    }
    let related = finding.related.iter().filter_map(|label| {
        Some(DiagnosticRelatedInformation {
            location: Location::new(uri(&label.path)?, range(result, label)),
            message: if label.message.is_empty() {
                "related".to_string()
            } else {
                label.message.clone()
            },
        })
    });
    // A finding that names several objects tells its first object's request path.
    let whose = match finding.members.first().and_then(|m| m.object.as_deref()) {
        Some(object) => format!("request path of `{object}`"),
        None => "request path".to_string(),
    };
    let steps = finding
        .entry_path
        .iter()
        .enumerate()
        .filter_map(|(i, step)| {
            let at = Position::new(step.line.saturating_sub(1), 0);
            let message = match (&step.entry_kind, i) {
                (Some(kind), _) => format!("{whose}: enters at `{}` ({kind})", step.function),
                (None, 0) => format!("{whose}: enters at `{}`", step.function),
                (None, _) => format!("{whose}: calls `{}`", step.function),
            };
            Some(DiagnosticRelatedInformation {
                location: Location::new(uri(&step.path)?, Range::new(at, at)),
                message,
            })
        });
    Diagnostic {
        range: range(result, &finding.primary),
        severity: Some(match finding.severity {
            Severity::Error => DiagnosticSeverity::ERROR,
            Severity::Warning => DiagnosticSeverity::WARNING,
        }),
        code: Some(NumberOrString::String(finding.code.to_string())),
        code_description: documentation
            .get(finding.code)
            .map(|href| CodeDescription { href: href.clone() }),
        source: Some(SOURCE.to_string()),
        message,
        related_information: Some(related.chain(steps).collect()),
        ..Diagnostic::default()
    }
}

fn error_diagnostic(error: &FileError) -> Diagnostic {
    let line = error.line.unwrap_or(1).saturating_sub(1);
    Diagnostic {
        range: Range::new(Position::new(line, 0), Position::new(line + 1, 0)),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_string()),
        message: if error.internal {
            error.message.clone()
        } else {
            format!("not analysed: {}", error.message)
        },
        ..Diagnostic::default()
    }
}

/// A settings file's error as a diagnostic on the file, when the error names a place in it.
pub fn settings_diagnostic(error: &ConfigError) -> Option<(Url, Diagnostic)> {
    let (path, line, column) = error_place(&error.place);
    let at = Position::new(line.saturating_sub(1), column.saturating_sub(1));
    let diagnostic = Diagnostic {
        range: Range::new(at, Position::new(at.line + 1, 0)),
        severity: Some(DiagnosticSeverity::ERROR),
        source: Some(SOURCE.to_string()),
        message: format!(
            "{}; the default settings apply until it is fixed",
            error.message
        ),
        ..Diagnostic::default()
    };
    Some((uri(&path)?, diagnostic))
}

/// `path:line:col`, or a bare path (its first line).
fn error_place(place: &str) -> (PathBuf, u32, u32) {
    let mut parts = place.rsplitn(3, ':');
    if let (Some(column), Some(line), Some(path)) = (parts.next(), parts.next(), parts.next())
        && let (Ok(line), Ok(column)) = (line.parse(), column.parse())
    {
        return (PathBuf::from(path), line, column);
    }
    (PathBuf::from(place), 1, 1)
}

/// The range of a place of a finding, in the UTF-16 units LSP counts by default.
pub fn range(result: &CheckResult, location: &check::Location) -> Range {
    match result.sources.get(&location.path) {
        Some(text) => Range::new(
            position(text, location.start as usize),
            position(text, location.end as usize),
        ),
        None => {
            let line = location.line.saturating_sub(1);
            Range::new(Position::new(line, 0), Position::new(line, 0))
        }
    }
}

/// The LSP position of a byte offset in `text`.
pub fn position(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = memchr::memchr_iter(b'\n', before).count();
    let line_start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
    let character = text
        .get(line_start..offset)
        .map_or(0, |prefix| prefix.encode_utf16().count());
    Position::new(line as u32, character as u32)
}
