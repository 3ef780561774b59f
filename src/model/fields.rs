//! Changes of instance attributes through `self`, by the attribute and the class whose method
//! makes them: the per-instance location (`Location::Field`) a change reaches, whatever object
//! it holds. A rule that knows what an attribute was bound to (an alias of a shared object taken
//! in `__init__`) asks which methods of the hierarchy change it.

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{ByText, Name, Root};
use crate::project::{ClassId, FileId, FuncId};

use super::Model;
use crate::project::Project;

/// A change of `self.<attr>` (`self.items.append(x)`, `self.items[k] = v`, an element's
/// `self.items[k].append(x)`; not an attribute's, `self.items.inner.append(x)`) in a method of
/// `class`.
#[derive(Debug, Clone, Copy)]
pub struct FieldChange {
    pub file: FileId,
    /// Index in the file's `mutations`.
    pub mutation: u32,
    /// The class whose method makes the change.
    pub class: ClassId,
}

/// The writes of `self.<attr>` in one method and the functions nested in it: rebinds
/// (`self.user = u`) and changes of what the attribute holds (`self.items.append(x)`), each as
/// an index in the file's facts, in file order.
#[derive(Debug, Default)]
pub struct SelfWrites {
    /// Indexes in `attribute_assignments`.
    pub assignments: Vec<u32>,
    /// Indexes in `mutations`.
    pub mutations: Vec<u32>,
}

impl Model {
    /// The writes of `self.<attr>` in `method` (a function not nested in another) and the
    /// functions nested in it. Worked out on the first question and kept.
    pub fn self_writes_in(&self, project: &Project, method: FuncId) -> Option<&SelfWrites> {
        self.self_writes
            .get_or_init(|| collect_self_writes(project))
            .get(&method)
    }

    /// The changes of `self.<attr>` in methods, in file order. Worked out on the first question
    /// and kept.
    pub fn self_field_changes(&self, project: &Project, attr: &str) -> &[FieldChange] {
        self.field_changes
            .get_or_init(|| collect_field_changes(project))
            .get_text(attr)
            .map_or(&[], Vec::as_slice)
    }
}

fn collect_field_changes(project: &Project) -> HashMap<Name, Vec<FieldChange>> {
    let mut by_attr: HashMap<Name, Vec<FieldChange>> = HashMap::default();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, mutation) in source.facts.mutations.iter().enumerate() {
            if mutation.target.root != Root::SelfParam {
                continue;
            }
            let [attr] = mutation.target.attrs.as_slice() else {
                continue;
            };
            if let Some(class) = project.method_class(file, mutation.function) {
                by_attr.entry(*attr).or_default().push(FieldChange {
                    file,
                    mutation: index as u32,
                    class,
                });
            }
        }
    }
    by_attr
}

fn collect_self_writes(project: &Project) -> HashMap<FuncId, SelfWrites> {
    let mut by_method: HashMap<FuncId, SelfWrites> = HashMap::default();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        let method_of =
            |function| project.function_id(file, project.outermost_function(file, function));
        for (index, assignment) in facts.attribute_assignments.iter().enumerate() {
            if assignment.object.root == Root::SelfParam && assignment.object.attrs.is_empty() {
                by_method
                    .entry(method_of(assignment.function))
                    .or_default()
                    .assignments
                    .push(index as u32);
            }
        }
        for (index, mutation) in facts.mutations.iter().enumerate() {
            if mutation.target.root == Root::SelfParam && mutation.target.attrs.len() == 1 {
                by_method
                    .entry(method_of(mutation.function))
                    .or_default()
                    .mutations
                    .push(index as u32);
            }
        }
    }
    by_method
}
