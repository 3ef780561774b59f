//! The Python half's test suite (`python/tests`), run by `cargo test` so that the README's one test
//! command covers both halves. A virtual environment with pytest and pytest-xdist is made once
//! under `target/` (pip needs the network the first time) and reused; the package is imported
//! from `python/` and the `stateleak` binary built for these tests is first on PATH.

use std::path::{Path, PathBuf};
use std::process::Command;

const TEST_REQUIREMENTS: &[&str] = &[
    "pytest>=8,<10",
    "pytest-xdist>=3.5,<4",
    "tomli>=1.1; python_version < '3.11'",
];

fn run(command: &mut Command) {
    let status = command
        .status()
        .unwrap_or_else(|error| panic!("cannot run {command:?}: {error}"));
    assert!(status.success(), "{command:?} failed with {status}");
}

/// `target/python-tests/venv`, with the test requirements installed once.
fn test_venv(manifest: &Path) -> PathBuf {
    let base = manifest.join("target").join("python-tests");
    let venv = base.join("venv");
    let python = venv.join("bin").join("python");
    let ready = base.join("requirements-installed");
    let wanted = TEST_REQUIREMENTS.join("\n");
    if std::fs::read_to_string(&ready).ok().as_deref() == Some(wanted.as_str()) && python.is_file()
    {
        return python;
    }
    std::fs::create_dir_all(&base).unwrap();
    let interpreter = std::env::var("STATELEAK_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
    run(Command::new(interpreter)
        .args(["-m", "venv", "--clear"])
        .arg(&venv));
    run(Command::new(&python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(TEST_REQUIREMENTS));
    std::fs::write(&ready, wanted).unwrap();
    python
}

#[test]
fn python_test_suite_passes() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let python = test_venv(manifest);
    let binary_dir = Path::new(env!("CARGO_BIN_EXE_stateleak")).parent().unwrap();
    let path = std::env::join_paths(std::iter::once(binary_dir.to_path_buf()).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .unwrap();
    run(Command::new(&python)
        .args([
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "python/tests",
        ])
        .current_dir(manifest)
        .env("PYTHONPATH", manifest.join("python"))
        .env("PATH", path)
        .env_remove("PYTEST_ADDOPTS"));
}
