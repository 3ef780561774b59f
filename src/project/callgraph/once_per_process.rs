//! Functions whose body the process runs at most once, whoever calls them: a function cached
//! without parameters, and a function that only runs as a new process's set-up (a fork's child
//! hook, a process pool's worker initializer).

use rustc_hash::FxHashMap as HashMap;
use rustc_hash::FxHashSet as HashSet;

use crate::facts::{ArgPosition, CallReceiver, FlowSource, FuncIdx};

use super::{Caller, Edge, EdgeKind};
use crate::project::{FileId, FuncId, Project, Resolved};

/// The functions, one flag each, whose body runs at most once per process whoever calls them:
///
/// - a function with no parameters at all, defined at module level or in a class body outside
///   any function, whose innermost decorator is `functools.cache` or `functools.lru_cache`
///   keeping its results (below it only `staticmethod`): every call goes through the one cache
///   of its one key, so the body runs until a call returns. Only when nothing in the project may
///   clear that cache or reach the function under it (`cache_clear`, `__wrapped__`,
///   `unwrap`, [`crate::facts::FileFacts::cache_bypasses`]): one such read whose object is not a
///   name resolved outside a function's locals keeps every cached function per call;
/// - a function that every edge into reaches as the argument of `os.register_at_fork`'s
///   `after_in_child` or of a process pool's `initializer` (`concurrent.futures`'s
///   `ProcessPoolExecutor`, `multiprocessing`'s `Pool`): it runs
///   once in each new process, before that process does anything else. `before` and
///   `after_in_parent` run in the forking process on every fork, and a thread pool's
///   initializer once per thread of every pool: neither counts.
///
/// `edges` are every file's edges, by file, as the build found them.
pub(super) fn functions(project: &Project, edges: &[Vec<(Caller, Edge)>]) -> Vec<bool> {
    let mut once = vec![false; project.functions.len()];
    mark_cached(project, &mut once);
    mark_process_set_up(project, edges, &mut once);
    once
}

fn mark_cached(project: &Project, once: &mut [bool]) {
    let mut candidates = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        for (index, function) in facts.functions.iter().enumerate() {
            if function.decorators.is_empty()
                || !function.params.is_empty()
                || function.parent.is_some()
                || function
                    .class
                    .is_some_and(|c| facts.classes[c as usize].in_function)
            {
                continue;
            }
            // Decorators apply from the last written up: the cache must be the first applied,
            // or come right after `staticmethod`, so that nothing below it holds the bare
            // function (a registration decorator under the cache would run it uncached).
            let resolves =
                |name: &str, wanted: &[&str]| project.resolves_to_any(file, None, name, wanted);
            let Some(cache) = function
                .decorators
                .iter()
                .rposition(|d| resolves(&d.name, crate::knowledge::CACHE_DECORATORS))
            else {
                continue;
            };
            if function.decorators[cache].keeps_results
                && function.decorators[cache + 1..]
                    .iter()
                    .all(|d| resolves(&d.name, &["builtins.staticmethod"]))
            {
                candidates.push(project.function_id(file, index as FuncIdx));
            }
        }
    }
    if candidates.is_empty() {
        return;
    }
    let mut bypassed: HashSet<FuncId> = HashSet::default();
    for (file, source) in project.files.iter().enumerate() {
        for bypass in &source.facts.cache_bypasses {
            let Some(receiver) = &bypass.receiver else {
                return;
            };
            match project.resolve(file as FileId, bypass.function, receiver) {
                Resolved::Function(f) => {
                    bypassed.insert(f);
                }
                // Not a function of the tree: a library's, a class, a module.
                Resolved::External(_) | Resolved::Class(_) | Resolved::Module(_) => {}
                // A variable may hold any function.
                Resolved::Global(..) | Resolved::Unknown => return,
            }
        }
    }
    for function in candidates {
        if !bypassed.contains(&function) {
            once[function.0 as usize] = true;
        }
    }
}

/// Which caller an edge comes from, module-level code of a file counting as one.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum From {
    Function(FuncId),
    ModuleOf(FileId),
}

fn mark_process_set_up(project: &Project, edges: &[Vec<(Caller, Edge)>], once: &mut [bool]) {
    // How many times each caller hands each function over as a new process's set-up.
    let mut handed: HashMap<(From, FuncId), u32> = HashMap::default();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        for flow in &facts.flows {
            let FlowSource::Name {
                receiver: CallReceiver::Name,
                name,
            } = &flow.source
            else {
                continue;
            };
            let Some((call, position)) = flow.target.argument() else {
                continue;
            };
            let Some(site) = facts.calls.get(call as usize) else {
                continue;
            };
            if !sets_up_a_process(project, file, site, position) {
                continue;
            }
            let Resolved::Function(function) = project.resolve(file, flow.function, name) else {
                continue;
            };
            let from = match flow.function {
                Some(f) => From::Function(project.function_id(file, f)),
                None => From::ModuleOf(file),
            };
            *handed.entry((from, function)).or_default() += 1;
        }
    }
    if handed.is_empty() {
        return;
    }
    let mut candidates: HashMap<FuncId, bool> = handed
        .keys()
        .map(|(_, function)| (*function, true))
        .collect();
    for (file, file_edges) in edges.iter().enumerate() {
        for (caller, edge) in file_edges {
            let Some(fine) = candidates.get_mut(&edge.to) else {
                continue;
            };
            let from = match caller {
                Caller::Function(f) => From::Function(*f),
                Caller::Module | Caller::Script => From::ModuleOf(file as FileId),
            };
            // Each edge into the function must be one of the hand-overs: anything else may
            // run it in this process, on any call.
            match handed.get_mut(&(from, edge.to)) {
                Some(left) if *left > 0 && edge.kind == EdgeKind::Callback => *left -= 1,
                _ => *fine = false,
            }
        }
    }
    for (function, fine) in candidates {
        if fine {
            once[function.0 as usize] = true;
        }
    }
}

/// Whether the argument at `position` of the call `site` in `file` is a function that runs in a
/// new process before it does anything else.
fn sets_up_a_process(
    project: &Project,
    file: FileId,
    site: &crate::facts::CallSite,
    position: ArgPosition,
) -> bool {
    let keyword =
        |wanted: &str| matches!(position, ArgPosition::Keyword(k) if k.as_str() == wanted);
    let initializer_at =
        |index: u32| keyword("initializer") || position == ArgPosition::Index(index);
    if site.receiver != CallReceiver::Name {
        return false;
    }
    let Resolved::External(q) = project.resolve(file, site.function, &site.callee) else {
        return false;
    };
    match q.as_str() {
        "os.register_at_fork" | "posix.register_at_fork" => keyword("after_in_child"),
        "concurrent.futures.ProcessPoolExecutor"
        | "concurrent.futures.process.ProcessPoolExecutor" => initializer_at(2),
        "multiprocessing.Pool" | "multiprocessing.pool.Pool" => initializer_at(1),
        _ => false,
    }
}
