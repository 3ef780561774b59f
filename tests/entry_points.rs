//! Request entry points end to end: the request path on findings, `--entry-point` and the
//! `entry_points` JSON field.

use std::path::Path;
use std::process::Command;

use stateleak::check::{CheckOptions, check};
use stateleak::rules;

fn write(dir: &Path, files: &[(&str, &str)]) {
    for (name, body) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, body).unwrap();
    }
}

const FLASK_APP: &str = "from flask import Flask, request\n\nfrom store import save\n\napp = Flask(__name__)\n\n\n@app.post(\"/prefs\")\ndef set_prefs():\n    save(request.args[\"user\"])\n    return \"ok\"\n";
const STORE: &str = "_prefs = {}\n\n\ndef save(user):\n    _prefs[\"current\"] = user\n";
const JOBS: &str = "_done = []\n\n\nclass Worker:\n    def run(self, job):\n        self.finish(job)\n\n    def finish(self, job):\n        _done.append(job)\n";

#[test]
fn a_finding_a_request_reaches_carries_the_shortest_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("app.py", FLASK_APP), ("store.py", STORE)]);
    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
    options.rules = vec![rules::by_code("SL201").unwrap()];
    let result = check(&options);
    assert_eq!(result.findings.len(), 1, "{:?}", result.findings);
    let path = &result.findings[0].entry_path;
    let steps: Vec<(&str, u32)> = path.iter().map(|s| (s.function.as_str(), s.line)).collect();
    assert_eq!(steps, vec![("set_prefs", 9), ("save", 4)]);
    assert_eq!(path[0].entry_kind.as_deref(), Some("Flask route"));
    assert_eq!(path[1].entry_kind, None);
}

const LISTENERS: &str = "listeners = {}\n";
const DJANGO_VIEWS: &str = "from django.http import HttpResponse\n\nfrom app.state import listeners\n\n\ndef subscribe(request, key):\n    listeners[key] = request\n    return HttpResponse()\n";
const FASTAPI_VIEWS: &str = "from fastapi import Request\n\nfrom app.state import listeners\n\n\nasync def subscribe(request: Request, key: str):\n    listeners[key] = request\n";

/// Seen in lnbits (round 37): a module of `views` whose functions take `request` first is taken
/// for request code whatever the framework, but it is told a Django view only when it imports
/// from Django; lnbits' FastAPI handlers were told "Django view".
#[test]
fn a_function_taking_request_in_a_views_module_is_a_django_view_only_when_it_imports_django() {
    for (views, kind) in [(DJANGO_VIEWS, "Django view"), (FASTAPI_VIEWS, "view")] {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            &[
                ("app/__init__.py", ""),
                ("app/state.py", LISTENERS),
                ("app/views.py", views),
            ],
        );
        let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
        options.rules = vec![rules::by_code("SL201").unwrap()];
        let result = check(&options);
        assert_eq!(result.findings.len(), 1, "{:?}", result.findings);
        let path = &result.findings[0].entry_path;
        assert_eq!(path[0].function, "subscribe");
        assert_eq!(path[0].entry_kind.as_deref(), Some(kind));
    }
}

const PAGES: &str = "class Page:\n    def __init__(self, name):\n        self.name = name\n        self._sections = []\n        self._sorted = None\n\n    def sections(self):\n        self._finalize()\n        return self._sorted\n\n    def _finalize(self):\n        self._sorted = sorted(self._sections)\n\n\nprofile = Page(\"profile\")\nusers = Page(\"users\")\n";
const PAGE_VIEWS: &str = "from flask import Flask\n\nfrom pages import profile, users\n\napp = Flask(__name__)\n\n\n@app.get(\"/users\")\ndef list_users():\n    return users.sections()\n\n\n@app.get(\"/profile\")\ndef show_profile():\n    return profile.sections()\n";

/// Seen in misago (round 22): two module-level `Page`s share the method that writes, and the
/// path to that method through the first view is no path to the second page. A finding about
/// one shared object is reached through a call on that object. (Misago's first-time guard,
/// `if self._sorted is None:`, is left out: with every `Page` made at module level, the block
/// runs once per page and nothing is reported.)
#[test]
fn a_method_run_on_a_shared_object_is_reached_through_a_call_on_that_object() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("pages.py", PAGES), ("app.py", PAGE_VIEWS)]);
    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
    options.rules = vec![rules::by_code("SL203").unwrap()];
    let result = check(&options);
    let paths: Vec<(String, Vec<&str>)> = result
        .findings
        .iter()
        .map(|f| {
            let name = f.message.split('`').nth(1).unwrap_or_default().to_string();
            (
                name,
                f.entry_path.iter().map(|s| s.function.as_str()).collect(),
            )
        })
        .collect();
    assert_eq!(
        paths,
        vec![
            (
                "profile".to_string(),
                vec!["show_profile", "Page.sections", "Page._finalize"]
            ),
            (
                "users".to_string(),
                vec!["list_users", "Page.sections", "Page._finalize"]
            ),
        ]
    );
}

#[test]
fn configured_patterns_add_entry_points() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("jobs.py", JOBS)]);
    let run = |patterns: Vec<String>| {
        let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
        options.rules = vec![rules::by_code("SL201").unwrap()];
        options.rule_settings.entry_points = patterns;
        check(&options)
    };
    assert!(run(Vec::new()).findings.is_empty());
    assert!(run(vec!["other.*".to_string()]).findings.is_empty());
    let result = run(vec!["jobs.Worker.r?n".to_string()]);
    assert_eq!(result.findings.len(), 1);
    let path: Vec<&str> = result.findings[0]
        .entry_path
        .iter()
        .map(|s| s.function.as_str())
        .collect();
    assert_eq!(path, vec!["Worker.run", "Worker.finish"]);
    assert_eq!(
        result.findings[0].entry_path[0].entry_kind.as_deref(),
        Some("entry point `jobs.Worker.r?n`")
    );
}

#[test]
fn the_command_line_takes_entry_points_and_prints_the_path() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &[("jobs.py", JOBS)]);
    let output = Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--no-cache",
            "--output-format",
            "json",
            "--entry-point",
            "*.Worker.run",
            ".",
        ])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let finding = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SL201")
        .expect("an SL201 finding");
    let steps = finding["entry_points"].as_array().unwrap();
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0]["function"], "Worker.run");
    assert_eq!(steps[0]["path"], "jobs.py");
    assert_eq!(steps[0]["line"], 5);
    assert_eq!(steps[0]["entry"], "entry point `*.Worker.run`");
    assert_eq!(steps[1]["function"], "Worker.finish");

    let text = Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .current_dir(dir.path())
        .args([
            "check",
            "--isolated",
            "--no-cache",
            "--color",
            "never",
            "--entry-point",
            "*.Worker.run",
            ".",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8(text.stdout).unwrap();
    assert!(
        stdout.contains(
            "reached from entry point `*.Worker.run` Worker.run (jobs.py:5) → Worker.finish (jobs.py:8)"
        ),
        "{stdout}"
    );
}

#[test]
fn functions_only_module_level_code_calls_run_at_import_time() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "plugins.py",
            "_plugins = {}\n\n\ndef load(name):\n    _plugins[name.lower()] = name.upper()\n\n\nload(\"json\")\n",
        )],
    );
    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
    options.rules = vec![rules::by_code("SL202").unwrap()];
    assert!(check(&options).findings.is_empty());

    // Called from a function as well: per-call code.
    write(
        dir.path(),
        &[(
            "use.py",
            "from plugins import load\n\n\ndef later(name):\n    load(name)\n",
        )],
    );
    assert_eq!(check(&options).findings.len(), 1);
}

#[test]
fn a_thread_started_at_import_time_is_not_import_time_code() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[(
            "worker.py",
            "import threading\n\n_seen = []\n\n\ndef loop():\n    _seen.append(object())\n\n\nthreading.Thread(target=loop).start()\n",
        )],
    );
    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
    options.rules = vec![rules::by_code("SL202").unwrap()];
    assert_eq!(check(&options).findings.len(), 1);
}
