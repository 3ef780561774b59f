//! Output is byte-identical across repeated runs and across `--threads 1`, `2` and `8`, in every
//! output format, for the bundled example and for a generated multi-package tree (which also
//! alternates between a cold and a warm facts cache).

use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use clap::ValueEnum;
use stateleak::report::OutputFormat;

fn run(dir: &Path, args: &[&str]) -> Vec<u8> {
    let output = Command::new(env!("CARGO_BIN_EXE_stateleak"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs");
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// Every way of printing a result: each format, coloured text, and the statistics.
fn output_variants() -> Vec<Vec<String>> {
    let mut variants: Vec<Vec<String>> = OutputFormat::value_variants()
        .iter()
        .map(|format| {
            let name = format.to_possible_value().unwrap().get_name().to_string();
            vec!["--output-format".into(), name]
        })
        .collect();
    variants.push(vec!["--color".into(), "always".into()]);
    variants.push(vec!["--statistics".into()]);
    variants.push(vec![
        "--statistics".into(),
        "--output-format".into(),
        "json".into(),
    ]);
    variants
}

/// Runs `check` on `target` from `dir` in every variant, three thread counts and twice on two
/// threads, and requires the same bytes each time. Returns the JSON output.
fn assert_deterministic(dir: &Path, target: &str, extra: &[&str]) -> serde_json::Value {
    let mut json = None;
    for variant in output_variants() {
        let mut outputs = Vec::new();
        for threads in ["1", "2", "8", "2"] {
            let mut args = vec!["check", target, "--select", "ALL", "--threads", threads];
            args.extend(extra);
            args.extend(variant.iter().map(String::as_str));
            outputs.push((threads, run(dir, &args)));
        }
        let (_, first) = &outputs[0];
        assert!(!first.is_empty(), "{variant:?} printed nothing");
        for (threads, output) in &outputs[1..] {
            assert!(
                output == first,
                "{variant:?} differs with --threads {threads}:\n{}\n----- versus --threads 1:\n{}",
                String::from_utf8_lossy(output),
                String::from_utf8_lossy(first)
            );
        }
        if variant == ["--output-format", "json"] {
            json = Some(serde_json::from_slice(first).expect("JSON output"));
        }
    }
    json.expect("json is one of the formats")
}

#[test]
fn the_bundled_example_prints_the_same_bytes_every_time() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let json = assert_deterministic(root, "examples/remix", &["--no-cache"]);
    assert!(!json["findings"].as_array().unwrap().is_empty(), "{json}");
}

/// A tree of packages whose classes inherit across modules, with findings of several rules in
/// many files, names that sort differently by byte and by character, and files with errors.
fn generate_tree(root: &Path) {
    let write = |path: &str, text: &str| {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    };
    for p in 0..6 {
        let package = format!("app/pkg{p}");
        write(
            &format!("{package}/__init__.py"),
            "from .base import Base\n",
        );
        write(
            &format!("{package}/base.py"),
            "class Base:\n    registry = {}\n    seen = []\n\n    def register(self, key, value):\n        self.registry[key] = value\n        self.seen.append(key)\n",
        );
        for m in 0..12 {
            let mut text = String::new();
            let other = (p + 1) % 6;
            writeln!(text, "import functools\nfrom app.pkg{other}.base import Base as Other\nfrom .base import Base\n").unwrap();
            writeln!(text, "RESULTS = []\nCACHE = {{}}\n").unwrap();
            for c in 0..3 {
                writeln!(
                    text,
                    "class Handler{m}x{c}(Base):\n    items = []\n    table = {{}}\n\n    def handle(self, request, extra=[]):\n        self.items.append(request)\n        self.table[request] = extra\n        extra.append(request)\n        RESULTS.append(request)\n        CACHE[request] = self\n        self.register(request, extra)\n        return self.items\n\n    @functools.lru_cache(maxsize=None)\n    def lookup(self, key):\n        return key\n"
                )
                .unwrap();
                writeln!(
                    text,
                    "class Remote{m}x{c}(Other):\n    def handle(self, request):\n        self.seen.append(request)\n"
                )
                .unwrap();
            }
            write(&format!("{package}/handlers_{m}.py"), &text);
        }
    }
    // Names whose order differs between bytes, characters and case.
    for name in [
        "Zeta.py",
        "alpha.py",
        "élan.py",
        "zulu.py",
        "Ärger.py",
        "_private.py",
    ] {
        write(
            &format!("app/names/{name}"),
            "class Store:\n    rows = []\n\n    def add(self, row):\n        self.rows.append(row)\n",
        );
    }
    write("app/broken/syntax.py", "def f(:\n    pass\n");
    write("app/broken/late.py", "x = 1\n\n\ny = (\n");
    std::fs::write(root.join("app/broken/bytes.py"), b"x = '\xff'\n").unwrap();
    write(
        "app/broken/deep.py",
        &format!("x = {}1{}\n", "(".repeat(2000), ")".repeat(2000)),
    );
}

#[test]
fn a_generated_multi_package_tree_prints_the_same_bytes_every_time() {
    let dir = tempfile::tempdir().unwrap();
    generate_tree(dir.path());
    // The facts cache lives in the working directory: the first run fills it, the others read it.
    let json = assert_deterministic(dir.path(), "app", &[]);
    assert!(
        dir.path().join(".stateleak_cache").exists(),
        "the cache was used"
    );
    let findings = json["findings"].as_array().unwrap();
    assert!(findings.len() >= 100, "only {} findings", findings.len());
    let files: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["path"].as_str().unwrap())
        .collect();
    assert!(files.len() >= 70, "findings in only {} files", files.len());
    let codes: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert!(codes.len() >= 3, "only {codes:?}");
    assert_eq!(
        json["errors"].as_array().unwrap().len(),
        4,
        "{}",
        json["errors"]
    );
}
