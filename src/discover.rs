//! Finding the Python files to analyse.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use ignore::WalkBuilder;

/// Folders never entered while walking (a file named explicitly is still checked).
pub const DEFAULT_EXCLUDED_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".venv",
    "venv",
    "__pycache__",
    "node_modules",
    "build",
    "dist",
    "site-packages",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".stateleak_cache",
    ".tox",
    ".nox",
];

/// A path that could not be walked.
#[derive(Debug, Clone)]
pub struct DiscoveryError {
    pub path: PathBuf,
    pub message: String,
}

pub struct Discovered {
    /// Sorted and without duplicates.
    pub files: Vec<PathBuf>,
    pub errors: Vec<DiscoveryError>,
}

/// Decides whether a file or folder met while walking is left out (see `exclude` settings).
/// Called with the path and whether it is a folder.
pub type ExcludeFilter = Arc<dyn Fn(&Path, bool) -> bool + Send + Sync>;

/// Walks `paths`, honouring `.gitignore` and `.ignore`, and returns the `.py` files below them.
pub fn discover(paths: &[PathBuf]) -> Discovered {
    discover_excluding(
        paths,
        Arc::new(|path: &Path, is_dir: bool| {
            is_dir
                && path
                    .file_name()
                    .is_some_and(|name| is_excluded_dir(name.to_string_lossy().as_ref()))
        }),
    )
}

/// Like [`discover`], with `exclude` deciding which folders and files below the given paths are
/// skipped (instead of [`DEFAULT_EXCLUDED_DIRS`]). Paths given explicitly are never excluded.
pub fn discover_excluding(paths: &[PathBuf], exclude: ExcludeFilter) -> Discovered {
    let mut files = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let metadata = match std::fs::metadata(path) {
            Ok(m) => m,
            Err(e) => {
                errors.push(DiscoveryError {
                    path: path.clone(),
                    message: format!("cannot read: {e}"),
                });
                continue;
            }
        };
        if !metadata.is_dir() {
            files.push(path.clone());
            continue;
        }
        let walker = WalkBuilder::new(path)
            .require_git(false)
            .follow_links(false)
            .filter_entry({
                let exclude = Arc::clone(&exclude);
                move |entry| {
                    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
                    !(entry.depth() > 0 && exclude(entry.path(), is_dir))
                }
            })
            .build();
        for entry in walker {
            match entry {
                Ok(entry) => {
                    let is_file = entry.file_type().is_some_and(|t| t.is_file());
                    if is_file && is_python(entry.path()) {
                        files.push(entry.into_path());
                    }
                }
                Err(e) => errors.push(DiscoveryError {
                    path: error_path(&e).unwrap_or_else(|| path.clone()),
                    message: e.to_string(),
                }),
            }
        }
    }
    files.sort();
    files.dedup();
    Discovered { files, errors }
}

/// The ignore files (`.gitignore`, `.ignore`) in the folders of `paths` and above them: they
/// apply to the walk but are easy to forget, so the summary names them.
pub fn ignore_files_above(paths: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = std::collections::BTreeSet::new();
    for path in paths {
        let absolute = crate::config::absolute(path);
        if !absolute.is_dir() {
            continue;
        }
        for dir in absolute.ancestors() {
            for name in [".gitignore", ".ignore"] {
                let candidate = dir.join(name);
                if candidate.is_file() {
                    found.insert(candidate);
                }
            }
        }
    }
    found.into_iter().collect()
}

fn is_excluded_dir(name: &str) -> bool {
    DEFAULT_EXCLUDED_DIRS.contains(&name)
}

fn is_python(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "py")
}

fn error_path(error: &ignore::Error) -> Option<PathBuf> {
    match error {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        ignore::Error::Loop { child, .. } => Some(child.clone()),
        _ => None,
    }
}
