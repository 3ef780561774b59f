//! The command line: argument parsing and exit statuses.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline;
use crate::cache_dir;
use crate::check::{self, CheckOptions};
use crate::config::{self, ConfigError, Overrides, Selection, Settings};
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
    /// Print the documentation of a rule (or of every rule, with --all).
    Rule(RuleArgs),
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
    #[arg(required_unless_present = "all")]
    code: Option<String>,
    /// Print every rule's documentation.
    #[arg(long, conflicts_with = "code")]
    all: bool,
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
        Command::Rule(args) => run_rule(args),
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
    let settings = match settings_for(&args) {
        Ok(settings) => settings,
        Err(error) => {
            say!("stateleak: error: {error}");
            return FAILURE;
        }
    };
    let format = settings.output_format;
    if args.statistics
        && !matches!(
            format,
            OutputFormat::Text | OutputFormat::Concise | OutputFormat::Json
        )
    {
        say!(
            "stateleak: error: --statistics prints text or json, not `{}`",
            format_name(format)
        );
        return FAILURE;
    }
    let baseline = match args.baseline.as_deref().map(baseline::load).transpose() {
        Ok(baseline) => baseline,
        Err(error) => {
            say!("stateleak: error: {error}");
            return FAILURE;
        }
    };

    let mut options = CheckOptions::new(args.paths.clone());
    options.threads = args.threads;
    if !args.no_cache {
        options.cache_dir = Some(cache_dir::location(
            args.cache.cache_dir.as_deref(),
            settings.cache_dir.as_deref(),
            settings.file.as_deref(),
            &args.paths,
        ));
    }
    options.rules = settings.rules;
    // Added to, not replaced: options given on the command line may already be there.
    let configured = settings.rule_settings;
    options
        .rule_settings
        .safe_bases
        .extend(configured.safe_bases);
    options
        .rule_settings
        .entry_points
        .extend(configured.entry_points);
    if let Some(size) = args.max_file_size.or(settings.max_file_size) {
        options.max_file_size = size;
    }
    let exclude = settings.exclude;
    options.exclude = Some(Arc::new(move |path: &Path, _is_dir: bool| {
        exclude.is_match(path)
    }));
    options.per_file_ignores = settings.per_file_ignores;
    options.src = settings.src;
    options.report_unused_suppressions = args.show_unused_suppressions;
    options.progress = true;
    let mut result = check::check(&options);

    if let Some(file) = &args.write_baseline {
        if let Err(error) = baseline::write(file, &result.findings) {
            say!("stateleak: error: {error}");
            return FAILURE;
        }
        say!(
            "stateleak: recorded {} findings in {}",
            result.findings.len(),
            file.display()
        );
        say!("{}", report::summary_line(&result));
        return if result.has_internal_errors() || result.missing_paths {
            FAILURE
        } else {
            SUCCESS
        };
    }
    let mut known = 0;
    if let Some(baseline) = &baseline {
        let findings = std::mem::take(&mut result.findings);
        (result.findings, known) = baseline.filter(findings);
    }

    let paths = PathDisplay::from_env();
    let rendered = if args.statistics {
        report::render_statistics(&result, format == OutputFormat::Json)
    } else {
        match format {
            OutputFormat::Text => {
                let color = match args.color {
                    ColorChoice::Always => true,
                    ColorChoice::Never => false,
                    ColorChoice::Auto => {
                        std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
                    }
                };
                report::render_text(&result, &paths, color)
            }
            OutputFormat::Concise => report::render_concise(&result, &paths),
            OutputFormat::Json => report::render_json(&result, &paths),
            OutputFormat::Sarif => report::render_sarif(&result, &paths),
            OutputFormat::Github => report::render_github(&result, &paths),
        }
    };
    terminal::write(Stream::Stdout, &rendered);
    for warning in &result.warnings {
        say!("stateleak: warning: {warning}");
    }
    if result.files_checked == 0 && result.errors.is_empty() {
        say!("stateleak: warning: no Python files found");
    }
    say!("{}", report::summary_line(&result));
    if known > 0 {
        say!("stateleak: {known} findings recorded in the baseline were not reported");
    }

    let nothing_read = result.files_checked > 0 && result.files_analysed == 0;
    if result.has_internal_errors() || result.missing_paths || nothing_read {
        FAILURE
    } else if result.findings.is_empty() && result.unused_suppressions.is_empty() {
        SUCCESS
    } else {
        FINDINGS
    }
}

/// Reads the settings file and merges the command line into it.
fn settings_for(args: &CheckArgs) -> Result<Settings, ConfigError> {
    let (file, warnings) = config::discover(&args.paths, args.config.as_deref(), args.isolated)?;
    for warning in warnings {
        say!("stateleak: warning: {warning}");
    }
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
    config::resolve(&file, &overrides)
}

fn format_name(format: OutputFormat) -> String {
    format
        .to_possible_value()
        .map(|v| v.get_name().to_string())
        .unwrap_or_default()
}

fn run_clean(args: CleanArgs) -> u8 {
    let (file, _) = match config::discover(&args.paths, args.config.as_deref(), args.isolated) {
        Ok(found) => found,
        Err(error) => {
            say!("stateleak: error: {error}");
            return FAILURE;
        }
    };
    let dir = cache_dir::location(
        args.cache.cache_dir.as_deref(),
        file.options.cache_dir.as_deref(),
        file.path.as_deref(),
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
    if args.all {
        let docs: Vec<&str> = rules::all()
            .iter()
            .map(|r| r.meta().documentation())
            .collect();
        terminal::write(Stream::Stdout, &format!("{}\n", docs.join("\n\n")));
        return SUCCESS;
    }
    let code = args.code.unwrap_or_default();
    match rules::by_code(&code) {
        Some(rule) => {
            terminal::write(
                Stream::Stdout,
                &format!("{}\n", rule.meta().documentation()),
            );
            SUCCESS
        }
        None => {
            let known: Vec<&str> = rules::all().iter().map(|r| r.meta().code).collect();
            say!(
                "stateleak: error: unknown rule `{code}` (known rules: {})",
                known.join(", ")
            );
            FAILURE
        }
    }
}
