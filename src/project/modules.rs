//! Module names from file paths.
//!
//! A file's module name comes from its package structure: walk up while the parent folder has an
//! `__init__.py`; the first folder without one is the root. A file under a path given on the command
//! line is also known by its name relative to that path, which is how scripts next to each other
//! import one another.

use std::path::{Path, PathBuf};

use rustc_hash::FxHashMap as HashMap;

use crate::facts::Name;

/// Which folders are packages (hold an `__init__.py` file), each asked of the file system once:
/// files of one folder, and of the folders below it, ask about the same folders.
pub struct Packages(HashMap<PathBuf, bool>);

impl Packages {
    /// The answers [`module_names`] asks for, of the files `paths`.
    pub fn of<'a>(paths: impl Iterator<Item = &'a Path>) -> Packages {
        let mut known: HashMap<PathBuf, bool> = HashMap::default();
        for path in paths {
            let mut dir = path.parent();
            while let Some(d) = dir {
                let is_package = match known.get(d) {
                    Some(is_package) => *is_package,
                    None => {
                        let is_package = is_package(d);
                        known.insert(d.to_path_buf(), is_package);
                        is_package
                    }
                };
                if !is_package {
                    break;
                }
                dir = d.parent();
            }
        }
        Packages(known)
    }

    fn is_package(&self, dir: &Path) -> bool {
        self.0.get(dir).copied().unwrap_or_else(|| is_package(dir))
    }
}

fn is_package(dir: &Path) -> bool {
    dir.join("__init__.py").is_file()
}

pub struct ModuleNaming {
    pub module: Name,
    pub is_package: bool,
    /// Further names the file is importable as.
    pub aliases: Vec<Name>,
}

pub fn module_names(path: &Path, roots: &[PathBuf], packages: &Packages) -> ModuleNaming {
    let is_package = path.file_name().is_some_and(|n| n == "__init__.py");
    let stem = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();

    let mut parts: Vec<String> = Vec::new();
    if !is_package {
        parts.push(stem.clone());
    }
    let mut dir = path.parent();
    while let Some(d) = dir {
        if !packages.is_package(d) {
            break;
        }
        match d.file_name() {
            Some(name) => parts.push(name.to_string_lossy().into_owned()),
            None => break,
        }
        dir = d.parent();
    }
    parts.reverse();
    let module: Name = if parts.is_empty() {
        stem.clone().into()
    } else {
        parts.join(".").into()
    };

    let mut aliases = Vec::new();
    for root in roots {
        let Ok(relative) = path.strip_prefix(root) else {
            continue;
        };
        let mut segments: Vec<String> = relative
            .parent()
            .into_iter()
            .flat_map(|p| p.components())
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if !is_package {
            segments.push(stem.clone());
        }
        if segments.is_empty() || segments.iter().any(|s| s.is_empty() || s.contains('.')) {
            continue;
        }
        let alias: Name = segments.join(".").into();
        if alias != module && !aliases.contains(&alias) {
            aliases.push(alias);
        }
    }
    ModuleNaming {
        module,
        is_package,
        aliases,
    }
}
