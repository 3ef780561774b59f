//! SL101: a class-level mutable object changed through an instance by code that runs per call.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FunctionKind, Mutation, MutationKind, Root, Span, TypedLocal};
use crate::knowledge;
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common::{self, InstanceAssignments};
use super::{Context, Rule, RuleMeta};

pub struct SharedClassStateMutatedThroughInstance;

static META: RuleMeta = RuleMeta {
    code: "SL101",
    name: "shared-class-state-mutated-through-instance",
    summary: "A class-level mutable object is changed through an instance by code that runs per call",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL101.md"),
};

/// The shared object a finding is about, and the function that changes it.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct FindingKey {
    file: FileId,
    function: u32,
    defining_class: ClassId,
    definition: Span,
}

struct Group<'a> {
    attr: String,
    type_name: String,
    receiver: String,
    sites: Vec<&'a Mutation>,
}

impl Rule for SharedClassStateMutatedThroughInstance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let candidate_names = class_level_candidates(project);
        if candidate_names.is_empty() {
            return Vec::new();
        }
        let instance_assignments = InstanceAssignments::collect(project);
        let mut groups: BTreeMap<FindingKey, Group<'_>> = BTreeMap::new();

        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for mutation in &file.facts.mutations {
                let [attr] = mutation.target.attrs.as_slice() else {
                    continue;
                };
                if !candidate_names.contains(attr.as_str())
                    || !changes_contents(project, file_id, mutation)
                {
                    continue;
                }
                let Some((classes, receiver)) = receiver_classes(project, file_id, mutation) else {
                    continue;
                };
                for class in classes {
                    let Some((defining_class, binding)) =
                        project.lookup_class_attribute(class, attr)
                    else {
                        continue;
                    };
                    // A class defined in a function body is a new class, with new class-level
                    // objects, on every call: nothing outlives the call.
                    if project.class(defining_class).1.in_function
                        || common::is_classvar(binding)
                        || common::copies_or_has_no_instances(context, class)
                        || instance_assignments.shadows(
                            project,
                            class,
                            attr,
                            file_id,
                            mutation.function,
                            mutation.span.start,
                        )
                    {
                        continue;
                    }
                    let defining_file = project.class(defining_class).0;
                    let Some(type_name) =
                        common::mutable_type(project, defining_file, &binding.value)
                    else {
                        continue;
                    };
                    if let MutationKind::InPlaceOperator(op) = &mutation.kind
                        && !in_place_for(&type_name, op)
                    {
                        continue;
                    }
                    let key = FindingKey {
                        file: file_id,
                        function: mutation.function,
                        defining_class,
                        definition: binding.span,
                    };
                    let group = groups.entry(key).or_insert_with(|| Group {
                        attr: attr.to_string(),
                        type_name,
                        receiver: receiver.clone(),
                        sites: Vec::new(),
                    });
                    if !group.sites.iter().any(|s| s.span == mutation.span) {
                        group.sites.push(mutation);
                    }
                }
            }
        }

        groups
            .into_iter()
            .map(|(key, mut group)| {
                group.sites.sort_by_key(|m| m.span);
                report(project, &key, group)
            })
            .collect()
    }
}

/// Names bound at class level to something that may be a mutable object: a cheap filter before
/// any resolution.
fn class_level_candidates(project: &Project) -> HashSet<&str> {
    project
        .files
        .iter()
        .flat_map(|f| f.facts.classes.iter())
        .flat_map(|c| c.bindings.iter())
        .filter(|b| {
            matches!(
                b.value,
                crate::facts::Value::Container(_) | crate::facts::Value::Call { .. }
            )
        })
        .map(|b| b.name.as_str())
        .collect()
}

/// Whether the mutation changes the object's contents (rather than an attribute of it, which
/// containers do not have) and, for calls of functions, whether the callee really mutates.
fn changes_contents(project: &Project, file: FileId, mutation: &Mutation) -> bool {
    match &mutation.kind {
        MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_) => false,
        MutationKind::MutatingCall(callee) => project.resolves_to_any(
            file,
            Some(mutation.function),
            callee,
            knowledge::MUTATING_FUNCTIONS,
        ),
        _ => true,
    }
}

/// `+=` and friends change lists, sets and dicts in place; on other types they rebind.
fn in_place_for(type_name: &str, op: &str) -> bool {
    match type_name {
        "list" | "deque" | "bytearray" => matches!(op, "+=" | "*="),
        "set" | "WeakSet" => matches!(op, "|=" | "-=" | "&=" | "^="),
        "dict" | "defaultdict" | "OrderedDict" | "ChainMap" => op == "|=",
        "Counter" => matches!(op, "+=" | "-=" | "|=" | "&="),
        // A project class that subclasses a container: its operator comes from that container.
        _ => matches!(op, "+=" | "*=" | "|=" | "-=" | "&=" | "^="),
    }
}

/// The classes an instance reached by the mutation's receiver may have, and how the receiver is
/// written. `self` in a method of `C` may be an instance of `C` or of any subclass.
fn receiver_classes(
    project: &Project,
    file: FileId,
    mutation: &Mutation,
) -> Option<(Vec<ClassId>, String)> {
    let functions = &project.file(file).facts.functions;
    let outer = project.outermost_function(file, mutation.function);
    let method = &functions[outer as usize];
    if knowledge::CLASS_CREATION_METHODS.contains(&method.name.as_str()) {
        return None;
    }
    match &mutation.target.root {
        Root::SelfParam => {
            if method.kind != FunctionKind::Instance {
                return None;
            }
            let class = project.method_class(file, mutation.function)?;
            let mut classes = vec![class];
            classes.extend(project.descendants(class));
            Some((classes, "self".to_string()))
        }
        Root::Local(name) => {
            let local = typed_local(project, file, mutation.function, name)?;
            let Resolved::Class(class) =
                project.resolve(file, Some(mutation.function), &local.class)
            else {
                return None;
            };
            let mut classes = vec![class];
            if !local.exact {
                classes.extend(project.descendants(class));
            }
            Some((classes, name.to_string()))
        }
        _ => None,
    }
}

fn typed_local<'a>(
    project: &'a Project,
    file: FileId,
    function: u32,
    name: &str,
) -> Option<&'a TypedLocal> {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        if let Some(local) = facts.typed_locals.iter().find(|t| t.name == name) {
            return Some(local);
        }
        current = facts.parent;
    }
    None
}

fn report(project: &Project, key: &FindingKey, group: Group<'_>) -> Diagnostic {
    let (_, class) = project.class(key.defining_class);
    let defining_file = project.class(key.defining_class).0;
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let first = group.sites[0];
    let adds = group.sites.iter().all(|m| match &m.kind {
        MutationKind::Method(name) => knowledge::ADDING_METHODS.contains(&name.as_str()),
        MutationKind::ItemDelete => false,
        _ => true,
    });
    let (verb, label) = if adds {
        ("writes into it", "written here, on every call")
    } else {
        ("changes it", "changed here, on every call")
    };
    let message = format!(
        "`{}` is one {} shared by every `{}`; `{}` {verb} through `{}`",
        group.attr, group.type_name, class.name, function.name, group.receiver
    );
    let mut related = vec![Label {
        file: defining_file,
        span: key.definition,
        message: "created once, when the class is defined".to_string(),
    }];
    for site in &group.sites {
        if let Some(alias) = site.alias
            && !related
                .iter()
                .any(|l| l.file == key.file && l.span == alias)
        {
            related.push(Label {
                file: key.file,
                span: alias,
                message: format!("`{}` is taken here, not copied", group.attr),
            });
        }
    }
    for site in &group.sites[1..] {
        related.push(Label {
            file: key.file,
            span: site.span,
            message: "and here".to_string(),
        });
    }
    Diagnostic {
        code: META.code,
        severity: META.severity,
        message,
        primary: Label {
            file: key.file,
            span: first.span,
            message: label.to_string(),
        },
        related,
        note: "in a long-running process, what one request writes here is seen by the next"
            .to_string(),
        help:
            "create it per instance in `__init__`, or annotate it `ClassVar` if sharing is intended"
                .to_string(),
        identity: vec![
            class.qualname.to_string(),
            group.attr,
            function.qualname.to_string(),
        ],
    }
}
