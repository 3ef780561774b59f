//! The link the cache keeps between runs (`src/link_cache.rs`): after every kind of edit a run
//! with the cache reports what a run without it reports, the stored link is taken only when the
//! edited files read the same for the values stage or only gained, lost or replaced trailing
//! definitions that nothing uses (renumbered), and damaged bytes of it are never trusted.

#[allow(dead_code)]
mod common;

use std::path::Path;

use common::write;
use stateleak::check::{CheckOptions, CheckResult, check};
use stateleak::report::{PathDisplay, render_json};

/// A project whose findings depend on the link: a leak in a base class reached through an
/// import, a value flow (`make` returns the class), and a request entry point.
fn project(dir: &Path) {
    write(
        dir,
        "app/base.py",
        "class Base:\n    items = []\n\n    def add(self, x):\n        self.items.append(x)\n\n\nclass Other:\n    seen = {}\n\n    def add(self, x):\n        self.seen[x] = 1\n",
    );
    write(
        dir,
        "app/factory.py",
        "from app.base import Base\n\n\ndef make():\n    return Base\n",
    );
    write(
        dir,
        "app/views.py",
        "from flask import Flask\nfrom app.base import Base\nfrom app.factory import make\n\napp = Flask(__name__)\n\n\nclass Child(Base):\n    pass\n\n\n@app.route('/')\ndef index():\n    Child().add(1)\n    return 'ok'\n\n\n@app.route('/made')\ndef made():\n    cls = make()\n    cls().add(2)\n    return 'ok'\n",
    );
}

fn run(dir: &Path, cache: Option<&Path>, entry_points: &[&str]) -> (String, CheckResult) {
    let mut options = CheckOptions::new(vec![dir.join("app")]);
    options.threads = Some(1);
    options.cache_dir = cache.map(Path::to_path_buf);
    options.rule_settings.entry_points = entry_points.iter().map(|p| p.to_string()).collect();
    let result = check(&options);
    (render_json(&result, &PathDisplay::relative_to(dir)), result)
}

/// Whether the run linked from the stored link.
fn link_kept(result: &CheckResult) -> bool {
    result
        .stage_times
        .iter()
        .any(|(stage, _)| *stage == "link, values kept")
}

/// The run's link stage: `link`, `link, values kept` or `link, values renumbered`.
fn link_stage(result: &CheckResult) -> &'static str {
    result
        .stage_times
        .iter()
        .map(|(stage, _)| *stage)
        .find(|stage| stage.starts_with("link") && !stage.starts_with("link/"))
        .expect("a link stage")
}

/// Runs with the cache (its run results removed first, so that nothing is replayed) and
/// without; asserts both report the same, and returns whether the stored link was taken.
fn same_with_and_without_cache(dir: &Path, cache: &Path, entry_points: &[&str]) -> bool {
    link_kept(&same_output(dir, cache, entry_points))
}

/// Runs with the cache (its run results removed first) and without; asserts both report the
/// same, and returns the run with the cache.
fn same_output(dir: &Path, cache: &Path, entry_points: &[&str]) -> CheckResult {
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("run-") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let (cached, result) = run(dir, Some(cache), entry_points);
    let (uncached, _) = run(dir, None, entry_points);
    assert_eq!(cached, uncached);
    result
}

fn append(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    let mut old = std::fs::read_to_string(&path).unwrap();
    old.push_str(text);
    std::fs::write(path, old).unwrap();
}

fn edit(dir: &Path, name: &str, from: &str, to: &str) {
    let path = dir.join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains(from), "{from:?} not in {name}");
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn every_kind_of_edit_reports_what_an_uncached_run_reports() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let cache = dir.join("cache");
    let (first, _) = run(dir, Some(&cache), &[]);
    assert!(first.contains("SL101"), "{first}");
    assert!(cache.join("link.bin").is_file());

    // A comment: the same values, the stored link is taken.
    edit(
        dir,
        "app/views.py",
        "    return 'ok'\n",
        "    # done\n    return 'ok'\n",
    );
    assert!(same_with_and_without_cache(dir, &cache, &[]));
    // A call no flow goes through: the values stay, the edited file's edges are found again.
    edit(dir, "app/views.py", "Child().add(1)", "Child()");
    assert!(same_with_and_without_cache(dir, &cache, &[]));
    // A value flow: the values are learnt again.
    edit(dir, "app/factory.py", "return Base", "return None");
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    edit(dir, "app/factory.py", "return None", "return Base");
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    // The class hierarchy.
    edit(dir, "app/views.py", "class Child(Base):", "class Child:");
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    edit(dir, "app/views.py", "class Child:", "class Child(Base):");
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    // An import.
    edit(
        dir,
        "app/factory.py",
        "from app.base import Base",
        "from app.base import Other as Base",
    );
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    // An entry point in the source, then one given as a pattern (another key).
    edit(dir, "app/views.py", "@app.route('/made')\n", "");
    same_with_and_without_cache(dir, &cache, &[]);
    assert!(!same_with_and_without_cache(
        dir,
        &cache,
        &["app.views.made"]
    ));
    assert!(same_with_and_without_cache(
        dir,
        &cache,
        &["app.views.made"]
    ));
    // A new file, then a file taken away (other paths: another key).
    write(
        dir,
        "app/extra.py",
        "from app.base import Base\n\nBase.items.append(1)\n",
    );
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    std::fs::remove_file(dir.join("app/extra.py")).unwrap();
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
    // Without the facts the edited file had then, nothing is kept.
    edit(
        dir,
        "app/base.py",
        "        self.items.append(x)\n",
        "        self.items.append(x)  # a\n",
    );
    std::fs::remove_file(cache.join("facts.bin")).unwrap();
    assert!(!same_with_and_without_cache(dir, &cache, &[]));
}

#[test]
fn every_flipped_byte_of_the_stored_link_gives_the_uncached_output() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let cache = dir.join("cache");
    run(dir, Some(&cache), &[]);
    let link_file = cache.join("link.bin");
    let good = std::fs::read(&link_file).unwrap();
    edit(dir, "app/views.py", "Child().add(1)", "Child().add(3)");
    assert!(same_with_and_without_cache(dir, &cache, &[]));
    for i in 0..good.len() {
        let mut damaged = good.clone();
        damaged[i] ^= 1 << (i % 8);
        std::fs::write(&link_file, &damaged).unwrap();
        assert!(!same_with_and_without_cache(dir, &cache, &[]), "byte {i}");
    }
    for len in [0, 10, 24, good.len() / 2, good.len() - 1] {
        std::fs::write(&link_file, &good[..len]).unwrap();
        assert!(
            !same_with_and_without_cache(dir, &cache, &[]),
            "{len} bytes"
        );
    }
    // Damage is replaced by the next run's link.
    std::fs::write(&link_file, &good).unwrap();
    assert!(same_with_and_without_cache(dir, &cache, &[]));
}

#[test]
fn definitions_nothing_uses_appended_or_taken_away_renumber_the_stored_link() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let cache = dir.join("cache");
    run(dir, Some(&cache), &[]);
    let stage = |dir: &Path| link_stage(&same_output(dir, &cache, &[]));

    // A function nothing calls, appended to a file before others (every later id moves).
    let unused = "\n\ndef _edited_1():\n    return 1\n";
    append(dir, "app/base.py", unused);
    assert_eq!(stage(dir), "link, values renumbered");
    // A class with a method, appended to another file; then to two files at once.
    let class = "\n\nclass _Edited:\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = value\n";
    append(dir, "app/factory.py", class);
    assert_eq!(stage(dir), "link, values renumbered");
    let second = "\n\ndef _edited_2():\n    return []\n";
    append(dir, "app/base.py", second);
    append(dir, "app/views.py", "\n\ndef _edited_3():\n    return 3\n");
    assert_eq!(stage(dir), "link, values renumbered");
    // Taken away again (from the end of the file).
    edit(dir, "app/base.py", second, "");
    assert_eq!(stage(dir), "link, values renumbered");
    edit(dir, "app/factory.py", class, "");
    assert_eq!(stage(dir), "link, values renumbered");

    // A function appended that another file already calls: its name resolves now, so the
    // values are learnt again, and the value it returns reaches the finding.
    edit(
        dir,
        "app/views.py",
        "from app.factory import make\n",
        "from app.factory import make, helper\n",
    );
    edit(dir, "app/views.py", "Child().add(1)", "helper()().add(1)");
    assert_eq!(stage(dir), "link");
    append(
        dir,
        "app/factory.py",
        "\n\ndef helper():\n    return Base\n",
    );
    links_fully_with_the_finding(dir, &cache);
    // Taken away while it is called: learnt again too.
    edit(
        dir,
        "app/factory.py",
        "\n\ndef helper():\n    return Base\n",
        "",
    );
    assert_eq!(stage(dir), "link");
}

/// A run with the stored link links fully and says what a run without the cache says, the
/// finding the now-resolved helper's value leads to among it.
fn links_fully_with_the_finding(dir: &Path, cache: &Path) {
    let (output, result) = run(dir, Some(cache), &[]);
    assert_eq!(link_stage(&result), "link");
    assert_eq!(output, run(dir, None, &[]).0);
    assert!(output.contains("SL101"), "{output}");
}

#[test]
fn a_renamed_definition_nothing_uses_renumbers_the_stored_link() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let cache = dir.join("cache");
    run(dir, Some(&cache), &[]);
    let stage = |dir: &Path| link_stage(&same_output(dir, &cache, &[]));

    // The bench's edit: the function the last run appended replaced by one of another name,
    // in a file before others (every later id moves; the number of functions does not).
    append(dir, "app/base.py", "\n\ndef _edited_1():\n    return 1\n");
    assert_eq!(stage(dir), "link, values renumbered");
    edit(
        dir,
        "app/base.py",
        "def _edited_1():\n    return 1\n",
        "def _edited_2():\n    return 2\n",
    );
    assert_eq!(stage(dir), "link, values renumbered");
    // A class nothing uses in its place, with a method; then two functions for it.
    edit(
        dir,
        "app/base.py",
        "def _edited_2():\n    return 2\n",
        "class _Edited:\n    def put(self, key):\n        self.key = key\n",
    );
    assert_eq!(stage(dir), "link, values renumbered");
    edit(
        dir,
        "app/base.py",
        "class _Edited:\n    def put(self, key):\n        self.key = key\n",
        "def _edited_3():\n    return 3\n\n\ndef _edited_4(x):\n    return 4\n",
    );
    assert_eq!(stage(dir), "link, values renumbered");

    // Renamed to a name another file imports and calls: it resolves now, so the values are
    // learnt again, and the value it returns reaches the finding.
    edit(
        dir,
        "app/views.py",
        "from app.factory import make\n",
        "from app.factory import make\nfrom app.base import helper\n",
    );
    edit(dir, "app/views.py", "Child().add(1)", "helper()().add(1)");
    assert_eq!(stage(dir), "link");
    edit(
        dir,
        "app/base.py",
        "def _edited_4(x):\n    return 4\n",
        "def helper():\n    return Base\n",
    );
    links_fully_with_the_finding(dir, &cache);
    // Renamed away while it is called: learnt again too, and the finding goes.
    edit(
        dir,
        "app/base.py",
        "def helper():\n    return Base\n",
        "def _edited_5():\n    return Base\n",
    );
    let after = same_output(dir, &cache, &[]);
    assert_eq!(link_stage(&after), "link");
}

#[test]
fn a_damaged_stored_link_is_not_renumbered() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    project(dir);
    let cache = dir.join("cache");
    run(dir, Some(&cache), &[]);
    let link_file = cache.join("link.bin");
    let good = std::fs::read(&link_file).unwrap();
    let base = std::fs::read_to_string(dir.join("app/base.py")).unwrap();
    let appended = format!("{base}\n\ndef _edited_1():\n    return 1\n");
    let stage = |dir: &Path| link_stage(&same_output(dir, &cache, &[]));
    std::fs::write(dir.join("app/base.py"), &appended).unwrap();
    assert_eq!(stage(dir), "link, values renumbered");
    // Every flipped byte, and every cut, of the link stored before the edit: a full link.
    let mut damaged_links = Vec::new();
    for i in 0..good.len() {
        let mut damaged = good.clone();
        damaged[i] ^= 1 << (i % 8);
        damaged_links.push(damaged);
    }
    for len in [0, 10, 24, good.len() / 2, good.len() - 1] {
        damaged_links.push(good[..len].to_vec());
    }
    for damaged in &damaged_links {
        std::fs::write(&link_file, damaged).unwrap();
        assert_eq!(stage(dir), "link");
    }
    // The link a full link stores is renumbered again after the next edit: taken away.
    std::fs::write(dir.join("app/base.py"), &base).unwrap();
    assert_eq!(stage(dir), "link, values renumbered");
}
