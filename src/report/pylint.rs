//! Pylint's parseable format, `path:line: [CODE] message`, which editors and CI log parsers that
//! know Pylint read.

use crate::check::CheckResult;
use crate::suppression::UNUSED_SUPPRESSION_CODE;

use super::PathDisplay;

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut out = String::new();
    for finding in &result.findings {
        out.push_str(&format!(
            "{}:{}: [{}] {}\n",
            paths.show(&finding.primary.path),
            finding.primary.line,
            finding.code,
            one_line(&finding.message)
        ));
    }
    for unused in &result.unused_suppressions {
        out.push_str(&format!(
            "{}:{}: [{UNUSED_SUPPRESSION_CODE}] {}\n",
            paths.show(&unused.path),
            unused.line,
            one_line(&unused.message)
        ));
    }
    for error in &result.errors {
        out.push_str(&format!(
            "{}:{}: [E] {}\n",
            paths.show(&error.path),
            error.line.unwrap_or(1),
            one_line(&error.message)
        ));
    }
    out
}

/// Line-oriented formats keep each entry on one line.
pub(super) fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}
