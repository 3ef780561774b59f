//! SL402: a memoisation into a shared cache whose key leaves out inputs the stored value depends
//! on.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FunctionKind, MemoStore, MutationKind, Name, Root, Span};
use crate::knowledge;
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common::{self, InstanceAssignments};
use super::sl201::{dotted, module_global};
use super::sl203::module_level_instances;
use super::{Context, Rule, RuleMeta};

pub struct CacheKeyIncomplete;

static META: RuleMeta = RuleMeta {
    code: "SL402",
    name: "cache-key-incomplete",
    summary: "A shared cache stores a value that depends on inputs its key leaves out",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL402.md"),
};

/// Methods of the mapping protocol: their stores are the mapping's job, not memoisation.
const MAPPING_METHODS: &[&str] = &[
    "__setitem__",
    "__getitem__",
    "__missing__",
    "setdefault",
    "get",
    "update",
    "add",
];

/// Where a cache lives and why it is shared.
struct SharedCache {
    name: String,
    /// `shared by every `PatternRemixer``, `one dict for the whole process`.
    sharing: String,
    definition: Option<(FileId, Span, &'static str)>,
    /// The function's receiver is the same object for every call that reaches this cache (a
    /// singleton's own cache), so it is not an input that varies.
    receiver_fixed: bool,
}

impl Rule for CacheKeyIncomplete {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        if project.files.iter().all(|f| f.facts.memo_stores.is_empty()) {
            return Vec::new();
        }
        let instance_assignments = InstanceAssignments::collect(project);
        let singletons: HashSet<ClassId> = module_level_instances(project)
            .into_iter()
            .map(|(class, _)| class)
            .collect();
        // A cache something empties (`CACHE.clear()`) may live for one operation only.
        let cleared: HashSet<&str> = project
            .files
            .iter()
            .flat_map(|f| f.facts.mutations.iter())
            .filter(|m| matches!(&m.kind, MutationKind::Method(name) if name == "clear"))
            .filter_map(|m| match (&m.target.root, m.target.attrs.last()) {
                (_, Some(attr)) => Some(attr.as_str()),
                (Root::Global(name) | Root::Local(name), None) => Some(name.as_str()),
                _ => None,
            })
            .collect();
        // One finding per function and cache.
        let mut found: BTreeMap<(FileId, u32, String), Diagnostic> = BTreeMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for store in &file.facts.memo_stores {
                // A class implementing the mapping protocol stores what it is given.
                let function = &file.facts.functions[store.function as usize];
                // Constructors and class hooks register the object they make.
                if MAPPING_METHODS.contains(&function.name.as_str())
                    || knowledge::INSTANCE_SETUP_METHODS.contains(&function.name.as_str())
                    || knowledge::CLASS_CREATION_METHODS.contains(&function.name.as_str())
                {
                    continue;
                }
                let key = (file_id, store.function, store.cache.display());
                if found.contains_key(&key) {
                    continue;
                }
                let last =
                    store
                        .cache
                        .attrs
                        .last()
                        .map(|a| a.as_str())
                        .or(match &store.cache.root {
                            Root::Global(name) => Some(name.as_str()),
                            _ => None,
                        });
                if last.is_some_and(|name| cleared.contains(name)) {
                    continue;
                }
                let Some(cache) =
                    shared_cache(project, &instance_assignments, &singletons, file_id, store)
                else {
                    continue;
                };
                let missing = missing_inputs(project, file_id, store, &cache);
                if missing.is_empty() {
                    continue;
                }
                found.insert(key, report(project, file_id, store, &cache, &missing));
            }
        }
        found.into_values().collect()
    }
}

/// The cache a memoisation stores into, when every call shares it.
fn shared_cache(
    project: &Project,
    instance_assignments: &InstanceAssignments,
    singletons: &HashSet<ClassId>,
    file: FileId,
    store: &MemoStore,
) -> Option<SharedCache> {
    let path = &store.cache;
    let function = store.function;
    let class_level = |class: ClassId, attr: &str, receiver_fixed: bool| {
        let (defining, binding) = project.lookup_class_attribute(class, attr)?;
        let defining_file = project.class(defining).0;
        let type_name = common::mutable_type(project, defining_file, &binding.value)?;
        Some(SharedCache {
            name: attr.to_string(),
            sharing: format!(
                "one {type_name} shared by every `{}`",
                project.class(defining).1.name
            ),
            definition: Some((
                defining_file,
                binding.span,
                "created once, when the class is defined",
            )),
            receiver_fixed,
        })
    };
    match (&path.root, path.attrs.as_slice()) {
        (Root::Global(head), attrs) => {
            let written = dotted(head, attrs);
            if let Some((global_file, _, binding)) =
                module_global(project, file, function, &written)
            {
                let type_name = common::mutable_type(project, global_file, &binding.value)?;
                return Some(SharedCache {
                    name: written,
                    sharing: format!("one {type_name} for the whole process"),
                    definition: Some((
                        global_file,
                        binding.span,
                        "created once, when the module is imported",
                    )),
                    receiver_fixed: false,
                });
            }
            let (owner, attr) = written.rsplit_once('.')?;
            match project.resolve(file, Some(function), owner) {
                Resolved::Class(class) => class_level(class, attr, false),
                Resolved::Global(global_file, global) => {
                    let class = super::sl203::instance_class(project, global_file, global)?;
                    common::instance_attribute_container(project, class, attr)?;
                    Some(SharedCache {
                        name: written.clone(),
                        sharing: format!(
                            "an attribute of `{owner}`, one `{}` for the whole process",
                            project.class(class).1.name
                        ),
                        definition: None,
                        receiver_fixed: false,
                    })
                }
                _ => None,
            }
        }
        (Root::SelfParam, [attr]) => {
            let outer = project.outermost_function(file, function);
            let method = &project.file(file).facts.functions[outer as usize];
            if method.kind != FunctionKind::Instance {
                return None;
            }
            let class = project.method_class(file, function)?;
            let shadowed = instance_assignments.shadows(
                project,
                class,
                attr,
                file,
                function,
                store.span.start,
            );
            if !shadowed && let Some(cache) = class_level(class, attr, false) {
                return Some(cache);
            }
            let singleton = std::iter::once(class)
                .chain(project.descendants(class).iter().copied())
                .find(|c| singletons.contains(c))?;
            common::instance_attribute_container(project, singleton, attr)?;
            Some(SharedCache {
                name: attr.to_string(),
                sharing: format!(
                    "held by the one `{}` created at module level",
                    project.class(singleton).1.name
                ),
                definition: None,
                receiver_fixed: true,
            })
        }
        (Root::Class, [attr]) => {
            let class = project.method_class(file, function)?;
            class_level(class, attr, true)
        }
        _ => None,
    }
}

/// The inputs the value depends on and the key does not: parameters (of the function or the
/// functions around it) and the current request.
fn missing_inputs<'s>(
    project: &Project,
    file: FileId,
    store: &'s MemoStore,
    cache: &SharedCache,
) -> Vec<&'s Name> {
    let functions = &project.file(file).facts.functions;
    let mut params: Vec<&Name> = Vec::new();
    let mut receivers: Vec<&Name> = Vec::new();
    let mut current = Some(store.function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        let has_receiver = matches!(
            facts.kind,
            FunctionKind::Instance | FunctionKind::ClassMethod
        );
        for (i, param) in facts.params.iter().enumerate() {
            if has_receiver && i == 0 {
                receivers.push(&param.name);
            }
            params.push(&param.name);
        }
        current = facts.parent;
    }
    let missing: Vec<&Name> = store
        .value_inputs
        .iter()
        .filter(|name| !store.key_inputs.contains(name))
        .filter(|name| !(cache.receiver_fixed && receivers.contains(name)))
        .filter(|name| params.contains(name) || is_request(project, file, store, name))
        .collect();
    // The receiver is an input only through attributes that can differ between two calls.
    if missing.iter().all(|name| receivers.contains(name))
        && !store.uses_whole_receiver
        && store
            .receiver_reads
            .iter()
            .all(|attr| fixed_after_setup(project, attr))
    {
        return Vec::new();
    }
    missing
}

/// Whether no code other than an instance's set-up (`__init__`, ...) or module and class bodies
/// rebinds or changes an attribute named `attr`, on any object: read through `self`, it holds
/// what set-up left there for the instance's whole life.
fn fixed_after_setup(project: &Project, attr: &str) -> bool {
    project.files.iter().all(|file| {
        let facts = &file.facts;
        let after_setup = |function: u32| {
            let method = &facts.functions[function as usize];
            !knowledge::INSTANCE_SETUP_METHODS.contains(&method.name.as_str())
        };
        !facts
            .attribute_assignments
            .iter()
            .any(|a| a.attr == attr && after_setup(a.function))
            && !facts
                .setattr_calls
                .iter()
                .any(|c| c.name.as_deref().is_none_or(|n| n == attr) && after_setup(c.function))
            && !facts
                .mutations
                .iter()
                .any(|m| m.target.attrs.iter().any(|a| a == attr) && after_setup(m.function))
    })
}

/// A parameter of the function (or of one around it), or the current request.
fn is_input(project: &Project, file: FileId, store: &MemoStore, name: &Name) -> bool {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(store.function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        if facts.params.iter().any(|p| p.name == *name) {
            return true;
        }
        current = facts.parent;
    }
    is_request(project, file, store, name)
}

fn is_request(project: &Project, file: FileId, store: &MemoStore, name: &Name) -> bool {
    matches!(
        project.resolve(file, Some(store.function), name),
        Resolved::External(q) if knowledge::REQUEST_GLOBALS.contains(&q.as_str())
    )
}

fn quoted(names: &[&Name]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn report(
    project: &Project,
    file: FileId,
    store: &MemoStore,
    cache: &SharedCache,
    missing: &[&Name],
) -> Diagnostic {
    let function = &project.file(file).facts.functions[store.function as usize];
    let key_inputs: Vec<&Name> = store
        .key_inputs
        .iter()
        .filter(|name| is_input(project, file, store, name))
        .collect();
    let key = if key_inputs.is_empty() {
        "on none of its inputs".to_string()
    } else {
        format!("only on {}", quoted(&key_inputs))
    };
    let missing_text = quoted(missing);
    let message = format!(
        "`{}` is {}, but in `{}` its key depends {key}; the value stored under it also depends on {missing_text}",
        cache.name, cache.sharing, function.name
    );
    let mut related = Vec::new();
    if let Some((defining_file, span, label)) = cache.definition {
        related.push(Label::new(defining_file, span, label));
    }
    META.diagnostic(message,
        Label::new(
            file,
            store.span,
            format!("stored under a key that leaves out {missing_text}"),
        ),
    )
    .with_related(related)
    .with_note(format!(
        "a later call with the same key but a different {missing_text} gets the value computed for the first call"
    ))
    .with_help(format!(
        "make the key include what the value depends on ({missing_text}), or keep one cache per {}",
        if missing.iter().any(|m| m.as_str() == "self") {
            "instance"
        } else {
            "distinct input"
        }
    ))
    .with_identity(vec![cache.name.clone(), function.qualname.to_string()])
}
