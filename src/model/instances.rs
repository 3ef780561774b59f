//! Changes whose receiver is an instance of a class of the tree: `self.x.append(v)` in a method
//! (an instance of the method's class or of any subclass), `r.x[k] = v` on a local bound to
//! `Runner()` (exactly that class) or annotated `r: Runner` (or a subclass). Such a change may
//! reach an attribute the instance inherits from its class: the class-level object every
//! instance shares, unless the instance shadows it.

use crate::facts::{FunctionKind, Mutation, Root};
use crate::project::{ClassId, FileId, Project, Resolved};

use super::Model;
use super::lookup::typed_local;
use super::timing::runs_per_call;

/// A change in per-call code whose receiver is an instance of known classes.
#[derive(Debug, Clone)]
pub struct InstanceChange {
    pub file: FileId,
    /// Index in the file's `mutations`.
    pub mutation: u32,
    /// The classes the instance may have.
    pub classes: Vec<ClassId>,
    /// How the receiver is written: `self`, or the local's name.
    pub receiver: String,
}

impl Model {
    /// Every change in per-call code whose receiver is an instance of known classes, in file
    /// and mutation order. Worked out on the first question and kept.
    pub fn instance_changes(&self, project: &Project) -> &[InstanceChange] {
        self.instance_changes
            .get_or_init(|| collect_instance_changes(project))
    }
}

pub(super) fn collect_instance_changes(project: &Project) -> Vec<InstanceChange> {
    let mut changes = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, mutation) in source.facts.mutations.iter().enumerate() {
            if let Some((classes, receiver)) = instance_receiver_classes(project, file, mutation) {
                changes.push(InstanceChange {
                    file,
                    mutation: index as u32,
                    classes,
                    receiver,
                });
            }
        }
    }
    changes
}

/// The classes an instance reached by the mutation's receiver may have, and how the receiver is
/// written, when the mutation is in per-call code. `self` in a method of `C` may be an instance
/// of `C` or of any subclass.
pub fn instance_receiver_classes(
    project: &Project,
    file: FileId,
    mutation: &Mutation,
) -> Option<(Vec<ClassId>, String)> {
    let functions = &project.file(file).facts.functions;
    let outer = project.outermost_function(file, mutation.function);
    let method = &functions[outer as usize];
    if !runs_per_call(project, file, mutation.function) {
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
