//! One diagnostic per place: the findings of one rule at one change expression about several
//! shared objects are reported as one, in every format; suppressions and baselines still act on
//! each object.

mod common;

use common::{stateleak, write};
use std::path::Path;

/// One line in a base class writes the `_help` dict of the base and of each subclass that
/// defines its own: three shared objects changed at `commands.py:5`. The base is constructed
/// too: a base the tree only extends, every subclass binding its own, is no instance's class
/// (`model::only_extended`), and its dict no member.
const COMMANDS: &str = "class Command:\n    _help = {}\n\n    def describe(self, text):\n        self._help[\"text\"] = text\n\n\nclass Add(Command):\n    _help = {}\n\n\nclass Remove(Command):\n    _help = {}\n\n\ndef default():\n    return Command()\n";

const OBJECTS: [&str; 3] = [
    "commands.Add._help",
    "commands.Command._help",
    "commands.Remove._help",
];

fn json(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "check",
        "--isolated",
        "--no-cache",
        "--output-format",
        "json",
    ];
    args.extend(extra);
    args.push(".");
    let output = stateleak(dir, &args);
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

/// One `check` run over `dir` in `format` (no settings, no cache).
fn in_format(dir: &Path, format: &str) -> std::process::Output {
    stateleak(
        dir,
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--output-format",
            format,
            ".",
        ],
    )
}

/// The report of a JSON-shaped format (`sarif`, `gitlab`, `rdjson`, ...), parsed.
fn parsed_in(dir: &Path, format: &str) -> serde_json::Value {
    serde_json::from_slice(&in_format(dir, format).stdout).expect("one JSON document")
}

fn findings(report: &serde_json::Value) -> Vec<serde_json::Value> {
    report["findings"].as_array().unwrap().clone()
}

fn text(value: &serde_json::Value) -> &str {
    value.as_str().unwrap()
}

/// The member fingerprint of each object, from a run where all three are grouped.
fn member_fingerprints(dir: &Path) -> Vec<(String, String)> {
    let found = findings(&json(dir, &[]));
    found[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                text(&m["object"]).to_string(),
                text(&m["fingerprint"]).to_string(),
            )
        })
        .collect()
}

#[test]
fn objects_changed_at_one_place_are_one_finding_that_names_them_all() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    let report = json(dir.path(), &[]);
    let found = findings(&report);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(report["summary"]["findings"], 1);
    let group = &found[0];
    let members = group["members"].as_array().unwrap();
    let objects: Vec<&str> = members.iter().map(|m| text(&m["object"])).collect();
    assert_eq!(objects, OBJECTS);
    // The first member tells the story; the message says which others the change reaches.
    assert_eq!(group["object"], members[0]["object"]);
    let message = text(&group["message"]);
    assert!(
        message.starts_with(text(&members[0]["message"])),
        "{message}"
    );
    assert!(
        message.ends_with(
            "; the same change is also reported for 2 other shared objects: `commands.Command._help` and `commands.Remove._help`"
        ),
        "{message}"
    );
    // Every member's definition is a related place.
    let mut related: Vec<u64> = group["related"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    related.sort();
    assert_eq!(related, [2, 9, 13]);
    for member in members {
        assert_eq!(text(&member["fingerprint"]).len(), 16);
        assert!(member["definition"]["line"].is_u64(), "{member:#?}");
    }
    // The group's fingerprint is none of its members'.
    assert!(
        members
            .iter()
            .all(|m| m["fingerprint"] != group["fingerprint"])
    );
    let summary = stateleak(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let summary = String::from_utf8_lossy(&summary.stderr);
    assert!(summary.contains("1 finding,"), "{summary}");
}

#[test]
fn a_suppression_at_a_definition_takes_only_that_object_out_of_the_group() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    let fingerprints = member_fingerprints(dir.path());
    let silenced = COMMANDS
        .replacen(
            "    _help = {}\n\n\nclass Remove",
            "    _help = {}  # noqa: SL101\n\n\nclass Remove",
            1,
        )
        .replacen(
            "class Remove(Command):\n    _help = {}",
            "class Remove(Command):\n    _help = {}  # noqa: SL101",
            1,
        );
    write(dir.path(), "commands.py", &silenced);
    let found = findings(&json(dir.path(), &[]));
    assert_eq!(found.len(), 1, "{found:#?}");
    // Alone at its place: reported exactly as before grouping, with its own fingerprint.
    assert_eq!(found[0]["object"], "commands.Command._help");
    assert!(found[0].get("members").is_none(), "{found:#?}");
    assert_eq!(text(&found[0]["fingerprint"]), fingerprints[1].1);
    assert!(
        !text(&found[0]["message"]).contains("also reported"),
        "{found:#?}"
    );
}

#[test]
fn a_baseline_records_objects_and_a_new_object_at_a_known_place_is_reported() {
    let dir = tempfile::tempdir().unwrap();
    let fingerprints = {
        write(dir.path(), "commands.py", COMMANDS);
        member_fingerprints(dir.path())
    };
    // Only `Command._help` exists when the baseline is written.
    let base_only = "class Command:\n    _help = {}\n\n    def describe(self, text):\n        self._help[\"text\"] = text\n";
    write(dir.path(), "commands.py", base_only);
    let written = stateleak(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--write-baseline",
            "base.json",
            ".",
        ],
    );
    assert_eq!(written.status.code(), Some(0));
    let recorded = std::fs::read_to_string(dir.path().join("base.json")).unwrap();
    assert!(recorded.contains(&fingerprints[1].1), "{recorded}");
    // `Add` and `Remove` join the place: they are new, and reported as one finding of their own.
    write(dir.path(), "commands.py", COMMANDS);
    let found = findings(&json(dir.path(), &["--baseline", "base.json"]));
    assert_eq!(found.len(), 1, "{found:#?}");
    let objects: Vec<&str> = found[0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| text(&m["object"]))
        .collect();
    assert_eq!(objects, ["commands.Add._help", "commands.Remove._help"]);
    // With `Remove` silenced, `Add` is left alone: reported with the fingerprint it has alone.
    let silenced = COMMANDS.replacen(
        "class Remove(Command):\n    _help = {}",
        "class Remove(Command):\n    _help = {}  # noqa: SL101",
        1,
    );
    write(dir.path(), "commands.py", &silenced);
    let found = findings(&json(dir.path(), &["--baseline", "base.json"]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["object"], "commands.Add._help");
    assert_eq!(text(&found[0]["fingerprint"]), fingerprints[0].1);
    assert!(found[0].get("members").is_none(), "{found:#?}");
}

#[test]
fn every_format_shows_the_members() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    for format in [
        "text",
        "concise",
        "json",
        "json-lines",
        "sarif",
        "github",
        "gitlab",
        "junit",
        "rdjson",
        "pylint",
        "azure",
    ] {
        let output = in_format(dir.path(), format);
        assert_eq!(output.status.code(), Some(1), "{format}");
        let out = String::from_utf8_lossy(&output.stdout);
        // The message names the other objects in every format.
        for object in &OBJECTS[1..] {
            assert!(out.contains(object), "{format}: {out}");
        }
    }
    let sarif = parsed_in(dir.path(), "sarif");
    let result = &sarif["runs"][0]["results"][0];
    assert_eq!(result["properties"]["members"].as_array().unwrap().len(), 3);
    assert_eq!(result["relatedLocations"].as_array().unwrap().len(), 3);
    let gitlab = parsed_in(dir.path(), "gitlab");
    assert_eq!(gitlab.as_array().unwrap().len(), 1);
    assert_eq!(gitlab[0]["other_locations"].as_array().unwrap().len(), 3);
    let lines = in_format(dir.path(), "concise");
    assert_eq!(String::from_utf8_lossy(&lines.stdout).lines().count(), 1);
}

#[test]
fn explain_takes_a_group_or_a_member_fingerprint() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    let found = findings(&json(dir.path(), &[]));
    let group = text(&found[0]["fingerprint"]).to_string();
    let explain = |fingerprint: &str| {
        let output = stateleak(
            dir.path(),
            &[
                "check",
                "--isolated",
                "--no-cache",
                "--explain",
                fingerprint,
                ".",
            ],
        );
        assert_eq!(output.status.code(), Some(0), "{fingerprint}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let whole = explain(&group);
    assert!(
        whole.contains("the same change is reported for 3 shared objects"),
        "{whole}"
    );
    for (object, fingerprint) in member_fingerprints(dir.path()) {
        assert!(
            whole.contains(&format!("{fingerprint} {object}")),
            "{whole}"
        );
        let one = explain(&fingerprint);
        assert!(one.contains(&format!("shared object: {object}")), "{one}");
        assert!(
            one.contains(&format!(
                "reported as one of 3 shared objects changed at this place (fingerprint {group})"
            )),
            "{one}"
        );
    }
}

#[test]
fn grouped_output_is_the_same_on_every_run_and_thread_count() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    write(dir.path(), "more.py", &COMMANDS.replace("Command", "Job"));
    let first = json(dir.path(), &["--threads", "1"]);
    for threads in ["1", "2", "4"] {
        assert_eq!(json(dir.path(), &["--threads", threads]), first);
    }
    assert_eq!(findings(&first).len(), 2);
}

/// The repair of a subclass's attribute edits the subclass's file, not the file of the change:
/// JSON names that file and counts positions in it; rdjson, whose suggestions edit the
/// diagnostic's own file, leaves it out.
#[test]
fn a_repair_in_another_file_is_placed_in_that_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.py",
        "class Command:\n    def describe(self, text):\n        self._help[\"text\"] = text\n",
    );
    write(
        dir.path(),
        "commands.py",
        "from base import Command\n\n\nclass Add(Command):\n    _help = {}\n",
    );
    let found = findings(&json(dir.path(), &[]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["path"], "base.py");
    let fix = &found[0]["fix"];
    assert_eq!(fix["path"], "commands.py", "{fix:#?}");
    assert_eq!(fix["edits"][0]["location"]["line"], 5, "{fix:#?}");
    let rdjson = parsed_in(dir.path(), "rdjson");
    assert!(
        rdjson["diagnostics"][0].get("suggestions").is_none(),
        "{rdjson:#?}"
    );
}

/// Two cached functions read one module global that a third function changes: SL404 reports
/// each cache at the change, and neither finding is about a shared object the model names, so
/// they stay two findings and nothing is presented as a shared object.
#[test]
fn findings_about_no_named_shared_object_are_not_grouped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "pricing/convert.py",
        "from functools import lru_cache\n\nfrom pricing.rates import RATES\n\n\n@lru_cache(maxsize=None)\ndef convert(amount, currency):\n    return amount * RATES[currency]\n\n\n@lru_cache(maxsize=None)\ndef spread(currency):\n    return RATES[currency] * 0.01\n",
    );
    write(
        dir.path(),
        "pricing/rates.py",
        "RATES = {\"EUR\": 1.0}\n\n\ndef update_rate(currency, rate):\n    RATES[currency] = rate\n",
    );
    write(dir.path(), "pricing/__init__.py", "");
    let found = findings(&json(dir.path(), &["--select", "SL404"]));
    assert_eq!(found.len(), 2, "{found:#?}");
    for finding in &found {
        assert!(finding.get("members").is_none(), "{finding:#?}");
        assert!(!text(&finding["message"]).contains("also reported"));
    }
}

/// `Request._names` is also SL402's finding on the same line, told once with its SL101 finding;
/// `Alpha._names` is first in the group. The group keeps the SL402 clause, naming its object.
const HEADERS: &str = "class Request:\n    _names = {}\n\n    def header(self, name, prefix):\n        if name not in self._names:\n            self._names[name] = prefix + name.lower()\n        return self._names[name]\n\n\nclass Alpha(Request):\n    _names = {}\n\n\ndef default():\n    return Request()\n";

#[test]
fn a_members_finding_told_with_it_stays_told() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "headers.py", HEADERS);
    let found = findings(&json(dir.path(), &[]));
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0]["members"].as_array().unwrap().len(), 2);
    assert_eq!(found[0]["object"], "headers.Alpha._names");
    let output = stateleak(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        out.contains("for `headers.Request._names`, the same change is also SL402's finding"),
        "{out}"
    );
}

/// A class made by `attrs` is repaired with a field factory, a plain class in `__init__`: the
/// two findings at the change have different helps and are not grouped; each says its own.
#[test]
fn members_with_different_help_are_not_grouped() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "commands.py",
        "import attr\n\n\nclass Command:\n    _help = {}\n\n    def describe(self, text):\n        self._help[\"text\"] = text\n\n\n@attr.s(auto_attribs=True)\nclass Add(Command):\n    _help: dict = {}\n\n\ndef default():\n    return Command()\n",
    );
    let found = findings(&json(dir.path(), &[]));
    assert_eq!(found.len(), 2, "{found:#?}");
    let output = stateleak(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(out.contains("help: give the field a factory"), "{out}");
    assert!(
        out.contains("help: create it per instance in `__init__`"),
        "{out}"
    );
    // Grouped members carry their help.
    write(dir.path(), "commands.py", COMMANDS);
    let found = findings(&json(dir.path(), &[]));
    for member in found[0]["members"].as_array().unwrap() {
        assert!(
            text(&member["help"]).starts_with("create it per instance"),
            "{member:#?}"
        );
    }
}

/// Each member keeps its repair: JSON gives every member's fix, and rdjson suggests each one
/// that edits the diagnostic's file.
#[test]
fn every_members_repair_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "base.py",
        "class Command:\n    _help = {}\n\n    def describe(self, text):\n        self._help[\"text\"] = text\n\n\ndef default():\n    return Command()\n",
    );
    write(
        dir.path(),
        "sub.py",
        "from base import Command\n\n\nclass Add(Command):\n    _help = {}\n",
    );
    let found = findings(&json(dir.path(), &[]));
    assert_eq!(found.len(), 1, "{found:#?}");
    let members = found[0]["members"].as_array().unwrap();
    let mut fixed: Vec<&str> = members.iter().map(|m| text(&m["fix"]["path"])).collect();
    fixed.sort();
    assert_eq!(fixed, ["base.py", "sub.py"], "{members:#?}");
    let rdjson = parsed_in(dir.path(), "rdjson");
    let suggestions = rdjson["diagnostics"][0]["suggestions"].as_array();
    assert!(suggestions.is_some_and(|s| !s.is_empty()), "{rdjson:#?}");
}

/// Each member's request path is in JSON; the text output says whose path it tells.
#[test]
fn each_members_request_path_is_kept() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    write(
        dir.path(),
        "app.py",
        "from flask import Flask\n\nfrom commands import Add, Remove\n\napp = Flask(__name__)\n\n\n@app.route(\"/\")\ndef index():\n    Add().describe(\"x\")\n    Remove().describe(\"y\")\n    return \"ok\"\n",
    );
    let found = findings(&json(dir.path(), &[]));
    let group = found
        .iter()
        .find(|f| f.get("members").is_some())
        .expect("a group");
    for member in group["members"].as_array().unwrap() {
        assert!(member["entry_points"].is_array(), "{member:#?}");
    }
    let output = stateleak(dir.path(), &["check", "--isolated", "--no-cache", "."]);
    let out = String::from_utf8_lossy(&output.stdout);
    let object = text(&group["object"]);
    assert!(
        out.contains(&format!("for `{object}`: reached from")),
        "{out}"
    );
}

/// The baseline records one entry per object; the message says so, and the summary counts
/// what a run reports.
#[test]
fn writing_a_baseline_says_what_it_counts() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "commands.py", COMMANDS);
    let written = stateleak(
        dir.path(),
        &[
            "check",
            "--isolated",
            "--no-cache",
            "--write-baseline",
            "base.json",
            ".",
        ],
    );
    let said = String::from_utf8_lossy(&written.stderr);
    assert!(
        said.contains(
            "recorded 3 findings in base.json (reported as 1, one per rule and change expression)"
        ),
        "{said}"
    );
    assert!(said.contains(": 1 finding,"), "{said}");
}
