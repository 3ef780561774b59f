//! Runs every rule document in `docs/rules/` as a test suite.
//!
//! Each heading starts a case; the fenced code blocks under it (```` ```py title="pkg/a.py" ````,
//! default `test.py`) are written to a fresh folder and analysed with that document's rule only.
//! A finding must stand on every line that ends in `# expect: CODE` and nowhere else. A line that
//! ends in `# expect: CODE reached from f → g → h` also wants that finding's request path to be
//! exactly those functions (qualified names, the entry point first).
//!
//! A block ```` ```py fixed ```` (with the same `title=` as the file it shows, default `test.py`)
//! is the text that file must have after `--fix --unsafe-fixes`; a case whose findings have a fix
//! must show it, so that every fix is tested.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use stateleak::check::{CheckOptions, check};
use stateleak::rules;

struct Case {
    title: String,
    files: Vec<(String, String)>,
    /// The expected text of files after fixing.
    fixed: Vec<(String, String)>,
}

fn parse_document(text: &str) -> Vec<Case> {
    let mut cases = Vec::new();
    let mut current = Case {
        title: String::new(),
        files: Vec::new(),
        fixed: Vec::new(),
    };
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        if line.starts_with('#') && !line.starts_with("#!") {
            let finished = std::mem::replace(
                &mut current,
                Case {
                    title: line.trim_start_matches('#').trim().to_string(),
                    files: Vec::new(),
                    fixed: Vec::new(),
                },
            );
            if !finished.files.is_empty() {
                cases.push(finished);
            }
        } else if let Some(info) = line.strip_prefix("```") {
            let mut body = String::new();
            for inner in lines.by_ref() {
                if inner.starts_with("```") {
                    break;
                }
                body.push_str(inner);
                body.push('\n');
            }
            let mut words = info.split_whitespace();
            let language = words.next().unwrap_or_default();
            let rest: Vec<&str> = words.collect();
            if rest.contains(&"ignore") || !matches!(language, "py" | "python" | "toml") {
                continue;
            }
            let title = rest
                .iter()
                .find_map(|w| w.strip_prefix("title=\"").and_then(|t| t.strip_suffix('"')))
                .map(str::to_string)
                .unwrap_or_else(|| {
                    if language == "toml" {
                        "pyproject.toml".into()
                    } else {
                        "test.py".into()
                    }
                });
            if rest.contains(&"fixed") {
                current.fixed.push((title, body));
            } else {
                current.files.push((title, body));
            }
        }
    }
    if !current.files.is_empty() {
        cases.push(current);
    }
    cases
}

/// (file, line, code) for every `# expect: CODE[, CODE]` comment.
fn expectations(files: &[(String, String)]) -> BTreeMap<(String, u32, String), usize> {
    let mut expected = BTreeMap::new();
    for (name, body) in files {
        for (i, line) in body.lines().enumerate() {
            if let Some((_, codes)) = line.split_once("# expect: ") {
                let codes = codes
                    .split_once(REACHED_FROM)
                    .map_or(codes, |(codes, _)| codes);
                for code in codes.split(',') {
                    *expected
                        .entry((name.clone(), i as u32 + 1, code.trim().to_string()))
                        .or_insert(0) += 1;
                }
            }
        }
    }
    expected
}

const REACHED_FROM: &str = " reached from ";

/// (file, line, code) and the functions of the request path, for every
/// `# expect: CODE reached from f → g` comment.
fn expected_paths(files: &[(String, String)]) -> BTreeMap<(String, u32, String), Vec<String>> {
    let mut expected = BTreeMap::new();
    for (name, body) in files {
        for (i, line) in body.lines().enumerate() {
            let Some((_, wanted)) = line.split_once("# expect: ") else {
                continue;
            };
            if let Some((code, path)) = wanted.split_once(REACHED_FROM) {
                let steps = path.split('→').map(|s| s.trim().to_string()).collect();
                expected.insert((name.clone(), i as u32 + 1, code.trim().to_string()), steps);
            }
        }
    }
    expected
}

/// A case may carry settings in a `pyproject.toml` (`[tool.stateleak]`): they apply as in a real
/// run, except that only the document's rule runs.
fn apply_case_settings(dir: &Path, options: &mut CheckOptions) -> Result<(), String> {
    let path = dir.join("pyproject.toml");
    if !path.is_file() {
        return Ok(());
    }
    let file = stateleak::config::load(&path).map_err(|e| format!("    settings: {e}\n"))?;
    let settings = stateleak::config::resolve(&file, &Default::default())
        .map_err(|e| format!("    settings: {e}\n"))?;
    options.rule_settings = settings.rule_settings;
    options.per_file_ignores = settings.per_file_ignores;
    options.src = settings.src;
    Ok(())
}

fn run_case(rule: &'static dyn rules::Rule, case: &Case, dir: &Path) -> Result<usize, String> {
    for (name, body) in &case.files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, body).unwrap();
    }
    let mut options = CheckOptions::new(vec![dir.to_path_buf()]);
    options.rules = vec![rule];
    apply_case_settings(dir, &mut options)?;
    let result = check(&options);

    let expected = expectations(&case.files);
    let paths = expected_paths(&case.files);
    let mut actual: BTreeMap<(String, u32, String), usize> = BTreeMap::new();
    let mut messages = BTreeMap::new();
    let mut actual_paths: BTreeMap<(String, u32, String), Vec<Vec<String>>> = BTreeMap::new();
    for finding in &result.findings {
        let relative = finding
            .primary
            .path
            .strip_prefix(dir)
            .unwrap_or(&finding.primary.path);
        let key = (
            relative.to_string_lossy().replace('\\', "/"),
            finding.primary.line,
            finding.code.to_string(),
        );
        messages.insert(key.clone(), finding.message.clone());
        actual_paths.entry(key.clone()).or_default().push(
            finding
                .entry_path
                .iter()
                .map(|step| step.function.clone())
                .collect(),
        );
        *actual.entry(key).or_insert(0) += 1;
    }
    let mut report = String::new();
    for (key, count) in &expected {
        let found = actual.get(key).copied().unwrap_or(0);
        if found < *count {
            let _ = writeln!(report, "    missing:    {}:{} {}", key.0, key.1, key.2);
        }
    }
    for (key, count) in &actual {
        let wanted = expected.get(key).copied().unwrap_or(0);
        if *count > wanted {
            let _ = writeln!(
                report,
                "    unexpected: {}:{} {}  ({})",
                key.0, key.1, key.2, messages[key]
            );
        }
    }
    for (key, wanted) in &paths {
        let found = actual_paths.get(key).map_or(&[][..], Vec::as_slice);
        if !found.is_empty() && !found.contains(wanted) {
            let _ = writeln!(
                report,
                "    path:       {}:{} {} reached from {:?}, not {:?}",
                key.0, key.1, key.2, found, wanted
            );
        }
    }
    for error in &result.errors {
        let _ = writeln!(
            report,
            "    error:      {}: {}",
            error.path.display(),
            error.message
        );
    }
    if report.is_empty()
        && let Err(fixes) = check_fixes(rule, case, dir)
    {
        report = fixes;
    }
    if report.is_empty() {
        Ok(expected.values().sum())
    } else {
        Err(report)
    }
}

/// Applies every fix (unsafe ones too) and compares the files with the case's `fixed` blocks.
fn check_fixes(rule: &'static dyn rules::Rule, case: &Case, dir: &Path) -> Result<(), String> {
    let mut options = CheckOptions::new(vec![dir.to_path_buf()]);
    options.rules = vec![rule];
    apply_case_settings(dir, &mut options)?;
    options.fixes = Some(stateleak::syntax::fix::Target::default());
    let has_fix = check(&options).findings.iter().any(|f| f.fix.is_some());
    if has_fix && case.fixed.is_empty() {
        return Err("    a finding has a fix: show the fixed text in a ```py fixed block\n".into());
    }
    if case.fixed.is_empty() {
        return Ok(());
    }
    let outcome = stateleak::fix::fix(&options, true, true);
    let mut report = String::new();
    for message in &outcome.dropped {
        let _ = writeln!(report, "    fix dropped: {message}");
    }
    for (name, expected) in &case.fixed {
        let actual = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        if &actual != expected {
            let _ = writeln!(
                report,
                "    {name} after fixing:\n{actual}    expected:\n{expected}"
            );
        }
    }
    if report.is_empty() {
        Ok(())
    } else {
        Err(report)
    }
}

fn documents_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules")
}

#[test]
fn rule_documents_hold() {
    let mut failures = String::new();
    let mut total_cases = 0;
    for rule in rules::all() {
        let meta = rule.meta();
        let path = documents_dir().join(format!("{}.md", meta.code));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(
            text,
            meta.document,
            "{} is not the document compiled into the rule",
            path.display()
        );
        let cases = parse_document(&text);
        let failures_before = failures.len();
        let mut expected_findings = 0;
        let mut safe_cases = 0;
        for case in &cases {
            let dir = tempfile::tempdir().unwrap();
            match run_case(*rule, case, dir.path()) {
                Ok(0) => safe_cases += 1,
                Ok(n) => expected_findings += n,
                Err(report) => {
                    let _ = writeln!(failures, "{} / {}:\n{report}", meta.code, case.title);
                }
            }
        }
        total_cases += cases.len();
        if failures.len() > failures_before {
            continue;
        }
        // A document whose cases expect nothing, or only findings, cannot tell a rule that
        // over-reports from one that under-reports.
        assert!(
            expected_findings > 0,
            "{}: no case expects a finding",
            meta.code
        );
        assert!(safe_cases > 0, "{}: no safe look-alike", meta.code);
    }
    assert!(total_cases > 0);
    assert!(
        failures.is_empty(),
        "rule documents disagree with the rules:\n\n{failures}"
    );
}

#[test]
fn rule_documents_have_the_sections_users_need() {
    for rule in rules::all() {
        let doc = rule.meta().documentation();
        let heading = format!("# {}: {}", rule.meta().code, rule.meta().name);
        assert!(
            doc.starts_with(&heading),
            "{} must start with `{heading}`",
            rule.meta().code
        );
        for section in [
            "## What it does",
            "## Why is this bad?",
            "## Example",
            "## How to fix",
        ] {
            assert!(
                doc.contains(section),
                "{} lacks `{section}`",
                rule.meta().code
            );
        }
    }
}

#[test]
fn the_parser_of_documents_finds_cases_and_expectations() {
    let text = "# T\n## A\n```py title=\"a/b.py\"\nx = 1  # expect: SL101\n```\n```text\nnot code\n```\n## B\n```py\ny = 2\n```\n";
    let cases = parse_document(text);
    assert_eq!(cases.len(), 2);
    assert_eq!(cases[0].files[0].0, "a/b.py");
    assert_eq!(cases[1].files[0].0, "test.py");
    let expected = expectations(&cases[0].files);
    assert_eq!(
        expected.keys().next().unwrap(),
        &("a/b.py".to_string(), 1, "SL101".to_string())
    );
    let with_path = vec![(
        "a.py".to_string(),
        "x = 1  # expect: SL201 reached from view → Store.put\n".to_string(),
    )];
    let key = ("a.py".to_string(), 1, "SL201".to_string());
    assert_eq!(expectations(&with_path).get(&key), Some(&1));
    assert_eq!(
        expected_paths(&with_path).get(&key),
        Some(&vec!["view".to_string(), "Store.put".to_string()])
    );
}
