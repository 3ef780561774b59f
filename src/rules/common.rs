//! Questions several rules ask of the linked project.

use std::collections::HashMap;

use crate::facts::{Binding, Root, Value};
use crate::knowledge;
use crate::project::{ClassId, FileId, MroEntry, Project, Resolved};

use super::Context;

/// The type name of the mutable object `value` creates when evaluated in `file`, if it does.
pub fn mutable_type(project: &Project, file: FileId, value: &Value) -> Option<String> {
    match value {
        Value::Container(kind) => Some(kind.as_str().to_string()),
        Value::Call { callee } => match project.resolve(file, None, callee) {
            Resolved::External(q) if knowledge::MUTABLE_TYPES.contains(&q.as_str()) => {
                Some(q.rsplit('.').next().unwrap_or(&q).to_string())
            }
            Resolved::Class(class)
                if project.inherits_external(class, knowledge::MUTABLE_TYPES) =>
            {
                Some(project.class(class).1.name.to_string())
            }
            _ => None,
        },
        _ => None,
    }
}

/// A class-level binding annotated `ClassVar`: sharing is declared.
pub fn is_classvar(binding: &Binding) -> bool {
    binding
        .annotation
        .as_deref()
        .is_some_and(knowledge::is_classvar_annotation)
}

/// Classes whose instances get their own copies of class-level defaults (pydantic models and
/// similar, configured `safe-bases`), Enums, and metaclasses: their class-level containers are
/// not shared through instances.
pub fn copies_or_has_no_instances(context: &Context<'_>, class: ClassId) -> bool {
    let project = context.project;
    project.mro(class).iter().any(|entry| match entry {
        MroEntry::External(q) => {
            knowledge::COPYING_BASES.contains(&q.as_str())
                || knowledge::ENUM_BASES.contains(&q.as_str())
                || q == "builtins.type"
                || context.settings.safe_bases.iter().any(|s| s == q)
        }
        MroEntry::Class(c) => {
            let (file, facts) = project.class(*c);
            let qualified = format!("{}.{}", project.file(file).module, facts.qualname);
            context.settings.safe_bases.contains(&qualified)
        }
    })
}

/// An assignment `self.attr = <new object>` in a method of a class.
#[derive(Debug, Clone, Copy)]
pub struct InstanceAssignment {
    pub file: FileId,
    pub function: u32,
    pub start: u32,
    /// In a method that runs when the instance is created (`__init__`, `setUp`, ...).
    pub in_setup: bool,
}

/// Where each class gives its instances their own value of each attribute.
pub struct InstanceAssignments {
    by_class: HashMap<(ClassId, String), Vec<InstanceAssignment>>,
}

impl InstanceAssignments {
    pub fn collect(project: &Project) -> Self {
        let mut by_class: HashMap<(ClassId, String), Vec<InstanceAssignment>> = HashMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for assignment in &file.facts.attribute_assignments {
                if assignment.object.root != Root::SelfParam || !assignment.object.attrs.is_empty()
                {
                    continue;
                }
                // `self.x = self.DEFAULTS` gives the instance no object of its own.
                if let Value::Alias(path) = &assignment.value
                    && matches!(path.root, Root::SelfParam | Root::Class | Root::Global(_))
                {
                    continue;
                }
                let Some(class) = project.method_class(file_id, assignment.function) else {
                    continue;
                };
                let outer = project.outermost_function(file_id, assignment.function);
                let method = &file.facts.functions[outer as usize];
                by_class
                    .entry((class, assignment.attr.to_string()))
                    .or_default()
                    .push(InstanceAssignment {
                        file: file_id,
                        function: assignment.function,
                        start: assignment.span.start,
                        in_setup: knowledge::INSTANCE_SETUP_METHODS.contains(&method.name.as_str()),
                    });
            }
        }
        InstanceAssignments { by_class }
    }

    /// Whether an instance of `class` has its own `attr` by the time code at `start` in
    /// `function` of `file` runs.
    pub fn shadows(
        &self,
        project: &Project,
        class: ClassId,
        attr: &str,
        file: FileId,
        function: u32,
        start: u32,
    ) -> bool {
        project.mro(class).iter().any(|entry| {
            let MroEntry::Class(c) = entry else {
                return false;
            };
            self.by_class
                .get(&(*c, attr.to_string()))
                .is_some_and(|list| {
                    list.iter().any(|a| {
                        let same_function = a.file == file && a.function == function;
                        if same_function {
                            a.start < start
                        } else {
                            a.in_setup
                        }
                    })
                })
        })
    }
}
