//! SL201: a module-level mutable object changed, or a module global rebound, by code that a
//! request entry point reaches.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{
    Binding, FuncIdx, Mutation, MutationKind, Name, ParamUseKind, Root, Span, Value,
};
use crate::knowledge;
use crate::model::{GlobalWriteKind, Location, Model, Object, ObjectId, Origin, Through, Timing};
use crate::project::{FileId, FuncId, Project, Resolved};

use super::common::{self, SharedObject};
use super::{Context, Part, Rule, RuleMeta, sl109, sl110};

pub struct ModuleStateWrittenPerRequest;

static META: RuleMeta = RuleMeta {
    code: "SL201",
    name: "module-state-written-per-request",
    summary: "A module-level mutable object is changed, or a module global rebound, by code a request entry point reaches",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL201.md"),
};

/// The global a finding is about and the function that writes it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: FileId,
    function: FuncIdx,
    global_file: FileId,
    /// The module-level binding; `None` for a global that only functions bind.
    global: Option<u32>,
    name: String,
}

struct Group {
    name: String,
    /// The container type, or `None` for a rebound global.
    type_name: Option<String>,
    /// The parameter the global's object is changed through, when it is handed to the function.
    parameter: Option<Name>,
    sites: Vec<Span>,
}

impl Rule for ModuleStateWrittenPerRequest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        changes_per_request(context, Part::Told)
    }
}

/// The changes of module-level state in code requests reach: those of `part` (the adds of futures
/// kept only until they are done, for SL109; the functions that only take entries out, for SL110;
/// the others).
pub(super) fn changes_per_request(context: &Context<'_>, part: Part) -> Vec<Diagnostic> {
    {
        let project = context.project;
        if project.call_graph().entry_points().is_empty() {
            return Vec::new();
        }
        let mut per_request = PerRequest::default();
        let mut groups: BTreeMap<Key, Group> = BTreeMap::new();
        for write in context.model.global_writes(project) {
            if write.timing == Timing::OnceAtRunTime
                || !per_request.reached(project, write.file, write.function)
            {
                continue;
            }
            let facts = &project.file(write.file).facts;
            let (rebind, global_file, global) = match (write.kind, write.global) {
                (GlobalWriteKind::Rebind { index }, Some((global_file, global))) => {
                    (index, global_file, Some(global))
                }
                // `global user` then `user = ...` with no module-level binding: the function
                // creates the global.
                (GlobalWriteKind::Rebind { index }, None) => (index, write.file, None),
                (GlobalWriteKind::Mutation { index, leading }, Some((global_file, global))) => {
                    let mutation = &facts.mutations[index as usize];
                    // `d.setdefault(k, []).append(v)` starts where its memoisation does, but
                    // adds to the element on every call: an accumulation, not a cache.
                    if !mutation.nested
                        && facts
                            .memo_stores
                            .iter()
                            .any(|m| m.span.start == write.span.start)
                    {
                        continue;
                    }
                    let binding = &project.file(global_file).facts.globals[global as usize];
                    let Some((name, type_name)) = changed_global(
                        project,
                        context.model,
                        write.file,
                        mutation,
                        global_file,
                        binding,
                        leading as usize,
                    ) else {
                        continue;
                    };
                    let key = Key {
                        file: write.file,
                        function: write.function,
                        global_file,
                        global: Some(global),
                        name,
                    };
                    add(&mut groups, key, type_name, None, write.span);
                    continue;
                }
                _ => continue,
            };
            let key = Key {
                file: write.file,
                function: write.function,
                global_file,
                global,
                name: facts.global_rebinds[rebind as usize].name.to_string(),
            };
            add(&mut groups, key, None, None, write.span);
        }
        for (key, type_name, parameter, site) in
            changes_through_parameters(context, &mut per_request)
        {
            add(&mut groups, key, Some(type_name), Some(parameter), site);
        }
        // The globals some function changes per request other than by taking entries out, a
        // change this rule reports: only for those does a function that only takes entries out
        // go to SL110, the leak being told where the entries are put in.
        let told_elsewhere: BTreeSet<(FileId, Option<u32>, String)> = groups
            .iter()
            .filter(|(key, group)| {
                let facts = &project.file(key.file).facts;
                let told: Vec<Span> = group
                    .sites
                    .iter()
                    .copied()
                    .filter(|site| !facts.kept_until_done.contains(&site.start))
                    .collect();
                !told.is_empty() && !sl110::only_take_entries_out(facts, told)
            })
            .map(|(key, _)| (key.global_file, key.global, key.name.clone()))
            .collect();
        groups
            .into_iter()
            .filter_map(|(key, mut group)| {
                let facts = &project.file(key.file).facts;
                let kept = part == Part::KeptUntilDone;
                group
                    .sites
                    .retain(|site| facts.kept_until_done.contains(&site.start) == kept);
                let taken_out = !kept
                    && !group.sites.is_empty()
                    && sl110::only_take_entries_out(facts, group.sites.iter().copied())
                    && told_elsewhere.contains(&(key.global_file, key.global, key.name.clone()));
                (!group.sites.is_empty() && taken_out == (part == Part::TakenOut))
                    .then(|| report(project, &key, group, part))
            })
            .collect()
    }
}

fn add(
    groups: &mut BTreeMap<Key, Group>,
    key: Key,
    type_name: Option<String>,
    parameter: Option<Name>,
    site: Span,
) {
    let name = key.name.clone();
    let group = groups.entry(key).or_insert_with(|| Group {
        name,
        type_name: None,
        parameter: None,
        sites: Vec::new(),
    });
    if group.type_name.is_none() {
        group.type_name = type_name;
    }
    if group.parameter.is_none() {
        group.parameter = parameter;
    }
    if !group.sites.contains(&site) {
        group.sites.push(site);
    }
}

/// Changes that reach a module-level container through a parameter of the function making them,
/// the global having been handed to it (`_prepare(headers=TRACE_HEADERS)` then
/// `headers["Content-Type"] = ...`), in functions requests reach: the key, the container's type,
/// the parameter and the change.
fn changes_through_parameters(
    context: &Context<'_>,
    per_request: &mut PerRequest,
) -> Vec<(Key, String, Name, Span)> {
    let project = context.project;
    let model = context.model;
    let mut found = Vec::new();
    let mut handed_in_requests: HashMap<ObjectId, bool> = HashMap::new();
    for once in model.once_object_mutations(project) {
        let change = once.change;
        let (Through::Parameter, Timing::PerCall, Some(Location::Param(function, index))) =
            (change.through, change.timing, change.locations.first())
        else {
            continue;
        };
        let object = model.object(once.object);
        if object.origin != Origin::ModuleGlobal
            || !per_request.reached(project, change.file, change.function)
        {
            continue;
        }
        let Some((None, binding)) = model.binding_of(project, once.object) else {
            continue;
        };
        let Some(global) = project
            .file(object.file)
            .facts
            .globals
            .iter()
            .position(|b| b.span == binding.span)
        else {
            continue;
        };
        let shared = common::shared_object(project, object.file, &binding.value);
        let Some(shared @ SharedObject::Container(_)) = shared else {
            continue;
        };
        if !common::changes_shared_object(project, model, change.file, once.mutation, &shared, None)
        {
            continue;
        }
        if replaced_before(project, *function, *index, change.span) {
            continue;
        }
        let handed_per_request = *handed_in_requests
            .entry(once.object)
            .or_insert_with(|| handed_on_in_requests(project, model, per_request, object));
        if !handed_per_request {
            continue;
        }
        let parameter = project.function(*function).1.params[*index as usize].name;
        let key = Key {
            file: change.file,
            function: change.function,
            global_file: object.file,
            global: Some(global as u32),
            name: binding.name.to_string(),
        };
        found.push((key, shared.type_name().to_string(), parameter, change.span));
    }
    found
}

/// Whether code that requests reach may hand the module global's `object` to a function: a
/// call in such code passes it (or a module-level alias of it) as an argument, or it is copied
/// anywhere but into a parameter (a field, a return value, ...), from where it is not followed.
/// A global that only calls outside requests hand on (`clientside_callback(...)` that
/// applications call at import) is not what a request-reached callee gets, even when requests
/// reach that callee with other arguments.
fn handed_on_in_requests(
    project: &Project,
    model: &Model,
    per_request: &mut PerRequest,
    object: &Object,
) -> bool {
    let Some(home) = &object.home else {
        return true;
    };
    let mut aliases = vec![home];
    let mut seen = 0;
    while let Some(&location) = aliases.get(seen) {
        seen += 1;
        for flow in model.flows_leaving(location) {
            match &flow.to {
                Location::Global(..) => {
                    if !aliases.contains(&&flow.to) {
                        aliases.push(&flow.to);
                    }
                }
                Location::Param(..) => {
                    if project
                        .function_at(flow.file, flow.span.start)
                        .is_some_and(|caller| per_request.reached(project, flow.file, caller))
                    {
                        return true;
                    }
                }
                _ => return true,
            }
        }
    }
    false
}

/// Whether parameter `index` of `function` is bound to another object before `span` other than
/// under a test of it (`headers = dict(headers)` is a copy; `if not headers: headers = {}` keeps
/// a non-empty argument).
fn replaced_before(project: &Project, function: FuncId, index: u32, span: Span) -> bool {
    let (file, function) = project.function_in_file(function);
    let facts = &project.file(file).facts;
    facts.param_uses.iter().any(|used| {
        used.function == function
            && used.param == index
            && matches!(used.kind, ParamUseKind::Rebound)
            && used.span.start < span.start
            && !facts.tested_param_rebinds.contains(&used.span.start)
    })
}

pub(super) fn dotted(head: &str, attrs: &[crate::facts::Name]) -> String {
    let mut out = head.to_string();
    for attr in attrs {
        out.push('.');
        out.push_str(attr);
    }
    out
}

/// The name a finding gives the global `binding` (bound in `global_file`) that `mutation`
/// (in `file`) reaches after `leading` attributes, and the type of object it changes (`None`
/// when `+=` on an immutable value rebinds it): the global's own object when the whole target
/// leads to it, else the attribute of a well-known library's process-wide object (`app =
/// Flask(__name__)`, `session = requests.Session()`) that it changes: `app.config[k] = v`,
/// `session.headers.update(h)`, `app.state.user = u`.
fn changed_global(
    project: &Project,
    model: &Model,
    file: FileId,
    mutation: &Mutation,
    global_file: FileId,
    binding: &Binding,
    leading: usize,
) -> Option<(String, Option<String>)> {
    let attrs = &mutation.target.attrs;
    if leading < attrs.len() {
        let Root::Global(head) = &mutation.target.root else {
            return None;
        };
        if attrs.len() != 1 {
            return None;
        }
        let Value::Call { callee } = &binding.value else {
            return None;
        };
        let Resolved::External(qualified) = project.resolve(global_file, None, callee) else {
            return None;
        };
        if !knowledge::PROCESS_WIDE_LIBRARY_TYPES.contains(&qualified.as_str()) {
            return None;
        }
        let short = knowledge::last_segment(&qualified);
        return Some((head.to_string(), Some(format!("`{short}` object"))));
    }
    let type_name = match common::shared_object(project, global_file, &binding.value) {
        Some(object @ SharedObject::Container(_))
        | Some(object @ SharedObject::Object { class: None, .. }) => {
            if !common::changes_shared_object(project, model, file, mutation, &object, None) {
                return None;
            }
            Some(object.type_name().to_string())
        }
        // An instance of a project class: SL203.
        Some(SharedObject::Object { .. }) => return None,
        // `counter += 1` on an immutable value rebinds the global.
        None if matches!(mutation.kind, MutationKind::InPlaceOperator(_)) && attrs.is_empty() => {
            None
        }
        None => return None,
    };
    Some((binding.name.to_string(), type_name))
}

/// The module-level binding `dotted` denotes in `function` of `file`: `cache`, `store.cache`.
pub(super) fn module_global<'p>(
    project: &'p Project,
    file: FileId,
    function: FuncIdx,
    dotted: &str,
) -> Option<(FileId, u32, &'p Binding)> {
    match project.resolve(file, Some(function), dotted) {
        Resolved::Global(global_file, global) => {
            let binding = project
                .file(global_file)
                .facts
                .globals
                .get(global as usize)?;
            Some((global_file, global, binding))
        }
        _ => None,
    }
}

/// Remembers which functions requests reach.
#[derive(Default)]
pub(super) struct PerRequest {
    known: HashMap<(FileId, FuncIdx), bool>,
}

impl PerRequest {
    pub(super) fn reached(&mut self, project: &Project, file: FileId, function: FuncIdx) -> bool {
        *self
            .known
            .entry((file, function))
            .or_insert_with(|| project.request_path(file, function).is_some())
    }
}

fn report(project: &Project, key: &Key, group: Group, part: Part) -> Diagnostic {
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let binding = key
        .global
        .and_then(|g| project.file(key.global_file).facts.globals.get(g as usize));
    let mut sites = group.sites;
    sites.sort();
    let (message, label, note, help) = match &group.type_name {
        Some(type_name) => (
            match group.parameter {
                Some(parameter) => format!(
                    "`{}` is one {type_name} for the whole process; it is handed to `{}`, which \
                     requests reach and which changes it through its parameter `{parameter}`",
                    group.name, function.name
                ),
                None => format!(
                    "`{}` is one {type_name} for the whole process; `{}`, which requests reach, \
                     changes it",
                    group.name, function.name
                ),
            },
            // Through a parameter, the change reaches the global only on the calls that hand it
            // over, not on every call of the function.
            match group.parameter {
                Some(parameter) => format!(
                    "changed here through `{parameter}`, on each request that hands it `{}`",
                    group.name
                ),
                None => "changed here, on the requests that reach it".to_string(),
            },
            "every request this process serves sees what earlier requests left in it",
            "keep per-request data in locals, the request or session, or a store keyed by user; \
             if one process-wide object is intended, bound it and guard it with a lock",
        ),
        None => (
            format!(
                "`{}` is a module global; `{}`, which requests reach, rebinds it",
                group.name, function.name
            ),
            "rebound here, on the requests that reach it".to_string(),
            "the new value is what every later request (and every concurrent one) sees",
            "pass the value along as an argument or keep it on the request; use a `ContextVar` \
             for per-request context",
        ),
    };
    let mut related: Vec<Label> = binding
        .map(|binding| {
            Label::new(
                key.global_file,
                binding.span,
                "created once, when the module is imported",
            )
        })
        .into_iter()
        .collect();
    related.extend(
        sites[1..]
            .iter()
            .map(|site| Label::and_here(key.file, *site)),
    );
    let identity = vec![group.name, function.qualname.to_string()];
    match part {
        Part::KeptUntilDone => {
            return sl109::kept_until_done(message, Label::new(key.file, sites[0], label))
                .with_related(related)
                .with_identity(identity);
        }
        Part::TakenOut => {
            return sl110::entries_taken_out(message, Label::new(key.file, sites[0], label))
                .with_related(related)
                .with_identity(identity);
        }
        Part::Told => {}
    }
    META.diagnostic(message, Label::new(key.file, sites[0], label))
        .with_related(related)
        .with_note(note)
        .with_help(help)
        .with_identity(identity)
}
