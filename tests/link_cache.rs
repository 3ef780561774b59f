//! The link the cache keeps between runs (`src/link_cache.rs`): after every kind of edit a run
//! with the cache reports what a run without it reports, the stored link is taken only when the
//! edited files read the same for the values stage, and damaged bytes of it are never trusted.

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

/// Runs with the cache (its run results removed first, so that nothing is replayed) and
/// without; asserts both report the same, and returns whether the stored link was taken.
fn same_with_and_without_cache(dir: &Path, cache: &Path, entry_points: &[&str]) -> bool {
    for entry in std::fs::read_dir(cache).into_iter().flatten().flatten() {
        if entry.file_name().to_string_lossy().starts_with("run-") {
            std::fs::remove_file(entry.path()).unwrap();
        }
    }
    let (cached, result) = run(dir, Some(cache), entry_points);
    let (uncached, _) = run(dir, None, entry_points);
    assert_eq!(cached, uncached);
    link_kept(&result)
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
