//! Syntax trees built in the allocator's per-thread arena (`src/allocator/tree_arena.rs`): the
//! facts made from a tree must own all their memory, since the next file's tree is built over the
//! last one's. This test binary installs the binary's allocator, so the arena is in use here.

use std::path::{Path, PathBuf};

#[global_allocator]
static ALLOCATOR: stateleak::Allocator = stateleak::Allocator;

/// The rule documents' Python blocks (hundreds, so the test needs nothing built) and, where
/// `bench/run.py` has built it, the benchmark corpus's first files: many shapes of code.
fn sources() -> Vec<String> {
    let mut sources = Vec::new();
    let rules = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/rules");
    for entry in std::fs::read_dir(&rules).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        sources.extend(
            text.split("```py")
                .skip(1)
                // The fence line's rest (`thon`, ` title="app.py"`) is no code.
                .filter_map(|block| block.split_once('\n'))
                .map(|(_, code)| code.split("```").next().unwrap_or_default().to_string()),
        );
    }
    sources.push(CONCATENATED.to_string());
    sources.push(format!("x = {}1{}\n", "(".repeat(90), ")".repeat(90)));
    sources.push("def f(:\n    pass\n".to_string());
    sources
}

/// Implicitly concatenated literals are joined on first read into the tree (`literal_text`).
const CONCATENATED: &str = r#"
import threading
_cache = {}
def handler(request):
    _cache["a" "b" "c" * 1] = request
    _cache["first" "second"] = request
    setattr(threading, "lo" "cal", request)
    if __name__ == "__ma" "in__":
        pass
"#;

fn corpus_files() -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut dirs = vec![Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/corpus/full")];
    while let Some(dir) = dirs.pop() {
        let Ok(entries) = std::fs::read_dir(&dir) else {
            continue;
        };
        let mut entries: Vec<_> = entries.map(|entry| entry.unwrap().path()).collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|ext| ext == "py") && files.len() < 400 {
                files.push(path);
            }
        }
    }
    files
}

/// Facts read back after many later trees were built over the slot are what they were when made.
#[test]
fn facts_outlive_their_trees() {
    let mut texts = sources();
    texts.extend(
        corpus_files()
            .into_iter()
            .filter_map(|path| std::fs::read_to_string(path).ok()),
    );
    assert!(texts.len() > 50, "too few sources: {}", texts.len());
    let made: Vec<_> = texts
        .iter()
        .map(|text| {
            let facts = stateleak::syntax::extract(text);
            let seen = format!("{facts:?}");
            (facts, seen)
        })
        .collect();
    for (facts, seen) in &made {
        assert_eq!(&format!("{facts:?}"), seen);
    }
    let concatenated = stateleak::syntax::extract(CONCATENATED).unwrap();
    let again = stateleak::syntax::extract(CONCATENATED).unwrap();
    assert_eq!(format!("{concatenated:?}"), format!("{again:?}"));
}

/// Threads build their trees in their own slots at once.
#[test]
fn threads_build_trees_at_once() {
    let texts = sources();
    let alone: Vec<String> = texts
        .iter()
        .map(|text| format!("{:?}", stateleak::syntax::extract(text)))
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for (text, expected) in texts.iter().zip(&alone) {
                    assert_eq!(&format!("{:?}", stateleak::syntax::extract(text)), expected);
                }
            });
        }
    });
}
