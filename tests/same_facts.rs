//! A run whose files read the same as the stored run's, though some texts changed (a comment
//! appended), replays the stored result (`run_cache::SameFacts`); every edit that changes a
//! finding anywhere, or moves a place of one, takes the long way. Each run's output is compared
//! with an uncached run's.

mod common;

use std::path::Path;

use common::{stateleak, write};
use stateleak::check::{CheckOptions, check};
use stateleak::report::{PathDisplay, render_json};

/// A finding in `app/views.py` about a class of `app/models.py`.
fn project(dir: &Path) {
    write(
        dir,
        "app/models.py",
        "class Settings:\n    overrides = {}\n",
    );
    write(
        dir,
        "app/views.py",
        "# abc\nfrom app.models import Settings\n\n\ndef apply(request):\n    Settings.overrides.update(request.params)\n",
    );
}

/// The JSON output of a run, and whether it replayed a stored run of the same facts.
fn run(dir: &Path, cache: Option<&Path>) -> (String, bool) {
    let mut options = CheckOptions::new(vec![dir.to_path_buf()]);
    options.threads = Some(1);
    options.cache_dir = cache.map(Path::to_path_buf);
    let result = check(&options);
    let same_facts = result
        .stage_times
        .iter()
        .any(|(stage, _)| *stage == "replay, facts unchanged");
    (
        render_json(&result, &PathDisplay::relative_to(dir)),
        same_facts,
    )
}

/// Runs with the cache and asserts the output is the uncached run's; returns it and whether the
/// run replayed a stored run of the same facts.
fn checked_run(dir: &Path, cache: &Path) -> (String, bool) {
    let (uncached, _) = run(dir, None);
    let (cached, same_facts) = run(dir, Some(cache));
    assert_eq!(cached, uncached, "same facts replayed: {same_facts}");
    (cached, same_facts)
}

fn append(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    let mut old = std::fs::read_to_string(&path).unwrap();
    old.push_str(text);
    std::fs::write(path, old).unwrap();
}

fn replace(dir: &Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let old = std::fs::read_to_string(&path).unwrap();
    assert!(old.contains(from), "{old}");
    std::fs::write(path, old.replacen(from, to, 1)).unwrap();
}

#[test]
fn a_comment_appended_replays_the_result_of_the_same_facts() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(".cache");
    project(dir.path());
    let (first, same_facts) = checked_run(dir.path(), &cache);
    assert!(first.contains("SL102"), "{first}");
    assert!(!same_facts);
    for (i, file) in ["app/views.py", "app/models.py", "app/views.py"]
        .iter()
        .enumerate()
    {
        append(dir.path(), file, &format!("# edited {i}\n"));
        let (output, same_facts) = checked_run(dir.path(), &cache);
        assert!(same_facts, "edit {i} of {file}");
        assert_eq!(output, first);
    }
}

#[test]
fn an_edit_that_changes_a_finding_in_another_file_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(".cache");
    project(dir.path());
    let (first, _) = checked_run(dir.path(), &cache);
    assert!(first.contains("SL102"), "{first}");
    // The finding is in views.py; only models.py changes.
    replace(
        dir.path(),
        "app/models.py",
        "overrides = {}",
        "overrides = None",
    );
    let (output, same_facts) = checked_run(dir.path(), &cache);
    assert!(!same_facts);
    assert!(!output.contains("SL102"), "{output}");
    // And back: the stored run is the one without the finding now.
    append(dir.path(), "app/models.py", "# edited\n");
    assert!(checked_run(dir.path(), &cache).1);
    replace(
        dir.path(),
        "app/models.py",
        "overrides = None",
        "overrides = {}",
    );
    let (output, same_facts) = checked_run(dir.path(), &cache);
    assert!(!same_facts);
    assert!(output.contains("SL102"), "{output}");
}

#[test]
fn an_edit_of_the_same_length_that_moves_a_finding_down_a_line_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(".cache");
    project(dir.path());
    let (first, _) = checked_run(dir.path(), &cache);
    assert!(first.contains("\"line\": 6"), "{first}");
    // The same bytes but one, the same facts, every later line one further down.
    replace(dir.path(), "app/views.py", "# abc\n", "#\n# b\n");
    let (output, same_facts) = checked_run(dir.path(), &cache);
    assert!(!same_facts);
    assert!(output.contains("\"line\": 7"), "{output}");
}

#[test]
fn an_edit_of_the_same_length_that_moves_a_finding_along_its_line_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(".cache");
    project(dir.path());
    replace(
        dir.path(),
        "app/views.py",
        "    Settings.overrides",
        "    x = 'ab'; Settings.overrides",
    );
    let (first, _) = checked_run(dir.path(), &cache);
    assert!(first.contains("SL102"), "{first}");
    // Two bytes of one character for two characters: the column moves back by one.
    replace(dir.path(), "app/views.py", "'ab'", "'é'");
    let (output, same_facts) = checked_run(dir.path(), &cache);
    assert!(!same_facts);
    assert_ne!(output, first);
}

#[test]
fn a_suppression_comment_added_or_removed_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().join(".cache");
    project(dir.path());
    let (first, _) = checked_run(dir.path(), &cache);
    replace(
        dir.path(),
        "app/views.py",
        "update(request.params)\n",
        "update(request.params)  # noqa: SL102\n",
    );
    let (output, same_facts) = checked_run(dir.path(), &cache);
    assert!(!same_facts);
    assert!(!output.contains("\"SL102\""), "{output}");
    replace(dir.path(), "app/views.py", "  # noqa: SL102\n", "\n");
    let (output, same_facts) = checked_run(dir.path(), &cache);
    assert!(!same_facts);
    assert_eq!(output, first);
}

#[test]
fn a_comment_after_a_finding_on_its_line_is_replayed_with_todays_snippet() {
    let dir = tempfile::tempdir().unwrap();
    project(dir.path());
    let check = |cache: &[&str]| {
        let mut args = vec!["check", ".", "-v"];
        args.extend_from_slice(cache);
        let output = stateleak(dir.path(), &args);
        (
            String::from_utf8(output.stdout).unwrap(),
            String::from_utf8(output.stderr).unwrap(),
        )
    };
    check(&["--cache-dir", ".cache"]);
    replace(
        dir.path(),
        "app/views.py",
        "update(request.params)\n",
        "update(request.params)  # said on the line\n",
    );
    let (output, stages) = check(&["--cache-dir", ".cache"]);
    assert!(stages.contains("replay, facts unchanged"), "{stages}");
    assert!(output.contains("# said on the line"), "{output}");
    assert_eq!(output, check(&["--no-cache"]).0);
}
