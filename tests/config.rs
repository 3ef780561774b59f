//! End-to-end tests of configuration, suppression comments and baselines.

mod common;

use common::{stateleak, write};
use std::path::Path;

/// SL101 on line 5 (the write); the shared dict is defined on line 2.
const LEAK: &str =
    "class Remixer:\n    _cache = {}\n\n    def remix(self, key):\n        self._cache[key] = 1\n";

/// `check --no-cache --output-format concise ARGS...`
fn concise(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let mut all = vec!["check", "--no-cache", "--output-format", "concise"];
    all.extend_from_slice(args);
    let output = stateleak(dir, &all);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn project(config_name: &str, config: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/leak.py", LEAK);
    if !config_name.is_empty() {
        write(dir.path(), config_name, config);
    }
    dir
}

#[test]
fn without_settings_the_leak_is_reported() {
    let dir = project("", "");
    let (status, out, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(1));
    assert_eq!(
        out.trim(),
        "app/leak.py:5:9: SL101 `_cache` is one dict shared by every `Remixer`; `remix` writes into it through `self`"
    );
}

#[test]
fn ignore_in_pyproject_turns_a_rule_off_and_the_command_line_turns_it_back_on() {
    let dir = project(
        "pyproject.toml",
        "[project]\nname = \"demo\"\n\n[tool.stateleak]\nignore = [\"SL1\"]\n",
    );
    let (status, out, err) = concise(dir.path(), &["app"]);
    assert_eq!(status, Some(0), "{out}{err}");
    let (status, out, _) = concise(dir.path(), &["app", "--extend-select", "SL101"]);
    assert_eq!(status, Some(1));
    assert!(out.contains("SL101"));
    // --isolated ignores the file.
    let (status, _, _) = concise(dir.path(), &["app", "--isolated"]);
    assert_eq!(status, Some(1));
}

#[test]
fn select_all_minus_a_prefix_and_a_more_specific_select() {
    let dir = project(
        "stateleak.toml",
        "select = [\"ALL\"]\nignore = [\"SL\"]\nextend-select = [\"SL101\"]\n",
    );
    let (status, out, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(1));
    assert!(out.contains("SL101"));
    // A tie between select and ignore: ignore wins.
    let (status, _, _) = concise(dir.path(), &[".", "--select", "SL101", "--ignore", "SL101"]);
    assert_eq!(status, Some(0));
}

#[test]
fn the_nearest_settings_file_wins() {
    let dir = project(".stateleak.toml", "ignore = [\"SL101\"]\n");
    write(dir.path(), "app/stateleak.toml", "select = [\"SL101\"]\n");
    let (status, _, _) = concise(dir.path(), &["app"]);
    assert_eq!(
        status,
        Some(1),
        "app/stateleak.toml is nearer than ./.stateleak.toml"
    );
    let (status, _, _) = concise(dir.path(), &["app/leak.py"]);
    assert_eq!(status, Some(1));
    std::fs::remove_file(dir.path().join("app/stateleak.toml")).unwrap();
    let (status, _, _) = concise(dir.path(), &["app"]);
    assert_eq!(status, Some(0));
}

#[test]
fn config_option_names_the_file() {
    let dir = project("", "");
    write(dir.path(), "ci/strict.toml", "ignore = [\"SL101\"]\n");
    let (status, _, err) = concise(dir.path(), &[".", "--config", "ci/strict.toml"]);
    assert_eq!(status, Some(0), "{err}");
}

#[test]
fn per_file_ignores_and_exclude() {
    let dir = project(
        "stateleak.toml",
        "[per-file-ignores]\n\"app/*.py\" = [\"SL101\"]\n",
    );
    let (status, _, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(0));

    let dir = project("stateleak.toml", "extend-exclude = [\"app\"]\n");
    let (status, _, err) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(0));
    assert!(err.contains("no Python files"), "{err}");
    // A file named on the command line is always checked.
    let (status, _, _) = concise(dir.path(), &["app/leak.py"]);
    assert_eq!(status, Some(1));
    // The command line replaces the setting.
    let dir = project("stateleak.toml", "exclude = [\"app\"]\n");
    let (status, _, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(0));
    let (status, _, _) = concise(dir.path(), &[".", "--exclude", "nothing"]);
    assert_eq!(status, Some(1));
}

#[test]
fn output_format_setting_and_its_override() {
    let dir = project("stateleak.toml", "output-format = \"json\"\n");
    let output = stateleak(dir.path(), &["check", "--no-cache", "."]);
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(doc["findings"][0]["code"], "SL101");
    let (_, out, _) = concise(dir.path(), &["."]);
    assert!(out.starts_with("app/leak.py:5:9: SL101"));
}

#[test]
fn src_roots_name_modules() {
    // `Base` is imported by its module name under `src` (a namespace package); without the
    // root, the import does not resolve and the inherited list is not known to be shared.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "src/lib/base.py",
        "class Base:\n    seen = []\n",
    );
    write(
        dir.path(),
        "src/svc.py",
        "from lib.base import Base\n\nclass Svc(Base):\n    def handle(self, x):\n        self.seen.append(x)\n",
    );
    write(dir.path(), "stateleak.toml", "src = [\"src\"]\n");
    let (status, out, _) = concise(dir.path(), &["src/svc.py", "src/lib/base.py"]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("src/svc.py:5:9: SL101"), "{out}");
    let (status, out, _) = concise(dir.path(), &["src/svc.py", "src/lib/base.py", "--isolated"]);
    assert_eq!(status, Some(0), "{out}");
}

// --- error paths: always exit 2 with the place and a clear message ---

fn error_of(dir: &Path, args: &[&str]) -> String {
    let (status, out, err) = concise(dir, args);
    assert_eq!(status, Some(2), "{out}{err}");
    assert!(out.is_empty(), "nothing on stdout: {out}");
    err
}

#[test]
fn invalid_toml_names_file_line_and_column() {
    let dir = project("stateleak.toml", "ignore = [\"SL101\"\nselect = 1\n");
    let err = error_of(dir.path(), &["."]);
    assert!(err.contains("stateleak.toml:2:1:"), "{err}");
}

#[test]
fn unknown_key_names_file_and_key_and_suggests() {
    let dir = project(
        "pyproject.toml",
        "[tool.stateleak]\nselect = [\"SL101\"]\nper_file_ignores = {}\n",
    );
    let err = error_of(dir.path(), &["."]);
    assert!(err.contains("pyproject.toml:3:1: unknown setting `per_file_ignores`; did you mean `per-file-ignores`?"), "{err}");
}

#[test]
fn unknown_rule_codes_are_errors_everywhere() {
    let dir = project("stateleak.toml", "select = [\"SL101\", \"SL1001\"]\n");
    let err = error_of(dir.path(), &["."]);
    assert!(
        err.contains("stateleak.toml:1:20: unknown rule code `SL1001`; did you mean `SL101`?"),
        "{err}"
    );

    let dir = project(
        "stateleak.toml",
        "[per-file-ignores]\n\"*.py\" = [\"XY1\"]\n",
    );
    let err = error_of(dir.path(), &["."]);
    assert!(
        err.contains("stateleak.toml:2:11: unknown rule code `XY1`"),
        "{err}"
    );

    let dir = project("", "");
    let err = error_of(dir.path(), &[".", "--ignore", "SL101,SL99"]);
    assert!(err.contains("--ignore: unknown rule code `SL99`"), "{err}");
}

#[test]
fn wrong_types_and_bad_globs_are_placed() {
    let dir = project("stateleak.toml", "\nexclude = \"build\"\n");
    let err = error_of(dir.path(), &["."]);
    assert!(err.contains("stateleak.toml:2:11:"), "{err}");
    let dir = project("stateleak.toml", "exclude = [\"a[\"]\n");
    let err = error_of(dir.path(), &["."]);
    assert!(
        err.contains("stateleak.toml:1:12: invalid glob `a[`"),
        "{err}"
    );
    let dir = project(
        "stateleak.toml",
        "[per-file-ignores]\n\"a[\" = [\"SL101\"]\n",
    );
    let err = error_of(dir.path(), &["."]);
    assert!(
        err.contains("stateleak.toml:2:1: invalid glob `a[` in `per-file-ignores`"),
        "{err}"
    );
    let dir = project("stateleak.toml", "output-format = \"xml\"\n");
    let err = error_of(dir.path(), &["."]);
    assert!(err.contains("stateleak.toml:1:17:"), "{err}");
}

#[test]
fn missing_config_file_is_an_error() {
    let dir = project("", "");
    let err = error_of(dir.path(), &[".", "--config", "nope.toml"]);
    assert!(
        err.contains("nope.toml: the configuration file given with --config does not exist"),
        "{err}"
    );
    let err = error_of(dir.path(), &[".", "--config", "app"]);
    assert!(
        err.contains("app: the configuration file given with --config is a folder"),
        "{err}"
    );
}

#[test]
fn conflicting_options_are_usage_errors() {
    let dir = project("stateleak.toml", "");
    let run = |args: &[&str]| {
        let output = stateleak(dir.path(), args);
        assert_eq!(output.status.code(), Some(2));
        String::from_utf8_lossy(&output.stderr).into_owned()
    };
    let err = run(&["check", ".", "--isolated", "--config", "stateleak.toml"]);
    assert!(err.contains("cannot be used with"), "{err}");
    let err = run(&[
        "check",
        ".",
        "--baseline",
        "a.json",
        "--write-baseline",
        "b.json",
    ]);
    assert!(err.contains("cannot be used with"), "{err}");
    let err = run(&["check", ".", "--statistics", "--output-format", "sarif"]);
    assert!(err.contains("--statistics"), "{err}");
}

#[test]
fn a_broken_pyproject_that_is_not_ours_is_ignored() {
    let dir = project("pyproject.toml", "[project\nname = 1\n");
    let (status, _, err) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(1), "{err}");
}

// --- suppression comments ---

fn suppressed(source: &str, extra: &[&str]) -> (Option<i32>, String, String) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", source);
    let mut args = vec!["leak.py"];
    args.extend_from_slice(extra);
    concise(dir.path(), &args)
}

#[test]
fn comments_on_the_finding_line_suppress_it() {
    for comment in [
        "# noqa",
        "# noqa: SL101",
        "# NOQA:SL101,E501",
        "# stateleak: ignore[SL101]",
        "# stateleak: ignore",
        "# type: ignore  # noqa: SL101 -- reason",
    ] {
        let source = LEAK.replace("= 1\n", &format!("= 1  {comment}\n"));
        let (status, out, _) = suppressed(&source, &[]);
        assert_eq!(status, Some(0), "{comment}: {out}");
    }
    for comment in [
        "# noqa: SL102",
        "# noqa: E501",
        "# stateleak: ignore[SL401]",
        "# a note about noqa",
    ] {
        let source = LEAK.replace("= 1\n", &format!("= 1  {comment}\n"));
        let (status, _, _) = suppressed(&source, &[]);
        assert_eq!(status, Some(1), "{comment} must not suppress SL101");
    }
}

#[test]
fn a_comment_on_the_definition_suppresses_every_finding_about_it() {
    let source = "class Remixer:\n    _cache = {}  # stateleak: ignore[SL101] -- a process-wide cache on purpose\n\n    def remix(self, key):\n        self._cache[key] = 1\n\n    def other(self, key):\n        self._cache.pop(key)\n";
    let (status, out, _) = suppressed(source, &[]);
    assert_eq!(status, Some(0), "{out}");
    let (status, out, _) = suppressed(&source.replace("  # stateleak", "  # not stateleak"), &[]);
    assert_eq!(status, Some(1), "{out}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[test]
fn unused_suppressions_are_reported_when_asked() {
    let source = "x = 1  # noqa: SL101\ny = 2  # noqa\nz = 3  # stateleak: ignore[SL999]\n";
    let (status, out, _) = suppressed(source, &[]);
    assert_eq!(status, Some(0), "{out}");
    let (status, out, _) = suppressed(source, &["--show-unused-suppressions"]);
    assert_eq!(status, Some(1));
    assert!(
        out.contains("leak.py:1:8: SL000 unused suppression: no `SL101` finding on this line"),
        "{out}"
    );
    assert!(
        out.contains("leak.py:3:8: SL000 unused suppression: `SL999` is not a rule"),
        "{out}"
    );
    // A bare `# noqa` may be for another linter.
    assert!(!out.contains("leak.py:2:"), "{out}");
    let (_, out, _) = suppressed(source, &["--show-unused-suppressions", "--ignore", "SL101"]);
    assert!(out.contains("`SL101` is not enabled"), "{out}");
    // A used one is not reported.
    let used = LEAK.replace("= 1\n", "= 1  # noqa: SL101\n");
    let (status, out, _) = suppressed(&used, &["--show-unused-suppressions"]);
    assert_eq!(status, Some(0), "{out}");
}

// --- baselines ---

#[test]
fn baseline_workflow() {
    let dir = project("", "");
    let output = stateleak(
        dir.path(),
        &[
            "check",
            "--no-cache",
            ".",
            "--write-baseline",
            "stateleak-baseline.json",
        ],
    );
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.stdout.is_empty());
    let text = std::fs::read_to_string(dir.path().join("stateleak-baseline.json")).unwrap();
    assert!(!text.contains("\"line\""), "no line numbers: {text}");

    // Known findings are not reported, even after unrelated edits above them.
    write(dir.path(), "app/leak.py", &format!("import os\n\n\n{LEAK}"));
    let (status, out, err) = concise(dir.path(), &[".", "--baseline", "stateleak-baseline.json"]);
    assert_eq!(status, Some(0), "{out}");
    assert!(err.contains("1 findings recorded in the baseline"), "{err}");
    // From another working directory too.
    let (status, _, _) = concise(
        &dir.path().join("app"),
        &[".", "--baseline", "../stateleak-baseline.json"],
    );
    assert_eq!(status, Some(0));

    // A new finding is.
    write(dir.path(), "app/new.py", LEAK);
    let (status, out, _) = concise(dir.path(), &[".", "--baseline", "stateleak-baseline.json"]);
    assert_eq!(status, Some(1));
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.starts_with("app/new.py:5:9: SL101"), "{out}");
}

#[test]
fn baseline_errors() {
    let dir = project("", "");
    let err = error_of(dir.path(), &[".", "--baseline", "missing.json"]);
    assert!(
        err.contains("missing.json: cannot read the baseline"),
        "{err}"
    );
    write(
        dir.path(),
        "bad.json",
        "{\"version\": 1,\n \"findings\": 3}",
    );
    let err = error_of(dir.path(), &[".", "--baseline", "bad.json"]);
    assert!(err.contains("bad.json:2:"), "{err}");
}

#[test]
fn safe_bases_setting_reaches_the_rules() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "models.py", "class Model:\n    pass\n");
    write(
        dir.path(),
        "views.py",
        "from models import Model\n\n\nclass Form(Model):\n    fields = {}\n\n    def add(self, key):\n        self.fields[key] = 1\n",
    );
    let (status, out, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("views.py:8:9: SL101"), "{out}");
    write(
        dir.path(),
        "stateleak.toml",
        "safe-bases = [\"models.Model\"]\n",
    );
    let (status, out, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(0), "{out}");
}

#[test]
fn a_definition_comment_in_another_file_suppresses_findings_about_it() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pkg/__init__.py", "");
    let base = "class Base:\n    seen = []\n";
    write(dir.path(), "pkg/base.py", base);
    write(
        dir.path(),
        "pkg/svc.py",
        "from pkg.base import Base\n\n\nclass Svc(Base):\n    def handle(self, x):\n        self.seen.append(x)\n",
    );
    let (status, out, _) = concise(dir.path(), &["."]);
    assert_eq!(status, Some(1), "{out}");
    assert!(out.contains("pkg/svc.py:6:9: SL101"), "{out}");
    write(
        dir.path(),
        "pkg/base.py",
        &base.replace("[]\n", "[]  # noqa: SL101 -- an audit log on purpose\n"),
    );
    let (status, out, _) = concise(dir.path(), &[".", "--show-unused-suppressions"]);
    assert_eq!(status, Some(0), "{out}");
}

#[test]
fn the_readme_configuration_example_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = &readme[readme
        .find("## Configuration")
        .expect("a Configuration section")..];
    let start = section.find("```toml\n").expect("a TOML example") + "```toml\n".len();
    let example = &section[start..start + section[start..].find("```").unwrap()];
    let dir = project("pyproject.toml", example);
    let (status, out, err) = concise(dir.path(), &["."]);
    assert!(matches!(status, Some(0 | 1)), "{out}{err}");
}
