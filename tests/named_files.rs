//! Checking named files against their whole project (`--project-root`, the automatic root, and
//! `--stdin-filename`), end to end.

mod common;

use std::io::Write;
use std::process::{Command, Output, Stdio};

use common::{stateleak, write};

/// The example: the leak's entry point is in `views.py`, its shared object and the
/// write in `store.py`.
fn shop(dir: &std::path::Path) {
    write(dir, "src/shop/__init__.py", "");
    write(
        dir,
        "src/shop/views.py",
        "from flask import Flask, request\n\nfrom shop.store import save\n\napp = Flask(__name__)\n\n\n@app.post(\"/prefs\")\ndef set_prefs():\n    save(request.args[\"user\"], request.args[\"theme\"])\n    return \"ok\"\n",
    );
    write(dir, "src/shop/store.py", LEAKY_STORE);
}

const LEAKY_STORE: &str =
    "_prefs = {}\n\n\ndef save(user, theme):\n    _prefs[\"current\"] = theme\n";
const SAFE_STORE: &str =
    "def save(user, theme):\n    prefs = {}\n    prefs[\"current\"] = theme\n    return prefs\n";

fn codes(output: &Output) -> Vec<(String, String)> {
    let value: serde_json::Value = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&output.stdout)));
    value["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["code"].as_str().unwrap().to_string(),
                f["path"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

fn json_run(dir: &std::path::Path, args: &[&str]) -> Output {
    let mut all = vec!["check", "--no-cache", "--output-format", "json"];
    all.extend_from_slice(args);
    stateleak(dir, &all)
}

#[test]
fn a_named_file_is_checked_against_the_project_of_its_git_folder() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    // Without a project root, the file alone shows no request reaching the write.
    assert_eq!(codes(&json_run(dir.path(), &["src/shop/store.py"])), vec![]);

    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let whole = json_run(dir.path(), &["."]);
    let named = json_run(dir.path(), &["src/shop/store.py"]);
    let expected = vec![("SL201".to_string(), "src/shop/store.py".to_string())];
    assert_eq!(codes(&whole), expected);
    assert_eq!(
        codes(&named),
        expected,
        "{}",
        String::from_utf8_lossy(&named.stderr)
    );
    assert_eq!(named.status.code(), Some(1));
    // The finding is not about the other file: naming it alone reports nothing.
    let other = json_run(dir.path(), &["src/shop/views.py"]);
    assert_eq!(codes(&other), vec![]);
    assert_eq!(other.status.code(), Some(0));
}

#[test]
fn a_settings_file_marks_the_root_and_project_root_names_it() {
    let dir = tempfile::tempdir().unwrap();
    shop(&dir.path().join("repo"));
    write(dir.path(), "repo/stateleak.toml", "src = [\"src\"]\n");
    let expected = vec![("SL201".to_string(), "repo/src/shop/store.py".to_string())];
    assert_eq!(
        codes(&json_run(dir.path(), &["repo/src/shop/store.py"])),
        expected
    );
    assert_eq!(
        codes(&json_run(
            dir.path(),
            &["--project-root", "repo/src", "repo/src/shop/store.py"]
        )),
        expected
    );
    let not_a_folder = json_run(
        dir.path(),
        &["--project-root", "nowhere", "repo/src/shop/store.py"],
    );
    assert_eq!(not_a_folder.status.code(), Some(2));
}

#[test]
fn errors_of_files_not_named_are_not_reported() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(dir.path(), "src/shop/broken.py", "def (:\n");
    let named = json_run(dir.path(), &["src/shop/store.py"]);
    let value: serde_json::Value = serde_json::from_slice(&named.stdout).unwrap();
    assert_eq!(value["errors"], serde_json::json!([]));
    let broken = json_run(dir.path(), &["src/shop/broken.py"]);
    let value: serde_json::Value = serde_json::from_slice(&broken.stdout).unwrap();
    assert_eq!(value["errors"].as_array().unwrap().len(), 1);
}

fn with_stdin(dir: &std::path::Path, args: &[&str], input: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .args(["check", "--no-cache", "--output-format", "json"])
        .args(args)
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn stdin_replaces_the_named_file_in_the_context_of_its_project() {
    let dir = tempfile::tempdir().unwrap();
    shop(dir.path());
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    let expected = vec![("SL201".to_string(), "src/shop/store.py".to_string())];
    // The disk has the leak; the buffer on stdin has it fixed.
    let fixed = with_stdin(
        dir.path(),
        &["--stdin-filename", "src/shop/store.py"],
        SAFE_STORE,
    );
    assert_eq!(
        codes(&fixed),
        vec![],
        "{}",
        String::from_utf8_lossy(&fixed.stderr)
    );
    // The disk is fixed; the buffer brings the leak back, also in a file not yet saved.
    write(dir.path(), "src/shop/store.py", SAFE_STORE);
    let leaky = with_stdin(
        dir.path(),
        &["--stdin-filename", "src/shop/store.py"],
        LEAKY_STORE,
    );
    assert_eq!(codes(&leaky), expected);
    std::fs::remove_file(dir.path().join("src/shop/store.py")).unwrap();
    let unsaved = with_stdin(
        dir.path(),
        &["--stdin-filename", "src/shop/store.py"],
        LEAKY_STORE,
    );
    assert_eq!(
        codes(&unsaved),
        expected,
        "{}",
        String::from_utf8_lossy(&unsaved.stderr)
    );
    // Outside any project, the text is checked alone.
    let alone = tempfile::tempdir().unwrap();
    let syntax_error = with_stdin(alone.path(), &["--stdin-filename", "x.py"], "def (:\n");
    let value: serde_json::Value = serde_json::from_slice(&syntax_error.stdout).unwrap();
    assert_eq!(value["errors"][0]["path"], "x.py");
}

#[test]
fn a_finding_elsewhere_about_an_object_defined_in_the_named_file_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join(".git")).unwrap();
    write(dir.path(), "shop/__init__.py", "");
    write(dir.path(), "shop/store.py", "_prefs = {}\n");
    write(
        dir.path(),
        "shop/views.py",
        "from flask import Flask, request\n\nfrom shop import store\n\napp = Flask(__name__)\n\n\n@app.post(\"/prefs\")\ndef set_prefs():\n    store._prefs[\"current\"] = request.args[\"theme\"]\n    return \"ok\"\n",
    );
    let expected = vec![("SL201".to_string(), "shop/views.py".to_string())];
    // Named by its definition's file, and by its own.
    assert_eq!(codes(&json_run(dir.path(), &["shop/store.py"])), expected);
    assert_eq!(codes(&json_run(dir.path(), &["shop/views.py"])), expected);
    assert_eq!(codes(&json_run(dir.path(), &["shop/__init__.py"])), vec![]);
}
