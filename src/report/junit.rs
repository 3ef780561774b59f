//! JUnit XML, which CI systems show as test reports: one test suite per file with findings, one
//! failing test case per finding (an `error` element for a file that could not be analysed), or
//! one passing case when there is nothing to report. No times: the output is deterministic.

use std::collections::BTreeMap;

use crate::check::CheckResult;
use crate::suppression::UNUSED_SUPPRESSION_CODE;

use super::PathDisplay;
use super::printable::escape as printable;

/// One test case: its name, and its failure (`failure` or `error`, message, details).
struct Case {
    name: String,
    outcome: Option<(&'static str, String, String)>,
}

pub fn render(result: &CheckResult, paths: &PathDisplay) -> String {
    let mut suites: BTreeMap<String, Vec<Case>> = BTreeMap::new();
    for finding in &result.findings {
        let at = &finding.primary;
        let mut details = format!(
            "{}:{}:{}: {} {}",
            paths.show(&at.path),
            at.line,
            at.column,
            finding.code,
            super::message_with_related(finding, paths)
        );
        details.push_str(&format!(
            "\nnote: {}\nhelp: {}",
            printable(&finding.note),
            printable(&finding.help)
        ));
        suites.entry(paths.show(&at.path)).or_default().push(Case {
            name: format!("{} {}:{}", finding.code, at.line, at.column),
            outcome: Some(("failure", printable(&finding.message).into_owned(), details)),
        });
    }
    for unused in &result.unused_suppressions {
        suites
            .entry(paths.show(&unused.path))
            .or_default()
            .push(Case {
                name: format!(
                    "{UNUSED_SUPPRESSION_CODE} {}:{}",
                    unused.line, unused.column
                ),
                outcome: Some((
                    "failure",
                    printable(&unused.message).into_owned(),
                    printable(&unused.message).into_owned(),
                )),
            });
    }
    for error in &result.errors {
        let line = error.line.map(|l| format!(":{l}")).unwrap_or_default();
        suites
            .entry(paths.show(&error.path))
            .or_default()
            .push(Case {
                name: format!("analysis{line}"),
                outcome: Some((
                    "error",
                    printable(&error.message).into_owned(),
                    printable(&error.message).into_owned(),
                )),
            });
    }
    if suites.is_empty() {
        suites.insert(
            "stateleak".into(),
            vec![Case {
                name: format!("{} files checked, no findings", result.files_checked),
                outcome: None,
            }],
        );
    }

    let count = |kind: &str| {
        suites
            .values()
            .flatten()
            .filter(|c| c.outcome.as_ref().is_some_and(|o| o.0 == kind))
            .count()
    };
    let total: usize = suites.values().map(Vec::len).sum();
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<testsuites name=\"stateleak\" tests=\"{total}\" failures=\"{}\" errors=\"{}\">\n",
        count("failure"),
        count("error")
    ));
    for (path, cases) in &suites {
        let failures = cases
            .iter()
            .filter(|c| matches!(&c.outcome, Some(("failure", ..))))
            .count();
        let errors = cases
            .iter()
            .filter(|c| matches!(&c.outcome, Some(("error", ..))))
            .count();
        out.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"0\" time=\"0\">\n",
            escape(path),
            cases.len()
        ));
        for case in cases {
            out.push_str(&format!(
                "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" time=\"0\"",
                escape(&case.name),
                escape(path),
                escape(path)
            ));
            match &case.outcome {
                None => out.push_str("/>\n"),
                Some((kind, message, details)) => out.push_str(&format!(
                    ">\n      <{kind} message=\"{}\" type=\"stateleak\">{}</{kind}>\n    </testcase>\n",
                    escape(message),
                    escape(details)
                )),
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// Escapes text for XML attribute values and element content. Characters XML 1.0 cannot hold
/// at all (most control characters) are written as `\u{..}` text.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\t' => out.push_str("&#9;"),
            '\r' => out.push_str("&#13;"),
            c if (c as u32) < 0x20 || matches!(c, '\u{FFFE}' | '\u{FFFF}') => {
                out.push_str(&format!("\\u{{{:x}}}", c as u32))
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn escaping_keeps_xml_well_formed() {
        assert_eq!(
            super::escape("a<b & \"c\"\n\u{1b}"),
            "a&lt;b &amp; &quot;c&quot;&#10;\\u{1b}"
        );
    }
}
