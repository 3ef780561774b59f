//! Suppression comments: `# noqa`, `# noqa: SL101` and `# stateleak: ignore[SL101]`.
//!
//! A comment suppresses the findings whose primary span covers its line. Written on the line that
//! *defines* the shared object (the first `related` label of a finding, by the convention of
//! [`crate::diagnostic::Diagnostic::related`]) it suppresses every finding about that object: the
//! place to say why a process-wide cache is intended.
//!
//! `# noqa` comments are shared with other linters: only codes of stateleak's form (`SL` and
//! digits) are read, a `# noqa` naming only other tools' codes is not ours, and a bare `# noqa` is
//! never reported as unused (it may serve another tool).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::check::Finding;
use crate::facts::{Name, SuppressionComment};
use crate::rules;

/// Whether a comment that starts `line` and runs at most to its end could suppress anything:
/// every directive [`parse_comment`] reads has a `q` (`noqa`, in any case) or a `k`
/// (`stateleak:`). Most comments have neither, and are passed over before their token is looked
/// for.
pub fn may_suppress(line: &[u8]) -> bool {
    memchr::memchr3(b'q', b'Q', b'k', line).is_some()
}

/// The codes a comment suppresses (`Some(vec![])` for all codes), and whether it is written in
/// stateleak's own form; `None` when the comment suppresses nothing of ours.
pub fn parse_comment(comment: &str) -> Option<(Vec<Name>, bool)> {
    // A comment may hold several directives: `# type: ignore  # noqa: SL101`.
    let mut rest = comment;
    while let Some(hash) = rest.find('#') {
        let directive = rest[hash + 1..].trim_start();
        rest = &rest[hash + 1..];
        if let Some(after) = strip_prefix_ignore_case(directive, "noqa") {
            if let Some(codes) = after.trim_start().strip_prefix(':') {
                let codes: Vec<Name> = code_list(codes)
                    .into_iter()
                    .filter(|c| c.starts_with("SL"))
                    .collect();
                if codes.is_empty() {
                    continue;
                }
                return Some((codes, false));
            }
            if after.is_empty() || after.starts_with(char::is_whitespace) || after.starts_with('#')
            {
                return Some((Vec::new(), false));
            }
        } else if let Some(after) = directive.strip_prefix("stateleak:") {
            let after = after.trim_start();
            let Some(after) = after.strip_prefix("ignore") else {
                continue;
            };
            let after = after.trim_start();
            if let Some(inside) = after.strip_prefix('[') {
                let inside = inside.split(']').next().unwrap_or_default();
                return Some((code_list(inside), true));
            }
            if after.is_empty() || after.starts_with('#') {
                return Some((Vec::new(), true));
            }
        }
    }
    None
}

/// What to insert on `line` (at a byte offset) so that it suppresses `code`: the code joins the
/// line's `# noqa:` list or `# stateleak: ignore[...]`, or else a `# noqa: CODE` comment is added
/// at its end.
pub fn insertion(line: &str, code: &str) -> (usize, String) {
    for (hash, _) in line.match_indices('#') {
        let after_hash = &line[hash + 1..];
        let directive = after_hash.trim_start();
        let directive_start = line.len() - directive.len();
        if let Some(after) = strip_prefix_ignore_case(directive, "noqa") {
            let spaces = after.len() - after.trim_start().len();
            if after.trim_start().starts_with(':') {
                let colon = directive_start + 4 + spaces;
                return (colon + 1, format!(" {code},"));
            }
        } else if let Some(after) = directive.strip_prefix("stateleak:") {
            let rest = after.trim_start();
            if let Some(inside) = rest.strip_prefix("ignore") {
                let inside = inside.trim_start();
                if inside.starts_with('[') {
                    let bracket = line.len() - inside.len();
                    return (bracket + 1, format!("{code}, "));
                }
            }
        }
    }
    let end = line.trim_end().len();
    (end, format!("  # noqa: {code}"))
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// Codes (letters then digits) separated by commas or spaces, up to the first word that is not
/// a code (the start of an explanation).
fn code_list(text: &str) -> Vec<Name> {
    let mut codes = Vec::new();
    for word in text.split([',', ' ', '\t']).filter(|w| !w.is_empty()) {
        let letters = word.chars().take_while(char::is_ascii_alphabetic).count();
        let is_code = letters > 0
            && letters < word.len()
            && word[letters..].chars().all(|c| c.is_ascii_digit());
        if !is_code {
            break;
        }
        codes.push(Name::from(word.to_ascii_uppercase().as_str()));
    }
    codes
}

/// The code unused-suppression lines carry in line-oriented formats (like Ruff's `RUF100`); it
/// names no rule and cannot be selected.
pub const UNUSED_SUPPRESSION_CODE: &str = "SL000";

/// A suppression comment that suppressed nothing.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
pub struct UnusedSuppression {
    pub path: PathBuf,
    pub line: u32,
    /// 1-based column of the comment, in characters.
    pub column: u32,
    /// The codes that suppressed nothing (empty: the whole comment).
    pub codes: Vec<String>,
    pub message: String,
}

/// The suppression comments of the files a run analysed, by path.
pub struct Suppressions<'a> {
    by_path: HashMap<&'a Path, &'a [SuppressionComment]>,
    /// For each file and comment, which of its codes suppressed something (the whole comment
    /// when it names no codes).
    used: HashMap<(&'a Path, usize), Vec<bool>>,
}

impl<'a> Suppressions<'a> {
    pub fn new(files: impl Iterator<Item = (&'a Path, &'a [SuppressionComment])>) -> Self {
        Suppressions {
            by_path: files.filter(|(_, c)| !c.is_empty()).collect(),
            used: HashMap::new(),
        }
    }

    /// Whether a comment on one of `lines` of `path` suppresses `code`; marks it used.
    fn suppresses(&mut self, path: &'a Path, lines: (u32, u32), code: &str) -> bool {
        let Some(comments) = self.by_path.get(path) else {
            return false;
        };
        let first = comments.partition_point(|c| c.line < lines.0);
        for (index, comment) in comments.iter().enumerate().skip(first) {
            if comment.line > lines.1 {
                break;
            }
            let position = if comment.codes.is_empty() {
                Some(0)
            } else {
                comment.codes.iter().position(|c| c == code)
            };
            if let Some(position) = position {
                let slots = comment.codes.len().max(1);
                self.used
                    .entry((path, index))
                    .or_insert_with(|| vec![false; slots])[position] = true;
                return true;
            }
        }
        false
    }

    /// Drops the findings a comment suppresses: on a line of the finding's primary span, or on
    /// a line of the definition of the object it is about.
    pub fn filter(&mut self, findings: Vec<Finding>) -> Vec<Finding> {
        findings
            .into_iter()
            .filter(|finding| !self.suppress(finding))
            .collect()
    }

    fn suppress(&mut self, finding: &Finding) -> bool {
        let primary = &finding.primary;
        let Some((&path, _)) = self.by_path.get_key_value(primary.path.as_path()) else {
            return self.suppress_by_definition(finding);
        };
        self.suppresses(path, (primary.line, primary.end_line), finding.code)
            || self.suppress_by_definition(finding)
    }

    fn suppress_by_definition(&mut self, finding: &Finding) -> bool {
        let Some(definition) = finding.related.first() else {
            return false;
        };
        let Some((&path, _)) = self.by_path.get_key_value(definition.path.as_path()) else {
            return false;
        };
        self.suppresses(path, (definition.line, definition.end_line), finding.code)
    }

    /// The comments (or codes of comments) that suppressed nothing, sorted. `enabled` are the
    /// codes of the rules that ran.
    pub fn unused(&self, enabled: &[&str]) -> Vec<UnusedSuppression> {
        let mut unused = Vec::new();
        for (&path, comments) in &self.by_path {
            for (index, comment) in comments.iter().enumerate() {
                let used = self.used.get(&(path, index));
                let column = comment.column;
                if comment.codes.is_empty() {
                    // A bare `# noqa` may be meant for another linter.
                    if comment.explicit && used.is_none() {
                        unused.push(UnusedSuppression {
                            path: path.to_path_buf(),
                            line: comment.line,
                            column,
                            codes: Vec::new(),
                            message: "unused suppression: no finding on this line".into(),
                        });
                    }
                    continue;
                }
                let mut idle = Vec::new();
                let mut reasons = Vec::new();
                for (i, code) in comment.codes.iter().enumerate() {
                    if used.is_some_and(|u| u[i]) {
                        continue;
                    }
                    idle.push(code.to_string());
                    if rules::by_code(code).is_none() {
                        reasons.push(format!("`{code}` is not a rule"));
                    } else if !enabled.contains(&code.as_str()) {
                        reasons.push(format!("`{code}` is not enabled"));
                    } else {
                        reasons.push(format!("no `{code}` finding on this line"));
                    }
                }
                if !idle.is_empty() {
                    unused.push(UnusedSuppression {
                        path: path.to_path_buf(),
                        line: comment.line,
                        column,
                        codes: idle,
                        message: format!("unused suppression: {}", reasons.join(", ")),
                    });
                }
            }
        }
        unused.sort();
        unused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(comment: &str) -> Option<(Vec<String>, bool)> {
        parse_comment(comment)
            .map(|(codes, explicit)| (codes.iter().map(|c| c.to_string()).collect(), explicit))
    }

    #[test]
    fn noqa_forms() {
        assert_eq!(codes("# noqa"), Some((vec![], false)));
        assert_eq!(codes("# NOQA"), Some((vec![], false)));
        assert_eq!(codes("#noqa: SL101"), Some((vec!["SL101".into()], false)));
        assert_eq!(
            codes("# noqa: E501, SL101 SL102 because it is a cache"),
            Some((vec!["SL101".into(), "SL102".into()], false))
        );
        assert_eq!(
            codes("# type: ignore  # noqa: SL101"),
            Some((vec!["SL101".into()], false))
        );
        // Other tools' codes only: not ours.
        assert_eq!(codes("# noqa: E501"), None);
        assert_eq!(codes("# noqa123"), None);
        assert_eq!(codes("# a comment about noqa"), None);
    }

    #[test]
    fn the_extractor_keeps_suppression_comments_with_lines_and_columns() {
        let source = "s = '# noqa: SL101'\nx = 'é'  # noqa: SL101\n# plain comment\n\ny = [\n    1,  # stateleak: ignore[SL102]\n]\n";
        let facts = crate::syntax::extract(source).unwrap();
        let found: Vec<(u32, u32, Vec<String>, bool)> = facts
            .suppressions
            .iter()
            .map(|c| {
                let codes = c.codes.iter().map(|c| c.to_string()).collect();
                (c.line, c.column, codes, c.explicit)
            })
            .collect();
        assert_eq!(
            found,
            vec![
                (2, 10, vec!["SL101".to_string()], false),
                (6, 9, vec!["SL102".to_string()], true),
            ]
        );
    }

    #[test]
    fn stateleak_ignore_forms() {
        assert_eq!(
            codes("# stateleak: ignore[SL101]"),
            Some((vec!["SL101".into()], true))
        );
        assert_eq!(
            codes("# stateleak: ignore[SL101, SL102]  -- intended"),
            Some((vec!["SL101".into(), "SL102".into()], true))
        );
        assert_eq!(codes("# stateleak: ignore"), Some((vec![], true)));
        assert_eq!(codes("# stateleak: ignored by design"), None);
        assert_eq!(codes("# stateleak is great"), None);
    }

    fn inserted(line: &str, code: &str) -> String {
        let (at, text) = insertion(line, code);
        format!("{}{text}{}", &line[..at], &line[at..])
    }

    #[test]
    fn insertion_joins_an_existing_list_or_adds_a_comment() {
        let cases = [
            ("x = {}", "x = {}  # noqa: SL101"),
            ("x = {}   ", "x = {}  # noqa: SL101   "),
            ("x = {}  # noqa: E501", "x = {}  # noqa: SL101, E501"),
            ("x = {}  #NOQA:E501", "x = {}  #NOQA: SL101,E501"),
            (
                "x = {}  # stateleak: ignore[SL201]",
                "x = {}  # stateleak: ignore[SL101, SL201]",
            ),
            ("s = '#'  # why", "s = '#'  # why  # noqa: SL101"),
        ];
        for (line, expected) in cases {
            let edited = inserted(line, "SL101");
            assert_eq!(edited, expected);
            let comment = &edited[edited.find("  #").unwrap()..];
            let (codes, _) = parse_comment(comment).unwrap();
            assert!(codes.iter().any(|c| c == "SL101"), "{edited}");
        }
    }
}
