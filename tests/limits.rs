//! Inputs and limits stateleak must refuse or live with, saying so: notebooks, and memory limits
//! or process limits too low for one worker thread per core.

mod common;

use common::{stateleak, write};

const LEAK: &str =
    "class Cache:\n    items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n";

#[test]
fn a_notebook_named_on_the_command_line_is_refused_clearly() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "analysis.ipynb",
        r#"{"cells": [{"cell_type": "code", "source": ["x = {}\n"]}], "nbformat": 4}"#,
    );
    write(dir.path(), "app.py", LEAK);
    let output = stateleak(
        dir.path(),
        &[
            "check",
            "--no-cache",
            "--output-format",
            "concise",
            "analysis.ipynb",
            "app.py",
        ],
    );
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "analysis.ipynb: error: a Jupyter notebook: stateleak does not analyse notebooks"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("app.py:5:9: SL101"), "{stdout}");
    // Alone, nothing was analysed: the run fails.
    let output = stateleak(dir.path(), &["check", "--no-cache", "analysis.ipynb"]);
    assert_eq!(output.status.code(), Some(2));
}

/// Runs `stateleak ARGS` in `dir` under `ulimit -v KILOBYTES`.
#[cfg(target_os = "linux")]
fn stateleak_with_memory_limit(
    dir: &std::path::Path,
    kilobytes: u32,
    args: &str,
) -> std::process::Output {
    let script = format!(
        "ulimit -v {kilobytes} && exec '{}' {args}",
        env!("CARGO_BIN_EXE_stateleak")
    );
    std::process::Command::new("sh")
        .args(["-c", &script])
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

#[cfg(target_os = "linux")]
#[test]
fn a_memory_limit_starts_fewer_threads_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.py", LEAK);
    // Four 256 MiB stacks do not fit in 800 MB of address space; two do.
    let output =
        stateleak_with_memory_limit(dir.path(), 800_000, "check --no-cache --threads 4 app.py");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could start only"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("SL101"));

    // Too little for even one: an error, not a panic.
    let output = stateleak_with_memory_limit(dir.path(), 200_000, "check --no-cache app.py");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("cannot start a worker thread"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Runs `stateleak ARGS` in `dir` as the unprivileged user `nobody` under a process limit of
/// `processes` (the superuser is exempt from that limit, so the test drops to another user). `None`
/// when the test does not run as the superuser or lacks `setpriv`/`prlimit`.
#[cfg(target_os = "linux")]
fn stateleak_with_process_limit(
    dir: &std::path::Path,
    processes: u32,
    args: &[&str],
) -> Option<std::process::Output> {
    use std::os::unix::fs::PermissionsExt;
    let id = std::process::Command::new("id").arg("-u").output().ok()?;
    if String::from_utf8_lossy(&id.stdout).trim() != "0" {
        return None;
    }
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    let limit = format!("--nproc={processes}:{processes}");
    let output = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            "prlimit",
        ])
        .arg(limit)
        .arg(env!("CARGO_BIN_EXE_stateleak"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .ok()?;
    Some(output)
}

#[cfg(target_os = "linux")]
#[test]
fn a_process_limit_starts_fewer_threads_and_says_so() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app.py", LEAK);
    let args = ["check", "--no-cache", "--threads", "4", "app.py"];
    let Some(output) = stateleak_with_process_limit(dir.path(), 2, &args) else {
        eprintln!("skipped: needs the superuser, setpriv and prlimit to run as another user");
        return;
    };
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("could start only 1 of 4"), "{stderr}");
    assert!(String::from_utf8_lossy(&output.stdout).contains("SL101"));

    // No thread at all: an error entry, not a panic.
    let output = stateleak_with_process_limit(dir.path(), 1, &args).unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&output.stdout).contains("cannot start a worker thread"),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
