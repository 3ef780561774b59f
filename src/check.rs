//! The pipeline: discover → parse and extract facts (in parallel) → link → rules → findings.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::cache::{self, CachedOutcome, FactsCache};
use crate::config::PerFileIgnores;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::FileFacts;
use crate::progress::Progress;
use crate::project::{LinkInput, Project};
use crate::rules::{Context, Rule, RuleSettings};
use crate::source::{self, LineIndex};
use crate::suppression::{Suppressions, UnusedSuppression};
use crate::{discover, syntax};

pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    pub rules: Vec<&'static dyn Rule>,
    pub rule_settings: RuleSettings,
    pub max_file_size: u64,
    /// Decides which folders and files met while walking are skipped; `None` for the defaults.
    pub exclude: Option<discover::ExcludeFilter>,
    /// Rule codes switched off for files matching globs (the `per-file-ignores` setting).
    pub per_file_ignores: PerFileIgnores,
    /// Extra roots for module names (the `src` setting).
    pub src: Vec<PathBuf>,
    /// Collect the suppression comments that suppress nothing.
    pub report_unused_suppressions: bool,
    /// Show a progress bar on stderr when the run is long and stderr is a terminal.
    pub progress: bool,
    /// Folder of the per-file facts cache (see [`crate::cache`]); `None` parses every file.
    pub cache_dir: Option<PathBuf>,
}

impl CheckOptions {
    pub fn new(paths: Vec<PathBuf>) -> Self {
        CheckOptions {
            paths,
            threads: None,
            rules: crate::rules::all()
                .iter()
                .copied()
                .filter(|r| r.meta().enabled_by_default)
                .collect(),
            rule_settings: RuleSettings::default(),
            max_file_size: source::DEFAULT_MAX_FILE_SIZE,
            exclude: None,
            per_file_ignores: PerFileIgnores::default(),
            src: Vec::new(),
            report_unused_suppressions: false,
            progress: false,
            cache_dir: None,
        }
    }
}

/// A file, or a part of one, that could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<u32>,
    pub message: String,
    /// A bug in stateleak rather than a problem of the input.
    pub internal: bool,
}

/// A place of a finding, resolved to lines and columns (1-based; columns count characters).
#[derive(Debug, Clone)]
pub struct Location {
    pub path: PathBuf,
    pub line: u32,
    pub column: u32,
    pub end_line: u32,
    pub end_column: u32,
    /// Byte range in the decoded source, for snippets.
    pub start: u32,
    pub end: u32,
    pub message: String,
}

#[derive(Debug, Clone)]
pub struct Finding {
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub primary: Location,
    pub related: Vec<Location>,
    pub note: String,
    pub help: String,
    pub identity: Vec<String>,
    /// When the primary place runs per request: a shortest chain of calls to it from a request
    /// entry point, the entry point first. A long chain keeps only its first and last
    /// [`KEPT_PATH_STEPS`] steps; `entry_path_omitted` counts the steps left out between them.
    pub entry_path: Vec<PathStep>,
    pub entry_path_omitted: usize,
}

/// Steps kept at each end of a long request path: a chain through thousands of modules would
/// otherwise make each finding's output that long.
pub const KEPT_PATH_STEPS: usize = 4;

/// One function on the chain of calls from a request entry point to a finding.
#[derive(Debug, Clone)]
pub struct PathStep {
    /// The function's qualified name in its module (`Class.method`).
    pub function: String,
    pub path: PathBuf,
    /// Line of the function's name in its definition.
    pub line: u32,
    /// For the entry point: what kind (`Flask route`, `Celery task`, ...).
    pub entry_kind: Option<String>,
}

pub struct CheckResult {
    pub files_checked: usize,
    /// Files whose facts were extracted (the others are in `errors`).
    pub files_analysed: usize,
    pub findings: Vec<Finding>,
    pub errors: Vec<FileError>,
    /// Decoded text of the files findings point into, for rendering snippets.
    pub sources: HashMap<PathBuf, String>,
    pub elapsed: Duration,
    /// Explicit paths that do not exist.
    pub missing_paths: bool,
    /// Suppression comments that suppressed nothing (only when asked for).
    pub unused_suppressions: Vec<UnusedSuppression>,
    /// Findings dropped by `per-file-ignores` or suppression comments.
    pub suppressed: usize,
    /// Things the user should know that are not about one file (printed on standard error).
    pub warnings: Vec<String>,
}

impl CheckResult {
    pub fn has_internal_errors(&self) -> bool {
        self.errors.iter().any(|e| e.internal)
    }
}

/// A rayon pool whose threads have stack enough for deeply nested files, and a warning when it has
/// fewer threads than asked for. Where memory or process limits (`ulimit -v`, `ulimit -u`) forbid
/// that many threads, fewer are started; the stack is never made smaller, since the nesting limits
/// rely on it.
pub fn thread_pool(threads: Option<usize>) -> Result<(rayon::ThreadPool, Option<String>), String> {
    let wanted = threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
        .max(1);
    let count = startable_threads(wanted);
    let pool = rayon::ThreadPoolBuilder::new()
        .stack_size(syntax::STACK_SIZE)
        .num_threads(count.max(1))
        .build()
        .map_err(|error| {
            format!(
                "cannot start a worker thread with a {} MiB stack ({error}); raise the memory \
                 limit (`ulimit -v`) or the process limit (`ulimit -u`)",
                syntax::STACK_SIZE >> 20
            )
        })?;
    let warning = (count < wanted).then(|| {
        format!(
            "could start only {count} of {wanted} worker threads (each needs a {} MiB stack); \
             raise the memory or process limit for a faster run",
            syntax::STACK_SIZE >> 20
        )
    });
    Ok((pool, warning))
}

/// How many of `wanted` threads with parse-sized stacks can run at once, found by starting them
/// (and halving on failure). The probes end before this returns, so their stacks are free again;
/// a failed `rayon` build would instead leave its started threads holding theirs for a while.
fn startable_threads(wanted: usize) -> usize {
    let mut count = wanted;
    while count > 1 {
        let mut probes = Vec::with_capacity(count);
        for _ in 0..count {
            let (stop, wait) = std::sync::mpsc::channel::<()>();
            let spawned = std::thread::Builder::new()
                .stack_size(syntax::STACK_SIZE)
                .spawn(move || {
                    let _ = wait.recv();
                });
            match spawned {
                Ok(handle) => probes.push((stop, handle)),
                Err(_) => break,
            }
        }
        let all_started = probes.len() == count;
        for (stop, handle) in probes {
            drop(stop);
            let _ = handle.join();
        }
        if all_started {
            return count;
        }
        count /= 2;
    }
    1
}

pub fn check(options: &CheckOptions) -> CheckResult {
    let started = Instant::now();
    match thread_pool(options.threads) {
        Ok((pool, warning)) => {
            let mut result = pool.install(|| check_in_pool(options, started));
            result.warnings.extend(warning);
            result
        }
        Err(message) => CheckResult {
            files_checked: 0,
            files_analysed: 0,
            findings: Vec::new(),
            errors: vec![FileError {
                path: options.paths.first().cloned().unwrap_or_default(),
                line: None,
                message,
                internal: true,
            }],
            sources: HashMap::new(),
            elapsed: started.elapsed(),
            missing_paths: false,
            unused_suppressions: Vec::new(),
            suppressed: 0,
            warnings: Vec::new(),
        },
    }
}

fn check_in_pool(options: &CheckOptions, started: Instant) -> CheckResult {
    // The cache file is read while the tree is walked.
    let (discovered, cache) = rayon::join(
        || match &options.exclude {
            Some(exclude) => discover::discover_excluding(&options.paths, Arc::clone(exclude)),
            None => discover::discover(&options.paths),
        },
        || options.cache_dir.as_deref().map(FactsCache::open),
    );
    let missing_paths = options
        .paths
        .iter()
        .any(|p| std::fs::symlink_metadata(p).is_err());
    let mut errors: Vec<FileError> = discovered
        .errors
        .into_iter()
        .map(|e| FileError {
            path: e.path,
            line: None,
            message: e.message,
            internal: false,
        })
        .collect();

    let progress = Progress::new(options.progress, discovered.files.len(), "analysing");
    let analysed: Vec<(PathBuf, Result<FileFacts, FileError>, Option<cache::Record>)> = discovered
        .files
        .into_par_iter()
        .map(|path| {
            let (outcome, record) = analyse_file(&path, options.max_file_size, cache.as_ref());
            progress.tick();
            (path, outcome, record)
        })
        .collect();
    progress.finish();
    let mut cache_records = Vec::with_capacity(analysed.len());
    let outcomes: Vec<(PathBuf, Result<FileFacts, FileError>)> = analysed
        .into_iter()
        .map(|(path, outcome, record)| {
            cache_records.extend(record);
            (path, outcome)
        })
        .collect();
    if let Some(cache) = cache {
        cache.save(cache_records);
    }

    let files_checked = outcomes.len();
    let mut inputs = Vec::with_capacity(outcomes.len());
    for (path, outcome) in outcomes {
        match outcome {
            Ok(facts) => {
                if !facts.truncated.is_empty() {
                    errors.extend(truncation_errors(&path, &facts));
                }
                inputs.push(LinkInput { path, facts });
            }
            Err(error) => errors.push(error),
        }
    }

    let files_analysed = inputs.len();
    let roots: Vec<PathBuf> = options
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .chain(&options.src)
        .cloned()
        .collect();
    // The link and the rules run on facts that may come from the cache: a panic there (a bug, or
    // facts no extraction could produce) is an internal error of the run, not a crash.
    let reported = catch_unwind(AssertUnwindSafe(|| {
        link_and_report(options, inputs, &roots, &mut errors)
    }))
    .unwrap_or_else(|panic| {
        errors.push(FileError {
            path: options.paths.first().cloned().unwrap_or_default(),
            line: None,
            message: format!(
                "internal error while linking the project: {}",
                panic_message(&panic)
            ),
            internal: true,
        });
        Reported::default()
    });
    let Reported {
        findings,
        sources,
        suppressed,
        unused_suppressions,
    } = reported;
    errors.sort();
    errors.dedup();
    CheckResult {
        files_checked,
        files_analysed,
        findings,
        errors,
        sources,
        elapsed: started.elapsed(),
        missing_paths,
        unused_suppressions,
        suppressed,
        warnings: Vec::new(),
    }
}

/// What the link, the rules and the filters give for one run.
#[derive(Default)]
struct Reported {
    findings: Vec<Finding>,
    sources: HashMap<PathBuf, String>,
    suppressed: usize,
    unused_suppressions: Vec<UnusedSuppression>,
}

/// Links the project, runs the rules (a panicking rule becomes an internal error), places the
/// findings and filters them by per-file ignores and suppression comments.
fn link_and_report(
    options: &CheckOptions,
    inputs: Vec<LinkInput>,
    roots: &[PathBuf],
    errors: &mut Vec<FileError>,
) -> Reported {
    let project =
        Project::link_with_entry_points(inputs, roots, &options.rule_settings.entry_points);
    let context = Context {
        project: &project,
        settings: &options.rule_settings,
    };
    let per_rule: Vec<Result<Vec<Diagnostic>, String>> = options
        .rules
        .par_iter()
        .map(|rule| {
            catch_unwind(AssertUnwindSafe(|| rule.check(&context))).map_err(|panic| {
                format!(
                    "internal error in rule {}: {}",
                    rule.meta().code,
                    panic_message(&panic)
                )
            })
        })
        .collect();
    let mut diagnostics = Vec::new();
    for result in per_rule {
        match result {
            Ok(found) => diagnostics.extend(found),
            Err(message) => errors.push(FileError {
                path: options.paths.first().cloned().unwrap_or_default(),
                line: None,
                message,
                internal: true,
            }),
        }
    }

    let (findings, sources) = resolve_locations(&project, diagnostics, errors);
    // After the rules: per-file ignores, then suppression comments.
    let before = findings.len();
    let findings = without_per_file_ignores(findings, &options.per_file_ignores);
    let mut suppressions = Suppressions::new(
        project
            .files
            .iter()
            .map(|f| (f.path.as_path(), f.facts.suppressions.as_slice())),
    );
    let findings = suppressions.filter(findings);
    let suppressed = before - findings.len();
    let unused_suppressions = if options.report_unused_suppressions {
        let enabled: Vec<&str> = options.rules.iter().map(|r| r.meta().code).collect();
        suppressions.unused(&enabled)
    } else {
        Vec::new()
    };
    Reported {
        findings,
        sources,
        suppressed,
        unused_suppressions,
    }
}

fn without_per_file_ignores(findings: Vec<Finding>, ignores: &PerFileIgnores) -> Vec<Finding> {
    if ignores.is_empty() {
        return findings;
    }
    // Many findings share a file: match each file's path once.
    let mut by_path: HashMap<PathBuf, Vec<&crate::config::Selector>> = HashMap::new();
    findings
        .into_iter()
        .filter(|finding| {
            let path = &finding.primary.path;
            if !by_path.contains_key(path) {
                by_path.insert(path.clone(), ignores.for_path(path));
            }
            !by_path[path].iter().any(|s| s.matches(finding.code))
        })
        .collect()
}

/// Reads one file and takes its facts from the cache, or else parses and extracts them (and
/// returns the cache record to write). A panic is caught and reported against the file.
fn analyse_file(
    path: &Path,
    max_file_size: u64,
    cache: Option<&FactsCache>,
) -> (Result<FileFacts, FileError>, Option<cache::Record>) {
    let error = |line: Option<u32>, message: String, internal: bool| FileError {
        path: path.to_path_buf(),
        line,
        message,
        internal,
    };
    let text = match source::read_source(path, max_file_size) {
        Ok(text) => text,
        Err(e) => return (Err(error(e.line, e.message, false)), None),
    };
    let hash = cache.map(|_| cache::text_hash(&text));
    if let (Some(cache), Some(hash)) = (cache, hash)
        && let Some((outcome, record)) = cache.get(hash)
    {
        return (outcome_result(outcome, path), Some(record));
    }
    let outcome = match catch_unwind(AssertUnwindSafe(|| {
        panic_if_test_hook_names(path);
        syntax::extract(&text)
    })) {
        Ok(Ok(mut facts)) => {
            facts.shrink_to_fit();
            CachedOutcome::Facts(Box::new(facts))
        }
        Ok(Err(syntax_error)) => CachedOutcome::SyntaxError {
            line: LineIndex::new(&text)
                .line_column(&text, syntax_error.offset)
                .0,
            message: syntax_error.message,
        },
        Err(panic) => {
            let message = format!(
                "internal error while analysing this file: {}",
                panic_message(&panic)
            );
            return (Err(error(None, message, true)), None);
        }
    };
    let record = hash.and_then(|hash| FactsCache::record(hash, &outcome));
    (outcome_result(outcome, path), record)
}

/// Test hook: while the environment variable `STATELEAK_TEST_PANIC_IN` holds a file name, analysing
/// a file of that name panics (unless its facts come from the cache), so that tests can show a panic
/// is reported as an internal error naming the file and the run goes on. Never set it otherwise.
pub const TEST_PANIC_VARIABLE: &str = "STATELEAK_TEST_PANIC_IN";

fn panic_if_test_hook_names(path: &Path) {
    static NAME: std::sync::OnceLock<Option<std::ffi::OsString>> = std::sync::OnceLock::new();
    let name = NAME.get_or_init(|| std::env::var_os(TEST_PANIC_VARIABLE));
    if name.is_some() && path.file_name() == name.as_deref() {
        panic!("test hook {TEST_PANIC_VARIABLE} names this file");
    }
}

fn outcome_result(outcome: CachedOutcome, path: &Path) -> Result<FileFacts, FileError> {
    match outcome {
        CachedOutcome::Facts(facts) => Ok(*facts),
        CachedOutcome::SyntaxError { line, message } => Err(FileError {
            path: path.to_path_buf(),
            line: Some(line),
            message,
            internal: false,
        }),
    }
}

fn truncation_errors(path: &Path, facts: &FileFacts) -> Vec<FileError> {
    let Ok(text) = source::read_source(path, u64::MAX) else {
        return Vec::new();
    };
    let index = LineIndex::new(&text);
    facts
        .truncated
        .iter()
        .map(|(span, reason)| FileError {
            path: path.to_path_buf(),
            line: Some(index.line_column(&text, span.start).0),
            message: reason.to_string(),
            internal: false,
        })
        .collect()
}

pub fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Turns byte spans into lines and columns, reading again only the files findings point into, and
/// sorts the findings by path, line, column and code.
fn resolve_locations(
    project: &Project,
    diagnostics: Vec<Diagnostic>,
    errors: &mut Vec<FileError>,
) -> (Vec<Finding>, HashMap<PathBuf, String>) {
    let mut sources: HashMap<PathBuf, String> = HashMap::new();
    let mut indexes: HashMap<PathBuf, LineIndex> = HashMap::new();
    let mut findings = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        let mut locate = |label: &Label| -> Option<Location> {
            let path = project.path(label.file).to_path_buf();
            if !sources.contains_key(&path) {
                match source::read_source(&path, u64::MAX) {
                    Ok(text) => {
                        indexes.insert(path.clone(), LineIndex::new(&text));
                        sources.insert(path.clone(), text);
                    }
                    Err(e) => {
                        errors.push(FileError {
                            path: path.clone(),
                            line: None,
                            message: format!("changed while being analysed: {}", e.message),
                            internal: false,
                        });
                        return None;
                    }
                }
            }
            let text = &sources[&path];
            let index = &indexes[&path];
            let (line, column) = index.line_column(text, label.span.start);
            let (end_line, end_column) = index.line_column(text, label.span.end);
            Some(Location {
                path,
                line,
                column,
                end_line,
                end_column,
                start: label.span.start,
                end: label.span.end,
                message: label.message.clone(),
            })
        };
        let Some(primary) = locate(&diagnostic.primary) else {
            continue;
        };
        let related = diagnostic.related.iter().filter_map(&mut locate).collect();
        let (entry_path, entry_path_omitted) =
            entry_path(project, &diagnostic.primary, &mut locate);
        findings.push(Finding {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message,
            primary,
            related,
            note: diagnostic.note,
            help: diagnostic.help,
            identity: diagnostic.identity,
            entry_path,
            entry_path_omitted,
        });
    }
    findings.sort_by(|a, b| {
        (
            &a.primary.path,
            a.primary.line,
            a.primary.column,
            a.code,
            &a.message,
        )
            .cmp(&(
                &b.primary.path,
                b.primary.line,
                b.primary.column,
                b.code,
                &b.message,
            ))
    });
    (findings, sources)
}

/// The chain of calls from a request entry point to the function that contains `primary` (its
/// ends when long), and how many steps were left out of its middle.
fn entry_path(
    project: &Project,
    primary: &Label,
    locate: &mut impl FnMut(&Label) -> Option<Location>,
) -> (Vec<PathStep>, usize) {
    let Some(function) = project.function_at(primary.file, primary.span.start) else {
        return (Vec::new(), 0);
    };
    let Some(chain) = project.request_path(primary.file, function) else {
        return (Vec::new(), 0);
    };
    let omitted = chain.len().saturating_sub(2 * KEPT_PATH_STEPS);
    let kept = chain
        .iter()
        .enumerate()
        .filter(|(i, _)| *i < KEPT_PATH_STEPS || *i >= KEPT_PATH_STEPS + omitted);
    let graph = project.call_graph();
    let steps = kept
        .filter_map(|(i, id)| {
            let (file, facts) = project.function(*id);
            let location = locate(&Label {
                file,
                span: facts.span,
                message: String::new(),
            })?;
            Some(PathStep {
                function: facts.qualname.to_string(),
                path: location.path,
                line: location.line,
                entry_kind: (i == 0)
                    .then(|| graph.entry_kind(*id).map(str::to_string))
                    .flatten(),
            })
        })
        .collect();
    (steps, omitted)
}

/// Parses every file and does nothing else (the benchmark's floor). Returns files and errors.
pub fn parse_only(paths: &[PathBuf], threads: Option<usize>) -> (usize, usize) {
    let pool = match thread_pool(threads) {
        Ok((pool, _)) => pool,
        Err(_) => return (0, 0),
    };
    pool.install(|| {
        let files = discover::discover(paths).files;
        let failed = files
            .par_iter()
            .filter(
                |path| match source::read_source(path, source::DEFAULT_MAX_FILE_SIZE) {
                    Ok(text) => syntax::parse_only(&text).is_err(),
                    Err(_) => true,
                },
            )
            .count();
        (files.len(), failed)
    })
}
