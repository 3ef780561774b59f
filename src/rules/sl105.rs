//! SL105: a `ClassVar`-annotated container written through `self` or the class by per-call code.
//! Off by default: the sharing is declared, and this rule lets a team audit those places.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, Mutation, Span};
use crate::model::{ClassLevelChange, ClassReceiver};
use crate::project::{ClassId, FileId, Project};

use super::common::{self, SharedObject};
use super::{Context, Rule, RuleMeta};

pub struct DeclaredSharedStateWrittenPerCall;

static META: RuleMeta = RuleMeta {
    code: "SL105",
    name: "declared-shared-state-written-per-call",
    summary: "A `ClassVar`-annotated container is written through `self` or the class by code that runs per call (audit)",
    severity: Severity::Warning,
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL105.md"),
};

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: FileId,
    function: FuncIdx,
    defining_class: ClassId,
    definition: Span,
}

struct Group<'a> {
    attr: String,
    type_name: String,
    receiver: String,
    sites: Vec<&'a Mutation>,
}

impl Rule for DeclaredSharedStateWrittenPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let declared: std::collections::HashSet<&str> = project
            .files
            .iter()
            .flat_map(|f| f.facts.classes.iter())
            .flat_map(|c| c.bindings.iter())
            .filter(|b| common::is_classvar(b))
            .map(|b| b.name.as_str())
            .collect();
        if declared.is_empty() {
            return Vec::new();
        }
        let instance_assignments = context.model.instance_assignments(project);
        let mut groups: BTreeMap<Key, Group<'_>> = BTreeMap::new();
        for change in context.model.class_level_changes(project) {
            let file_id = change.file;
            let mutation = &project.file(file_id).facts.mutations[change.mutation as usize];
            if !mutation
                .target
                .attrs
                .iter()
                .any(|a| declared.contains(a.as_str()))
                || common::in_test_code(project, file_id, mutation.function)
            {
                continue;
            }
            let Some((attr, receiver)) = receiver(project, change, mutation) else {
                continue;
            };
            for &class in &change.classes {
                let Some((defining_class, binding)) = project.lookup_class_attribute(class, &attr)
                else {
                    continue;
                };
                if !common::is_classvar(binding)
                    || project.class(defining_class).1.in_function
                    || (matches!(change.receiver, ClassReceiver::Instance(_))
                        && instance_assignments.shadows(
                            project,
                            class,
                            &attr,
                            file_id,
                            mutation.function,
                            mutation.span.start,
                        ))
                {
                    continue;
                }
                let defining_file = project.class(defining_class).0;
                let Some(SharedObject::Container(type_name)) =
                    common::shared_object(project, defining_file, &binding.value)
                else {
                    continue;
                };
                if !common::changes_container(project, file_id, mutation, &type_name) {
                    continue;
                }
                let key = Key {
                    file: file_id,
                    function: mutation.function,
                    defining_class,
                    definition: binding.span,
                };
                let group = groups.entry(key).or_insert_with(|| Group {
                    attr: attr.clone(),
                    type_name,
                    receiver: receiver.clone(),
                    sites: Vec::new(),
                });
                group.sites.push(mutation);
            }
        }
        groups
            .into_iter()
            .map(|(key, mut group)| {
                common::sort_sites(&mut group.sites);
                report(project, &key, group)
            })
            .collect()
    }
}

/// The class attribute the change writes and how its receiver is written: through an instance
/// (`self.x`, a typed local) or through the class (`cls.x`, `type(self).x`, `C.x`). Only the
/// attribute's own object counts, not an attribute of it.
fn receiver(
    project: &Project,
    change: &ClassLevelChange,
    mutation: &Mutation,
) -> Option<(String, String)> {
    let attrs = &mutation.target.attrs;
    if change.attr_index + 1 != attrs.len() {
        return None;
    }
    let receiver = match &change.receiver {
        ClassReceiver::Instance(name) => format!("`{name}`"),
        ClassReceiver::Class { named: true } => {
            format!("`{}`", project.class(change.classes[0]).1.name)
        }
        ClassReceiver::Class { named: false } => "the class".to_string(),
    };
    Some((attrs[change.attr_index].to_string(), receiver))
}

fn report(project: &Project, key: &Key, group: Group<'_>) -> Diagnostic {
    let (defining_file, class) = project.class(key.defining_class);
    let function = &project.file(key.file).facts.functions[key.function as usize];
    let first = group.sites[0];
    let facts = &project.file(key.file).facts;
    let (verb, label) = common::describe_container_change("it", &group.sites, facts);
    let when = common::when(
        facts.runs_on_every_call(first.span.start),
        " on every call",
        "",
    );
    let mut related = vec![Label::new(
        defining_file,
        key.definition,
        "declared shared: one object for the whole process",
    )];
    related.extend(
        group.sites[1..]
            .iter()
            .map(|site| Label::and_here(key.file, site.span)),
    );
    META.diagnostic(
        format!(
            "`{}` is a `ClassVar` {} shared by every `{}`; `{}` {verb} through {}{when}",
            group.attr, group.type_name, class.name, function.name, group.receiver
        ),
        Label::new(key.file, first.span, label),
    )
    .with_related(related)
    .with_note(
        "`ClassVar` silences other linters and type checkers, but the object is still \
         filled by per-call code: what one request puts there, the next one sees",
    )
    .with_help(
        "keep per-request data on the instance; a process-wide cache should be keyed by \
         everything its values depend on and bounded in size",
    )
    .with_identity(vec![
        class.qualname.to_string(),
        group.attr,
        function.qualname.to_string(),
    ])
}
