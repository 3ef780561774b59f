//! The command line: argument parsing and exit statuses.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline;
use crate::cache_dir;
use crate::check::{self, CheckOptions};
use crate::config::{self, ConfigError, Overrides, Resolver, Selection};
use crate::fix::Applicability;
use crate::graph::{self, GraphFormat};
use crate::report::{self, OutputFormat, PathDisplay};
use crate::rules;
use crate::terminal::{self, Stream};

/// Finds state that leaks between requests in long-running Python processes.
#[derive(Debug, Parser)]
#[command(name = "stateleak", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

// Parsed once per run: the size of the check arguments does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse Python files and folders and report shared state that leaks between calls.
    Check(CheckArgs),
    /// Run the language server (Language Server Protocol over standard input and output).
    Server,
    /// Print the documentation of a rule (or of every rule, with --all).
    Rule(RuleArgs),
    /// Print the call graph the analysis builds (PyCG's JSON or Graphviz).
    Graph(GraphArgs),
    /// Remove the cache folder (the one `check` would use with the same paths and options).
    Clean(CleanArgs),
    /// Discover and parse every file and nothing else (the benchmark's floor).
    #[command(hide = true)]
    ParseOnly {
        #[arg(default_value = ".")]
        paths: Vec<PathBuf>,
        #[arg(long)]
        threads: Option<usize>,
    },
}

#[derive(Debug, Args)]
struct CheckArgs {
    /// Files and folders to analyse.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// How findings are printed [default: text, or the `output-format` setting].
    #[arg(long, value_enum)]
    output_format: Option<OutputFormat>,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// When to colour the text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Files larger than this are reported and not analysed [default: 10 MiB, or the
    /// `max-file-size` setting].
    #[arg(long, value_name = "BYTES")]
    max_file_size: Option<u64>,
    /// Read settings from this file (instead of the nearest `pyproject.toml`, `stateleak.toml`
    /// or `.stateleak.toml`).
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore every settings file.
    #[arg(long, conflicts_with = "config")]
    isolated: bool,
    /// Rule codes or prefixes to enable (replaces the `select` setting); `ALL` for all.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    select: Option<Vec<String>>,
    /// Rule codes or prefixes to enable in addition.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    extend_select: Vec<String>,
    /// Rule codes or prefixes to disable.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    ignore: Vec<String>,
    /// Globs of files and folders to skip (replaces the `exclude` setting and the defaults).
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    exclude: Option<Vec<String>>,
    /// Globs of files and folders to skip in addition.
    #[arg(long, value_delimiter = ',', value_name = "GLOBS")]
    extend_exclude: Vec<String>,
    /// Also report suppression comments that suppress nothing (they count as findings).
    #[arg(long)]
    show_unused_suppressions: bool,
    /// Report only findings that are not recorded in this baseline file.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// Record the current findings in this baseline file (and report nothing).
    #[arg(long, value_name = "FILE", conflicts_with = "baseline")]
    write_baseline: Option<PathBuf>,
    /// Print how many findings each rule has instead of the findings.
    #[arg(long)]
    statistics: bool,
    /// Parse every file instead of reusing cached facts (the cache is then neither read nor
    /// written).
    #[arg(long)]
    no_cache: bool,
    #[command(flatten)]
    cache: CacheArgs,
    /// A request entry point besides the frameworks': a glob over qualified function names
    /// (`myapp.handlers.*`, `*.Worker.run`). Repeatable; adds to the `entry-points` setting.
    #[arg(long = "entry-point", value_name = "PATTERN")]
    entry_point: Vec<String>,
    /// Analyse the whole project in this folder and report only on the files given (by default
    /// when only files are given and one lies in a folder with a settings file or a `.git`: the
    /// nearest such folder).
    #[arg(long, value_name = "DIR")]
    project_root: Option<PathBuf>,
    /// Read the text of this file from standard input instead of the disk, and report on it in
    /// the context of its project (other paths given, such as `-`, are not read).
    #[arg(long, value_name = "PATH")]
    stdin_filename: Option<PathBuf>,
    /// Print why the finding with this fingerprint (see `--output-format json`) counts: the
    /// shared object's creation, how it flows to the change, and the chain of calls to it.
    #[arg(long, value_name = "FINGERPRINT")]
    explain: Option<String>,
    /// Exit with status 0 even when there are findings or files that could not be analysed
    /// (a configuration or internal error still exits 2).
    #[arg(long)]
    exit_zero: bool,
    /// Print the findings only (no summary, warnings or progress).
    #[arg(short, long, conflicts_with = "verbose")]
    quiet: bool,
    /// Print nothing but fatal errors; only the exit status tells the result.
    #[arg(long, conflicts_with_all = ["verbose", "quiet"])]
    silent: bool,
    /// Also print the settings files used, the files analysed, cache hits and each stage's time.
    #[arg(short, long)]
    verbose: bool,
    /// Print the resolved settings for this file, and where each came from, then exit.
    #[arg(long, value_name = "FILE")]
    show_settings: Option<PathBuf>,
    /// Print the files that would be analysed, then exit.
    #[arg(long, conflicts_with = "show_settings")]
    show_files: bool,
    /// Write the findings to this file instead of standard output.
    #[arg(short, long, value_name = "FILE")]
    output_file: Option<PathBuf>,
    /// Apply the safe fixes (and the unsafe ones with --unsafe-fixes), then report what is left.
    #[arg(long, conflicts_with_all = ["diff", "add_noqa", "write_baseline"])]
    fix: bool,
    /// With --fix or --diff, also apply fixes that change behaviour beyond the leak.
    #[arg(long)]
    unsafe_fixes: bool,
    /// Print the changes the fixes would make as a unified diff, and change nothing (exit
    /// status 1 when there are changes).
    #[arg(long, conflicts_with_all = ["add_noqa", "write_baseline"])]
    diff: bool,
    /// Add a `# noqa: CODE` comment on the line of every current finding.
    #[arg(long, conflicts_with = "write_baseline")]
    add_noqa: bool,
}

impl CheckArgs {
    /// Whether messages besides the findings (summary, warnings) are printed.
    fn chatty(&self) -> bool {
        !self.quiet && !self.silent
    }
}

#[derive(Debug, Args)]
struct GraphArgs {
    /// Files and folders to analyse.
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// How the graph is printed.
    #[arg(long, value_enum, default_value_t = GraphFormat::Pycg)]
    output_format: GraphFormat,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
}

/// Where the cache folder is.
#[derive(Debug, Args)]
struct CacheArgs {
    /// The cache folder [default: `STATELEAK_CACHE_DIR`, the `cache-dir` setting, or
    /// `.stateleak_cache` in the project root].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct CleanArgs {
    /// The paths `check` would be given (they choose the project root).
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Read settings from this file.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Ignore every settings file.
    #[arg(long, conflicts_with = "config")]
    isolated: bool,
    #[command(flatten)]
    cache: CacheArgs,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Args)]
struct RuleArgs {
    /// The rule's code, for example SL101.
    #[arg(required_unless_present_any = ["all", "list"])]
    code: Option<String>,
    /// Print every rule's documentation.
    #[arg(long, conflicts_with = "code")]
    all: bool,
    /// Print one line per rule: code, name, on or off by default, summary.
    #[arg(long, conflicts_with_all = ["code", "all"])]
    list: bool,
    /// `text` (the documentation) or `json` (the rule's metadata and documentation).
    #[arg(long, value_enum, default_value_t = RuleFormat::Text)]
    output_format: RuleFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum RuleFormat {
    Text,
    Json,
}

/// `eprintln!` that never panics (see [`crate::terminal`]).
macro_rules! say {
    ($($arg:tt)*) => {
        terminal::error_line(&format!($($arg)*))
    };
}

/// Exit statuses.
const SUCCESS: u8 = 0;
const FINDINGS: u8 = 1;
const FAILURE: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let status = match cli.command {
        Command::Check(args) => run_check(args),
        Command::Server => crate::server::run(),
        Command::Rule(args) => run_rule(args),
        Command::Graph(args) => run_graph(args),
        Command::Clean(args) => run_clean(args),
        Command::ParseOnly { paths, threads } => {
            let (files, failed) = check::parse_only(&paths, threads);
            say!("stateleak: parsed {files} files, {failed} with errors");
            SUCCESS
        }
    };
    // Output that could not be written (a full disk) fails the run, whatever was found.
    ExitCode::from(if terminal::failed() { FAILURE } else { status })
}

fn run_check(args: CheckArgs) -> u8 {
    let resolver = match resolver_for(&args) {
        Ok(resolver) => Arc::new(resolver),
        Err(error) => return fatal(&error),
    };
    // What is not per folder (the format, the file size limit) comes from the settings of the
    // working directory, as in Ruff, so that the order of the paths does not matter.
    let settings = match resolver.for_path(Path::new("."), true) {
        Ok(settings) => settings,
        Err(error) => return fatal(&error),
    };
    if let Some(file) = &args.show_settings {
        return match resolver.for_path(file, true) {
            Ok(settings) => {
                print_to_stdout(&format!(
                    "# for: {}\n{}",
                    file.display(),
                    settings.describe()
                ));
                SUCCESS
            }
            Err(error) => fatal(&error),
        };
    }
    let format = settings.output_format;
    if args.statistics
        && !matches!(
            format,
            OutputFormat::Text | OutputFormat::Concise | OutputFormat::Json
        )
    {
        return fatal(&format!(
            "--statistics prints text or json, not `{}`",
            format_name(format)
        ));
    }
    let baseline = match args.baseline.as_deref().map(baseline::load).transpose() {
        Ok(baseline) => baseline,
        Err(error) => return fatal(&error),
    };
    let exclude = {
        let resolver = Arc::clone(&resolver);
        Arc::new(move |path: &Path, _is_dir: bool| {
            resolver.for_path_or_default(path).exclude.is_match(path)
        })
    };
    if args.show_files {
        let discovered = crate::discover::discover_excluding(&args.paths, exclude);
        if let Some(error) = resolver.take_error() {
            return fatal(&error);
        }
        let paths = PathDisplay::from_env();
        let listing: String = discovered
            .files
            .iter()
            .map(|f| format!("{}\n", paths.show(f)))
            .collect();
        print_to_stdout(&listing);
        return SUCCESS;
    }

    let mut options = match project_options(&args) {
        Ok(options) => options,
        Err(error) => {
            return fatal(&error);
        }
    };
    options.threads = args.threads;
    if !args.no_cache {
        // The cache belongs to the project of the first path: its settings file decides.
        let project = args
            .paths
            .first()
            .and_then(|first| resolver.for_path(first, true).ok())
            .unwrap_or_else(|| Arc::clone(&settings));
        options.cache_dir = Some(cache_dir::location(
            args.cache.cache_dir.as_deref(),
            project.cache_dir.as_deref(),
            project.file.as_deref(),
            &args.paths,
        ));
    }
    if let Some(size) = args.max_file_size.or(settings.max_file_size) {
        options.max_file_size = size;
    }
    options.exclude = Some(exclude);
    options.folder_settings = Some(resolver.clone());
    options.report_unused_suppressions = args.show_unused_suppressions;
    options.progress = args.chatty();
    let shows_fixes = matches!(
        format,
        OutputFormat::Json | OutputFormat::JsonLines | OutputFormat::Rdjson
    );
    if args.fix || args.diff || args.add_noqa || shows_fixes {
        options.fixes = Some(crate::syntax::fix::Target {
            union_syntax: settings.python_minor.is_some_and(|minor| minor >= 10),
        });
    }
    if args.fix || args.diff || args.add_noqa {
        options.progress = false;
        let outcome = if args.add_noqa {
            crate::fix::add_noqa(&options)
        } else {
            crate::fix::fix(&options, args.unsafe_fixes, args.fix)
        };
        if let Some(error) = resolver.take_error() {
            return fatal(&error);
        }
        for message in &outcome.dropped {
            if !args.silent {
                say!("stateleak: warning: {message}");
            }
        }
        if args.diff {
            let paths = PathDisplay::from_env();
            if !args.silent {
                print_to_stdout(&crate::fix::unified_diff(&outcome, |p| paths.show(p)));
            }
            if args.chatty() {
                say!(
                    "stateleak: {} fixes would change {} files",
                    outcome.applied,
                    outcome.changed.len()
                );
            }
            return if outcome.changed.is_empty() {
                SUCCESS
            } else {
                FINDINGS
            };
        }
        if args.add_noqa {
            if args.chatty() {
                say!(
                    "stateleak: added {} suppression comments in {} files",
                    outcome.applied,
                    outcome.changed.len()
                );
            }
            return SUCCESS;
        }
        if args.chatty() {
            say!(
                "stateleak: applied {} fixes in {} files",
                outcome.applied,
                outcome.changed.len()
            );
        }
    }
    let mut result = check::check(&options);
    if let Some(error) = resolver.take_error() {
        return fatal(&error);
    }
    let settings_files = resolver.files_used();
    if args.verbose {
        print_verbose(&result, &settings_files);
    }

    if let Some(file) = &args.write_baseline {
        if let Err(error) = baseline::write(file, &result.findings) {
            return fatal(&error);
        }
        if args.chatty() {
            // The baseline records each shared object's finding; a run reports the findings of
            // one rule at one change expression as one, and so does the summary below.
            let recorded = result.findings.len();
            result.findings = report::group::by_place(std::mem::take(&mut result.findings));
            let reported = if result.findings.len() == recorded {
                String::new()
            } else {
                format!(
                    " (reported as {}, one per rule and change expression)",
                    result.findings.len()
                )
            };
            say!(
                "stateleak: recorded {recorded} findings in {}{reported}",
                file.display()
            );
            say!("{}", report::summary_line(&result));
        }
        return if result.has_internal_errors() || result.missing_paths {
            FAILURE
        } else {
            SUCCESS
        };
    }
    let mut baseline_note = None;
    if let Some(baseline) = &baseline {
        let findings = std::mem::take(&mut result.findings);
        let filtered = baseline.filter(findings);
        result.findings = filtered.new;
        baseline_note = Some((filtered.known, filtered.stale));
    }
    result.findings = report::group::by_place(std::mem::take(&mut result.findings));

    let paths = PathDisplay::from_env();
    if let Some(wanted) = &args.explain {
        return explain(&result, &paths, wanted);
    }
    let rendered = if args.statistics {
        report::render_statistics(&result, format == OutputFormat::Json)
    } else if format == OutputFormat::Text {
        let color = match args.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                args.output_file.is_none()
                    && std::io::stdout().is_terminal()
                    && std::env::var_os("NO_COLOR").is_none()
            }
        };
        report::render_text(&result, &paths, color)
    } else {
        report::render(format, &result, &paths)
    };
    if let Some(file) = &args.output_file {
        if let Err(error) = std::fs::write(file, rendered.as_bytes()) {
            return fatal(&format!(
                "{}: cannot write the output: {error}",
                file.display()
            ));
        }
    } else if !args.silent {
        print_to_stdout(&rendered);
    }
    if args.chatty() {
        for warning in &result.warnings {
            say!("stateleak: warning: {warning}");
        }
        print_summary(&args, &result, &settings_files, baseline_note);
        let unsafe_left = result
            .findings
            .iter()
            .filter(|f| {
                f.fix
                    .as_ref()
                    .is_some_and(|fix| fix.applicability == Applicability::Unsafe)
            })
            .count();
        if args.fix && !args.unsafe_fixes && unsafe_left > 0 {
            say!(
                "stateleak: {unsafe_left} findings have unsafe fixes: apply them with --fix --unsafe-fixes"
            );
        }
    }

    let nothing_read = result.files_checked > 0 && result.files_analysed == 0;
    if result.has_internal_errors() || result.missing_paths || nothing_read {
        FAILURE
    } else if args.exit_zero
        || (result.findings.is_empty()
            && result.unused_suppressions.is_empty()
            && result.errors.is_empty())
    {
        SUCCESS
    } else {
        FINDINGS
    }
}

fn run_graph(args: GraphArgs) -> u8 {
    let mut options = CheckOptions::new(args.paths);
    options.threads = args.threads;
    let loaded = check::load(&options);
    let graph = graph::named_graph(&loaded.project);
    let rendered = match args.output_format {
        GraphFormat::Pycg => graph::render_pycg(&graph),
        GraphFormat::Dot => graph::render_dot(&graph),
    };
    print_to_stdout(&rendered);
    let paths = PathDisplay::from_env();
    for error in &loaded.errors {
        let line = error.line.map(|l| format!(":{l}")).unwrap_or_default();
        say!(
            "stateleak: error: {}{line}: {}",
            paths.show(&error.path),
            error.message
        );
    }
    if loaded.missing_paths || loaded.errors.iter().any(|e| e.internal) {
        FAILURE
    } else {
        SUCCESS
    }
}

/// The files named on the command line (the one read from standard input instead of the paths).
fn named_paths(args: &CheckArgs) -> Vec<PathBuf> {
    match &args.stdin_filename {
        Some(path) => vec![path.clone()],
        None => args.paths.clone(),
    }
}

/// What to analyse and report on: the paths given, or the whole project with findings reported
/// for the files named (see `--project-root`); with standard input overlaid on its file.
fn project_options(args: &CheckArgs) -> Result<CheckOptions, String> {
    let named = named_paths(args);
    let only_files = named.iter().all(|p| !p.is_dir());
    let root = match &args.project_root {
        Some(root) if !root.is_dir() => {
            return Err(format!("--project-root {}: not a folder", root.display()));
        }
        Some(root) => Some(root.clone()),
        None if only_files => named.first().and_then(|file| config::project_root(file)),
        None => None,
    };
    let mut options = match root {
        Some(root) => {
            // Absolute, so that a named file and the same file met walking the root are one.
            let named: Vec<PathBuf> = named.iter().map(|p| config::absolute(p)).collect();
            let mut paths = vec![config::absolute(&root)];
            paths.extend(named.iter().cloned());
            let mut options = CheckOptions::new(paths);
            options.report_only = Some(named);
            options
        }
        None => CheckOptions::new(named),
    };
    if let Some(path) = &args.stdin_filename {
        let path = if options.report_only.is_some() {
            config::absolute(path)
        } else {
            path.clone()
        };
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin().lock(), &mut bytes)
            .map_err(|e| format!("cannot read standard input: {e}"))?;
        let text = crate::source::decode(bytes)
            .map_err(|e| format!("standard input ({}): {}", path.display(), e.message))?;
        options.overlays.insert(path, text);
    }
    Ok(options)
}

/// Prints the explanation of the finding whose fingerprint is `wanted` (`--explain`).
/// A reported finding's fingerprint explains it; a group member's explains that member, and says
/// which group reports it.
fn explain(result: &check::CheckResult, paths: &PathDisplay, wanted: &str) -> u8 {
    let found = result.findings.iter().find_map(|reported| {
        if report::fingerprint(reported, paths) == wanted {
            return Some((reported, None));
        }
        reported
            .members
            .iter()
            .find(|member| report::fingerprint(member, paths) == wanted)
            .map(|member| (member, Some(reported)))
    });
    let Some((finding, group)) = found else {
        say!("stateleak: error: no finding has the fingerprint `{wanted}`");
        return FAILURE;
    };
    let place = |l: &check::Location| format!("{}:{}:{}", paths.show(&l.path), l.line, l.column);
    let mut out = format!(
        "{} {}: {}\n",
        finding.code,
        place(&finding.primary),
        finding.message
    );
    if let Some(object) = &finding.object {
        out.push_str(&format!("\nshared object: {object}\n"));
    }
    if let Some(definition) = report::group::definition(finding) {
        out.push_str(&format!(
            "created: {} ({})\n",
            place(definition),
            definition.message
        ));
    }
    if !finding.flow.is_empty() {
        out.push_str("\nhow it reaches the change:\n");
        for step in &finding.flow {
            out.push_str(&format!("  {}: {}\n", place(step), step.message));
        }
    }
    out.push_str(&format!(
        "\nchanged: {} ({})\n",
        place(&finding.primary),
        finding.primary.message
    ));
    if let Some(timing) = finding.timing {
        out.push_str(&format!("the change counts {timing}\n"));
    }
    if finding.entry_path.is_empty() {
        out.push_str("\nno request entry point is known to reach it\n");
    } else {
        out.push_str("\nchain of calls from a request entry point:\n");
        for step in &finding.entry_path {
            let entry = step
                .entry_kind
                .as_deref()
                .map(|kind| format!(" ({kind})"))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} {}:{}{entry}\n",
                step.function,
                paths.show(&step.path),
                step.line
            ));
        }
    }
    if let Some(group) = group {
        out.push_str(&format!(
            "\nreported as one of {} shared objects changed at this place (fingerprint {})\n",
            group.members.len(),
            report::fingerprint(group, paths)
        ));
    } else if !finding.members.is_empty() {
        out.push_str(&format!(
            "\nthe same change is reported for {} shared objects (the first is explained above):\n",
            finding.members.len()
        ));
        for member in &finding.members {
            let defined = report::group::definition(member)
                .map(|definition| format!(" (created {})", place(definition)))
                .unwrap_or_default();
            out.push_str(&format!(
                "  {} {}{defined}\n",
                report::fingerprint(member, paths),
                member.object.as_deref().unwrap_or_default()
            ));
        }
    }
    print_to_stdout(&out);
    SUCCESS
}

/// Prints a fatal error (never silenced) and returns the failure status.
fn fatal(error: &dyn std::fmt::Display) -> u8 {
    say!("stateleak: error: {error}");
    FAILURE
}

/// The summary on standard error: counts, the settings and ignore files used, and warnings.
fn print_summary(
    args: &CheckArgs,
    result: &check::CheckResult,
    settings_files: &[PathBuf],
    baseline_note: Option<(usize, usize)>,
) {
    let paths = PathDisplay::from_env();
    let ignore_files = crate::discover::ignore_files_above(&args.paths);
    if result.files_checked == 0 && result.errors.is_empty() {
        let mut message = String::from("no Python files found");
        if !settings_files.is_empty() || !ignore_files.is_empty() {
            message.push_str(
                "; everything under the given paths may be excluded by the settings or ignore files named below",
            );
        }
        say!("stateleak: warning: {message}");
    }
    say!("{}", report::summary_line(result));
    let list = |files: &[PathBuf]| {
        files
            .iter()
            .map(|f| paths.show(f))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if !settings_files.is_empty() {
        say!("stateleak: settings from {}", list(settings_files));
    }
    if !ignore_files.is_empty() {
        say!(
            "stateleak: ignore files above the checked folders: {}",
            list(&ignore_files)
        );
    }
    if let Some((known, stale)) = baseline_note {
        if known > 0 {
            say!("stateleak: {known} findings recorded in the baseline were not reported");
        }
        if stale > 0 {
            let file = args.baseline.as_deref().unwrap_or(Path::new("")).display();
            say!(
                "stateleak: {stale} entries of the baseline match no finding (fixed or moved); refresh it with --write-baseline {file}"
            );
        }
    }
}

fn print_verbose(result: &check::CheckResult, settings_files: &[PathBuf]) {
    let paths = PathDisplay::from_env();
    if settings_files.is_empty() {
        say!("stateleak: no settings file; defaults apply");
    }
    for file in settings_files {
        say!("stateleak: settings file {}", paths.show(file));
    }
    say!(
        "stateleak: {} files analysed, {} from the cache",
        result.files_analysed,
        result.cache_hits
    );
    for (stage, time) in &result.stage_times {
        say!("stateleak: {stage:>8} {:.3}s", time.as_secs_f64());
    }
}

/// Reads the command line into the settings resolver (each folder's settings are read when met).
fn resolver_for(args: &CheckArgs) -> Result<Resolver, ConfigError> {
    let overrides = Overrides {
        selection: Selection {
            select: args
                .select
                .as_ref()
                .map(|codes| config::parse_selectors("--select", codes))
                .transpose()?,
            extend_select: config::parse_selectors("--extend-select", &args.extend_select)?,
            ignore: config::parse_selectors("--ignore", &args.ignore)?,
        },
        exclude: args.exclude.clone(),
        extend_exclude: args.extend_exclude.clone(),
        output_format: args.output_format,
        entry_points: args.entry_point.clone(),
    };
    Resolver::new(args.config.as_deref(), args.isolated, overrides)
}

fn format_name(format: OutputFormat) -> String {
    format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn run_clean(args: CleanArgs) -> u8 {
    let settings = Resolver::new(args.config.as_deref(), args.isolated, Overrides::default())
        .and_then(|resolver| {
            let first = args.paths.first().map_or(Path::new("."), PathBuf::as_path);
            resolver.for_path(first, true)
        });
    let settings = match settings {
        Ok(settings) => settings,
        Err(error) => return fatal(&error),
    };
    let dir = cache_dir::location(
        args.cache.cache_dir.as_deref(),
        settings.cache_dir.as_deref(),
        settings.file.as_deref(),
        &args.paths,
    );
    match cache_dir::remove(&dir) {
        Ok(true) => {
            say!("stateleak: removed {}", dir.display());
            SUCCESS
        }
        Ok(false) => {
            say!("stateleak: no cache at {}", dir.display());
            SUCCESS
        }
        Err(error) => {
            say!("stateleak: error: {error}");
            FAILURE
        }
    }
}

fn run_rule(args: RuleArgs) -> u8 {
    let chosen: Vec<&'static dyn rules::Rule> = if args.all || args.list {
        rules::all().to_vec()
    } else {
        let code = args.code.clone().unwrap_or_default();
        match rules::by_code(&code) {
            Some(rule) => vec![rule],
            None => {
                let known: Vec<&str> = rules::all().iter().map(|r| r.meta().code).collect();
                return fatal(&format!(
                    "unknown rule `{code}` (known rules: {})",
                    known.join(", ")
                ));
            }
        }
    };
    let text = match (args.output_format, args.list) {
        (RuleFormat::Json, _) => {
            let described: Vec<serde_json::Value> =
                chosen.iter().map(|r| rule_json(*r, !args.list)).collect();
            let value = if chosen.len() == 1 && args.code.is_some() {
                described.into_iter().next().expect("one rule")
            } else {
                serde_json::Value::Array(described)
            };
            serde_json::to_string_pretty(&value).expect("rule metadata serialises")
        }
        (RuleFormat::Text, true) => chosen
            .iter()
            .map(|r| {
                let meta = r.meta();
                let default = if meta.enabled_by_default {
                    "on "
                } else {
                    "off"
                };
                format!("{}  {default}  {}: {}", meta.code, meta.name, meta.summary)
            })
            .collect::<Vec<_>>()
            .join("\n"),
        (RuleFormat::Text, false) => chosen
            .iter()
            .map(|r| r.meta().documentation())
            .collect::<Vec<_>>()
            .join("\n\n"),
    };
    print_to_stdout(&format!("{text}\n"));
    SUCCESS
}

/// A rule's metadata (and its documentation, when asked) as JSON.
fn rule_json(rule: &dyn rules::Rule, with_documentation: bool) -> serde_json::Value {
    let meta = rule.meta();
    let mut value = serde_json::json!({
        "code": meta.code,
        "name": meta.name,
        "summary": meta.summary,
        "severity": meta.severity.as_str(),
        "enabled_by_default": meta.enabled_by_default,
        "fix": crate::syntax::fix::availability(meta.code),
        "url": rules::documentation_url(meta.code),
    });
    if with_documentation {
        value["documentation"] = meta.documentation().into();
    }
    value
}

/// Writes to standard output; a closed pipe ends quietly, other errors exit with status 2.
fn print_to_stdout(text: &str) {
    terminal::write(Stream::Stdout, text);
}
