//! Which attribute names code writes, by name alone, over the whole tree: assigned (`x.a = v`,
//! `setattr(x, "a", v)`), rebound or changed outside an instance's set-up, and emptied
//! (`x.a.clear()`, `CACHE.clear()`). A rule asks it to prove an absence — that no code changes
//! an attribute once set-up is over, that instances never differ in it — so a name matches
//! whatever object it is written on, and a `setattr` whose name is not a literal matches every
//! name.

use rustc_hash::FxHashSet as HashSet;

use crate::facts::{ByText, MutationKind, Name, Root};
use crate::knowledge;
use crate::project::Project;

use super::Model;

/// The attribute names the tree writes, by kind of write.
#[derive(Debug, Default)]
pub struct AttributeWrites {
    /// Names assigned anywhere, by `x.a = v` or `setattr(x, "a", v)`.
    assigned: HashSet<Name>,
    /// Names rebound or changed in place (`x.a = v`, `setattr`, `x.a.append(v)`, `x.a.b[k] = v`)
    /// by a function that is not an instance's set-up method (`__init__`, ...).
    changed_after_setup: HashSet<Name>,
    /// Names, the last attribute or the bare name, of what a `.clear()` call empties.
    emptied: HashSet<Name>,
    /// A `setattr` whose name is not a literal, anywhere.
    any_name_set: bool,
    /// The same, outside set-up methods.
    any_name_set_after_setup: bool,
}

impl AttributeWrites {
    /// Whether some code assigns attribute `attr` on an object (so instances may differ in it),
    /// rather than only class bodies binding it.
    pub fn assigned(&self, attr: &str) -> bool {
        self.any_name_set || self.assigned.contains_text(attr)
    }

    /// Whether code other than an instance's set-up or module and class bodies may rebind or
    /// change an attribute named `attr`, on any object.
    pub fn changed_after_setup(&self, attr: &str) -> bool {
        self.any_name_set_after_setup || self.changed_after_setup.contains_text(attr)
    }

    /// Whether some code calls `.clear()` on an attribute or name `name`.
    pub fn emptied(&self, name: &str) -> bool {
        self.emptied.contains_text(name)
    }
}

impl Model {
    /// The attribute names the tree writes. Worked out on the first question and kept.
    pub fn attribute_writes(&self, project: &Project) -> &AttributeWrites {
        self.attribute_writes
            .get_or_init(|| collect_attribute_writes(project))
    }
}

fn collect_attribute_writes(project: &Project) -> AttributeWrites {
    let mut writes = AttributeWrites::default();
    for file in &project.files {
        let facts = &file.facts;
        let after_setup = |function: u32| {
            let method = &facts.functions[function as usize];
            !knowledge::INSTANCE_SETUP_METHODS.contains(&method.name.as_str())
        };
        for assignment in &facts.attribute_assignments {
            writes.assigned.insert(assignment.attr);
            if after_setup(assignment.function) {
                writes.changed_after_setup.insert(assignment.attr);
            }
        }
        for call in &facts.setattr_calls {
            let after = after_setup(call.function);
            match &call.name {
                Some(name) => {
                    writes.assigned.insert(*name);
                    if after {
                        writes.changed_after_setup.insert(*name);
                    }
                }
                None => {
                    writes.any_name_set = true;
                    writes.any_name_set_after_setup |= after;
                }
            }
        }
        for mutation in &facts.mutations {
            if after_setup(mutation.function) {
                writes
                    .changed_after_setup
                    .extend(mutation.target.attrs.iter().cloned());
            }
            if matches!(&mutation.kind, MutationKind::Method(name) if name == "clear") {
                let emptied = match (&mutation.target.root, mutation.target.attrs.last()) {
                    (_, Some(attr)) => Some(attr),
                    (Root::Global(name) | Root::Local(name), None) => Some(name),
                    _ => None,
                };
                writes.emptied.extend(emptied.cloned());
            }
        }
    }
    writes
}
