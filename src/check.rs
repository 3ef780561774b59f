//! The pipeline: discover → parse and extract facts (in parallel) → link → rules → findings.

use std::collections::{HashMap, HashSet};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::allocator;
use crate::cache::{self, CachedOutcome, FactsCache, FactsDigest, TextHash};
use crate::config::PerFileIgnores;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::FileFacts;
use crate::fix::Fix;
use crate::link_cache::{self, LinkKey};
pub use crate::memory::FactsMemory;
use crate::memory::{Extracted, FileStamp};
use crate::model::Model;
use crate::progress::Progress;
use crate::project::callgraph::Previous;
use crate::project::{
    FileId, Keep, KeptValues, LinkInput, MentionCounts, Project, values_signature, values_stay,
};
use crate::rules::{Context, Rule, RuleSettings};
use crate::run_cache::{self, KnownText, RunKey};
use crate::source::{self, LineIndex};
use crate::suppression::{Suppressions, UnusedSuppression};
use crate::text_stamps::{self, Stamp, Stamps};
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
    /// With `memory`, give it only while the memory is empty: the file written keeps only the
    /// entries this run found or parsed, and facts found in memory are neither.
    pub cache_dir: Option<PathBuf>,
    /// Text of files to use instead of the disk (unsaved editor buffers, standard input), by the
    /// path as discovery spells it. A path that does not exist on disk is analysed when it is one
    /// of `paths` or lies in one of the folders of `paths`.
    pub overlays: HashMap<PathBuf, String>,
    /// Facts kept in memory across runs of a long-lived process; `None` for a one-off run.
    pub memory: Option<Arc<FactsMemory>>,
    /// Report only findings whose primary place, or the definition of whose shared object (the
    /// first `related` label), lies in one of these files, and only these files' errors; `None`
    /// for all. Paths are compared made absolute ([`crate::config::absolute`]).
    pub report_only: Option<Vec<PathBuf>>,
    /// Compute the fixes of the findings that have one, for code of this Python (see `--fix`).
    pub fixes: Option<syntax::fix::Target>,
    /// Settings that differ from folder to folder; when set, they choose the rules (instead of
    /// `rules`) and which findings each file reports.
    pub folder_settings: Option<Arc<dyn FolderSettings>>,
}

/// The settings that apply to a whole run.
pub struct RunSettings {
    pub rules: Vec<&'static dyn Rule>,
    pub src: Vec<PathBuf>,
    pub rule_settings: RuleSettings,
}

/// Settings that differ from folder to folder (each file uses its nearest settings file).
pub trait FolderSettings: Send + Sync {
    /// What the settings of these files say about the whole run: every rule some file's settings
    /// enable, and all their module roots, entry points and safe bases.
    fn for_files(&self, files: &[PathBuf]) -> RunSettings;
    /// Whether a finding of rule `code` whose primary place is in `path` is reported.
    fn reports(&self, path: &Path, code: &str) -> bool;
    /// A hash of everything in the settings of these files that shapes the findings, and of
    /// which file uses which settings (the run cache's key).
    fn fingerprint(&self, files: &[PathBuf]) -> u64;
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
            overlays: HashMap::new(),
            memory: None,
            report_only: None,
            fixes: None,
            folder_settings: None,
        }
    }
}

/// A file, or a part of one, that could not be analysed.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct FileError {
    pub path: PathBuf,
    pub line: Option<u32>,
    pub message: String,
    /// A bug in stateleak rather than a problem of the input.
    pub internal: bool,
}

/// A place of a finding, resolved to lines and columns (1-based; columns count characters).
#[derive(Debug, Clone, Serialize, Deserialize)]
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

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Finding {
    #[serde(deserialize_with = "run_cache::rule_code")]
    pub code: KnownText,
    pub severity: Severity,
    pub message: String,
    pub primary: Location,
    pub related: Vec<Location>,
    pub note: String,
    pub help: String,
    pub identity: Vec<String>,
    /// The import path of the shared object the finding is about (`app.store._prefs`), when the
    /// model knows it.
    pub object: Option<String>,
    /// How the shared object reaches the change, step by step (for `--explain`): each flow's
    /// place, with what the object flows into.
    pub flow: Vec<Location>,
    /// Why the model counts the change as per call, at import time or once (for `--explain`).
    #[serde(deserialize_with = "run_cache::timing_reason")]
    pub timing: Option<KnownText>,
    /// When the primary place runs per request: a shortest chain of calls to it from a request
    /// entry point, the entry point first. A long chain keeps only its first and last
    /// [`KEPT_PATH_STEPS`] steps; `entry_path_omitted` counts the steps left out between them.
    pub entry_path: Vec<PathStep>,
    /// A mechanical repair, when there is one (computed only when `CheckOptions::fixes` asks).
    pub fix: Option<crate::fix::Fix>,
    /// The codes of the findings told with this one (same line, same shared object): a
    /// suppression written for this finding names them too, or they would surface in its place.
    #[serde(deserialize_with = "run_cache::rule_codes")]
    pub told_with: Vec<KnownText>,
    /// What `note` says of each finding told with this one (`the same change is also SL402's
    /// finding: ...`), in `told_with`'s order: a group repeats them for this member.
    pub told_clauses: Vec<String>,
    pub entry_path_omitted: usize,
    /// When this finding stands for several findings of its rule at the same change expression
    /// (see [`crate::report::group`]): those findings, in report order; empty otherwise. Made at
    /// the report boundary, never stored.
    #[serde(skip)]
    pub members: Vec<Finding>,
}

/// Steps kept at each end of a long request path: a chain through thousands of modules would
/// otherwise make each finding's output that long.
pub const KEPT_PATH_STEPS: usize = 4;

/// One function on the chain of calls from a request entry point to a finding.
#[derive(Debug, Clone, Serialize, Deserialize)]
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
    /// Files whose facts came from the cache (all of them when the result was replayed).
    pub cache_hits: usize,
    /// How long each stage took, in order.
    pub stage_times: Vec<(&'static str, Duration)>,
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
            cache_hits: 0,
            stage_times: Vec::new(),
            warnings: Vec::new(),
        },
    }
}

/// The linked project of the files `options` name, with what could not be read and what the run
/// measured so far.
pub struct Loaded {
    pub project: Project,
    pub errors: Vec<FileError>,
    pub files_checked: usize,
    /// Files whose facts were extracted (the others are in `errors`).
    pub files_analysed: usize,
    /// Explicit paths that do not exist.
    pub missing_paths: bool,
    /// The settings of the whole run (each folder's rules, roots and entry points together).
    pub run: RunSettings,
    pub cache_hits: usize,
    pub stage_times: Vec<(&'static str, Duration)>,
    /// A file's text differed from what it hashed to before the run read it: the result must not
    /// be stored under the earlier hashes.
    pub changed_while_read: bool,
    /// What the link learnt of the values of names, when kept for the next link ([`recheck`], or
    /// the next run through the cache).
    values: Option<KeptValues>,
    /// The key to store the link under in the cache ([`link_cache`]), when the run should.
    link_to_store: Option<LinkKey>,
    /// How many files mention each identifier, to store with the link.
    mentions: Option<MentionCounts>,
    /// The digest of each text's entry in the facts cache, when the run wrote or kept one.
    facts_digests: HashMap<TextHash, FactsDigest>,
}

/// Discovers, reads and links the files `options` name, without running the rules (`stateleak
/// graph`).
pub fn load(options: &CheckOptions) -> Loaded {
    let started = Instant::now();
    match thread_pool(options.threads) {
        Ok((pool, _)) => pool.install(|| load_in_pool(options, started, false)),
        Err(message) => Loaded {
            values: None,
            link_to_store: None,
            mentions: None,
            facts_digests: HashMap::new(),
            project: Project::link_with_entry_points(Vec::new(), &[], &[]),
            errors: vec![FileError {
                path: options.paths.first().cloned().unwrap_or_default(),
                line: None,
                message,
                internal: true,
            }],
            files_checked: 0,
            files_analysed: 0,
            missing_paths: false,
            run: RunSettings {
                rules: Vec::new(),
                src: Vec::new(),
                rule_settings: options.rule_settings.clone(),
            },
            cache_hits: 0,
            stage_times: Vec::new(),
            changed_while_read: false,
        },
    }
}

/// The files a run checks, and what discovery could not read.
struct Found {
    files: Vec<PathBuf>,
    errors: Vec<FileError>,
    /// Explicit paths that do not exist.
    missing_paths: bool,
}

fn find_files(options: &CheckOptions) -> Found {
    // Overlaid paths need not exist on disk: they are not walked but added after the walk.
    let walked: Vec<PathBuf> = options
        .paths
        .iter()
        .filter(|p| !options.overlays.contains_key(*p))
        .cloned()
        .collect();
    let mut discovered = match &options.exclude {
        Some(exclude) => discover::discover_excluding(&walked, Arc::clone(exclude)),
        None => discover::discover(&walked),
    };
    let unsaved = options.overlays.keys().filter(|path| {
        options.paths.contains(path)
            || (!path.exists() && walked.iter().any(|dir| path.starts_with(dir)))
    });
    discovered.files.extend(unsaved.cloned());
    discovered.files.sort();
    discovered.files.dedup();
    let errors = discovered
        .errors
        .into_iter()
        .map(|e| FileError {
            path: e.path,
            line: None,
            message: e.message,
            internal: false,
        })
        .collect();
    Found {
        files: discovered.files,
        errors,
        missing_paths: walked.iter().any(|p| std::fs::symlink_metadata(p).is_err()),
    }
}

/// Finds, reads and links the files; `keep_values` keeps what the link learnt of the values of
/// names, with what updating them after an edit needs (for [`recheck`]).
fn load_in_pool(options: &CheckOptions, started: Instant, keep_values: bool) -> Loaded {
    // The cache file is read while the tree is walked.
    let (found, cache) = rayon::join(
        || find_files(options),
        || options.cache_dir.as_deref().map(FactsCache::open),
    );
    load_found(options, found, cache, None, None, started, keep_values)
}

/// Reads, extracts and links the files found. `known_hashes` are the hashes of the files' texts
/// (in order) when they were hashed already: a file whose facts the cache holds under its hash is
/// not read again. With `link_dir` and those hashes, the link starts from the one stored there
/// when that is valid for these files ([`link_cache`]), and is stored for the next run.
fn load_found(
    options: &CheckOptions,
    found: Found,
    cache: Option<FactsCache>,
    known_hashes: Option<Vec<TextHash>>,
    link_dir: Option<&Path>,
    started: Instant,
    keep_values: bool,
) -> Loaded {
    let Found {
        files,
        mut errors,
        missing_paths,
    } = found;
    let mut stage_times = vec![("discover", started.elapsed())];
    allocator::note_stage("discover");
    crate::stage_marks::end_of_stage("discover");
    let mut stage_started = Instant::now();
    let mut end_stage = |name: &'static str| {
        stage_times.push((name, stage_started.elapsed()));
        allocator::note_stage(name);
        crate::stage_marks::end_of_stage(name);
        stage_started = Instant::now();
    };
    let run = match &options.folder_settings {
        Some(folders) => folders.for_files(&files),
        None => RunSettings {
            rules: options.rules.clone(),
            src: options.src.clone(),
            rule_settings: options.rule_settings.clone(),
        },
    };
    let cache_hits = AtomicUsize::new(0);
    let changed_while_read = AtomicBool::new(false);
    let progress = Progress::new(options.progress, files.len(), "analysing");
    let texts = Texts {
        overlays: &options.overlays,
        max_file_size: options.max_file_size,
    };
    let stores = FactStores {
        cache: cache.as_ref(),
        memory: options
            .memory
            .as_deref()
            .map(|memory| (memory, memory.begin_run())),
        cache_hits: &cache_hits,
        changed_while_read: &changed_while_read,
    };
    let roots = link_roots(options, &run);
    let entry_points = &run.rule_settings.entry_points;
    // The stored link is read and decoded while the files' facts are (on the thread that takes
    // it, which then joins the others), for the key of these files if every one is linked; a link
    // of other files reads it again after.
    let ahead_key = link_dir.zip(known_hashes.as_ref()).map(|(dir, hashes)| {
        let paths = files.iter().map(PathBuf::as_path);
        (
            dir,
            LinkKey::new(paths.zip(hashes.iter().copied()), &roots, entry_points),
        )
    });
    allocator::keep_freed_pages();
    let (ahead, analysed) = rayon::join(
        || ahead_key.map(|(dir, key)| (link_cache::read_ahead(dir, &key), key)),
        || {
            next_file_on_every_thread(files.len(), |i| {
                let known_hash = known_hashes.as_ref().map(|hashes| hashes[i]);
                let analysed = analyse_file(&files[i], known_hash, &texts, &stores);
                progress.tick();
                analysed
            })
        },
    );
    progress.finish();
    if let Some((memory, run)) = stores.memory {
        memory.end_run(run);
    }
    let mut cache_records = Vec::with_capacity(analysed.len());
    let outcomes: Vec<(PathBuf, Extracted)> = files
        .into_iter()
        .zip(analysed)
        .map(|(path, (outcome, record))| {
            cache_records.extend(record);
            (path, outcome)
        })
        .collect();

    let files_checked = outcomes.len();
    let mut inputs = Vec::with_capacity(outcomes.len());
    let mut input_hashes = Vec::with_capacity(outcomes.len());
    for (i, (path, outcome)) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(facts) => {
                if !facts.truncated.is_empty() {
                    errors.extend(truncation_errors(&path, &facts, &texts));
                }
                inputs.push(LinkInput { path, facts });
                input_hashes.extend(known_hashes.as_ref().map(|hashes| hashes[i]));
            }
            Err(error) => errors.push(error),
        }
    }

    end_stage("parse");
    allocator::return_freed_pages();
    let files_analysed = inputs.len();
    // The stored link is for the files' texts when their hashes were taken.
    let link_key = link_dir
        .filter(|_| known_hashes.is_some() && !changed_while_read.load(Ordering::Relaxed))
        .map(|dir| {
            let paths = inputs.iter().map(|input| input.path.as_path());
            (
                dir,
                LinkKey::new(paths.zip(input_hashes), &roots, entry_points),
            )
        });
    let stored = link_key.as_ref().and_then(|(dir, key)| match ahead {
        Some((stored, ahead_key)) if ahead_key == *key => stored,
        _ => link_cache::read(dir, key),
    });
    let nothing_changed = stored
        .as_ref()
        .is_some_and(|stored| stored.changed.is_empty());
    let (previous, mentions) = match stored {
        Some(stored) => previous_link(stored, &inputs, cache.as_ref()),
        None => (None, None),
    };
    // A stored link taken with nothing changed is not stored again; one that could not be taken
    // is replaced.
    let unchanged = nothing_changed && previous.is_some();
    let link_stage = match &previous {
        Some((_, true)) => "link, values renumbered",
        Some((_, false)) => "link, values kept",
        None => "link",
    };
    let previous = previous.map(|(previous, _)| previous);
    // The server updates its values after an edit of value flows, which needs the flow records;
    // the link cache only takes the values as they are (`PreviousValues::Same`).
    let keep = if keep_values {
        Keep::ValuesAndFlows
    } else if link_key.is_some() {
        Keep::Values
    } else {
        Keep::Nothing
    };
    let link_to_store = link_key.filter(|_| !unchanged).map(|(_, key)| key);
    // What the stored link's counts of mentions could not give is counted from every file's
    // facts while the project is linked.
    let to_count: Option<Vec<Arc<FileFacts>>> = (link_to_store.is_some() && mentions.is_none())
        .then(|| {
            inputs
                .iter()
                .map(|input| Arc::clone(&input.facts))
                .collect()
        });
    // The cache is written while the project is linked: the link leaves the second thread idle
    // for long stretches, and the records share the facts with it instead of holding encodings.
    let ((project, values), (facts_digests, mentions)) = rayon::join(
        || {
            link(
                options,
                &roots,
                entry_points,
                inputs,
                &mut errors,
                keep,
                previous,
            )
        },
        || {
            let digests = cache
                .map(|cache| cache.save(cache_records))
                .unwrap_or_default();
            let mentions = mentions.or_else(|| {
                to_count.map(|facts| MentionCounts::of(facts.par_iter().map(|facts| &**facts)))
            });
            (digests, mentions)
        },
    );
    end_stage(link_stage);
    // Its steps (their names start with `link/`), as after an edit.
    stage_times.extend(project.link_times().iter().copied());
    Loaded {
        project,
        errors,
        files_checked,
        files_analysed,
        missing_paths,
        run,
        cache_hits: cache_hits.into_inner(),
        stage_times,
        changed_while_read: changed_while_read.into_inner(),
        values,
        link_to_store,
        mentions,
        facts_digests,
    }
}

/// What a link of `inputs` may start from, of the `stored` link, and whether it renumbers it:
/// `None` unless every file whose text changed since reads the same for the values stage as
/// then, or only gained or lost definitions that nothing resolves to ([`values_stay`], asked of
/// the stored counts of mentions), as [`Previous`] asks. A changed file's facts then are found in
/// the facts `cache`, under its text hash then. Returned with it: how many files mention each
/// identifier now, when the stored counts and those facts give it.
fn previous_link(
    mut stored: link_cache::StoredLink,
    inputs: &[LinkInput],
    cache: Option<&FactsCache>,
) -> (Option<(Previous, bool)>, Option<MentionCounts>) {
    let Some(cache) = cache else {
        return (None, None);
    };
    let mut then: Vec<(FileId, Arc<FileFacts>, &FileFacts)> = Vec::new();
    for (file, hash) in &stored.changed {
        let (Some((CachedOutcome::Facts(old), _)), Some(now)) =
            (cache.get(*hash), inputs.get(*file as usize))
        else {
            return (None, None);
        };
        then.push((*file, old, &now.facts));
    }
    let files = inputs.len() as u32;
    let mentions_then = stored.mentions(files);
    let mentions_now = mentions_then.as_ref().map(|counts| {
        let replaced: Vec<(&FileFacts, &FileFacts)> =
            then.iter().map(|(_, old, now)| (&**old, *now)).collect();
        counts.replaced(&replaced)
    });
    let edits: Vec<(FileId, &FileFacts, &FileFacts, bool)> = then
        .iter()
        .map(|(file, old, now)| {
            (
                *file,
                &**old,
                *now,
                values_signature(old) == values_signature(now),
            )
        })
        .collect();
    let same = edits.iter().all(|&(.., same)| same);
    if !same
        && !mentions_then
            .as_ref()
            .is_some_and(|counts| values_stay(&edits, counts))
    {
        return (None, mentions_now);
    }
    // The stored values and graph are in the ids of the facts then.
    let count = |facts: &FileFacts| (facts.functions.len(), facts.classes.len());
    let (mut functions, mut classes) = inputs.iter().fold((0, 0), |(f, c), input| {
        let (functions, classes) = count(&input.facts);
        (f + functions, c + classes)
    });
    // A file that reads otherwise may have other definitions in the same number (an unused
    // function renamed): its facts then tell which ids it kept.
    let mut old_facts = Vec::new();
    for ((file, old, now), &(.., same)) in then.iter().zip(&edits) {
        if count(old) != count(now) || !same {
            functions = functions + count(old).0 - count(now).0;
            classes = classes + count(old).1 - count(now).1;
            old_facts.push((*file, Arc::clone(old)));
        }
    }
    let previous = stored.previous(files, functions as u32, classes as u32, old_facts);
    (previous.map(|previous| (previous, !same)), mentions_now)
}

fn check_in_pool(options: &CheckOptions, started: Instant) -> CheckResult {
    // A long-lived process keeps its facts in memory and reads the cache once: no replays there.
    let Some(dir) = options
        .cache_dir
        .as_deref()
        .filter(|_| options.memory.is_none())
    else {
        return check_loaded(
            options,
            &load_in_pool(options, started, false),
            started,
            None,
        );
    };
    let found = find_files(options);
    let texts = Texts {
        overlays: &options.overlays,
        max_file_size: options.max_file_size,
    };
    let hashes = found
        .errors
        .is_empty()
        .then(|| hash_files(&found.files, &texts, dir))
        .flatten();
    let key = hashes
        .as_deref()
        .map(|hashes| RunKey::new(options, &found.files, hashes, found.missing_paths));
    if let (Some(key), Some(hashes)) = (key, &hashes) {
        let by_path: HashMap<&Path, TextHash> = found
            .files
            .iter()
            .map(PathBuf::as_path)
            .zip(hashes.iter().copied())
            .collect();
        let read = |path: &Path| texts.read(path, u64::MAX).ok();
        if let Some(mut replayed) = run_cache::load(dir, key, &by_path, read) {
            replayed.elapsed = started.elapsed();
            replayed.stage_times = vec![("replay", replayed.elapsed)];
            return replayed;
        }
        if let Some((mut replayed, same_facts)) =
            replay_same_facts(options, dir, key, &found, hashes, &by_path, &texts)
        {
            // The next run with these texts replays it at once. The facts cache is not rewritten
            // for the few files extracted: the next run extracts them again (at most
            // `SAME_FACTS_EXTRACTIONS`), which costs less than writing every entry.
            run_cache::save(dir, key, &replayed, Some(same_facts));
            replayed.elapsed = started.elapsed();
            replayed.stage_times = vec![("replay, facts unchanged", replayed.elapsed)];
            return replayed;
        }
    }
    let same_facts_inputs = key.map(|_| (found.files.clone(), found.missing_paths));
    let mut loaded = load_found(
        options,
        found,
        Some(FactsCache::open(dir)),
        hashes.clone(),
        Some(dir),
        started,
        false,
    );
    let changed_while_read = loaded.changed_while_read;
    // The values are kept only to store the link, which nothing after reads: they are freed as
    // soon as it is written, so that they are not live beside the model and the rules (where the
    // run's resident memory peaks). The link is stored first, so that one thread frees them before
    // the model is built, and two store it while the rules run.
    let kept_values = loaded.values.take();
    let ((), (result, reach, analysis)) = rayon::join(
        || {
            if let (Some(key), Some(values), Some(mentions)) =
                (&loaded.link_to_store, kept_values, &loaded.mentions)
            {
                link_cache::save(dir, key, &loaded.project, &values, mentions);
            }
        },
        || {
            let analysis = Analysis::of(&loaded);
            let (result, reach) = check_loaded_reaching(options, &loaded, &analysis, started, None);
            (result, reach, analysis)
        },
    );
    if let (Some(key), Some(hashes), Some((files, missing_paths))) =
        (key, &hashes, same_facts_inputs)
        && !changed_while_read
    {
        let same_facts = SameFactsInputs {
            key,
            files: &files,
            hashes,
            missing_paths,
        }
        .stored(options, &loaded, &result, reach, &texts);
        run_cache::save(dir, key, &result, same_facts);
    }
    free_later((loaded, analysis));
    result
}

/// Frees `value` on a thread of its own. The project, its facts and the model take a run tens of
/// milliseconds to free, page by page, after its findings are known; the caller need not wait
/// for that (the command line prints them and exits meanwhile). When no thread can be started,
/// `value` is freed here.
fn free_later<T: Send + 'static>(value: T) {
    let _ = std::thread::Builder::new()
        .name("stateleak-free".into())
        .spawn(move || drop(value));
}

/// Files whose text changed since the stored run that a run extracts to compare their facts, to
/// see whether it can replay that run ([`replay_same_facts`]); with more, it takes the long way
/// at once.
const SAME_FACTS_EXTRACTIONS: usize = 16;

/// The result of the run stored in `key`'s slot, when it was of the same files and every file
/// whose text changed since reads the same as then (`run_cache::load_same_facts`): its facts,
/// extracted again, have the digest they had. Returns with it what to store it under again.
#[allow(clippy::too_many_arguments)]
fn replay_same_facts(
    options: &CheckOptions,
    dir: &Path,
    key: RunKey,
    found: &Found,
    hashes: &[TextHash],
    by_path: &HashMap<&Path, TextHash>,
    texts: &Texts,
) -> Option<(CheckResult, run_cache::SameFacts)> {
    // A fix is computed from the text, not the facts.
    if options.fixes.is_some() {
        return None;
    }
    // Extracted again rather than looked up: the facts cache is not even read unless the long
    // way is taken (an outcome encodes the same whether extracted now or read from it).
    let facts_now = |i: usize| {
        let path = &found.files[i];
        let text = texts.read(path, texts.max_file_size).ok()?;
        if cache::text_hash(&text) != hashes[i] {
            return None;
        }
        cache::outcome_digest(&extracted_outcome(path, &text).ok()?)
    };
    run_cache::load_same_facts(
        dir,
        key,
        key.files(options, &found.files, found.missing_paths),
        hashes,
        SAME_FACTS_EXTRACTIONS,
        facts_now,
        by_path,
        |path: &Path| texts.read(path, u64::MAX).ok(),
    )
}

/// What a run's result is stored with for a later run whose texts differ (`run_cache::SameFacts`).
struct SameFactsInputs<'a> {
    key: RunKey,
    files: &'a [PathBuf],
    hashes: &'a [TextHash],
    missing_paths: bool,
}

impl SameFactsInputs<'_> {
    /// `None` when some file has no entry in the facts cache, a text the result reached into no
    /// longer hashes as it did, or fixes were asked for (they read the text).
    fn stored(
        &self,
        options: &CheckOptions,
        loaded: &Loaded,
        result: &CheckResult,
        mut reach: TextReach,
        texts: &Texts,
    ) -> Option<run_cache::SameFacts> {
        if options.fixes.is_some() {
            return None;
        }
        let digests: Vec<FactsDigest> = self
            .hashes
            .iter()
            .map(|hash| loaded.facts_digests.get(hash).copied())
            .collect::<Option<_>>()?;
        // Truncation errors turn an offset of the facts into a line too.
        for file in &loaded.project.files {
            for (span, _) in &file.facts.truncated {
                reach
                    .entry(file.path.clone())
                    .and_modify(|r| *r = (*r).max(span.start))
                    .or_insert(span.start);
            }
        }
        let index_of: HashMap<&Path, usize> = self
            .files
            .iter()
            .enumerate()
            .map(|(i, path)| (path.as_path(), i))
            .collect();
        let mut reached = Vec::with_capacity(reach.len());
        for (path, furthest) in reach {
            let file = *index_of.get(path.as_path())?;
            let read;
            let text = match result.sources.get(&path) {
                Some(text) => text,
                None => {
                    read = texts.read(&path, u64::MAX).ok()?;
                    &read
                }
            };
            if cache::text_hash(text) != self.hashes[file] {
                return None;
            }
            reached.push(run_cache::ReachedText {
                file: file as u32,
                path,
                reach: furthest,
                layout: run_cache::text_layout(text, furthest),
            });
        }
        // In the files' order, so that the same run stores the same bytes.
        reached.sort_by_key(|r| r.file);
        Some(run_cache::SameFacts {
            files: self.key.files(options, self.files, self.missing_paths),
            texts: self.hashes.to_vec(),
            digests,
            reached,
        })
    }
}

/// The hash of each file's text, in order; `None` when a file cannot be read (the run then takes
/// the long way, which reports it).
fn hash_files(files: &[PathBuf], texts: &Texts, dir: &Path) -> Option<Vec<TextHash>> {
    // A file whose stamp is the one stored with its hash is not read ([`text_stamps`]).
    let stamps = Stamps::load(dir);
    let hashed: Vec<(TextHash, Option<Stamp>, bool)> = files
        .par_iter()
        .map(|path| {
            let stamp = Stamp::of(path)
                .filter(|stamp| stamp.size() <= texts.max_file_size)
                .filter(|_| !texts.overlays.contains_key(path));
            if let Some(hash) = stamp.and_then(|stamp| stamps.hash(path, stamp)) {
                return Some((hash, stamp, false));
            }
            let text = texts.read(path, texts.max_file_size).ok()?;
            Some((cache::text_hash(&text), stamp, true))
        })
        .collect::<Option<_>>()?;
    // Stamps are stored again when a file stamped was read, or one stored is no longer stamped.
    let stamped = hashed
        .iter()
        .filter(|(_, stamp, _)| stamp.is_some())
        .count();
    if hashed
        .iter()
        .any(|&(_, stamp, read)| read && stamp.is_some())
        || stamped != stamps.len()
    {
        let entries = files.iter().zip(&hashed);
        text_stamps::save(
            dir,
            entries.filter_map(|(path, &(hash, stamp, _))| Some((path.as_path(), stamp?, hash))),
        );
    }
    Some(hashed.into_iter().map(|(hash, ..)| hash).collect())
}

/// Links the files' facts; unless `keep` is [`Keep::Nothing`], also returns what the link learnt
/// of the values of names, for the next link of the same files ([`recheck`], the link cache).
/// `previous` is what the link may start from ([`Project::link_from`]).
fn link(
    options: &CheckOptions,
    roots: &[PathBuf],
    entry_points: &[String],
    inputs: Vec<LinkInput>,
    errors: &mut Vec<FileError>,
    keep: Keep,
    previous: Option<Previous>,
) -> (Project, Option<KeptValues>) {
    link_guarded(options, errors, || {
        if keep != Keep::Nothing {
            let (project, values) = Project::link_from(inputs, roots, entry_points, previous, keep);
            (project, Some(values))
        } else {
            (
                Project::link_with_entry_points(inputs, roots, entry_points),
                None,
            )
        }
    })
}

/// The roots for module names: the folders given on the command line and the configured source
/// roots.
fn link_roots(options: &CheckOptions, run: &RunSettings) -> Vec<PathBuf> {
    options
        .paths
        .iter()
        .filter(|p| p.is_dir())
        .chain(&run.src)
        .cloned()
        .collect()
}

/// Runs `linking`. The link and the rules run on facts that may come from the cache: a panic
/// there (a bug, or facts no extraction could produce) is an internal error of the run, not a
/// crash.
fn link_guarded(
    options: &CheckOptions,
    errors: &mut Vec<FileError>,
    linking: impl FnOnce() -> (Project, Option<KeptValues>),
) -> (Project, Option<KeptValues>) {
    catch_unwind(AssertUnwindSafe(linking)).unwrap_or_else(|panic| {
        errors.push(internal_error(options, "linking the project", &panic));
        (Project::link_with_entry_points(Vec::new(), &[], &[]), None)
    })
}

/// A run's linked project, kept by a long-lived caller (the language server) for [`recheck`].
pub struct Kept {
    loaded: Loaded,
    /// The hash of the text each overlaid file was analysed with.
    overlays: HashMap<PathBuf, TextHash>,
    /// The fixes of the last run's findings, for the next run to reuse.
    fixes: FixMemo,
    /// The run's worker threads and the `threads` option they were started for: later runs with
    /// that option reuse them rather than start (and probe for) threads again.
    pool: Arc<rayon::ThreadPool>,
    threads: Option<usize>,
    /// The link signatures of the files an edit replaced (the others are computed on their first
    /// edit), so that the next edit of a file does not compute its old signatures again.
    signatures: HashMap<FileId, Signatures>,
    /// The last run's model and rules' findings (`None` while a recheck runs).
    analysis: Option<Analysis>,
}

/// What the link, and its values stage, read of one file's facts ([`crate::project::link_signature`],
/// [`crate::project::values_signature`]); the values one is computed when first asked for.
struct Signatures {
    link: u128,
    values: Option<u128>,
}

impl Signatures {
    fn of(facts: &FileFacts) -> Self {
        Signatures {
            link: crate::project::link_signature(facts),
            values: None,
        }
    }

    fn values(&mut self, facts: &FileFacts) -> u128 {
        *self
            .values
            .get_or_insert_with(|| crate::project::values_signature(facts))
    }
}

/// Like [`check`], and keeps the linked project for [`recheck`] (`None` when the run could not
/// start its threads).
pub fn check_and_keep(options: &CheckOptions) -> (CheckResult, Option<Kept>) {
    let started = Instant::now();
    let Ok((pool, warning)) = thread_pool(options.threads) else {
        return (check(options), None);
    };
    let (mut result, loaded, fixes, analysis) = pool.install(|| {
        let loaded = load_in_pool(options, started, true);
        let mut fixes = FixMemo::default();
        let analysis = Analysis::of(&loaded);
        let (result, _) =
            check_loaded_reaching(options, &loaded, &analysis, started, Some(&mut fixes));
        (result, loaded, fixes, analysis)
    });
    let kept = Kept {
        loaded,
        overlays: overlay_hashes(options),
        fixes,
        pool: Arc::new(pool),
        threads: options.threads,
        signatures: HashMap::new(),
        analysis: Some(analysis),
    };
    result.warnings.extend(warning);
    (result, Some(kept))
}

fn overlay_hashes(options: &CheckOptions) -> HashMap<PathBuf, TextHash> {
    options
        .overlays
        .iter()
        .map(|(path, text)| (path.clone(), cache::text_hash(text)))
        .collect()
}

/// Analyses again when only the overlays changed since `kept`'s run (not the disk, not the
/// settings), with the same result as [`check`]: only the files whose overlay changed are
/// extracted (or found in `options.memory`), the workspace is neither walked nor read (only the
/// files findings point into, for their positions), and the project is linked again only when
/// the link reads something different of a changed file ([`crate::project::link_signature`]);
/// otherwise the new facts replace the old ones in the linked project. A link again starts from
/// the values of names the last link learnt when the values stage reads the same of every changed
/// file ([`crate::project::values_signature`]). The model and the rules run on the whole project,
/// unless the link is kept and the changed files' facts read the same for them
/// ([`same_for_the_rules`]): then the last run's model and findings are reused.
/// `None` when this cannot be done (an overlay was closed, a changed file is new or does not
/// parse, the kept run had an internal error): then run [`check_and_keep`].
pub fn recheck(options: &CheckOptions, kept: &mut Kept) -> Option<CheckResult> {
    let started = Instant::now();
    if kept.loaded.errors.iter().any(|e| e.internal)
        || kept
            .overlays
            .keys()
            .any(|p| !options.overlays.contains_key(p))
    {
        return None;
    }
    if kept.threads != options.threads {
        kept.pool = Arc::new(thread_pool(options.threads).ok()?.0);
        kept.threads = options.threads;
    }
    let pool = Arc::clone(&kept.pool);
    pool.install(|| recheck_in_pool(options, kept, started))
}

fn recheck_in_pool(
    options: &CheckOptions,
    kept: &mut Kept,
    started: Instant,
) -> Option<CheckResult> {
    let overlays = overlay_hashes(options);
    let changed: Vec<&PathBuf> = overlays
        .iter()
        .filter(|(path, hash)| kept.overlays.get(*path) != Some(*hash))
        .map(|(path, _)| path)
        .collect();
    let texts = Texts {
        overlays: &options.overlays,
        max_file_size: options.max_file_size,
    };
    let cache_hits = AtomicUsize::new(0);
    let changed_while_read = AtomicBool::new(false);
    let memory = options
        .memory
        .as_deref()
        .map(|memory| (memory, memory.current_run()));
    let stores = FactStores {
        cache: None,
        memory,
        cache_hits: &cache_hits,
        changed_while_read: &changed_while_read,
    };
    let project = &kept.loaded.project;
    let mut replaced = Vec::with_capacity(changed.len());
    for path in changed {
        let file = project.files.iter().position(|f| &f.path == path)?;
        let (extracted, _) = analyse_file(path, None, &texts, &stores);
        replaced.push((file, extracted.ok()?));
    }
    let extracted = started.elapsed();
    // Each replaced file's signatures before and after the edit.
    let mut signatures: Vec<(Signatures, Signatures)> = replaced
        .iter()
        .map(|(file, facts)| {
            let old = kept
                .signatures
                .remove(&(*file as FileId))
                .unwrap_or_else(|| Signatures::of(&project.files[*file].facts));
            (old, Signatures::of(facts))
        })
        .collect();
    let relink = signatures.iter().any(|(old, new)| old.link != new.link);
    // Per replaced file, whether the values stage reads the same of it (asked only for a link).
    let same: Vec<bool> = if relink {
        replaced
            .iter()
            .zip(&mut signatures)
            .map(|((file, facts), (old, new))| {
                old.values(&project.files[*file].facts) == new.values(facts)
            })
            .collect()
    } else {
        Vec::new()
    };
    let mut values_kept = relink && same.iter().all(|same| *same);
    // Files that only gained definitions nothing resolves to, or lost such definitions, keep
    // the values too, renumbered.
    let renumbered = relink && !values_kept;
    if renumbered {
        let old: Vec<Arc<FileFacts>> = replaced
            .iter()
            .map(|(file, _)| Arc::clone(&project.files[*file].facts))
            .collect();
        let edits: Vec<(FileId, &FileFacts, &FileFacts, bool)> = replaced
            .iter()
            .zip(&old)
            .zip(&same)
            .map(|(((file, new), old), same)| (*file as FileId, &**old, &**new, *same))
            .collect();
        values_kept = crate::project::values_stay(&edits, kept.loaded.project.mentions());
    }
    kept.signatures.extend(
        replaced
            .iter()
            .zip(signatures)
            .map(|((file, _), (_, new))| (*file as FileId, new)),
    );
    let loaded = &mut kept.loaded;
    let mut errors: Vec<FileError> = loaded
        .errors
        .iter()
        .filter(|e| {
            !replaced
                .iter()
                .any(|(file, _)| loaded.project.files[*file].path == e.path)
        })
        .cloned()
        .collect();
    for (file, facts) in &replaced {
        if !facts.truncated.is_empty() {
            errors.extend(truncation_errors(
                &loaded.project.files[*file].path,
                facts,
                &texts,
            ));
        }
    }
    loaded.stage_times = vec![
        ("extract", extracted),
        ("signatures", started.elapsed() - extracted),
    ];
    let stage_started = Instant::now();
    let mut kept_analysis = None;
    if relink {
        // The last analysis is freed before the new link is built.
        kept.analysis = None;
        let previous = std::mem::replace(
            &mut loaded.project,
            Project::link_with_entry_points(Vec::new(), &[], &[]),
        );
        // The rest of the old link is freed before the new one is built (see `Relinkable`);
        // its values only when the new link can start from them.
        let mut relinkable = previous.into_relinkable();
        for (file, facts) in replaced {
            relinkable.replace_facts(file as FileId, facts);
        }
        // Values that do not stay are updated for the edit where they can be
        // (`PreviousValues::Update`), else learnt again.
        let values = match loaded.values.take() {
            Some(values) if values_kept => crate::project::PreviousValues::Same(values),
            Some(values) => crate::project::PreviousValues::Update(values),
            None => crate::project::PreviousValues::None,
        };
        let stage = match &values {
            crate::project::PreviousValues::Same(_) if renumbered => "link, values renumbered",
            crate::project::PreviousValues::Same(_) => "link, values kept",
            _ => "link",
        };
        let entry_points = &loaded.run.rule_settings.entry_points;
        (loaded.project, loaded.values) = link_guarded(options, &mut errors, || {
            let (project, values) = relinkable.link(entry_points, values);
            (project, Some(values))
        });
        loaded.stage_times.push((stage, stage_started.elapsed()));
        // Its steps (their names start with `link/`).
        let steps = loaded.project.link_times().to_vec();
        loaded.stage_times.extend(steps);
    } else {
        // The model and the rules read nothing of a file's facts but the facts, and the link
        // is the same: when the new facts read the same for them, so do their results.
        let same = replaced
            .iter()
            .all(|(file, facts)| same_for_the_rules(&loaded.project.files[*file].facts, facts));
        for (file, facts) in replaced {
            loaded.project.files[file].facts = facts;
        }
        loaded
            .stage_times
            .push(("link kept", stage_started.elapsed()));
        if same {
            kept_analysis = kept.analysis.take();
        }
    }
    loaded.errors = errors;
    kept.overlays = overlays;
    let analysis = match kept_analysis {
        Some(analysis) => analysis.kept(),
        None => {
            // Freed before the new one is built.
            kept.analysis = None;
            Analysis::of(loaded)
        }
    };
    let (mut result, _) =
        check_loaded_reaching(options, loaded, &analysis, started, Some(&mut kept.fixes));
    kept.analysis = Some(analysis);
    result.elapsed = started.elapsed();
    Some(result)
}

/// Runs the model and the rules on a loaded project and reports; fixes are reused from (and
/// kept in) `fixes` when given.
fn check_loaded(
    options: &CheckOptions,
    loaded: &Loaded,
    started: Instant,
    fixes: Option<&mut FixMemo>,
) -> CheckResult {
    let analysis = Analysis::of(loaded);
    check_loaded_reaching(options, loaded, &analysis, started, fixes).0
}

/// The rules that read [`crate::model::ProjectTables`] (`Model::instance_assignments`,
/// `Model::instance_changes` and `Model::class_level_changes`, which reads the latter) on every
/// analysis of a project with classes.
const READS_PROJECT_TABLES: &[&str] = &["SL101", "SL102", "SL104", "SL105", "SL301", "SL402"];

/// The model and what each rule found on a linked project, before the report: a long-lived
/// caller keeps it ([`Kept`]) for the next analysis that reads the same of the project.
struct Analysis {
    model: Model,
    /// Each rule's findings, or the message of its panic, in the rules' order.
    per_rule: Vec<Result<Vec<Diagnostic>, String>>,
    stage_times: Vec<(&'static str, Duration)>,
}

impl Analysis {
    /// Builds the model of `loaded`'s project and runs its rules (never inlined: profiles of an
    /// edit collect in it, see BENCHMARKS.md).
    #[inline(never)]
    fn of(loaded: &Loaded) -> Analysis {
        let mut stage_times = Vec::new();
        let mut stage_started = Instant::now();
        let mut end_stage = |name: &'static str| {
            stage_times.push((name, stage_started.elapsed()));
            allocator::note_stage(name);
            crate::stage_marks::end_of_stage(name);
            stage_started = Instant::now();
        };
        let project = &loaded.project;
        // The model's tables that read the project alone are made beside the model (on the
        // other core while the model's build runs on one thread) when a rule that reads them
        // will run; a rule that asks for one all the same makes it, so this only moves work.
        let model = if loaded
            .run
            .rules
            .iter()
            .any(|rule| READS_PROJECT_TABLES.contains(&rule.meta().code))
        {
            let (model, tables) = rayon::join(
                || Model::build(project),
                || crate::model::ProjectTables::collect(project),
            );
            model.keep_project_tables(tables);
            model
        } else {
            Model::build(project)
        };
        end_stage("model");
        let context = Context::new(project, &model, &loaded.run.rule_settings);
        let per_rule: Vec<Result<Vec<Diagnostic>, String>> = loaded
            .run
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
        end_stage("rules");
        Analysis {
            model,
            per_rule,
            stage_times,
        }
    }

    /// The analysis kept from the last run, for a project that reads the same for the model and
    /// the rules as that run's did ([`same_for_the_rules`]).
    fn kept(self) -> Analysis {
        Analysis {
            stage_times: vec![("model and rules kept", Duration::ZERO)],
            ..self
        }
    }
}

/// Whether the model and the rules read the same of `new` as of `old`: everything but the
/// suppression comments, which only the report reads, positions included (the findings point
/// at them). Compared as encoded, so a field added to the facts is compared too.
fn same_for_the_rules(old: &FileFacts, new: &FileFacts) -> bool {
    let without_suppressions = |facts: &FileFacts| {
        postcard::to_allocvec(&FileFacts {
            suppressions: crate::facts::ThinVec::new(),
            ..facts.clone()
        })
        .ok()
    };
    let old = without_suppressions(old);
    old.is_some() && old == without_suppressions(new)
}

/// [`check_loaded`] with the analysis of `loaded` given, and how far into each file's text the
/// result reads.
fn check_loaded_reaching(
    options: &CheckOptions,
    loaded: &Loaded,
    analysis: &Analysis,
    started: Instant,
    fixes: Option<&mut FixMemo>,
) -> (CheckResult, TextReach) {
    let Loaded {
        project,
        errors,
        files_checked,
        files_analysed,
        missing_paths,
        run,
        cache_hits,
        stage_times,
        changed_while_read: _,
        values: _,
        link_to_store: _,
        mentions: _,
        facts_digests: _,
    } = loaded;
    let (files_checked, files_analysed, missing_paths, cache_hits) =
        (*files_checked, *files_analysed, *missing_paths, *cache_hits);
    let mut errors = errors.clone();
    let mut stage_times = stage_times.clone();
    stage_times.extend(analysis.stage_times.iter().copied());
    let rules = &run.rules;
    let texts = Texts {
        overlays: &options.overlays,
        max_file_size: options.max_file_size,
    };
    let mut stage_started = Instant::now();
    let mut end_stage = |name: &'static str| {
        stage_times.push((name, stage_started.elapsed()));
        allocator::note_stage(name);
        crate::stage_marks::end_of_stage(name);
        stage_started = Instant::now();
    };
    let model = &analysis.model;
    let mut diagnostics = Vec::new();
    for result in &analysis.per_rule {
        match result {
            Ok(found) => diagnostics.extend(found.iter().cloned()),
            Err(message) => errors.push(FileError {
                path: options.paths.first().cloned().unwrap_or_default(),
                line: None,
                message: message.clone(),
                internal: true,
            }),
        }
    }
    for diagnostic in &mut diagnostics {
        name_shared_object(model, diagnostic);
    }
    let (findings, sources, reach) =
        resolve_locations(project, model, diagnostics, &texts, &mut errors);
    // After the rules: each folder's rule selection and per-file ignores, then suppression
    // comments.
    let before = findings.len();
    let mut findings = without_per_file_ignores(findings, &options.per_file_ignores);
    if let Some(folders) = &options.folder_settings {
        findings.retain(|f| folders.reports(&f.primary.path, f.code));
    }
    let mut suppressions = Suppressions::new(
        project
            .files
            .iter()
            .map(|f| (f.path.as_path(), f.facts.suppressions.as_slice())),
    );
    let mut findings = suppressions.filter(findings);
    let suppressed = before - findings.len();
    if let Some(target) = options.fixes {
        attach_fixes(&mut findings, &sources, target, fixes);
    }
    let mut findings = told_once(findings);
    let mut unused_suppressions = if options.report_unused_suppressions {
        let enabled: Vec<&str> = rules.iter().map(|r| r.meta().code).collect();
        suppressions.unused(&enabled)
    } else {
        Vec::new()
    };
    if let Some(named) = &options.report_only {
        let named = NamedFiles::new(named);
        findings.retain(|f| {
            named.contains(&f.primary.path)
                || f.related.first().is_some_and(|d| named.contains(&d.path))
        });
        unused_suppressions.retain(|u| named.contains(&u.path));
        errors.retain(|e| e.internal || named.contains(&e.path));
    }
    errors.sort();
    errors.dedup();
    end_stage("report");
    let result = CheckResult {
        files_checked,
        files_analysed,
        findings,
        errors,
        sources,
        elapsed: started.elapsed(),
        missing_paths,
        unused_suppressions,
        suppressed,
        cache_hits,
        stage_times,
        warnings: Vec::new(),
    };
    (result, reach)
}

/// What a fix is computed from besides the target: the finding's code and its related places,
/// each as its path, span and the hash of its file's text (`None`: the file could not be read).
type FixInputs = (&'static str, Vec<(PathBuf, u32, u32, Option<TextHash>)>);

/// The fixes a long-lived caller's last run computed, by what each was computed from. A fix is a
/// function of its inputs and the target alone (`syntax::fix::compute` reads nothing else), so a
/// finding whose inputs are those of a kept one gets its fix without parsing again; each run keeps
/// only the fixes it used.
#[derive(Default)]
struct FixMemo {
    union_syntax: bool,
    fixes: HashMap<FixInputs, Option<Fix>>,
}

/// Computes each finding's fix from its places and their files' text (see `syntax::fix`),
/// taking from `memo` those computed from the same inputs before.
fn attach_fixes(
    findings: &mut [Finding],
    sources: &HashMap<PathBuf, String>,
    target: syntax::fix::Target,
    memo: Option<&mut FixMemo>,
) {
    let mut modules = syntax::fix::Modules::default();
    let fixable = findings
        .iter_mut()
        .filter(|finding| syntax::fix::availability(finding.code) != "none");
    // A single run has nothing to reuse: no inputs are hashed or kept.
    let Some(memo) = memo else {
        for finding in fixable {
            finding.fix = compute_fix(finding, sources, target, &mut modules);
        }
        return;
    };
    let mut kept = if memo.union_syntax == target.union_syntax {
        std::mem::take(&mut memo.fixes)
    } else {
        HashMap::new()
    };
    let mut used = HashMap::new();
    let mut text_hashes: HashMap<&Path, Option<TextHash>> = HashMap::new();
    for finding in fixable {
        let inputs: FixInputs = (
            finding.code,
            finding
                .related
                .iter()
                .map(|r| {
                    let hash = *text_hashes
                        .entry(r.path.as_path())
                        .or_insert_with(|| sources.get(&r.path).map(|t| cache::text_hash(t)));
                    (r.path.clone(), r.start, r.end, hash)
                })
                .collect(),
        );
        let fix = match kept.remove(&inputs).or_else(|| used.get(&inputs).cloned()) {
            Some(fix) => fix,
            None => compute_fix(finding, sources, target, &mut modules),
        };
        finding.fix.clone_from(&fix);
        used.insert(inputs, fix);
    }
    memo.union_syntax = target.union_syntax;
    memo.fixes = used;
}

/// A finding's fix, computed from the files' text.
fn compute_fix(
    finding: &Finding,
    sources: &HashMap<PathBuf, String>,
    target: syntax::fix::Target,
    modules: &mut syntax::fix::Modules,
) -> Option<Fix> {
    let place = |location: &Location| {
        sources.get(&location.path).map(|text| syntax::fix::Place {
            text,
            span: crate::facts::Span::new(location.start, location.end),
        })
    };
    // A related place whose file could not be read stands for nothing: an empty text.
    let related: Vec<syntax::fix::Place> = finding
        .related
        .iter()
        .map(|r| {
            place(r).unwrap_or(syntax::fix::Place {
                text: "",
                span: crate::facts::Span::new(0, 0),
            })
        })
        .collect();
    let computed = catch_unwind(AssertUnwindSafe(|| {
        syntax::fix::compute(finding.code, &related, target, modules)
    }));
    let (file, mut fix) = computed.ok()??;
    fix.path = finding.related[file].path.clone();
    Some(fix)
}

/// The files a run reports on (see [`CheckOptions::report_only`]).
struct NamedFiles(HashSet<PathBuf>);

impl NamedFiles {
    fn new(paths: &[PathBuf]) -> Self {
        NamedFiles(paths.iter().map(|p| crate::config::absolute(p)).collect())
    }

    fn contains(&self, path: &Path) -> bool {
        self.0.contains(&crate::config::absolute(path))
    }
}

/// One finding per line and shared object: when several rules (or one rule twice) point at the
/// same line about the same object, the finding of the lowest code is kept (the root of the
/// story: a dict shared by every instance, before the incomplete key of the cache it holds) and
/// its note names the others (and it takes their repair when it has none). A rule on by default
/// comes before one off by default, whatever their codes: an audit code selected on top (SL111's
/// "the sharing is meant") must not take the place of a default finding's claim (SL402's
/// incomplete key). Runs after suppression comments, so that silencing one code does not
/// silence the other.
fn told_once(mut findings: Vec<Finding>) -> Vec<Finding> {
    let place = |f: &Finding| {
        f.object
            .clone()
            .map(|object| (f.primary.path.clone(), f.primary.line, object))
    };
    let rank = |f: &Finding| {
        let off_by_default =
            crate::rules::by_code(f.code).is_some_and(|rule| !rule.meta().enabled_by_default);
        (off_by_default, f.code)
    };
    // The finding told at each place: the lowest rank, the first in report order among equals.
    let mut told: HashMap<(PathBuf, u32, String), usize> = HashMap::new();
    for (index, finding) in findings.iter().enumerate() {
        if let Some(place) = place(finding) {
            told.entry(place)
                .and_modify(|kept| {
                    if rank(finding) < rank(&findings[*kept]) {
                        *kept = index;
                    }
                })
                .or_insert(index);
        }
    }
    let mut keep = vec![true; findings.len()];
    for index in 0..findings.len() {
        let Some(kept) = place(&findings[index]).and_then(|p| told.get(&p).copied()) else {
            continue;
        };
        if kept == index {
            continue;
        }
        keep[index] = false;
        let clause = format!(
            "the same change is also {}'s finding: {}",
            findings[index].code, findings[index].message
        );
        // The repair of the finding not told still applies to the line.
        let fix = findings[index].fix.take();
        let code = findings[index].code;
        let told = &mut findings[kept];
        told.note.push_str("; ");
        told.note.push_str(&clause);
        told.told_with.push(code);
        told.told_clauses.push(clause);
        if told.fix.is_none() {
            told.fix = fix;
        }
    }
    let mut keep = keep.into_iter();
    findings.retain(|_| keep.next().unwrap_or(true));
    findings
}

fn without_per_file_ignores(findings: Vec<Finding>, ignores: &PerFileIgnores) -> Vec<Finding> {
    if ignores.is_empty() {
        return findings;
    }
    // Many findings share a file: match each file's path against the globs once.
    let mut by_path: HashMap<PathBuf, Vec<&crate::config::Selector>> = HashMap::new();
    findings
        .into_iter()
        .filter(|finding| {
            let path = &finding.primary.path;
            let selectors = by_path
                .entry(path.clone())
                .or_insert_with(|| ignores.selectors_for(path));
            !selectors.iter().any(|s| s.matches(finding.code))
        })
        .collect()
}

/// Where a run reads the text of a file: its overlay, or else the disk.
struct Texts<'a> {
    overlays: &'a HashMap<PathBuf, String>,
    max_file_size: u64,
}

impl Texts<'_> {
    fn read(&self, path: &Path, max_file_size: u64) -> Result<String, source::SourceError> {
        match self.overlays.get(path) {
            Some(text) => Ok(text.clone()),
            None => source::read_source(path, max_file_size),
        }
    }
}

/// Where a run looks for facts extracted before: memory (with the number of this run), then the
/// cache file.
struct FactStores<'a> {
    cache: Option<&'a FactsCache>,
    memory: Option<(&'a FactsMemory, u64)>,
    /// Facts taken from the cache file in this run (for `--verbose`).
    cache_hits: &'a AtomicUsize,
    /// Set when a file's text no longer has the hash it had when the run was keyed.
    changed_while_read: &'a AtomicBool,
}

/// Reads one file and takes its facts from memory or the cache, or else parses and extracts them
/// (and returns the cache record to write). A panic is caught and reported against the file.
/// `analyse(i)` for every `i` below `count`, on every thread of the pool, each thread taking the
/// next index in order from one shared counter as it finishes one, so the threads end within one
/// file of each other: rayon's adaptive split of a list hands a thread a run of files that the
/// other cannot take part of, which left one core idle for part of the stage. The order is the
/// files' own, not largest first, so no more large trees are alive at once than before (round 26's
/// largest-first order raised the language server's peak memory). The results are in index order.
fn next_file_on_every_thread<T: Send>(count: usize, analyse: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let next = AtomicUsize::new(0);
    let per_thread: Vec<Vec<(usize, T)>> = rayon::broadcast(|_| {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            if i >= count {
                return done;
            }
            done.push((i, analyse(i)));
        }
    });
    let mut all: Vec<(usize, T)> = per_thread.into_iter().flatten().collect();
    all.sort_unstable_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, result)| result).collect()
}

fn analyse_file(
    path: &Path,
    known_hash: Option<TextHash>,
    texts: &Texts,
    stores: &FactStores,
) -> (Extracted, Option<cache::Record>) {
    if let Some(cached) = known_hash.and_then(|hash| from_cache(path, hash, stores)) {
        return cached;
    }
    // In memory, a file unchanged on disk since the last run is not even read.
    let on_disk = stores
        .memory
        .filter(|_| !texts.overlays.contains_key(path))
        .map(|(memory, run)| {
            let stamp = FileStamp::of(path).filter(|s| s.len <= texts.max_file_size);
            (memory, run, stamp)
        });
    if let Some((memory, run, stamp)) = on_disk
        && let Some(hash) = memory.unchanged(path, stamp, run)
        && let Some(extracted) = memory.get(hash, run, path)
    {
        return (extracted, None);
    }
    let text = match texts.read(path, texts.max_file_size) {
        Ok(text) => text,
        Err(e) => {
            let error = FileError {
                path: path.to_path_buf(),
                line: e.line,
                message: e.message,
                internal: false,
            };
            return (Err(error), None);
        }
    };
    let hash = (stores.cache.is_some() || stores.memory.is_some()).then(|| cache::text_hash(&text));
    if known_hash.is_some() && hash != known_hash {
        stores.changed_while_read.store(true, Ordering::Relaxed);
    }
    if let (Some((memory, run, stamp)), Some(hash)) = (on_disk, hash) {
        memory.stamp(path, stamp, hash, run);
    }
    if let (Some((memory, run)), Some(hash)) = (stores.memory, hash)
        && let Some(extracted) = memory.get(hash, run, path)
    {
        return (extracted, None);
    }
    let (extracted, record) = extract_file(path, &text, hash, stores);
    if let (Some((memory, run)), Some(hash)) = (stores.memory, hash)
        && !extracted.as_ref().is_err_and(|e| e.internal)
    {
        memory.insert(hash, run, &extracted);
    }
    (extracted, record)
}

/// The facts the cache holds for a text of this hash, counted as a cache hit.
fn from_cache(
    path: &Path,
    hash: TextHash,
    stores: &FactStores,
) -> Option<(Extracted, Option<cache::Record>)> {
    let (outcome, record) = stores.cache?.get(hash)?;
    stores.cache_hits.fetch_add(1, Ordering::Relaxed);
    Some((outcome_result(outcome, path), Some(record)))
}

/// Texts longer than this are parsed one at a time (see [`LARGE_PARSE`]).
const LARGE_TEXT_BYTES: usize = 1 << 20;
/// Held while a text longer than [`LARGE_TEXT_BYTES`] is parsed. Smaller files go on in parallel.
static LARGE_PARSE: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Takes a text's facts from the cache, or else parses and extracts them.
fn extract_file(
    path: &Path,
    text: &str,
    hash: Option<TextHash>,
    stores: &FactStores,
) -> (Extracted, Option<cache::Record>) {
    if let Some(cached) = hash.and_then(|hash| from_cache(path, hash, stores)) {
        return cached;
    }
    let outcome = match extracted_outcome(path, text) {
        Ok(outcome) => outcome,
        Err(error) => return (Err(error), None),
    };
    let record = hash.map(|hash| FactsCache::record(hash, &outcome));
    (outcome_result(outcome, path), record)
}

/// Parses and extracts a text: its facts or its syntax error; a panic is an internal error.
fn extracted_outcome(path: &Path, text: &str) -> Result<CachedOutcome, FileError> {
    let outcome = match catch_unwind(AssertUnwindSafe(|| {
        panic_if_test_hook_names(path);
        // A syntax tree takes about thirty times its text: large files are parsed one at a time,
        // so that several of them never multiply the peak by the number of threads.
        let _one_large_parse = (text.len() > LARGE_TEXT_BYTES).then(|| {
            LARGE_PARSE
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        });
        syntax::extract(text)
    })) {
        Ok(Ok(facts)) => CachedOutcome::Facts(Arc::new(compacted(facts))),
        Ok(Err(syntax_error)) => CachedOutcome::SyntaxError {
            line: LineIndex::new(text)
                .line_column(text, syntax_error.offset)
                .0,
            message: syntax_error.message,
        },
        Err(panic) => {
            let message = format!(
                "internal error while analysing this file: {}",
                panic_message(&panic)
            );
            return Err(FileError {
                path: path.to_path_buf(),
                line: None,
                message,
                internal: true,
            });
        }
    };
    Ok(outcome)
}

/// A copy of facts made after their syntax tree was freed. The facts were built while the tree
/// lived, so they lie scattered among its freed nodes and pin those pages for the whole run; the
/// copy packs them together (each vector at its exact length), and the pages the tree left can be
/// reused or returned. Peak RSS on the benchmark corpus -25 MB for about 1.1 % more instructions
/// (BENCHMARKS.md, "Memory").
fn compacted(facts: FileFacts) -> FileFacts {
    let copy = facts.clone();
    drop(facts);
    copy
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

fn outcome_result(outcome: CachedOutcome, path: &Path) -> Extracted {
    match outcome {
        CachedOutcome::Facts(facts) => Ok(facts),
        CachedOutcome::SyntaxError { line, message } => Err(FileError {
            path: path.to_path_buf(),
            line: Some(line),
            message,
            internal: false,
        }),
    }
}

fn truncation_errors(path: &Path, facts: &FileFacts, texts: &Texts) -> Vec<FileError> {
    let Ok(text) = texts.read(path, u64::MAX) else {
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

/// A panic outside one file's analysis, as an internal error of the run.
fn internal_error(
    options: &CheckOptions,
    doing: &str,
    panic: &Box<dyn std::any::Any + Send>,
) -> FileError {
    FileError {
        path: options.paths.first().cloned().unwrap_or_default(),
        line: None,
        message: format!("internal error while {doing}: {}", panic_message(panic)),
        internal: true,
    }
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

/// Names the finding's shared object when the rule did not: the object created where the first
/// related label (by convention the shared object's definition) points.
fn name_shared_object(model: &Model, diagnostic: &mut Diagnostic) {
    if diagnostic.object.is_some() {
        return;
    }
    diagnostic.object = diagnostic
        .related
        .first()
        .and_then(|label| model.object_defined_at(label.file, label.span))
        .map(|object| object.path.clone());
}

/// Turns byte spans into lines and columns, reading again only the files findings point into, and
/// sorts the findings by path, line, column and code.
fn resolve_locations(
    project: &Project,
    model: &Model,
    diagnostics: Vec<Diagnostic>,
    texts: &Texts,
    errors: &mut Vec<FileError>,
) -> (Vec<Finding>, HashMap<PathBuf, String>, TextReach) {
    let mut sources: HashMap<PathBuf, String> = HashMap::new();
    let mut indexes: HashMap<PathBuf, LineIndex> = HashMap::new();
    let mut reach = TextReach::new();
    let mut findings = Vec::with_capacity(diagnostics.len());
    for diagnostic in diagnostics {
        let mut locate = |label: &Label| -> Option<Location> {
            let path = project.path(label.file).to_path_buf();
            let furthest = label.span.start.max(label.span.end);
            reach
                .entry(path.clone())
                .and_modify(|r| *r = (*r).max(furthest))
                .or_insert(furthest);
            if !sources.contains_key(&path) {
                match texts.read(&path, u64::MAX) {
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
        let (entry_path, entry_path_omitted) = entry_path(project, &diagnostic, &mut locate);
        let change = model.change_at(diagnostic.primary.file, diagnostic.primary.span);
        let flow = match (change, diagnostic.related.first()) {
            (Some(change), Some(definition)) => model
                .object_defined_at(definition.file, definition.span)
                .and_then(|object| {
                    let id = change
                        .objects
                        .iter()
                        .find(|o| std::ptr::eq(model.object(**o), object))?;
                    Some(model.flow_path(*id, &change.locations))
                })
                .unwrap_or_default()
                .into_iter()
                .filter_map(|step| {
                    locate(&Label {
                        file: step.file,
                        span: step.span,
                        message: format!("flows into {}", model.describe(project, &step.to)),
                    })
                })
                .collect(),
            _ => Vec::new(),
        };
        findings.push(Finding {
            code: diagnostic.code,
            severity: diagnostic.severity,
            message: diagnostic.message,
            primary,
            related,
            note: diagnostic.note,
            help: diagnostic.help,
            identity: diagnostic.identity,
            object: diagnostic.object,
            flow,
            timing: change.map(|c| c.timing.reason()),
            entry_path,
            fix: None,
            told_with: Vec::new(),
            told_clauses: Vec::new(),
            entry_path_omitted,
            members: Vec::new(),
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
    (findings, sources, reach)
}

/// By file, the furthest byte offset a run turned into a line and column: what of the text its
/// result depends on besides the facts (`run_cache::SameFacts`).
type TextReach = HashMap<PathBuf, u32>;

/// The chain of calls from a request entry point to the function that contains the primary
/// label, through the diagnostic's `via` when it has one (its ends when long), and how many
/// steps were left out of its middle.
fn entry_path(
    project: &Project,
    diagnostic: &Diagnostic,
    locate: &mut impl FnMut(&Label) -> Option<Location>,
) -> (Vec<PathStep>, usize) {
    let chain = match diagnostic.via.split_first() {
        Some((first, rest)) => {
            let (file, function) = project.function_in_file(*first);
            project.request_path(file, function).map(|mut chain| {
                chain.extend_from_slice(rest);
                chain
            })
        }
        None => {
            let primary = &diagnostic.primary;
            project
                .function_at(primary.file, primary.span.start)
                .and_then(|function| project.request_path(primary.file, function))
        }
    };
    let Some(chain) = chain else {
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Which flows read and wrote each slot is recorded only where a later link updates the
    /// values from it (the language server): a run with the link cache stores the values
    /// without them, and a run without a cache keeps no values at all.
    #[test]
    fn only_a_kept_run_records_which_flows_read_and_wrote_each_slot() {
        let dir = tempfile::tempdir().unwrap();
        let app = dir.path().join("app");
        std::fs::create_dir_all(&app).unwrap();
        std::fs::write(app.join("__init__.py"), "").unwrap();
        std::fs::write(
            app.join("store.py"),
            "ITEMS = {}\n\n\ndef put(key, value):\n    items = ITEMS\n    items[key] = value\n",
        )
        .unwrap();
        let mut options = CheckOptions::new(vec![app]);
        options.threads = Some(1);
        let started = Instant::now();

        let single = load_in_pool(&options, started, false);
        assert!(single.values.is_none());

        let kept = load_in_pool(&options, started, true);
        assert!(kept.values.as_ref().is_some_and(KeptValues::updatable));

        let cache = dir.path().join("cache");
        options.cache_dir = Some(cache.clone());
        let found = find_files(&options);
        let texts = Texts {
            overlays: &options.overlays,
            max_file_size: options.max_file_size,
        };
        let hashes = hash_files(&found.files, &texts, &cache);
        assert!(hashes.is_some());
        let cached = load_found(
            &options,
            found,
            Some(FactsCache::open(&cache)),
            hashes,
            Some(&cache),
            started,
            false,
        );
        assert!(cached.link_to_store.is_some());
        let values = cached.values.as_ref().expect("values for the link cache");
        assert!(!values.updatable());
    }

    /// A file whose stamp is stored with its hash is not read to key the run; one rewritten
    /// with the same size and its modification time put back is read again (its change time
    /// moved), and so is one written too recently to be stamped.
    #[test]
    fn a_file_whose_stamp_is_stored_is_not_read_again_and_one_rewritten_is() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.py");
        std::fs::write(&file, "x = 1\n").unwrap();
        let recent = dir.path().join("b.py");
        let cache = dir.path().join("cache");
        let overlays = HashMap::new();
        let texts = Texts {
            overlays: &overlays,
            max_file_size: u64::MAX,
        };
        let files = vec![file.clone()];
        std::thread::sleep(text_stamps::SETTLED + Duration::from_millis(200));
        let hashed = hash_files(&files, &texts, &cache).unwrap();
        assert_eq!(hashed, vec![cache::text_hash("x = 1\n")]);
        let stamp = Stamp::of(&file).expect("settled");
        assert_eq!(Stamps::load(&cache).hash(&file, stamp), Some(hashed[0]));

        // The stored hash is taken for the stamp (a hash no text has shows it was not read).
        text_stamps::save(&cache, [(file.as_path(), stamp, 42)].into_iter());
        assert_eq!(hash_files(&files, &texts, &cache).unwrap(), vec![42]);

        let modified = std::fs::metadata(&file).unwrap().modified().unwrap();
        std::fs::write(&file, "x = 2\n").unwrap();
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(modified)
            .unwrap();
        assert_eq!(
            std::fs::metadata(&file).unwrap().modified().unwrap(),
            modified
        );
        assert_eq!(
            hash_files(&files, &texts, &cache).unwrap(),
            vec![cache::text_hash("x = 2\n")]
        );

        // A file written just now is read, and its stamp not stored.
        std::fs::write(&recent, "y = 1\n").unwrap();
        assert_eq!(Stamp::of(&recent), None);
        let both = vec![file.clone(), recent.clone()];
        let hashed = hash_files(&both, &texts, &cache).unwrap();
        assert_eq!(hashed[1], cache::text_hash("y = 1\n"));
        assert_eq!(Stamps::load(&cache).len(), 0);
    }
}
