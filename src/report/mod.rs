//! Printing a [`CheckResult`]: the formats, and what they share (paths and fingerprints).

mod azure;
mod concise;
mod github;
mod gitlab;
pub mod group;
mod json;
mod junit;
pub mod printable;
mod pylint;
mod rdjson;
mod sarif;
mod text;

use std::path::{Path, PathBuf};

use crate::check::{CheckResult, Finding};

pub use concise::render as render_concise;
pub use github::render as render_github;
pub use json::render as render_json;
pub use sarif::render as render_sarif;
pub use text::render as render_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Findings as stories with source snippets.
    Text,
    /// One line per finding: `path:line:col: CODE message`.
    Concise,
    /// The stable JSON document described in the README.
    Json,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// GitHub Actions workflow commands (annotations on pull requests).
    Github,
    /// GitLab Code Quality report (`artifacts:reports:codequality`).
    Gitlab,
    /// JUnit XML, for CI test report views.
    Junit,
    /// reviewdog's Diagnostic Format (`reviewdog -f=rdjson`).
    Rdjson,
    /// Pylint's parseable lines: `path:line: [CODE] message`.
    Pylint,
    /// Azure Pipelines logging commands (`##vso[task.logissue ...]`).
    Azure,
    /// One JSON object per line: each finding, unused suppression and error.
    #[value(name = "json-lines")]
    #[serde(rename = "json-lines")]
    JsonLines,
}

/// Renders `result` in `format` (text without colour; the command line colours it when asked).
pub fn render(format: OutputFormat, result: &CheckResult, paths: &PathDisplay) -> String {
    match format {
        OutputFormat::Text => render_text(result, paths, false),
        OutputFormat::Concise => render_concise(result, paths),
        OutputFormat::Json => render_json(result, paths),
        OutputFormat::Sarif => render_sarif(result, paths),
        OutputFormat::Github => render_github(result, paths),
        OutputFormat::Gitlab => gitlab::render(result, paths),
        OutputFormat::Junit => junit::render(result, paths),
        OutputFormat::Rdjson => rdjson::render(result, paths),
        OutputFormat::Pylint => pylint::render(result, paths),
        OutputFormat::Azure => azure::render(result, paths),
        OutputFormat::JsonLines => json::render_lines(result, paths),
    }
}

/// How paths are printed: relative to the working directory when under it, with `/` separators.
pub struct PathDisplay {
    /// The folder paths are shown relative to (the working directory unless told otherwise).
    cwd: Option<PathBuf>,
    /// Relative paths must first be made absolute: `cwd` is not the working directory.
    absolutize: bool,
}

impl PathDisplay {
    pub fn from_env() -> Self {
        PathDisplay {
            cwd: std::env::current_dir().ok(),
            absolutize: false,
        }
    }

    /// Paths relative to `dir` when under it (absolute otherwise), whatever the working directory.
    pub fn relative_to(dir: &Path) -> Self {
        let dir = crate::config::absolute(dir);
        PathDisplay {
            absolutize: std::env::current_dir().map_or(true, |cwd| cwd != dir),
            cwd: Some(dir),
        }
    }

    /// The `file:` URI of the folder relative paths are relative to, ending in `/`.
    pub fn root_uri(&self) -> Option<String> {
        let cwd = self.cwd.as_ref()?.to_string_lossy().into_owned();
        let mut uri = sarif::file_uri(&cwd);
        if !uri.ends_with('/') {
            uri.push('/');
        }
        Some(uri)
    }

    pub fn show(&self, path: &Path) -> String {
        // Relative paths are relative to the working directory; make them absolute when paths
        // are shown relative to another folder.
        let made_absolute;
        let path = if self.absolutize && !path.is_absolute() {
            made_absolute = crate::config::absolute(path);
            made_absolute.as_path()
        } else {
            path
        };
        let shown = match &self.cwd {
            Some(cwd) if path.is_absolute() => path.strip_prefix(cwd).unwrap_or(path),
            _ => path,
        };
        let shown = shown.strip_prefix("./").unwrap_or(shown);
        let text = printable::path(shown);
        if std::path::MAIN_SEPARATOR == '\\' {
            text.replace('\\', "/")
        } else {
            text
        }
    }
}

/// Identifies a finding across unrelated edits: the rule, the path and the names involved, never
/// line numbers.
///
/// A group of findings at one place (see [`group`]) has its own fingerprint, made of its
/// members' fingerprints in sorted order: it changes when an object joins or leaves the group.
pub fn fingerprint(finding: &Finding, paths: &PathDisplay) -> String {
    if !finding.members.is_empty() {
        let mut members: Vec<String> = finding
            .members
            .iter()
            .map(|member| fingerprint(member, paths))
            .collect();
        members.sort();
        let key = format!("group\0{}", members.join("\0"));
        return format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()));
    }
    let mut key = format!("{}\0{}", finding.code, paths.show(&finding.primary.path));
    for part in &finding.identity {
        key.push('\0');
        key.push_str(part);
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
}

/// The line, character column and UTF-8 byte column (all from 1) of a byte offset. Builds a line
/// index: for the few places a format needs one, not for every finding of a large run.
pub fn position(text: &str, offset: u32) -> (u32, u32, u32) {
    let (line, column) = crate::source::LineIndex::new(text).line_column(text, offset);
    let mut offset = (offset as usize).min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let bytes: usize = text[..offset]
        .chars()
        .rev()
        .take(column.saturating_sub(1) as usize)
        .map(char::len_utf8)
        .sum();
    (line, column, bytes as u32 + 1)
}

/// The one-line summary printed on standard error.
pub fn summary_line(result: &CheckResult) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    format!(
        "stateleak: checked {} in {:.2}s: {}, {}",
        plural(result.files_checked, "file"),
        result.elapsed.as_secs_f64(),
        plural(result.findings.len(), "finding"),
        plural(result.errors.len(), "error"),
    )
}

/// How many findings each rule has, most first (`--statistics`): aligned text, or JSON.
pub fn render_statistics(result: &CheckResult, json: bool) -> String {
    let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    for finding in &result.findings {
        *counts.entry(finding.code).or_insert(0) += 1;
    }
    let mut rows: Vec<(usize, &str, &str)> = counts
        .into_iter()
        .map(|(code, count)| {
            let name = crate::rules::by_code(code).map_or("", |r| r.meta().name);
            (count, code, name)
        })
        .collect();
    rows.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(b.1)));
    if json {
        let rows: Vec<serde_json::Value> = rows
            .iter()
            .map(|(count, code, name)| serde_json::json!({"code": code, "name": name, "count": count}))
            .collect();
        let mut out = serde_json::to_string_pretty(&rows).expect("statistics serialise");
        out.push('\n');
        return out;
    }
    let width = rows
        .iter()
        .map(|r| r.0.to_string().len())
        .max()
        .unwrap_or(1);
    rows.iter()
        .map(|(count, code, name)| format!("{count:>width$}  {code}  {name}\n"))
        .collect()
}

/// The finding's message, then one `path:line:col: label` line per related place (for formats
/// that hold one text per finding).
pub fn message_with_related(finding: &Finding, paths: &PathDisplay) -> String {
    let mut message = printable::escape(&finding.message).into_owned();
    for related in &finding.related {
        message.push_str(&format!(
            "\n{}:{}:{}: {}",
            paths.show(&related.path),
            related.line,
            related.column,
            printable::escape(&related.message)
        ));
    }
    message
}

/// `reached from Flask route set_prefs (app.py:12) → save (store.py:30)`: how a request gets to
/// a finding, when one does. A finding that names several objects tells its first object's path
/// (`for `app.A.x`: reached from ...`): another object's finding may be reached another way.
pub fn request_path_line(finding: &Finding, paths: &PathDisplay) -> Option<String> {
    let first = finding.entry_path.first()?;
    let mut line = match finding.members.first().and_then(|m| m.object.as_deref()) {
        Some(object) => format!("for `{object}`: reached from "),
        None => String::from("reached from "),
    };
    if let Some(kind) = &first.entry_kind {
        line.push_str(kind);
        line.push(' ');
    }
    let mut steps: Vec<String> = finding
        .entry_path
        .iter()
        .map(|step| {
            format!(
                "{} ({}:{})",
                step.function,
                paths.show(&step.path),
                step.line
            )
        })
        .collect();
    if finding.entry_path_omitted > 0 {
        let at = crate::check::KEPT_PATH_STEPS.min(steps.len());
        steps.insert(at, format!("… {} more calls …", finding.entry_path_omitted));
    }
    line.push_str(&steps.join(" → "));
    Some(line)
}

#[cfg(test)]
mod tests {
    //! Every format prints paths and messages from analysed files without their control
    //! characters: an escape sequence cannot reach a terminal or CI log, and a line break in a
    //! name or a message cannot start a new entry of a line format.

    use std::collections::HashMap;
    use std::time::Duration;

    use super::*;
    use crate::check::{FileError, Location};
    use crate::diagnostic::Severity;
    use crate::suppression::UnusedSuppression;

    const ROOT: &str = "/project";
    /// What a file name and a message hold: an escape sequence, a bell and a line break.
    const HOSTILE: &str = "a\x1b[2J\x07b\nc";
    /// How each format shows it (within JSON strings once decoded).
    const ESCAPED: &str = "a\\x1b[2J\\x07b\\x0ac";

    fn result() -> CheckResult {
        let path = PathBuf::from(format!("{ROOT}/app/{HOSTILE}.py"));
        let source = "class C:\n    items = []\n    def f(self):\n        self.items.append(1)\n";
        let at = |line: u32, start: u32, message: &str| Location {
            path: path.clone(),
            line,
            column: 9,
            end_line: line,
            end_column: 19,
            start,
            end: start + 10,
            message: message.into(),
        };
        CheckResult {
            files_checked: 2,
            files_analysed: 1,
            findings: vec![Finding {
                code: "SL101",
                severity: Severity::Error,
                message: format!("finding {HOSTILE}"),
                primary: at(4, 60, &format!("label {HOSTILE}")),
                related: vec![at(2, 13, &format!("related {HOSTILE}"))],
                note: format!("note {HOSTILE}"),
                help: format!("help {HOSTILE}"),
                identity: vec!["items".into()],
                object: None,
                flow: Vec::new(),
                timing: None,
                entry_path: Vec::new(),
                fix: None,
                told_with: Vec::new(),
                told_clauses: Vec::new(),
                entry_path_omitted: 0,
                members: Vec::new(),
            }],
            errors: vec![FileError {
                path: path.with_extension("pyi"),
                line: Some(1),
                message: format!("error {HOSTILE}"),
                internal: false,
            }],
            sources: HashMap::from([(path.clone(), source.to_string())]),
            elapsed: Duration::ZERO,
            missing_paths: false,
            unused_suppressions: vec![UnusedSuppression {
                path,
                line: 1,
                column: 1,
                codes: Vec::new(),
                message: format!("unused {HOSTILE}"),
            }],
            suppressed: 0,
            cache_hits: 0,
            stage_times: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn render_hostile(format: OutputFormat) -> String {
        let out = render(
            format,
            &result(),
            &PathDisplay::relative_to(Path::new(ROOT)),
        );
        assert!(
            !out.chars().any(|c| c.is_control() && c != '\n'),
            "{format:?}: {out:?}"
        );
        out
    }

    /// A line format: one line per entry, the path and the message escaped in it.
    fn assert_lines(format: OutputFormat, entries: usize) {
        let out = render_hostile(format);
        assert_eq!(out.lines().count(), entries, "{format:?}: {out}");
        assert!(
            out.contains(&format!("app/{ESCAPED}.py")),
            "{format:?}: {out}"
        );
        assert!(
            out.contains(&format!("finding {ESCAPED}")),
            "{format:?}: {out}"
        );
        assert!(
            out.contains(&format!("error {ESCAPED}")),
            "{format:?}: {out}"
        );
    }

    /// Every string of a JSON value.
    fn strings(value: &serde_json::Value, out: &mut Vec<String>) {
        match value {
            serde_json::Value::String(s) => out.push(s.clone()),
            serde_json::Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
            serde_json::Value::Object(map) => map.values().for_each(|v| strings(v, out)),
            _ => {}
        }
    }

    /// A JSON format: no decoded string holds a control character other than the line breaks
    /// the format itself puts between the parts of a message, and the path and message are there
    /// escaped.
    fn assert_json(format: OutputFormat) {
        let out = render_hostile(format);
        let mut all = Vec::new();
        for document in if format == OutputFormat::JsonLines {
            out.lines().collect()
        } else {
            vec![out.as_str()]
        } {
            strings(&serde_json::from_str(document).unwrap(), &mut all);
        }
        for text in &all {
            assert!(
                !text.contains(['\x1b', '\x07', '\r']),
                "{format:?}: {text:?}"
            );
            assert!(!text.contains(HOSTILE), "{format:?}: {text:?}");
        }
        // SARIF holds paths as URIs, percent-encoded.
        let path = if format == OutputFormat::Sarif {
            "app/a%5Cx1b%5B2J%5Cx07b%5Cx0ac.py".to_string()
        } else {
            format!("app/{ESCAPED}.py")
        };
        assert!(all.iter().any(|s| s.contains(&path)), "{format:?}");
        assert!(
            all.iter()
                .any(|s| s.contains(&format!("finding {ESCAPED}"))),
            "{format:?}"
        );
        assert!(
            all.iter().any(|s| s.contains(&format!("error {ESCAPED}"))),
            "{format:?}"
        );
    }

    #[test]
    fn text_escapes_paths_and_messages() {
        let out = render_hostile(OutputFormat::Text);
        for part in [
            "app/", "finding ", "label ", "related ", "note ", "help ", "error ",
        ] {
            assert!(out.contains(&format!("{part}{ESCAPED}")), "{part}: {out}");
        }
    }

    #[test]
    fn concise_escapes_paths_and_messages() {
        assert_lines(OutputFormat::Concise, 3);
    }

    #[test]
    fn pylint_escapes_paths_and_messages() {
        assert_lines(OutputFormat::Pylint, 3);
    }

    #[test]
    fn azure_escapes_paths_and_messages() {
        assert_lines(OutputFormat::Azure, 3);
    }

    #[test]
    fn github_escapes_paths_and_messages() {
        assert_lines(OutputFormat::Github, 3);
        let out = render_hostile(OutputFormat::Github);
        assert!(out.contains(&format!("help {ESCAPED}")), "{out}");
    }

    #[test]
    fn junit_escapes_paths_and_messages() {
        let out = render_hostile(OutputFormat::Junit);
        assert!(out.contains(&format!("app/{ESCAPED}.py")), "{out}");
        assert!(out.contains(&format!("finding {ESCAPED}")), "{out}");
        assert!(out.contains(&format!("note {ESCAPED}")), "{out}");
        assert!(out.contains(&format!("error {ESCAPED}")), "{out}");
    }

    #[test]
    fn json_escapes_paths_and_messages() {
        assert_json(OutputFormat::Json);
    }

    #[test]
    fn json_lines_escapes_paths_and_messages() {
        assert_json(OutputFormat::JsonLines);
        assert_eq!(render_hostile(OutputFormat::JsonLines).lines().count(), 3);
    }

    #[test]
    fn gitlab_escapes_paths_and_messages() {
        assert_json(OutputFormat::Gitlab);
    }

    #[test]
    fn rdjson_escapes_paths_and_messages() {
        assert_json(OutputFormat::Rdjson);
    }

    #[test]
    fn sarif_escapes_paths_and_messages() {
        assert_json(OutputFormat::Sarif);
    }
}
