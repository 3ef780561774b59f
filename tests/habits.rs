//! End-to-end tests of what teams wire into CI: settings per folder, exit statuses, verbosity,
//! summaries and baselines that report stale entries.

mod common;

use common::{stateleak, write};
use std::path::Path;

/// SL101 on line 5 (the write); the shared dict is defined on line 2.
const LEAK: &str =
    "class Remixer:\n    _cache = {}\n\n    def remix(self, key):\n        self._cache[key] = 1\n";

/// `check --no-cache ARGS...` in `dir`: status, stdout, stderr.
fn check(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check", "--no-cache"];
    all.extend_from_slice(args);
    let output = stateleak(dir, &all);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A monorepo: `a/` turns SL101 off in its own pyproject, `b/` has no settings.
fn monorepo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "a/leak.py", LEAK);
    write(dir.path(), "b/leak.py", LEAK);
    write(
        dir.path(),
        "a/pyproject.toml",
        "[project]\nname = \"a\"\n\n[tool.stateleak]\nignore = [\"SL101\"]\n",
    );
    dir
}

#[test]
fn each_file_uses_the_nearest_settings_file() {
    let dir = monorepo();
    let (status, out, err) = check(dir.path(), &["--output-format", "concise", "."]);
    assert_eq!(status, Some(1), "{out}{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("b/leak.py:5:9: SL101"), "{out}");
    assert!(err.contains("settings from a/pyproject.toml"), "{err}");
}

#[test]
fn the_order_of_paths_does_not_change_the_result() {
    let dir = monorepo();
    let (_, ab, _) = check(dir.path(), &["--output-format", "concise", "a", "b"]);
    let (_, ba, _) = check(dir.path(), &["--output-format", "concise", "b", "a"]);
    assert_eq!(ab, ba);
    assert!(
        ab.contains("b/leak.py") && !ab.contains("a/leak.py"),
        "{ab}"
    );
}

#[test]
fn extend_inherits_and_the_extending_file_overrides() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "stateleak.toml",
        "ignore = [\"SL101\"]\nexclude = [\"skipped\"]\n",
    );
    write(dir.path(), "svc/leak.py", LEAK);
    write(dir.path(), "svc/skipped/leak.py", LEAK);
    write(
        dir.path(),
        "svc/stateleak.toml",
        "extend = \"../stateleak.toml\"\n",
    );
    let (status, out, err) = check(dir.path(), &["--output-format", "concise", "svc"]);
    assert_eq!(
        status,
        Some(0),
        "inherits the ignore and the exclude: {out}{err}"
    );
    write(
        dir.path(),
        "svc/stateleak.toml",
        "extend = \"../stateleak.toml\"\nextend-select = [\"SL101\"]\n",
    );
    let (status, out, _) = check(dir.path(), &["--output-format", "concise", "svc"]);
    assert_eq!(status, Some(1), "{out}");
    assert_eq!(
        out.lines().count(),
        1,
        "the exclude is still inherited: {out}"
    );
    let (_, settings, _) = check(dir.path(), &["--show-settings", "svc/leak.py"]);
    assert!(settings.contains("svc/stateleak.toml"), "{settings}");
    assert!(
        settings
            .lines()
            .any(|l| l.starts_with("exclude = [\"skipped\"]")
                && l.contains(&format!("{}", dir.path().join("stateleak.toml").display()))),
        "{settings}"
    );

    write(
        dir.path(),
        "stateleak.toml",
        "extend = \"svc/stateleak.toml\"\n",
    );
    let (status, _, err) = check(dir.path(), &["svc"]);
    assert_eq!(status, Some(2));
    assert!(err.contains("`extend` makes a cycle"), "{err}");
}

#[test]
fn show_settings_names_each_origin_and_show_files_lists_the_files() {
    let dir = monorepo();
    let (status, out, _) = check(
        dir.path(),
        &["--show-settings", "a/leak.py", "--ignore", "SL102"],
    );
    assert_eq!(status, Some(0));
    let rules = out.lines().find(|l| l.starts_with("rules = ")).unwrap();
    assert!(
        !rules.contains("SL101") && !rules.contains("SL102"),
        "{rules}"
    );
    assert!(rules.contains("SL103"), "{rules}");
    assert!(
        rules.contains("pyproject.toml") && rules.contains("command line"),
        "{rules}"
    );
    assert!(
        out.contains("output-format = \"text\"  # from default"),
        "{out}"
    );

    write(dir.path(), "b/build/generated.py", LEAK);
    let (status, out, _) = check(dir.path(), &["--show-files", "."]);
    assert_eq!(status, Some(0));
    assert_eq!(out, "a/leak.py\nb/leak.py\n");
}

#[test]
fn error_entries_make_the_exit_status_one_unless_exit_zero() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "good.py", "x = 1\n");
    write(dir.path(), "bad.py", "def broken(:\n");
    let (status, _, err) = check(dir.path(), &["."]);
    assert_eq!(status, Some(1), "{err}");
    let (status, _, _) = check(dir.path(), &[".", "--exit-zero"]);
    assert_eq!(status, Some(0));
    write(dir.path(), "leak.py", LEAK);
    std::fs::remove_file(dir.path().join("bad.py")).unwrap();
    let (status, out, _) = check(
        dir.path(),
        &[".", "--exit-zero", "--output-format", "concise"],
    );
    assert_eq!(status, Some(0));
    assert!(out.contains("SL101"), "{out}");
    // Fatal errors are not hidden by --exit-zero.
    let (status, _, _) = check(dir.path(), &[".", "--exit-zero", "--select", "SL9"]);
    assert_eq!(status, Some(2));
}

#[test]
fn quiet_silent_and_verbose() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", LEAK);
    write(
        dir.path(),
        "stateleak.toml",
        "output-format = \"concise\"\n",
    );
    let (status, out, err) = check(dir.path(), &[".", "--quiet"]);
    assert_eq!(status, Some(1));
    assert!(out.contains("SL101"));
    assert_eq!(err, "");
    let (status, out, err) = check(dir.path(), &[".", "--silent"]);
    assert_eq!((status, out.as_str(), err.as_str()), (Some(1), "", ""));
    let (_, _, err) = check(dir.path(), &[".", "--verbose"]);
    assert!(err.contains("settings file stateleak.toml"), "{err}");
    assert!(err.contains("1 files analysed, 0 from the cache"), "{err}");
    for stage in ["discover", "parse", "link", "rules", "report"] {
        assert!(err.contains(stage), "{stage}: {err}");
    }
}

#[test]
fn the_summary_names_ignore_files_above_and_warns_when_everything_is_excluded() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".ignore", "*.py\n");
    write(dir.path(), "project/leak.py", LEAK);
    let (status, _, err) = check(&dir.path().join("project"), &["."]);
    assert_eq!(status, Some(0), "{err}");
    assert!(
        err.contains("warning: no Python files found; everything"),
        "{err}"
    );
    assert!(
        err.contains("ignore files above the checked folders: "),
        "{err}"
    );
    assert!(err.contains(".ignore"), "{err}");
}

#[test]
fn settings_that_surprise_are_refused_precisely() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", LEAK);
    write(
        dir.path(),
        "pyproject.toml",
        "[tool]\nstateleak = [\"SL101\"]\n",
    );
    let (status, _, err) = check(dir.path(), &["."]);
    assert_eq!(status, Some(2));
    assert!(
        err.contains("pyproject.toml:2:13: `tool.stateleak` must be a table"),
        "{err}"
    );
    std::fs::remove_file(dir.path().join("pyproject.toml")).unwrap();
    let (status, _, err) = check(dir.path(), &[".", "--config", "/dev/zero"]);
    assert_eq!(status, Some(2));
    assert!(
        err.contains("/dev/zero: the configuration file given with --config is not a regular file"),
        "{err}"
    );
}

#[test]
fn baselines_with_a_bom_are_read_and_stale_entries_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", LEAK);
    write(dir.path(), "other.py", LEAK);
    let (status, _, _) = check(dir.path(), &[".", "--write-baseline", "base.json"]);
    assert_eq!(status, Some(0));
    let text = std::fs::read_to_string(dir.path().join("base.json")).unwrap();
    write(dir.path(), "base.json", &format!("\u{feff}{text}"));
    std::fs::remove_file(dir.path().join("other.py")).unwrap();
    let (status, _, err) = check(dir.path(), &[".", "--baseline", "base.json"]);
    assert_eq!(status, Some(0), "{err}");
    assert!(
        err.contains("1 entries of the baseline match no finding (fixed or moved); refresh it with --write-baseline base.json"),
        "{err}"
    );
}
