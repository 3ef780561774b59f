//! Output a terminal can trust: failing streams never panic, text from analysed files cannot drive
//! the terminal, carets line up, line numbers follow CPython, and no finding prints without bound.

mod common;

use std::process::{Command, Stdio};

use common::{stateleak, write};

const LEAK: &str =
    "class Cache:\n    items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n";

fn leaky_project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/cache.py", LEAK);
    dir
}

fn stdout_of(output: &std::process::Output) -> String {
    String::from_utf8(output.stdout.clone()).unwrap()
}

/// Runs `stateleak check app` with stdout (or else stderr) writing to `/dev/full`.
fn check_into_full_device(full_stdout: bool) -> std::process::Output {
    let dir = leaky_project();
    let mut command = Command::new(env!("CARGO_BIN_EXE_stateleak"));
    command
        .args(["check", "--no-cache", "app"])
        .current_dir(dir.path());
    let full = std::fs::File::create("/dev/full").unwrap();
    if full_stdout {
        command.stdout(full);
    } else {
        command.stderr(full);
    }
    command.output().unwrap()
}

#[test]
fn a_full_stdout_exits_2_with_a_message() {
    let output = check_into_full_device(true);
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("cannot write the output"), "{stderr}");
}

#[test]
fn a_full_stderr_exits_2_without_a_panic() {
    let output = check_into_full_device(false);
    assert_eq!(output.status.code(), Some(2));
    assert!(stdout_of(&output).contains("SL101"));
}

#[test]
fn closed_pipes_end_quietly() {
    let dir = leaky_project();
    for closed_stdout in [true, false] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_stateleak"))
            .args(["check", "--no-cache", "app"])
            .current_dir(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // The reader goes away before stateleak writes.
        let kept = if closed_stdout {
            drop(child.stdout.take());
            child
                .stderr
                .take()
                .map(|e| Box::new(e) as Box<dyn std::io::Read>)
        } else {
            drop(child.stderr.take());
            child
                .stdout
                .take()
                .map(|o| Box::new(o) as Box<dyn std::io::Read>)
        };
        let mut text = String::new();
        std::io::Read::read_to_string(&mut kept.unwrap(), &mut text).unwrap();
        let status = child.wait().unwrap();
        assert_eq!(
            status.code(),
            Some(1),
            "stdout closed: {closed_stdout}: {text}"
        );
        assert!(!text.contains("panicked"), "{text}");
    }
}

#[test]
fn control_characters_from_files_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let source = LEAK.replace("= v\n", "= v  # \x1b[2J\x07\u{202e}\n");
    write(dir.path(), "app/esc\x1b[31m.py", &source);
    write(dir.path(), "app/new\nline.py", LEAK);
    for format in ["text", "concise"] {
        let output = stateleak(
            dir.path(),
            &["check", "--no-cache", "--output-format", format, "app"],
        );
        let out = stdout_of(&output);
        assert_eq!(out.matches("SL101").count(), 2, "{out}");
        assert!(
            !out.chars()
                .any(|c| c.is_control() && c != '\n' || c == '\u{202e}'),
            "{format}: {out:?}"
        );
        assert!(out.contains("app/esc\\x1b[31m.py:5:"), "{out}");
        assert!(out.contains("app/new\\x0aline.py:5:"), "{out}");
        if format == "text" {
            assert!(out.contains("# \\x1b[2J\\x07\\u{202e}"), "{out}");
        }
    }
}

/// The column (in characters) of `needle` in the first source line holding it, and of the first
/// `^` under it.
fn caret_under(text: &str, needle: &str) -> (usize, usize) {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines.iter().position(|l| l.contains(needle)).unwrap();
    let column = |line: &str, byte: usize| line[..byte].chars().count();
    (
        column(lines[at], lines[at].find(needle).unwrap()),
        column(lines[at + 1], lines[at + 1].find('^').unwrap()),
    )
}

/// The leaky class, indented with tabs.
const TAB_INDENTED: &str =
    "class Cache:\n\titems = {}\n\n\tdef put(self, k, v):\n\t\tself.items[k] = v\n";

#[test]
fn carets_line_up_under_tabs() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/tabs.py", TAB_INDENTED);
    write(
        dir.path(),
        "app/mixed.py",
        "class Cache:\n    items = {}\n\n    def put(self, k, v):\n  \t  \tself.items[k] = v\n",
    );
    let out = stdout_of(&stateleak(dir.path(), &["check", "--no-cache", "app"]));
    for block in out.split("error[").skip(1) {
        let (source, caret) = caret_under(block, "self.items");
        assert_eq!(source, caret, "{block}");
        assert!(!block.contains('\t'), "{block}");
    }
}

/// Text's `--> path:line:column` headers count columns in characters of the source line, a tab
/// as one, as concise and JSON output (and Ruff and CPython) do, even where the excerpt expands
/// tabs, escapes control characters or cuts a long line.
#[test]
fn text_headers_give_the_columns_of_concise_and_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/tabs.py", TAB_INDENTED);
    write(
        dir.path(),
        "app/escapes.py",
        &format!(
            "class Cache:\n    items = {{}}\n\n    def put(self, k, v):\n        s = '\x1b\x07'; t = '{}'; self.items[k] = v\n",
            "y".repeat(400)
        ),
    );
    let run = |format: &str| {
        stdout_of(&stateleak(
            dir.path(),
            &["check", "--no-cache", "--output-format", format, "app"],
        ))
    };
    let mut text: Vec<String> = run("text")
        .lines()
        .filter_map(|line| line.trim_start().strip_prefix("--> "))
        .map(str::to_string)
        .collect();
    let mut concise: Vec<String> = run("concise")
        .lines()
        .filter_map(|line| line.split(": ").next())
        .filter(|place| place.ends_with(char::is_numeric))
        .map(str::to_string)
        .collect();
    let json: serde_json::Value = serde_json::from_str(&run("json")).unwrap();
    let mut from_json: Vec<String> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            format!(
                "{}:{}:{}",
                f["path"].as_str().unwrap(),
                f["line"],
                f["column"]
            )
        })
        .collect();
    text.sort();
    concise.sort();
    from_json.sort();
    assert_eq!(text, ["app/escapes.py:5:427", "app/tabs.py:5:3"]);
    assert_eq!(text, concise);
    assert_eq!(text, from_json);
}

#[test]
fn a_carriage_return_alone_ends_a_line_as_in_cpython() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "app/cr.py", &LEAK.replace('\n', "\r"));
    write(dir.path(), "app/broken.py", "x = 1\r\ry = )\r");
    let out = stdout_of(&stateleak(
        dir.path(),
        &["check", "--no-cache", "--output-format", "concise", "app"],
    ));
    assert!(out.contains("app/cr.py:5:9: SL101"), "{out}");
    assert!(out.contains("app/broken.py:3:1: error"), "{out}");
}

#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_print_and_fingerprint_distinctly() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("app")).unwrap();
    for byte in [0xfe_u8, 0xff] {
        let name = [b'm', byte, b'.', b'p', b'y'];
        let name = std::ffi::OsStr::from_bytes(&name);
        std::fs::write(dir.path().join("app").join(name), LEAK).unwrap();
    }
    let out = stdout_of(&stateleak(
        dir.path(),
        &["check", "--no-cache", "--output-format", "json", "app"],
    ));
    let json: serde_json::Value = serde_json::from_str(&out).unwrap();
    let findings = json["findings"].as_array().unwrap();
    let paths: Vec<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["app/m\\xfe.py", "app/m\\xff.py"]);
    assert_ne!(findings[0]["fingerprint"], findings[1]["fingerprint"]);
}

#[test]
fn long_request_paths_and_long_lines_are_cut() {
    let dir = tempfile::tempdir().unwrap();
    let mut source = String::from(
        "from flask import Flask\napp = Flask(__name__)\n\nclass Cache:\n    items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n\n@app.route('/')\ndef index():\n    f0()\n\n",
    );
    let steps = 300;
    for i in 0..steps {
        let call = if i + 1 < steps {
            format!("f{}()", i + 1)
        } else {
            format!("x = {}; Cache().put(1, 2)", "1 + ".repeat(5_000) + "1")
        };
        source.push_str(&format!("def f{i}():\n    {call}\n\n"));
    }
    // The leak itself on a very long line.
    source = source.replace(
        "        self.items[k] = v\n",
        &format!("        y = [{}]; self.items[k] = v\n", "0, ".repeat(5_000)),
    );
    write(dir.path(), "app/views.py", &source);

    let json = stdout_of(&stateleak(
        dir.path(),
        &["check", "--no-cache", "--output-format", "json", "app"],
    ));
    let json: serde_json::Value = serde_json::from_str(&json).unwrap();
    let finding = &json["findings"][0];
    // index, f0..f299, Cache.put: 302 steps, of which the first and last four are kept.
    assert_eq!(finding["entry_points"].as_array().unwrap().len(), 8);
    assert_eq!(finding["entry_points_omitted"], 302 - 8);

    let text = stdout_of(&stateleak(dir.path(), &["check", "--no-cache", "app"]));
    assert!(text.contains("… 294 more calls …"), "{text}");
    let longest = text.lines().map(|l| l.chars().count()).max().unwrap();
    assert!(longest < 400, "a line of {longest} characters");
    let (source_column, caret_column) = caret_under(&text, "self.items");
    assert_eq!(source_column, caret_column, "{text}");
}
