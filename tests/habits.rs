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

// --- output formats ---

/// A project with a finding that has a fix, an unused suppression and a file with a syntax error.
fn varied_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "tags.py",
        "def add_tag(tag, tags=[]):\n    tags.append(tag)\n    return tags\n\n\nx = 1  # noqa: SL101\n",
    );
    write(dir.path(), "broken.py", "def broken(:\n");
    dir
}

fn formatted(dir: &Path, format: &str) -> String {
    let (status, out, err) = check(
        dir,
        &[".", "--show-unused-suppressions", "--output-format", format],
    );
    assert_eq!(status, Some(1), "{format}: {out}{err}");
    out
}

#[test]
fn gitlab_rdjson_and_json_lines_are_structured_as_their_consumers_read_them() {
    let dir = varied_project();
    let gitlab: serde_json::Value = serde_json::from_str(&formatted(dir.path(), "gitlab")).unwrap();
    let issues = gitlab.as_array().unwrap();
    assert_eq!(issues.len(), 3, "{gitlab:#}");
    for issue in issues {
        for key in ["description", "check_name", "fingerprint", "severity"] {
            assert!(issue[key].is_string(), "{key}: {issue}");
        }
        assert!(issue["location"]["path"].is_string());
        assert!(issue["location"]["lines"]["begin"].is_u64());
    }
    assert_eq!(issues[0]["check_name"], "SL301");
    assert_eq!(issues[0]["location"]["lines"]["begin"], 2);

    let rdjson: serde_json::Value = serde_json::from_str(&formatted(dir.path(), "rdjson")).unwrap();
    let first = &rdjson["diagnostics"][0];
    assert_eq!(first["code"]["value"], "SL301");
    assert_eq!(first["location"]["range"]["start"]["line"], 2);
    assert_eq!(first["location"]["range"]["start"]["column"], 5);
    assert_eq!(first["suggestions"][0]["text"], "None");
    assert_eq!(rdjson["diagnostics"].as_array().unwrap().len(), 3);

    let lines = formatted(dir.path(), "json-lines");
    let kinds: Vec<String> = lines
        .lines()
        .map(|l| {
            let value: serde_json::Value = serde_json::from_str(l).unwrap();
            value["kind"].as_str().unwrap().to_string()
        })
        .collect();
    assert_eq!(kinds, ["finding", "unused_suppression", "error"]);
}

#[test]
fn line_formats_and_junit() {
    let dir = varied_project();
    let pylint = formatted(dir.path(), "pylint");
    assert!(
        pylint.starts_with("tags.py:2: [SL301] `tags` defaults to"),
        "{pylint}"
    );
    assert!(
        pylint.contains("tags.py:6: [SL000] unused suppression"),
        "{pylint}"
    );
    assert!(pylint.contains("broken.py:1: [E] "), "{pylint}");
    let azure = formatted(dir.path(), "azure");
    assert!(
        azure.starts_with(
            "##vso[task.logissue type=error;sourcepath=tags.py;linenumber=2;columnnumber=5;code=SL301;]"
        ),
        "{azure}"
    );
    let junit = formatted(dir.path(), "junit");
    assert!(junit.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"stateleak\" tests=\"3\" failures=\"2\" errors=\"1\">"), "{junit}");
    assert!(
        junit.contains("<testcase name=\"SL301 2:5\" classname=\"tags.py\""),
        "{junit}"
    );
    assert!(junit.contains("<error message=\"syntax error"), "{junit}");
}

#[test]
fn output_file_json_url_and_fix_and_rule_metadata() {
    let dir = varied_project();
    let (status, out, _) = check(
        dir.path(),
        &[".", "--output-format", "json", "-o", "report.json"],
    );
    assert_eq!((status, out.as_str()), (Some(1), ""));
    let text = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let report: serde_json::Value = serde_json::from_str(&text).unwrap();
    let finding = &report["findings"][0];
    assert!(
        finding["url"]
            .as_str()
            .unwrap()
            .ends_with("docs/rules/SL301.md")
    );
    assert_eq!(finding["fix"]["applicability"], "safe");
    let edits = finding["fix"]["edits"].as_array().unwrap();
    assert_eq!(edits[0]["content"], "None");
    assert_eq!(
        edits[0]["location"],
        serde_json::json!({"line": 1, "column": 23})
    );

    let output = stateleak(dir.path(), &["rule", "SL301", "--output-format", "json"]);
    let rule: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(rule["code"], "SL301");
    assert_eq!(rule["fix"], "sometimes");
    assert!(
        rule["documentation"]
            .as_str()
            .unwrap()
            .starts_with("# SL301")
    );
    let output = stateleak(dir.path(), &["rule", "--list"]);
    let list = String::from_utf8(output.stdout).unwrap();
    assert_eq!(
        list.lines().count(),
        stateleak::rules::all().len(),
        "{list}"
    );
    assert!(
        list.starts_with("SL101  on   shared-class-state-mutated-through-instance: "),
        "{list}"
    );
}

// --- fixes ---

#[test]
fn diff_changes_nothing_and_fix_applies_safe_fixes_then_reports_what_is_left() {
    let dir = tempfile::tempdir().unwrap();
    let source = "class Remixer:\n    _cache = {}\n\n    def remix(self, key, seen=[]):\n        seen.append(key)\n        self._cache[key] = 1\n";
    write(dir.path(), "remix.py", source);
    let (status, diff, _) = check(dir.path(), &[".", "--diff"]);
    assert_eq!(status, Some(1));
    assert!(diff.contains("--- a/remix.py\n+++ b/remix.py\n"), "{diff}");
    assert!(diff.contains("+        if seen is None:"), "{diff}");
    assert!(
        !diff.contains("-    _cache = {}"),
        "unsafe fixes need --unsafe-fixes: {diff}"
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("remix.py")).unwrap(),
        source
    );

    let (status, out, err) = check(dir.path(), &[".", "--fix", "--output-format", "concise"]);
    assert_eq!(status, Some(1), "{err}");
    assert!(err.contains("applied 1 fixes in 1 files"), "{err}");
    assert!(
        err.contains("1 findings have unsafe fixes: apply them with --fix --unsafe-fixes"),
        "{err}"
    );
    assert!(out.contains("SL101") && !out.contains("SL301"), "{out}");

    let (status, _, err) = check(dir.path(), &[".", "--fix", "--unsafe-fixes"]);
    assert_eq!(status, Some(0), "{err}");
    assert_eq!(
        std::fs::read_to_string(dir.path().join("remix.py")).unwrap(),
        "class Remixer:\n    def __init__(self):\n        self._cache = {}\n\n    def remix(self, key, seen=None):\n        if seen is None:\n            seen = []\n        seen.append(key)\n        self._cache[key] = 1\n"
    );
}

#[test]
fn target_version_decides_how_annotations_become_optional() {
    let dir = tempfile::tempdir().unwrap();
    let source = "def add(tag: str, tags: list[str] = []) -> list[str]:\n    tags.append(tag)\n    return tags\n";
    write(dir.path(), "tags.py", source);
    write(
        dir.path(),
        "pyproject.toml",
        "[project]\nname = \"t\"\nrequires-python = \">=3.10\"\n\n[tool.stateleak]\n",
    );
    let (_, diff, _) = check(dir.path(), &[".", "--diff"]);
    assert!(
        diff.contains("+def add(tag: str, tags: list[str] | None = None) -> list[str]:"),
        "{diff}"
    );
    write(
        dir.path(),
        "pyproject.toml",
        "[tool.stateleak]\ntarget-version = \"py39\"\n",
    );
    let (_, diff, _) = check(dir.path(), &[".", "--diff"]);
    assert!(diff.contains("+from typing import Optional\n"), "{diff}");
    assert!(diff.contains("tags: Optional[list[str]] = None"), "{diff}");
}

#[test]
fn add_noqa_suppresses_every_current_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", LEAK);
    let (status, _, err) = check(dir.path(), &[".", "--add-noqa"]);
    assert_eq!(status, Some(0), "{err}");
    assert!(
        err.contains("added 1 suppression comments in 1 files"),
        "{err}"
    );
    let text = std::fs::read_to_string(dir.path().join("leak.py")).unwrap();
    assert!(
        text.ends_with("        self._cache[key] = 1  # noqa: SL101\n"),
        "{text}"
    );
    let (status, _, _) = check(dir.path(), &["."]);
    assert_eq!(status, Some(0));
}

// --- packaging ---

#[test]
fn the_wheel_hook_matches_the_source_hook_and_pins_this_version() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let read = |name: &str| std::fs::read_to_string(root.join(name)).unwrap();
    assert_eq!(
        read(".pre-commit-hooks.yaml"),
        read("pre-commit-mirror/.pre-commit-hooks.yaml"),
        "the hook installed from wheels must behave as the one built from source"
    );
    let mirror = read("pre-commit-mirror/pyproject.toml");
    let version = env!("CARGO_PKG_VERSION");
    assert!(
        mirror.contains(&format!("version = \"{version}\"")),
        "pre-commit-mirror/pyproject.toml: version {version}"
    );
    assert!(
        mirror.contains(&format!("\"stateleak=={version}\"")),
        "pre-commit-mirror/pyproject.toml must pin stateleak=={version}"
    );
}
