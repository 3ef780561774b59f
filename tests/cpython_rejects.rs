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
            // Deep inside other expressions of a function body: still found.
            "nested_lambda_duplicate.py",
            "def g(y):\n    return [x for x in map(lambda b, b: b, y)]\n",
            2,
            "duplicate argument 'b' in function definition",
        ),
        (
            // Past the parameters compared one by one: the repeat is still found.
            "long_duplicate.py",
            "def h(p0, p1, p2, p3, p4, p5, p6, p7, p8, p9,\n      p10, p11, p12, p13, p14, p15, p16, p17,\n      p18, p1):\n    pass\n",
            3,
            "duplicate argument 'p1' in function definition",
        ),
        (
            // In the bodies of compound statements at module level, which are walked without
            // their expressions when the text has no lambda.
            "handler_return.py",
            "for x in y:\n    pass\nelse:\n    while x:\n        try:\n            pass\n        except E:\n            with m:\n                return 1\n",
            9,
            "'return' outside function",
        ),
        (
            "case_return.py",
            "match x:\n    case 1:\n        if y:\n            pass\n        elif z:\n            return 2\n",
            6,
            "'return' outside function",
        ),
        (
            "method_duplicate.py",
            "class C:\n    if x:\n        def m(self, self):\n            pass\n",
            3,
            "duplicate argument 'self' in function definition",
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
            "function_in_class_in_function.py",
            "def f():\n    class C:\n        def m(self):\n            try:\n                return 1\n            finally:\n                pass\n    return C\n",
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

#[test]
fn source_encodings_beyond_whatwg_are_read_as_cpython_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    // Declared name (as CPython accepts it), the bytes of a string, and what CPython decodes.
    let cases: [(&str, &[u8], &str); 9] = [
        ("cp437", b"\xc3\xc4", "├─"),
        ("mac-roman", b"\x8e", "é"),
        ("iso8859_16", b"\xaa", "Ș"),
        ("KOI8-R", b"\xd0\xd2", "пр"),
        ("cp932", b"\x93\xfa\x96\x7b", "日本"),
        ("cp949", b"\xc7\xd1", "한"),
        ("cp950", b"\xa4\xa4", "中"),
        ("hp_roman8", b"\xc5", "é"),
        ("ibm850", b"\xe1", "ß"),
    ];
    for (i, (encoding, bytes, _)) in cases.iter().enumerate() {
        let mut source = format!("# -*- coding: {encoding} -*-\nNAME = '").into_bytes();
        source.extend_from_slice(bytes);
        source.extend_from_slice(b"'\n");
        source.extend_from_slice(LEAK.as_bytes());
        std::fs::write(dir.path().join(format!("m{i}.py")), source).unwrap();
    }
    // CPython's cp1252 leaves 0x81 undefined (WHATWG's maps it): an error, as in CPython.
    std::fs::write(
        dir.path().join("undefined.py"),
        b"# coding: cp1252\nx = '\x81'\n",
    )
    .unwrap();

    let mut options = CheckOptions::new(vec![dir.path().to_path_buf()]);
    options.threads = Some(2);
    let result = check(&options);
    assert_eq!(result.findings.len(), cases.len(), "{:?}", result.errors);
    for (i, (encoding, _, text)) in cases.iter().enumerate() {
        let source = &result.sources[&dir.path().join(format!("m{i}.py"))];
        assert!(
            source.contains(&format!("NAME = '{text}'")),
            "{encoding}: {source}"
        );
    }
    assert_eq!(result.errors.len(), 1, "{:?}", result.errors);
    assert!(result.errors[0].path.ends_with("undefined.py"));
    assert_eq!(result.errors[0].line, Some(2));
}
