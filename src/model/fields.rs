//! Changes of instance attributes through `self`, by the attribute and the class whose method
//! makes them: the per-instance location (`Location::Field`) a change reaches, whatever object
//! it holds. A rule that knows what an attribute was bound to (an alias of a shared object taken
//! in `__init__`) asks which methods of the hierarchy change it.

use rustc_hash::FxHashMap as HashMap;

use crate::facts::{Name, Root};
use crate::project::{ClassId, FileId};

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

impl Model {
    /// The changes of `self.<attr>` in methods, in file order. Worked out on the first question
    /// and kept.
    pub fn self_field_changes(&self, project: &Project, attr: &str) -> &[FieldChange] {
        self.field_changes
            .get_or_init(|| collect_field_changes(project))
            .get(attr)
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
                by_attr.entry(attr.clone()).or_default().push(FieldChange {
                    file,
                    mutation: index as u32,
                    class,
                });
            }
        }
    }
    by_attr
}
