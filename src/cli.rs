//! The command line: argument parsing and exit statuses.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::baseline;
use crate::check::{self, CheckOptions};
use crate::config::{self, ConfigError, Overrides, Selection, Settings};
use crate::report::{self, OutputFormat, PathDisplay};
use crate::rules;

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
    /// Parse every file instead of reusing facts cached in `.stateleak_cache/` (which is then
    /// neither read nor written).
    #[arg(long)]
    no_cache: bool,
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
        Command::ParseOnly { paths, threads } => {
            let (files, failed) = check::parse_only(&paths, threads);
            eprintln!("stateleak: parsed {files} files, {failed} with errors");
            SUCCESS
        }
    };
    ExitCode::from(status)
}

fn run_check(args: CheckArgs) -> u8 {
    let settings = match settings_for(&args) {
        Ok(settings) => settings,
        Err(error) => {
            eprintln!("stateleak: error: {error}");
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
        eprintln!(
            "stateleak: error: --statistics prints text or json, not `{}`",
            format_name(format)
        );
        return FAILURE;
    }
    let baseline = match args.baseline.as_deref().map(baseline::load).transpose() {
        Ok(baseline) => baseline,
        Err(error) => {
            eprintln!("stateleak: error: {error}");
            return FAILURE;
        }
    };

    let mut options = match project_options(&args) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("stateleak: error: {error}");
            return FAILURE;
        }
    };
    options.threads = args.threads;
    if !args.no_cache {
        options.cache_dir = Some(PathBuf::from(crate::cache::DEFAULT_DIR));
    }
    settings.apply_to(&mut options);
    if let Some(size) = args.max_file_size {
        options.max_file_size = size;
    }
    options.report_unused_suppressions = args.show_unused_suppressions;
    options.progress = true;
    let mut result = check::check(&options);

    if let Some(file) = &args.write_baseline {
        if let Err(error) = baseline::write(file, &result.findings) {
            eprintln!("stateleak: error: {error}");
            return FAILURE;
        }
        eprintln!(
            "stateleak: recorded {} findings in {}",
            result.findings.len(),
            file.display()
        );
        eprintln!("{}", report::summary_line(&result));
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
    if let Some(wanted) = &args.explain {
        return explain(&result, &paths, wanted);
    }
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
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`stateleak check | head`) is not an error of the analysis.
    let _ = stdout.write_all(rendered.as_bytes());
    let _ = stdout.flush();
    if result.files_checked == 0 && result.errors.is_empty() {
        eprintln!("stateleak: warning: no Python files found");
    }
    eprintln!("{}", report::summary_line(&result));
    if known > 0 {
        eprintln!("stateleak: {known} findings recorded in the baseline were not reported");
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
fn explain(result: &check::CheckResult, paths: &PathDisplay, wanted: &str) -> u8 {
    let Some(finding) = result
        .findings
        .iter()
        .find(|f| report::fingerprint(f, paths) == wanted)
    else {
        eprintln!("stateleak: error: no finding has the fingerprint `{wanted}`");
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
    if let Some(definition) = finding.related.first() {
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
    print_to_stdout(&out);
    SUCCESS
}

/// Reads the settings file and merges the command line into it.
fn settings_for(args: &CheckArgs) -> Result<Settings, ConfigError> {
    let (file, warnings) =
        config::discover(&named_paths(args), args.config.as_deref(), args.isolated)?;
    for warning in warnings {
        eprintln!("stateleak: warning: {warning}");
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

fn run_rule(args: RuleArgs) -> u8 {
    if args.all {
        let docs: Vec<&str> = rules::all()
            .iter()
            .map(|r| r.meta().documentation())
            .collect();
        print_to_stdout(&format!("{}\n", docs.join("\n\n")));
        return SUCCESS;
    }
    let code = args.code.unwrap_or_default();
    match rules::by_code(&code) {
        Some(rule) => {
            print_to_stdout(&format!("{}\n", rule.meta().documentation()));
            SUCCESS
        }
        None => {
            let known: Vec<&str> = rules::all().iter().map(|r| r.meta().code).collect();
            eprintln!(
                "stateleak: error: unknown rule `{code}` (known rules: {})",
                known.join(", ")
            );
            FAILURE
        }
    }
}

/// Writes to standard output; a closed pipe (`stateleak rule --all | head`) is not an error.
fn print_to_stdout(text: &str) {
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}
