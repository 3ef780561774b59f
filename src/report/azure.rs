//! Azure Pipelines logging commands: `##vso[task.logissue type=error;sourcepath=..;linenumber=..;
//! columnnumber=..;code=..;]message`, which the pipeline shows as errors and warnings of the run.

use crate::check::CheckResult;
use crate::diagnostic::Severity;
use crate::suppression::UNUSED_SUPPRESSION_CODE;

use super::PathDisplay;
use super::printable::escape;

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut out = String::new();
    let mut issue =
        |kind: &str, path: &str, line: u32, column: Option<u32>, code: &str, message: &str| {
            let column = column
                .map(|c| format!("columnnumber={c};"))
                .unwrap_or_default();
            out.push_str(&format!(
            "##vso[task.logissue type={kind};sourcepath={};linenumber={line};{column}code={};]{}\n",
            property(path),
            property(code),
            data(&escape(message))
        ));
        };
    for finding in &result.findings {
        let kind = match finding.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let at = &finding.primary;
        issue(
            kind,
            &paths.show(&at.path),
            at.line,
            Some(at.column),
            finding.code,
            &finding.message,
        );
    }
    for unused in &result.unused_suppressions {
        let path = paths.show(&unused.path);
        issue(
            "warning",
            &path,
            unused.line,
            Some(unused.column),
            UNUSED_SUPPRESSION_CODE,
            &unused.message,
        );
    }
    for error in &result.errors {
        let message = format!("stateleak could not analyse this file: {}", error.message);
        issue(
            "error",
            &paths.show(&error.path),
            error.line.unwrap_or(1),
            None,
            "E",
            &message,
        );
    }
    out
}

/// Azure reads `;` and `]` as the end of a property, and a line break as the end of the command:
/// they are escaped as the agent expects (`%3B`, `%5D`, `%0D`, `%0A`, and `%` as `%AZP25`).
fn property(text: &str) -> String {
    data(text).replace(';', "%3B").replace(']', "%5D")
}

fn data(text: &str) -> String {
    text.replace('%', "%AZP25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
