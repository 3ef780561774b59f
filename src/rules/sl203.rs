//! SL203: an instance created at module level whose state per-request code writes, through its
//! methods or from outside.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;

use crate::call_names::NameFilter;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{AccessPath, FileFacts, FuncIdx, Mutation, Name, Root, Span, Tested};
use crate::knowledge;
use crate::model::{
    Model, ObjectId, Origin, Singleton, SingletonNames, SingletonWriteSite, Through, Timing,
    attribute_fails_for_good, data_descriptor_setter, singleton_names_key,
};
use crate::project::entry_points::{ASGI_APPLICATION, WSGI_APPLICATION};
use crate::project::{ClassId, EdgeKind, FileId, FuncId, Project, Resolved};

use super::common;
use super::sl201::PerRequest;
use super::{Context, Part, Rule, RuleMeta, sharing_meant, sl109, sl110};

pub struct SingletonStateWrittenPerCall;

static META: RuleMeta = RuleMeta {
    code: "SL203",
    name: "singleton-state-written-per-call",
    summary: "An object created at module level has its attributes or containers written by code a request entry point reaches",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL203.md"),
};

/// The singleton a finding is about and the function that writes it.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    singleton: Singleton,
    file: FileId,
    function: FuncIdx,
}

struct Group {
    /// What is written, as written (`self.user_id`, `service.cache`), and where, in the order
    /// found; a site is split off (SL109) with what it writes.
    writes: Vec<(String, Span)>,
    /// Whether the writes are in a method of the object (rather than code using it from outside).
    through_method: bool,
    /// For writes in a method: a function requests reach that calls a method on this object,
    /// then the methods called through `self` down to the writing one (`Diagnostic::via`).
    via: Vec<FuncId>,
}

impl Rule for SingletonStateWrittenPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let findings = singleton_writes(context, Part::Told);
        sharing_meant::leave_meant(context.project, findings)
    }
}

/// The writes of module-level objects' state in code requests reach: those of `part` (the adds of
/// futures kept only until they are done, for SL109; the functions that only take entries out,
/// for SL110; the others).
pub(super) fn singleton_writes(context: &Context<'_>, part: Part) -> Vec<Diagnostic> {
    let kept = part == Part::KeptUntilDone;
    let project = context.project;
    if project.call_graph().entry_points().is_empty() {
        return Vec::new();
    }
    let singletons: Vec<Singleton> = context
        .model
        .singletons(project)
        .iter()
        .copied()
        .filter(|s| {
            common::has_mutable_instances(project, s.class)
                && !project.inherits_external(s.class, knowledge::THREAD_LOCAL_TYPES)
                && !is_proxy(project, s.class)
        })
        .collect();
    if singletons.is_empty() {
        return Vec::new();
    }
    let names: HashSet<&str> = singletons.iter().map(|s| s.name(project)).collect();
    let filter = NameFilter::of(names.iter().copied());
    let names_key = singleton_names_key(&names);
    let candidates: HashSet<Singleton> = singletons.iter().copied().collect();
    let by_global: HashMap<(FileId, u32), Singleton> = singletons
        .iter()
        .map(|s| ((s.file, s.global), *s))
        .collect();
    let mut groups: BTreeMap<Key, Group> = BTreeMap::new();

    // Methods run on a singleton by per-request code, with the function that calls each,
    // found file by file in parallel and merged in file order.
    let per_file: Vec<Vec<(Singleton, FuncId, FuncId)>> = project
        .files
        .par_iter()
        .enumerate()
        .map(|(file_id, file)| {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            let calls = facts.kept_singleton_calls.get_or_find(names_key, || {
                let mentioned = SingletonNames::of_file(facts, &names, &filter);
                (0..facts.calls.len())
                    .filter(|&index| {
                        let site = &facts.calls[index];
                        site.function().is_some()
                            && !site.reference()
                            && site.receiver() == crate::facts::CallReceiver::Name
                            && mentioned.mentioned_by_call(facts, index)
                    })
                    .map(|index| index as u32)
                    .collect()
            });
            let mut per_request = PerRequest::default();
            let mut found = Vec::new();
            for &index in calls.iter() {
                let site = &facts.calls[index as usize];
                let Some(function) = site.function() else {
                    continue;
                };
                let Some((object, method)) = site.callee.rsplit_once('.') else {
                    continue;
                };
                let Resolved::Global(global_file, global) =
                    project.resolve(file_id, Some(function), object)
                else {
                    continue;
                };
                let Some(singleton) = by_global.get(&(global_file, global)) else {
                    continue;
                };
                if !per_request.reached(project, file_id, function) {
                    continue;
                }
                if let Some(method) = project.lookup_method(singleton.class, method) {
                    found.push((*singleton, method, project.function_id(file_id, function)));
                }
            }
            found
        })
        .collect();
    // Each method with the function requests reach soonest of those that call it on the
    // singleton (the first in file order of the nearest), and how many calls it takes to get
    // there; the application's `__call__` is called by the server itself.
    let mut methods_run: BTreeMap<Singleton, Vec<EntryMethod>> = BTreeMap::new();
    for singleton in &singletons {
        if let Some(call) = application_call(project, singleton.class) {
            methods_run
                .entry(*singleton)
                .or_default()
                .push(EntryMethod {
                    method: call,
                    caller: None,
                    depth: 0,
                });
        }
    }
    for (singleton, method, caller) in per_file.into_iter().flatten() {
        let (file, function) = project.function_in_file(caller);
        let depth = project
            .request_path(file, function)
            .map_or(usize::MAX, |path| path.len());
        let list = methods_run.entry(singleton).or_default();
        match list.iter_mut().find(|e| e.method == method) {
            Some(known) if known.depth > depth => {
                known.caller = Some(caller);
                known.depth = depth;
            }
            Some(_) => {}
            None => list.push(EntryMethod {
                method,
                caller: Some(caller),
                depth,
            }),
        }
    }
    let mut per_request = PerRequest::default();
    // What code outside writes into a singleton through its name.
    for write in context.model.singleton_writes(project) {
        let singleton = write.singleton;
        if !candidates.contains(&singleton) {
            continue;
        }
        let facts = &project.file(write.file).facts;
        let (written, span) = match write.site {
            SingletonWriteSite::Assignment(index) => {
                let assignment = &facts.attribute_assignments[index as usize];
                let Root::Global(head) = &assignment.object.root else {
                    continue;
                };
                // A data descriptor's `__set__` runs instead: the object gets no attribute.
                if facts.lazy_inits.contains(&assignment.span.start)
                    || data_descriptor_setter(project, singleton.class, &assignment.attr).is_some()
                {
                    continue;
                }
                (format!("{head}.{}", assignment.attr), assignment.span)
            }
            SingletonWriteSite::Mutation(index) => {
                let mutation = &facts.mutations[index as usize];
                let (Root::Global(head), [attr]) =
                    (&mutation.target.root, mutation.target.attrs.as_slice())
                else {
                    continue;
                };
                if is_memo_store(facts, mutation) || facts.lazy_inits.contains(&mutation.span.start)
                {
                    continue;
                }
                let changes = common::instance_attribute_container(project, singleton.class, attr)
                    .is_some_and(|type_name| {
                        common::changes_container(project, write.file, mutation, &type_name)
                    });
                if !changes {
                    continue;
                }
                (format!("{head}.{attr}"), mutation.span)
            }
        };
        if per_request.reached(project, write.file, write.function) {
            add(
                &mut groups,
                Key {
                    singleton,
                    file: write.file,
                    function: write.function,
                },
                written,
                span,
                None,
            );
        }
    }

    let mut stored_once: HashMap<(ClassId, Name), bool> = HashMap::default();
    for (singleton, entry_methods) in methods_run {
        for (method, via) in methods_on(project, singleton.class, &entry_methods) {
            writes_in_method(
                context,
                singleton,
                method,
                &via,
                &mut stored_once,
                &mut groups,
            );
        }
    }
    // Every site, split off or not: a site SL109 tells is not an import-time field's either.
    let told: HashSet<(FileId, u32)> = groups
        .iter()
        .flat_map(|(key, group)| group.writes.iter().map(|(_, s)| (key.file, s.start)))
        .collect();
    // What of each object some function changes per call other than by taking entries out, a
    // change this rule reports: only for those does a function that only takes entries out go
    // to SL110, the leak being told where the entries are put in.
    let told_elsewhere: HashSet<(Singleton, &str)> = groups
        .iter()
        .filter(|(key, group)| {
            let facts = &project.file(key.file).facts;
            let sites: Vec<Span> = group
                .writes
                .iter()
                .map(|(_, site)| *site)
                .filter(|site| !facts.kept_until_done.contains(&site.start))
                .collect();
            !sites.is_empty() && !sl110::only_take_entries_out(facts, sites)
        })
        .flat_map(|(key, group)| {
            group
                .writes
                .iter()
                .map(|(written, _)| (key.singleton, attribute_written(written)))
        })
        .collect();
    let put_in_elsewhere: Vec<bool> = groups
        .iter()
        .map(|(key, group)| {
            group.writes.iter().all(|(written, _)| {
                told_elsewhere.contains(&(key.singleton, attribute_written(written)))
            })
        })
        .collect();
    let mut found: Vec<Diagnostic> = groups
        .into_iter()
        .zip(put_in_elsewhere)
        .filter_map(|((key, mut group), put_in_elsewhere)| {
            let facts = &project.file(key.file).facts;
            group
                .writes
                .retain(|(_, site)| facts.kept_until_done.contains(&site.start) == kept);
            (!group.writes.is_empty()
                && (put_in_elsewhere
                    && taken_out(facts, part, group.writes.iter().map(|(_, site)| *site)))
                    == (part == Part::TakenOut))
                .then(|| report(project, &key, group, part))
        })
        .collect();
    found.extend(import_time_fields(context, &told, &mut per_request, part));
    found
}

/// `via`: for a write in a method of the object, how requests come to run it (`Group::via`).
fn add(
    groups: &mut BTreeMap<Key, Group>,
    key: Key,
    written: String,
    site: Span,
    via: Option<&[FuncId]>,
) {
    let group = groups.entry(key).or_insert_with(|| Group {
        writes: Vec::new(),
        through_method: via.is_some(),
        via: via.map(<[FuncId]>::to_vec).unwrap_or_default(),
    });
    let write = (written, site);
    if !group.writes.contains(&write) {
        group.writes.push(write);
    }
}

/// The `__call__` that instances of `class` find, when it is a WSGI or ASGI application's: the
/// server calls the application object it was given on every request, and that object is
/// created once, at module level, where the server's `module:attribute` names it.
fn application_call(project: &Project, class: ClassId) -> Option<FuncId> {
    let call = project.lookup_method(class, "__call__")?;
    project
        .call_graph()
        .entry_points()
        .iter()
        .any(|entry| {
            entry.function == call
                && [WSGI_APPLICATION, ASGI_APPLICATION].contains(&entry.kind.as_str())
        })
        .then_some(call)
}

/// A class that routes attribute access elsewhere (`__getattr__`, `__setattr__`): a proxy such
/// as werkzeug's `LocalProxy` stores nothing on itself.
fn is_proxy(project: &Project, class: ClassId) -> bool {
    ["__setattr__", "__getattr__", "__getattribute__"]
        .iter()
        .any(|name| project.lookup_method(class, name).is_some())
}

/// A method per-request code calls on a singleton.
struct EntryMethod {
    method: FuncId,
    /// The function that calls it on the singleton; `None` for the application's `__call__`.
    caller: Option<FuncId>,
    /// How many calls from an entry point to `caller` (0 without one).
    depth: usize,
}

/// The methods that run on an instance of exactly `class` once `entry_methods` are called on it:
/// the methods they call through `self`, transitively. Each comes with a shortest chain that
/// runs it on the instance (`Diagnostic::via`): a caller, the method it calls, then the methods
/// called through `self`, the caller's distance from an entry point counted.
fn methods_on(
    project: &Project,
    class: ClassId,
    entry_methods: &[EntryMethod],
) -> Vec<(FuncId, Vec<FuncId>)> {
    let in_mro: HashSet<ClassId> = common::project_mro(project, class).collect();
    let mut chains: HashMap<FuncId, (usize, Vec<FuncId>)> = HashMap::default();
    let mut queue = std::collections::BinaryHeap::new();
    for entry in entry_methods {
        let chain: Vec<FuncId> = entry.caller.into_iter().chain([entry.method]).collect();
        let shorter = chains
            .get(&entry.method)
            .is_none_or(|(depth, _)| *depth > entry.depth);
        if shorter {
            chains.insert(entry.method, (entry.depth, chain));
            queue.push(std::cmp::Reverse((entry.depth, entry.method)));
        }
    }
    // Dijkstra's order with unit steps: each method is expanded once, from its shortest chain.
    let mut done: HashSet<FuncId> = HashSet::default();
    while let Some(std::cmp::Reverse((depth, method))) = queue.pop() {
        if !done.insert(method) {
            continue;
        }
        for edge in project.call_graph().callees(method) {
            if edge.kind != EdgeKind::SelfCall || done.contains(&edge.to) {
                continue;
            }
            let (file, facts) = project.function(edge.to);
            let Some(owner) = facts.class.map(|c| project.class_id(file, c)) else {
                continue;
            };
            let next = depth.saturating_add(1);
            if in_mro.contains(&owner)
                && chains.get(&edge.to).is_none_or(|(known, _)| *known > next)
            {
                let mut chain = chains[&method].1.clone();
                chain.push(edge.to);
                chains.insert(edge.to, (next, chain));
                queue.push(std::cmp::Reverse((next, edge.to)));
            }
        }
    }
    let mut out: Vec<(FuncId, Vec<FuncId>)> = chains
        .into_iter()
        .map(|(method, (_, chain))| (method, chain))
        .collect();
    out.sort();
    out
}

/// `self.x = v` and changes of `self.x` containers in `method` (and the functions nested in it),
/// but for those that never run on `singleton` ([`guard_fails`]; `stored_once` keeps the
/// answers of [`stored_only_there`]).
fn writes_in_method(
    context: &Context<'_>,
    singleton: Singleton,
    method: FuncId,
    via: &[FuncId],
    stored_once: &mut HashMap<(ClassId, Name), bool>,
    groups: &mut BTreeMap<Key, Group>,
) {
    let project = context.project;
    let (file, facts) = project.function(method);
    if knowledge::INSTANCE_SETUP_METHODS.contains(&facts.name.as_str()) {
        return;
    }
    let Some(writes) = context.model.self_writes_in(project, method) else {
        return;
    };
    let (_, method_idx) = project.function_in_file(method);
    let file_facts = &project.file(file).facts;
    let mut skipped = |span: Span| {
        file_facts.lazy_inits.contains(&span.start)
            || guard_fails(project, singleton, file_facts, span.start, stored_once)
    };
    let key = Key {
        singleton,
        file,
        function: method_idx,
    };
    for &index in &writes.assignments {
        let assignment = &file_facts.attribute_assignments[index as usize];
        if !skipped(assignment.span)
            && data_descriptor_setter(project, singleton.class, &assignment.attr).is_none()
        {
            add(
                groups,
                key,
                format!("self.{}", assignment.attr),
                assignment.span,
                Some(via),
            );
        }
    }
    for &index in &writes.mutations {
        let mutation = &file_facts.mutations[index as usize];
        let [attr] = mutation.target.attrs.as_slice() else {
            continue;
        };
        if is_memo_store(file_facts, mutation) || skipped(mutation.span) {
            continue;
        }
        if let Some(type_name) =
            common::instance_attribute_container(project, singleton.class, attr)
            && common::changes_container(project, file, mutation, &type_name)
        {
            add(
                groups,
                key,
                format!("self.{attr}"),
                mutation.span,
                Some(via),
            );
        }
    }
}

/// Whether the write starting at `start` (in `facts`, the file of a method of `singleton`'s
/// class) never runs on `singleton`: it runs only under a test of `self.<attr>`
/// ([`Tested::SelfAttribute`]) that the object's attribute fails for good
/// ([`attribute_fails_for_good`]; `stored_once` keeps the answers of its costly part).
fn guard_fails(
    project: &Project,
    singleton: Singleton,
    facts: &FileFacts,
    start: u32,
    stored_once: &mut HashMap<(ClassId, Name), bool>,
) -> bool {
    facts
        .param_guarded
        .iter()
        .filter(|guard| guard.start == start)
        .any(|guard| {
            let Tested::SelfAttribute(attr) = guard.tested else {
                return false;
            };
            attribute_fails_for_good(project, singleton, attr, guard.truth, stored_once)
        })
}

/// Changes, in code requests reach, of a container or object that a method which never runs
/// per call stored on `self` (`self._headers = {...}` in the `__init__` of what a module-level
/// `Client(...)` builds), reached through `self.<attr>` of an instance whose class only
/// import-time code constructs, and whose attribute no per-call code assigns: every such instance
/// is built once, so the change reaches state every request shares.
/// `part` as for `singleton_writes`.
fn import_time_fields(
    context: &Context<'_>,
    told: &HashSet<(FileId, u32)>,
    per_request: &mut PerRequest,
    part: Part,
) -> Vec<Diagnostic> {
    let kept = part == Part::KeptUntilDone;
    let (project, model) = (context.project, context.model);
    let mut groups: BTreeMap<(FileId, FuncIdx, ObjectId), Vec<Span>> = BTreeMap::new();
    for once in model.once_object_mutations(project) {
        let (change, mutation) = (once.change, once.mutation);
        let object = model.object(once.object);
        let Origin::ImportTimeField(_) = object.origin else {
            continue;
        };
        if change.through != Through::SelfAttribute
            || change.timing != Timing::PerCall
            || mutation.target.attrs.len() != 1
            || told.contains(&(change.file, change.span.start))
            || project
                .file(change.file)
                .facts
                .kept_until_done
                .contains(&change.span.start)
                != kept
            || is_memo_store(&project.file(change.file).facts, mutation)
            || common::in_test_code(project, change.file, change.function)
            || !per_request.reached(project, change.file, change.function)
        {
            continue;
        }
        let Some(class) = project.method_class(change.file, change.function) else {
            continue;
        };
        if !built_only_at_import(project, class, mutation.target.attrs[0].as_str()) {
            continue;
        }
        let Some(shared) = common::shared_object(project, object.file, &object.value()) else {
            continue;
        };
        if !common::changes_shared_object(project, model, change.file, mutation, &shared, None) {
            continue;
        }
        groups
            .entry((change.file, change.function, once.object))
            .or_default()
            .push(change.span);
    }
    // The objects some function changes per call other than by taking entries out: only a
    // function that only takes entries out of one of those goes to SL110.
    let told_elsewhere: HashSet<ObjectId> = groups
        .iter()
        .filter(|((file, _, _), sites)| {
            !sl110::only_take_entries_out(&project.file(*file).facts, sites.iter().copied())
        })
        .map(|((_, _, object), _)| *object)
        .collect();
    groups
        .into_iter()
        .filter(|((file, _, object), sites)| {
            (told_elsewhere.contains(object)
                && taken_out(&project.file(*file).facts, part, sites.iter().copied()))
                == (part == Part::TakenOut)
        })
        .map(|((file, function, object), sites)| {
            report_import_time_field(project, model, file, function, object, sites, part)
        })
        .collect()
}

/// Whether every instance of `class` (and of its subclasses) is built while modules are
/// imported (or at start-up), and `attr` is assigned on `self` only by code that never runs per
/// call: the `__init__` its instances run does not run per call, and no method of the hierarchy
/// that runs per call assigns `self.<attr>`.
fn built_only_at_import(project: &Project, class: ClassId, attr: &str) -> bool {
    let mut classes = common::project_mro(project, class).collect::<Vec<_>>();
    classes.extend(project.descendants(class).iter().copied());
    let init_once = classes.iter().all(|c| {
        project.lookup_method(*c, "__init__").is_some_and(|init| {
            let (file, idx) = project.function_in_file(init);
            !crate::model::runs_per_call(project, file, idx)
        })
    });
    init_once
        && classes.iter().all(|c| {
            let file = project.class(*c).0;
            project
                .file(file)
                .facts
                .attribute_assignments
                .iter()
                .all(|a| {
                    a.attr != attr
                        || a.object != AccessPath::new(Root::SelfParam)
                        || project.method_class(file, a.function) != Some(*c)
                        || !crate::model::runs_per_call(project, file, a.function)
                })
        })
}

fn report_import_time_field(
    project: &Project,
    model: &Model,
    file: FileId,
    function: FuncIdx,
    object: ObjectId,
    mut sites: Vec<Span>,
    part: Part,
) -> Diagnostic {
    sites.sort();
    sites.dedup();
    let object = model.object(object);
    let Origin::ImportTimeField(creator) = object.origin else {
        unreachable!("only objects stored by import-time set-up are grouped");
    };
    let creator = project.function(creator).1;
    let changing = &project.file(file).facts.functions[function as usize];
    let attr = knowledge::last_segment(&object.path)
        .trim_start_matches("<self.")
        .trim_end_matches('>')
        .to_string();
    let type_name = common::shared_object(project, object.file, &object.value())
        .map_or_else(|| "object".to_string(), |s| s.type_name().to_string());
    let created = common::once_when(project, object.lifetime);
    let message = format!(
        "the {type_name} `{}` stores in `self.{attr}` is created once (that method runs only \
         {created}); `{}`, which requests reach, changes it",
        creator.qualname, changing.name
    );
    let mut related = vec![Label::new(
        object.file,
        object.site,
        format!("created once, {created}, by set-up code"),
    )];
    related.extend(sites[1..].iter().map(|site| Label::and_here(file, *site)));
    let identity = vec![object.path.clone(), changing.qualname.to_string()];
    match part {
        Part::KeptUntilDone => {
            return sl109::kept_until_done(message, Label::new(file, sites[0], ""))
                .with_related(related)
                .with_identity(identity);
        }
        Part::TakenOut => {
            return sl110::entries_taken_out(message, Label::new(file, sites[0], ""))
                .with_related(related)
                .with_identity(identity);
        }
        Part::Told => {}
    }
    META.diagnostic(
        message,
        Label::new(
            file,
            sites[0],
            "changed here, on the requests that reach it",
        ),
    )
    .with_related(related)
    .with_note(
        "every instance holding it is built once, so one object serves every request: what \
         one request puts in it is seen by the next, and by concurrent ones",
    )
    .with_help(
        "build a new object per call (`{**self.defaults, **extra}`) instead of changing the \
         shared one",
    )
    .with_identity(identity)
}

/// The attribute a write changes, whatever names the object (`self.cache` and `service.cache`
/// both change `cache`).
fn attribute_written(written: &str) -> &str {
    written
        .split_once('.')
        .map_or(written, |(_, attribute)| attribute)
}

/// Whether a function's `sites` (in the file of `facts`) are SL110's: all take entries out, and
/// `part` is not SL109's (adds of futures are not removals).
fn taken_out(facts: &FileFacts, part: Part, sites: impl IntoIterator<Item = Span>) -> bool {
    part != Part::KeptUntilDone && sl110::only_take_entries_out(facts, sites)
}

/// Whether `mutation` stores a memoised value (SL402's question, not this rule's). A change of
/// an element starts where the memoisation that made the element does
/// (`self._d.setdefault(k, {})[d] = v`, `self._d.setdefault(k, []).append(v)`), but it writes
/// into the element and is no store (`nested`).
fn is_memo_store(facts: &FileFacts, mutation: &Mutation) -> bool {
    !mutation.nested
        && facts
            .memo_stores
            .iter()
            .any(|m| m.span.start == mutation.span.start)
}

fn report(project: &Project, key: &Key, group: Group, part: Part) -> Diagnostic {
    let binding = &project.file(key.singleton.file).facts.globals[key.singleton.global as usize];
    let class = project.class(key.singleton.class).1;
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let mut sites: Vec<Span> = group.writes.iter().map(|(_, site)| *site).collect();
    sites.sort();
    sites.dedup();
    let mut written: Vec<String> = Vec::new();
    for (name, _) in &group.writes {
        let name = format!("`{name}`");
        if !written.contains(&name) {
            written.push(name);
        }
    }
    let how = if group.through_method {
        "which requests call on it"
    } else {
        "which requests reach"
    };
    let message = format!(
        "`{}` is the one `{}` for the whole process; `{}`, {how}, writes {}",
        binding.name,
        class.name,
        function.name,
        written.join(", ")
    );
    let mut related = vec![Label::new(
        key.singleton.file,
        binding.span,
        "created once, when the module is imported",
    )];
    related.extend(
        sites[1..]
            .iter()
            .map(|site| Label::and_here(key.file, *site)),
    );
    let identity = vec![
        binding.name.to_string(),
        class.qualname.to_string(),
        function.qualname.to_string(),
    ];
    match part {
        Part::KeptUntilDone => {
            return sl109::kept_until_done(message, Label::new(key.file, sites[0], ""))
                .with_related(related)
                .with_identity(identity)
                .with_via(group.via);
        }
        Part::TakenOut => {
            return sl110::entries_taken_out(message, Label::new(key.file, sites[0], ""))
                .with_related(related)
                .with_identity(identity)
                .with_via(group.via);
        }
        Part::Told => {}
    }
    META.diagnostic(
        message,
        Label::new(
            key.file,
            sites[0],
            "written here, on the requests that reach it",
        ),
    )
    .with_related(related)
    .with_note(
        "one object serves every request: what one request stores on it is seen by the \
         next, and by concurrent ones",
    )
    .with_help(
        "keep per-request data in locals and return it, or create the object per request; \
         state set once in `__init__` is fine",
    )
    .with_identity(identity)
    .with_via(group.via)
}
