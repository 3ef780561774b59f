//! Fixes: what a fix is (edits to a file's decoded text, safe or unsafe), and applying fixes to
//! files. Fixes are computed from findings by re-parsing the file (`syntax::fix`), never from a
//! rule's internals, so that rules can change without touching this module.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::check::{CheckOptions, Finding, check};

/// Whether a fix keeps the program's meaning apart from the leak it removes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Applicability {
    /// Applied by `--fix`.
    Safe,
    /// Changes what other code may see (for example, an attribute moves from the class to the
    /// instances): applied only with `--unsafe-fixes`.
    Unsafe,
}

/// Replaces the bytes `start..end` of a file's decoded text with `content` (an insertion when
/// `start == end`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Edit {
    pub start: u32,
    pub end: u32,
    pub content: String,
}

/// A repair of one finding: edits to the finding's file, never overlapping.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fix {
    /// The file the edits apply to (set by the pipeline, which knows the paths of the places the
    /// fix was computed from).
    pub path: PathBuf,
    pub applicability: Applicability,
    /// What the fix does, in a few words (`default to None and create the list in the body`).
    pub message: String,
    /// Sorted by position.
    pub edits: Vec<Edit>,
}

impl Fix {
    /// Whether the fix's edits touch or abut any of `taken` (which it must then wait for: two
    /// insertions at one place would interleave).
    pub fn conflicts_with(&self, taken: &[Edit]) -> bool {
        self.edits.iter().any(|edit| {
            taken
                .iter()
                .any(|other| edit.start <= other.end && other.start <= edit.end)
        })
    }
}

/// Applies non-overlapping edits to `text` (they are sorted here).
pub fn apply(text: &str, edits: &[Edit]) -> String {
    let mut sorted: Vec<&Edit> = edits.iter().collect();
    sorted.sort();
    let mut out = String::with_capacity(text.len() + 64);
    let mut at = 0usize;
    for edit in sorted {
        let (start, end) = (edit.start as usize, edit.end as usize);
        out.push_str(&text[at..start]);
        out.push_str(&edit.content);
        at = end;
    }
    out.push_str(&text[at..]);
    out
}

/// How many times `--fix` applies fixes and analyses again at most: a fix can make room for
/// another (two defaults of one function, two attributes moving into one `__init__`).
const MAX_PASSES: usize = 10;

/// What fixing did.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Fixes applied.
    pub applied: usize,
    /// Each changed file: its text before and after.
    pub changed: BTreeMap<PathBuf, (String, String)>,
    /// Why fixes were not applied (a syntax error they would cause, an encoding not written).
    pub dropped: Vec<String>,
}

/// Applies the fixes of the findings of `options` (unsafe ones too when `unsafe_fixes`), then
/// analyses again, until no fix is left. With `write` unset the files are left alone and one pass
/// is made (later passes would need the files changed): the outcome shows what would change.
pub fn fix(options: &CheckOptions, unsafe_fixes: bool, write: bool) -> Outcome {
    let mut outcome = Outcome::default();
    let mut refused: BTreeSet<(PathBuf, &'static str, u32)> = BTreeSet::new();
    let passes = if write { MAX_PASSES } else { 1 };
    for _ in 0..passes {
        let result = check(options);
        let mut by_file: BTreeMap<PathBuf, Vec<(&Finding, &Fix)>> = BTreeMap::new();
        for finding in &result.findings {
            let Some(fix) = &finding.fix else { continue };
            let key = (fix.path.clone(), finding.code, finding.primary.start);
            if (fix.applicability == Applicability::Unsafe && !unsafe_fixes)
                || refused.contains(&key)
            {
                continue;
            }
            by_file
                .entry(fix.path.clone())
                .or_default()
                .push((finding, fix));
        }
        let mut progress = false;
        for (path, fixes) in by_file {
            let Some((text, bom)) = utf8_text(&path) else {
                outcome.dropped.push(format!(
                    "{}: fixes are only written to UTF-8 files",
                    path.display()
                ));
                refused.extend(
                    fixes
                        .iter()
                        .map(|(f, _)| (path.clone(), f.code, f.primary.start)),
                );
                continue;
            };
            let candidates: Vec<&Fix> = fixes.iter().map(|(_, fix)| *fix).collect();
            let chosen = choose(&text, &candidates);
            for index in &chosen.broken {
                let finding = fixes[*index].0;
                outcome.dropped.push(format!(
                    "{}:{}: the fix for {} was dropped: it would leave a syntax error",
                    path.display(),
                    finding.primary.line,
                    finding.code
                ));
                refused.insert((path.clone(), finding.code, finding.primary.start));
            }
            let (taken, count) = (chosen.edits, chosen.applied);
            if count == 0 {
                continue;
            }
            let fixed = apply(&text, &taken);
            if write && let Err(error) = write_utf8(&path, &fixed, bom) {
                outcome.dropped.push(error);
                continue;
            }
            outcome.applied += count;
            progress = true;
            outcome
                .changed
                .entry(path)
                .and_modify(|(_, after)| *after = fixed.clone())
                .or_insert((text, fixed));
        }
        if !progress {
            break;
        }
    }
    outcome
}

/// The fixes of one file that can be applied together.
struct Chosen {
    edits: Vec<Edit>,
    applied: usize,
    /// Indexes of fixes that would leave a syntax error.
    broken: Vec<usize>,
}

/// Takes fixes in order, skipping those that overlap one already taken (a later pass applies
/// them) and those after which the file no longer parses. Inserted lines take the file's line
/// ending.
fn choose(text: &str, fixes: &[&Fix]) -> Chosen {
    let line_break = if text.contains("\r\n") { "\r\n" } else { "\n" };
    let mut chosen = Chosen {
        edits: Vec::new(),
        applied: 0,
        broken: Vec::new(),
    };
    for (index, fix) in fixes.iter().enumerate() {
        if fix.conflicts_with(&chosen.edits) {
            continue;
        }
        let mut trial = chosen.edits.clone();
        trial.extend(fix.edits.iter().map(|e| Edit {
            content: e.content.replace('\n', line_break),
            ..e.clone()
        }));
        if crate::syntax::fix::parses(&apply(text, &trial)) {
            chosen.edits = trial;
            chosen.applied += 1;
        } else {
            chosen.broken.push(index);
        }
    }
    chosen
}

/// Writes `# noqa: CODES` at the end of every line a finding of `options` points at (after any
/// comment already there: a comment may hold several directives). Lines that end in a `\`
/// continuation are left alone.
pub fn add_noqa(options: &CheckOptions) -> Outcome {
    let mut outcome = Outcome::default();
    let result = check(options);
    let mut by_file: BTreeMap<&Path, BTreeMap<u32, BTreeSet<&str>>> = BTreeMap::new();
    for finding in &result.findings {
        by_file
            .entry(&finding.primary.path)
            .or_default()
            .entry(finding.primary.line)
            .or_default()
            .extend(std::iter::once(finding.code).chain(finding.told_with.iter().copied()));
    }
    for (path, lines) in by_file {
        let Some((text, bom)) = utf8_text(path) else {
            outcome.dropped.push(format!(
                "{}: suppression comments are only written to UTF-8 files",
                path.display()
            ));
            continue;
        };
        let index = crate::source::LineIndex::new(&text);
        let mut edits = Vec::new();
        for (line, codes) in &lines {
            let (_, end) = index.line_range(&text, *line);
            if text[..end].ends_with('\\') {
                outcome.dropped.push(format!(
                    "{}:{line}: no comment added: the line continues with `\\`",
                    path.display()
                ));
                continue;
            }
            let codes: Vec<&str> = codes.iter().copied().collect();
            edits.push(Edit {
                start: end as u32,
                end: end as u32,
                content: format!("  # noqa: {}", codes.join(", ")),
            });
        }
        let fixed = apply(&text, &edits);
        if !crate::syntax::fix::parses(&fixed) {
            outcome.dropped.push(format!(
                "{}: no comments added: they would leave a syntax error",
                path.display()
            ));
            continue;
        }
        if let Err(error) = write_utf8(path, &fixed, bom) {
            outcome.dropped.push(error);
            continue;
        }
        outcome.applied += edits.len();
        outcome.changed.insert(path.to_path_buf(), (text, fixed));
    }
    outcome
}

/// A unified diff of each changed file (`--diff`).
pub fn unified_diff(outcome: &Outcome, show: impl Fn(&Path) -> String) -> String {
    let mut out = String::new();
    for (path, (before, after)) in &outcome.changed {
        let name = show(path);
        let diff = similar::TextDiff::from_lines(before, after);
        out.push_str(
            &diff
                .unified_diff()
                .header(&format!("a/{name}"), &format!("b/{name}"))
                .to_string(),
        );
    }
    out
}

/// Writes a file read by [`utf8_text`] back, with its byte-order mark if it had one.
fn write_utf8(path: &Path, text: &str, bom: bool) -> Result<(), String> {
    let bytes = [if bom { "\u{feff}" } else { "" }, text].concat();
    std::fs::write(path, bytes).map_err(|e| format!("{}: cannot write: {e}", path.display()))
}

/// The text of a UTF-8 file (and whether it starts with a byte-order mark); `None` for other
/// encodings, which fixes do not write.
fn utf8_text(path: &Path) -> Option<(String, bool)> {
    let bytes = std::fs::read(path).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    match text.strip_prefix('\u{feff}') {
        Some(rest) => Some((rest.to_string(), true)),
        None => Some((text, false)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_apply_in_order_and_conflicts_are_seen() {
        let edits = vec![
            Edit {
                start: 6,
                end: 6,
                content: "big ".into(),
            },
            Edit {
                start: 0,
                end: 5,
                content: "hello".into(),
            },
        ];
        assert_eq!(apply("howdy world", &edits), "hello big world");
        let fix = Fix {
            path: PathBuf::new(),
            applicability: Applicability::Safe,
            message: String::new(),
            edits: vec![Edit {
                start: 6,
                end: 6,
                content: "x".into(),
            }],
        };
        assert!(fix.conflicts_with(&edits));
        assert!(!fix.conflicts_with(&edits[1..]));
    }

    fn insertion(at: u32, content: &str) -> Fix {
        Fix {
            path: PathBuf::new(),
            applicability: Applicability::Safe,
            message: String::new(),
            edits: vec![Edit {
                start: at,
                end: at,
                content: content.into(),
            }],
        }
    }

    #[test]
    fn a_fix_that_breaks_the_syntax_is_dropped_and_an_overlapping_one_waits() {
        let text = "x = 1\r\ny = 2\r\n";
        let breaking = insertion(0, "def (:\n");
        let good = insertion(7, "z = 3\n");
        let overlapping = insertion(7, "w = 4\n");
        let chosen = choose(text, &[&breaking, &good, &overlapping]);
        assert_eq!(chosen.broken, vec![0]);
        assert_eq!(chosen.applied, 1);
        assert_eq!(apply(text, &chosen.edits), "x = 1\r\nz = 3\r\ny = 2\r\n");
    }
}
