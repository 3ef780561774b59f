//! Bad input never crashes stateleak nor hides other results: every strange file becomes an error
//! entry (path, and line where there is one) while a good file in the same run is still analysed.
//! Large inputs are generated here, at test time.

use std::path::{Path, PathBuf};
use std::process::Command;

use stateleak::check::{CheckOptions, CheckResult, FileError, check};
use stateleak::report::{self, PathDisplay};

#[path = "../fuzz/src/project.rs"]
#[allow(dead_code)]
mod fuzz_project;

/// A leak SL101 reports on line 5: the good file every run must still analyse.
const LEAK: &str =
    "class Cache:\n    items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n";
const GOOD: &str = "good.py";

fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// A folder holding the good file.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), GOOD, LEAK);
    dir
}

fn analyse(paths: Vec<PathBuf>) -> CheckResult {
    analyse_with(paths, |_| {})
}

fn analyse_with(paths: Vec<PathBuf>, configure: impl FnOnce(&mut CheckOptions)) -> CheckResult {
    let mut options = CheckOptions::new(paths);
    options.threads = Some(2);
    configure(&mut options);
    let result = check(&options);
    let internal: Vec<&FileError> = result.errors.iter().filter(|e| e.internal).collect();
    assert!(internal.is_empty(), "internal errors: {internal:#?}");
    result
}

/// The good file was analysed: its finding is there.
fn assert_good_file_analysed(result: &CheckResult) {
    assert!(
        result
            .findings
            .iter()
            .any(|f| f.code == "SL101" && f.primary.path.ends_with(GOOD) && f.primary.line == 5),
        "the good file's finding is missing; errors: {:#?}",
        result.errors
    );
}

/// The one error entry about `path`.
fn error_for<'a>(result: &'a CheckResult, path: &Path) -> &'a FileError {
    let matching: Vec<&FileError> = result.errors.iter().filter(|e| e.path == path).collect();
    assert_eq!(
        matching.len(),
        1,
        "expected one error for {}, got {:#?}",
        path.display(),
        result.errors
    );
    matching[0]
}

fn assert_error(result: &CheckResult, path: &Path, line: Option<u32>, message_part: &str) {
    let error = error_for(result, path);
    assert_eq!(error.line, line, "{error:?}");
    assert!(
        error.message.contains(message_part),
        "`{}` does not contain `{message_part}`",
        error.message
    );
}

#[test]
fn syntax_errors_of_many_kinds_are_reported_with_their_line() {
    let dir = project();
    let cases: &[(&str, &str, u32, &str)] = &[
        ("unclosed_paren.py", "x = 1\ny = (1,\n     2\n", 4, "EOF"),
        (
            "missing_colon.py",
            "x = 1\ndef f()\n    return 1\n",
            2,
            "Expected `:`",
        ),
        ("bad_params.py", "def f(:\n    pass\n", 1, "parameter"),
        (
            "expected_indent.py",
            "def f():\nreturn 1\n",
            2,
            "indented block",
        ),
        (
            "unexpected_indent.py",
            "x = 1\n    y = 2\n",
            2,
            "indentation",
        ),
        ("unterminated_string.py", "x = 1\ns = 'abc\n", 2, "quote"),
        (
            "unterminated_triple.py",
            "x = 1\ns = '''abc\n\n",
            2,
            "quote",
        ),
        (
            "invalid_target.py",
            "x = 1\n1 = x\n",
            2,
            "assignment target",
        ),
        ("double_equals.py", "x = = 1\n", 1, "expression"),
        ("stray_paren.py", "x = 1\n)\n", 2, "statement"),
        ("keyword_name.py", "def class():\n    pass\n", 1, "keyword"),
        (
            "python2_print.py",
            "import os\nprint 'hello'\n",
            2,
            "newlines",
        ),
        (
            "lone_except.py",
            "x = 1\nexcept ValueError:\n    pass\n",
            2,
            "statement",
        ),
        ("bad_char.py", "x = 1\ny = 2 $ 3\n", 2, "$"),
        ("bad_continuation.py", "x = 1 \\ 2\n", 1, "continuation"),
        ("bad_fstring.py", "x = 1\ny = f'{'\n", 2, "expression"),
        (
            "dedent_mismatch.py",
            "if x:\n        a = 1\n    b = 2\n",
            3,
            "unindent",
        ),
        ("lambda_default.py", "f = lambda x=: x\n", 1, "expression"),
        ("bad_decorator.py", "@\ndef f(): pass\n", 1, "expression"),
        ("unclosed_bracket.py", "x = [1, 2,\n", 2, "EOF"),
        ("bad_walrus.py", "x := 1\n", 1, "statement"),
        // A leak after the error is not reported: the file contributes nothing.
        (
            "leak_then_error.py",
            &format!("{LEAK}x = (\n"),
            7,
            "syntax error",
        ),
    ];
    for (name, text, _, _) in cases {
        write(dir.path(), name, text);
    }
    let result = analyse(vec![dir.path().to_path_buf()]);
    assert_good_file_analysed(&result);
    for (name, _, line, part) in cases {
        let path = dir.path().join(name);
        assert_error(&result, &path, Some(*line), "syntax error: ");
        assert_error(&result, &path, Some(*line), part);
    }
    assert_eq!(result.findings.len(), 1, "{:#?}", result.findings);
    assert_eq!(result.files_checked, cases.len() + 1);
}

/// Each deeply nested file is refused before parsing or cut off while walking, with its line.
#[test]
fn deep_nesting_is_reported_not_a_stack_overflow() {
    let dir = project();
    let nested_blocks: String = (0..500)
        .map(|i| {
            let indent = " ".repeat(i);
            if i % 2 == 0 {
                format!("{indent}class C{i}:\n")
            } else {
                format!("{indent}def f{i}(self):\n")
            }
        })
        .chain(std::iter::once(format!("{}pass\n", " ".repeat(500))))
        .collect();
    let many = 100_000;
    let cases: Vec<(&str, String, u32, &str)> = vec![
        (
            "parentheses.py",
            format!("x = 1\ny = {}1{}\n", "(".repeat(many), ")".repeat(many)),
            2,
            "brackets nest more than",
        ),
        (
            "brackets.py",
            format!("x = {}{}\n", "[".repeat(many), "]".repeat(many)),
            1,
            "brackets nest more than",
        ),
        (
            "binary.py",
            format!("x = {}\n", vec!["a"; 50_000].join(" + ")),
            1,
            "nests more than",
        ),
        ("blocks.py", nested_blocks, 102, "blocks nest more than 100"),
        (
            "power.py",
            format!("x = {}\n", vec!["2"; many].join("**")),
            1,
            "nests more than",
        ),
        (
            "nots.py",
            format!("x = {}y\n", "not ".repeat(many)),
            1,
            "nests more than",
        ),
        (
            "minus.py",
            format!("x = {}y\n", "-".repeat(1_000_000)),
            1,
            "nests more than",
        ),
        (
            "lambdas.py",
            format!("f = {}1\n", "lambda: ".repeat(many)),
            1,
            "nests more than",
        ),
        (
            "ternaries.py",
            format!("x = {}c\n", "a if b else ".repeat(many)),
            1,
            "nests more than",
        ),
        (
            "attributes.py",
            format!("x = a{}\n", ".b".repeat(many)),
            1,
            "nests more than",
        ),
        (
            "calls.py",
            format!("x = f{}\n", "()".repeat(many)),
            1,
            "nests more than",
        ),
        (
            "indentation.py",
            (0..1100)
                .map(|i| format!("{}if x:\n", " ".repeat(i)))
                .collect(),
            102,
            "blocks nest more than",
        ),
        (
            "chained.py",
            format!("x = 1\n{}{}\n", "f = ".repeat(30_000), "la".repeat(30_000)),
            2,
            "chains 30000 targets",
        ),
        (
            "fstrings.py",
            format!("x = {}1{}\n", "f'{".repeat(many), "}'".repeat(many)),
            1,
            "nest more than",
        ),
    ];
    for (name, text, _, _) in &cases {
        write(dir.path(), name, text);
    }
    let result = analyse(vec![dir.path().to_path_buf()]);
    assert_good_file_analysed(&result);
    for (name, _, line, part) in &cases {
        let path = dir.path().join(name);
        assert_error(&result, &path, Some(*line), part);
        // Deep code is valid Python; the error says it was refused, not that it is malformed.
        let message = &error_for(&result, &path).message;
        assert!(!message.starts_with("syntax error"), "{message}");
    }
}

/// Just under the limits, deep code is parsed and walked (or cut off by the walker) without
/// exhausting the stack, whatever construct nests.
#[test]
fn nesting_just_under_the_limits_does_not_overflow_the_stack() {
    let dir = project();
    let depth = stateleak::syntax::MAX_EXPRESSION_DEPTH as usize - 100;
    let attributes = ".b".repeat(depth);
    let cases = [
        format!("x = a{attributes}\n"),
        format!("a{attributes} = 1\n"),
        format!("a{attributes}.append(1)\n"),
        format!("class C:\n    def f(self):\n        self{attributes}.append(1)\n"),
        format!("@a{attributes}\ndef f(): pass\n"),
        format!("class C(a{attributes}): pass\n"),
        format!("x: a{attributes} = 1\n"),
        format!("x = f'{{a{attributes}}}'\n"),
        format!("x = {}y\n", "-".repeat(depth)),
        format!("x = {}y\n", "not ".repeat(depth)),
        format!("x = {}\n", vec!["2"; depth / 2].join("**")),
        format!("f = {}1\n", "lambda: ".repeat(depth)),
        format!("x = {}c\n", "a if b else ".repeat(depth / 2)),
        format!("x = f{}\n", "()".repeat(depth / 2)),
        format!("x = f{}\n", "[0]".repeat(depth / 2)),
        format!("x = {}\n", vec!["a"; depth].join(" + ")),
        format!(
            "x = {}1{}\n",
            "(".repeat(stateleak::syntax::MAX_BRACKET_DEPTH),
            ")".repeat(stateleak::syntax::MAX_BRACKET_DEPTH)
        ),
        (0..stateleak::syntax::MAX_INDENT_DEPTH)
            .map(|i| format!("{}if x:\n", " ".repeat(i)))
            .chain(std::iter::once(format!(
                "{}pass\n",
                " ".repeat(stateleak::syntax::MAX_INDENT_DEPTH)
            )))
            .collect(),
    ];
    for (i, text) in cases.iter().enumerate() {
        write(dir.path(), &format!("deep{i}.py"), text);
    }
    let result = analyse(vec![dir.path().to_path_buf()]);
    assert_good_file_analysed(&result);
    for error in &result.errors {
        assert!(
            error.message.contains("code nests more than"),
            "only the walker's cut-off is expected: {error:?}"
        );
    }
}

#[test]
fn a_ten_megabyte_single_line_file_is_analysed() {
    let dir = project();
    let mut line = String::from("x = [");
    while line.len() < 10_000_000 {
        line.push_str("12345, ");
    }
    line.push_str("]\n");
    write(dir.path(), "huge.py", line);
    let result = analyse(vec![dir.path().to_path_buf()]);
    assert_good_file_analysed(&result);
    assert!(result.errors.is_empty(), "{:#?}", result.errors);
    assert_eq!(result.files_checked, 2);
}

#[test]
fn encodings_are_decoded_as_cpython_decodes_them() {
    let dir = project();
    let leak_with = |prefix: &[u8], key: &[u8]| {
        let mut bytes = prefix.to_vec();
        bytes.extend_from_slice(b"class Cache:\n    items = {}\n\n    def put(self, v):\n");
        bytes.extend_from_slice(b"        self.items['");
        bytes.extend_from_slice(key);
        bytes.extend_from_slice(b"'] = v\n");
        bytes
    };
    write(
        dir.path(),
        "bom.py",
        leak_with(b"\xef\xbb\xbf# a BOM\n", "é".as_bytes()),
    );
    write(
        dir.path(),
        "latin1.py",
        leak_with(b"# -*- coding: latin-1 -*-\n", b"caf\xe9"),
    );
    let cp1252 = leak_with(b"#!/usr/bin/env python\n# coding=cp1252\n", b"\x80uro");
    write(dir.path(), "cp1252.py", &cp1252[..]);
    write(dir.path(), "undecodable.py", b"x = 1\ny = 2\ns = '\xff'\n");
    write(
        dir.path(),
        "late_declaration.py",
        b"x = 1\n\n# coding: latin-1\ns = '\xe9'\n",
    );
    write(dir.path(), "unknown.py", b"# coding: klingon\nx = 1\n");
    write(dir.path(), "nul.py", b"x = 1\ny = '\0'\n");
    write(dir.path(), "empty.py", b"");

    let result = analyse(vec![dir.path().to_path_buf()]);
    assert_good_file_analysed(&result);
    let finding_line = |name: &str| {
        result
            .findings
            .iter()
            .find(|f| f.primary.path.ends_with(name))
            .map(|f| (f.primary.line, f.primary.column))
    };
    assert_eq!(finding_line("bom.py"), Some((6, 9)));
    assert_eq!(finding_line("latin1.py"), Some((6, 9)));
    assert_eq!(finding_line("cp1252.py"), Some((7, 9)));
    let text = report::render_text(&result, &PathDisplay::relative_to(dir.path()), false);
    assert!(text.contains("self.items['café'] = v"), "{text}");
    assert!(text.contains("self.items['€uro'] = v"), "{text}");

    let path = |name: &str| dir.path().join(name);
    assert_error(&result, &path("undecodable.py"), Some(3), "invalid UTF-8");
    assert_error(
        &result,
        &path("late_declaration.py"),
        Some(4),
        "invalid UTF-8",
    );
    assert_error(&result, &path("unknown.py"), Some(1), "klingon");
    assert_error(&result, &path("nul.py"), Some(2), "NUL byte");
    assert!(result.errors.iter().all(|e| !e.path.ends_with("empty.py")));
    assert!(result.errors.iter().all(|e| !e.path.ends_with("bom.py")));
    assert_eq!(result.errors.len(), 4, "{:#?}", result.errors);
}

/// A file and a folder with mode 000. Root reads them anyway; then the check runs as `nobody`
/// (through `setpriv`), and the case is skipped with a message only when that is impossible.
#[cfg(unix)]
#[test]
fn unreadable_files_and_folders_are_reported() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path, mode: u32| {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    let dir = project();
    let locked_file = write(dir.path(), "locked.py", LEAK);
    let locked_folder = dir.path().join("locked");
    write(&locked_folder, "inner.py", LEAK);
    mode(&locked_file, 0o000);
    mode(&locked_folder, 0o000);

    if std::fs::read(&locked_file).is_err() {
        let result = analyse(vec![dir.path().to_path_buf()]);
        mode(&locked_folder, 0o755);
        assert_good_file_analysed(&result);
        assert_error(&result, &locked_file, None, "cannot read");
        assert!(
            result
                .errors
                .iter()
                .any(|e| e.path.starts_with(&locked_folder)),
            "{:#?}",
            result.errors
        );
        return;
    }
    // Running as root: let an unprivileged user run the check over a world-readable copy.
    mode(dir.path(), 0o755);
    let as_nobody = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(env!("CARGO_BIN_EXE_stateleak"))
        .args(["check", "--no-cache", "--output-format", "json", "."])
        .current_dir(dir.path())
        .output();
    mode(&locked_folder, 0o755);
    let output = match as_nobody {
        Ok(output) if output.status.code() != Some(127) && !output.stdout.is_empty() => output,
        _ => {
            eprintln!(
                "SKIPPED unreadable_files_and_folders_are_reported: this process reads files with \
                 mode 000 (root) and cannot run the check as another user with `setpriv`"
            );
            return;
        }
    };
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let document = json(&output);
    assert_eq!(document["findings"][0]["path"], GOOD, "{document}");
    let errors = document["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2, "{document}");
    assert_eq!(errors[0]["path"], "locked");
    assert_eq!(errors[1]["path"], "locked.py");
    for error in errors {
        let message = error["message"].as_str().unwrap();
        assert!(message.contains("Permission denied"), "{message}");
    }
}

/// Named explicitly, a broken link, a link loop, a FIFO and a missing path are each an error
/// entry. Met while walking a folder, links and special files are skipped (links are not
/// followed), so they neither hang nor fail the run.
#[cfg(unix)]
#[test]
fn links_fifos_and_missing_paths_are_reported() {
    let dir = project();
    let root = dir.path();
    std::os::unix::fs::symlink(root.join("nowhere.py"), root.join("broken.py")).unwrap();
    std::os::unix::fs::symlink(root.join("loop_b.py"), root.join("loop_a.py")).unwrap();
    std::os::unix::fs::symlink(root.join("loop_a.py"), root.join("loop_b.py")).unwrap();
    std::os::unix::fs::symlink(root, root.join("sub_loop")).unwrap();
    let fifo = root.join("fifo.py");
    let made_fifo = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .is_ok_and(|s| s.success());
    if !made_fifo {
        eprintln!("SKIPPED the FIFO case: `mkfifo` is not available");
    }

    let walked = analyse(vec![root.to_path_buf()]);
    assert_good_file_analysed(&walked);
    assert!(walked.errors.is_empty(), "{:#?}", walked.errors);

    let mut named = vec![
        root.join(GOOD),
        root.join("broken.py"),
        root.join("loop_a.py"),
        root.join("missing.py"),
    ];
    if made_fifo {
        named.push(fifo.clone());
    }
    let result = analyse(named);
    assert_good_file_analysed(&result);
    assert_error(&result, &root.join("broken.py"), None, "cannot read");
    assert_error(&result, &root.join("loop_a.py"), None, "cannot read");
    assert_error(&result, &root.join("missing.py"), None, "cannot read");
    assert!(result.missing_paths);
    if made_fifo {
        assert_error(&result, &fifo, None, "not a regular file");
    }
}

/// A folder named like a module is a folder: it is walked, named or not.
#[test]
fn a_folder_named_x_py_is_walked() {
    let dir = project();
    let folder = dir.path().join("x.py");
    write(&folder, "inner.py", LEAK);
    for paths in [
        vec![dir.path().to_path_buf()],
        vec![dir.path().join(GOOD), folder.clone()],
    ] {
        let result = analyse(paths);
        assert_good_file_analysed(&result);
        assert!(result.errors.is_empty(), "{:#?}", result.errors);
        assert!(
            result
                .findings
                .iter()
                .any(|f| f.primary.path == folder.join("inner.py")),
            "{:#?}",
            result.findings
        );
    }
}

#[test]
fn files_over_the_size_limit_are_reported() {
    let dir = project();
    let big = write(
        dir.path(),
        "big.py",
        format!("x = '{}'\n", "a".repeat(5000)),
    );
    let result = analyse_with(vec![dir.path().to_path_buf()], |options| {
        options.max_file_size = 1000;
    });
    assert_good_file_analysed(&result);
    assert_error(&result, &big, None, "over the limit of 1000 bytes");
    assert_error(&result, &big, None, "max-file-size");
}

fn stateleak(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .envs(env.iter().copied())
        .output()
        .expect("the binary runs")
}

fn json(output: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

#[test]
fn the_max_file_size_flag_sets_the_limit() {
    let dir = project();
    write(
        dir.path(),
        "big.py",
        format!("x = '{}'\n", "a".repeat(5000)),
    );
    let args = [
        "check",
        "--no-cache",
        "--output-format",
        "json",
        "--max-file-size",
        "1000",
    ];
    let output = stateleak(dir.path(), &args, &[]);
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    let document = json(&output);
    assert_eq!(document["errors"][0]["path"], "big.py", "{document}");
    let message = document["errors"][0]["message"].as_str().unwrap();
    assert!(
        message.contains("over the limit of 1000 bytes"),
        "{message}"
    );
    assert_eq!(document["findings"][0]["path"], GOOD);

    let unlimited = stateleak(
        dir.path(),
        &["check", "--no-cache", "--output-format", "json"],
        &[],
    );
    assert_eq!(json(&unlimited)["errors"], serde_json::json!([]));
}

/// The test hook `STATELEAK_TEST_PANIC_IN` makes the analysis of one file panic.
#[test]
fn a_panic_in_one_file_is_an_internal_error_naming_it_and_exit_2() {
    let dir = project();
    write(dir.path(), "boom.py", "x = 1\n");
    let env = [(stateleak::check::TEST_PANIC_VARIABLE, "boom.py")];
    let output = stateleak(
        dir.path(),
        &["check", "--no-cache", "--output-format", "json"],
        &env,
    );
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    let document = json(&output);
    let errors = document["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 1, "{document}");
    assert_eq!(errors[0]["path"], "boom.py");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("internal error"), "{message}");
    assert!(message.contains("test hook"), "{message}");
    assert_eq!(document["findings"][0]["path"], GOOD, "the run went on");

    let text = stateleak(dir.path(), &["check", "--no-cache"], &env);
    assert_eq!(text.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&text.stdout);
    assert!(
        stdout.contains("error: boom.py: internal error"),
        "{stdout}"
    );
    assert!(stdout.contains("error[SL101]"), "{stdout}");

    let without_hook = stateleak(dir.path(), &["check", "--no-cache"], &[]);
    assert_eq!(without_hook.status.code(), Some(1));
}

/// Inputs that crashed (README, "Fuzzing": how to add one); each replays through the fuzz
/// harness itself, from discovery to every report.
#[test]
fn fuzz_regressions_replay_cleanly() {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz-regressions");
    let mut inputs: Vec<PathBuf> = std::fs::read_dir(&folder)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    inputs.sort();
    for input in inputs {
        let data = std::fs::read(&input).unwrap();
        let replay = std::panic::catch_unwind(|| fuzz_project::run(&data));
        assert!(replay.is_ok(), "{} fails again", input.display());
    }
}

/// The fuzz harness builds the project its input describes.
#[test]
fn the_fuzz_input_format_splits_into_files_folders_and_links() {
    use fuzz_project::Entry;
    let entries = fuzz_project::split(
        b"x = 1\n#>> a/b.py\ny = 2\n#>> ../../etc/c.py\n#>> d.py/\n#>> e.py -> /a/b.py\n#>> \n",
    );
    assert_eq!(
        entries,
        vec![
            Entry::File {
                path: "pkg/mod.py".into(),
                bytes: b"x = 1\n".to_vec()
            },
            Entry::File {
                path: "a/b.py".into(),
                bytes: b"y = 2\n".to_vec()
            },
            Entry::File {
                path: "etc/c.py".into(),
                bytes: Vec::new()
            },
            Entry::Dir("d.py".into()),
            Entry::Symlink {
                path: "e.py".into(),
                target: "a/b.py".into()
            },
            Entry::File {
                path: "f5.py".into(),
                bytes: Vec::new()
            },
        ]
    );
    let nested = fuzz_project::split(b"#>> a.py *3\nx = @@(@@)@@\n\n#>> b.py *2\n-");
    assert_eq!(
        nested[1..],
        [
            Entry::File {
                path: "a.py".into(),
                bytes: b"x = ((()))\n\n".to_vec()
            },
            Entry::File {
                path: "b.py".into(),
                bytes: b"--".to_vec()
            },
        ]
    );
    fuzz_project::run(b"#>> pkg/__init__.py\n#>> pkg/a.py\nclass A:\n    x = []\n    def f(self):\n        self.x.append(1)\n");
}

/// Real code at scale: the pinned benchmark corpus (about 1.2 million lines from PyPI wheels),
/// fetched by `bench/corpus.py` into `$STATELEAK_CORPUS` (default `bench/corpus/full`; a second run
/// reuses it). Every rule runs; there must be no panic, no internal error and no error entry at
/// all, since every file of the corpus is importable Python. `.ci/run` runs it:
/// `cargo test --release --test robustness -- --ignored`.
#[test]
#[ignore = "downloads the benchmark corpus from PyPI; run by .ci/run"]
fn real_code_at_scale_is_analysed_without_errors() {
    let repository = Path::new(env!("CARGO_MANIFEST_DIR"));
    let corpus = std::env::var_os("STATELEAK_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repository.join("bench/corpus/full"));
    let fetched = Command::new("python3")
        .arg(repository.join("bench/corpus.py"))
        .arg(&corpus)
        .status()
        .expect("python3 runs bench/corpus.py");
    assert!(fetched.success(), "bench/corpus.py failed");
    let mut packages: Vec<PathBuf> = std::fs::read_dir(&corpus)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.is_dir() && !path.file_name().unwrap().to_string_lossy().starts_with('.')
        })
        .collect();
    packages.sort();
    let lines: usize = packages
        .iter()
        .flat_map(|p| walk_python_files(p))
        .map(|file| {
            std::fs::read(file)
                .unwrap()
                .iter()
                .filter(|&&b| b == b'\n')
                .count()
        })
        .sum();
    assert!(lines > 1_000_000, "the corpus has only {lines} lines");

    let everything = |threads: Option<usize>| {
        let mut options = CheckOptions::new(packages.clone());
        options.threads = threads;
        options.rules = stateleak::rules::all().to_vec();
        options.report_unused_suppressions = true;
        check(&options)
    };
    let result = everything(None);
    assert!(
        result.files_checked > 2000,
        "{} files",
        result.files_checked
    );
    assert!(
        result.errors.is_empty(),
        "error entries: {:#?}",
        result.errors
    );
    let paths = PathDisplay::relative_to(&corpus);
    let json = report::render_json(&result, &paths);
    for rendered in [
        report::render_text(&result, &paths, true),
        report::render_concise(&result, &paths),
        report::render_sarif(&result, &paths),
        report::render_github(&result, &paths),
    ] {
        assert!(!rendered.is_empty());
    }
    let one_thread = everything(Some(1));
    assert!(
        report::render_json(&one_thread, &paths) == json,
        "the corpus's output depends on the thread count"
    );
    eprintln!(
        "corpus: {} packages, {lines} lines, {} files, {} findings, {} errors in {:.2?}",
        packages.len(),
        result.files_checked,
        result.findings.len(),
        result.errors.len(),
        result.elapsed
    );
}

fn walk_python_files(folder: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![folder.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                files.push(path);
            }
        }
    }
    files
}
