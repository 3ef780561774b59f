//! Baselines: adopting stateleak on a code base with known findings.
//!
//! `--write-baseline FILE` records the fingerprints of the current findings; `--baseline FILE`
//! then reports only findings whose fingerprint is not recorded (as many times as recorded, so
//! a second leak of the same kind in the same place is still new). Fingerprints name the rule,
//! the path and the names involved, never line numbers, so edits elsewhere do not disturb them.
//! Paths in fingerprints are relative to the baseline file's folder, so the file works from any
//! working directory.

use std::collections::HashMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::check::Finding;
use crate::report::{PathDisplay, fingerprint};

const VERSION: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct BaselineFile {
    version: u32,
    findings: Vec<Entry>,
}

/// One recorded finding. Only `fingerprint` is compared; the rest is for people reading diffs.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    fingerprint: String,
    code: String,
    path: String,
    message: String,
}

/// The fingerprints of a baseline file, with how often each was recorded.
pub struct Baseline {
    counts: HashMap<String, usize>,
    paths: PathDisplay,
}

fn paths_for(file: &Path) -> PathDisplay {
    let dir = file
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    PathDisplay::relative_to(dir)
}

/// Writes the baseline of `findings` to `file`.
pub fn write(file: &Path, findings: &[Finding]) -> Result<(), String> {
    let paths = paths_for(file);
    let mut entries: Vec<Entry> = findings
        .iter()
        .map(|f| Entry {
            fingerprint: fingerprint(f, &paths),
            code: f.code.to_string(),
            path: paths.show(&f.primary.path),
            message: f.message.clone(),
        })
        .collect();
    // Sorted without line numbers, so that the file changes only when findings do.
    entries.sort_by(|a, b| {
        (&a.path, &a.code, &a.fingerprint).cmp(&(&b.path, &b.code, &b.fingerprint))
    });
    let document = BaselineFile {
        version: VERSION,
        findings: entries,
    };
    let mut text = serde_json::to_string_pretty(&document).expect("the baseline serialises");
    text.push('\n');
    crate::cache_dir::write_no_follow(file, text.as_bytes())
        .map_err(|e| format!("{}: cannot write the baseline: {e}", file.display()))
}

/// Reads a baseline file.
pub fn load(file: &Path) -> Result<Baseline, String> {
    let text = std::fs::read_to_string(file)
        .map_err(|e| format!("{}: cannot read the baseline: {e}", file.display()))?;
    // Editors on Windows may save JSON with a byte-order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let document: BaselineFile = serde_json::from_str(text).map_err(|e| {
        format!(
            "{}:{}:{}: not a stateleak baseline: {e}",
            file.display(),
            e.line(),
            e.column()
        )
    })?;
    if document.version != VERSION {
        return Err(format!(
            "{}: baseline version {} is not supported (expected {VERSION})",
            file.display(),
            document.version
        ));
    }
    let mut counts = HashMap::new();
    for entry in document.findings {
        *counts.entry(entry.fingerprint).or_insert(0) += 1;
    }
    Ok(Baseline {
        counts,
        paths: paths_for(file),
    })
}

/// What a baseline made of a run's findings.
pub struct Filtered {
    /// The findings not recorded in the baseline.
    pub new: Vec<Finding>,
    /// How many findings the baseline held back.
    pub known: usize,
    /// Entries that matched no finding: fixed, or moved to another file.
    pub stale: usize,
}

impl Baseline {
    /// Splits the findings into new ones and recorded ones, and counts stale entries.
    pub fn filter(&self, findings: Vec<Finding>) -> Filtered {
        let mut remaining = self.counts.clone();
        let mut known = 0;
        let new = findings
            .into_iter()
            .filter(|finding| {
                let key = fingerprint(finding, &self.paths);
                match remaining.get_mut(&key) {
                    Some(count) if *count > 0 => {
                        *count -= 1;
                        known += 1;
                        false
                    }
                    _ => true,
                }
            })
            .collect();
        Filtered {
            new,
            known,
            stale: remaining.values().sum(),
        }
    }
}
