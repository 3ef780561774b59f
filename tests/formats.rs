//! End-to-end tests of the output formats and `--statistics`.

use std::path::Path;
use std::process::{Command, Output};

/// SL101 on line 5 (the write); the shared dict is defined on line 2.
const LEAK: &str =
    "class Remixer:\n    _cache = {}\n\n    def remix(self, key):\n        self._cache[key] = 1\n";

fn stateleak(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_stateleak"));
    command
        .args(["check", "--no-cache"])
        .args(args)
        .current_dir(dir)
        .env_remove("NO_COLOR");
    for (key, value) in env {
        command.env(key, value);
    }
    command.output().expect("the binary runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// A folder with one leak in a file whose name needs escaping in URIs and annotations.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("my app/leak,1.py");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, LEAK).unwrap();
    dir
}

#[test]
fn concise_is_one_line_per_finding() {
    let dir = project();
    let output = stateleak(dir.path(), &["--output-format", "concise", "."], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "my app/leak,1.py:5:9: SL101 `_cache` is one dict shared by every `Remixer`; `remix` writes into it through `self`\n"
    );
}

#[test]
fn github_annotations_escape_properties_and_messages() {
    let dir = project();
    let output = stateleak(dir.path(), &["--output-format", "github", "."], &[]);
    assert_eq!(output.status.code(), Some(1));
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 1, "{text}");
    assert!(
        text.starts_with("::error file=my app/leak%2C1.py,line=5,col=9,endLine=5,endColumn="),
        "{text}"
    );
    assert!(
        text.contains(",title=stateleak SL101::`_cache` is one dict"),
        "{text}"
    );
    // The definition and the advice travel in the message, with escaped line breaks.
    assert!(
        text.contains("%0Amy app/leak,1.py:2:5: created once"),
        "{text}"
    );
    assert!(text.contains("%0Ahelp: "), "{text}");
}

#[test]
fn sarif_has_rules_related_locations_fingerprints_and_cwe_tags() {
    let dir = project();
    let output = stateleak(dir.path(), &["--output-format", "sarif", "."], &[]);
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    assert_eq!(doc["version"], "2.1.0");
    let run = &doc["runs"][0];
    let rules = run["tool"]["driver"]["rules"].as_array().unwrap();
    let result = &run["results"][0];
    assert_eq!(result["ruleId"], "SL101");
    let index = result["ruleIndex"].as_u64().unwrap() as usize;
    let rule = &rules[index];
    assert_eq!(rule["id"], "SL101");
    assert!(
        rule["help"]["markdown"]
            .as_str()
            .unwrap()
            .starts_with("# SL101: ")
    );
    let tags = rule["properties"]["tags"].as_array().unwrap();
    assert!(tags.iter().any(|t| t == "CWE-488"), "{tags:?}");
    assert!(tags.iter().any(|t| t == "external/cwe/cwe-488"), "{tags:?}");
    let location = &result["locations"][0]["physicalLocation"];
    assert_eq!(location["artifactLocation"]["uri"], "my%20app/leak%2C1.py");
    assert_eq!(location["artifactLocation"]["uriBaseId"], "%SRCROOT%");
    assert_eq!(location["region"]["startLine"], 5);
    assert_eq!(location["region"]["startColumn"], 9);
    let related = &result["relatedLocations"][0];
    assert_eq!(related["physicalLocation"]["region"]["startLine"], 2);
    assert_eq!(
        related["message"]["text"],
        "created once, when the class is defined."
    );
    let fingerprint = result["partialFingerprints"]["stateleak/v1"]
        .as_str()
        .unwrap();
    // The same fingerprint as in the JSON output.
    let json = stateleak(dir.path(), &["--output-format", "json", "."], &[]);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["findings"][0]["fingerprint"], fingerprint);
    let root = run["originalUriBaseIds"]["%SRCROOT%"]["uri"]
        .as_str()
        .unwrap();
    assert!(
        root.starts_with("file:///") && root.ends_with('/'),
        "{root}"
    );
    assert_eq!(run["columnKind"], "unicodeCodePoints");
}

#[test]
fn sarif_reports_unreadable_files_as_notifications() {
    let dir = project();
    std::fs::write(dir.path().join("broken.py"), "def f(:\n").unwrap();
    let output = stateleak(dir.path(), &["--output-format", "sarif", "."], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let notifications = &doc["runs"][0]["invocations"][0]["toolExecutionNotifications"];
    assert_eq!(notifications[0]["level"], "error");
    assert_eq!(
        notifications[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
        "broken.py"
    );
}

#[test]
fn json_lists_unused_suppressions_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.py"), "x = 1  # noqa: SL101\n").unwrap();
    let output = stateleak(
        dir.path(),
        &["--output-format", "json", "--show-unused-suppressions", "."],
        &[],
    );
    assert_eq!(output.status.code(), Some(1));
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    let unused = &doc["unused_suppressions"][0];
    assert_eq!(unused["path"], "a.py");
    assert_eq!(unused["line"], 1);
    assert_eq!(unused["column"], 8);
    assert_eq!(unused["codes"][0], "SL101");
}

#[test]
fn text_colour_follows_color_and_no_color() {
    let dir = project();
    let escape = |output: &Output| output.stdout.contains(&0x1b);
    // Not a terminal: no colour unless asked for.
    assert!(!escape(&stateleak(dir.path(), &["."], &[])));
    assert!(escape(&stateleak(
        dir.path(),
        &["--color", "always", "."],
        &[]
    )));
    assert!(!escape(&stateleak(
        dir.path(),
        &["--color", "never", "."],
        &[("NO_COLOR", "1")]
    )));
    let plain = stdout(&stateleak(dir.path(), &["."], &[("NO_COLOR", "1")]));
    assert!(
        plain.contains("error[SL101]") && plain.contains("--> my app/leak,1.py:5:9"),
        "{plain}"
    );
}

#[test]
fn statistics_count_findings_per_rule() {
    let dir = project();
    std::fs::write(dir.path().join("second.py"), LEAK).unwrap();
    let output = stateleak(dir.path(), &["--statistics", "."], &[]);
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(
        stdout(&output),
        "2  SL101  shared-class-state-mutated-through-instance\n"
    );
    let output = stateleak(
        dir.path(),
        &["--statistics", "--output-format", "json", "."],
        &[],
    );
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(doc[0]["code"], "SL101");
    assert_eq!(doc[0]["count"], 2);
}

#[test]
fn machine_readable_output_has_nothing_but_the_document() {
    let dir = project();
    for format in ["json", "sarif"] {
        let output = stateleak(dir.path(), &["--output-format", format, "."], &[]);
        let text = stdout(&output);
        assert!(
            text.starts_with('{') && text.trim_end().ends_with('}'),
            "{format}: {text}"
        );
        serde_json::from_str::<serde_json::Value>(&text).expect("one JSON document");
        // stderr is not a terminal here: no progress bar, only the summary.
        let errors = String::from_utf8_lossy(&output.stderr);
        assert_eq!(errors.lines().count(), 1, "{errors}");
        assert!(errors.starts_with("stateleak: checked"), "{errors}");
    }
}

#[test]
fn sarif_code_flows_follow_requests_to_the_finding() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    write("shop/__init__.py", "");
    write(
        "shop/views.py",
        "from flask import Blueprint\n\nfrom shop.cart import add_to_cart\n\nbp = Blueprint(\"shop\", __name__)\n\n\n@bp.route(\"/cart/<item>\", methods=[\"POST\"])\ndef add(item):\n    add_to_cart(item)\n    return \"added\"\n",
    );
    write(
        "shop/cart.py",
        "_cart = []\n\n\ndef add_to_cart(item):\n    _cart.append(item)\n",
    );
    let output = stateleak(dir.path(), &["--output-format", "sarif", "."], &[]);
    let doc: serde_json::Value = serde_json::from_slice(&output.stdout).expect("json");
    let result = &doc["runs"][0]["results"][0];
    let steps = result["codeFlows"][0]["threadFlows"][0]["locations"]
        .as_array()
        .expect("a code flow");
    let places: Vec<(String, u64)> = steps
        .iter()
        .map(|s| {
            let physical = &s["location"]["physicalLocation"];
            (
                physical["artifactLocation"]["uri"]
                    .as_str()
                    .unwrap()
                    .to_string(),
                physical["region"]["startLine"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(places.first().unwrap(), &("shop/views.py".to_string(), 9));
    assert_eq!(places.last().unwrap(), &("shop/cart.py".to_string(), 5));
}
