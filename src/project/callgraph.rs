//! The call graph over the analysed tree, the request entry points, and what is reachable from
//! them.
//!
//! Each call site (a fact recorded by the extractor) is resolved once: functions by name through
//! imports, `self.m()` / `cls.m()` through the class hierarchy (overrides in subclasses included,
//! since `self` may be an instance of any of them), `super().m()` along the method-resolution
//! order, `C.m()`, `obj.m()` when the class of `obj` is known (constructed, annotated, or a
//! module-level instance), constructors (`C()` calls `__init__`), functions passed as callbacks,
//! and decorators. Files are resolved in parallel; the graph is stored as compressed adjacency
//! lists, and reachability is one multi-source breadth-first search, so building and querying
//! are linear in the number of call sites.

use std::collections::VecDeque;
use std::sync::{LazyLock, Mutex};

// Name lookups run for every call site of the project; Fx hashes short keys several times
// faster than SipHash, whose flooding resistance buys nothing here.
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use rayon::prelude::*;

use crate::facts::{
    ArgPosition, ByText, CallReceiver, CallSite, FileFacts, FirstTimeCall, FlowSource, FlowTarget,
    FuncIdx, FunctionKind, Name, NameText, Root, Value,
};
use crate::knowledge;

use super::entry_points::{self, EntryPoint};
use super::values::{Edited, Held, KeptValues, Values};
use super::{
    ClassId, FileId, FuncId, Keep, MroEntry, MroMemo, Project, Resolved, split_first_dot,
    split_last_dot, split_name,
};

mod renumbered;
mod serving_loop;

/// The methods constructing and calling an object, interned once: the link looks them up for
/// every class and instance a call may run.
pub(super) static INIT: LazyLock<Name> = LazyLock::new(|| Name::from("__init__"));
pub(super) static CALL: LazyLock<Name> = LazyLock::new(|| Name::from("__call__"));

/// How a function reaches another. The link cache stores a kind as its discriminant
/// ([`CallGraph::decode_kept`]): a new kind goes last.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeKind {
    /// A call by name or through a module, class or instance of known class.
    Call,
    /// `self.m()`, `cls.m()` or `super().m()`.
    SelfCall,
    /// `C()` runs `C.__init__`.
    Constructor,
    /// A function passed as an argument: `executor.submit(job)`.
    Callback,
    /// `@decorator` runs the decorator when the definition executes.
    Decorator,
    /// A call inside a first-time block whose flag the block or the callee sets
    /// (`if not self.discovered: self.discover_apps()`): it runs once, not on every call of the
    /// caller.
    FirstTime,
    /// A function passed as an argument to functions of the tree that only keep it
    /// (`on_startup(job)`, see `keeps_its_argument`), or put into a container
    /// (`handlers.append(job)`): it runs where what received it is called, which the values
    /// follow (that function's own edges, a loop over the container), not where it is handed
    /// over.
    HandedOver,
    /// A call inside a first-time block whose flag some function clears (see `flag_cleared`): it
    /// runs on the first call of the caller and again after each clear, so, like a first-time
    /// call, not on every call of the caller, but not proved to run once either.
    FirstTimeAgain,
}

impl EdgeKind {
    /// Whether running the caller runs the callee, so that a caller that runs once makes the
    /// callee's run count once. A first-time edge is already counted, whoever makes it. A
    /// function registered or handed over (`config.add_subscriber(on_new_request, NewRequest)` in
    /// a Pyramid `includeme`, `request_started.connect(h)` in `AppConfig.ready`) is not run by
    /// the registering: it runs whenever its caller calls it, maybe per request.
    fn runs_the_callee_when_the_caller_runs(self) -> bool {
        !matches!(
            self,
            EdgeKind::FirstTime | EdgeKind::Callback | EdgeKind::HandedOver
        )
    }
}

/// What makes a function run once after import ([`CallGraph::once_cause`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnceCause {
    /// A framework's start-up hook: the function is one, or only such hooks run it.
    StartUp,
    /// The first call of this function: a first-time block of it runs the function, directly
    /// or through functions only that block runs.
    FirstCall(FuncId),
    /// More than one of these, or module-level code as well.
    Several,
}

#[derive(Debug, Clone, Copy)]
pub struct Edge {
    pub to: FuncId,
    pub kind: EdgeKind,
    /// The call's result is itself called right there and kept nowhere: `factory(...)(f)`, or
    /// `@factory(...)` on a definition ([`CallGraph::results_called_at_once`]).
    pub result_called_at_once: bool,
}

/// The link cache's byte for an edge's kind, with [`Edge::result_called_at_once`] as its top bit.
const CALLED_AT_ONCE_BIT: u8 = 0x80;

const UNREACHED: u32 = u32::MAX;

/// A node of the exported graph (`stateleak graph`): what calls, or what is called.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Node {
    /// The module-level code of a file.
    Module(FileId),
    Function(FuncId),
    /// Something outside the tree, by its qualified name (`ext.Cls.fun`, `builtins.len`).
    External(Name),
}

/// Every call edge of the project, for the graph export: the analysis's edges (callbacks only
/// where they are handed to something outside the tree, which then calls them), plus the calls
/// of classes and of external names, with module-level code as a caller.
pub fn export_edges(project: &Project) -> Vec<(Node, Node)> {
    let index = Index::build(project, None, false);
    let mut edges: Vec<(Node, Node)> = (0..project.files.len() as FileId)
        .into_par_iter()
        .flat_map_iter(|file| file_export_edges(project, &index, file))
        .collect();
    edges.sort_unstable();
    edges.dedup();
    edges
}

fn file_export_edges(project: &Project, index: &Index<'_>, file: FileId) -> Vec<(Node, Node)> {
    let facts = &project.file(file).facts;
    let mut out = Vec::new();
    let mut scratch = Vec::new();
    let mut functions = Vec::new();
    let mut others = Vec::new();
    let caller = |function: Option<FuncIdx>| match function {
        Some(f) => Node::Function(project.function_id(file, f)),
        None => Node::Module(file),
    };
    let handed_outside = |call: u32| {
        facts.calls.get(call as usize).is_some_and(|parent| {
            let mut scratch = Vec::new();
            let mut targets = Vec::new();
            resolve_site(project, index, file, parent, &mut scratch, &mut targets);
            targets.is_empty()
                && parent.receiver() == CallReceiver::Name
                && matches!(
                    project.resolve(file, parent.function(), &parent.callee),
                    Resolved::External(_)
                )
        })
    };
    for site in &facts.calls {
        // A function handed to something outside the tree (`map(f, xs)`) is called on behalf of
        // the caller; handed to a function of the tree, it is called there if at all (an edge of
        // that function when it calls its parameter); handed to a value that cannot be resolved,
        // nothing is known.
        if site.reference() && !site.argument_of.get().is_some_and(handed_outside) {
            continue;
        }
        functions.clear();
        others.clear();
        resolve_site_with_others(
            project,
            index,
            file,
            site,
            &mut scratch,
            &mut functions,
            &mut Some(&mut others),
        );
        let from = caller(site.function());
        out.extend(
            functions
                .iter()
                .map(|(f, _)| (from.clone(), Node::Function(*f))),
        );
        out.extend(others.drain(..).map(|node| (from.clone(), node)));
    }
    for (to, from) in decorator_uses(project, index, file) {
        out.push((caller(from), Node::Function(to)));
    }
    out
}

#[derive(Debug, Default)]
pub struct CallGraph {
    /// `edges[offsets[f]..offsets[f + 1]]` leave function `f`.
    offsets: Vec<u32>,
    edges: Vec<Edge>,
    /// Functions used from module-level code (calls, callbacks, decorators) and nowhere else, and
    /// the registration closures they return: they run while modules are imported. (What they
    /// call is not followed: a module-level `main()` would otherwise make a whole program
    /// import-time code.)
    import_time: Vec<bool>,
    entries: Vec<EntryPoint>,
    /// Framework hooks that run once while an application is configured (`setup_once`,
    /// `AppConfig.ready`), in function order.
    start_ups: Vec<EntryPoint>,
    /// Functions that run once after import, with what runs them: start-up entry points,
    /// callees of first-time blocks, and what only they (and module-level code) call — unless a
    /// request reaches it.
    once_after_import: Vec<Option<OnceCause>>,
    /// Functions that are called and whose every use is a call whose result is called at once
    /// ([`Edge::result_called_at_once`]): nothing keeps what they return.
    results_called_at_once: Vec<bool>,
    /// For every function reached from an entry point, the function it was reached from (itself
    /// for an entry point); [`UNREACHED`] otherwise.
    predecessor: Vec<u32>,
    /// Per file, the edges from its module-level code and script blocks (the others are in
    /// `edges`), when the graph is kept for the next build.
    module_level_edges: Option<Vec<Vec<(Caller, Edge)>>>,
    /// Per file, the other files its edges depend on (see [`file_edges`]), kept with
    /// `module_level_edges`.
    looked_into: Option<Vec<Vec<FileId>>>,
    /// Classes whose every instance module-level code makes (see `made_only_at_import_classes`):
    /// a file's edges depend on them,
    /// so the next build keeps a file's edges only when they are the same.
    made_at_import: Vec<ClassId>,
    /// How long each step of the build took (see [`super::Project::link_times`]).
    pub(super) build_times: Vec<(&'static str, std::time::Duration)>,
}

/// What a build may start from: the values of names and the call graph of the previous link of
/// the same files, where only the files `changed` have other facts, and read the same for the
/// values stage (`super::values_signature`).
pub struct Previous {
    pub values: KeptValues,
    pub call_graph: CallGraph,
    pub changed: Vec<FileId>,
    /// When the changed files' value flows changed (and nothing else the values stage reads of
    /// them across files, [`super::values_outline`]): their facts before, and the values are
    /// updated for the edit rather than kept.
    pub edited: Option<Vec<Edited>>,
    /// The facts then of changed files (some or all of them): when some had other classes or
    /// functions at their ends (definitions appended, taken away or replaced that nothing uses,
    /// [`super::values_stay`]), the values and graph are in the previous link's ids and are
    /// renumbered (`super::remap::IdRemap`).
    pub old_facts: Vec<super::OldFacts>,
}

impl CallGraph {
    /// Builds the graph and finds the frameworks' entry points plus those matching `patterns`.
    /// The values of names are `previous` ones when given (see [`Values::from_kept`]), and the
    /// edges of the files that did not change since are taken from its graph; else the values
    /// are learnt from the flows. Unless `keep` is [`Keep::Nothing`], the values are returned
    /// (with which flows read and wrote each slot for [`Keep::ValuesAndFlows`]) and the graph
    /// keeps what it needs to give its edges to the next build.
    pub(super) fn build(
        project: &Project,
        patterns: &[String],
        previous: Option<Previous>,
        keep: Keep,
    ) -> (CallGraph, Option<KeptValues>) {
        let flows = keep == Keep::ValuesAndFlows;
        let keep = keep != Keep::Nothing;
        let (kept, mut unchanged) = match previous {
            Some(Previous {
                values,
                call_graph,
                changed,
                edited,
                old_facts: _,
            }) => (Some((values, edited)), Some((call_graph, changed))),
            None => (None, None),
        };
        let started = std::time::Instant::now();
        let index = Index::build(project, kept, flows);
        let mut build_times = vec![(index.values.step, started.elapsed())];
        crate::stage_marks::end_of_stage("link/values");
        // A file's edges read the values of names: kept only where those are as before.
        if !index.values.as_before {
            unchanged = None;
        }
        let started = std::time::Instant::now();
        let made_at_import =
            made_only_at_import_classes(project, &per_instance_flag_classes(project));
        // The edges of a file depend on its facts, the facts of the files it looked into, the
        // names of the project, the values of names and the classes made once: with those kept
        // and those files unchanged, they are the previous graph's.
        let per_file: Vec<FileEdges> = (0..project.files.len() as FileId)
            .into_par_iter()
            .map(|file| match &unchanged {
                Some((graph, changed))
                    if graph.made_at_import == made_at_import
                        && let Some(kept) = graph.kept_edges_of_file(project, file, changed) =>
                {
                    kept
                }
                _ => file_edges(project, &index, &made_at_import, file),
            })
            .collect();
        drop(unchanged);
        let (per_file, looked_into): (Vec<_>, Vec<_>) = per_file.into_iter().unzip();
        let looked_into = keep.then_some(looked_into);
        let module_level_edges = keep.then(|| {
            per_file
                .iter()
                .map(|edges| {
                    edges
                        .iter()
                        .filter(|(from, _)| !matches!(from, Caller::Function(_)))
                        .copied()
                        .collect()
                })
                .collect()
        });

        build_times.push(("link/edges", started.elapsed()));
        crate::stage_marks::end_of_stage("link/edges");
        let started = std::time::Instant::now();
        let count = project.functions.len();
        let mut out_degree = vec![0u32; count];
        let mut function_callers = vec![0u32; count];
        let mut module_uses = vec![0u32; count];
        // Called, and kept by no use (see `results_called_at_once`).
        let mut called = vec![false; count];
        let mut result_kept = vec![false; count];
        for (from, edge) in per_file.iter().flatten() {
            let to = edge.to.0 as usize;
            match edge.kind {
                EdgeKind::Call
                | EdgeKind::SelfCall
                | EdgeKind::FirstTime
                | EdgeKind::FirstTimeAgain
                    if edge.result_called_at_once =>
                {
                    called[to] = true;
                }
                _ => result_kept[to] = true,
            }
            match from {
                Caller::Function(from) => {
                    out_degree[from.0 as usize] += 1;
                    function_callers[edge.to.0 as usize] += 1;
                }
                // Never drained: a function a script calls is not import-time only.
                Caller::Script => function_callers[edge.to.0 as usize] += 1,
                Caller::Module => module_uses[edge.to.0 as usize] += 1,
            }
        }
        let mut offsets = Vec::with_capacity(count + 1);
        let mut total = 0u32;
        offsets.push(0);
        for degree in &out_degree {
            total += degree;
            offsets.push(total);
        }
        let mut cursor: Vec<u32> = offsets[..count].to_vec();
        let placeholder = Edge {
            to: FuncId(0),
            kind: EdgeKind::Call,
            result_called_at_once: false,
        };
        let mut edges = vec![placeholder; total as usize];
        for (from, edge) in per_file.into_iter().flatten() {
            if let Caller::Function(from) = from {
                let slot = &mut cursor[from.0 as usize];
                edges[*slot as usize] = edge;
                *slot += 1;
            }
        }
        let mut graph = CallGraph {
            offsets,
            edges,
            import_time: Vec::new(),
            entries: Vec::new(),
            start_ups: Vec::new(),
            once_after_import: Vec::new(),
            results_called_at_once: called
                .iter()
                .zip(&result_kept)
                .map(|(called, kept)| *called && !kept)
                .collect(),
            predecessor: Vec::new(),
            module_level_edges,
            looked_into,
            made_at_import,
            build_times: Vec::new(),
        };
        // The start-up functions and the modules of tests (one thread each) are found while the
        // entry points are (files and classes on any thread).
        let (entries, (start_ups, of_tests)) = rayon::join(
            || entry_points::find(project, &index, patterns),
            || {
                (
                    entry_points::find_start_up(project),
                    super::test_code::functions_in_modules_of_tests(project),
                )
            },
        );
        graph.entries = entries;
        graph.start_ups = start_ups;
        // Calls made only while the serving event loop does not run are no request's.
        let before_serving = serving_loop::calls_before_serving(
            project,
            &index,
            &serving_loop::TestOnly {
                graph: &graph,
                of_tests: &of_tests,
                function_callers: &function_callers,
                module_uses: &module_uses,
            },
        );
        graph.predecessor = graph.reach(&of_tests, &before_serving);
        let (import_time, made_while_importing) =
            graph.import_time_functions(project, &function_callers, &module_uses);
        graph.import_time = import_time;
        graph.once_after_import = graph.once_after_import_functions(
            &function_callers,
            &module_uses,
            &made_while_importing,
        );
        // What a request reaches runs per request, whatever else calls it at import time or
        // once.
        for (function, (import_time, once)) in graph
            .import_time
            .iter_mut()
            .zip(graph.once_after_import.iter_mut())
            .enumerate()
        {
            if graph.predecessor[function] != UNREACHED {
                *import_time = false;
                *once = None;
            }
        }
        build_times.push(("link/entry points and reach", started.elapsed()));
        graph.build_times = build_times;
        (graph, keep.then(|| index.values.into_kept(flows)))
    }

    /// Appends to `out` what the next build needs of this graph to keep the edges of unchanged
    /// files (see [`Previous`]); `false`, writing nothing, when the graph did not keep them.
    pub(crate) fn encode_kept(&self, out: &mut crate::link_cache::Encoder<'_>) -> bool {
        let (Some(module_level_edges), Some(_)) = (&self.module_level_edges, &self.looked_into)
        else {
            return false;
        };
        let edge = |out: &mut crate::link_cache::Encoder<'_>, edge: &Edge| {
            out.u32(edge.to.0);
            let at_once = if edge.result_called_at_once {
                CALLED_AT_ONCE_BIT
            } else {
                0
            };
            out.u8(edge.kind as u8 | at_once);
        };
        out.u32s(&self.offsets);
        out.len(self.edges.len());
        for e in &self.edges {
            edge(out, e);
        }
        out.len(module_level_edges.len());
        for file in module_level_edges {
            out.len(file.len());
            for (from, e) in file {
                match from {
                    Caller::Function(f) => {
                        out.u8(0);
                        out.u32(f.0);
                    }
                    Caller::Module => out.u8(1),
                    Caller::Script => out.u8(2),
                }
                edge(out, e);
            }
        }
        out.len(self.made_at_import.len());
        for class in &self.made_at_import {
            out.u32(class.0);
        }
        let Some(looked_into) = &self.looked_into else {
            return false;
        };
        for files in looked_into {
            out.u32s(files);
        }
        true
    }

    /// A graph [`CallGraph::encode_kept`] wrote, of a project of `files` files, `functions`
    /// functions and `classes` classes: enough for [`Previous`], nothing else. `None` when the
    /// bytes are not such a graph of such a project.
    pub(crate) fn decode_kept(
        input: &mut crate::link_cache::Decoder,
        files: u32,
        functions: u32,
        classes: u32,
    ) -> Option<CallGraph> {
        let edge = |input: &mut crate::link_cache::Decoder| -> Option<Edge> {
            let to = input.u32()?;
            let byte = input.u8()?;
            let kind = match byte & !CALLED_AT_ONCE_BIT {
                0 => EdgeKind::Call,
                1 => EdgeKind::SelfCall,
                2 => EdgeKind::Constructor,
                3 => EdgeKind::Callback,
                4 => EdgeKind::Decorator,
                5 => EdgeKind::FirstTime,
                6 => EdgeKind::HandedOver,
                7 => EdgeKind::FirstTimeAgain,
                _ => return None,
            };
            (to < functions).then_some(Edge {
                to: FuncId(to),
                kind,
                result_called_at_once: byte & CALLED_AT_ONCE_BIT != 0,
            })
        };
        let offsets = input.u32s()?;
        if offsets.len() != functions as usize + 1 {
            return None;
        }
        let count = input.len(5)?;
        if offsets.first() != Some(&0)
            || offsets.last() != Some(&(count as u32))
            || offsets.windows(2).any(|pair| pair[0] > pair[1])
        {
            return None;
        }
        let mut edges = Vec::with_capacity(count);
        for _ in 0..count {
            edges.push(edge(input)?);
        }
        if input.len(4)? != files as usize {
            return None;
        }
        let mut module_level_edges = Vec::with_capacity(files as usize);
        for _ in 0..files {
            let count = input.len(6)?;
            let mut file = Vec::with_capacity(count);
            for _ in 0..count {
                let from = match input.u8()? {
                    0 => match input.u32()? {
                        f if f < functions => Caller::Function(FuncId(f)),
                        _ => return None,
                    },
                    1 => Caller::Module,
                    2 => Caller::Script,
                    _ => return None,
                };
                file.push((from, edge(input)?));
            }
            module_level_edges.push(file);
        }
        let count = input.len(4)?;
        let mut made_at_import = Vec::with_capacity(count);
        for _ in 0..count {
            match input.u32()? {
                class if class < classes => made_at_import.push(ClassId(class)),
                _ => return None,
            }
        }
        let mut looked_into = Vec::with_capacity(files as usize);
        for _ in 0..files {
            let others = input.u32s()?;
            if others.iter().any(|other| *other >= files) {
                return None;
            }
            looked_into.push(others);
        }
        Some(CallGraph {
            offsets,
            edges,
            module_level_edges: Some(module_level_edges),
            looked_into: Some(looked_into),
            made_at_import,
            ..CallGraph::default()
        })
    }

    /// The edges of `file`'s code, as `file_edges` found them when this graph was built (the
    /// order of each function's edges kept), with the files they depend on; `None` when the
    /// graph did not keep them, or `file` or one of those is among the `changed` files.
    fn kept_edges_of_file(
        &self,
        project: &Project,
        file: FileId,
        changed: &[FileId],
    ) -> Option<FileEdges> {
        let looked_into = &self.looked_into.as_ref()?[file as usize];
        if changed.contains(&file) || looked_into.iter().any(|other| changed.contains(other)) {
            return None;
        }
        let mut out = self.module_level_edges.as_ref()?[file as usize].clone();
        let first = project.function_base[file as usize];
        let count = project.files[file as usize].facts.functions.len() as u32;
        for function in (first..first + count).map(FuncId) {
            out.extend(
                self.callees(function)
                    .iter()
                    .map(|edge| (Caller::Function(function), *edge)),
            );
        }
        Some((out, looked_into.clone()))
    }

    /// The edges that leave `function`.
    pub fn callees(&self, function: FuncId) -> &[Edge] {
        let i = function.0 as usize;
        match (self.offsets.get(i), self.offsets.get(i + 1)) {
            (Some(&start), Some(&end)) => &self.edges[start as usize..end as usize],
            _ => &[],
        }
    }

    /// Every entry point, in function order.
    pub fn entry_points(&self) -> &[EntryPoint] {
        &self.entries
    }

    /// Every start-up entry point (a framework's configuration hook), in function order.
    pub fn start_up_entry_points(&self) -> &[EntryPoint] {
        &self.start_ups
    }

    /// Whether `function` runs once after import, never per call: it is a start-up entry point,
    /// or every call of it is made by one or by a first-time block, and no request reaches it.
    pub fn once_after_import(&self, function: FuncId) -> bool {
        self.once_cause(function).is_some()
    }

    /// What runs `function` once after import, when it runs so ([`Self::once_after_import`]).
    pub fn once_cause(&self, function: FuncId) -> Option<OnceCause> {
        self.once_after_import
            .get(function.0 as usize)
            .copied()
            .flatten()
    }

    /// What kind of entry point `function` is, if it is one.
    pub fn entry_kind(&self, function: FuncId) -> Option<&str> {
        self.entries
            .binary_search_by_key(&function, |e| e.function)
            .ok()
            .map(|i| self.entries[i].kind.as_str())
    }

    /// Whether `function` runs per request: an entry point calls it, directly or not.
    pub fn is_per_request(&self, function: FuncId) -> bool {
        self.predecessor
            .get(function.0 as usize)
            .is_some_and(|p| *p != UNREACHED)
    }

    /// A shortest chain of calls from an entry point to `function`, the entry point first.
    pub fn request_path(&self, function: FuncId) -> Option<Vec<FuncId>> {
        if !self.is_per_request(function) {
            return None;
        }
        let mut path = vec![function];
        let mut current = function;
        loop {
            let previous = self.predecessor[current.0 as usize];
            if previous == current.0 || path.len() > self.predecessor.len() {
                break;
            }
            current = FuncId(previous);
            path.push(current);
        }
        path.reverse();
        Some(path)
    }

    /// Whether every use of `function` the graph sees calls it and calls its result at once,
    /// `factory(...)(f)` or `@factory(...)` on a definition, so that what it returns is called
    /// once per call of it and kept nowhere (there is at least one such call, and no other use:
    /// not bound to a name, passed, stored, returned, nor the function itself passed or used as
    /// a plain decorator).
    pub fn results_called_at_once(&self, function: FuncId) -> bool {
        self.results_called_at_once
            .get(function.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Whether `function` is used only while modules are imported: every use is in module-level
    /// code (a call, a decorator, a registration), or it is a registration closure such a
    /// function returns. Functions a request reaches never are.
    pub fn import_time_only(&self, function: FuncId) -> bool {
        self.import_time
            .get(function.0 as usize)
            .copied()
            .unwrap_or(false)
    }

    /// Multi-source breadth-first search from the entry points. A function of a module of tests
    /// (`of_tests`, one flag a function) is neither a start nor a step: it runs under a test
    /// runner, not in a request; nor is a call (caller, callee) made only before the application
    /// serves (`before_serving`, [`serving_loop::calls_before_serving`]) a step.
    fn reach(&self, of_tests: &[bool], before_serving: &HashSet<(u32, u32)>) -> Vec<u32> {
        let mut predecessor = vec![UNREACHED; of_tests.len()];
        let mut queue = VecDeque::new();
        for entry in &self.entries {
            let i = entry.function.0 as usize;
            if predecessor[i] == UNREACHED && !of_tests[i] {
                predecessor[i] = entry.function.0;
                queue.push_back(entry.function);
            }
        }
        while let Some(function) = queue.pop_front() {
            for edge in self.callees(function) {
                // Applying a decorator runs when the decorated definition does, a first-time
                // call on the first request only, and a function handed over where it is called:
                // none runs per call here.
                if matches!(
                    edge.kind,
                    EdgeKind::Decorator
                        | EdgeKind::FirstTime
                        | EdgeKind::FirstTimeAgain
                        | EdgeKind::HandedOver
                ) {
                    continue;
                }
                if !before_serving.is_empty() && before_serving.contains(&(function.0, edge.to.0)) {
                    continue;
                }
                let i = edge.to.0 as usize;
                if predecessor[i] == UNREACHED && !of_tests[i] {
                    predecessor[i] = function.0;
                    queue.push_back(edge.to);
                }
            }
        }
        predecessor
    }

    fn import_time_functions(
        &self,
        project: &Project,
        function_callers: &[u32],
        module_uses: &[u32],
    ) -> (Vec<bool>, Vec<bool>) {
        let count = function_callers.len();
        let mut import_time = vec![false; count];
        // Closures a decorator returns unchanged-shaped (`def deco(fn): REG.append(fn); return
        // fn`) run when their factory does.
        let mut nested: HashMap<u32, Vec<u32>> = HashMap::default();
        for (id, (file, idx)) in project.functions.iter().enumerate() {
            let facts = &project.files[*file as usize].facts.functions[*idx as usize];
            if let Some(parent) = facts.parent
                && function_callers[id] == 0
                && module_uses[id] == 0
                && returns_a_parameter(facts)
            {
                nested
                    .entry(project.function_id(*file, parent).0)
                    .or_default()
                    .push(id as u32);
            }
        }
        let mut queue: VecDeque<u32> = (0..count as u32)
            .filter(|&f| module_uses[f as usize] > 0 && function_callers[f as usize] == 0)
            .collect();
        for &f in &queue {
            import_time[f as usize] = true;
        }
        while let Some(f) = queue.pop_front() {
            for child in nested.get(&f).into_iter().flatten() {
                if !import_time[*child as usize] {
                    import_time[*child as usize] = true;
                    queue.push_back(*child);
                }
            }
        }
        let made_while_importing =
            self.mark_class_creation_helpers(project, function_callers, &mut import_time);
        (import_time, made_while_importing)
    }

    /// The start-up entry points, the callees of first-time calls (once each of their calls is
    /// one), and the functions that only these call: each runs once, at start-up or on the first
    /// call. Module-level calls do not count against a function (it is run once at import too),
    /// nor do the calls of what runs while classes and module-level objects are made
    /// (`made_while_importing`, [`Self::mark_class_creation_helpers`]: the `__init__` of a
    /// class only module-level code constructs, a class-creation hook, what only these call):
    /// alerta's `AlarmModel.register`, called by the `__init__` of the module-level
    /// `alarm_model = AlarmModel()` and by the `init_app` the Flask factory calls, runs at
    /// start-up.
    fn once_after_import_functions(
        &self,
        function_callers: &[u32],
        module_uses: &[u32],
        made_while_importing: &[bool],
    ) -> Vec<Option<OnceCause>> {
        let count = function_callers.len();
        let mut pending = function_callers.to_vec();
        // A function's direct calls to itself run only inside the calls its other callers make
        // (a recursive folder scan nested in a method run on first use). Handing itself over is
        // no such call: a signal receiver that disconnects itself runs whenever the signal does.
        for (function, waiting) in pending.iter_mut().enumerate() {
            let own_calls = self
                .callees(FuncId(function as u32))
                .iter()
                .filter(|edge| {
                    edge.to.0 as usize == function
                        && matches!(edge.kind, EdgeKind::Call | EdgeKind::SelfCall)
                })
                .count() as u32;
            *waiting = waiting.saturating_sub(own_calls);
        }
        // What makes each function run, merged over the calls counted so far; final once the
        // function is settled. Module-level code running it too makes it several.
        let mut causes: Vec<Option<OnceCause>> = module_uses
            .iter()
            .map(|&uses| (uses > 0).then_some(OnceCause::Several))
            .collect();
        let mut once = vec![false; count];
        let mut queue: VecDeque<u32> = VecDeque::new();
        let mut settle = |callee: usize,
                          cause: OnceCause,
                          pending: &mut [u32],
                          causes: &mut [Option<OnceCause>],
                          queue: &mut VecDeque<u32>| {
            pending[callee] = pending[callee].saturating_sub(1);
            causes[callee] = Some(match causes[callee] {
                Some(known) if known != cause => OnceCause::Several,
                _ => cause,
            });
            if pending[callee] == 0 && !once[callee] {
                once[callee] = true;
                queue.push_back(callee as u32);
            }
        };
        for entry in &self.start_ups {
            let i = entry.function.0 as usize;
            pending[i] = 0;
            settle(i, OnceCause::StartUp, &mut pending, &mut causes, &mut queue);
        }
        for caller in 0..count as u32 {
            for edge in self.callees(FuncId(caller)) {
                if edge.kind == EdgeKind::FirstTime {
                    let cause = OnceCause::FirstCall(FuncId(caller));
                    settle(
                        edge.to.0 as usize,
                        cause,
                        &mut pending,
                        &mut causes,
                        &mut queue,
                    );
                }
            }
        }
        // A call made while a module-level object or a class is made runs at import: it is
        // module-level code as well. What is itself import-time only keeps that lifetime.
        for caller in 0..count {
            if !made_while_importing[caller] {
                continue;
            }
            for edge in self.callees(FuncId(caller as u32)) {
                if edge.kind.runs_the_callee_when_the_caller_runs()
                    && !made_while_importing[edge.to.0 as usize]
                {
                    settle(
                        edge.to.0 as usize,
                        OnceCause::Several,
                        &mut pending,
                        &mut causes,
                        &mut queue,
                    );
                }
            }
        }
        while let Some(caller) = queue.pop_front() {
            let Some(cause) = causes[caller as usize] else {
                continue;
            };
            for edge in self.callees(FuncId(caller)) {
                if edge.kind.runs_the_callee_when_the_caller_runs() {
                    settle(
                        edge.to.0 as usize,
                        cause,
                        &mut pending,
                        &mut causes,
                        &mut queue,
                    );
                }
            }
        }
        causes
            .into_iter()
            .zip(once)
            .map(|(cause, once)| cause.filter(|_| once))
            .collect()
    }

    /// Class-creation hooks (`__init_subclass__`, ..., and a metaclass's `__new__`, `__init__`
    /// and `__prepare__`) run while classes are defined, and so does
    /// a function that only they, or functions only they call, use. So do the helpers of an
    /// `__init__` that only module-level code runs (`checker = Checker()`): the object is built
    /// while its module is imported. Propagation starts from these alone: starting from every
    /// import-time function would make everything a module-level `main()` calls import-time
    /// code. A function handed over as a callback (`Thread(target=self._run)`) may run later.
    /// Returns the functions it starts from and those it marks.
    fn mark_class_creation_helpers(
        &self,
        project: &Project,
        function_callers: &[u32],
        import_time: &mut [bool],
    ) -> Vec<bool> {
        let mut pending = function_callers.to_vec();
        let mut queue: VecDeque<u32> = project
            .functions
            .iter()
            .enumerate()
            .filter(|(_, (file, idx))| {
                let facts = &project.files[*file as usize].facts.functions[*idx as usize];
                let Some(class) = facts.class else {
                    return false;
                };
                (facts.name == "__init__"
                    && import_time[project.function_id(*file, *idx).0 as usize])
                    || knowledge::CLASS_CREATION_METHODS.contains(&facts.name.as_str())
                    || (knowledge::METACLASS_CREATION_METHODS.contains(&facts.name.as_str())
                        && project.inherits_external(
                            project.class_id(*file, class),
                            knowledge::METACLASS_BASES,
                        ))
            })
            .map(|(id, _)| id as u32)
            .collect();
        let mut seen = vec![false; function_callers.len()];
        for &hook in &queue {
            seen[hook as usize] = true;
        }
        while let Some(caller) = queue.pop_front() {
            for edge in self.callees(FuncId(caller)) {
                if matches!(edge.kind, EdgeKind::Callback | EdgeKind::HandedOver) {
                    continue;
                }
                let callee = edge.to.0 as usize;
                pending[callee] = pending[callee].saturating_sub(1);
                if pending[callee] == 0 && !seen[callee] {
                    seen[callee] = true;
                    import_time[callee] = true;
                    queue.push_back(callee as u32);
                }
            }
        }
        seen
    }
}

fn returns_a_parameter(function: &crate::facts::FunctionFacts) -> bool {
    let [returned] = function.returned_names.as_slice() else {
        return false;
    };
    !function.returns_other && function.params.iter().any(|p| p.name == *returned)
}

/// Lookups the resolution of call sites needs, built once.
pub(super) struct Index<'p> {
    /// Methods defined directly in each class, by name: the classes that define one directly,
    /// sorted, and the method (the last defined in the class body). No map by class and name
    /// beside it: a class's method is found among its name's definers (2.2 MB less at the
    /// link's peak of memory, BENCHMARKS.md "Round 42: the values stage's peak").
    definers: HashMap<&'p str, Vec<(ClassId, FuncId)>>,
    /// [`Index::attribute_class`]'s answers.
    attribute_class_lookups: MroMemo<ClassId>,
    /// [`Index::dispatch`]'s answers, per class by name: the values worklist asks for a
    /// `self.m()` on every visit, and a base class may have hundreds of subclasses to look in.
    dispatches: Vec<Mutex<HashMap<Name, Box<[FuncId]>>>>,
    /// Attributes of instances whose class is known: `self.repo = Repo()` in a method of the
    /// class.
    attribute_classes: HashMap<(u32, &'p str), ClassId>,
    /// Functions defined inside functions: (file, parent, name).
    pub(super) nested: HashMap<(FileId, FuncIdx, Name), FuncIdx>,
    /// The dotted names, not through a method's receiver, that some function stores a false
    /// literal into ([`FileFacts::flag_clears`]), as written: whether a first-time block runs
    /// once asks it.
    cleared_flags: HashSet<Name>,
    /// What names, parameters and returns may hold.
    values: Values<'p>,
}

impl<'p> Index<'p> {
    /// The index of `project`, its values of names from `kept` (as they are, or updated for the
    /// edited files) or learnt from nothing; with `flows`, what an update needs is recorded
    /// ([`Keep::ValuesAndFlows`]).
    fn build(
        project: &'p Project,
        kept: Option<(KeptValues, Option<Vec<Edited>>)>,
        flows: bool,
    ) -> Index<'p> {
        // Values kept as they are do not read the index: they are taken apart on the other
        // core while the index's maps are made.
        if let Some((kept, None)) = kept {
            let (mut index, values) = rayon::join(
                || Index::without_values(project),
                || Values::from_kept(project, kept),
            );
            index.values = values;
            return index;
        }
        let mut index = Index::without_values(project);
        index.values = match kept {
            Some((kept, Some(edited))) => Values::update(project, &index, kept, &edited)
                .unwrap_or_else(|| Values::build(project, &index, flows)),
            _ => Values::build(project, &index, flows),
        };
        index
    }

    /// The index of `project` with no values of names yet.
    fn without_values(project: &'p Project) -> Index<'p> {
        let mut nested = HashMap::default();
        let mut definers: HashMap<&str, Vec<(ClassId, FuncId)>> = HashMap::default();
        for (id, (file, idx)) in project.functions.iter().enumerate() {
            let facts = &project.files[*file as usize].facts.functions[*idx as usize];
            if let Some(class) = facts.class
                && facts.parent.is_none()
            {
                let class = project.class_id(*file, class);
                definers
                    .entry(facts.name.as_str())
                    .or_default()
                    .push((class, FuncId(id as u32)));
            }
            if let Some(parent) = facts.parent {
                nested.insert((*file, parent, facts.name), *idx);
            }
        }
        for classes in definers.values_mut() {
            // By class, and of a class's methods of one name the last defined.
            classes.sort_by_key(|(class, _)| *class);
            classes.dedup_by(|later, earlier| {
                let same = later.0 == earlier.0;
                if same {
                    *earlier = *later;
                }
                same
            });
        }
        let mut attribute_classes = HashMap::default();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for assignment in &file.facts.attribute_assignments {
                if assignment.object != crate::facts::AccessPath::new(Root::SelfParam) {
                    continue;
                }
                let Some(owner) = project.method_class(file_id, assignment.function) else {
                    continue;
                };
                let class = match &assignment.value {
                    Value::Call { callee } => {
                        match project.resolve(file_id, Some(assignment.function), callee) {
                            Resolved::Class(c) => Some(c),
                            _ => None,
                        }
                    }
                    Value::Alias(path) if path.attrs.is_empty() => match &path.root {
                        Root::Local(name) => {
                            typed_local_class(project, file_id, assignment.function, name)
                                .map(|(c, _)| c)
                        }
                        _ => None,
                    },
                    _ => None,
                };
                if let Some(class) = class {
                    attribute_classes
                        .entry((owner.0, assignment.attr.as_str()))
                        .or_insert(class);
                }
            }
        }
        Index {
            definers,
            attribute_class_lookups: project.mro_memo(),
            dispatches: (0..project.classes.len())
                .map(|_| Mutex::default())
                .collect(),
            attribute_classes,
            nested,
            cleared_flags: project
                .files
                .iter()
                .flat_map(|file| file.facts.flag_clears.iter())
                .filter(|clear| !clear.through_receiver && clear.name.contains('.'))
                .map(|clear| clear.name)
                .collect(),
            values: Values::default(),
        }
    }

    /// The classes that define a method `name` directly, sorted, with the method.
    fn definers(&self, name: &str) -> &[(ClassId, FuncId)] {
        self.definers.get(name).map_or(&[], Vec::as_slice)
    }

    /// The method `name` defined directly in `class`.
    fn method(&self, class: ClassId, name: &str) -> Option<FuncId> {
        let definers = self.definers(name);
        let at = definers.binary_search_by_key(&class, |(c, _)| *c).ok()?;
        Some(definers[at].1)
    }

    /// What `receiver.name()` may run when the receiver is an instance of `class` or of any
    /// subclass: the method found along the MRO of each, added to `out` unless already there.
    pub(super) fn dispatch(
        &self,
        project: &Project,
        class: ClassId,
        name: &(impl NameText + ?Sized),
        out: &mut Vec<FuncId>,
    ) {
        // Found functions are inserted whole: a panic elsewhere leaves the map consistent.
        let lock = || {
            self.dispatches[class.0 as usize]
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        let add = |found: &[FuncId], out: &mut Vec<FuncId>| {
            if out.is_empty() {
                out.extend_from_slice(found);
            } else {
                for f in found {
                    if !out.contains(f) {
                        out.push(*f);
                    }
                }
            }
        };
        if let Some(known) = lock().get_text(name) {
            add(known, out);
            return;
        }
        let mut found = Vec::new();
        // Most names are defined by few classes or none, and a base class may have hundreds of
        // subclasses to look in: the name's definers are found once.
        let definers = self.definers(name.text());
        let lookup = |class: ClassId| first_definer(project, definers, class);
        found.extend(lookup(class));
        // In a subclass the name may come from the subclass itself or from another of its bases
        // (a mixin calling what its sibling defines).
        if !definers.is_empty() {
            for sub in project.descendants(class) {
                if let Some(f) = lookup(*sub)
                    && !found.contains(&f)
                {
                    found.push(f);
                }
            }
        }
        add(&found, out);
        lock().insert(name.to_name(), found.into());
    }

    /// The class of instances stored in `self.attr` by methods of `class` or its bases.
    fn attribute_class(
        &self,
        project: &Project,
        class: ClassId,
        attr: &(impl NameText + ?Sized),
    ) -> Option<ClassId> {
        project
            .find_in_mro(&self.attribute_class_lookups, class, attr, |c| {
                self.attribute_classes.get(&(c.0, attr.text())).copied()
            })
            .map(|(_, attribute_class)| attribute_class)
    }
}

/// The method of the first class of the MRO of `class` among `definers` (sorted by class).
fn first_definer(
    project: &Project,
    definers: &[(ClassId, FuncId)],
    class: ClassId,
) -> Option<FuncId> {
    if definers.is_empty() {
        return None;
    }
    project.mro(class).find_map(|entry| match entry {
        MroEntry::Class(c) => definers
            .binary_search_by_key(c, |(definer, _)| *definer)
            .ok()
            .map(|i| definers[i].1),
        MroEntry::External(_) => None,
    })
}

/// The class of a local (constructed from it, or annotated with it, unless a protocol) and
/// whether it is exact.
pub(super) fn typed_local_class(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    name: &str,
) -> Option<(ClassId, bool)> {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        if let Some(local) = facts.typed_locals.iter().find(|t| t.name == name) {
            return match project.resolve(file, Some(f), &local.class) {
                // What is passed for a parameter annotated with a protocol need not derive from
                // it: the values tell what it holds.
                Resolved::Class(c)
                    if local.exact || !project.inherits_external(c, knowledge::PROTOCOL_BASES) =>
                {
                    Some((c, local.exact))
                }
                _ => None,
            };
        }
        current = facts.parent;
    }
    None
}

/// What a module-level binding holds, for the methods called on it.
enum GlobalObject {
    /// Made by calling this class of the tree or external name (`session = requests.Session()`).
    Made(Resolved),
    /// Only annotated (see [`annotated_global_classes`]): an instance of one of these classes.
    Annotated(Vec<ClassId>),
    Unknown,
}

fn global_object(project: &Project, file: FileId, global: u32) -> GlobalObject {
    let binding = project.file(file).facts.globals.get(global as usize);
    if let Some(Value::Call { callee }) = binding.map(|b| &b.value) {
        return GlobalObject::Made(project.resolve(file, None, callee));
    }
    match annotated_global_classes(project, file, global) {
        Some(classes) => GlobalObject::Annotated(classes),
        None => GlobalObject::Unknown,
    }
}

/// A module global whose binding tells no class by its value (none at all, `None`, an expression
/// the extractor does not classify) but is annotated with a class of the tree (`app: App`, bound
/// by another module): the classes whose instances it may hold, the annotated one and its
/// subclasses. `None` for a protocol, and when there are more than [`MAX_ANNOTATED_CLASSES`]: the call graph and the
/// values both read this, so that a method called on the global receives its arguments in
/// every class it may run in, and neither guesses a part of them.
pub(super) fn annotated_global_classes(
    project: &Project,
    file: FileId,
    global: u32,
) -> Option<Vec<ClassId>> {
    let binding = project.file(file).facts.globals.get(global as usize)?;
    if !matches!(binding.value, Value::Other | Value::None) {
        return None;
    }
    let Resolved::Class(class) = project.resolve(file, None, &binding.annotation?) else {
        return None;
    };
    // What conforms to a protocol need not derive from it.
    if project.inherits_external(class, knowledge::PROTOCOL_BASES) {
        return None;
    }
    let descendants = project.descendants(class);
    (descendants.len() < MAX_ANNOTATED_CLASSES).then(|| {
        std::iter::once(class)
            .chain(descendants.iter().copied())
            .collect()
    })
}

/// At most this many classes are taken for an annotated global (see
/// [`annotated_global_classes`]).
const MAX_ANNOTATED_CLASSES: usize = 16;

/// Whether a callback is handed to something that runs it concurrently: `Thread(target=f)`,
/// `Timer(1, f)`, `executor.submit(f)`, `loop.create_task(...)`.
fn starts_concurrent_work(facts: &crate::facts::FileFacts, site: &CallSite) -> bool {
    site.argument_of
        .get()
        .and_then(|parent| facts.calls.get(parent as usize))
        .is_some_and(|parent| {
            let last = knowledge::last_segment(&parent.callee);
            matches!(
                last,
                "Thread"
                    | "Timer"
                    | "Process"
                    | "submit"
                    | "start_new_thread"
                    | "create_task"
                    | "run_in_executor"
                    | "call_soon"
                    | "call_later"
            )
        })
}

/// What a call site resolves to.
type Targets = Vec<(FuncId, EdgeKind)>;

/// Where a use of a function is.
#[derive(Debug, Clone, Copy)]
enum Caller {
    Function(FuncId),
    /// Module-level code that runs when the module is imported.
    Module,
    /// Module-level code under `if __name__ == "__main__":`.
    Script,
}

/// The edges of `file`'s code, and the other files whose facts deciding them read (the proofs
/// that a function is only handed over, [`keeps_its_argument`]), sorted: the edges stay valid in
/// a later link only while those files are unchanged too.
fn file_edges(
    project: &Project,
    index: &Index<'_>,
    made_at_import: &[ClassId],
    file: FileId,
) -> FileEdges {
    let facts = &project.file(file).facts;
    let mut out = Vec::new();
    let mut looked_into = Vec::new();
    let mut targets = Vec::new();
    let mut name_cache: HashMap<NameKey, Targets> = HashMap::default();
    let mut class_cache: HashMap<(ClassId, bool, &str, bool), Targets> = HashMap::default();
    let first_time: HashMap<u32, &FirstTimeCall> = facts
        .first_time_calls
        .iter()
        .map(|call| (call.call, call))
        .collect();
    let mut returned_lambda_calls = facts.returned_lambda_calls.iter().copied().peekable();
    let at_once = results_called_at_once(facts);
    let called_at_once = |site: usize| at_once.get(site).copied().unwrap_or(false);
    for (site_index, site) in facts.calls.iter().enumerate() {
        // Who calls a returned lambda is not known: precision first, nobody does.
        if returned_lambda_calls
            .next_if_eq(&(site_index as u32))
            .is_some()
        {
            continue;
        }
        let handed_over = || keeps_its_argument(project, index, file, site, &mut looked_into);
        let from = match site.function() {
            Some(f) => Caller::Function(project.function_id(file, f)),
            // `if __name__ == "__main__":` runs the program, not its import.
            None if facts.in_script_block(site.span.start) => Caller::Script,
            // A thread or task started at import time runs alongside the requests.
            None if site.reference() && starts_concurrent_work(facts, site) => Caller::Script,
            None => Caller::Module,
        };
        // Whether the site passes the callee on, and whether it calls the result at once.
        let result_use = (site.reference(), called_at_once(site_index));
        if let Some(call) = first_time.get(&(site_index as u32)) {
            let mut resolved = Vec::new();
            resolve_site(project, index, file, site, &mut targets, &mut resolved);
            for (callee, kind) in &mut resolved {
                if *kind != EdgeKind::Decorator
                    && runs_once(
                        project,
                        made_at_import,
                        (file, site.function()),
                        call,
                        (*callee, *kind),
                    )
                {
                    *kind = if flag_cleared(project, index, file, &call.flag) {
                        EdgeKind::FirstTimeAgain
                    } else {
                        EdgeKind::FirstTime
                    };
                }
            }
            push_edges(&mut out, from, &resolved, result_use, handed_over);
            continue;
        }
        let name_key = NameKey::of(project, file, site);
        if let Some(key) = &name_key
            && let Some(hit) = name_cache.get(key)
        {
            push_edges(&mut out, from, hit, result_use, handed_over);
            continue;
        }
        // `self.m()` means the same in every method of a class: dispatch once per class.
        let class_key = match (site.receiver(), site.function()) {
            (CallReceiver::SelfParam | CallReceiver::Class, Some(function)) => {
                project.method_class(file, function).map(|class| {
                    (
                        class,
                        site.receiver() == CallReceiver::SelfParam,
                        site.callee.as_str(),
                        site.reference(),
                    )
                })
            }
            _ => None,
        };
        if let Some(key) = &class_key
            && let Some(hit) = class_cache.get(key)
        {
            push_edges(&mut out, from, hit, result_use, handed_over);
            continue;
        }
        let mut resolved = Vec::new();
        resolve_site(project, index, file, site, &mut targets, &mut resolved);
        push_edges(&mut out, from, &resolved, result_use, handed_over);
        if let Some(key) = class_key {
            class_cache.insert(key, resolved);
        } else if let Some(key) = name_key {
            name_cache.insert(key, resolved);
        }
    }
    for (to, scope) in decorator_uses(project, index, file) {
        let from = match scope {
            Some(f) => Caller::Function(project.function_id(file, f)),
            None => Caller::Module,
        };
        out.push((
            from,
            Edge {
                to,
                kind: EdgeKind::Decorator,
                result_called_at_once: false,
            },
        ));
    }
    looked_into.sort_unstable();
    looked_into.dedup();
    looked_into.retain(|other| *other != file);
    (out, looked_into)
}

/// The scope and name under which a call through a bare name or a local is resolved once per
/// file ([`file_edges`]): what [`resolve_site`] finds for such a call depends on nothing of the
/// site but these (the values are not told one site of a scope from another), so every site
/// with the same key shares the answer. A bare name that resolves as at module level
/// ([`Project::resolves_at_module_level`]) is one key for all the file's scopes; otherwise, and
/// for a local, the key is the function the call is in.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct NameKey {
    scope: Option<FuncIdx>,
    local: bool,
    callee: Name,
    /// A class passed as a value (`submit(Job)`) is not a call of its `__init__`, a class
    /// called (`Job()`) is.
    reference: bool,
    /// A call after a rebinding of the local is not resolved as the name is written.
    after_rebinding: bool,
}

impl NameKey {
    /// `None` for a call of another receiver, or of a local outside any function (which
    /// resolves to nothing).
    fn of(project: &Project, file: FileId, site: &CallSite) -> Option<NameKey> {
        let function = site.function();
        let (scope, local) = match site.receiver() {
            CallReceiver::Name => (
                function
                    .filter(|_| !project.resolves_at_module_level(file, function, &site.callee)),
                false,
            ),
            CallReceiver::Local => (Some(function?), true),
            _ => return None,
        };
        Some(NameKey {
            scope,
            local,
            callee: site.callee,
            reference: site.reference(),
            after_rebinding: site.after_rebinding(),
        })
    }
}

/// A file's edges and the other files they depend on (see [`file_edges`]).
type FileEdges = (Vec<(Caller, Edge)>, Vec<FileId>);

/// The receiver's name when `flag` is an attribute of the receiver of `caller` (`self._x` in a
/// method, `cls._x` in a classmethod), with the attribute.
fn receiver_flag<'f>(
    caller: &crate::facts::FunctionFacts,
    flag: &'f str,
) -> Option<(Root, &'f str)> {
    let (receiver, attr) = split_first_dot(flag)?;
    let through = match caller.kind {
        FunctionKind::Instance => Root::SelfParam,
        FunctionKind::ClassMethod => Root::Class,
        _ => return None,
    };
    (!attr.contains('.') && caller.params.first().is_some_and(|p| p.name == receiver))
        .then_some((through, attr))
}

/// The classes whose methods make first-time calls behind a flag of `self`: such a block runs
/// once per instance, which is once per process for each instance only when the instances are a
/// fixed few, made while modules are imported.
fn per_instance_flag_classes(project: &Project) -> Vec<ClassId> {
    let mut classes: Vec<ClassId> = (0..project.files.len() as FileId)
        .flat_map(|file| {
            let facts = &project.file(file).facts;
            facts.first_time_calls.iter().filter_map(move |call| {
                let caller = facts.calls.get(call.call as usize)?.function()?;
                let function = &facts.functions[caller as usize];
                let (through, _) = receiver_flag(function, &call.flag)?;
                (through == Root::SelfParam)
                    .then(|| project.method_class(file, caller))
                    .flatten()
            })
        })
        .collect();
    classes.sort_unstable();
    classes.dedup();
    classes
}

/// Those of `candidates` the tree instantiates only in module-level code (`pool = HookPool()`,
/// `usercp = Page("usercp")`), at least once, with no subclass and never passed around as a
/// value: the process has those few instances and no other. A module of tests does not count: it
/// runs under a test runner, never in the server (see `test_code`). Instances made elsewhere
/// may hide from the call sites, so a class is left out when some may be: a call in a
/// module-level lambda or generator (it runs later), the class bound to another name
/// (`PageClass = Page`), a classmethod (`cls(name)`) or a module-level instance copied
/// (`copy.copy(usercp)`). Sorted.
fn made_only_at_import_classes(project: &Project, candidates: &[ClassId]) -> Vec<ClassId> {
    if candidates.is_empty() {
        return Vec::new();
    }
    let names: rustc_hash::FxHashSet<&str> = candidates
        .iter()
        .map(|c| project.class(*c).1.name.as_str())
        .collect();
    // (module-level constructions, any other use as a callee or value)
    let mut uses = vec![(0u32, 0u32); candidates.len()];
    // The module-level names bound to a construction, for the copies of them.
    let mut instances: Vec<(FileId, Name, usize)> = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        if super::test_code::module_of_tests(source) {
            continue;
        }
        // Bound to another name: `PageClass = Page`, `factories = [Page]`.
        for flow in &source.facts.flows {
            if let FlowSource::Name {
                receiver: CallReceiver::Name,
                name,
            } = &flow.source()
                && names.contains(split_last_dot(name).map_or(name.as_str(), |(_, last)| last))
                && let Resolved::Class(class) = project.resolve(file, flow.function(), name)
                && let Ok(i) = candidates.binary_search(&class)
            {
                uses[i].1 += 1;
            }
        }
        for (index, site) in source.facts.calls.iter().enumerate() {
            let written = match site.receiver() {
                CallReceiver::NewInstance => split_last_dot(&site.callee).map_or("", |(c, _)| c),
                // A module imported inside the function is a local name: `import app` then
                // `app.AppScript(...)` in a set-up function makes another instance.
                CallReceiver::Name | CallReceiver::Local => site.callee.as_str(),
                _ => continue,
            };
            let last = split_last_dot(written).map_or(written, |(_, last)| last);
            if !names.contains(last) {
                continue;
            }
            let Resolved::Class(class) = project.resolve(file, site.function(), written) else {
                continue;
            };
            let Ok(i) = candidates.binary_search(&class) else {
                continue;
            };
            let at_module_level = site.function().is_none()
                && !site.reference()
                && site.receiver() == CallReceiver::Name
                && !source.facts.in_script_block(site.span.start)
                && source
                    .facts
                    .deferred_module_calls
                    .binary_search(&(index as u32))
                    .is_err();
            if at_module_level {
                uses[i].0 += 1;
                instances.extend(source.facts.flows.iter().filter_map(|flow| {
                    match (&flow.source(), &flow.target()) {
                        (FlowSource::CallResult(call), FlowTarget::Name { name, .. })
                            if *call as usize == index && flow.function().is_none() =>
                        {
                            Some((file, *name, i))
                        }
                        _ => None,
                    }
                }));
            } else {
                uses[i].1 += 1;
            }
        }
    }
    if !instances.is_empty() {
        for i in copied_instances(project, &instances) {
            uses[i].1 += 1;
        }
    }
    candidates
        .iter()
        .zip(uses)
        .filter(|(class, (at_module_level, other))| {
            *at_module_level > 0
                && *other == 0
                && project.descendants(**class).is_empty()
                && !project.has_class_method(**class)
        })
        .map(|(class, _)| *class)
        .collect()
}

/// Of `instances` (a module-level name, in its file, bound to an instance of the candidate at
/// the index given), the candidates some of whose instances the tree copies with `copy.copy` or
/// `copy.deepcopy` (the copy is one more instance).
fn copied_instances(project: &Project, instances: &[(FileId, Name, usize)]) -> Vec<usize> {
    let mut copied = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        if super::test_code::module_of_tests(source) {
            continue;
        }
        let facts = &source.facts;
        for flow in &facts.flows {
            let (Some((call, _)), FlowSource::Name { name, .. }) =
                (flow.target().argument(), &flow.source())
            else {
                continue;
            };
            let Some(site) = facts.calls.get(call as usize) else {
                continue;
            };
            if !matches!(
                site.callee.as_str(),
                "copy" | "deepcopy" | "copy.copy" | "copy.deepcopy"
            ) {
                continue;
            }
            let Resolved::External(callee) = project.resolve(file, site.function(), &site.callee)
            else {
                continue;
            };
            if !matches!(callee.as_str(), "copy.copy" | "copy.deepcopy") {
                continue;
            }
            let Resolved::Global(global_file, binding) =
                project.resolve(file, flow.function(), name)
            else {
                continue;
            };
            let bound = &project.file(global_file).facts.globals[binding as usize].name;
            copied.extend(
                instances
                    .iter()
                    .filter(|(f, n, _)| *f == global_file && n == bound)
                    .map(|(_, _, i)| *i),
            );
        }
    }
    copied
}

/// Whether some function stores a false literal into `flag`, the flag of a first-time block in
/// `file` ([`FileFacts::flag_clears`]): each such store lets the block run again, so what it calls
/// is not proved to run once. A store is matched by its dotted text anywhere, and in `file` also by
/// the attribute (or global) it names, whatever it reaches it through: `cls._done = False` in one
/// method clears the `C._done` another tests.
fn flag_cleared(project: &Project, index: &Index<'_>, file: FileId, flag: &Name) -> bool {
    let attribute = flag.contains('.');
    let last = knowledge::last_segment(flag);
    project.file(file).facts.flag_clears.iter().any(|clear| {
        clear.name == *flag
            || (attribute
                && clear.name.contains('.')
                && knowledge::last_segment(&clear.name) == last)
    }) || (attribute && index.cleared_flags.contains(flag))
}

/// Whether the first-time block of `call` ends after one run of `callee`, once per process: the
/// block sets its flag, or the callee does (`self.discovered = True` in the method
/// `self.discover_apps()` runs, `global _X; _X = ...` for a module flag). A flag of `self` ends
/// the block once per instance, so it counts only for a class in `made_at_import`: once for
/// each of the few instances module-level code makes.
fn runs_once(
    project: &Project,
    made_at_import: &[ClassId],
    (file, caller): (FileId, Option<FuncIdx>),
    call: &FirstTimeCall,
    (callee, kind): (FuncId, EdgeKind),
) -> bool {
    let Some(caller) = caller else {
        return false;
    };
    let caller_facts = &project.file(file).facts.functions[caller as usize];
    let on_receiver = receiver_flag(caller_facts, &call.flag);
    let (callee_file, callee_facts) = project.function(callee);
    let callee_idx = project.functions[callee.0 as usize].1;
    let file_facts = &project.file(callee_file).facts;
    if let Some((Root::SelfParam, attr)) = on_receiver
        && !call.set_in_block
        && kind == EdgeKind::SelfCall
        && callee_facts.kind == FunctionKind::ClassMethod
        && sets_attribute(file_facts, callee_idx, &Root::Class, attr)
        && project
            .method_class(file, caller)
            .is_some_and(|class| !instances_set(project, class, attr))
    {
        return true;
    }
    if matches!(on_receiver, Some((Root::SelfParam, _)))
        && project
            .method_class(file, caller)
            .is_none_or(|class| made_at_import.binary_search(&class).is_err())
    {
        return false;
    }
    if call.set_in_block {
        return true;
    }
    match (on_receiver, call.flag.contains('.')) {
        // Set by a method called on the same receiver.
        (Some((through, attr)), _) => {
            kind == EdgeKind::SelfCall
                && callee_facts.kind == caller_facts.kind
                && sets_attribute(file_facts, callee_idx, &through, attr)
        }
        (None, true) => false,
        // A module flag the callee rebinds through `global`. A helper of the callee that
        // rebinds it is not followed: proving the rebind ends the block needs its value (not
        // `None`), that it runs on every call of the helper, and that no handler of a `try`
        // around the call lets the set-up return before it.
        (None, false) => {
            callee_file == file
                && file_facts
                    .global_rebinds
                    .iter()
                    .any(|r| r.function == callee_idx && r.name == call.flag)
        }
    }
}

/// Whether `function` assigns `attr` of its receiver (`self.attr = v` for `Root::SelfParam`,
/// `cls.attr = v` for `Root::Class`) a value other than `None`: a value that ends a first-time
/// block testing it.
fn sets_attribute(facts: &FileFacts, function: FuncIdx, through: &Root, attr: &str) -> bool {
    facts.attribute_assignments.iter().any(|a| {
        a.function == function
            && a.object.root == *through
            && a.object.attrs.is_empty()
            && a.attr == attr
            && !matches!(a.value, Value::None)
    })
}

/// Whether a method of `class`, of a class it inherits from or of a subclass assigns `attr`
/// of an instance (`self.attr = v`, `setattr(self, "attr", v)`): then an instance may hold its
/// own value of `attr`, and what the class holds does not answer a test of `self.attr`.
/// A first-time block on a class-level flag read through `self` runs once per class only when
/// no instance has the flag of its own.
fn instances_set(project: &Project, class: ClassId, attr: &str) -> bool {
    let related = |file: FileId, function: FuncIdx| {
        project.method_class(file, function).is_none_or(|other| {
            other == class || project.in_mro(class, other) || project.in_mro(other, class)
        })
    };
    (0..project.files.len() as FileId).any(|file| {
        let facts = &project.file(file).facts;
        facts.attribute_assignments.iter().any(|a| {
            a.object.root == Root::SelfParam
                && a.object.attrs.is_empty()
                && a.attr == attr
                && related(file, a.function)
        }) || facts.setattr_calls.iter().any(|s| {
            s.object.root == Root::SelfParam
                && s.object.attrs.is_empty()
                && s.name.as_deref().is_none_or(|name| name == attr)
                && related(file, s.function)
        })
    })
}

/// The functions of the tree applied as decorators (`@deco`, not `@deco(...)`) in `file`, with
/// the function whose body holds the decorated definition (`None` at module level).
fn decorator_uses(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
) -> Vec<(FuncId, Option<FuncIdx>)> {
    let facts = &project.file(file).facts;
    let decorated = facts
        .functions
        .iter()
        .map(|f| (&f.decorators[..], f.parent))
        .chain(facts.classes.iter().map(|c| (&c.decorators[..], None)));
    let mut out = Vec::new();
    for (decorators, scope) in decorated {
        for decorator in decorators.iter().filter(|d| !d.called) {
            // A decorator defined in the function around the definition comes first.
            let nested =
                scope.and_then(|f| nested_function(project, index, file, f, decorator.name));
            if let Some(target) = nested {
                out.push((target, scope));
            } else if let Resolved::Function(target) = project.resolve(file, scope, &decorator.name)
            {
                out.push((target, scope));
            }
        }
    }
    out
}

/// For each call site of `facts`, whether its result is called right where it is made and used
/// nowhere else: it is the callee of another call (`factory(...)(f)`), or it is a decorator
/// (`@factory(...)` on a `def` or `class`, applied once to the definition). A result bound to a
/// name, passed, stored or returned is not.
fn results_called_at_once(facts: &FileFacts) -> Vec<bool> {
    let mut at_once = vec![false; facts.calls.len()];
    for site in &facts.calls {
        if let CallReceiver::CallResult(inner) = site.receiver()
            && site.callee.is_empty()
            && !site.reference()
            && let Some(flag) = at_once.get_mut(inner as usize)
        {
            *flag = true;
        }
    }
    // The call of a decorator is its whole expression, after the `@`: it ends where the
    // decorator does. By end, the start of each called decorator.
    let decorators: HashMap<u32, u32> = facts
        .functions
        .iter()
        .map(|f| &f.decorators[..])
        .chain(facts.classes.iter().map(|c| &c.decorators[..]))
        .flatten()
        .filter(|d| d.called)
        .map(|d| (d.span.end, d.span.start))
        .collect();
    if !decorators.is_empty() {
        for (site, flag) in facts.calls.iter().zip(at_once.iter_mut()) {
            if !site.reference()
                && decorators
                    .get(&site.span.end)
                    .is_some_and(|start| *start < site.span.start)
            {
                *flag = true;
            }
        }
    }
    at_once
}

/// Pushes an edge to each function a call site resolved to; for a function passed as an
/// argument, of the kind `handed_over` tells, asked only when there is one.
fn push_edges(
    out: &mut Vec<(Caller, Edge)>,
    from: Caller,
    resolved: &[(FuncId, EdgeKind)],
    (reference, result_called_at_once): (bool, bool),
    handed_over: impl FnOnce() -> bool,
) {
    let reference_kind = match (reference, resolved.is_empty()) {
        (true, false) if handed_over() => Some(EdgeKind::HandedOver),
        (true, _) => Some(EdgeKind::Callback),
        (false, _) => None,
    };
    for (to, kind) in resolved {
        let kind = reference_kind.unwrap_or(*kind);
        out.push((
            from,
            Edge {
                to: *to,
                kind,
                result_called_at_once: result_called_at_once && !reference,
            },
        ));
    }
}

/// Whether the call a function is passed to keeps it rather than runs it: it puts its
/// arguments into a container named in the caller ([`knowledge::FILLING_METHODS`]), or it runs
/// functions of the tree only, each of which only calls, aliases, returns, puts into a named
/// container or hands on in the same way the parameter the function goes to
/// ([`HandOver::only_followed_uses`]). The values follow each of those to where the function is called
/// (edges of their own). Anything else (a function outside the tree, a call that cannot be
/// resolved, a parameter stored on an object or passed to anything else) may run it. The files
/// of the functions looked into are added to `looked_into`: a file's edges are kept across a
/// link while the file is unchanged, so they must be found again when one of those changes.
fn keeps_its_argument(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    argument: &CallSite,
    looked_into: &mut Vec<FileId>,
) -> bool {
    let facts = &project.file(file).facts;
    let Some(parent_index) = argument.argument_of.get() else {
        return false;
    };
    let Some(parent) = facts.calls.get(parent_index as usize) else {
        return false;
    };
    let mut targets = Vec::new();
    resolve_site(project, index, file, parent, &mut Vec::new(), &mut targets);
    if targets.is_empty() {
        return fills_a_named_container(parent);
    }
    // Where the argument is passed, from the flow the extractor noted for it.
    let positions: Vec<ArgPosition> = facts
        .flows
        .iter()
        .filter(|flow| {
            flow.function() == argument.function()
                && matches!(&flow.source(), FlowSource::Name { receiver, name }
                    if *receiver == argument.receiver() && *name == argument.callee)
        })
        .filter_map(|flow| flow.target().argument())
        .filter(|(call, _)| *call == parent_index)
        .map(|(_, position)| position)
        .collect();
    let mut proof = HandOver {
        looked_into,
        open: Vec::new(),
    };
    !positions.is_empty() && proof.only_kept_by(project, index, &targets, &positions)
}

/// How deep [`HandOver`] follows a parameter handed on: deeper chains keep the callback edge.
const MAX_HAND_ON_DEPTH: usize = 6;

/// A proof that functions given an argument only keep it (see [`keeps_its_argument`]).
struct HandOver<'l> {
    /// The files of every function looked into.
    looked_into: &'l mut Vec<FileId>,
    /// The parameters being proved, innermost last: one met again is handed round a cycle,
    /// which by itself runs nothing.
    open: Vec<(FuncId, Name)>,
}

impl HandOver<'_> {
    /// Whether each of `targets` (a call's callees) only keeps the arguments at `positions`.
    fn only_kept_by(
        &mut self,
        project: &Project,
        index: &Index<'_>,
        targets: &[(FuncId, EdgeKind)],
        positions: &[ArgPosition],
    ) -> bool {
        targets.iter().all(|(target, kind)| {
            let (target_file, function) = project.function(*target);
            self.looked_into.push(target_file);
            let bound = *kind == EdgeKind::Constructor || has_receiver(function.kind);
            positions.iter().all(|position| {
                let param = match *position {
                    ArgPosition::Index(i) => function.params.get(i as usize + usize::from(bound)),
                    ArgPosition::Keyword(name) => function.params.iter().find(|p| p.name == name),
                };
                param.is_some_and(|param| {
                    self.only_followed_uses(project, index, target_file, *target, param.name)
                })
            })
        })
    }

    /// Whether `function` only calls, aliases, returns, puts into a named container or hands on
    /// to functions of the tree that do the same its parameter `param`: uses the values follow
    /// to where it is called.
    fn only_followed_uses(
        &mut self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        function: FuncId,
        param: Name,
    ) -> bool {
        if self.open.contains(&(function, param)) {
            return true;
        }
        if self.open.len() >= MAX_HAND_ON_DEPTH {
            return false;
        }
        self.open.push((function, param));
        let facts = &project.file(file).facts;
        let idx = project.functions[function.0 as usize].1;
        let followed = facts.flows.iter().all(|flow| {
            let reads_param = flow.function() == Some(idx)
                && matches!(&flow.source(), FlowSource::Name { receiver: CallReceiver::Local, name }
                    if *name == param);
            !reads_param
                || match flow.target().argument() {
                    None => true,
                    Some((call, position)) => facts.calls.get(call as usize).is_some_and(|call| {
                        fills_a_named_container(call)
                            || self.handed_on(project, index, file, call, position)
                    }),
                }
        }) && !facts.attribute_assignments.iter().any(|a| {
            a.function == idx
                && matches!(&a.value, Value::Alias(path) if path.root == Root::Local(param))
        });
        self.open.pop();
        followed
    }

    /// Whether `call` of `file`, given a parameter at `position`, runs functions of the tree
    /// only, each of which only keeps it.
    fn handed_on(
        &mut self,
        project: &Project,
        index: &Index<'_>,
        file: FileId,
        call: &CallSite,
        position: ArgPosition,
    ) -> bool {
        let mut targets = Vec::new();
        resolve_site(project, index, file, call, &mut Vec::new(), &mut targets);
        !targets.is_empty() && self.only_kept_by(project, index, &targets, &[position])
    }
}

/// `container.append(f)` and the like, on a name of the caller.
fn fills_a_named_container(call: &CallSite) -> bool {
    matches!(call.receiver(), CallReceiver::Name | CallReceiver::Local)
        && !call.reference()
        && split_first_dot(&call.callee).is_some_and(|(container, method)| {
            !container.is_empty()
                && !method.contains('.')
                && knowledge::FILLING_METHODS.contains(&method)
        })
}

/// The functions a call site may run.
pub(super) fn resolve_site(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    site: &CallSite,
    scratch: &mut Vec<FuncId>,
    out: &mut Vec<(FuncId, EdgeKind)>,
) {
    resolve_site_with_others(project, index, file, site, scratch, out, &mut None);
}

/// Like [`resolve_site`]; also collects in `others` the names outside the tree the call
/// runs, when asked (the graph export names them; the analysis needs only functions).
fn resolve_site_with_others(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    site: &CallSite,
    scratch: &mut Vec<FuncId>,
    out: &mut Vec<(FuncId, EdgeKind)>,
    others: &mut Option<&mut Vec<Node>>,
) {
    scratch.clear();
    let callee = site.callee.as_str();
    let function = site.function();
    let mut kind = EdgeKind::Call;
    // Resolved by name to a function, class, module or external name: values are not asked.
    let mut settled = false;
    match site.receiver() {
        CallReceiver::Name => {
            settled = resolve_name(
                project,
                index,
                file,
                function,
                &site.callee,
                site.reference(),
                scratch,
                &mut kind,
                others,
            )
        }
        CallReceiver::Local => {
            let Some(function) = function else { return };
            // A nested function, or a method of a local whose class is known; otherwise the name
            // resolves as written, unless the function rebound it before the call: then what
            // the rebinding bound is asked of the values below, not an import of the name or a
            // function of the module named alike.
            let local = match split_first_dot(callee) {
                None => nested_function(project, index, file, function, site.callee)
                    .map(|nested| scratch.push(nested))
                    .is_some(),
                Some((head, rest)) => match typed_local_class(project, file, function, head) {
                    Some((class, exact)) => {
                        if !rest.contains('.') {
                            if exact {
                                scratch.extend(project.lookup_method(class, rest));
                            } else {
                                index.dispatch(project, class, rest, scratch);
                            }
                        }
                        true
                    }
                    None => false,
                },
            };
            settled = local;
            if !local && !site.after_rebinding() {
                settled = resolve_name(
                    project,
                    index,
                    file,
                    Some(function),
                    &site.callee,
                    site.reference(),
                    scratch,
                    &mut kind,
                    others,
                );
            }
        }
        CallReceiver::SelfParam | CallReceiver::Class => {
            let Some(function) = function else { return };
            let Some(class) = project.method_class(file, function) else {
                return;
            };
            kind = EdgeKind::SelfCall;
            match split_first_dot(callee) {
                None => index.dispatch(project, class, callee, scratch),
                Some((attr, method)) if !method.contains('.') => {
                    if let Some(held) = index.attribute_class(project, class, attr) {
                        kind = EdgeKind::Call;
                        index.dispatch(project, held, method, scratch);
                    }
                }
                Some(_) => {}
            }
        }
        CallReceiver::NewInstance => {
            let Some((class, method)) = split_last_dot(callee) else {
                return;
            };
            match project.resolve(file, function, class) {
                Resolved::Class(class) => scratch.extend(project.lookup_method(class, method)),
                Resolved::External(class) => {
                    if let Some(others) = others {
                        others.push(Node::External(format!("{class}.{method}").into()));
                    }
                }
                _ => {}
            }
        }
        // Followed through values below.
        CallReceiver::CallResult(_) => {}
        CallReceiver::Super => {
            let Some(function) = function else { return };
            let Some(class) = project.method_class(file, function) else {
                return;
            };
            kind = EdgeKind::SelfCall;
            let after = |mut mro: crate::project::Mro<'_>| -> Option<FuncId> {
                mro.position(|e| *e == MroEntry::Class(class))?;
                mro.find_map(|entry| match entry {
                    MroEntry::Class(c) => index.method(*c, callee),
                    MroEntry::External(_) => None,
                })
            };
            if let Some(found) = after(project.mro(class)) {
                scratch.push(found);
            } else {
                // A mixin: what follows it depends on the class it is mixed into.
                for sub in project.descendants(class) {
                    if let Some(found) = after(project.mro(*sub))
                        && !scratch.contains(&found)
                    {
                        scratch.push(found);
                    }
                }
            }
        }
    }
    let through_values = matches!(
        site.receiver(),
        CallReceiver::Name | CallReceiver::Local | CallReceiver::CallResult(_)
    );
    if scratch.is_empty() && through_values && !settled {
        held_targets(project, index, file, site, scratch, &mut kind, others);
    }
    out.extend(scratch.iter().map(|f| (*f, kind)));
}

/// What a call through a name runs when the name holds functions, classes or objects: `handler =
/// pick(); handler()`.
fn held_targets(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    site: &CallSite,
    out: &mut Vec<FuncId>,
    kind: &mut EdgeKind,
    others: &mut Option<&mut Vec<Node>>,
) {
    let mut held = Vec::new();
    index
        .values
        .callables(project, index, file, site, &mut held);
    for value in held {
        let function = match value {
            Held::Function(f) => Some(f),
            Held::Class(c) if !site.reference() => {
                *kind = EdgeKind::Constructor;
                project.lookup_method(c, &*INIT)
            }
            Held::Instance(c) if !site.reference() => project.lookup_method(c, &*CALL),
            Held::External(name) if !site.reference() => {
                if let Some(others) = others {
                    others.push(Node::External(index.values.external_name(name)));
                }
                None
            }
            _ => None,
        };
        if let Some(function) = function
            && !out.contains(&function)
        {
            out.push(function);
        }
    }
}

#[allow(clippy::too_many_arguments)]
fn resolve_name(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    function: Option<FuncIdx>,
    callee: &Name,
    reference: bool,
    out: &mut Vec<FuncId>,
    kind: &mut EdgeKind,
    others: &mut Option<&mut Vec<Node>>,
) -> bool {
    let mut other = |node: Node| {
        if let Some(others) = others
            && !reference
        {
            others.push(node);
        }
    };
    match project.resolve(file, function, callee) {
        // `@dec def f`: calling `f` runs what `dec` returned.
        Resolved::Function(f) => match index.values.decorated(f) {
            Some(held) if !reference => out.extend(held.iter().filter_map(|h| match h {
                Held::Function(f) => Some(*f),
                _ => None,
            })),
            _ => out.push(f),
        },
        Resolved::Class(class) => {
            if !reference && let Some(init) = project.lookup_method(class, &*INIT) {
                *kind = EdgeKind::Constructor;
                out.push(init);
            }
        }
        Resolved::External(name) => other(Node::External(name)),
        Resolved::Module(_) => {}
        _ => {
            let Some((prefix, method)) = split_name(*callee, true) else {
                return false;
            };
            match project.resolve(file, function, &prefix) {
                Resolved::Class(class) => out.extend(project.lookup_method(class, &method)),
                Resolved::Global(global_file, global) => {
                    match global_object(project, global_file, global) {
                        GlobalObject::Made(Resolved::Class(class)) => {
                            out.extend(project.lookup_method(class, &method))
                        }
                        GlobalObject::Made(Resolved::External(class)) => {
                            other(Node::External(format!("{class}.{method}").into()));
                        }
                        GlobalObject::Annotated(classes) => {
                            for class in classes {
                                if let Some(found) = project.lookup_method(class, &method)
                                    && !out.contains(&found)
                                {
                                    out.push(found);
                                }
                            }
                        }
                        _ => {}
                    }
                }
                _ => {}
            }
            return false;
        }
    }
    true
}

/// A function defined in `function` or a function around it, by name.
fn nested_function(
    project: &Project,
    index: &Index<'_>,
    file: FileId,
    function: FuncIdx,
    name: Name,
) -> Option<FuncId> {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(function);
    while let Some(f) = current {
        if let Some(found) = index.nested.get(&(file, f, name)) {
            return Some(project.function_id(file, *found));
        }
        current = functions[f as usize].parent;
    }
    None
}

/// Whether `kind` of function takes the instance or class first.
pub(super) fn has_receiver(kind: FunctionKind) -> bool {
    matches!(kind, FunctionKind::Instance | FunctionKind::ClassMethod)
}
