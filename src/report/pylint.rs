//! Pylint's parseable format, `path:line: [CODE] message`, which editors and CI log parsers that
//! know Pylint read.

use crate::check::CheckResult;
use crate::suppression::UNUSED_SUPPRESSION_CODE;

use super::PathDisplay;
use super::printable::escape;

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut out = String::new();
    for finding in &result.findings {
        out.push_str(&format!(
            "{}:{}: [{}] {}\n",
            paths.show(&finding.primary.path),
            finding.primary.line,
            finding.code,
            escape(&finding.message)
        ));
    }
    for unused in &result.unused_suppressions {
        out.push_str(&format!(
            "{}:{}: [{UNUSED_SUPPRESSION_CODE}] {}\n",
            paths.show(&unused.path),
            unused.line,
            escape(&unused.message)
        ));
    }
    for error in &result.errors {
        out.push_str(&format!(
            "{}:{}: [E] {}\n",
            paths.show(&error.path),
            error.line.unwrap_or(1),
            escape(&error.message)
        ));
    }
    out
}
