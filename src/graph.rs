//! The call graph export (`stateleak graph`): the project's call edges named the way PyCG names
//! them, printed as PyCG's JSON object or as a Graphviz drawing.
//!
//! Naming: module-level code is the module's name (`pkg.mod`); functions, methods and nested
//! functions are `module.Qual.name`; calling a class of the tree is an edge to its `__init__`
//! (when it has one), calling one outside the tree an edge to its qualified name; builtins are `<builtin>.name`; other
//! names outside the tree keep their qualified name (`requests.get`).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::project::{FileId, FuncId, Node, Project, export_edges};

/// How `stateleak graph` prints the graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// PyCG's JSON: `{caller: [callee, ...]}`, keys and lists sorted.
    Pycg,
    /// A Graphviz `digraph`.
    Dot,
}

/// Every node of the graph by name, with the names it calls. Each module and function of the
/// tree is a key, called or not.
pub type NamedGraph = BTreeMap<String, BTreeSet<String>>;

/// The project's call graph with PyCG's names.
pub fn named_graph(project: &Project) -> NamedGraph {
    let mut graph = NamedGraph::new();
    for file in &project.files {
        graph.entry(file.module.to_string()).or_default();
    }
    for id in 0..project.function_count() {
        let name = node_name(project, &Node::Function(FuncId(id as u32)));
        graph.entry(name).or_default();
    }
    for (from, to) in export_edges(project) {
        let to = node_name(project, &to);
        graph.entry(to.clone()).or_default();
        graph
            .entry(node_name(project, &from))
            .or_default()
            .insert(to);
    }
    graph
}

/// The name PyCG gives `node`.
pub fn node_name(project: &Project, node: &Node) -> String {
    match node {
        Node::Module(file) => module_name(project, *file).to_string(),
        Node::Function(function) => {
            let (file, facts) = project.function(*function);
            format!("{}.{}", module_name(project, file), facts.qualname)
        }
        Node::External(name) => match name.strip_prefix("builtins.") {
            Some(builtin) => format!("<builtin>.{builtin}"),
            None => name.to_string(),
        },
    }
}

/// A module's name relative to the folder given on the command line, as PyCG names modules
/// relative to the package it analyses (`nest.imported` for `nest/imported.py` even when `nest`
/// has no `__init__.py`); its package name when it is not under a given folder.
fn module_name(project: &Project, file: FileId) -> &str {
    let source = project.file(file);
    match source.aliases.first() {
        Some(alias) if !alias.is_empty() => alias,
        _ => &source.module,
    }
}

/// PyCG's JSON object, pretty-printed, keys and callee lists sorted.
pub fn render_pycg(graph: &NamedGraph) -> String {
    let mut out = serde_json::to_string_pretty(graph).unwrap_or_else(|_| "{}".to_string());
    out.push('\n');
    out
}

/// A Graphviz `digraph` with one node per name and one edge per call.
pub fn render_dot(graph: &NamedGraph) -> String {
    let quote = |name: &str| serde_json::to_string(name).unwrap_or_default();
    let mut out = String::from("digraph calls {\n    rankdir=LR;\n    node [shape=box];\n");
    for (caller, callees) in graph {
        let _ = writeln!(out, "    {};", quote(caller));
        for callee in callees {
            let _ = writeln!(out, "    {} -> {};", quote(caller), quote(callee));
        }
    }
    out.push_str("}\n");
    out
}
