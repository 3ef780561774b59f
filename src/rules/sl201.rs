//! SL201: a module-level mutable object changed, or a module global rebound, by code that a
//! request entry point reaches.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{
    Binding, FileFacts, FuncIdx, Mutation, MutationKind, Name, ParamUseKind, Root, Span, Value,
};
use crate::knowledge;
use crate::model::{
    GlobalId, GlobalWrite, GlobalWriteKind, Location, Model, Object, ObjectId, Origin, Through,
    Timing,
};
use crate::project::{FileId, FuncId, Project, Resolved};

use super::common::{self, SharedObject};
use super::{Context, Part, Rule, RuleMeta, sharing_meant, sl109, sl110};

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
    /// For a change through a parameter: a function requests reach that hands the global over,
    /// then the functions it is passed on to down to the changing one (`Diagnostic::via`).
    via: Vec<FuncId>,
    /// Whether the function also changes the global by its name: then any path to it will do.
    by_name: bool,
    sites: Vec<Span>,
    /// The sites that apply an augmented assignment to a local name bound to the global
    /// (`names = NAMES; names |= {x}`), with where the local was bound and the operator: on a
    /// value not known to be a container, that rebinds the local, or changes the value in place
    /// if it is a mutable container; it never rebinds the global.
    through_local: Vec<(Span, Span, Name)>,
    /// Whether some function binds the name the group's function binds (`global G; G = v` in
    /// its module, `module.G = v` elsewhere) other than by a first-time binding from its call's
    /// data ([`first_call_parameter`]): then a first caller's value may not be the one later
    /// calls find.
    rebound_otherwise: bool,
}

impl Rule for ModuleStateWrittenPerRequest {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let findings = changes_per_request(context, Part::Told);
        sharing_meant::leave_meant(context.project, findings)
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
        // Each global with the modules whose name of it some write binds: a module that took
        // the global by `from M import G` holds a name of its own, and `M.G = v` binds `M`'s.
        let rebound_otherwise: HashSet<(GlobalId, FileId)> = context
            .model
            .global_writes(project)
            .iter()
            .filter(|write| {
                !matches!(write.kind, GlobalWriteKind::Rebind { .. })
                    || first_call_parameter(&project.file(write.file).facts, write.span).is_none()
            })
            .filter_map(|write| Some((write.global?, write.binds_name_in(project)?)))
            .collect();
        for write in context.model.global_writes(project) {
            let facts = &project.file(write.file).facts;
            // A first-time binding runs once, unless it fixes the global with the data of the
            // call that happens to come first.
            if (write.timing == Timing::OnceAtRunTime
                && first_call_parameter(facts, write.span).is_none())
                || !per_request.reached(project, write.file, write.function)
            {
                continue;
            }
            let (rebind, global_file, global) = match (write.kind, write.global) {
                (GlobalWriteKind::Rebind { .. }, Some(global))
                    if never_runs(project, context.model, write, global) =>
                {
                    continue;
                }
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
                    let through_local = match (&type_name, mutation.alias, &mutation.kind) {
                        (None, Some(alias), MutationKind::InPlaceOperator(op)) => {
                            Some((alias, *op))
                        }
                        _ => None,
                    };
                    // `local += x` on an int, a string or a frozenset binds a new object to the
                    // local alone, when the local holds nothing else.
                    if through_local.is_some()
                        && facts.sole_alias_operators.contains(&mutation.span.start)
                        && common::global_always_immutable(project, global_file, &binding.name)
                        && (write.file == global_file
                            || matches!(&mutation.target.root, Root::Global(read)
                                if common::import_kept(project, write.file, read)))
                    {
                        continue;
                    }
                    add(&mut groups, key, type_name, None, write.span, through_local);
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
            add(&mut groups, key, None, None, write.span, None);
        }
        for (key, type_name, handed, site) in changes_through_parameters(context, &mut per_request)
        {
            add(&mut groups, key, Some(type_name), Some(handed), site, None);
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
                // The first-time binding binds the writing module's name.
                group.rebound_otherwise = key.global.is_some_and(|global| {
                    rebound_otherwise.contains(&((key.global_file, global), key.file))
                });
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

/// A rebind under `if not isinstance(G, T):` that makes a new `T` from `G` alone, where every
/// binding of `G` the analysis sees is a new `T` (the rebind's own included): the test never
/// holds, so no request runs it. (After a binding not seen, it would run once and leave `G` a
/// `T`, keeping nothing of the request.)
fn never_runs(project: &Project, model: &Model, write: &GlobalWrite, global: GlobalId) -> bool {
    project
        .file(write.file)
        .facts
        .type_normalisations
        .iter()
        .find(|(start, _)| *start == write.span.start)
        .is_some_and(|(_, type_name)| model.global_always_new(project, global, type_name))
}

/// `handed`: for a change through a parameter, the parameter and how requests hand the global
/// to it (`Group::via`). `through_local`: for an augmented assignment to a local name bound to
/// the global, where it was bound and the operator (`Group::through_local`).
fn add(
    groups: &mut BTreeMap<Key, Group>,
    key: Key,
    type_name: Option<String>,
    handed: Option<Handed>,
    site: Span,
    through_local: Option<(Span, Name)>,
) {
    let name = key.name.clone();
    let group = groups.entry(key).or_insert_with(|| Group {
        name,
        type_name: None,
        parameter: None,
        via: Vec::new(),
        by_name: false,
        sites: Vec::new(),
        through_local: Vec::new(),
        rebound_otherwise: false,
    });
    if group.type_name.is_none() {
        group.type_name = type_name;
    }
    match handed {
        Some((parameter, via)) => {
            if group.parameter.is_none() {
                group.parameter = Some(parameter);
                group.via = via;
            }
        }
        None => group.by_name = true,
    }
    if !group.sites.contains(&site) {
        group.sites.push(site);
        if let Some((alias, op)) = through_local {
            group.through_local.push((site, alias, op));
        }
    }
}

/// A parameter a module global is handed to, and the calls that hand it over on a request.
type Handed = (Name, Vec<FuncId>);

/// A parameter with the length of the request path that hands the global to it and the calls
/// at its end.
type Chain = (usize, (FuncId, u32), Vec<FuncId>);

/// Changes that reach a module-level container through a parameter of the function making them,
/// the global having been handed to it (`_prepare(headers=TRACE_HEADERS)` then
/// `headers["Content-Type"] = ...`), in functions requests reach: the key, the container's type,
/// the parameter with the calls that hand the global to it on a request, and the change.
fn changes_through_parameters(
    context: &Context<'_>,
    per_request: &mut PerRequest,
) -> Vec<(Key, String, Handed, Span)> {
    let project = context.project;
    let model = context.model;
    let mut found = Vec::new();
    let mut handed_in_requests: HashMap<ObjectId, HashMap<(FuncId, u32), Vec<FuncId>>> =
        HashMap::new();
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
        let chains = handed_in_requests
            .entry(once.object)
            .or_insert_with(|| calls_handing_on_in_requests(project, model, per_request, object));
        // No request hands the global to this parameter: the change never reaches it on one.
        let Some(via) = chains.get(&(*function, *index)) else {
            continue;
        };
        let parameter = project.function(*function).1.params[*index as usize].name;
        let key = Key {
            file: change.file,
            function: change.function,
            global_file: object.file,
            global: Some(global as u32),
            name: binding.name.to_string(),
        };
        found.push((
            key,
            shared.type_name().to_string(),
            (parameter, via.clone()),
            change.span,
        ));
    }
    found
}

/// By parameter, the shortest chain of calls along which a request hands the module global's
/// `object` to it: a function requests reach that passes the global (or where it is kept: a
/// module-level alias, a field, ...) as an argument, or the parameter's own default, then the
/// functions that pass it on from parameter to parameter. A parameter that gets the global only
/// from calls no request makes is left out: a global that only calls outside requests hand on
/// (`clientside_callback(...)` that applications call at import) is not what a request-reached
/// callee gets, even when requests reach that callee with other arguments. The chains are the
/// calls of `Diagnostic::via`: the request path shown ends with them.
fn calls_handing_on_in_requests(
    project: &Project,
    model: &Model,
    per_request: &mut PerRequest,
    object: &Object,
) -> HashMap<(FuncId, u32), Vec<FuncId>> {
    let mut chains = HashMap::new();
    let Some(home) = &object.home else {
        return chains;
    };
    // Every place the object may get to, by any flow.
    let mut places = vec![home];
    let mut known: HashSet<&Location> = HashSet::from([home]);
    let mut seen = 0;
    while let Some(&place) = places.get(seen) {
        seen += 1;
        for flow in model.flows_leaving(place) {
            if known.insert(&flow.to) {
                places.push(&flow.to);
            }
        }
    }
    // Where a request picks the object up and hands it to a parameter, and from which function;
    // a parameter passed on by its own function continues a chain instead.
    let mut starts: Vec<Chain> = Vec::new();
    for place in &places {
        for flow in model.flows_leaving(place) {
            let Location::Param(callee, position) = flow.to else {
                continue;
            };
            // `def fill(target=DEFAULTS)`: every call that leaves the argument out hands it over.
            if project.function(callee).1.params[position as usize].span == flow.span {
                let (file, function) = project.function_in_file(callee);
                if let Some(depth) = per_request.depth(project, file, function) {
                    starts.push((depth, (callee, position), vec![callee]));
                }
                continue;
            }
            let Some(caller) = project.function_at(flow.file, flow.span.start) else {
                continue;
            };
            let caller_id = project.function_id(flow.file, caller);
            if matches!(place, Location::Param(owner, _) if *owner == caller_id) {
                continue;
            }
            if let Some(depth) = per_request.depth(project, flow.file, caller) {
                starts.push((depth + 1, (callee, position), vec![caller_id, callee]));
            }
        }
    }
    // Shortest first: a start or a chain continued one call further.
    let mut queue: BinaryHeap<Reverse<Chain>> = starts.into_iter().map(Reverse).collect();
    while let Some(Reverse((length, (function, position), chain))) = queue.pop() {
        if chains.contains_key(&(function, position)) {
            continue;
        }
        for flow in model.flows_leaving(&Location::Param(function, position)) {
            let Location::Param(callee, to) = flow.to else {
                continue;
            };
            let passed_by_owner = project
                .function_at(flow.file, flow.span.start)
                .is_some_and(|caller| project.function_id(flow.file, caller) == function);
            if passed_by_owner && !chains.contains_key(&(callee, to)) {
                let mut longer = chain.clone();
                longer.push(callee);
                queue.push(Reverse((length + 1, (callee, to), longer)));
            }
        }
        chains.insert((function, position), chain);
    }
    chains
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

/// Remembers which functions requests reach, and in how many calls.
#[derive(Default)]
pub(super) struct PerRequest {
    known: HashMap<(FileId, FuncIdx), Option<usize>>,
}

impl PerRequest {
    pub(super) fn reached(&mut self, project: &Project, file: FileId, function: FuncIdx) -> bool {
        self.depth(project, file, function).is_some()
    }

    /// How many functions the shortest request path to `function` has, when one reaches it.
    pub(super) fn depth(
        &mut self,
        project: &Project,
        file: FileId,
        function: FuncIdx,
    ) -> Option<usize> {
        *self
            .known
            .entry((file, function))
            .or_insert_with(|| project.request_path(file, function).map(|path| path.len()))
    }
}

/// The parameter whose data the first-time binding at `site` fixes the global with
/// ([`crate::facts::FileFacts::first_call_data_inits`]).
fn first_call_parameter(facts: &FileFacts, site: Span) -> Option<Name> {
    facts
        .first_call_data_inits
        .iter()
        .find(|(start, _)| *start == site.start)
        .map(|(_, parameter)| *parameter)
}

fn report(project: &Project, key: &Key, group: Group, part: Part) -> Diagnostic {
    let facts = &project.file(key.file).facts;
    let function = &facts.functions[key.function as usize];
    let binding = key
        .global
        .and_then(|g| project.file(key.global_file).facts.globals.get(g as usize));
    let mut sites = group.sites;
    sites.sort();
    // A function that also changes the global by its name does so on every path to it.
    let via = if group.by_name { Vec::new() } else { group.via };
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
        // Only through a local name: the global itself is never rebound.
        None if group.through_local.len() == sites.len() => {
            let mut operators: Vec<String> = Vec::new();
            for (_, _, op) in &group.through_local {
                let op = format!("`{op}`");
                if !operators.contains(&op) {
                    operators.push(op);
                }
            }
            (
                format!(
                    "`{}` is a module global; `{}`, which requests reach, applies {} to its value \
                     through a local name, which changes that value in place if it is a mutable \
                     container",
                    group.name,
                    function.name,
                    operators.join(" and ")
                ),
                "applied here to the local name, on the requests that reach it".to_string(),
                "on a list, set or dict this changes the global's one object, which every later \
                 request sees; on an immutable value only the local name is rebound",
                "build a new value (`local = local | extra`) instead of changing the global's in \
                 place",
            )
        }
        // Every site a first-time binding from the call's data.
        None if let Some(parameter) = sites
            .iter()
            .map(|site| first_call_parameter(facts, *site))
            .collect::<Option<Vec<Name>>>()
            .and_then(|parameters| parameters.first().copied()) =>
        {
            (
                format!(
                    "`{}` is a module global; `{}`, which requests reach, binds it on the first \
                     call that finds it unset, to a value made from that call's `{parameter}`{}",
                    group.name,
                    function.name,
                    if group.rebound_otherwise {
                        ""
                    } else {
                        ": every later call keeps the first caller's value"
                    }
                ),
                format!("bound here once, from the first request's `{parameter}`"),
                "a later request that finds it set skips this binding and uses the value it finds",
                "compute the value per call, or keep one value per input (a cache keyed by \
                 everything the value is made from)",
            )
        }
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
    for (_, alias, _) in &group.through_local {
        if !related
            .iter()
            .any(|l| l.file == key.file && l.span == *alias)
        {
            related.push(Label::new(
                key.file,
                *alias,
                "the local name is bound to the global's value here",
            ));
        }
    }
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
                .with_identity(identity)
                .with_via(via);
        }
        Part::TakenOut => {
            return sl110::entries_taken_out(message, Label::new(key.file, sites[0], label))
                .with_related(related)
                .with_identity(identity)
                .with_via(via);
        }
        Part::Told => {}
    }
    META.diagnostic(message, Label::new(key.file, sites[0], label))
        .with_related(related)
        .with_note(note)
        .with_help(help)
        .with_identity(identity)
        .with_via(via)
}
