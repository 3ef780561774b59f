//! SL501: a `threading.local()` object whose attributes are written by code that runs on an event
//! loop.

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{ArgPosition, CallReceiver, FlowSource, FuncIdx, Name, ParamUseKind, Span};
use crate::knowledge;
use crate::model::ThreadLocal;
use crate::project::{EdgeKind, FileId, FuncId, Project, Resolved};

use super::common;
use super::{Context, Rule, RuleMeta};

pub struct ThreadingLocalInAsync;

static META: RuleMeta = RuleMeta {
    code: "SL501",
    name: "threading-local-in-async",
    summary: "A `threading.local()` object is written by `async def` code: every coroutine on the loop thread shares it",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL501.md"),
};

impl Rule for ThreadingLocalInAsync {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let writes = context.model.thread_local_writes(project);
        if writes.is_empty() {
            return Vec::new();
        }
        let mut groups: BTreeMap<(FileId, FuncIdx, ThreadLocal), Vec<(Span, String)>> =
            BTreeMap::new();
        let mut coroutine_of: HashMap<(FileId, FuncIdx), FuncId> = HashMap::new();
        let runners = loop_functions(project);
        for write in writes {
            let function = project.function_id(write.file, write.function);
            let Some(coroutine) = runners[function.0 as usize] else {
                continue;
            };
            if common::in_test_code(project, write.file, write.function) {
                continue;
            }
            coroutine_of.insert((write.file, write.function), coroutine);
            groups
                .entry((write.file, write.function, write.object.clone()))
                .or_default()
                .push((write.span, write.written.clone()));
        }
        groups
            .into_iter()
            .map(|((file, function, object), mut sites)| {
                sites.sort_by_key(|s| s.0);
                sites.dedup_by_key(|s| s.0);
                let coroutine = coroutine_of[&(file, function)];
                report(project, file, function, coroutine, &object, &sites)
            })
            .collect()
    }
}

/// For each function of the project, the coroutine whose event loop runs it: itself when it is
/// `async def`, the coroutine around it when nested in one (unless it is only handed to a
/// thread, [`only_handed_to_threads`]), or a coroutine that calls it, directly or through other
/// functions, in any module (a `@contextmanager` helper, a classmethod, a method of a helper
/// object).
fn loop_functions(project: &Project) -> Vec<Option<FuncId>> {
    let executor_methods = ExecutorMethods::of(project);
    let mut coroutine: Vec<Option<FuncId>> = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, function) in source.facts.functions.iter().enumerate() {
            let id = project.function_id(file, index as FuncIdx);
            let around = function
                .parent
                .and_then(|p| coroutine[project.function_id(file, p).0 as usize])
                .filter(|_| {
                    !only_handed_to_threads(project, file, index as FuncIdx, &executor_methods)
                });
            coroutine.push(if function.is_async { Some(id) } else { around });
        }
    }
    let graph = project.call_graph();
    let mut queue: Vec<FuncId> = (0..coroutine.len() as u32)
        .map(FuncId)
        .filter(|f| coroutine[f.0 as usize].is_some())
        .collect();
    while let Some(caller) = queue.pop() {
        let origin = coroutine[caller.0 as usize];
        for edge in graph.callees(caller) {
            if !matches!(edge.kind, EdgeKind::Call | EdgeKind::SelfCall) {
                continue;
            }
            let callee = project.function(edge.to).1;
            let slot = &mut coroutine[edge.to.0 as usize];
            if !callee.is_async && slot.is_none() {
                *slot = origin;
                queue.push(edge.to);
            }
        }
    }
    coroutine
}

/// Calls that run the functions given to them on another thread, named as the tree resolves
/// them: a new thread, or the pool of threads `asyncio` runs blocking calls on.
const THREAD_STARTERS: &[&str] = &["threading.Thread", "threading.Timer", "asyncio.to_thread"];

/// Methods of executors that run the function given to them on a thread (or process) of their
/// own: `loop.run_in_executor(None, f)` (asyncio's default pool of threads) and
/// `executor.submit(f)` (`concurrent.futures`).
const EXECUTOR_METHODS: &[&str] = &["run_in_executor", "submit"];

/// Which of [`EXECUTOR_METHODS`] no function of the tree defines: a call of one of these on any
/// receiver is then the executor's, not code of the tree that might call its argument at once.
struct ExecutorMethods(Vec<&'static str>);

impl ExecutorMethods {
    fn of(project: &Project) -> ExecutorMethods {
        let defined = |method: &str| {
            project.files.iter().any(|source| {
                source
                    .facts
                    .functions
                    .iter()
                    .any(|f| f.name.as_str() == method)
            })
        };
        ExecutorMethods(
            EXECUTOR_METHODS
                .iter()
                .copied()
                .filter(|m| !defined(m))
                .collect(),
        )
    }
}

/// Whether the call at `call` of `file` runs what it is given on another thread:
/// `threading.Thread(target=f)`, `asyncio.to_thread(f)`, `loop.run_in_executor(None, f)`,
/// `executor.submit(f)` ([`THREAD_STARTERS`], [`EXECUTOR_METHODS`]).
fn starts_a_thread(
    project: &Project,
    file: FileId,
    call: u32,
    executor_methods: &ExecutorMethods,
) -> bool {
    let Some(site) = project.file(file).facts.calls.get(call as usize) else {
        return false;
    };
    if site.reference() {
        return false;
    }
    if site.receiver() == CallReceiver::Name
        && let Resolved::External(name) = project.resolve(file, site.function(), &site.callee)
        && THREAD_STARTERS.contains(&name.as_str())
    {
        return true;
    }
    let method = knowledge::last_segment(&site.callee);
    let on_a_receiver = method.len() < site.callee.len() || site.receiver() != CallReceiver::Name;
    on_a_receiver && executor_methods.0.contains(&method)
}

/// Whether the nested `function` of `file` is used only as an argument of calls that run it on
/// another thread ([`starts_a_thread`]): the function around it then does not run it, whatever
/// loop that one runs on (marimo's `start_kernel` hands `launch_kernel_with_cleanup` to
/// `threading.Thread(target=...)`). Not if it is decorated, returned, bound to another name,
/// stored in an attribute, called, or passed anywhere else. Uses are matched by name, so a
/// like-named local elsewhere in the file only makes this answer no.
fn only_handed_to_threads(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    executor_methods: &ExecutorMethods,
) -> bool {
    let facts = &project.file(file).facts;
    let nested = &facts.functions[function as usize];
    let mut handed = false;
    for site in facts.calls.iter() {
        if site.receiver() != CallReceiver::Local || site.callee != nested.name {
            continue;
        }
        let to_thread = site.reference()
            && site.argument_of.get().is_some_and(|call| {
                runs_on_a_thread(project, file, call, nested.name, executor_methods)
            });
        if !to_thread {
            return false;
        }
        handed = true;
    }
    handed
        && project.nested_function_only_passed(file, function, |call| {
            runs_on_a_thread(project, file, call, nested.name, executor_methods)
        })
}

/// Whether the call at `call` of `file` runs a function given to it on another thread: a call
/// that starts one ([`starts_a_thread`]), or a call of a function of the tree that hands every
/// parameter `name` goes to ([`parameter_only_handed_to_threads`]) only to such calls
/// (openai-agents' `self._run_ordered_turn_operation(_delete_sync)`, whose nested coroutine
/// awaits `asyncio.to_thread(worker, *args)`).
fn runs_on_a_thread(
    project: &Project,
    file: FileId,
    call: u32,
    name: Name,
    executor_methods: &ExecutorMethods,
) -> bool {
    if starts_a_thread(project, file, call, executor_methods) {
        return true;
    }
    let facts = &project.file(file).facts;
    let Some(site) = facts.calls.get(call as usize) else {
        return false;
    };
    let Some(caller) = site.function() else {
        return false;
    };
    if site.reference() {
        return false;
    }
    let self_name = facts.functions[project.outermost_function(file, caller) as usize]
        .params
        .first()
        .map(|p| p.name);
    let written = match (site.receiver(), self_name) {
        (CallReceiver::Name, _) => site.callee.to_string(),
        (CallReceiver::SelfParam, Some(receiver)) => format!("{receiver}.{}", site.callee),
        _ => return false,
    };
    let Some((callee, bound)) = common::resolve_callee(project, file, caller, &written) else {
        return false;
    };
    // Every position the name is given at in this call.
    let mut positions = facts
        .flows
        .iter()
        .filter(|flow| {
            matches!(flow.source(), FlowSource::Name { receiver: CallReceiver::Local, name: n } if n == name)
        })
        .filter_map(|flow| flow.target().argument())
        .filter(|(at, _)| *at == call)
        .peekable();
    if positions.peek().is_none() {
        return false;
    }
    let (callee_file, callee_facts) = project.function(callee);
    positions.all(|(_, position)| {
        let param = match position {
            ArgPosition::Index(i) => callee_facts.params.get(i as usize + usize::from(bound)),
            ArgPosition::Keyword(keyword) => callee_facts.params.iter().find(|p| p.name == keyword),
        };
        param.is_some_and(|param| {
            let (_, index) = project.function_in_file(callee);
            parameter_only_handed_to_threads(
                project,
                callee_file,
                index,
                param.name,
                executor_methods,
            )
        })
    })
}

/// Whether the parameter `name` of `function` (of `file`) is only handed to calls that start a
/// thread ([`starts_a_thread`]), in the function or in functions nested in it (a coroutine it
/// returns): never called (nor a method of it), returned, yielded, stored, bound to another
/// name, rebound or handed anywhere else. What the function is given there then runs on that
/// thread, not where the function runs.
fn parameter_only_handed_to_threads(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    name: Name,
    executor_methods: &ExecutorMethods,
) -> bool {
    let facts = &project.file(file).facts;
    let functions = &facts.functions;
    let inside = |f: Option<FuncIdx>| {
        let mut current = f;
        while let Some(c) = current {
            if c == function {
                return true;
            }
            current = functions[c as usize].parent;
        }
        false
    };
    let Some(param) = functions[function as usize]
        .params
        .iter()
        .position(|p| p.name == name)
    else {
        return false;
    };
    // Anything but handing it to a thread (a store, a return, a rebinding, a change, another
    // callee) keeps it.
    let to_a_thread = |callee: &str| {
        if let Resolved::External(name) = project.resolve(file, Some(function), callee)
            && THREAD_STARTERS.contains(&name.as_str())
        {
            return true;
        }
        let method = knowledge::last_segment(callee);
        method.len() < callee.len() && executor_methods.0.contains(&method)
    };
    if facts.param_uses.iter().any(|u| {
        u.function == function
            && u.param == param as u32
            && !matches!(&u.kind, ParamUseKind::Passed { callee, .. } if to_a_thread(callee))
    }) {
        return false;
    }
    let called = facts.calls.iter().any(|site| {
        inside(site.function())
            && site.receiver() == CallReceiver::Local
            && (site.callee == name
                || site
                    .callee
                    .strip_prefix(name.as_str())
                    .is_some_and(|rest| rest.starts_with('.')))
    });
    if called {
        return false;
    }
    let mut handed = false;
    for flow in facts.flows.iter() {
        if !inside(flow.function()) {
            continue;
        }
        let FlowSource::Name {
            receiver: CallReceiver::Local,
            name: read,
        } = flow.source()
        else {
            continue;
        };
        if read != name {
            continue;
        }
        match flow.target().argument() {
            Some((call, _)) if starts_a_thread(project, file, call, executor_methods) => {
                handed = true;
            }
            _ => return false,
        }
    }
    handed
}

fn report(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    coroutine: FuncId,
    object: &ThreadLocal,
    sites: &[(Span, String)],
) -> Diagnostic {
    let functions = &project.file(file).facts.functions;
    let facts = &functions[function as usize];
    let (runner_file, runner) = project.function(coroutine);
    let mut inside = false;
    let mut parent = facts.parent;
    while let Some(p) = parent {
        inside |= project.function_id(file, p) == coroutine;
        parent = functions[p as usize].parent;
    }
    let how = if facts.is_async {
        format!("coroutine `{}`", facts.name)
    } else if inside {
        format!("`{}`, inside coroutine `{}`,", facts.name, runner.name)
    } else {
        format!("`{}`, called from coroutine `{}`,", facts.name, runner.name)
    };
    let message = format!(
        "`{}` is a `threading.local`, but {how} writes `{}`: every coroutine on the event loop's thread shares it",
        object.name, sites[0].1
    );
    let mut related = vec![Label::new(
        object.file,
        object.span,
        "one value per thread, not per request or task",
    )];
    if coroutine != project.function_id(file, function) {
        related.push(Label::new(
            runner_file,
            runner.span,
            "runs on the event loop",
        ));
    }
    related.extend(
        sites[1..]
            .iter()
            .map(|(span, _)| Label::and_here(file, *span)),
    );
    META.diagnostic(
        message,
        Label::new(file, sites[0].0, "written here, on the event loop's thread"),
    )
    .with_related(related)
    .with_note(
        "an event loop runs many requests on one thread, switching at every `await`: what \
         one request writes here is read by whichever request runs next",
    )
    .with_help(
        "use a `contextvars.ContextVar` (each task runs in its own context), or \
         `asgiref.local.Local`",
    )
    .with_identity(vec![facts.qualname.to_string(), object.name.clone()])
}
