//! The pipeline: discover → parse and extract facts (in parallel) → link → rules → findings.

use std::collections::HashMap;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use rayon::prelude::*;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::FileFacts;
use crate::project::{LinkInput, Project};
use crate::rules::{Context, Rule, RuleSettings};
use crate::source::{self, LineIndex};
use crate::{discover, syntax};

pub struct CheckOptions {
    pub paths: Vec<PathBuf>,
    /// Worker threads; `None` for one per core.
    pub threads: Option<usize>,
    pub rules: Vec<&'static dyn Rule>,
    pub rule_settings: RuleSettings,
    pub max_file_size: u64,
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
}

impl CheckResult {
    pub fn has_internal_errors(&self) -> bool {
        self.errors.iter().any(|e| e.internal)
    }
}

/// A rayon pool whose threads have stack enough for deeply nested files.
pub fn thread_pool(threads: Option<usize>) -> rayon::ThreadPool {
    let mut builder = rayon::ThreadPoolBuilder::new().stack_size(syntax::STACK_SIZE);
    if let Some(n) = threads {
        builder = builder.num_threads(n.max(1));
    }
    builder.build().expect("the thread pool can be created")
}

pub fn check(options: &CheckOptions) -> CheckResult {
    let started = Instant::now();
    let pool = thread_pool(options.threads);
    pool.install(|| check_in_pool(options, started))
}

fn check_in_pool(options: &CheckOptions, started: Instant) -> CheckResult {
    let discovered = discover::discover(&options.paths);
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

    let outcomes: Vec<(PathBuf, Result<FileFacts, FileError>)> = discovered
        .files
        .into_par_iter()
        .map(|path| {
            let outcome = analyse_file(&path, options.max_file_size);
            (path, outcome)
        })
        .collect();

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
        .cloned()
        .collect();
    let project = Project::link(inputs, &roots);
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

    let (findings, sources) = resolve_locations(&project, diagnostics, &mut errors);
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
    }
}

/// Reads, parses and extracts one file; a panic is caught and reported against the file.
fn analyse_file(path: &Path, max_file_size: u64) -> Result<FileFacts, FileError> {
    let error = |line: Option<u32>, message: String, internal: bool| FileError {
        path: path.to_path_buf(),
        line,
        message,
        internal,
    };
    let text =
        source::read_source(path, max_file_size).map_err(|e| error(e.line, e.message, false))?;
    match catch_unwind(AssertUnwindSafe(|| syntax::extract(&text))) {
        Ok(Ok(facts)) => Ok(facts),
        Ok(Err(syntax_error)) => {
            let (line, _) = LineIndex::new(&text).line_column(&text, syntax_error.offset);
            Err(error(
                Some(line),
                format!("syntax error: {}", syntax_error.message),
                false,
            ))
        }
        Err(panic) => Err(error(
            None,
            format!(
                "internal error while analysing this file: {}",
                panic_message(&panic)
            ),
            true,
        )),
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
        findings.push(Finding {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message,
            primary,
            related,
            note: diagnostic.note,
            help: diagnostic.help,
            identity: diagnostic.identity,
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

/// Parses every file and does nothing else (the benchmark's floor). Returns files and errors.
pub fn parse_only(paths: &[PathBuf], threads: Option<usize>) -> (usize, usize) {
    let pool = thread_pool(threads);
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
