//! The command line: argument parsing and exit statuses.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::check::{self, CheckOptions};
use crate::report::{self, OutputFormat, PathDisplay};
use crate::rules;

/// Finds state that leaks between requests in long-running Python processes.
#[derive(Debug, Parser)]
#[command(name = "stateleak", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Analyse Python files and folders and report shared state that leaks between calls.
    Check(CheckArgs),
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
    /// How findings are printed.
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    output_format: OutputFormat,
    /// Worker threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// When to colour the text output.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
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
    let mut options = CheckOptions::new(args.paths);
    options.threads = args.threads;
    let result = check::check(&options);
    let paths = PathDisplay::from_env();
    let rendered = match args.output_format {
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
        OutputFormat::Json => report::render_json(&result, &paths),
    };
    let mut stdout = std::io::stdout().lock();
    // A closed pipe (`stateleak check | head`) is not an error of the analysis.
    let _ = stdout.write_all(rendered.as_bytes());
    let _ = stdout.flush();
    if result.files_checked == 0 && result.errors.is_empty() {
        eprintln!("stateleak: warning: no Python files found");
    }
    eprintln!("{}", report::summary_line(&result));

    let nothing_read = result.files_checked > 0 && result.files_analysed == 0;
    if result.has_internal_errors() || result.missing_paths || nothing_read {
        FAILURE
    } else if result.findings.is_empty() {
        SUCCESS
    } else {
        FINDINGS
    }
}

fn run_rule(args: RuleArgs) -> u8 {
    if args.all {
        let docs: Vec<&str> = rules::all()
            .iter()
            .map(|r| r.meta().documentation())
            .collect();
        println!("{}", docs.join("\n\n"));
        return SUCCESS;
    }
    let code = args.code.unwrap_or_default();
    match rules::by_code(&code) {
        Some(rule) => {
            println!("{}", rule.meta().documentation());
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
