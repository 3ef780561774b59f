//! Configuration: finding and reading settings files, checking them, and merging them with the
//! command line into the [`Settings`] of one run.
//!
//! Settings live in `[tool.stateleak]` of `pyproject.toml`, or at the top level of
//! `stateleak.toml` / `.stateleak.toml`. As in Ruff, each file uses the settings file nearest to
//! it (its folder, then the folders above); paths and globs in a settings file are relative to
//! its folder, and `extend` names a file whose settings it inherits. Options given on the command
//! line override every file. [`Resolver`] finds, reads and caches the settings per folder.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex};

use globset::{Glob, GlobSet, GlobSetBuilder};
use serde::Deserialize;
use toml::Spanned;

use crate::report::OutputFormat;
use crate::rules::{self, Rule, RuleSettings};

/// In one folder, the first of these that holds stateleak settings is used.
pub const CONFIG_FILE_NAMES: [&str; 3] = [".stateleak.toml", "stateleak.toml", "pyproject.toml"];

/// Every setting, as written in a settings file. Keep in sync with [`KNOWN_KEYS`].
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
pub struct Options {
    /// Another settings file whose settings this one inherits (and overrides).
    pub extend: Option<Spanned<PathBuf>>,
    pub select: Option<Vec<Spanned<String>>>,
    pub extend_select: Option<Vec<Spanned<String>>>,
    pub ignore: Option<Vec<Spanned<String>>>,
    pub exclude: Option<Vec<Spanned<String>>>,
    pub extend_exclude: Option<Vec<Spanned<String>>>,
    pub per_file_ignores: Option<BTreeMap<Spanned<String>, Vec<Spanned<String>>>>,
    pub src: Option<Vec<PathBuf>>,
    pub entry_points: Option<Vec<String>>,
    pub safe_bases: Option<Vec<String>>,
    pub output_format: Option<OutputFormat>,
    pub max_file_size: Option<u64>,
    /// The oldest Python the code must run on (`py38` ... `py314`); decides what fixes write.
    pub target_version: Option<Spanned<String>>,
    pub cache_dir: Option<PathBuf>,
}

/// The keys of [`Options`], for suggestions when a key is misspelt.
pub const KNOWN_KEYS: &[&str] = &[
    "extend",
    "select",
    "extend-select",
    "ignore",
    "exclude",
    "extend-exclude",
    "per-file-ignores",
    "src",
    "entry-points",
    "safe-bases",
    "output-format",
    "max-file-size",
    "target-version",
    "cache-dir",
];

#[derive(Deserialize)]
struct PyProject {
    tool: Option<Tool>,
    project: Option<ProjectTable>,
}

/// `[project]`, for `requires-python`: the default of `target-version`.
#[derive(Deserialize)]
struct ProjectTable {
    #[serde(rename = "requires-python")]
    requires_python: Option<String>,
}

#[derive(Deserialize)]
struct Tool {
    stateleak: Option<Options>,
}

/// Where the value of `outer.inner` starts in a TOML text that parses (0 if it has no span).
/// `tool.stateleak` is checked to be a table this way, because serde would otherwise take an
/// array as the settings' fields in order, and `toml::Spanned` cannot read a table made only by
/// dotted headers (`[tool.stateleak.per-file-ignores]` alone).
fn section_start(text: &str, outer: &str, inner: &str) -> usize {
    toml_edit::ImDocument::parse(text)
        .ok()
        .and_then(|document| document.get(outer)?.get(inner)?.span())
        .map_or(0, |span| span.start)
}

/// A problem with the configuration: always fatal (exit status 2), always names the place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// `path`, `path:line:col`, or the command-line option.
    pub place: String,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.place, self.message)
    }
}

impl std::error::Error for ConfigError {}

/// A settings file that was read, with the file it extends.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub options: Options,
    text: String,
    /// The file named by `extend`, read.
    pub extended: Option<Box<ConfigFile>>,
    /// The minor version of the oldest Python 3 that `[project] requires-python` allows.
    requires_python: Option<u32>,
}

impl ConfigFile {
    /// The folder that relative paths and globs of the file are relative to.
    pub fn base(&self) -> PathBuf {
        match self.path.as_deref().and_then(Path::parent) {
            Some(dir) => absolute(dir),
            None => absolute(Path::new(".")),
        }
    }

    fn place(&self, span: std::ops::Range<usize>) -> String {
        let path = self.path.as_deref().unwrap_or(Path::new("<settings>"));
        place_in(path, &self.text, span.start)
    }

    /// The file and the files it extends, the most distant first: the order they apply in.
    fn layers(&self) -> Vec<&ConfigFile> {
        let mut layers = vec![self];
        while let Some(extended) = &layers[layers.len() - 1].extended {
            layers.push(extended);
        }
        layers.reverse();
        layers
    }

    /// How the file is named in `--show-settings` (`default` for no file).
    fn origin(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| "default".to_string(), |p| p.display().to_string())
    }
}

/// `path:line:col` of a byte offset (1-based; columns count characters).
fn place_in(path: &Path, text: &str, offset: usize) -> String {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    format!("{}:{line}:{column}", path.display())
}

/// The settings file in `dir` itself, if any.
fn own_config_file(dir: &Path) -> Result<Option<PathBuf>, ConfigError> {
    for name in CONFIG_FILE_NAMES {
        let candidate = dir.join(name);
        if !candidate.is_file() {
            continue;
        }
        if name != "pyproject.toml" || pyproject_has_settings(&candidate)? {
            return Ok(Some(candidate));
        }
    }
    Ok(None)
}

/// The root of the project `file` belongs to: the nearest folder above it that holds a settings
/// file or a `.git`; `None` when there is none.
pub fn project_root(file: &Path) -> Option<PathBuf> {
    let file = absolute(file);
    let settings_dir = file
        .ancestors()
        .skip(1)
        .find(|dir| own_config_file(dir).ok().flatten().is_some())
        .map(Path::to_path_buf);
    let git_dir = file
        .ancestors()
        .skip(1)
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf);
    // Both are ancestors of the file: the longer is the nearer.
    [settings_dir, git_dir]
        .into_iter()
        .flatten()
        .max_by_key(|dir| dir.components().count())
}

fn pyproject_has_settings(path: &Path) -> Result<bool, ConfigError> {
    let text = read(path)?;
    // Most pyproject files are not ours: only parse (and complain about) those that mention us.
    if !text.contains("stateleak") {
        return Ok(false);
    }
    let table: toml::Table = toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
    Ok(table
        .get("tool")
        .and_then(|tool| tool.get("stateleak"))
        .is_some())
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|e| ConfigError {
        place: path.display().to_string(),
        message: format!("cannot read the configuration file: {e}"),
    })
}

fn toml_error(path: &Path, text: &str, error: &toml::de::Error) -> ConfigError {
    let message = error.message().trim().to_string();
    let Some(span) = error.span() else {
        return ConfigError {
            place: path.display().to_string(),
            message,
        };
    };
    let place = place_in(path, text, span.start);
    // An unknown key: name it and suggest the nearest valid one.
    if message.starts_with("unknown field") {
        let key = text[span.clone()].trim().trim_matches(['"', '\'']);
        let mut message = format!("unknown setting `{key}`");
        if let Some(suggestion) = nearest(key, KNOWN_KEYS.iter().copied()) {
            message.push_str(&format!("; did you mean `{suggestion}`?"));
        }
        message.push_str(&format!(" (valid settings: {})", KNOWN_KEYS.join(", ")));
        return ConfigError { place, message };
    }
    ConfigError { place, message }
}

/// The candidate closest to `word`, when it is close enough to be a likely typo.
pub fn nearest<'a>(word: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    let normalized = word.to_ascii_lowercase().replace('_', "-");
    candidates
        .map(|c| (strsim::levenshtein(&normalized, &c.to_ascii_lowercase()), c))
        .filter(|(distance, c)| *distance <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c)
}

/// Reads a settings file (`[tool.stateleak]` of a `pyproject.toml`, the whole of any other
/// file) and the files it extends.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    load_extending(path, &mut Vec::new())
}

fn load_extending(path: &Path, seen: &mut Vec<PathBuf>) -> Result<ConfigFile, ConfigError> {
    let text = read(path)?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let mut requires_python = None;
    let options = if is_pyproject {
        let document: toml::Table =
            toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))?;
        if let Some(section) = document.get("tool").and_then(|tool| tool.get("stateleak"))
            && !section.is_table()
        {
            return Err(ConfigError {
                place: place_in(path, &text, section_start(&text, "tool", "stateleak")),
                message: format!(
                    "`tool.stateleak` must be a table (`[tool.stateleak]`), not {}",
                    section.type_str()
                ),
            });
        }
        let pyproject =
            toml::from_str::<PyProject>(&text).map_err(|e| toml_error(path, &text, &e))?;
        requires_python = pyproject
            .project
            .and_then(|p| p.requires_python)
            .and_then(|spec| oldest_python(&spec));
        pyproject.tool.and_then(|t| t.stateleak).unwrap_or_default()
    } else {
        toml::from_str::<Options>(&text).map_err(|e| toml_error(path, &text, &e))?
    };
    let mut file = ConfigFile {
        path: Some(path.to_path_buf()),
        options,
        text,
        extended: None,
        requires_python,
    };
    validate(&file)?;
    if let Some(extend) = &file.options.extend {
        seen.push(absolute(path));
        let target = normalize(&file.base().join(extend.get_ref()));
        let place = || file.place(extend.span());
        if seen.contains(&target) {
            return Err(ConfigError {
                place: place(),
                message: format!("`extend` makes a cycle through {}", target.display()),
            });
        }
        if !target.is_file() {
            return Err(ConfigError {
                place: place(),
                message: format!("`extend` names {}, which is not a file", target.display()),
            });
        }
        file.extended = Some(Box::new(load_extending(&target, seen)?));
    }
    Ok(file)
}

/// The minor version of the oldest Python 3 a `requires-python` specifier allows (`>=3.9`,
/// `~=3.10`, `>=3.8,<4`), when it says.
fn oldest_python(spec: &str) -> Option<u32> {
    spec.split(',').find_map(|clause| {
        let clause = clause.trim();
        let version = clause
            .strip_prefix(">=")
            .or_else(|| clause.strip_prefix("~="))
            .or_else(|| clause.strip_prefix("=="))?;
        let minor = version.trim().strip_prefix("3.")?;
        minor.split('.').next()?.trim_end_matches('*').parse().ok()
    })
}

/// The minor version of a `target-version` (`py310` → 10).
fn target_minor(target: &str) -> Option<u32> {
    target.strip_prefix("py3")?.parse().ok()
}

/// Checks what the types alone do not: rule codes, globs and the target version.
fn validate(file: &ConfigFile) -> Result<(), ConfigError> {
    let options = &file.options;
    if let Some(target) = &options.target_version
        && target_minor(target.get_ref()).is_none_or(|minor| !(7..=14).contains(&minor))
    {
        return Err(ConfigError {
            place: file.place(target.span()),
            message: format!(
                "invalid `target-version` `{}`: write `py37` ... `py314`",
                target.get_ref()
            ),
        });
    }
    let selector_lists = [&options.select, &options.extend_select, &options.ignore];
    let per_file = options.per_file_ignores.iter().flat_map(|m| m.values());
    for list in selector_lists.into_iter().flatten().chain(per_file) {
        for code in list {
            Selector::parse(code.get_ref()).map_err(|message| ConfigError {
                place: file.place(code.span()),
                message,
            })?;
        }
    }
    for glob in [&options.exclude, &options.extend_exclude]
        .into_iter()
        .flatten()
        .flatten()
    {
        Glob::new(glob.get_ref()).map_err(|e| ConfigError {
            place: file.place(glob.span()),
            message: format!("invalid glob `{}`: {}", glob.get_ref(), e.kind()),
        })?;
    }
    if let Some(map) = &options.per_file_ignores {
        for pattern in map.keys() {
            Glob::new(pattern.get_ref()).map_err(|e| ConfigError {
                place: file.place(pattern.span()),
                message: format!(
                    "invalid glob `{}` in `per-file-ignores`: {}",
                    pattern.get_ref(),
                    e.kind()
                ),
            })?;
        }
    }
    Ok(())
}

/// Checks a file given with `--config` before reading it.
fn check_config_path(path: &Path) -> Result<(), ConfigError> {
    let problem = match std::fs::metadata(path) {
        Err(_) => "the configuration file given with --config does not exist",
        Ok(m) if m.is_dir() => "the configuration file given with --config is a folder",
        Ok(m) if !m.is_file() => {
            "the configuration file given with --config is not a regular file (a device, pipe or socket)"
        }
        Ok(_) => return Ok(()),
    };
    Err(ConfigError {
        place: path.display().to_string(),
        message: problem.into(),
    })
}

/// The settings of every folder of a run: with `--config` or `--isolated` one set for all, else
/// the nearest settings file of each folder, read once and cached. Safe to share between threads.
pub struct Resolver {
    overrides: Overrides,
    /// The settings every file uses (`--config`, `--isolated`).
    fixed: Option<Arc<Settings>>,
    /// Folder (absolute) → its nearest settings file.
    nearest: Mutex<HashMap<PathBuf, Option<PathBuf>>>,
    /// Settings file → its resolved settings (`None` key: no file).
    resolved: Mutex<HashMap<Option<PathBuf>, Arc<Settings>>>,
    /// A settings file met while walking that could not be read: reported after the walk.
    first_error: Mutex<Option<ConfigError>>,
}

impl Resolver {
    pub fn new(
        config: Option<&Path>,
        isolated: bool,
        overrides: Overrides,
    ) -> Result<Resolver, ConfigError> {
        let fixed = if isolated {
            Some(Arc::new(resolve(&ConfigFile::default(), &overrides)?))
        } else if let Some(path) = config {
            check_config_path(path)?;
            Some(Arc::new(resolve(&load(path)?, &overrides)?))
        } else {
            None
        };
        Ok(Resolver {
            overrides,
            fixed,
            nearest: Mutex::default(),
            resolved: Mutex::default(),
            first_error: Mutex::default(),
        })
    }

    /// The settings of the folder `path` is in (of `path` itself when it is a folder and
    /// `itself` is set).
    pub fn for_path(&self, path: &Path, itself: bool) -> Result<Arc<Settings>, ConfigError> {
        if let Some(fixed) = &self.fixed {
            return Ok(Arc::clone(fixed));
        }
        let path = absolute(path);
        let folder = if itself && path.is_dir() {
            path.as_path()
        } else {
            path.parent().unwrap_or(&path)
        };
        let file = self.nearest_file(folder)?;
        if let Some(settings) = lock(&self.resolved).get(&file) {
            return Ok(Arc::clone(settings));
        }
        let config = match &file {
            Some(path) => load(path)?,
            None => ConfigFile::default(),
        };
        let settings = Arc::new(resolve(&config, &self.overrides)?);
        lock(&self.resolved).insert(file, Arc::clone(&settings));
        Ok(settings)
    }

    /// Like [`Resolver::for_path`] for use while walking: an error is kept for
    /// [`Resolver::take_error`], and the defaults stand in.
    pub fn for_path_or_default(&self, path: &Path) -> Arc<Settings> {
        self.for_path(path, false).unwrap_or_else(|error| {
            lock(&self.first_error).get_or_insert(error);
            self.for_path_without_file()
        })
    }

    /// [`Resolver::for_path_or_default`] of each file, asked once per run of files in the same
    /// folder as written (what it gives depends on the folder alone): sorted files come folder
    /// by folder, and each question makes the path absolute and looks it up by its components.
    fn by_folder<'a>(&'a self, files: &'a [PathBuf]) -> impl Iterator<Item = Arc<Settings>> + 'a {
        let mut last: Option<(&'a std::ffi::OsStr, Arc<Settings>)> = None;
        files.iter().map(move |file| {
            let folder = file
                .parent()
                .map_or(std::ffi::OsStr::new(""), Path::as_os_str);
            match &last {
                Some((seen, settings)) if *seen == folder => Arc::clone(settings),
                _ => {
                    let settings = self.for_path_or_default(file);
                    last = Some((folder, Arc::clone(&settings)));
                    settings
                }
            }
        })
    }

    fn for_path_without_file(&self) -> Arc<Settings> {
        let mut resolved = lock(&self.resolved);
        let settings = resolved.entry(None).or_insert_with(|| {
            Arc::new(
                resolve(&ConfigFile::default(), &self.overrides)
                    .expect("the command line was checked when the resolver was made"),
            )
        });
        Arc::clone(settings)
    }

    /// The first error met while walking.
    pub fn take_error(&self) -> Option<ConfigError> {
        lock(&self.first_error).take()
    }

    /// The settings files some file of the run used, sorted.
    pub fn files_used(&self) -> Vec<PathBuf> {
        if let Some(fixed) = &self.fixed {
            return fixed.file.iter().cloned().collect();
        }
        let resolved = lock(&self.resolved);
        let used: BTreeSet<&PathBuf> = resolved
            .values()
            .flat_map(|settings| settings.file.iter())
            .collect();
        used.into_iter().cloned().collect()
    }

    /// The nearest settings file of an absolute folder: its own, else its parent's (memoised, so
    /// each folder is looked at once).
    fn nearest_file(&self, folder: &Path) -> Result<Option<PathBuf>, ConfigError> {
        if let Some(found) = lock(&self.nearest).get(folder) {
            return Ok(found.clone());
        }
        let found = match own_config_file(folder)? {
            Some(file) => Some(file),
            None => match folder.parent() {
                Some(parent) => self.nearest_file(parent)?,
                None => None,
            },
        };
        lock(&self.nearest).insert(folder.to_path_buf(), found.clone());
        Ok(found)
    }
}

impl crate::check::FolderSettings for Resolver {
    fn for_files(&self, files: &[PathBuf]) -> crate::check::RunSettings {
        let mut used: Vec<Arc<Settings>> = Vec::new();
        for settings in self.by_folder(files) {
            if !used.iter().any(|u| Arc::ptr_eq(u, &settings)) {
                used.push(settings);
            }
        }
        let mut run = crate::check::RunSettings {
            rules: Vec::new(),
            src: Vec::new(),
            rule_settings: RuleSettings::default(),
        };
        fn add<T: Clone + PartialEq>(list: &mut Vec<T>, items: &[T]) {
            for item in items {
                if !list.contains(item) {
                    list.push(item.clone());
                }
            }
        }
        for settings in &used {
            add(
                &mut run.rule_settings.entry_points,
                &settings.rule_settings.entry_points,
            );
            add(
                &mut run.rule_settings.safe_bases,
                &settings.rule_settings.safe_bases,
            );
            add(&mut run.src, &settings.src);
        }
        run.rules = rules::all()
            .iter()
            .filter(|rule| {
                used.iter()
                    .any(|s| s.rules.iter().any(|r| r.meta().code == rule.meta().code))
            })
            .copied()
            .collect();
        run
    }

    fn reports(&self, path: &Path, code: &str) -> bool {
        self.for_path_or_default(path).reports(path, code)
    }

    fn fingerprint(&self, files: &[PathBuf]) -> u64 {
        let mut used: Vec<Arc<Settings>> = Vec::new();
        let mut hasher = xxhash_rust::xxh3::Xxh3::new();
        for settings in self.by_folder(files) {
            let index = match used.iter().position(|u| Arc::ptr_eq(u, &settings)) {
                Some(index) => index,
                None => {
                    used.push(settings);
                    used.len() - 1
                }
            };
            hasher.update(&(index as u64).to_le_bytes());
        }
        for settings in &used {
            hasher.update(settings.identity().as_bytes());
        }
        hasher.digest()
    }
}

/// A poisoned lock only means another thread panicked while holding it; the maps stay valid.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Chooses rules: a full code, a prefix (`SL1`) or `ALL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    All,
    Prefix(String),
}

impl Selector {
    pub fn parse(text: &str) -> Result<Selector, String> {
        let text = text.trim();
        if text == "ALL" {
            return Ok(Selector::All);
        }
        let upper = text.to_ascii_uppercase();
        let well_formed = upper.len() >= 2
            && upper.starts_with("SL")
            && upper[2..].chars().all(|c| c.is_ascii_digit());
        let codes = || rules::all().iter().map(|r| r.meta().code);
        if well_formed && codes().any(|code| code.starts_with(&upper)) {
            return Ok(Selector::Prefix(upper));
        }
        let mut message = format!("unknown rule code `{text}`");
        if let Some(suggestion) = nearest(&upper, codes().chain(["ALL"])) {
            message.push_str(&format!("; did you mean `{suggestion}`?"));
        }
        let known: Vec<&str> = codes().collect();
        message.push_str(&format!(" (known rules: {})", known.join(", ")));
        Err(message)
    }

    /// How specific the selector is: a longer prefix beats a shorter one, and `ALL` beats nothing.
    fn specificity(&self) -> usize {
        match self {
            Selector::All => 0,
            Selector::Prefix(prefix) => prefix.len(),
        }
    }

    pub fn matches(&self, code: &str) -> bool {
        match self {
            Selector::All => true,
            Selector::Prefix(prefix) => code.starts_with(prefix.as_str()),
        }
    }

    /// Whether selecting with `self` turns `rule` on. A rule that is off by default (because it
    /// cannot be precise everywhere) is turned on only by its full code.
    fn enables(&self, rule: &dyn Rule) -> bool {
        let meta = rule.meta();
        match self {
            Selector::Prefix(prefix) if prefix == meta.code => true,
            _ => meta.enabled_by_default && self.matches(meta.code),
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Selector::All => f.write_str("ALL"),
            Selector::Prefix(prefix) => f.write_str(prefix),
        }
    }
}

/// One layer of rule selection (the settings file, then the command line).
#[derive(Debug, Default, Clone)]
pub struct Selection {
    pub select: Option<Vec<Selector>>,
    pub extend_select: Vec<Selector>,
    pub ignore: Vec<Selector>,
}

impl Selection {
    /// Applies this layer to the rules enabled so far. For each rule, the most specific selector
    /// that names it decides; `ignore` wins a tie.
    fn apply(&self, enabled: &mut [bool]) {
        for (rule, on) in rules::all().iter().zip(enabled.iter_mut()) {
            if self.select.is_some() {
                *on = false;
            }
            let enabling = self
                .select
                .iter()
                .flatten()
                .chain(&self.extend_select)
                .filter(|s| s.enables(*rule))
                .map(|s| (s.specificity(), false));
            let disabling = self
                .ignore
                .iter()
                .filter(|s| s.matches(rule.meta().code))
                .map(|s| (s.specificity(), true));
            if let Some((_, ignore)) = enabling.chain(disabling).max() {
                *on = !ignore;
            }
        }
    }
}

/// What the command line says; `None` or empty leaves the settings file's value.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub selection: Selection,
    pub exclude: Option<Vec<String>>,
    pub extend_exclude: Vec<String>,
    pub output_format: Option<OutputFormat>,
    pub entry_points: Vec<String>,
}

/// Parses command-line rule codes; the error names the option.
pub fn parse_selectors(option: &str, codes: &[String]) -> Result<Vec<Selector>, ConfigError> {
    codes
        .iter()
        .filter(|c| !c.trim().is_empty())
        .map(|code| {
            Selector::parse(code).map_err(|message| ConfigError {
                place: option.to_string(),
                message,
            })
        })
        .collect()
}

/// Matches paths against globs, relative to a base folder: a glob matches a path relative to the
/// base, or the file or folder name alone.
#[derive(Debug, Clone)]
pub struct PathMatcher {
    base: PathBuf,
    /// The working directory, to make relative paths absolute without asking the system each time.
    cwd: PathBuf,
    set: GlobSet,
    globs: Vec<String>,
}

impl PathMatcher {
    pub fn new(base: &Path, globs: &[String]) -> Result<PathMatcher, String> {
        let mut builder = GlobSetBuilder::new();
        for glob in globs {
            builder
                .add(Glob::new(glob).map_err(|e| format!("invalid glob `{glob}`: {}", e.kind()))?);
        }
        Ok(PathMatcher {
            base: absolute(base),
            cwd: absolute(Path::new(".")),
            set: builder.build().map_err(|e| e.to_string())?,
            globs: globs.to_vec(),
        })
    }

    pub fn is_match(&self, path: &Path) -> bool {
        if self.set.is_empty() {
            return false;
        }
        if path.file_name().is_some_and(|name| self.set.is_match(name)) {
            return true;
        }
        let full = normalize(&self.cwd.join(without_leading_dot(path)));
        match full.strip_prefix(&self.base) {
            Ok(relative) => self.set.is_match(relative),
            Err(_) => self.set.is_match(&full),
        }
    }

    /// The indexes of the globs that match `path` (as [`PathMatcher::is_match`] matches), sorted.
    pub fn matching(&self, path: &Path) -> Vec<usize> {
        let mut found = Vec::new();
        if self.set.is_empty() {
            return found;
        }
        if let Some(name) = path.file_name() {
            found.extend(self.set.matches(name));
        }
        let full = normalize(&self.cwd.join(without_leading_dot(path)));
        found.extend(match full.strip_prefix(&self.base) {
            Ok(relative) => self.set.matches(relative),
            Err(_) => self.set.matches(&full),
        });
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Rule codes switched off for files matching globs: the globs of one settings file, compiled into
/// one set, so that a path is matched against thousands of entries in one pass.
#[derive(Debug, Clone, Default)]
pub struct PerFileIgnores {
    /// `None` when there are no entries.
    matcher: Option<PathMatcher>,
    /// The rules each glob of `matcher` switches off, by the glob's index.
    selectors: Vec<Vec<Selector>>,
    /// The globs matching each path asked about: findings come many to a file.
    matched: Arc<Mutex<HashMap<PathBuf, Arc<[usize]>>>>,
}

impl PerFileIgnores {
    /// The entries (glob and rule codes) of one settings file, whose globs are relative to `base`.
    pub fn new(base: &Path, entries: Vec<(String, Vec<Selector>)>) -> Result<Self, String> {
        if entries.is_empty() {
            return Ok(PerFileIgnores::default());
        }
        let (globs, selectors): (Vec<String>, Vec<Vec<Selector>>) = entries.into_iter().unzip();
        Ok(PerFileIgnores {
            matcher: Some(PathMatcher::new(base, &globs)?),
            selectors,
            matched: Arc::default(),
        })
    }

    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// The rules switched off for `path`.
    pub fn selectors_for(&self, path: &Path) -> Vec<&Selector> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        let matched = Arc::clone(
            lock(&self.matched)
                .entry(path.to_path_buf())
                .or_insert_with(|| matcher.matching(path).into()),
        );
        matched.iter().flat_map(|&i| &self.selectors[i]).collect()
    }

    /// Whether an entry switches rule `code` off for `path`.
    pub fn ignores(&self, path: &Path, code: &str) -> bool {
        self.selectors_for(path).iter().any(|s| s.matches(code))
    }

    /// What decides which findings the entries turn off (for the run cache's key): the folder the
    /// globs are relative to, and each entry.
    pub fn identity(&self) -> String {
        let base = self.matcher.as_ref().map(|m| m.base.display().to_string());
        format!("{base:?} {:?}", self.describe())
    }

    /// Each entry as `glob = CODES`, for `--show-settings`.
    fn describe(&self) -> Vec<String> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        matcher
            .globs
            .iter()
            .zip(&self.selectors)
            .map(|(glob, selectors)| {
                let codes: Vec<String> = selectors.iter().map(Selector::to_string).collect();
                format!("{glob} = {}", codes.join(","))
            })
            .collect()
    }
}

/// Globs of files and folders to skip, each list relative to the folder of the file that set it.
#[derive(Debug, Clone, Default)]
pub struct Excludes {
    matchers: Vec<PathMatcher>,
}

impl Excludes {
    pub fn is_match(&self, path: &Path) -> bool {
        self.matchers.iter().any(|m| m.is_match(path))
    }

    /// The globs, for `--show-settings`.
    pub fn globs(&self) -> Vec<&str> {
        self.matchers
            .iter()
            .flat_map(|m| m.globs.iter().map(String::as_str))
            .collect()
    }
}

/// Everything the files of one folder need to know, merged from their settings file (and the
/// files it extends) and the command line.
pub struct Settings {
    /// The settings file used, if any.
    pub file: Option<PathBuf>,
    pub rules: Vec<&'static dyn Rule>,
    pub exclude: Excludes,
    pub per_file_ignores: PerFileIgnores,
    /// Extra roots for module names.
    pub src: Vec<PathBuf>,
    pub rule_settings: RuleSettings,
    pub output_format: OutputFormat,
    pub max_file_size: Option<u64>,
    /// The minor version of the oldest Python 3 the code runs on, when known (`target-version`,
    /// else `requires-python`).
    pub python_minor: Option<u32>,
    /// For each setting, where its value came from (files, `command line`), for `--show-settings`.
    pub origins: BTreeMap<&'static str, Vec<String>>,
    /// The `cache-dir` setting, relative to the settings file's folder.
    pub cache_dir: Option<PathBuf>,
}

/// Merges a settings file (after the files it extends) with the command line. In each layer, a
/// setting replaces the value so far, except `extend-select` and `extend-exclude`, which add.
pub fn resolve(file: &ConfigFile, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let mut origins: BTreeMap<&'static str, Vec<String>> = BTreeMap::new();
    let mut note = |key: &'static str, origin: String, adds: bool| {
        let list = origins.entry(key).or_default();
        if !adds {
            list.clear();
        }
        list.push(origin);
    };
    let selectors = |list: &Option<Vec<Spanned<String>>>| -> Vec<Selector> {
        list.iter()
            .flatten()
            // Validated when the file was loaded.
            .filter_map(|s| Selector::parse(s.get_ref()).ok())
            .collect()
    };
    let strings = |list: &Option<Vec<Spanned<String>>>| -> Option<Vec<String>> {
        list.as_ref()
            .map(|l| l.iter().map(|s| s.get_ref().clone()).collect())
    };
    let glob_error = |option: &str| {
        let option = option.to_string();
        move |message| ConfigError {
            place: option.clone(),
            message,
        }
    };
    let cwd = absolute(Path::new("."));
    let mut enabled: Vec<bool> = rules::all()
        .iter()
        .map(|r| r.meta().enabled_by_default)
        .collect();
    let defaults: Vec<String> = crate::discover::DEFAULT_EXCLUDED_DIRS
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut exclude = PathMatcher::new(&file.base(), &defaults).map_err(glob_error("exclude"))?;
    let mut extend_exclude = Vec::new();
    let mut per_file_ignores = PerFileIgnores::default();
    let mut src = Vec::new();
    let mut entry_points = Vec::new();
    let mut safe_bases = Vec::new();
    let mut output_format = None;
    let mut max_file_size = None;
    let mut cache_dir = None;
    let mut python_minor = None;
    // `requires-python` stands in for `target-version` only where no file sets it.
    let mut target_set = false;

    for layer in file.layers() {
        let options = &layer.options;
        let base = layer.base();
        let origin = layer.origin();
        Selection {
            select: options.select.as_ref().map(|_| selectors(&options.select)),
            extend_select: selectors(&options.extend_select),
            ignore: selectors(&options.ignore),
        }
        .apply(&mut enabled);
        for (key, set) in [
            ("select", options.select.is_some()),
            ("ignore", options.ignore.is_some()),
        ] {
            if set {
                note(key, origin.clone(), false);
            }
        }
        if options.extend_select.is_some() {
            note("extend-select", origin.clone(), true);
        }
        if let Some(globs) = strings(&options.exclude) {
            exclude = PathMatcher::new(&base, &globs).map_err(glob_error("exclude"))?;
            note("exclude", origin.clone(), false);
        }
        if let Some(globs) = strings(&options.extend_exclude) {
            extend_exclude
                .push(PathMatcher::new(&base, &globs).map_err(glob_error("extend-exclude"))?);
            note("extend-exclude", origin.clone(), true);
        }
        if let Some(map) = &options.per_file_ignores {
            let entries = map
                .iter()
                .map(|(pattern, codes)| {
                    let selectors = codes
                        .iter()
                        .filter_map(|c| Selector::parse(c.get_ref()).ok())
                        .collect();
                    (pattern.get_ref().clone(), selectors)
                })
                .collect();
            per_file_ignores =
                PerFileIgnores::new(&base, entries).map_err(glob_error("per-file-ignores"))?;
            note("per-file-ignores", origin.clone(), false);
        }
        if let Some(roots) = &options.src {
            src = roots
                .iter()
                .flat_map(|p| root_spellings(&normalize(&base.join(p)), &cwd))
                .collect();
            note("src", origin.clone(), false);
        }
        if let Some(patterns) = &options.entry_points {
            entry_points = patterns.clone();
            note("entry-points", origin.clone(), false);
        }
        if let Some(bases) = &options.safe_bases {
            safe_bases = bases.clone();
            note("safe-bases", origin.clone(), false);
        }
        if options.output_format.is_some() {
            output_format = options.output_format;
            note("output-format", origin.clone(), false);
        }
        if options.max_file_size.is_some() {
            max_file_size = options.max_file_size;
            note("max-file-size", origin.clone(), false);
        }
        if options.cache_dir.is_some() {
            cache_dir = options.cache_dir.clone();
            note("cache-dir", origin.clone(), false);
        }
        if let Some(target) = &options.target_version {
            python_minor = target_minor(target.get_ref());
            target_set = true;
            note("target-version", origin.clone(), false);
        } else if layer.requires_python.is_some() && !target_set {
            python_minor = layer.requires_python;
            note(
                "target-version",
                format!("{origin} (requires-python)"),
                false,
            );
        }
    }

    // The command line, last. Its globs are relative to the working directory.
    let command_line = || "command line".to_string();
    overrides.selection.apply(&mut enabled);
    let selection = &overrides.selection;
    if selection.select.is_some() {
        note("select", command_line(), false);
    }
    if !selection.extend_select.is_empty() {
        note("extend-select", command_line(), true);
    }
    if !selection.ignore.is_empty() {
        note("ignore", command_line(), true);
    }
    if let Some(globs) = &overrides.exclude {
        exclude = PathMatcher::new(&cwd, globs).map_err(glob_error("--exclude"))?;
        note("exclude", command_line(), false);
    }
    if !overrides.extend_exclude.is_empty() {
        extend_exclude.push(
            PathMatcher::new(&cwd, &overrides.extend_exclude)
                .map_err(glob_error("--extend-exclude"))?,
        );
        note("extend-exclude", command_line(), true);
    }
    if !overrides.entry_points.is_empty() {
        entry_points.extend(overrides.entry_points.iter().cloned());
        note("entry-points", command_line(), true);
    }
    if overrides.output_format.is_some() {
        output_format = overrides.output_format;
        note("output-format", command_line(), false);
    }
    let rules = rules::all()
        .iter()
        .zip(&enabled)
        .filter(|(_, on)| **on)
        .map(|(rule, _)| *rule)
        .collect();
    let mut rule_settings = RuleSettings::default();
    rule_settings.safe_bases.extend(safe_bases);
    rule_settings.entry_points.extend(entry_points);
    Ok(Settings {
        file: file.path.clone(),
        rules,
        exclude: Excludes {
            matchers: std::iter::once(exclude).chain(extend_exclude).collect(),
        },
        per_file_ignores,
        src,
        rule_settings,
        output_format: output_format.unwrap_or(OutputFormat::Text),
        max_file_size,
        python_minor,
        origins,
        cache_dir,
    })
}

impl Settings {
    /// Whether a finding of rule `code` in `path` is reported: the rule is on and no
    /// `per-file-ignores` entry turns it off for the file.
    pub fn reports(&self, path: &Path, code: &str) -> bool {
        self.rules.iter().any(|r| r.meta().code == code)
            && !self.per_file_ignores.ignores(path, code)
    }

    /// Everything in these settings that shapes a run's findings (for the run cache's key): not
    /// the exclusions (the checked files are in the key) nor the output format.
    fn identity(&self) -> String {
        let rules: Vec<&str> = self.rules.iter().map(|r| r.meta().code).collect();
        let ignores = self.per_file_ignores.identity();
        format!(
            "file {:?}|rules {rules:?}|ignores {ignores:?}|src {:?}|{:?}|max size {:?}|python {:?}",
            self.file, self.src, self.rule_settings, self.max_file_size, self.python_minor
        )
    }

    /// The resolved settings and where each came from, as TOML (`--show-settings`).
    pub fn describe(&self) -> String {
        let mut out = format!(
            "# settings file: {}\n",
            self.file.as_ref().map_or_else(
                || "none (defaults)".to_string(),
                |p| p.display().to_string()
            )
        );
        let list = |items: Vec<String>| {
            let quoted: Vec<String> = items.iter().map(|i| format!("{i:?}")).collect();
            format!("[{}]", quoted.join(", "))
        };
        let codes = self
            .rules
            .iter()
            .map(|r| r.meta().code.to_string())
            .collect();
        let per_file = self.per_file_ignores.describe();
        let rows: Vec<(&str, &[&str], String)> = vec![
            ("rules", &["select", "extend-select", "ignore"], list(codes)),
            (
                "exclude",
                &["exclude", "extend-exclude"],
                list(
                    self.exclude
                        .globs()
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                ),
            ),
            ("per-file-ignores", &["per-file-ignores"], list(per_file)),
            (
                "src",
                &["src"],
                list(self.src.iter().map(|p| p.display().to_string()).collect()),
            ),
            (
                "entry-points",
                &["entry-points"],
                list(self.rule_settings.entry_points.clone()),
            ),
            (
                "safe-bases",
                &["safe-bases"],
                list(self.rule_settings.safe_bases.clone()),
            ),
            (
                "output-format",
                &["output-format"],
                format!("{:?}", format!("{:?}", self.output_format).to_lowercase()),
            ),
            (
                "target-version",
                &["target-version"],
                self.python_minor
                    .map_or_else(|| "\"unknown\"".to_string(), |m| format!("\"py3{m}\"")),
            ),
            (
                "max-file-size",
                &["max-file-size"],
                self.max_file_size
                    .unwrap_or(crate::source::DEFAULT_MAX_FILE_SIZE)
                    .to_string(),
            ),
        ];
        for (name, keys, value) in rows {
            let mut from: Vec<String> = keys
                .iter()
                .flat_map(|k| self.origins.get(k).into_iter().flatten())
                .cloned()
                .collect();
            from.dedup();
            if from.is_empty() {
                from.push("default".into());
            }
            out.push_str(&format!("{name} = {value}  # from {}\n", from.join(", ")));
        }
        out
    }
}

/// Module names are found by stripping a root from a file's path as discovered, which is
/// absolute, relative to the working directory, or `./`-relative when walking `.`; a root is
/// given in each spelling so that one of them matches.
fn root_spellings(root: &Path, cwd: &Path) -> Vec<PathBuf> {
    let mut spellings = vec![root.to_path_buf()];
    if let Ok(relative) = root.strip_prefix(cwd) {
        spellings.push(relative.to_path_buf());
        spellings.push(Path::new(".").join(relative));
    }
    spellings
}

/// `path` made absolute (against the working directory) with `.` and `..` removed, without
/// touching the file system (symbolic links are kept as written).
pub fn absolute(path: &Path) -> PathBuf {
    let joined = if path.is_absolute() {
        path.to_path_buf()
    } else {
        std::env::current_dir()
            .map(|cwd| cwd.join(without_leading_dot(path)))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    normalize(&joined)
}

/// `path` without its leading `./`: the walk of `.` yields `./`-prefixed paths, and joined with
/// that prefix off they are normal already, so [`normalize`] returns them as they are.
fn without_leading_dot(path: &Path) -> &Path {
    path.strip_prefix(".").unwrap_or(path)
}

fn normalize(path: &Path) -> PathBuf {
    // Most paths (every path the walk yields under an absolute root) are normal already; seeing
    // that costs one scan of the bytes instead of a path rebuilt component by component.
    if is_normal(path) {
        return path.to_path_buf();
    }
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other),
        }
    }
    out
}

/// Whether rebuilding `path` from its components, as [`normalize`] does, gives it back unchanged:
/// no `.` or `..` component, no empty one (a doubled or trailing `/`) but the root's.
fn is_normal(path: &Path) -> bool {
    if !cfg!(unix) {
        return false;
    }
    let bytes = path.as_os_str().as_encoded_bytes();
    if bytes == b"/" {
        return true;
    }
    let relative = bytes.strip_prefix(b"/").unwrap_or(bytes);
    relative
        .split(|&b| b == b'/')
        .all(|part| !part.is_empty() && part != b"." && part != b"..")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_under_dot_is_made_absolute_as_without_the_dot() {
        for text in ["./a/b.py", "././a", ".", "./", "./../a", "a/./b"] {
            let path = Path::new(text);
            assert_eq!(
                absolute(path),
                normalize(&std::env::current_dir().unwrap().join(path)),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_path_seen_as_normal_is_what_normalizing_it_gives() {
        for text in [
            "",
            "/",
            "//",
            "/a",
            "a",
            "a/b",
            "/a/b",
            "a/",
            "/a/",
            "a//b",
            "./a",
            "a/.",
            "a/./b",
            "../a",
            "a/..",
            "a/../b",
            "/..",
            "/.",
            ".",
            "..",
            "a.b/.c/..d",
            "/a/b.py",
        ] {
            let path = Path::new(text);
            if is_normal(path) {
                let mut slow = PathBuf::new();
                for component in path.components() {
                    match component {
                        Component::CurDir | Component::ParentDir => panic!("{text:?}"),
                        other => slow.push(other),
                    }
                }
                assert_eq!(
                    slow.as_os_str().as_encoded_bytes(),
                    path.as_os_str().as_encoded_bytes(),
                    "{text:?}"
                );
            }
        }
        assert!(is_normal(Path::new("/work/a.b/c.py")));
        assert!(!is_normal(Path::new("/work//c.py")));
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn every_known_key_is_accepted_and_no_other() {
        for key in KNOWN_KEYS {
            let text = format!("{key} = true\n");
            let error = toml::from_str::<Options>(&text).unwrap_err();
            assert!(
                !error.message().contains("unknown field"),
                "{key}: {}",
                error.message()
            );
        }
        let error = toml::from_str::<Options>("nonsense = 1\n").unwrap_err();
        assert!(error.message().contains("unknown field"));
    }

    #[test]
    fn unknown_keys_are_placed_and_get_a_suggestion() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "stateleak.toml",
            "select = []\nextend_select = [\"SL101\"]\n",
        );
        let error = load(&path).unwrap_err();
        assert!(error.place.ends_with("stateleak.toml:2:1"), "{error}");
        assert!(error.message.contains("`extend_select`"), "{error}");
        assert!(
            error.message.contains("did you mean `extend-select`?"),
            "{error}"
        );
    }

    #[test]
    fn pyproject_settings_are_under_tool_stateleak() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "pyproject.toml",
            "[project]\nname = \"x\"\n\n[tool.stateleak]\nignore = [\"SL1\"]\nselct = []\n",
        );
        let error = load(&path).unwrap_err();
        assert!(error.place.ends_with("pyproject.toml:6:1"), "{error}");
        assert!(error.message.contains("did you mean `select`?"), "{error}");
    }

    #[test]
    fn pyproject_settings_made_only_by_dotted_headers_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "pyproject.toml",
            "[tool.stateleak.per-file-ignores]\n\"tests/*\" = [\"SL101\"]\n",
        );
        let file = load(&path).unwrap();
        assert_eq!(file.options.per_file_ignores.map(|m| m.len()), Some(1));
    }

    #[test]
    fn invalid_toml_is_placed() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "stateleak.toml",
            "select = [\"SL101\"\nignore = 3\n",
        );
        let error = load(&path).unwrap_err();
        assert!(error.place.contains("stateleak.toml:"), "{error}");
        assert!(error.place.split(':').count() >= 3, "{error}");
    }

    #[test]
    fn unknown_codes_are_placed_and_get_a_suggestion() {
        let dir = tempfile::tempdir().unwrap();
        let path = write(
            dir.path(),
            "stateleak.toml",
            "ignore = [\"SL101\", \"SL1O1\"]\n",
        );
        let error = load(&path).unwrap_err();
        assert!(error.place.ends_with("stateleak.toml:1:20"), "{error}");
        assert!(error.message.contains("did you mean `SL101`?"), "{error}");
    }

    #[test]
    fn the_nearest_file_wins_and_pyprojects_without_settings_are_skipped() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "stateleak.toml", "ignore = []\n");
        write(
            dir.path(),
            "pkg/pyproject.toml",
            "[project]\nname = \"stateleak-user\"\n",
        );
        write(dir.path(), "pkg/sub/a.py", "x = 1\n");
        let nearest = |path: &str| {
            let resolver = Resolver::new(None, false, Overrides::default()).unwrap();
            resolver
                .for_path(&dir.path().join(path), true)
                .unwrap()
                .file
                .clone()
        };
        assert_eq!(
            nearest("pkg/sub/a.py"),
            Some(dir.path().join("stateleak.toml"))
        );
        write(dir.path(), "pkg/.stateleak.toml", "ignore = []\n");
        assert_eq!(
            nearest("pkg/sub"),
            Some(dir.path().join("pkg/.stateleak.toml"))
        );
    }

    #[test]
    fn selection_prefers_the_most_specific_selector() {
        let all = rules::all().len();
        let mut enabled = vec![true; all];
        Selection {
            select: Some(vec![Selector::All]),
            extend_select: vec![],
            ignore: vec![Selector::Prefix("SL1".into())],
        }
        .apply(&mut enabled);
        let sl101 = rules::all()
            .iter()
            .position(|r| r.meta().code == "SL101")
            .unwrap();
        assert!(!enabled[sl101]);
        Selection {
            select: None,
            extend_select: vec![Selector::Prefix("SL101".into())],
            ignore: vec![Selector::Prefix("SL".into())],
        }
        .apply(&mut enabled);
        assert!(enabled[sl101]);
    }

    #[test]
    fn globs_match_relative_paths_and_names() {
        let matcher =
            PathMatcher::new(Path::new("/p"), &["tests/*".into(), "migrations".into()]).unwrap();
        assert!(matcher.is_match(Path::new("/p/tests/a.py")));
        assert!(matcher.is_match(Path::new("/p/app/migrations")));
        assert!(!matcher.is_match(Path::new("/p/app/a.py")));
    }

    /// One compiled set for all entries still gives each matching path the codes of exactly the
    /// entries whose globs match it.
    #[test]
    fn per_file_ignores_give_each_path_the_codes_of_its_matching_entries() {
        let entry =
            |glob: &str, code: &str| (glob.to_string(), vec![Selector::parse(code).unwrap()]);
        let mut entries: Vec<(String, Vec<Selector>)> = (0..1000)
            .map(|i| entry(&format!("other/x{i}_*.py"), "SL101"))
            .collect();
        entries.push(entry("tests/*", "SL2"));
        entries.push(entry("conftest.py", "SL301"));
        let ignores = PerFileIgnores::new(Path::new("/p"), entries).unwrap();
        assert!(ignores.ignores(Path::new("/p/tests/a.py"), "SL201"));
        assert!(!ignores.ignores(Path::new("/p/tests/a.py"), "SL101"));
        assert!(ignores.ignores(Path::new("/p/app/conftest.py"), "SL301"));
        assert!(!ignores.ignores(Path::new("/p/app/conftest.py"), "SL201"));
        assert!(ignores.ignores(Path::new("/p/other/x999_a.py"), "SL101"));
        assert!(!ignores.ignores(Path::new("/p/app/a.py"), "SL101"));
        assert!(
            PerFileIgnores::default()
                .selectors_for(Path::new("/p/a.py"))
                .is_empty()
        );
    }
}
