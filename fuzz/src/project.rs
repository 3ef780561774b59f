//! Turns fuzzer bytes into a small project on disk and runs stateleak over it, from discovery to
//! every report format. Shared by the fuzz target and by the regression tests in
//! `tests/robustness.rs` (which include this file), so a crash input replays the same way in both.
//!
//! Input format: text up to the first marker line is `pkg/mod.py`; each line that starts with
//! [`FILE_MARKER`] begins another entry named by the rest of the line: `a/b.py` is a file,
//! `a/x.py/` a directory, `a/c.py -> b.py` a symbolic link. Names are cleaned so that nothing is
//! written outside the project folder. A file named `a.py *N` is a nesting template, so that the
//! fuzzer can build deep code from short inputs: its text `head@@open@@close@@tail` becomes
//! `head`, `open` N times, `close` N times, then `tail` (at most [`MAX_EXPANDED`] bytes).

use std::path::{Path, PathBuf};

use stateleak::check::{CheckOptions, CheckResult, check};
use stateleak::report::{self, PathDisplay};

/// A line starting with this begins a new entry; the rest of the line names it.
pub const FILE_MARKER: &[u8] = b"#>> ";
const FIRST_FILE: &str = "pkg/mod.py";
const MAX_ENTRIES: usize = 16;
const MAX_COMPONENTS: usize = 4;
const MAX_COMPONENT_LEN: usize = 40;
/// The largest file a nesting template expands to: the default `max-file-size`, since release
/// builds have small stack frames and only millions of levels would exhaust a parse thread's stack.
pub const MAX_EXPANDED: usize = stateleak::source::DEFAULT_MAX_FILE_SIZE as usize;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Entry {
    File { path: PathBuf, bytes: Vec<u8> },
    Dir(PathBuf),
    Symlink { path: PathBuf, target: PathBuf },
}

/// Splits fuzzer input into the entries of a project.
pub fn split(data: &[u8]) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut name: Vec<u8> = FIRST_FILE.as_bytes().to_vec();
    let mut bytes: Vec<u8> = Vec::new();
    for line in data.split_inclusive(|&b| b == b'\n') {
        match line.strip_prefix(FILE_MARKER) {
            Some(next) if entries.len() < MAX_ENTRIES => {
                let index = entries.len();
                entries.push(entry(&name, std::mem::take(&mut bytes), index));
                name = next.trim_ascii_end().to_vec();
            }
            _ => bytes.extend_from_slice(line),
        }
    }
    let index = entries.len();
    entries.push(entry(&name, bytes, index));
    entries
}

fn entry(name: &[u8], bytes: Vec<u8>, index: usize) -> Entry {
    let name = String::from_utf8_lossy(name);
    if let Some((path, target)) = name.split_once(" -> ") {
        return Entry::Symlink {
            path: clean_path(path, index),
            target: clean_path(target, index),
        };
    }
    if name.ends_with('/') {
        return Entry::Dir(clean_path(&name, index));
    }
    if let Some((path, count)) = name.rsplit_once(" *")
        && let Ok(count) = count.trim().parse::<usize>()
    {
        return Entry::File {
            path: clean_path(path, index),
            bytes: expand(&bytes, count),
        };
    }
    Entry::File {
        path: clean_path(&name, index),
        bytes,
    }
}

/// Expands a nesting template `head@@open@@close@@tail` (fewer parts leave the rest empty; one part
/// is `open`).
fn expand(template: &[u8], count: usize) -> Vec<u8> {
    let mut parts: Vec<&[u8]> = Vec::new();
    let mut rest = template;
    while parts.len() < 3
        && let Some(at) = rest.windows(2).position(|w| w == b"@@")
    {
        parts.push(&rest[..at]);
        rest = &rest[at + 2..];
    }
    parts.push(rest);
    let (head, open, close, tail): (&[u8], &[u8], &[u8], &[u8]) = match parts[..] {
        [open] => (b"", open, b"", b""),
        [open, close] => (b"", open, close, b""),
        [head, open, close] => (head, open, close, b""),
        [head, open, close, tail, ..] => (head, open, close, tail),
        [] => (b"", b"", b"", b""),
    };
    let unit = (open.len() + close.len()).max(1);
    let count = count.min(MAX_EXPANDED.saturating_sub(head.len() + tail.len()) / unit);
    let mut out = Vec::with_capacity(head.len() + tail.len() + unit * count);
    out.extend_from_slice(head);
    for _ in 0..count {
        out.extend_from_slice(open);
    }
    for _ in 0..count {
        out.extend_from_slice(close);
    }
    out.extend_from_slice(tail);
    out
}

/// Keeps only plain, relative components, so every entry stays inside the project folder.
fn clean_path(name: &str, index: usize) -> PathBuf {
    let components: Vec<String> = name
        .split('/')
        .map(|c| {
            c.chars()
                .filter(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '_' | '.' | '-'))
                .take(MAX_COMPONENT_LEN)
                .collect::<String>()
        })
        .filter(|c| !c.is_empty() && c != "." && c != "..")
        .take(MAX_COMPONENTS)
        .collect();
    if components.is_empty() {
        PathBuf::from(format!("f{index}.py"))
    } else {
        components.iter().collect()
    }
}

/// Writes the entries under `root`. Entries that clash (a file where a folder is needed) are
/// skipped: the input is arbitrary, and only what ends up on disk matters.
pub fn write(entries: &[Entry], root: &Path) {
    for entry in entries {
        let path = match entry {
            Entry::File { path, .. } | Entry::Dir(path) | Entry::Symlink { path, .. } => path,
        };
        let full = root.join(path);
        if let Some(parent) = full.parent()
            && std::fs::create_dir_all(parent).is_err()
        {
            continue;
        }
        let _ = match entry {
            Entry::File { bytes, .. } => std::fs::write(&full, bytes),
            Entry::Dir(_) => std::fs::create_dir_all(&full),
            Entry::Symlink { target, .. } => symlink(target, &full),
        };
    }
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) -> std::io::Result<()> {
    std::os::unix::fs::symlink(target, link)
}

#[cfg(not(unix))]
fn symlink(_target: &Path, _link: &Path) -> std::io::Result<()> {
    Ok(())
}

/// Every output format, rendered.
#[derive(Debug, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    pub text_colored: String,
    pub concise: String,
    pub json: String,
    pub sarif: String,
    pub github: String,
    pub statistics: String,
}

/// Analyses `root` with every rule, keeping the facts cache in `root` (so a second call reads it).
pub fn check_and_render(root: &Path, threads: usize) -> (CheckResult, Rendered) {
    let mut options = CheckOptions::new(vec![root.to_path_buf()]);
    options.threads = Some(threads);
    options.rules = stateleak::rules::all().to_vec();
    options.report_unused_suppressions = true;
    options.cache_dir = Some(root.join(".stateleak_cache"));
    let result = check(&options);
    let paths = PathDisplay::relative_to(root);
    let rendered = Rendered {
        text: report::render_text(&result, &paths, false),
        text_colored: report::render_text(&result, &paths, true),
        concise: report::render_concise(&result, &paths),
        json: report::render_json(&result, &paths),
        sarif: report::render_sarif(&result, &paths),
        github: report::render_github(&result, &paths),
        statistics: report::render_statistics(&result, true),
    };
    (result, rendered)
}

/// One fuzz case: the project is analysed on one thread, then on two from the facts cache the
/// first run wrote; no internal error may be reported, the JSON outputs must parse back, and the
/// output must depend neither on the thread count nor on the cache.
pub fn run(data: &[u8]) {
    let dir = tempfile::tempdir().expect("a temporary folder");
    write(&split(data), dir.path());
    let (result, one_thread) = check_and_render(dir.path(), 1);
    let internal: Vec<_> = result.errors.iter().filter(|e| e.internal).collect();
    assert!(internal.is_empty(), "internal errors: {internal:?}");
    for json in [&one_thread.json, &one_thread.sarif, &one_thread.statistics] {
        serde_json::from_str::<serde_json::Value>(json).expect("the JSON outputs parse");
    }
    let (_, two_threads) = check_and_render(dir.path(), 2);
    assert_eq!(
        one_thread, two_threads,
        "output depends on the thread count or the cache"
    );
}
