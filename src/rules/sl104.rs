//! SL104: `self.x = <shared mutable object>` without a copy, and `self.x` is then changed: the
//! shared object is what changes.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{
    AttributeAssignment, FuncIdx, Mutation, MutationKind, ParamUseKind, Root, Span, Value,
};
use crate::knowledge;
use crate::model::{
    Change, ChangeSite, Flow, Location, Object, Origin, Through, Timing,
    default_held_by_one_instance, keeps_empty, may_run_on_instances_of,
};
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common::{self, InstanceAssignments, SharedObject};
use super::{Context, Rule, RuleMeta};

pub struct InstanceAttributeAliasesSharedObject;

static META: RuleMeta = RuleMeta {
    code: "SL104",
    name: "instance-attribute-aliases-shared-object",
    summary: "`self.x` is bound to a shared mutable object (class-level, module-level or a mutable default) without a copy, and then changed",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL104.md"),
};

/// Where the shared object an instance attribute is bound to comes from.
#[derive(Clone)]
struct Source {
    /// The object, for messages: `` `self.DEFAULTS` ``, `` `FIELDS` ``, ``the default of `tags` ``.
    written: String,
    type_name: String,
    file: FileId,
    span: Span,
    label: &'static str,
    /// The names identifying the object, for the fingerprint.
    identity: String,
}

/// An aliasing assignment and the function whose changes of the attribute it causes.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: FileId,
    assignment: Span,
    mutation_file: FileId,
    mutation_function: FuncIdx,
}

struct Group<'a> {
    source: Source,
    attr: String,
    class: ClassId,
    assignment_function: FuncIdx,
    sites: Vec<&'a Mutation>,
}

impl Rule for InstanceAttributeAliasesSharedObject {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let aliasing: Vec<(FileId, &AttributeAssignment)> = project
            .files
            .iter()
            .enumerate()
            .flat_map(|(id, f)| {
                f.facts
                    .attribute_assignments
                    .iter()
                    .map(move |a| (id as FileId, a))
            })
            .filter(|(_, a)| {
                a.object.root == Root::SelfParam
                    && a.object.attrs.is_empty()
                    && matches!(a.value, Value::Alias(_))
            })
            .collect();
        let mut found = changed_through_instances(context);
        if aliasing.is_empty() {
            return found;
        }
        let instance_assignments = context.model.instance_assignments(project);

        let mut groups: BTreeMap<Key, Group<'_>> = BTreeMap::new();
        for (file, assignment) in aliasing {
            let candidates = context
                .model
                .self_field_changes(project, assignment.attr.as_str());
            if candidates.is_empty() {
                continue;
            }
            let Some(class) = project.method_class(file, assignment.function) else {
                continue;
            };
            let Some(source) = shared_source(context, instance_assignments, file, assignment)
            else {
                continue;
            };
            let hierarchy: HashSet<ClassId> = common::class_hierarchy(project, class)
                .into_iter()
                .collect();
            for candidate in candidates {
                let mutation_file = candidate.file;
                let mutation =
                    &project.file(mutation_file).facts.mutations[candidate.mutation as usize];
                if !hierarchy.contains(&candidate.class)
                    || !runs_on_holders(project, class, candidate.class, mutation_file, mutation)
                    || !common::runs_per_call(project, mutation_file, mutation.function)
                    || !changes(project, mutation_file, mutation, &source.type_name)
                    || rebound_before(project, file, assignment, mutation_file, mutation)
                {
                    continue;
                }
                let key = Key {
                    file,
                    assignment: assignment.span,
                    mutation_file,
                    mutation_function: mutation.function,
                };
                groups
                    .entry(key)
                    .or_insert_with(|| Group {
                        source: source.clone(),
                        attr: assignment.attr.to_string(),
                        class,
                        assignment_function: assignment.function,
                        sites: Vec::new(),
                    })
                    .sites
                    .push(mutation);
            }
        }
        // An object created empty that nothing adds to: taking entries out of it changes
        // nothing. What this rule reports of it must keep it empty too, as must every change the
        // model attaches to it.
        let filled: HashSet<(FileId, Span)> = groups
            .iter()
            .filter(|(key, group)| {
                let facts = &project.file(key.mutation_file).facts;
                !group.sites.iter().all(|m| keeps_empty(facts, m))
            })
            .map(|(_, group)| (group.source.file, group.source.span))
            .collect();
        groups.retain(|_, group| {
            let object = (group.source.file, group.source.span);
            filled.contains(&object) || !context.model.stays_empty(project, object.0, object.1)
        });
        found.extend(groups.into_iter().map(|(key, mut group)| {
            common::sort_sites(&mut group.sites);
            report(project, &key, group)
        }));
        found
    }
}

/// The model's answer to "which once-created container, stored on `self` without a copy, is
/// changed per call through an instance of the class held in a local": `r = Runner();
/// r.plugins.append(p)` in another module changes the default `Runner.__init__` stored.
fn changed_through_instances(context: &Context<'_>) -> Vec<Diagnostic> {
    let (project, model) = (context.project, context.model);
    let mut found = Vec::new();
    for change in model.changes() {
        let ChangeSite::Mutation(index) = change.site else {
            continue;
        };
        let mutation = &project.file(change.file).facts.mutations[index as usize];
        let (Through::Instance, Timing::PerCall, [_]) = (
            change.through,
            change.timing,
            mutation.target.attrs.as_slice(),
        ) else {
            continue;
        };
        if common::in_test_code(project, change.file, change.function) {
            continue;
        }
        for &object_id in &change.objects {
            let object = model.object(object_id);
            // What import-time set-up stores on `self` is SL203's (an object built once).
            if !object.lifetime.is_once() || matches!(object.origin, Origin::ImportTimeField(_)) {
                continue;
            }
            let Some(type_name) = common::mutable_type(project, object.file, &object.value())
            else {
                continue;
            };
            if let Origin::Default(function, index) = object.origin {
                let (file, function) = project.function_in_file(function);
                if default_held_by_one_instance(project, file, function, index) {
                    continue;
                }
            }
            if !changes(project, change.file, mutation, &type_name)
                || keeps_empty(project.file(change.file).facts.as_ref(), mutation)
                    && model.stays_empty(project, object.file, object.site)
            {
                continue;
            }
            // Only objects an instance field got by assignment: a class-level container read
            // through an instance is SL101's.
            let path = model.flow_path(object_id, &change.locations);
            let Some(store) = path.last() else {
                continue;
            };
            let Location::Field(class, attr) = &store.to else {
                continue;
            };
            found.push(report_through_instance(
                project,
                object,
                &type_name,
                (*class, attr.as_str()),
                store,
                change,
                mutation,
            ));
        }
    }
    found
}

/// The finding for a change through an instance: `store` is the flow into the instance field
/// `(class, attr)` (`self.plugins = plugins`), `mutation` the change (`r.plugins.append(p)`).
fn report_through_instance(
    project: &Project,
    object: &Object,
    type_name: &str,
    (class, attr): (ClassId, &str),
    store: &Flow,
    change: &Change,
    mutation: &Mutation,
) -> Diagnostic {
    let mutating = &project.file(change.file).facts.functions[change.function as usize];
    let receiver = mutation.target.display();
    let (written, label) = match object.origin {
        Origin::Default(function, index) => {
            let param = &project.function(function).1.params[index as usize];
            (
                format!("the default of `{}`", param.name),
                "the default is one object, created when the function is defined",
            )
        }
        Origin::ClassAttribute(_) => (
            format!("`{}`", knowledge::last_segment(&object.path)),
            "one object, created when the class is defined",
        ),
        _ => (
            format!("`{}`", knowledge::last_segment(&object.path)),
            "one object, created when the module is imported",
        ),
    };
    let verb = if common::only_adds([mutation]) {
        "writes into"
    } else {
        "changes"
    };
    let storing = project
        .function_at(store.file, store.span.start)
        .map(|f| {
            project.file(store.file).facts.functions[f as usize]
                .name
                .to_string()
        })
        .unwrap_or_default();
    let class_name = &project.class(class).1.qualname;
    META.diagnostic(
        format!(
            "`{receiver}` is {written} itself, not a copy (`{class_name}` stores it in \
             `self.{attr}`); `{}` {verb} that shared {type_name}",
            mutating.name
        ),
        Label::new(
            change.file,
            change.span,
            common::when(
                project
                    .file(change.file)
                    .facts
                    .runs_on_every_call(change.span.start),
                "the shared object changes here, on every call",
                "the shared object changes here",
            ),
        ),
    )
    .with_related(vec![
        Label::new(object.file, object.site, label),
        Label::new(
            store.file,
            store.span,
            format!("`self.{attr}` is bound to it here, in `{storing}`, without a copy"),
        ),
    ])
    .with_note(ALIAS_NOTE)
    .with_help(copy_advice(attr, type_name, &written))
    .with_identity(vec![
        class_name.to_string(),
        attr.to_string(),
        object.path.clone(),
        mutating.qualname.to_string(),
    ])
    .with_object(object.path.clone())
}

fn changes(project: &Project, file: FileId, mutation: &Mutation, type_name: &str) -> bool {
    if matches!(
        mutation.kind,
        MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_)
    ) {
        // Containers have no attributes to set; a nested element might.
        return false;
    }
    common::changes_container(project, file, mutation, type_name)
}

/// The shared mutable object `self.attr = <value>` binds the attribute to, if it is one.
fn shared_source(
    context: &Context<'_>,
    instance_assignments: &InstanceAssignments,
    file: FileId,
    assignment: &AttributeAssignment,
) -> Option<Source> {
    let project = context.project;
    let Value::Alias(path) = &assignment.value else {
        return None;
    };
    let function = assignment.function;
    match &path.root {
        Root::SelfParam | Root::Class | Root::Global(_) => {
            if let Some(class_path) = common::class_path(project, file, function, path)
                .or_else(|| self_class_path(project, file, function, path))
            {
                let [.., attr] = path.attrs.as_slice() else {
                    return None;
                };
                if class_path.attr_index + 1 != path.attrs.len() {
                    return None;
                }
                let class = class_path.classes[0];
                if path.root == Root::SelfParam
                    && instance_assignments.shadows(
                        project,
                        class,
                        attr,
                        file,
                        function,
                        assignment.span.start,
                    )
                {
                    return None;
                }
                let (defining, binding) = project.lookup_class_attribute(class, attr)?;
                // Through the class a model's field default is not reached (pydantic and
                // msgspec keep field defaults off the class); its other class attributes are
                // not followed.
                let not_shared = if path.root == Root::SelfParam {
                    common::instance_gets_own_default(context, class, defining, binding)
                } else {
                    common::copies_or_has_no_instances(context, class)
                };
                if not_shared {
                    return None;
                }
                // A class defined in a function is new on every call, and so are its objects.
                if project.class(defining).1.in_function {
                    return None;
                }
                let defining_file = project.class(defining).0;
                let SharedObject::Container(type_name) =
                    common::shared_object(project, defining_file, &binding.value)?
                else {
                    return None;
                };
                let owner = &project.class(defining).1;
                return Some(Source {
                    written: if path.root == Root::SelfParam {
                        format!("`self.{attr}`")
                    } else {
                        format!("`{}.{attr}`", owner.name)
                    },
                    type_name,
                    file: defining_file,
                    span: binding.span,
                    label: "one object, created when the class is defined",
                    identity: format!("{}.{attr}", owner.qualname),
                });
            }
            let Root::Global(_) = &path.root else {
                return None;
            };
            // `FIELDS`, or `defaults.FIELDS` through an imported module.
            let name = path.display();
            let Resolved::Global(global_file, index) = project.resolve(file, Some(function), &name)
            else {
                return None;
            };
            let global_file_facts = &project.file(global_file).facts;
            let binding = &global_file_facts.globals[index as usize];
            let SharedObject::Container(type_name) =
                common::shared_object(project, global_file, &binding.value)?
            else {
                return None;
            };
            Some(Source {
                written: format!("`{name}`"),
                type_name,
                file: global_file,
                span: binding.span,
                label: "one object, created when the module is imported",
                identity: format!("{}.{}", project.file(global_file).module, binding.name),
            })
        }
        Root::Local(name) => {
            if !path.attrs.is_empty() {
                return None;
            }
            let facts = &project.file(file).facts.functions[function as usize];
            let index = facts.params.iter().position(|p| p.name == *name)?;
            let param = &facts.params[index];
            // `items = list(items)` before the assignment: `self.x` gets the new object.
            let rebound_first = project.file(file).facts.param_uses.iter().any(|u| {
                u.function == function
                    && u.param as usize == index
                    && matches!(u.kind, ParamUseKind::Rebound)
                    && u.span.start < assignment.span.start
            });
            if rebound_first {
                return None;
            }
            let type_name = common::mutable_type(project, file, param.default.as_ref()?)?;
            if default_held_by_one_instance(project, file, function, index as u32) {
                return None;
            }
            Some(Source {
                written: format!("the default of `{name}`"),
                type_name,
                file,
                span: param.span,
                label: "the default is one object, created when the function is defined",
                identity: format!("{}({name})", facts.qualname),
            })
        }
    }
}

/// `self.DEFAULTS` read in a method: the class-level attribute of the method's class (or the
/// class an instance of a subclass sees first).
fn self_class_path(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    path: &crate::facts::AccessPath,
) -> Option<common::ClassPath> {
    if path.root != Root::SelfParam || path.attrs.len() != 1 {
        return None;
    }
    Some(common::ClassPath {
        classes: vec![project.method_class(file, function)?],
        attr_index: 0,
        named: false,
    })
}

/// Whether the change `mutation`, in a method of `changing_class`, may run on an instance of
/// `holder` (the class whose method binds the attribute to the shared object) or of a subclass:
/// a base's method that they all override, and that nothing reaches past the override, never
/// changes the object they hold (xinference's registries override the base's `add_ud_model`).
fn runs_on_holders(
    project: &Project,
    holder: ClassId,
    changing_class: ClassId,
    mutation_file: FileId,
    mutation: &Mutation,
) -> bool {
    if changing_class == holder || !project.in_mro(holder, changing_class) {
        return true;
    }
    let method = project.function_id(
        mutation_file,
        project.outermost_function(mutation_file, mutation.function),
    );
    may_run_on_instances_of(project, method, holder)
}

/// Whether the mutating function gives `self.attr` a fresh object before the mutation (after
/// the aliasing assignment, when both are in the same function).
fn rebound_before(
    project: &Project,
    file: FileId,
    assignment: &AttributeAssignment,
    mutation_file: FileId,
    mutation: &Mutation,
) -> bool {
    let same_function = file == mutation_file && assignment.function == mutation.function;
    if same_function && mutation.span.start < assignment.span.start {
        return true;
    }
    project
        .file(mutation_file)
        .facts
        .attribute_assignments
        .iter()
        .any(|a| {
            a.function == mutation.function
                && a.attr == assignment.attr
                && a.object.root == Root::SelfParam
                && a.object.attrs.is_empty()
                && !matches!(a.value, Value::Alias(_))
                && a.span.start < mutation.span.start
                && (!same_function || a.span.start > assignment.span.start)
        })
}

fn report(project: &Project, key: &Key, group: Group<'_>) -> Diagnostic {
    let (_, class) = project.class(group.class);
    let mutating = &project.file(key.mutation_file).facts.functions[key.mutation_function as usize];
    let assigning = &project.file(key.file).facts.functions[group.assignment_function as usize];
    let first = group.sites[0];
    let verb = if common::only_adds(group.sites.iter().copied()) {
        "writes into"
    } else {
        "changes"
    };
    let message = format!(
        "`self.{}` is {} itself, not a copy; `{}` {verb} that shared {}",
        group.attr, group.source.written, mutating.name, group.source.type_name
    );
    let mut related = vec![
        Label::new(group.source.file, group.source.span, group.source.label),
        Label::new(
            key.file,
            key.assignment,
            format!(
                "`self.{}` is bound to it here, in `{}`, without a copy",
                group.attr, assigning.name
            ),
        ),
    ];
    common::push_aliases_and_sites(
        &mut related,
        key.mutation_file,
        &group.sites,
        &format!("`self.{}` is taken here, not copied", group.attr),
    );
    META.diagnostic(
        message,
        Label::new(
            key.mutation_file,
            first.span,
            common::when(
                project
                    .file(key.mutation_file)
                    .facts
                    .runs_on_every_call(first.span.start),
                "the shared object changes here, on every call",
                "the shared object changes here",
            ),
        ),
    )
    .with_related(related)
    .with_note(ALIAS_NOTE)
    .with_help(copy_advice(
        &group.attr,
        &group.source.type_name,
        &group.source.written,
    ))
    .with_identity(vec![
        class.qualname.to_string(),
        group.attr,
        group.source.identity,
        mutating.qualname.to_string(),
    ])
}

const ALIAS_NOTE: &str = "assigning an object to an attribute does not copy it: every instance \
     bound to it changes the same object, and what one request writes is seen by the next";

/// How to fix `self.{attr}` bound to the shared `written` object of type `type_name`.
fn copy_advice(attr: &str, type_name: &str, written: &str) -> String {
    format!(
        "copy it where it is assigned (`self.{attr} = {copy}`, or `copy.deepcopy(...)` for \
         nested data), or start from `None` and create the object per instance",
        copy = copy_call(type_name, written),
    )
}

fn copy_call(type_name: &str, written: &str) -> String {
    let written = written
        .trim_start_matches("the default of ")
        .trim_matches('`');
    match type_name {
        "list" | "dict" | "set" => format!("{type_name}({written})"),
        _ => format!("{written}.copy()"),
    }
}
