//! SL203: an instance created at module level whose state per-request code writes, through its
//! methods or from outside.

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::collections::BTreeMap;

use crate::call_names::NameFilter;
use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FileFacts, FuncIdx, Root, Span};
use crate::knowledge;
use crate::model::{Singleton, SingletonNames, SingletonWriteSite};
use crate::project::entry_points::{ASGI_APPLICATION, WSGI_APPLICATION};
use crate::project::{ClassId, EdgeKind, FileId, FuncId, Project, Resolved};

use super::common;
use super::sl201::PerRequest;
use super::{Context, Rule, RuleMeta};

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
    /// `self.user_id`, `service.cache`: what is written, as written.
    written: Vec<String>,
    sites: Vec<Span>,
    /// Whether the writes are in a method of the object (rather than code using it from outside).
    through_method: bool,
}

impl Rule for SingletonStateWrittenPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
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
        let kept: HashSet<Singleton> = singletons.iter().copied().collect();
        let by_global: HashMap<(FileId, u32), Singleton> = singletons
            .iter()
            .map(|s| ((s.file, s.global), *s))
            .collect();
        let mut groups: BTreeMap<Key, Group> = BTreeMap::new();

        // Methods run on a singleton by per-request code, found file by file in parallel and
        // merged in file order.
        let per_file: Vec<Vec<(Singleton, FuncId)>> = project
            .files
            .par_iter()
            .enumerate()
            .map(|(file_id, file)| {
                let file_id = file_id as FileId;
                let facts = &file.facts;
                let mentioned = SingletonNames::of_file(facts, &names, &filter);
                let mut per_request = PerRequest::default();
                let mut found = Vec::new();
                for (index, site) in facts.calls.iter().enumerate() {
                    let Some(function) = site.function else {
                        continue;
                    };
                    if site.reference
                        || site.receiver != crate::facts::CallReceiver::Name
                        || !mentioned.mentioned_by_call(facts, index)
                    {
                        continue;
                    }
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
                    if let Some(method) = common::lookup_method(project, singleton.class, method) {
                        found.push((*singleton, method));
                    }
                }
                found
            })
            .collect();
        let mut methods_run: BTreeMap<Singleton, Vec<FuncId>> = BTreeMap::new();
        for singleton in &singletons {
            if let Some(call) = application_call(project, singleton.class) {
                methods_run.entry(*singleton).or_default().push(call);
            }
        }
        for (singleton, method) in per_file.into_iter().flatten() {
            let list = methods_run.entry(singleton).or_default();
            if !list.contains(&method) {
                list.push(method);
            }
        }
        let mut per_request = PerRequest::default();
        // What code outside writes into a singleton through its name.
        for write in context.model.singleton_writes(project) {
            let singleton = write.singleton;
            if !kept.contains(&singleton) {
                continue;
            }
            let facts = &project.file(write.file).facts;
            let (written, span) = match write.site {
                SingletonWriteSite::Assignment(index) => {
                    let assignment = &facts.attribute_assignments[index as usize];
                    let Root::Global(head) = &assignment.object.root else {
                        continue;
                    };
                    if facts.lazy_inits.contains(&assignment.span.start) {
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
                    if is_memo_store(facts, mutation.span)
                        || facts.lazy_inits.contains(&mutation.span.start)
                    {
                        continue;
                    }
                    let changes =
                        common::instance_attribute_container(project, singleton.class, attr)
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
                    false,
                );
            }
        }

        for (singleton, entry_methods) in methods_run {
            for method in methods_on(project, singleton.class, entry_methods) {
                writes_in_method(context, singleton, method, &mut groups);
            }
        }
        groups
            .into_iter()
            .map(|(key, group)| report(project, &key, group))
            .collect()
    }
}

fn add(
    groups: &mut BTreeMap<Key, Group>,
    key: Key,
    written: String,
    site: Span,
    through_method: bool,
) {
    let group = groups.entry(key).or_insert_with(|| Group {
        written: Vec::new(),
        sites: Vec::new(),
        through_method,
    });
    if !group.written.contains(&written) {
        group.written.push(written);
    }
    if !group.sites.contains(&site) {
        group.sites.push(site);
    }
}

/// The `__call__` that instances of `class` find, when it is a WSGI or ASGI application's: the
/// server calls the application object it was given on every request, and that object is
/// created once, at module level, where the server's `module:attribute` names it.
fn application_call(project: &Project, class: ClassId) -> Option<FuncId> {
    let call = common::lookup_method(project, class, "__call__")?;
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
        .any(|name| common::lookup_method(project, class, name).is_some())
}

/// The methods that run on an instance of exactly `class` once `entry_methods` are called on it:
/// the methods they call through `self`, transitively.
fn methods_on(project: &Project, class: ClassId, entry_methods: Vec<FuncId>) -> Vec<FuncId> {
    let in_mro: HashSet<ClassId> = common::project_mro(project, class).collect();
    let mut seen: HashSet<FuncId> = entry_methods.iter().copied().collect();
    let mut stack = entry_methods;
    let mut out = Vec::new();
    while let Some(method) = stack.pop() {
        out.push(method);
        for edge in project.call_graph().callees(method) {
            if edge.kind != EdgeKind::SelfCall || seen.contains(&edge.to) {
                continue;
            }
            let (file, facts) = project.function(edge.to);
            let Some(owner) = facts.class.map(|c| project.class_id(file, c)) else {
                continue;
            };
            if in_mro.contains(&owner) {
                seen.insert(edge.to);
                stack.push(edge.to);
            }
        }
    }
    out.sort();
    out
}

/// `self.x = v` and changes of `self.x` containers in `method` (and the functions nested in it).
fn writes_in_method(
    context: &Context<'_>,
    singleton: Singleton,
    method: FuncId,
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
    let lazy = |span: Span| file_facts.lazy_inits.contains(&span.start);
    let key = Key {
        singleton,
        file,
        function: method_idx,
    };
    for &index in &writes.assignments {
        let assignment = &file_facts.attribute_assignments[index as usize];
        if !lazy(assignment.span) {
            add(
                groups,
                key,
                format!("self.{}", assignment.attr),
                assignment.span,
                true,
            );
        }
    }
    for &index in &writes.mutations {
        let mutation = &file_facts.mutations[index as usize];
        let [attr] = mutation.target.attrs.as_slice() else {
            continue;
        };
        if is_memo_store(file_facts, mutation.span) || lazy(mutation.span) {
            continue;
        }
        if let Some(type_name) =
            common::instance_attribute_container(project, singleton.class, attr)
            && common::changes_container(project, file, mutation, &type_name)
        {
            add(groups, key, format!("self.{attr}"), mutation.span, true);
        }
    }
}

/// Whether the change at `span` stores a memoised value (SL402's question, not this rule's).
fn is_memo_store(facts: &FileFacts, span: Span) -> bool {
    facts.memo_stores.iter().any(|m| m.span.start == span.start)
}

fn report(project: &Project, key: &Key, group: Group) -> Diagnostic {
    let binding = &project.file(key.singleton.file).facts.globals[key.singleton.global as usize];
    let class = project.class(key.singleton.class).1;
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let mut sites = group.sites;
    sites.sort();
    let written: Vec<String> = group.written.iter().map(|w| format!("`{w}`")).collect();
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
    META.diagnostic(
        message,
        Label::new(key.file, sites[0], "written here, on every request"),
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
    .with_identity(vec![
        binding.name.to_string(),
        class.qualname.to_string(),
        function.qualname.to_string(),
    ])
}
