//! The facts cache end to end: a warm run reports exactly what a cold run reports, an edited file
//! is parsed again, and `--no-cache` leaves no cache behind.

use std::path::Path;
use std::process::Command;

const LEAKY: &str = "class Cache:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n";
const FIXED: &str = "class Cache:\n    def __init__(self):\n        self.items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n";

/// Runs `stateleak check --output-format json ARGS` in `dir`; returns stdout.
fn check(dir: &Path, args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .current_dir(dir)
        .args(["check", "--output-format", "json"])
        .args(args)
        .output()
        .expect("stateleak runs");
    assert!(
        output.status.code().is_some_and(|c| c <= 1),
        "stateleak failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 output")
}

#[test]
fn warm_runs_report_what_cold_runs_report() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    std::fs::write(dir.path().join("app/cache.py"), LEAKY).unwrap();
    std::fs::write(dir.path().join("app/broken.py"), "def broken(:\n").unwrap();

    let uncached = check(dir.path(), &["--no-cache", "app"]);
    assert!(!dir.path().join(".stateleak_cache").exists());
    let cold = check(dir.path(), &["app"]);
    let cache_file = dir.path().join(".stateleak_cache/facts.bin");
    assert!(cache_file.is_file());
    assert!(dir.path().join(".stateleak_cache/.gitignore").is_file());
    let warm = check(dir.path(), &["app"]);
    assert_eq!(uncached, cold);
    assert_eq!(cold, warm);
    assert!(warm.contains("SL101"), "{warm}");
    assert!(warm.contains("syntax error"), "{warm}");

    // An edited file is parsed again: the finding goes away.
    std::fs::write(dir.path().join("app/cache.py"), FIXED).unwrap();
    let edited = check(dir.path(), &["app"]);
    assert!(!edited.contains("SL101"), "{edited}");
    assert_eq!(edited, check(dir.path(), &["--no-cache", "app"]));

    // A damaged cache is ignored, and replaced.
    std::fs::write(&cache_file, b"not a cache").unwrap();
    assert_eq!(check(dir.path(), &["app"]), edited);
}
