//! What requests give a function's parameters: whether a test of a parameter (`if invalidate:`,
//! `if tid is not None:`) fails on every call from a request, followed back along the calls
//! per-request code makes (false literals, defaults that fail, parameters handed on unchanged).
//! A change made only under such a test is not a request's (motioneye's
//! `close_all(invalidate=False)`, called by requests only through `stop()`).

use std::collections::HashSet;

use crate::facts::{CallReceiver, FuncIdx, Given, ParamUseKind, Tested, Value};
use crate::knowledge;
use crate::project::{EdgeKind, FileId, FuncId, Project};

use super::lookup::resolve_callee;

/// Whether the change starting at `start` in `function` of `file` (one recorded in
/// [`crate::facts::FileFacts::param_guarded`]: SL103's class-attribute stores) runs only under a test of one
/// of the function's parameters (`if invalidate:`, `if tid is not None:`) that every call on
/// every chain of calls from a request entry point fails: a request never makes it.
pub fn skipped_on_every_request(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    start: u32,
) -> bool {
    project
        .file(file)
        .facts
        .param_guarded
        .iter()
        .filter(|guard| guard.start == start)
        .any(|guard| {
            let Tested::Param { index, .. } = guard.tested else {
                return false;
            };
            guard_fails_on_every_request(
                project,
                project.function_id(file, function),
                index,
                guard.truth,
            )
        })
}

/// Whether every call of `function` on every chain of calls from a request entry point gives its
/// parameter `param` a value that fails a test of its truth (`truth`) or that it is not `None`:
/// what the function does only under that test, no request does.
pub fn guard_fails_on_every_request(
    project: &Project,
    function: FuncId,
    param: u32,
    truth: bool,
) -> bool {
    !request_may_pass(project, function, param, truth)
}

/// Whether a request may call `function` with its parameter `param` passing a test of its truth
/// (`truth`) or that it is not `None`: it is an entry point itself, or is reached other than by
/// calls this can read, or one of the calls that reach it from per-request code passes a value
/// that may pass, or hands on a parameter of its own that a request may call it with passing.
fn request_may_pass(project: &Project, function: FuncId, param: u32, truth: bool) -> bool {
    let graph = project.call_graph();
    let mut seen = HashSet::new();
    let mut pending = vec![(function, param)];
    while let Some((callee, param)) = pending.pop() {
        if !seen.insert((callee, param)) {
            continue;
        }
        if !graph.is_per_request(callee) || graph.entry_kind(callee).is_some() {
            return true;
        }
        let mut called = false;
        for caller in (0..project.function_count() as u32).map(FuncId) {
            let mut edges = graph.callees(caller).iter().filter(|e| e.to == callee);
            let Some(first) = edges.next() else {
                continue;
            };
            if !graph.is_per_request(caller) || runs_only_on_a_later_event(project, caller) {
                continue;
            }
            called = true;
            // A callback or a decorator is called by code that is not here, with values not
            // known.
            let by_call = |kind| {
                matches!(
                    kind,
                    EdgeKind::Call
                        | EdgeKind::SelfCall
                        | EdgeKind::Constructor
                        | EdgeKind::FirstTime
                )
            };
            if !by_call(first.kind) || edges.any(|e| !by_call(e.kind)) {
                return true;
            }
            match handed_on(project, caller, callee, param, truth) {
                Some(params) => pending.extend(params.into_iter().map(|p| (caller, p))),
                None => return true,
            }
        }
        if !called {
            return true;
        }
    }
    false
}

/// What the calls of `callee` written in `caller` give its parameter `param`, when each gives a
/// value that fails the test (a false literal; `None` for a test that it is not `None`), leaves
/// it to a default that fails, or hands on a parameter of `caller` that `caller` never binds
/// again: those parameters. `None` when a call may give a value that passes, or when no call
/// written in `caller` is known to be of `callee` (the graph's edge came another way).
fn handed_on(
    project: &Project,
    caller: FuncId,
    callee: FuncId,
    param: u32,
    truth: bool,
) -> Option<Vec<u32>> {
    let (file, caller_index) = project.function_in_file(caller);
    let facts = &project.file(file).facts;
    let (callee_file, callee_facts) = project.function(callee);
    let tested = callee_facts.params.get(param as usize)?;
    let fails = |none: bool| truth || none;
    let default_fails = project
        .file(callee_file)
        .facts
        .false_defaults
        .contains(&tested.span.start)
        && fails(tested.default == Some(Value::None));
    let mut found = false;
    let mut params = Vec::new();
    for (index, bound) in sites_of(project, caller, callee, false) {
        found = true;
        let arguments = facts.call_arguments.iter().find(|a| a.call == index)?;
        if arguments.splat {
            return None;
        }
        let mut given = Vec::new();
        if let Some(position) = (param as usize).checked_sub(usize::from(bound)) {
            given.extend(arguments.positional.get(position).copied());
        }
        match arguments
            .keywords
            .iter()
            .find(|(name, _)| *name == tested.name)
        {
            Some((_, value)) => given.push(*value),
            // Left out (or given by position, when the parameter takes one).
            None if default_fails => {}
            None => return None,
        }
        for value in given {
            match value {
                Given::False { none } if fails(none) => {}
                Given::Parameter(own)
                    if !facts.param_uses.iter().any(|u| {
                        u.function == caller_index
                            && u.param == own
                            && matches!(u.kind, ParamUseKind::Rebound)
                    }) =>
                {
                    params.push(own);
                }
                _ => return None,
            }
        }
    }
    found.then_some(params)
}

/// The calls of `callee` written in `caller` (or, with `references`, the places that name it
/// without calling it, as `self.on_close` in `set_close_callback(self.on_close)`), as indices in
/// the file's calls, with whether the name binds the callee's first parameter (`self.m`).
fn sites_of(
    project: &Project,
    caller: FuncId,
    callee: FuncId,
    references: bool,
) -> Vec<(u32, bool)> {
    let (file, caller_index) = project.function_in_file(caller);
    let facts = &project.file(file).facts;
    let self_name = facts.functions[project.outermost_function(file, caller_index) as usize]
        .params
        .first()
        .map(|p| p.name);
    let mut sites = Vec::new();
    for (index, site) in facts.calls.iter().enumerate() {
        if site.function() != Some(caller_index) || site.reference() != references {
            continue;
        }
        let written = match (site.receiver(), self_name) {
            // A name of the module, or one the function imports itself.
            (CallReceiver::Name | CallReceiver::Local, _) => site.callee.to_string(),
            (CallReceiver::SelfParam, Some(name)) => format!("{name}.{}", site.callee),
            _ => continue,
        };
        if let Some((target, bound)) = resolve_callee(project, file, caller_index, &written)
            && target == callee
        {
            sites.push((index as u32, bound));
        }
    }
    sites
}

/// Whether per-request code reaches `function` only by handing it to a method that runs it on a
/// later event of its object ([`knowledge::LATER_EVENT_REGISTRATIONS`]): motionEye's
/// `self.set_close_callback(self.on_close)` in `MjpgClient.__init__`. The stream's loop runs it
/// when the stream closes, not the request that built the stream, so what it passes on is no
/// request's value. An entry point, or a function any per-request code calls or hands on
/// otherwise, is not.
fn runs_only_on_a_later_event(project: &Project, function: FuncId) -> bool {
    let graph = project.call_graph();
    if graph.entry_kind(function).is_some() {
        return false;
    }
    let mut registered = false;
    for caller in (0..project.function_count() as u32).map(FuncId) {
        let mut edges = graph.callees(caller).iter().filter(|e| e.to == function);
        let Some(first) = edges.next() else {
            continue;
        };
        if !graph.is_per_request(caller) {
            continue;
        }
        if first.kind != EdgeKind::Callback || edges.any(|e| e.kind != EdgeKind::Callback) {
            return false;
        }
        let (file, _) = project.function_in_file(caller);
        let calls = &project.file(file).facts.calls;
        let handed = sites_of(project, caller, function, true);
        let only_registered = handed.iter().all(|&(index, _)| {
            calls[index as usize]
                .argument_of
                .get()
                .and_then(|parent| calls.get(parent as usize))
                .is_some_and(|parent| {
                    knowledge::LATER_EVENT_REGISTRATIONS
                        .contains(&knowledge::last_segment(&parent.callee))
                })
        });
        if handed.is_empty() || !only_registered {
            return false;
        }
        registered = true;
    }
    registered
}
