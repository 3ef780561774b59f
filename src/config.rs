//! Configuration: finding and reading settings files, checking them, and merging them with the
//! command line into the [`Settings`] of one run.
//!
//! Settings live in `[tool.stateleak]` of `pyproject.toml`, or at the top level of
//! `stateleak.toml` / `.stateleak.toml`. The file nearest to the checked paths wins (walking up
//! from each); paths and globs in it are relative to its folder. Options given on the command line
//! override the file.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::{Component, Path, PathBuf};

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
    pub cache_dir: Option<PathBuf>,
}

/// The keys of [`Options`], for suggestions when a key is misspelt.
pub const KNOWN_KEYS: &[&str] = &[
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
    "cache-dir",
];

#[derive(Deserialize)]
struct PyProject {
    tool: Option<Tool>,
}

#[derive(Deserialize)]
struct Tool {
    stateleak: Option<Options>,
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

/// A settings file that was read.
#[derive(Debug, Default)]
pub struct ConfigFile {
    pub path: Option<PathBuf>,
    pub options: Options,
    text: String,
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

/// Finds the settings file nearest to `start` (itself, when a folder, then its ancestors).
pub fn find_config_file(start: &Path) -> Result<Option<PathBuf>, ConfigError> {
    let start = absolute(start);
    let first = if start.is_dir() {
        start.as_path()
    } else {
        start.parent().unwrap_or(&start)
    };
    for dir in first.ancestors() {
        for name in CONFIG_FILE_NAMES {
            let candidate = dir.join(name);
            if !candidate.is_file() {
                continue;
            }
            if name != "pyproject.toml" || pyproject_has_settings(&candidate)? {
                return Ok(Some(candidate));
            }
        }
    }
    Ok(None)
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

/// Reads a settings file: `[tool.stateleak]` of a `pyproject.toml`, the whole of any other file.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
    let text = read(path)?;
    let is_pyproject = path.file_name().is_some_and(|n| n == "pyproject.toml");
    let options = if is_pyproject {
        toml::from_str::<PyProject>(&text)
            .map_err(|e| toml_error(path, &text, &e))?
            .tool
            .and_then(|t| t.stateleak)
            .unwrap_or_default()
    } else {
        toml::from_str::<Options>(&text).map_err(|e| toml_error(path, &text, &e))?
    };
    let file = ConfigFile {
        path: Some(path.to_path_buf()),
        options,
        text,
    };
    validate(&file)?;
    Ok(file)
}

/// Checks what the types alone do not: rule codes and globs.
fn validate(file: &ConfigFile) -> Result<(), ConfigError> {
    let options = &file.options;
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

/// Chooses the settings file for a run: `--config`, none with `--isolated`, else the nearest to
/// the checked paths. When paths have different nearest files, the first path's wins.
pub fn discover(
    paths: &[PathBuf],
    config: Option<&Path>,
    isolated: bool,
) -> Result<(ConfigFile, Vec<String>), ConfigError> {
    let mut warnings = Vec::new();
    if isolated {
        return Ok((ConfigFile::default(), warnings));
    }
    if let Some(path) = config {
        if !path.is_file() {
            let message = if path.is_dir() {
                "the configuration file given with --config is a folder"
            } else {
                "the configuration file given with --config does not exist"
            };
            return Err(ConfigError {
                place: path.display().to_string(),
                message: message.into(),
            });
        }
        return Ok((load(path)?, warnings));
    }
    let mut chosen: Option<PathBuf> = None;
    // Many paths often share a folder (pre-commit passes files): look each folder up once.
    let mut found_for_dir: HashMap<PathBuf, Option<PathBuf>> = HashMap::new();
    for path in paths {
        let dir = if path.is_dir() {
            path.clone()
        } else {
            path.parent().map(Path::to_path_buf).unwrap_or_default()
        };
        let found = match found_for_dir.get(&dir) {
            Some(found) => found.clone(),
            None => {
                let found = find_config_file(path)?;
                found_for_dir.insert(dir, found.clone());
                found
            }
        };
        match (&chosen, found) {
            (None, Some(found)) => chosen = Some(found),
            (Some(first), Some(found)) if *first != found => warnings.push(format!(
                "`{}` has its own settings in {}; using {} for the whole run",
                path.display(),
                found.display(),
                first.display()
            )),
            _ => {}
        }
    }
    match chosen {
        Some(path) => Ok((load(&path)?, warnings)),
        None => Ok((ConfigFile::default(), warnings)),
    }
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
        })
    }

    pub fn is_match(&self, path: &Path) -> bool {
        if self.set.is_empty() {
            return false;
        }
        if path.file_name().is_some_and(|name| self.set.is_match(name)) {
            return true;
        }
        let full = normalize(&self.cwd.join(path));
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
        let full = normalize(&self.cwd.join(path));
        found.extend(match full.strip_prefix(&self.base) {
            Ok(relative) => self.set.matches(relative),
            Err(_) => self.set.matches(&full),
        });
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Rule codes switched off for files matching globs (the `per-file-ignores` setting). The globs
/// are compiled once into one set, so a run costs one match per file, however many entries.
#[derive(Debug, Clone, Default)]
pub struct PerFileIgnores {
    matcher: Option<PathMatcher>,
    /// Per glob, in the matcher's order: the codes it switches off.
    selectors: Vec<Vec<Selector>>,
}

impl PerFileIgnores {
    pub fn new(base: &Path, entries: Vec<(String, Vec<Selector>)>) -> Result<Self, String> {
        if entries.is_empty() {
            return Ok(PerFileIgnores::default());
        }
        let (globs, selectors): (Vec<String>, Vec<Vec<Selector>>) = entries.into_iter().unzip();
        Ok(PerFileIgnores {
            matcher: Some(PathMatcher::new(base, &globs)?),
            selectors,
        })
    }

    pub fn is_empty(&self) -> bool {
        self.selectors.is_empty()
    }

    /// The selectors of every entry whose glob matches `path`.
    pub fn for_path(&self, path: &Path) -> Vec<&Selector> {
        let Some(matcher) = &self.matcher else {
            return Vec::new();
        };
        matcher
            .matching(path)
            .into_iter()
            .flat_map(|i| &self.selectors[i])
            .collect()
    }
}

/// Everything one run needs to know, merged from the settings file and the command line.
pub struct Settings {
    /// The settings file used, if any.
    pub file: Option<PathBuf>,
    pub rules: Vec<&'static dyn Rule>,
    pub exclude: PathMatcher,
    pub per_file_ignores: PerFileIgnores,
    /// Extra roots for module names.
    pub src: Vec<PathBuf>,
    pub rule_settings: RuleSettings,
    pub output_format: OutputFormat,
    pub max_file_size: Option<u64>,
    /// The `cache-dir` setting, relative to the settings file's folder.
    pub cache_dir: Option<PathBuf>,
}

/// Merges a settings file with the command line.
pub fn resolve(file: &ConfigFile, overrides: &Overrides) -> Result<Settings, ConfigError> {
    let options = &file.options;
    let base = file.base();
    let selectors = |list: &Option<Vec<Spanned<String>>>| -> Vec<Selector> {
        list.iter()
            .flatten()
            // Validated when the file was loaded.
            .filter_map(|s| Selector::parse(s.get_ref()).ok())
            .collect()
    };
    let from_file = Selection {
        select: options.select.as_ref().map(|_| selectors(&options.select)),
        extend_select: selectors(&options.extend_select),
        ignore: selectors(&options.ignore),
    };
    let mut enabled: Vec<bool> = rules::all()
        .iter()
        .map(|r| r.meta().enabled_by_default)
        .collect();
    from_file.apply(&mut enabled);
    overrides.selection.apply(&mut enabled);
    let rules = rules::all()
        .iter()
        .zip(&enabled)
        .filter(|(_, on)| **on)
        .map(|(rule, _)| *rule)
        .collect();

    let strings = |list: &Option<Vec<Spanned<String>>>| -> Option<Vec<String>> {
        list.as_ref()
            .map(|l| l.iter().map(|s| s.get_ref().clone()).collect())
    };
    let cwd = absolute(Path::new("."));
    // Globs from the command line are relative to the working directory, the file's to its folder.
    let (exclude_base, mut exclude) = match (&overrides.exclude, strings(&options.exclude)) {
        (Some(cli), _) => (cwd.clone(), cli.clone()),
        (None, Some(configured)) => (base.clone(), configured),
        (None, None) => (
            base.clone(),
            crate::discover::DEFAULT_EXCLUDED_DIRS
                .iter()
                .map(|s| s.to_string())
                .collect(),
        ),
    };
    exclude.extend(strings(&options.extend_exclude).unwrap_or_default());
    exclude.extend(overrides.extend_exclude.iter().cloned());
    let exclude = PathMatcher::new(&exclude_base, &exclude).map_err(|message| ConfigError {
        place: "--exclude".into(),
        message,
    })?;

    let entries = options
        .per_file_ignores
        .iter()
        .flatten()
        .map(|(pattern, codes)| {
            let selectors = codes
                .iter()
                .filter_map(|c| Selector::parse(c.get_ref()).ok())
                .collect();
            (pattern.get_ref().clone(), selectors)
        })
        .collect();
    let per_file_ignores = PerFileIgnores::new(&base, entries).map_err(|message| ConfigError {
        place: "per-file-ignores".into(),
        message,
    })?;

    let mut entry_points = options.entry_points.clone().unwrap_or_default();
    entry_points.extend(overrides.entry_points.iter().cloned());
    let mut rule_settings = RuleSettings::default();
    rule_settings
        .safe_bases
        .extend(options.safe_bases.iter().flatten().cloned());
    rule_settings.entry_points.extend(entry_points);

    Ok(Settings {
        file: file.path.clone(),
        rules,
        exclude,
        per_file_ignores,
        src: options
            .src
            .iter()
            .flatten()
            .flat_map(|p| root_spellings(&normalize(&base.join(p)), &cwd))
            .collect(),
        rule_settings,
        output_format: overrides
            .output_format
            .or(options.output_format)
            .unwrap_or(OutputFormat::Text),
        max_file_size: options.max_file_size,
        cache_dir: options.cache_dir.clone(),
    })
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
            .map(|cwd| cwd.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    };
    normalize(&joined)
}

fn normalize(path: &Path) -> PathBuf {
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

#[cfg(test)]
mod tests {
    use super::*;

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
        let found = find_config_file(&dir.path().join("pkg/sub/a.py")).unwrap();
        assert_eq!(found, Some(dir.path().join("stateleak.toml")));
        write(dir.path(), "pkg/.stateleak.toml", "ignore = []\n");
        let found = find_config_file(&dir.path().join("pkg/sub")).unwrap();
        assert_eq!(found, Some(dir.path().join("pkg/.stateleak.toml")));
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
}
