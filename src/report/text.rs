//! The default output: each finding as a story in the style of rustc, with the places it names.

use annotate_snippets::{Level, Message, Renderer, Snippet};

use crate::check::{CheckResult, Finding, Location};
use crate::diagnostic::Severity;
use crate::source::LineIndex;
use std::collections::HashMap;
use std::path::Path;

use super::PathDisplay;
use super::printable::{self, escape};

pub fn render(result: &CheckResult, paths: &PathDisplay, color: bool) -> String {
    let renderer = if color {
        Renderer::styled()
    } else {
        Renderer::plain()
    };
    let mut out = String::new();
    // One line index per file, however many findings point into it.
    let indexes: HashMap<&Path, LineIndex> = result
        .sources
        .iter()
        .map(|(path, text)| (path.as_path(), LineIndex::new(text)))
        .collect();
    for finding in &result.findings {
        out.push_str(&render_finding(finding, result, &indexes, paths, &renderer));
        out.push_str("\n\n");
    }
    for unused in &result.unused_suppressions {
        out.push_str(&format!(
            "warning: {}:{}:{}: {}\n",
            paths.show(&unused.path),
            unused.line,
            unused.column,
            escape(&unused.message)
        ));
    }
    for error in &result.errors {
        let location = match error.line {
            Some(line) => format!("{}:{line}", paths.show(&error.path)),
            None => paths.show(&error.path),
        };
        out.push_str(&format!("error: {location}: {}\n", escape(&error.message)));
    }
    out
}

/// Labels in one file close enough to share one snippet, and the lines they cover.
struct FileGroup<'a> {
    path: String,
    labels: Vec<(&'a Location, bool)>,
    first_line: u32,
    last_line: u32,
}

/// Labels further apart than this many lines get snippets of their own: the lines between them
/// are folded away anyway, and going through them for every finding would make a class with
/// thousands of findings cost its length squared.
const MAX_SNIPPET_GAP: u32 = 100;

fn render_finding(
    finding: &Finding,
    result: &CheckResult,
    indexes: &HashMap<&Path, LineIndex>,
    paths: &PathDisplay,
    renderer: &Renderer,
) -> String {
    let mut groups: Vec<FileGroup<'_>> = Vec::new();
    let (shown, hidden) = shown_related(finding);
    let all = std::iter::once((&finding.primary, true))
        .chain(finding.related[..shown].iter().map(|r| (r, false)));
    for (location, primary) in all {
        let path = paths.show(&location.path);
        let near = |g: &FileGroup<'_>| {
            g.path == path
                && location.line <= g.last_line.saturating_add(MAX_SNIPPET_GAP)
                && location.end_line.saturating_add(MAX_SNIPPET_GAP) >= g.first_line
        };
        match groups.iter_mut().find(|g| near(g)) {
            Some(group) => {
                group.labels.push((location, primary));
                group.first_line = group.first_line.min(location.line);
                group.last_line = group.last_line.max(location.end_line);
            }
            None => groups.push(FileGroup {
                path,
                labels: vec![(location, primary)],
                first_line: location.line,
                last_line: location.end_line,
            }),
        }
    }

    // Snippets borrow their text; build the excerpts first.
    type Excerpt<'a> = (
        String,
        usize,
        Vec<(std::ops::Range<usize>, std::borrow::Cow<'a, str>, bool)>,
    );
    let excerpts: Vec<Option<Excerpt<'_>>> = groups
        .iter()
        .map(|group| {
            let text = result.sources.get(&group.labels[0].0.path)?;
            let index = indexes.get(group.labels[0].0.path.as_path())?;
            let (first, last) = (group.first_line, group.last_line);
            let (start, _) = index.line_range(text, first);
            let (_, end) = index.line_range(text, last);
            let points: Vec<usize> = group
                .labels
                .iter()
                .flat_map(|(l, _)| [l.start as usize, (l.end as usize).max(l.start as usize)])
                .map(|offset| offset.clamp(start, end) - start)
                .collect();
            let (excerpt, mapped) = printable::excerpt(&text[start..end], &points);
            let annotations = group
                .labels
                .iter()
                .zip(mapped.chunks_exact(2))
                .map(|((l, primary), range)| (range[0]..range[1], escape(&l.message), *primary))
                .collect();
            Some((excerpt, first as usize, annotations))
        })
        .collect();

    let title_level = match finding.severity {
        Severity::Error => Level::Error,
        Severity::Warning => Level::Warning,
    };
    let title = escape(&finding.message);
    let mut message: Message<'_> = title_level.title(&title).id(finding.code);
    for (group, excerpt) in groups.iter().zip(&excerpts) {
        let Some((excerpt, line_start, annotations)) = excerpt else {
            continue;
        };
        let mut snippet = Snippet::source(excerpt)
            .line_start(*line_start)
            .origin(&group.path)
            .fold(true);
        for (range, label, primary) in annotations {
            // In annotate-snippets, error spans underline with `^` and warning spans with `-`, both unprefixed.
            let level = if *primary {
                Level::Error
            } else {
                Level::Warning
            };
            snippet = snippet.annotation(level.span(range.clone()).label(label.as_ref()));
        }
        message = message.snippet(snippet);
    }
    let reached = super::request_path_line(finding, paths).map(|line| escape(&line).into_owned());
    if let Some(reached) = &reached {
        message = message.footer(Level::Note.title(reached));
    }
    let hidden_note = (hidden > 0).then(|| {
        let definitions = if hidden == 1 {
            "shared object's definition is"
        } else {
            "shared objects' definitions are"
        };
        format!("{hidden} more {definitions} not shown (`--output-format json` lists every object)")
    });
    if let Some(hidden_note) = &hidden_note {
        message = message.footer(Level::Note.title(hidden_note));
    }
    let (note, help) = (escape(&finding.note), escape(&finding.help));
    message = message
        .footer(Level::Note.title(&note))
        .footer(Level::Help.title(&help));
    let rendered = renderer.render(message).to_string();
    let headers = groups
        .iter()
        .zip(&excerpts)
        .filter(|(_, excerpt)| excerpt.is_some())
        .map(|(group, _)| (group.path.as_str(), group.labels[0].0));
    with_true_columns(&rendered, headers)
}

/// Definitions of a grouped finding's other objects shown with its own places: a line that
/// changes fifty objects would otherwise print fifty snippets.
const SHOWN_MEMBER_DEFINITIONS: usize = 3;

/// How many of the finding's related places are shown, and how many are left out.
fn shown_related(finding: &Finding) -> (usize, usize) {
    let Some(first) = finding.members.first() else {
        return (finding.related.len(), 0);
    };
    let shown = finding
        .related
        .len()
        .min(first.related.len() + SHOWN_MEMBER_DEFINITIONS);
    (shown, finding.related.len() - shown)
}

/// `rendered` with the column of each snippet's `--> path:line:column` header replaced by the
/// column of its first label, counted in characters of the source line as concise and JSON output
/// (and Ruff and CPython) count it. annotate-snippets counts the characters of the excerpt it is
/// given, where tabs are already expanded and control characters escaped.
fn with_true_columns<'a>(
    rendered: &str,
    headers: impl Iterator<Item = (&'a str, &'a Location)>,
) -> String {
    let mut headers = headers.peekable();
    let mut out = String::with_capacity(rendered.len());
    for line in rendered.split_inclusive('\n') {
        let plain = strip_styles(line);
        let is_header = ["-->", ":::"]
            .iter()
            .any(|arrow| plain.trim_start().starts_with(arrow));
        if is_header && let Some((path, location)) = headers.peek() {
            let prefix = format!("{path}:{}:", location.line);
            if let Some(found) = line.find(&prefix) {
                let digits_from = found + prefix.len();
                let digits = line[digits_from..]
                    .bytes()
                    .take_while(u8::is_ascii_digit)
                    .count();
                out.push_str(&line[..digits_from]);
                out.push_str(&location.column.to_string());
                out.push_str(&line[digits_from + digits..]);
                headers.next();
                continue;
            }
        }
        out.push_str(line);
    }
    out
}

/// `line` without its ANSI styling sequences.
fn strip_styles(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            // `ESC [ parameters letter`
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}
