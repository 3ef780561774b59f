//! One line per finding, `path:line:col: CODE message`, for editors, `grep` and quick reading.

use crate::check::CheckResult;

use super::PathDisplay;
use super::printable::escape;

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut out = String::new();
    for finding in &result.findings {
        let at = &finding.primary;
        out.push_str(&format!(
            "{}:{}:{}: {} {}\n",
            paths.show(&at.path),
            at.line,
            at.column,
            finding.code,
            escape(&finding.message)
        ));
    }
    for unused in &result.unused_suppressions {
        out.push_str(&format!(
            "{}:{}:{}: {} {}\n",
            paths.show(&unused.path),
            unused.line,
            unused.column,
            crate::suppression::UNUSED_SUPPRESSION_CODE,
            escape(&unused.message)
        ));
    }
    for error in &result.errors {
        match error.line {
            Some(line) => out.push_str(&format!(
                "{}:{line}:1: error: {}\n",
                paths.show(&error.path),
                escape(&error.message)
            )),
            None => out.push_str(&format!(
                "{}: error: {}\n",
                paths.show(&error.path),
                escape(&error.message)
            )),
        }
    }
    out
}
