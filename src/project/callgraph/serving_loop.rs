//! Calls no request makes because they are made only while the event loop that serves requests
//! does not run (nicegui's `if core.is_loop_running(): create(...) else: _defer(...)`).
//!
//! The proof, for a call inside a part of an `if` that runs only when its test is false
//! ([`crate::facts::FileFacts::calls_unless_tested`]):
//! - the test calls only functions that return `N is not None and N.is_running()`, `N` a global
//!   of their module ([`crate::facts::FileFacts::loop_running_tests`]);
//! - that module binds `N` at module level only to `None`, in no other way, with no file of the
//!   tree writing its namespace by a computed name, and every other binding of an attribute of
//!   that name anywhere in the tree is a store of `asyncio.get_running_loop()`
//!   ([`crate::facts::FileFacts::running_loop_stores`]);
//! - every such store is made on every run of a function that runs while the application starts,
//!   before it serves: an ASGI lifespan handler (a function passed as `lifespan=` to FastAPI's or
//!   Starlette's application class, or to a class of the tree deriving from one whose
//!   `__init__` methods hand that keyword on, [`crate::facts::KwargsForward`]), before it first
//!   yields, or a function the handler calls (awaits, when it is a coroutine function) as a
//!   statement of its own body before that; and at least one of them stores it in that module.
//!
//! Requests are served on that loop, from its start to its end, so `N` then holds the running
//! loop and the test is true for every request: the part never runs for one. A start-up that
//! raises first serves nothing. What is not seen: the module reached through `sys.modules` and
//! written, a second loop run in another thread that stores its own, an application built and
//! never served.

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{CallReceiver, FlowSource, FlowTarget, FuncIdx, Name, Value};
use crate::knowledge;
use crate::project::{ClassId, FileId, FuncId, MroEntry, Project, Resolved};

use super::{CallGraph, EdgeKind, Index, resolve_site};

/// The calls (caller, callee) made only in parts of functions that run while the serving event
/// loop does not, and by no other call site of the caller.
pub(super) fn calls_before_serving(
    project: &Project,
    index: &Index<'_>,
    tests: &TestOnly<'_>,
) -> HashSet<(u32, u32)> {
    let mut out = HashSet::default();
    if project
        .files
        .iter()
        .all(|file| file.facts.calls_unless_tested.is_empty())
    {
        return out;
    }
    let start_up = StartUp::find(project);
    let mut proven: HashMap<(FileId, Name), bool> = HashMap::default();
    let mut scratch = Vec::new();
    let mut resolved = Vec::new();
    for file in 0..project.files.len() as FileId {
        let facts = &project.file(file).facts;
        // The parts proven to run only before serving, by the function they are in.
        let mut parts: HashMap<FuncIdx, Vec<(u32, u32)>> = HashMap::default();
        for (test, part) in &facts.calls_unless_tested {
            let Some(site) = facts.calls.get(*test as usize) else {
                continue;
            };
            let Some(function) = site.function() else {
                continue;
            };
            resolved.clear();
            resolve_site(project, index, file, site, &mut scratch, &mut resolved);
            let tests_the_loop = !resolved.is_empty()
                && resolved.iter().all(|(callee, kind)| {
                    *kind == EdgeKind::Call
                        && loop_test_proven(project, &start_up, tests, &mut proven, *callee)
                });
            if tests_the_loop {
                parts
                    .entry(function)
                    .or_default()
                    .push((part.start, part.end));
            }
        }
        for (function, parts) in parts {
            let caller = project.function_id(file, function);
            let mut guarded: Vec<FuncId> = Vec::new();
            let mut elsewhere: HashSet<FuncId> = HashSet::default();
            for site in facts
                .calls
                .iter()
                .filter(|site| site.function() == Some(function))
            {
                resolved.clear();
                resolve_site(project, index, file, site, &mut scratch, &mut resolved);
                let inside = parts
                    .iter()
                    .any(|(start, end)| *start <= site.span.start && site.span.end <= *end);
                for (callee, _) in &resolved {
                    if inside {
                        guarded.push(*callee);
                    } else {
                        elsewhere.insert(*callee);
                    }
                }
            }
            for callee in guarded {
                if !elsewhere.contains(&callee) {
                    out.insert((caller.0, callee.0));
                }
            }
        }
    }
    out
}

/// Whether `function` is a test of a module global proven to hold the serving loop whenever a
/// request runs.
fn loop_test_proven(
    project: &Project,
    start_up: &StartUp,
    tests: &TestOnly<'_>,
    proven: &mut HashMap<(FileId, Name), bool>,
    function: FuncId,
) -> bool {
    let (file, idx) = project.function_in_file(function);
    let Some((_, global)) = project
        .file(file)
        .facts
        .loop_running_tests
        .iter()
        .find(|(f, _)| *f == idx)
    else {
        return false;
    };
    *proven
        .entry((file, *global))
        .or_insert_with(|| holds_the_serving_loop(project, start_up, tests, file, global))
}

/// Whether the global `name` of module `file` holds the serving loop while requests run (see the
/// module's documentation).
fn holds_the_serving_loop(
    project: &Project,
    start_up: &StartUp,
    tests: &TestOnly<'_>,
    file: FileId,
    name: &Name,
) -> bool {
    let facts = &project.file(file).facts;
    // Rebound in another way than at module level only by functions that declare it `global`
    // and that only test code runs (a test's reset of the module's state).
    let others = &facts.other_rebinds;
    let rebound_only_by_tests = if others.first().is_some_and(|first| first == "*") {
        false
    } else if others.binary_search(name).is_err() {
        true
    } else {
        facts
            .rebound_only_as_declared_global
            .binary_search(name)
            .is_ok()
            && facts
                .global_declarations
                .iter()
                .filter(|(_, declared)| declared == name)
                .all(|(function, _)| {
                    function.is_some_and(|f| tests.run_only_by_tests(project.function_id(file, f)))
                })
    };
    let mut bindings = facts
        .globals
        .iter()
        .filter(|binding| binding.name == *name)
        .peekable();
    if bindings.peek().is_none()
        || !bindings.all(|binding| binding.value == Value::None)
        || facts.imports.iter().any(|import| import.binding == *name)
        || !rebound_only_by_tests
        || !project.attribute_bound_nowhere(file, name)
        || project.namespace_may_be_written(file)
    {
        return false;
    }
    let mut stored_here = false;
    for (other, source) in project.files.iter().enumerate() {
        let other = other as FileId;
        for store in &source.facts.running_loop_stores {
            let Some((path, attr)) = store.target.rsplit_once('.') else {
                continue;
            };
            if attr != name.as_str() {
                continue;
            }
            let Some(function) = store.function else {
                return false;
            };
            let id = project.function_id(other, function);
            let at_start_up = store.every_run
                && (start_up.handlers.contains(&id)
                    || (!store.in_generator && start_up.called.contains(&id)));
            let running_loop = matches!(
                project.resolve(other, store.function, &store.callee),
                Resolved::External(q) if q.as_str() == "asyncio.get_running_loop"
            );
            if !at_start_up || !running_loop {
                return false;
            }
            stored_here |= project.resolve(other, store.function, path) == Resolved::Module(file);
        }
    }
    stored_here
}

/// The functions that run while an ASGI application starts, before it serves.
struct StartUp {
    /// Lifespan handlers: their code before their first `yield`.
    handlers: HashSet<FuncId>,
    /// Functions a handler calls (awaits, for a coroutine function) as statements of its own body
    /// before any that holds a `return` or `yield` ([`crate::facts::FileFacts::leading_calls`]).
    called: HashSet<FuncId>,
}

impl StartUp {
    fn find(project: &Project) -> StartUp {
        let mut handlers = HashSet::default();
        for (file, source) in project.files.iter().enumerate() {
            let file = file as FileId;
            for flow in &source.facts.flows {
                let FlowTarget::KeywordArgument { call, keyword } = flow.target() else {
                    continue;
                };
                if keyword.as_str() != "lifespan" {
                    continue;
                }
                let FlowSource::Name {
                    receiver: CallReceiver::Name,
                    name,
                } = flow.source()
                else {
                    continue;
                };
                let Resolved::Function(handler) = project.resolve(file, flow.function(), &name)
                else {
                    continue;
                };
                let Some(site) = source.facts.calls.get(call as usize) else {
                    continue;
                };
                if site.receiver() == CallReceiver::Name
                    && makes_an_application(
                        project,
                        project.resolve(file, site.function(), &site.callee),
                    )
                {
                    handlers.insert(handler);
                }
            }
        }
        let mut called = HashSet::default();
        for handler in &handlers {
            let (file, idx) = project.function_in_file(*handler);
            let facts = &project.file(file).facts;
            for (function, call, awaited) in &facts.leading_calls {
                if *function != idx {
                    continue;
                }
                let Some(site) = facts.calls.get(*call as usize) else {
                    continue;
                };
                if site.receiver() != CallReceiver::Name {
                    continue;
                }
                if let Resolved::Function(callee) =
                    project.resolve(file, site.function(), &site.callee)
                    && (*awaited || !project.function(callee).1.is_async)
                {
                    called.insert(callee);
                }
            }
        }
        StartUp { handlers, called }
    }
}

/// Whether what a call resolves to makes an ASGI application that runs the lifespan handler it
/// is given: the framework's class, or a class of the tree deriving from it whose `__init__`
/// methods all hand that keyword on.
fn makes_an_application(project: &Project, resolved: Resolved) -> bool {
    match resolved {
        Resolved::External(name) => knowledge::LIFESPAN_APPLICATIONS.contains(&name.as_str()),
        Resolved::Class(class) => {
            project.inherits_external(class, knowledge::LIFESPAN_APPLICATIONS)
                && project.mro(class).all(|entry| match entry {
                    MroEntry::Class(base) => hands_lifespan_on(project, *base),
                    MroEntry::External(_) => true,
                })
        }
        _ => false,
    }
}

/// Whether the class's own `__init__`, if it has one, hands the `lifespan` keyword to the base's
/// on every call.
fn hands_lifespan_on(project: &Project, class: ClassId) -> bool {
    let (file, _) = project.class(class);
    let Some(init) = project.lookup_method(class, "__init__") else {
        return true;
    };
    let (init_file, init_idx) = project.function_in_file(init);
    if init_file != file || project.method_class(init_file, init_idx) != Some(class) {
        // Inherited: its own class is asked in turn.
        return true;
    }
    project
        .file(file)
        .facts
        .kwargs_forwards
        .iter()
        .find(|forward| forward.function == init_idx)
        .is_some_and(|forward| {
            !forward
                .taken_keywords
                .iter()
                .any(|k| k.as_str() == "lifespan")
                && !forward.keywords.iter().any(|k| k.as_str() == "lifespan")
        })
}

/// Which functions only test code runs.
pub(super) struct TestOnly<'g> {
    pub(super) graph: &'g CallGraph,
    /// Per function, whether it is in a module of tests.
    pub(super) of_tests: &'g [bool],
    /// Per function, how many edges from functions and scripts lead to it.
    pub(super) function_callers: &'g [u32],
    /// Per function, how many uses module-level code makes of it.
    pub(super) module_uses: &'g [u32],
}

impl TestOnly<'_> {
    /// Whether `function` is no entry point, module-level code does not use it, and it is called
    /// (or handed over) only by functions of modules of tests, at least one.
    fn run_only_by_tests(&self, function: FuncId) -> bool {
        let i = function.0 as usize;
        if self.graph.entry_kind(function).is_some()
            || self.module_uses.get(i).is_none_or(|uses| *uses > 0)
        {
            return false;
        }
        let mut callers = 0u32;
        for caller in 0..self.of_tests.len() {
            for edge in self.graph.callees(FuncId(caller as u32)) {
                if edge.to == function {
                    if !self.of_tests[caller] {
                        return false;
                    }
                    callers += 1;
                }
            }
        }
        // A script's call is counted among the callers but is no function's edge.
        callers > 0 && self.function_callers.get(i) == Some(&callers)
    }
}
