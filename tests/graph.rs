//! End-to-end tests of `stateleak graph`: PyCG's naming, the calls the graph follows, what it
//! leaves out, the output formats and determinism.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{stateleak, write};

type Graph = BTreeMap<String, Vec<String>>;

/// The graph of the folder `dir`, as PyCG's JSON.
fn graph_of(dir: &Path) -> Graph {
    let output = stateleak(dir, &["graph", ".", "--output-format", "pycg"]);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON object")
}

/// The graph of one module `main.py` holding `source`.
fn graph(source: &str) -> Graph {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.py", source);
    graph_of(dir.path())
}

fn callees<'g>(graph: &'g Graph, caller: &str) -> Vec<&'g str> {
    graph
        .get(caller)
        .unwrap_or_else(|| panic!("`{caller}` is a node of {graph:#?}"))
        .iter()
        .map(String::as_str)
        .collect()
}

#[test]
fn names_follow_pycg() {
    let g = graph(
        "import ext\n\
         class Shop:\n    def __init__(self):\n        self.items = []\n    def add(self, x):\n        self.items.append(x)\n\
         def outer():\n    def inner():\n        return len([])\n    return inner()\n\
         s = Shop()\n\
         s.add(1)\n\
         outer()\n\
         ext.send()\n",
    );
    assert_eq!(
        callees(&g, "main"),
        [
            "ext.send",
            "main.Shop.__init__",
            "main.Shop.add",
            "main.outer"
        ]
    );
    assert_eq!(callees(&g, "main.outer"), ["main.outer.inner"]);
    assert_eq!(callees(&g, "main.outer.inner"), ["<builtin>.len"]);
    // Every function is a node, called or not.
    assert_eq!(callees(&g, "main.Shop.__init__"), Vec::<&str>::new());
}

#[test]
fn external_classes_and_their_methods_keep_their_qualified_names() {
    let g = graph("from ext import Client\nc = Client()\nc.fetch()\n");
    assert_eq!(callees(&g, "main"), ["ext.Client", "ext.Client.fetch"]);
}

#[test]
fn functions_held_by_names_returns_and_parameters_are_followed() {
    let g = graph(
        "def job():\n    pass\n\
         def other():\n    pass\n\
         def pick():\n    return job\n\
         def run(task):\n    task()\n\
         handler = pick()\n\
         handler()\n\
         first, second = job, other\n\
         second()\n\
         run(other)\n\
         pick()()\n",
    );
    // `first` is never called: unpacking gives each name its own element.
    assert_eq!(
        callees(&g, "main"),
        ["main.job", "main.other", "main.pick", "main.run"]
    );
    // The parameter's call is the callee's edge, not the caller's.
    assert_eq!(callees(&g, "main.run"), ["main.other"]);
}

#[test]
fn instances_returned_by_functions_dispatch_their_methods() {
    let g = graph(
        "class Repo:\n    def save(self):\n        pass\n\
         def make():\n    return Repo()\n\
         def use():\n    r = make()\n    r.save()\n",
    );
    assert_eq!(callees(&g, "main.use"), ["main.Repo.save", "main.make"]);
}

#[test]
fn containers_give_back_what_was_stored_under_each_literal_key() {
    let g = graph(
        "def a():\n    pass\n\
         def b():\n    pass\n\
         def c():\n    pass\n\
         table = {\"x\": a, \"y\": b}\n\
         table[\"x\"] = c\n\
         table[\"x\"]()\n\
         items = [a, b, c]\n\
         tail = items[1:]\n\
         tail[0]()\n",
    );
    // `table["x"]` was last given `c`; `tail[0]` is `items[1]`.
    assert_eq!(callees(&g, "main"), ["main.b", "main.c"]);
}

#[test]
fn a_key_that_is_not_a_literal_may_be_any_element() {
    let g = graph(
        "def a():\n    pass\n\
         def b():\n    pass\n\
         HANDLERS = {\"x\": a, \"y\": b}\n\
         def dispatch(kind):\n    HANDLERS[kind]()\n\
         def loop():\n    for h in [a, b]:\n        h()\n",
    );
    assert_eq!(callees(&g, "main.dispatch"), ["main.a", "main.b"]);
    assert_eq!(callees(&g, "main.loop"), ["main.a", "main.b"]);
}

#[test]
fn calling_a_decorated_function_runs_what_the_decorator_returned() {
    let g = graph(
        "def logged(fn):\n    def wrapper():\n        return fn()\n    return wrapper\n\
         @logged\n\
         def work():\n    pass\n\
         def view():\n    work()\n",
    );
    assert_eq!(callees(&g, "main"), ["main.logged"]);
    assert_eq!(callees(&g, "main.view"), ["main.logged.wrapper"]);
    assert_eq!(callees(&g, "main.logged.wrapper"), ["main.work"]);
}

#[test]
fn a_decorator_defined_in_the_enclosing_function_is_the_one_applied() {
    let g = graph(
        "def dec(f):\n    return f\n\
         def outer():\n    def dec(f):\n        return f\n    @dec\n    def inner():\n        pass\n",
    );
    assert_eq!(callees(&g, "main.outer"), ["main.outer.dec"]);
}

#[test]
fn raising_a_class_constructs_it() {
    let g = graph(
        "class Failed(Exception):\n    def __init__(self):\n        pass\n\
         def check():\n    raise Failed\n",
    );
    assert_eq!(callees(&g, "main.check"), ["main.Failed.__init__"]);
}

#[test]
fn functions_handed_to_the_outside_are_called_for_the_caller() {
    let g = graph(
        "def double(x):\n    return x * 2\n\
         def keep(f):\n    return f\n\
         list(map(double, [1]))\n\
         keep(double)\n\
         def setup(registry):\n    registry.register(double)\n",
    );
    // `map` calls `double` for the module; `keep` does not call it; what `registry.register`
    // does is not known.
    assert_eq!(
        callees(&g, "main"),
        [
            "<builtin>.list",
            "<builtin>.map",
            "main.double",
            "main.keep"
        ]
    );
    assert_eq!(callees(&g, "main.setup"), Vec::<&str>::new());
}

#[test]
fn an_unresolvable_call_makes_no_edge() {
    let g = graph("def go(client):\n    client.fetch()\n    client.session.close()\n");
    assert_eq!(callees(&g, "main.go"), Vec::<&str>::new());
}

#[test]
fn imports_star_relative_and_namespace_folders_are_named_from_the_given_folder() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "main.py",
        "from lib import *\nfrom nest import leaf\nhelp()\nleaf.run()\n",
    );
    write(dir.path(), "lib.py", "from .util import helper as help\n");
    write(dir.path(), "util.py", "def helper():\n    pass\n");
    // `nest` has no `__init__.py`: PyCG still names its module `nest.leaf`.
    write(dir.path(), "nest/leaf.py", "def run():\n    pass\n");
    write(dir.path(), "pkg/__init__.py", "");
    write(dir.path(), "pkg/a.py", "from .b import f\nf()\n");
    write(dir.path(), "pkg/b.py", "def f():\n    pass\n");
    let g = graph_of(dir.path());
    assert_eq!(callees(&g, "main"), ["nest.leaf.run"]);
    assert_eq!(callees(&g, "pkg.a"), ["pkg.b.f"]);
}

#[test]
fn star_imports_of_modules_of_the_tree_bind_their_names() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.py", "from helpers import *\nstart()\n");
    write(dir.path(), "helpers.py", "def start():\n    pass\n");
    let g = graph_of(dir.path());
    assert_eq!(callees(&g, "main"), ["helpers.start"]);
}

#[test]
fn dot_draws_the_same_edges() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.py", "def f():\n    pass\nf()\n");
    let output = stateleak(dir.path(), &["graph", ".", "--output-format", "dot"]);
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.starts_with("digraph calls {\n"), "{text}");
    assert!(text.contains("    \"main\" -> \"main.f\";\n"), "{text}");
    assert!(text.trim_end().ends_with('}'), "{text}");
}

#[test]
fn output_is_sorted_and_identical_across_runs_and_thread_counts() {
    let dir = tempfile::tempdir().unwrap();
    for i in 0..12 {
        write(
            dir.path(),
            &format!("m{i}.py"),
            &format!(
                "from m{} import f as g\ndef f():\n    g()\nf()\n",
                (i + 1) % 12
            ),
        );
    }
    let run = |threads: &str| stateleak(dir.path(), &["graph", ".", "--threads", threads]).stdout;
    let one = run("1");
    assert_eq!(one, run("4"));
    assert_eq!(one, run("1"));
    let g: Graph = serde_json::from_slice(&one).unwrap();
    for callees in g.values() {
        assert!(callees.windows(2).all(|w| w[0] < w[1]), "{callees:?}");
    }
    assert_eq!(callees(&g, "m3.f"), ["m4.f"]);
}

#[test]
fn bad_files_are_reported_and_the_rest_is_drawn() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "main.py", "def f():\n    pass\nf()\n");
    write(dir.path(), "broken.py", "def (:\n");
    let output = stateleak(dir.path(), &["graph", "."]);
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("broken.py"), "{stderr}");
    let g: Graph = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(callees(&g, "main"), ["main.f"]);
}

#[test]
fn a_missing_path_fails() {
    let dir = tempfile::tempdir().unwrap();
    let output = stateleak(dir.path(), &["graph", "nowhere"]);
    assert_eq!(output.status.code(), Some(2));
}
