//! The cache is never trusted and never writes where it should not: damaged bytes give the output
//! of an uncached run and are healed, planted symbolic links are never written through, and the
//! cache folder is found in the project root (or where the user says).

mod common;

use std::path::{Path, PathBuf};

use common::{stateleak, write};
use stateleak::check::{CheckOptions, check};
use stateleak::report::{PathDisplay, render_json};

/// A small project whose link matters: a leak in a base class reached through an import, a
/// request entry point, and a file with a syntax error.
fn small_project(dir: &Path) {
    write(
        dir,
        "app/base.py",
        "class Base:\n    items = []\n\n    def add(self, x):\n        self.items.append(x)\n",
    );
    write(
        dir,
        "app/views.py",
        "from flask import Flask\nfrom app.base import Base\n\napp = Flask(__name__)\n\n\nclass Child(Base):\n    pass\n\n\n@app.route('/')\ndef index():\n    Child().add(1)\n    return 'ok'\n",
    );
    write(dir, "app/broken.py", "def broken(:\n");
}

fn json_of_run(dir: &Path, cache: Option<&Path>) -> String {
    let mut options = CheckOptions::new(vec![dir.join("app")]);
    options.threads = Some(1);
    options.cache_dir = cache.map(Path::to_path_buf);
    let result = check(&options);
    render_json(&result, &PathDisplay::relative_to(dir))
}

#[test]
fn every_flipped_byte_of_the_cache_gives_the_uncached_output_and_is_healed() {
    let dir = tempfile::tempdir().unwrap();
    small_project(dir.path());
    let cache = dir.path().join("cache");
    let uncached = json_of_run(dir.path(), None);
    assert!(uncached.contains("SL101"), "{uncached}");
    assert!(uncached.contains("syntax error"), "{uncached}");
    assert_eq!(json_of_run(dir.path(), Some(&cache)), uncached);
    let cache_file = cache.join("facts.bin");
    let good = std::fs::read(&cache_file).unwrap();
    assert!(good.len() > 100, "{} bytes", good.len());

    for i in 0..good.len() {
        let mut damaged = good.clone();
        damaged[i] ^= 1 << (i % 8);
        std::fs::write(&cache_file, &damaged).unwrap();
        // Without the run cache, which would replay the run without reading the facts.
        std::fs::remove_file(run_cache_file(&cache)).unwrap();
        assert_eq!(
            json_of_run(dir.path(), Some(&cache)),
            uncached,
            "byte {i} flipped"
        );
        // The run rewrote the cache without the damage.
        assert_eq!(
            std::fs::read(&cache_file).unwrap(),
            good,
            "byte {i} flipped: not healed"
        );
    }
    // Truncated and extended files too.
    let mut longer = good.clone();
    longer.push(0);
    for damaged in [0, 10, 28, good.len() / 2, good.len() - 1]
        .map(|len| good[..len].to_vec())
        .into_iter()
        .chain([longer])
    {
        std::fs::write(&cache_file, &damaged).unwrap();
        std::fs::remove_file(run_cache_file(&cache)).unwrap();
        assert_eq!(json_of_run(dir.path(), Some(&cache)), uncached);
        assert_eq!(std::fs::read(&cache_file).unwrap(), good);
    }
}

/// The one file of the run cache in `cache` (one kind of run was made).
fn run_cache_file(cache: &Path) -> PathBuf {
    let runs: Vec<String> = names_in(cache)
        .into_iter()
        .filter(|name| name.starts_with("run-"))
        .collect();
    assert_eq!(runs.len(), 1, "{runs:?}");
    cache.join(&runs[0])
}

/// Whether the run replayed a stored result.
fn replayed(dir: &Path, cache: &Path) -> bool {
    let mut options = CheckOptions::new(vec![dir.join("app")]);
    options.threads = Some(1);
    options.cache_dir = Some(cache.to_path_buf());
    let result = check(&options);
    result
        .stage_times
        .iter()
        .any(|(stage, _)| *stage == "replay")
}

#[test]
fn an_unchanged_project_replays_its_result_and_every_flipped_byte_of_it_is_a_miss() {
    let dir = tempfile::tempdir().unwrap();
    small_project(dir.path());
    let cache = dir.path().join("cache");
    let uncached = json_of_run(dir.path(), None);
    assert!(!replayed(dir.path(), &cache), "nothing stored yet");
    assert!(replayed(dir.path(), &cache));
    assert_eq!(json_of_run(dir.path(), Some(&cache)), uncached);
    let run_file = run_cache_file(&cache);
    let good = std::fs::read(&run_file).unwrap();
    assert!(good.len() > 100, "{} bytes", good.len());

    for i in 0..good.len() {
        let mut damaged = good.clone();
        damaged[i] ^= 1 << (i % 8);
        std::fs::write(&run_file, &damaged).unwrap();
        assert!(!replayed(dir.path(), &cache), "byte {i} flipped: replayed");
        // The run rewrote the stored result without the damage; the next one replays it.
        assert_eq!(std::fs::read(&run_file).unwrap(), good, "byte {i}");
        std::fs::write(&run_file, &damaged).unwrap();
        assert_eq!(
            json_of_run(dir.path(), Some(&cache)),
            uncached,
            "byte {i} flipped"
        );
    }
    let mut longer = good.clone();
    longer.push(0);
    for damaged in [0, 8, 31, 32, good.len() / 2, good.len() - 1]
        .map(|len| good[..len].to_vec())
        .into_iter()
        .chain([longer])
    {
        std::fs::write(&run_file, &damaged).unwrap();
        assert_eq!(json_of_run(dir.path(), Some(&cache)), uncached);
        assert_eq!(std::fs::read(&run_file).unwrap(), good);
    }
    assert!(replayed(dir.path(), &cache));
}

#[test]
fn a_changed_file_or_setting_is_not_replayed() {
    let dir = tempfile::tempdir().unwrap();
    small_project(dir.path());
    let cache = dir.path().join("cache");
    json_of_run(dir.path(), Some(&cache));
    assert!(replayed(dir.path(), &cache));

    // One file's text.
    write(
        dir.path(),
        "app/base.py",
        "class Base:\n    items = []\n\n    def add(self, x):\n        self.items = [x]\n",
    );
    let fresh = json_of_run(dir.path(), None);
    assert!(!fresh.contains("SL101"), "{fresh}");
    assert_eq!(json_of_run(dir.path(), Some(&cache)), fresh);
    assert!(replayed(dir.path(), &cache));

    // A file added.
    write(
        dir.path(),
        "app/extra.py",
        "CACHE = {}\n\ndef put(k, v):\n    CACHE[k] = v\n",
    );
    let fresh = json_of_run(dir.path(), None);
    assert_eq!(json_of_run(dir.path(), Some(&cache)), fresh);

    // The settings of a folder (through the command line's resolver, as `check` reads them).
    let run = |args: &[&str]| {
        let mut all = vec![
            "check",
            "app",
            "--output-format",
            "concise",
            "--cache-dir",
            "cache",
        ];
        all.extend_from_slice(args);
        String::from_utf8(stateleak(dir.path(), &all).stdout).unwrap()
    };
    small_project(dir.path());
    let before = run(&[]);
    assert!(before.contains("SL101"), "{before}");
    assert_eq!(run(&[]), before);
    write(dir.path(), "app/stateleak.toml", "ignore = [\"SL1\"]\n");
    let ignored = run(&[]);
    assert_ne!(ignored, before);
    assert_eq!(
        ignored,
        String::from_utf8(
            stateleak(
                dir.path(),
                &["check", "app", "--output-format", "concise", "--no-cache"]
            )
            .stdout
        )
        .unwrap()
    );
    // An option of the command line that changes findings.
    std::fs::remove_file(dir.path().join("app/stateleak.toml")).unwrap();
    assert_eq!(run(&[]), before);
    assert_ne!(run(&["--select", "SL2"]), before);
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn assert_checked(output: &std::process::Output) {
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("SL101"));
}

#[cfg(unix)]
mod planted_links {
    use super::*;
    use std::os::unix::fs::symlink;

    /// A project, and a folder outside it that the project's links point into.
    fn project_and_outside() -> (tempfile::TempDir, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        small_project(dir.path());
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "precious.txt", "keep me\n");
        (dir, outside)
    }

    fn assert_outside_untouched(outside: &Path) {
        assert_eq!(names_in(outside), ["precious.txt"]);
        assert_eq!(
            std::fs::read_to_string(outside.join("precious.txt")).unwrap(),
            "keep me\n"
        );
    }

    #[test]
    fn a_cache_folder_that_is_a_link_is_not_used() {
        let (dir, outside) = project_and_outside();
        symlink(outside.path(), dir.path().join(".stateleak_cache")).unwrap();
        assert_checked(&stateleak(dir.path(), &["check", "app"]));
        assert_outside_untouched(outside.path());
    }

    #[test]
    fn links_planted_inside_the_cache_folder_are_not_written_through() {
        let (dir, outside) = project_and_outside();
        let cache = dir.path().join(".stateleak_cache");
        std::fs::create_dir(&cache).unwrap();
        symlink(
            outside.path().join("precious.txt"),
            cache.join("CACHEDIR.TAG"),
        )
        .unwrap();
        symlink(outside.path().join("created.txt"), cache.join(".gitignore")).unwrap();
        // Killed runs' temporary names (dead process ids), and the name this run's process id
        // would have had without random names.
        for pid in [99_999_999u32, 99_999_998] {
            symlink(
                outside.path().join("precious.txt"),
                cache.join(format!("facts.bin.{pid}.tmp")),
            )
            .unwrap();
        }
        symlink(outside.path().join("precious.txt"), cache.join("facts.bin")).unwrap();
        symlink(outside.path().join("precious.txt"), cache.join("link.bin")).unwrap();
        assert_checked(&stateleak(dir.path(), &["check", "app"]));
        assert_outside_untouched(outside.path());
        // The run wrote its caches, replacing the links, and removed the stale temporary links.
        for name in ["facts.bin", "link.bin"] {
            assert!(!cache.join(name).is_symlink(), "{name}");
            assert!(cache.join(name).is_file(), "{name}");
        }
        let mut names = names_in(&cache);
        names.retain(|name| !name.starts_with("run-"));
        assert_eq!(
            names,
            [".gitignore", "CACHEDIR.TAG", "facts.bin", "link.bin"]
        );
        run_cache_file(&cache);
        assert_checked(&stateleak(dir.path(), &["check", "app"]));
    }

    #[test]
    fn a_baseline_onto_a_link_is_refused() {
        let (dir, outside) = project_and_outside();
        symlink(
            outside.path().join("precious.txt"),
            dir.path().join("baseline.json"),
        )
        .unwrap();
        symlink(outside.path().join("new.json"), dir.path().join("new.json")).unwrap();
        for name in ["baseline.json", "new.json"] {
            let output = stateleak(dir.path(), &["check", "app", "--write-baseline", name]);
            assert_eq!(output.status.code(), Some(2));
            let stderr = String::from_utf8_lossy(&output.stderr);
            assert!(stderr.contains("symbolic link"), "{stderr}");
        }
        assert_outside_untouched(outside.path());
    }
}

#[test]
fn temporary_files_of_killed_runs_are_removed_on_the_next_write() {
    let dir = tempfile::tempdir().unwrap();
    small_project(dir.path());
    let cache = dir.path().join(".stateleak_cache");
    assert_checked(&stateleak(dir.path(), &["check", "app"]));
    write(&cache, "facts.bin.99999999.tmp", "half a cache");
    // A live process's temporary file (this test's) stays.
    let live = format!("facts.bin.{}.abc.tmp", std::process::id());
    write(&cache, &live, "being written");
    write(dir.path(), "app/new.py", "x = 1\n");
    assert_checked(&stateleak(dir.path(), &["check", "app"]));
    assert!(!cache.join("facts.bin.99999999.tmp").exists());
    assert!(cache.join(&live).exists());
}

#[test]
fn the_cache_goes_to_the_project_root_or_where_asked() {
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    small_project(&repo);
    std::fs::create_dir(repo.join(".git")).unwrap();
    std::fs::create_dir(repo.join("elsewhere")).unwrap();

    // From a subfolder, without settings: the repository root.
    assert_checked(&stateleak(&repo.join("elsewhere"), &["check", "../app"]));
    assert!(repo.join(".stateleak_cache/facts.bin").is_file());
    assert!(!repo.join("elsewhere/.stateleak_cache").exists());

    // `stateleak clean` removes it.
    let output = stateleak(&repo.join("elsewhere"), &["clean", "../app"]);
    assert_eq!(output.status.code(), Some(0));
    assert!(!repo.join(".stateleak_cache").exists());

    // With a settings file: its folder, or its `cache-dir`.
    write(&repo, "app/stateleak.toml", "");
    assert_checked(&stateleak(&repo, &["check", "app"]));
    assert!(repo.join("app/.stateleak_cache/facts.bin").is_file());
    write(
        &repo,
        "app/stateleak.toml",
        "cache-dir = \"../build/cache\"\n",
    );
    assert_checked(&stateleak(&repo, &["check", "app"]));
    assert!(repo.join("build/cache/facts.bin").is_file());
    assert_eq!(stateleak(&repo, &["clean", "app"]).status.code(), Some(0));
    assert!(!repo.join("build/cache").exists());

    // The environment variable, then the flag, win over the setting.
    let by_env = dir.path().join("by-env");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .args(["check", "app"])
        .current_dir(&repo)
        .env("STATELEAK_CACHE_DIR", &by_env)
        .output()
        .unwrap();
    assert_checked(&output);
    assert!(by_env.join("facts.bin").is_file());
    let by_flag: PathBuf = dir.path().join("by-flag");
    let flag = by_flag.to_str().unwrap();
    assert_checked(&stateleak(&repo, &["check", "app", "--cache-dir", flag]));
    assert!(by_flag.join("facts.bin").is_file());
    assert_eq!(
        stateleak(&repo, &["clean", "--cache-dir", flag])
            .status
            .code(),
        Some(0)
    );
    assert!(!by_flag.exists());

    // `clean` never removes a folder that is not a stateleak cache.
    let output = stateleak(&repo, &["clean", "--cache-dir", "app"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(repo.join("app/base.py").exists());
}
