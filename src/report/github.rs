//! GitHub Actions workflow commands: each finding becomes an annotation on the pull request.
//!
//! See "Workflow commands for GitHub Actions": `::error file=F,line=L,col=C,endLine=..,
//! endColumn=..,title=T::MESSAGE`, with `%`, CR and LF escaped in the message and also `:` and
//! `,` in the properties.

use crate::check::CheckResult;
use crate::diagnostic::Severity;

use super::PathDisplay;
use super::printable::escape;

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut out = String::new();
    for finding in &result.findings {
        let at = &finding.primary;
        let level = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let mut message = super::message_with_related(finding, paths);
        if let Some(reached) = super::request_path_line(finding, paths) {
            message.push_str(&format!("\nnote: {reached}"));
        }
        message.push_str(&format!(
            "\nnote: {}\nhelp: {}",
            escape(&finding.note),
            escape(&finding.help)
        ));
        out.push_str(&format!(
            "::{level} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            property(&paths.show(&at.path)),
            at.line,
            at.column,
            at.end_line,
            at.end_column,
            property(&format!("stateleak {}", finding.code)),
            data(&message)
        ));
    }
    for unused in &result.unused_suppressions {
        out.push_str(&format!(
            "::warning file={},line={},col={},title={}::{}\n",
            property(&paths.show(&unused.path)),
            unused.line,
            unused.column,
            property("stateleak unused suppression"),
            data(&escape(&unused.message))
        ));
    }
    for error in &result.errors {
        let line = error.line.map(|l| format!(",line={l}")).unwrap_or_default();
        out.push_str(&format!(
            "::error file={}{line},title={}::{}\n",
            property(&paths.show(&error.path)),
            property("stateleak could not analyse this file"),
            data(&escape(&error.message))
        ));
    }
    out
}

/// Escapes a message.
fn data(text: &str) -> String {
    text.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

/// Escapes a property value.
fn property(text: &str) -> String {
    data(text).replace(':', "%3A").replace(',', "%2C")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(data("50%\nnext"), "50%25%0Anext");
        assert_eq!(property("a:b,c"), "a%3Ab%2Cc");
    }
}
