//! Printing a [`CheckResult`]: the formats, and what they share (paths and fingerprints).

mod json;
mod text;

use std::path::{Path, PathBuf};

use crate::check::{CheckResult, Finding};

pub use json::render as render_json;
pub use text::render as render_text;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutputFormat {
    /// Findings as stories with source snippets.
    Text,
    /// The stable JSON document described in the README.
    Json,
}

/// How paths are printed: relative to the working directory when under it, with `/` separators.
pub struct PathDisplay {
    cwd: Option<PathBuf>,
}

impl PathDisplay {
    pub fn from_env() -> Self {
        PathDisplay {
            cwd: std::env::current_dir().ok(),
        }
    }

    pub fn show(&self, path: &Path) -> String {
        let shown = match &self.cwd {
            Some(cwd) if path.is_absolute() => path.strip_prefix(cwd).unwrap_or(path),
            _ => path,
        };
        let shown = shown.strip_prefix("./").unwrap_or(shown);
        let text = shown.to_string_lossy();
        if std::path::MAIN_SEPARATOR == '\\' {
            text.replace('\\', "/")
        } else {
            text.into_owned()
        }
    }
}

/// Identifies a finding across unrelated edits: the rule, the path and the names involved, never
/// line numbers.
pub fn fingerprint(finding: &Finding, paths: &PathDisplay) -> String {
    let mut key = format!("{}\0{}", finding.code, paths.show(&finding.primary.path));
    for part in &finding.identity {
        key.push('\0');
        key.push_str(part);
    }
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(key.as_bytes()))
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
