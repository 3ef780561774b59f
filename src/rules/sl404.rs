//! SL404: a cached function reads module-level state that per-call code changes.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{CallReceiver, FuncIdx, MutationKind, Name, Span};
use crate::knowledge;
use crate::model::{GlobalId, GlobalWriteKind, Model, binding_read_in};
use crate::project::{EdgeKind, FileId, FuncId, Project, Resolved};

use super::common;
use super::{Context, Rule, RuleMeta};

pub struct CacheOverMutableGlobal;

static META: RuleMeta = RuleMeta {
    code: "SL404",
    name: "cache-over-mutable-global",
    summary: "An `lru_cache`/`cache` function reads module-level state that code changes at run time: the cache serves stale results",
    severity: Severity::Warning,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL404.md"),
};

struct Change {
    file: FileId,
    function: FuncIdx,
    span: Span,
    /// The global is bound to another object.
    rebinds: bool,
    /// The module whose name of the global is bound to another object
    /// ([`crate::model::GlobalWrite::binds_name_in`]); `None` when the object changes.
    binds_name_in: Option<FileId>,
    /// `G += v`: the object changes in place when it can.
    in_place: bool,
    /// The attribute of the global that changes (`G.attr = v`, `G.attr.append(x)`); `None` when
    /// the global itself is rebound or changed in place.
    attr: Option<Name>,
}

/// What a cached function reads of one global: the attributes it reads from it.
#[derive(Default)]
struct Reads {
    attrs: HashSet<Name>,
    /// The function of the tree whose returned global it reads, when it reads none itself:
    /// `get_current_config().level` reads the global `get_current_config` returns.
    through: Option<FuncId>,
    /// Whether the cached function reads the global by its name (or module) too.
    direct: bool,
    /// The modules whose name of the global it reads ([`binding_read_in`]): its own, holding a
    /// copy taken by `from M import G`, is not `M`'s.
    names_in: Vec<FileId>,
}

impl Reads {
    fn reads_name_in(&mut self, module: FileId) {
        if !self.names_in.contains(&module) {
            self.names_in.push(module);
        }
    }
}

/// A `cache_clear()` of a cached function made by a generator after its first `yield` (a
/// context manager's exit): changes the generator made before it yielded are not cleared while
/// the caller's block runs.
struct ClearOnExit {
    file: FileId,
    function: FuncIdx,
    first_yield: u32,
}

/// How the tree clears a cached function's cache.
enum Cleared {
    /// Somewhere outside a generator's exit: the project manages the cache.
    Managed,
    /// Only on context managers' exits.
    OnExit(Vec<ClearOnExit>),
}

impl Rule for CacheOverMutableGlobal {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        // cached function -> (its decorator, globals it reads).
        let mut reads: BTreeMap<FuncId, (Span, BTreeMap<GlobalId, Reads>)> = BTreeMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for (function, read) in &file.facts.cached_global_reads {
                // `settings.TIMEZONE` through an imported module is that module's global;
                // otherwise `G.attr` is attribute `attr` of global `G`.
                let (resolved, attr, name) = match project.resolve(file_id, Some(*function), read) {
                    global @ Resolved::Global(..) => (global, None, read.as_str()),
                    _ => match read.split_once('.') {
                        Some((name, attr)) => (
                            project.resolve(file_id, Some(*function), name),
                            Some(attr),
                            name,
                        ),
                        None => (Resolved::Unknown, None, read.as_str()),
                    },
                };
                let Resolved::Global(global_file, index) = resolved else {
                    continue;
                };
                let Some(decorator) = common::cache_decorator(project, file_id, *function) else {
                    continue;
                };
                let entry = reads
                    .entry(project.function_id(file_id, *function))
                    .or_insert_with(|| (decorator.span, BTreeMap::new()))
                    .1
                    .entry((global_file, index))
                    .or_default();
                entry.direct = true;
                entry.reads_name_in(binding_read_in(project, file_id, Some(*function), name));
                if let Some(attr) = attr {
                    entry.attrs.insert(attr.into());
                }
            }
            add_returned_global_reads(project, file_id, &mut reads);
        }
        if reads.is_empty() {
            return Vec::new();
        }
        let cleared = cleared_caches(project);
        reads.retain(|f, _| !matches!(cleared.get(f), Some(Cleared::Managed)));
        let mut wanted: HashSet<GlobalId> = reads
            .values()
            .flat_map(|(_, g)| g.keys().copied())
            .collect();
        // What the set-ups that may add nothing read: whether code changes it at run time.
        wanted.extend(fill_input_globals(project));
        let (changes, writers) = changes_of(project, context.model, &wanted);

        let mut findings = Vec::new();
        for (cached, (decorator, globals)) in &reads {
            let (cached_file, cached_index) = project.function_in_file(*cached);
            for (global, read) in globals {
                let Some(list) = changes.get(global) else {
                    continue;
                };
                let binding = &project.file(global.0).facts.globals[global.1 as usize];
                let container = common::mutable_type(project, global.0, &binding.value);
                let on_exit: &[ClearOnExit] = match cleared.get(cached) {
                    Some(Cleared::OnExit(clears)) => clears,
                    _ => &[],
                };
                let list: Vec<&Change> = list
                    .iter()
                    .filter(|c| !(c.file == cached_file && c.function == cached_index))
                    // A generator that clears on exit leaves what it changed before yielding
                    // uncleared; changes elsewhere count as managed.
                    .filter(|c| {
                        on_exit.is_empty()
                            || on_exit.iter().any(|clear| {
                                clear.file == c.file
                                    && clear.function == c.function
                                    && c.span.start < clear.first_yield
                            })
                    })
                    // Binding a name other than the one the function reads (the source module's
                    // global when the function's module took its own copy by `from M import G`)
                    // leaves the object it reads.
                    .filter(|c| match c.binds_name_in {
                        Some(module) if !read.names_in.contains(&module) => {
                            c.in_place && container.is_some()
                        }
                        _ => true,
                    })
                    .filter(|c| match &c.attr {
                        // The global itself: rebound, or a container changed in place.
                        None => c.rebinds || container.is_some(),
                        // An attribute: only one the cached function reads (or any part of a
                        // container, which has no attributes of its own).
                        Some(attr) => container.is_some() || read.attrs.contains(attr),
                    })
                    .collect();
                if list.is_empty()
                    || filled_once_before_read(
                        project,
                        *cached,
                        *global,
                        writers.get(global),
                        &changes,
                    )
                {
                    continue;
                }
                let through = read.through.filter(|_| !read.direct);
                findings.push(report(
                    project,
                    *cached,
                    *decorator,
                    (*global, through),
                    &list,
                ));
            }
        }
        findings
    }
}

/// Cached functions whose `cache_clear()` some code calls, and how: a clear outside a
/// generator's exit means the project resets the cache itself.
fn cleared_caches(project: &Project) -> HashMap<FuncId, Cleared> {
    let mut cleared: HashMap<FuncId, Cleared> = HashMap::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        let facts = &file.facts;
        for (index, (function, callee)) in facts.cache_clears.iter().enumerate() {
            let Some((f, _)) = common::resolve_callee(project, file_id, *function, callee) else {
                continue;
            };
            let on_exit = facts
                .cache_clears_after_yield
                .iter()
                .find(|(i, _)| *i == index as u32)
                .map(|&(_, first_yield)| ClearOnExit {
                    file: file_id,
                    function: *function,
                    first_yield,
                });
            match (
                cleared.entry(f).or_insert(Cleared::OnExit(Vec::new())),
                on_exit,
            ) {
                (Cleared::OnExit(clears), Some(clear)) => clears.push(clear),
                (entry, None) => *entry = Cleared::Managed,
                (Cleared::Managed, Some(_)) => {}
            }
        }
    }
    cleared
}

/// Globals the cached functions of `file` read through a call: a function of the tree that
/// returns a module global by name (`return _current_config`) hands the caller that global.
fn add_returned_global_reads(
    project: &Project,
    file: FileId,
    reads: &mut BTreeMap<FuncId, (Span, BTreeMap<GlobalId, Reads>)>,
) {
    let facts = &project.file(file).facts;
    // The functions the extractor saw return under a cache-like decorator, each resolved once.
    let mut candidates: Vec<FuncIdx> = facts.cached_returns.iter().map(|r| r.function).collect();
    candidates.sort_unstable();
    candidates.dedup();
    let cached: Vec<(FuncIdx, Span)> = candidates
        .into_iter()
        .filter_map(|f| common::cache_decorator(project, file, f).map(|d| (f, d.span)))
        .collect();
    if cached.is_empty() {
        return;
    }
    for site in &facts.calls {
        let Some(function) = site.function() else {
            continue;
        };
        if site.reference() || site.receiver() != CallReceiver::Name {
            continue;
        }
        let Ok(found) = cached.binary_search_by_key(&function, |(f, _)| *f) else {
            continue;
        };
        let decorator = cached[found].1;
        let Some((callee, _)) = common::resolve_callee(project, file, function, &site.callee)
        else {
            continue;
        };
        let (callee_file, callee_facts) = project.function(callee);
        let (_, callee_index) = project.function_in_file(callee);
        for name in &callee_facts.returned_names {
            if let Resolved::Global(global_file, index) =
                project.resolve(callee_file, Some(callee_index), name)
            {
                let read = reads
                    .entry(project.function_id(file, function))
                    .or_insert_with(|| (decorator, BTreeMap::new()))
                    .1
                    .entry((global_file, index))
                    .or_default();
                read.through.get_or_insert(callee);
                read.reads_name_in(binding_read_in(
                    project,
                    callee_file,
                    Some(callee_index),
                    name,
                ));
            }
        }
    }
}

/// The functions that change a global, each by its file and index.
type Writers = HashSet<(FileId, FuncIdx)>;

/// Per-call changes of the wanted globals: `global G; G = ...`, `G[k] = v`, `G.append(x)`,
/// `G.attr = v`, `module.G = v`.
/// Also the functions that change each of them at any time (import time and start-up included).
fn changes_of(
    project: &Project,
    model: &Model,
    wanted: &HashSet<GlobalId>,
) -> (HashMap<GlobalId, Vec<Change>>, HashMap<GlobalId, Writers>) {
    let mut changes: HashMap<GlobalId, Vec<Change>> = HashMap::new();
    let mut writers: HashMap<GlobalId, Writers> = HashMap::new();
    let mut callers: Option<HashMap<FuncId, Vec<(FuncId, EdgeKind)>>> = None;
    for write in model.global_writes(project) {
        let Some(global) = write.global.filter(|g| wanted.contains(g)) else {
            continue;
        };
        let facts = &project.file(write.file).facts;
        let binds_name_in = write.binds_name_in(project);
        let mut in_place = false;
        let (rebinds, attr) = match write.kind {
            GlobalWriteKind::Rebind { .. } | GlobalWriteKind::ModuleAttributeRebind { .. } => {
                (true, None)
            }
            GlobalWriteKind::Mutation { index, leading } => {
                let mutation = &facts.mutations[index as usize];
                let kind_changes = match &mutation.kind {
                    // Through a local alias, `+=` may rebind the local only.
                    MutationKind::InPlaceOperator(_) => mutation.alias.is_none(),
                    MutationKind::MutatingCall(callee) => project.resolves_to_any(
                        write.file,
                        Some(mutation.function),
                        callee,
                        knowledge::MUTATING_FUNCTIONS,
                    ),
                    _ => true,
                };
                if !kind_changes {
                    continue;
                }
                in_place = matches!(mutation.kind, MutationKind::InPlaceOperator(_));
                // `global G; G += 1` rebinds G when G is immutable.
                let rebinds = matches!(mutation.kind, MutationKind::InPlaceOperator(_))
                    && mutation.target.attrs.is_empty();
                let changed_attr = match &mutation.kind {
                    MutationKind::AttributeAssign(a) | MutationKind::AttributeDelete(a)
                        if !mutation.nested =>
                    {
                        Some(a)
                    }
                    _ => None,
                };
                let attr = mutation.target.attrs.get(leading as usize).or(changed_attr);
                (rebinds, attr.cloned())
            }
            // `G.x = v` changes G (or `G.a.x = v` its attribute `a`).
            GlobalWriteKind::AttributeStore { index, leading } => {
                let assignment = &facts.attribute_assignments[index as usize];
                let attrs = &assignment.object.attrs;
                let attr = attrs
                    .get(leading as usize)
                    .or((leading as usize == attrs.len()).then_some(&assignment.attr));
                (false, attr.cloned())
            }
        };
        writers
            .entry(global)
            .or_default()
            .insert((write.file, write.function));
        if common::runs_per_call(project, write.file, write.function)
            && !common::in_test_code(project, write.file, write.function)
            && !runs_only_at_import(project, &mut callers, global.0, write.file, write.function)
        {
            changes.entry(global).or_default().push(Change {
                file: write.file,
                function: write.function,
                span: write.span,
                rebinds,
                binds_name_in,
                in_place,
                attr,
            });
        }
    }
    for list in changes.values_mut() {
        list.sort_by_key(|c| (c.file, c.span));
    }
    (changes, writers)
}

/// Whether `function` of `file`, which changes a global of `module`, runs only while `module`
/// is imported, before anything could read the global: both are module-level functions of
/// `module` (no method, no nested function); every call of it the call graph sees is a plain call
/// by a set-up function of that module, and nothing passes it on (no reference to it is an
/// argument, so it is never registered to run later), and no other module's top-level code calls
/// it; each set-up function is one that only the
/// module's own top-level code uses ([`crate::project::CallGraph::import_time_only`]), by plain
/// calls only (never passed on, `atexit.register(setup)`), and before its first such call the
/// module's top-level code calls no function or class of the module (which could reach a
/// cached function before the fill). No request reaches either. A function of another module
/// that reads the global imports `module` first, so the fill comes before its reads (sglang's
/// `register_configs`, called only by `_register_configs()`, the module's last statement).
fn runs_only_at_import(
    project: &Project,
    callers: &mut Option<HashMap<FuncId, Vec<(FuncId, EdgeKind)>>>,
    module: FileId,
    file: FileId,
    function: FuncIdx,
) -> bool {
    let graph = project.call_graph();
    let top_level = |file: FileId, f: FuncIdx| {
        let facts = &project.file(file).facts.functions[f as usize];
        facts.parent.is_none() && facts.class.is_none()
    };
    if file != module || !top_level(file, function) {
        return false;
    }
    let id = project.function_id(file, function);
    if graph.is_per_request(id)
        || passed_on(project, id)
        || used_at_top_level_elsewhere(project, module, id)
    {
        return false;
    }
    let callers = callers.get_or_insert_with(|| {
        let mut map: HashMap<FuncId, Vec<(FuncId, EdgeKind)>> = HashMap::new();
        for from in 0..project.function_count() {
            let from = FuncId(from as u32);
            for edge in graph.callees(from) {
                map.entry(edge.to).or_default().push((from, edge.kind));
            }
        }
        map
    });
    let Some(list) = callers.get(&id).filter(|l| !l.is_empty()) else {
        return false;
    };
    list.iter().all(|&(caller, kind)| {
        let (caller_file, caller_index) = project.function_in_file(caller);
        kind == EdgeKind::Call
            && caller != id
            && caller_file == module
            && top_level(caller_file, caller_index)
            && graph.import_time_only(caller)
            && !graph.is_per_request(caller)
            && !passed_on(project, caller)
            && called_at_import_first(project, module, caller)
    })
}

/// Whether the top-level code of a module other than `module` calls or passes `function`.
fn used_at_top_level_elsewhere(project: &Project, module: FileId, function: FuncId) -> bool {
    let name = project.function(function).1.name;
    project.files.iter().enumerate().any(|(file, source)| {
        file as FileId != module
            && source.facts.calls.iter().any(|call| {
                call.function().is_none()
                    && knowledge::last_segment(&call.callee) == name.as_str()
                    && matches!(
                        project.resolve(file as FileId, None, &call.callee),
                        Resolved::Function(f) if f == function
                    )
            })
    })
}

/// Whether some reference to `function` passes it on as an argument (`submit(fn)`), wherever
/// it is (a reference whose name does not resolve counts when its last part is the function's
/// name).
fn passed_on(project: &Project, function: FuncId) -> bool {
    let name = project.function(function).1.name;
    project.files.iter().enumerate().any(|(file, source)| {
        source.facts.calls.iter().any(|call| {
            call.reference()
                && knowledge::last_segment(&call.callee) == name.as_str()
                && match project.resolve(file as FileId, call.function(), &call.callee) {
                    Resolved::Function(found) => found == function,
                    Resolved::Unknown => true,
                    _ => false,
                }
        })
    })
}

/// Whether the top-level code of `module` calls `setup` by name, and calls no function or class
/// of `module` before its first such call; the top-level code of no other module calls it.
fn called_at_import_first(project: &Project, module: FileId, setup: FuncId) -> bool {
    if used_at_top_level_elsewhere(project, module, setup) {
        return false;
    }
    let calls = &project.file(module).facts.calls;
    let top_level = |call: &&crate::facts::CallSite| {
        call.function().is_none() && !call.reference() && call.receiver() == CallReceiver::Name
    };
    let Some(first) = calls
        .iter()
        .filter(top_level)
        .filter(|call| {
            matches!(project.resolve(module, None, &call.callee), Resolved::Function(f) if f == setup)
        })
        .map(|call| call.span.start)
        .min()
    else {
        return false;
    };
    !calls
        .iter()
        .filter(top_level)
        .filter(|call| call.span.start < first)
        .any(|call| match project.resolve(module, None, &call.callee) {
            Resolved::Function(f) => project.function_in_file(f).0 == module,
            Resolved::Class(c) => project.class(c).0 == module,
            _ => false,
        })
}

/// Whether the cached function reads `global` only once a run-once set-up has filled it for
/// good: the one function that changes the global anywhere is a set-up that returns at once
/// while the global is set and leaves it set (`if _REGISTRY: return` before filling it), and the
/// cached function calls it as a statement of its own body before anything there reads the
/// global (or could: a module, or a function of the tree, named before the call). The first
/// call fills the global before it reads it, and nothing changes it afterwards: no cached result
/// comes from an older value. A set-up whose fill may add nothing counts when nothing it reads
/// changes at run time ([`fill_reads_nothing_changing`]): every run then adds what the first did.
fn filled_once_before_read(
    project: &Project,
    cached: FuncId,
    global: GlobalId,
    writers: Option<&Writers>,
    changes: &HashMap<GlobalId, Vec<Change>>,
) -> bool {
    let Some(writers) = writers else {
        return false;
    };
    let mut writers = writers.iter();
    let (Some(&(setup_file, setup_index)), None) = (writers.next(), writers.next()) else {
        return false;
    };
    let guards_global = project
        .file(setup_file)
        .facts
        .run_once_setups
        .iter()
        .any(|s| {
            s.function == setup_index
                && matches!(
                    project.resolve(setup_file, Some(setup_index), &s.global),
                    Resolved::Global(f, i) if (f, i) == global
                )
                && s.fill_inputs.as_ref().is_none_or(|inputs| {
                    fill_reads_nothing_changing(project, setup_file, setup_index, inputs, changes)
                })
        });
    if !guards_global {
        return false;
    }
    let setup = project.function_id(setup_file, setup_index);
    let (cached_file, cached_index) = project.function_in_file(cached);
    project
        .file(cached_file)
        .facts
        .set_up_calls
        .iter()
        .filter(|c| c.function == cached_index)
        .any(|call| {
            common::resolve_callee(project, cached_file, cached_index, &call.callee)
                .is_some_and(|(f, _)| f == setup)
                && call.names_before.iter().all(|name| {
                    match project.resolve(cached_file, Some(cached_index), name) {
                        Resolved::Global(f, i) => (f, i) != global,
                        Resolved::Module(_) => false,
                        Resolved::Function(f) => f == setup,
                        _ => true,
                    }
                })
        })
}

/// The module globals that run-once set-ups whose fill may add nothing read
/// ([`crate::facts::RunOnceSetup::fill_inputs`]).
fn fill_input_globals(project: &Project) -> Vec<GlobalId> {
    let mut globals = Vec::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        for setup in &file.facts.run_once_setups {
            for name in setup.fill_inputs.iter().flatten() {
                if let Resolved::Global(f, i) = project.resolve(file_id, Some(setup.function), name)
                {
                    globals.push((f, i));
                }
            }
        }
    }
    globals
}

/// Whether every name a set-up's fill reads (`inputs`, [`crate::facts::RunOnceSetup::fill_inputs`])
/// gives the same on every run: a module global that no per-call code changes (`changes`), a
/// class, or something outside the tree that does not stand for the current request (a library
/// module, a builtin). A function of the tree (what it returns may differ from call to call) and
/// a module of the tree (its globals are read through it) do not count.
fn fill_reads_nothing_changing(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    inputs: &[Name],
    changes: &HashMap<GlobalId, Vec<Change>>,
) -> bool {
    inputs
        .iter()
        .all(|name| match project.resolve(file, Some(function), name) {
            Resolved::Global(f, i) => !changes.contains_key(&(f, i)),
            Resolved::Class(_) | Resolved::Unknown => true,
            Resolved::External(qualified) => !knowledge::REQUEST_GLOBALS.iter().any(|request| {
                qualified
                    .strip_prefix(request)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with('.'))
            }),
            Resolved::Function(_) | Resolved::Module(_) => false,
        })
}

fn report(
    project: &Project,
    cached: FuncId,
    decorator: Span,
    (global, through): (GlobalId, Option<FuncId>),
    changes: &[&Change],
) -> Diagnostic {
    let (cached_file, cached_facts) = project.function(cached);
    let binding = &project.file(global.0).facts.globals[global.1 as usize];
    let name = &binding.name;
    let first = changes[0];
    let changer = &project.file(first.file).facts.functions[first.function as usize];
    let verb = if first.rebinds { "rebinds" } else { "changes" };
    let how = through.map_or(String::new(), |f| {
        format!("`{}` returns and ", project.function(f).1.name)
    });
    let mut related = vec![
        Label::new(
            cached_file,
            decorator,
            format!("results cached by arguments only; `{name}` is not part of the key"),
        ),
        Label::new(
            cached_file,
            cached_facts.span,
            match through {
                Some(f) => format!("reads `{name}` through `{}`", project.function(f).1.name),
                None => format!("reads `{name}`"),
            },
        ),
        Label::new(global.0, binding.span, "module-level state"),
    ];
    related.extend(
        changes[1..]
            .iter()
            .map(|change| Label::and_here(change.file, change.span)),
    );
    META.diagnostic(
        format!(
            "`{}` is cached but reads `{name}`, which {how}`{}` {verb} at run time: the cache \
             keeps serving results computed from the old value",
            cached_facts.name, changer.name
        ),
        Label::new(
            first.file,
            first.span,
            format!(
                "`{name}` {} here; cached results of `{}` still come from the old value",
                if first.rebinds { "rebound" } else { "changed" },
                cached_facts.name
            ),
        ),
    )
    .with_related(related)
    .with_note(
        "the cache is keyed on the arguments alone: after the module state changes, calls \
         with arguments seen before still return what was computed from the old state",
    )
    .with_help(format!(
        "pass `{name}` (or the part that matters) as an argument, call `{}.cache_clear()` \
         where it changes, or drop the cache",
        cached_facts.name
    ))
    .with_identity(vec![cached_facts.qualname.to_string(), name.to_string()])
}
