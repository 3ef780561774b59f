//! SL101: a class-level mutable object changed through an instance by code that runs per call.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{Mutation, MutationKind, Span};
use crate::project::{ClassId, FileId, Project};

use super::common::{self, InstanceAssignments, SharedObject};
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
    /// The attribute of a shared object whose container changes (`items` in
    /// `self.state.items.append(v)`).
    inner: Option<String>,
}

struct Group<'a> {
    attr: String,
    object: SharedObject,
    receiver: String,
    sites: Vec<&'a Mutation>,
}

impl Rule for SharedClassStateMutatedThroughInstance {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let candidate_names = common::class_level_candidates(project);
        if candidate_names.is_empty() {
            return Vec::new();
        }
        let instance_assignments = InstanceAssignments::collect(project);
        let mut groups: BTreeMap<FindingKey, Group<'_>> = BTreeMap::new();

        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for mutation in &file.facts.mutations {
                let (attr, inner) = match mutation.target.attrs.as_slice() {
                    [attr] => (attr, None),
                    [attr, inner] => (attr, Some(inner)),
                    _ => continue,
                };
                if !candidate_names.contains(attr.as_str()) {
                    continue;
                }
                let Some((classes, receiver)) =
                    common::instance_receiver_classes(project, file_id, mutation)
                else {
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
                    let Some(object) =
                        common::shared_object(project, defining_file, &binding.value)
                    else {
                        continue;
                    };
                    if !common::changes_shared_object(
                        project,
                        file_id,
                        mutation,
                        &object,
                        inner.map(|i| i.as_str()),
                    ) {
                        continue;
                    }
                    let key = FindingKey {
                        file: file_id,
                        function: mutation.function,
                        defining_class,
                        definition: binding.span,
                        inner: inner.map(|i| i.to_string()),
                    };
                    let group = groups.entry(key).or_insert_with(|| Group {
                        attr: attr.to_string(),
                        object,
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

fn report(project: &Project, key: &FindingKey, group: Group<'_>) -> Diagnostic {
    let (_, class) = project.class(key.defining_class);
    let defining_file = project.class(key.defining_class).0;
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let first = group.sites[0];
    let (verb, label) = match (&group.object, &key.inner, &first.kind) {
        (SharedObject::Object { .. }, None, MutationKind::AttributeAssign(name)) => (
            format!("sets its attribute `{name}`"),
            "set here, on every call",
        ),
        (SharedObject::Object { .. }, None, _) => (
            "changes its attributes".to_string(),
            "changed here, on every call",
        ),
        (_, inner, _) => {
            let object = inner
                .as_ref()
                .map_or("it".to_string(), |i| format!("`{}.{i}`", group.attr));
            if common::only_adds(group.sites.iter().copied()) {
                (
                    format!("writes into {object}"),
                    "written here, on every call",
                )
            } else {
                (format!("changes {object}"), "changed here, on every call")
            }
        }
    };
    let kind = match &group.object {
        SharedObject::Container(type_name) => type_name.clone(),
        SharedObject::Object { type_name, .. } => format!("`{type_name}` object"),
    };
    let message = format!(
        "`{}` is one {kind} shared by every `{}`; `{}` {verb} through `{}`",
        group.attr, class.name, function.name, group.receiver
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
    let mut identity = vec![
        class.qualname.to_string(),
        group.attr,
        function.qualname.to_string(),
    ];
    identity.extend(key.inner.clone());
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
        identity,
    }
}
