//! Files the parser accepts but CPython refuses to compile are reported like syntax errors, with
//! CPython's line, and contribute nothing; the good file next to them is still analysed.

use stateleak::check::{CheckOptions, check};

const LEAK: &str =
    "class Cache:\n    items = {}\n\n    def put(self, k, v):\n        self.items[k] = v\n";

#[test]
fn code_cpython_refuses_is_a_syntax_error_at_cpythons_line() {
    let dir = tempfile::tempdir().unwrap();
    // File, source, CPython's line and message (as `compile()` in CPython 3.11 reports them).
    let cases = [
        (
            "module_return.py",
            "x = 1\nreturn 2\n",
            2,
            "'return' outside function",
        ),
        (
            "class_return.py",
            "class C:\n    return 1\n",
            2,
            "'return' outside function",
        ),
        (
            "duplicate.py",
            "def f(a,\n      b,\n      a):\n    pass\n",
            3,
            "duplicate argument 'a' in function definition",
        ),
        (
            "lambda_duplicate.py",
            "f = lambda a, a: 1\n",
            1,
            "duplicate argument 'a' in function definition",
        ),
        (
            "late_future.py",
            "import os\nfrom __future__ import annotations\n",
            2,
            "from __future__ imports must occur at the beginning of the file",
        ),
        (
            "except_tuple.py",
            "try:\n    pass\nexcept A, B:\n    pass\n",
            3,
            "multiple exception types must be parenthesized",
        ),
    ];
    for (name, source, _, _) in &cases {
        std::fs::write(dir.path().join(name), source).unwrap();
    }
    // Look-alikes CPython accepts.
    let accepted = [
        (
            "docstring_future.py",
            "\"\"\"Doc.\"\"\"\nfrom __future__ import annotations\nfrom __future__ import division\n",
        ),
        (
            "nested_return.py",
            "class C:\n    def f(self):\n        return 1\n\n\ndef g(a, *, b, **c):\n    return lambda a: a\n",
        ),
        (
            "except_parenthesized.py",
            "try:\n    pass\nexcept (A, B):\n    pass\n",
        ),
    ];
    for (name, source) in &accepted {
        std::fs::write(dir.path().join(name), source).unwrap();
    }
    std::fs::write(dir.path().join("good.py"), LEAK).unwrap();

    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
    options.threads = Some(2);
    let result = check(&options);
    for (name, _, line, message) in &cases {
        let error = result
            .errors
            .iter()
            .find(|e| e.path.ends_with(name))
            .unwrap_or_else(|| panic!("no error for {name}: {:?}", result.errors));
        assert_eq!(error.line, Some(*line), "{name}");
        assert!(error.message.contains(message), "{name}: {}", error.message);
        assert!(!error.internal);
    }
    assert_eq!(result.errors.len(), cases.len(), "{:?}", result.errors);
    assert_eq!(result.findings.len(), 1);
    assert!(result.findings[0].primary.path.ends_with("good.py"));
}
