//! End-to-end tests of the `stateleak` binary: exit statuses, output shapes, discovery.

mod common;

use common::{stateleak, write};
use std::path::Path;
use std::process::{Command, Output};

const LEAK: &str =
    "class Cache:\n    items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n";
const CLEAN: &str = "class Cache:\n    def __init__(self):\n        self.items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n";

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

#[test]
fn exit_status_is_0_without_findings_and_1_with() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "clean.py", CLEAN);
    let clean = stateleak(dir.path(), &["check", "clean.py"]);
    assert_eq!(
        clean.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&clean.stderr)
    );

    write(dir.path(), "leak.py", LEAK);
    let leak = stateleak(dir.path(), &["check", "."]);
    assert_eq!(leak.status.code(), Some(1));
    let text = String::from_utf8_lossy(&leak.stdout);
    assert!(text.contains("error[SL101]"), "{text}");
    assert!(text.contains("--> leak.py:5:9"), "{text}");
    let summary = String::from_utf8_lossy(&leak.stderr);
    assert!(
        summary.contains("checked 2 files") && summary.contains("1 finding"),
        "{summary}"
    );
}

#[test]
fn usage_errors_and_missing_paths_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(
        stateleak(dir.path(), &["check", "--no-such-flag"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        stateleak(dir.path(), &["frobnicate"]).status.code(),
        Some(2)
    );
    let missing = stateleak(
        dir.path(),
        &["check", "missing.py", "--output-format", "json"],
    );
    assert_eq!(missing.status.code(), Some(2));
    let doc = json(&missing);
    assert_eq!(doc["errors"][0]["path"], "missing.py");
}

#[test]
fn json_output_has_the_documented_shape() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "pkg/__init__.py", "");
    write(dir.path(), "pkg/base.py", "class Base:\n    seen = []\n");
    write(
        dir.path(),
        "pkg/child.py",
        "from .base import Base\n\n\nclass Child(Base):\n    def run(self, x):\n        self.seen.append(x)\n",
    );
    let output = stateleak(dir.path(), &["check", "--output-format", "json", "pkg"]);
    assert_eq!(output.status.code(), Some(1));
    let doc = json(&output);
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["summary"]["files"], 3);
    assert_eq!(doc["summary"]["findings"], 1);
    assert_eq!(doc["summary"]["errors"], 0);
    let finding = &doc["findings"][0];
    assert_eq!(finding["code"], "SL101");
    assert_eq!(finding["severity"], "error");
    assert_eq!(finding["path"], "pkg/child.py");
    assert_eq!(
        (finding["line"].as_u64(), finding["column"].as_u64()),
        (Some(6), Some(9))
    );
    assert_eq!(
        (finding["end_line"].as_u64(), finding["end_column"].as_u64()),
        (Some(6), Some(28))
    );
    let related = finding["related"].as_array().unwrap();
    assert_eq!(related[0]["path"], "pkg/base.py");
    assert_eq!(related[0]["line"], 2);
    assert!(
        related[0]["message"]
            .as_str()
            .unwrap()
            .contains("created once")
    );
    assert_eq!(finding["fingerprint"].as_str().unwrap().len(), 16);
}

#[test]
fn fingerprints_survive_edits_above_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", LEAK);
    let before = json(&stateleak(
        dir.path(),
        &["check", "--output-format", "json"],
    ));
    write(dir.path(), "leak.py", &format!("import os\n\n\n{LEAK}"));
    let after = json(&stateleak(
        dir.path(),
        &["check", "--output-format", "json"],
    ));
    assert_ne!(before["findings"][0]["line"], after["findings"][0]["line"]);
    assert_eq!(
        before["findings"][0]["fingerprint"],
        after["findings"][0]["fingerprint"]
    );
}

#[test]
fn gitignore_and_default_exclusions_are_honoured_but_explicit_files_are_checked() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), ".gitignore", "generated/\n");
    write(dir.path(), "generated/leak.py", LEAK);
    write(dir.path(), ".venv/lib/leak.py", LEAK);
    write(dir.path(), "build/leak.py", LEAK);
    write(dir.path(), "ok.py", CLEAN);
    let walked = stateleak(dir.path(), &["check", "--output-format", "json"]);
    assert_eq!(walked.status.code(), Some(0));
    assert_eq!(json(&walked)["summary"]["files"], 1);

    let explicit = stateleak(dir.path(), &["check", "generated/leak.py"]);
    assert_eq!(explicit.status.code(), Some(1));
}

#[test]
fn a_syntax_error_is_reported_and_the_other_files_are_analysed() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "broken.py",
        "def ok():\n    pass\n\ndef broken(:\n    pass\n",
    );
    write(dir.path(), "leak.py", LEAK);
    let output = stateleak(dir.path(), &["check", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(1));
    let doc = json(&output);
    assert_eq!(doc["summary"]["findings"], 1);
    assert_eq!(doc["errors"][0]["path"], "broken.py");
    assert_eq!(doc["errors"][0]["line"], 4);
    assert!(
        doc["errors"][0]["message"]
            .as_str()
            .unwrap()
            .starts_with("syntax error")
    );

    let text = stateleak(dir.path(), &["check"]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("error: broken.py:4: syntax error"));
}

#[test]
fn a_folder_without_python_files_is_not_an_error() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "README.md", "# nothing here\n");
    let output = stateleak(dir.path(), &["check", "--output-format", "json"]);
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(json(&output)["summary"]["files"], 0);
    assert!(String::from_utf8_lossy(&output.stderr).contains("no Python files found"));
}

#[test]
fn nothing_readable_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "broken.py", "def broken(:\n");
    let output = stateleak(dir.path(), &["check"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn rule_documentation_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let output = stateleak(dir.path(), &["rule", "SL101"]);
    assert_eq!(output.status.code(), Some(0));
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(text.starts_with("# SL101: shared-class-state-mutated-through-instance"));
    assert!(text.contains("## How to fix") && !text.contains("## Cases"));
    assert_eq!(
        stateleak(dir.path(), &["rule", "SL999"]).status.code(),
        Some(2)
    );
}

#[test]
fn the_bundled_example_reports_the_remix_leak_across_modules() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let output = stateleak(
        root,
        &["check", "--output-format", "json", "examples/remix"],
    );
    assert_eq!(output.status.code(), Some(1));
    let doc = json(&output);
    let sl101: Vec<&serde_json::Value> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "SL101")
        .collect();
    assert_eq!(sl101.len(), 1);
    assert_eq!(sl101[0]["path"], "examples/remix/remix/pattern.py");
    assert_eq!(sl101[0]["line"], 12);
}

#[test]
fn the_bundled_example_really_leaks_when_run_with_python() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/remix");
    let output = Command::new("python3")
        .arg("run.py")
        .current_dir(&root)
        .output()
        .expect("python3 is installed (CI installs Python 3.11)");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{text}");
    assert!(
        text.contains("LEAK: the Song B remix returned 1 sample(s) of Song A"),
        "{text}"
    );
}

#[test]
fn json_names_the_shared_object_and_explain_tells_why_the_change_counts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "jobs/__init__.py", "");
    write(
        dir.path(),
        "jobs/runner.py",
        "class Runner:\n    def __init__(self, plugins=[]):\n        self.plugins = plugins\n",
    );
    write(
        dir.path(),
        "jobs/views.py",
        "from flask import Flask\n\nfrom jobs.runner import Runner\n\napp = Flask(__name__)\n\n\n\
         @app.route(\"/run\")\ndef run(plugin):\n    r = Runner()\n    r.plugins.append(plugin)\n",
    );
    let output = stateleak(dir.path(), &["check", ".", "--output-format", "json"]);
    let doc = json(&output);
    let finding = &doc["findings"][0];
    assert_eq!(finding["code"], "SL104", "{doc}");
    assert_eq!(
        finding["object"], "jobs.runner.Runner.__init__.<default plugins>",
        "{doc}"
    );
    let fingerprint = finding["fingerprint"].as_str().unwrap();

    let explained = stateleak(dir.path(), &["check", ".", "--explain", fingerprint]);
    assert_eq!(explained.status.code(), Some(0));
    let text = String::from_utf8_lossy(&explained.stdout);
    for expected in [
        "shared object: jobs.runner.Runner.__init__.<default plugins>",
        "created: jobs/runner.py:2:24",
        "jobs/runner.py:3:9: flows into `self.plugins` of `Runner` instances",
        "changed: jobs/views.py:11:5",
        "the change counts per call",
        "chain of calls from a request entry point:\n  run jobs/views.py:9 (Flask route)",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }

    let unknown = stateleak(dir.path(), &["check", ".", "--explain", "0000000000000000"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_class_level_finding_names_the_class_attribute() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "leak.py", LEAK);
    let doc = json(&stateleak(
        dir.path(),
        &["check", ".", "--output-format", "json"],
    ));
    assert_eq!(doc["findings"][0]["object"], "leak.Cache.items", "{doc}");
}

#[test]
fn a_small_cache_bound_is_told_as_keeping_the_last_instances() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "resolver.py",
        "from functools import lru_cache\n\n\nclass Resolver:\n    @lru_cache(maxsize=1)\n    \
         def table(self):\n        return {}\n\n    @lru_cache(maxsize=32)\n    def rows(self):\n        \
         return []\n",
    );
    let doc = json(&stateleak(
        dir.path(),
        &["check", ".", "--output-format", "json"],
    ));
    let messages: Vec<&str> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["message"].as_str().unwrap())
        .collect();
    assert_eq!(
        messages,
        [
            "`lru_cache(maxsize=1)` on method `Resolver.table` makes one cache for every \
             `Resolver`: it keeps the last instance it was called on alive",
            "`lru_cache(maxsize=32)` on method `Resolver.rows` makes one cache for every \
             `Resolver`: it keeps the last 32 instances it was called on alive",
        ]
    );
    assert_eq!(doc["findings"][0]["object"], "resolver.Resolver.table");
}

#[test]
fn a_rule_off_by_default_does_not_take_the_place_of_a_default_finding_on_its_line() {
    // Under the lock, the write is SL111's (off by default) instead of SL101's; SL402's finding
    // of the same change (the key leaves out `roots`) is told, with SL111's folded into it.
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web/files.py",
        "import threading\n\n\nclass Finder:\n    _paths = {}\n    _lock = threading.Lock()\n\n    def find(self, roots, path):\n        with self._lock:\n            if path not in self._paths:\n                self._paths[path] = roots[0] + path\n            return self._paths[path]\n",
    );
    let codes = |extra: &[&str]| {
        let mut args = vec![
            "check",
            "--isolated",
            "--no-cache",
            "--output-format",
            "json",
        ];
        args.extend_from_slice(extra);
        args.push(".");
        json(&stateleak(dir.path(), &args))["findings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["code"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    };
    assert_eq!(codes(&[]), ["SL402"]);
    assert_eq!(codes(&["--extend-select", "SL111"]), ["SL402"]);
    let text = stateleak(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--extend-select",
            "SL111",
            ".",
        ],
    );
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("the same change is also SL111's finding"),
        "{text}"
    );
}

#[test]
fn two_rules_on_one_line_about_one_object_are_told_once() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "web/headers.py",
        "class Request:\n    _names = {}\n\n    def header(self, name, prefix):\n        if name not in self._names:\n            self._names[name] = prefix + name.lower()\n        return self._names[name]\n",
    );
    let args = [
        "check",
        "--isolated",
        "--no-cache",
        "--output-format",
        "json",
        ".",
    ];
    let findings = json(&stateleak(dir.path(), &args))["findings"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0]["code"], "SL101");
    let text = stateleak(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(
        text.contains("the same change is also SL402's finding"),
        "{text}"
    );
    // `--add-noqa` names both codes: the other finding does not surface in its place.
    stateleak(
        dir.path(),
        &["check", "--isolated", "--no-cache", "--add-noqa", "."],
    );
    let line = std::fs::read_to_string(dir.path().join("web/headers.py")).unwrap();
    assert!(line.contains("# noqa: SL101, SL402"), "{line}");
    let after = json(&stateleak(dir.path(), &args))["findings"].clone();
    assert_eq!(after.as_array().unwrap().len(), 0, "{after:#?}");
    std::fs::write(
        dir.path().join("web/headers.py"),
        line.replace("  # noqa: SL101, SL402", ""),
    )
    .unwrap();
    // Either rule alone still reports the line.
    for code in ["SL101", "SL402"] {
        let mut alone = args.to_vec();
        alone.extend(["--select", code]);
        let findings = json(&stateleak(dir.path(), &alone))["findings"].clone();
        assert_eq!(
            findings.as_array().unwrap().len(),
            1,
            "{code}: {findings:#?}"
        );
        assert_eq!(findings[0]["code"], code);
    }
}
