//! Whether code lies in a branch no call runs ([`crate::facts::FileFacts::dead_code`]): a change
//! there changes nothing, and no finding may claim it.
//!
//! The extractor's proof is local to the function, but for one reading `self.A[i]`, `A` a tuple
//! of true literals bound once in the method's class body: that holds only while `A` is the
//! class's. So here nothing else in the tree may bind or store an attribute named `A`: no other
//! class's body binds it or defines a method of that name, no code anywhere stores, deletes or
//! `setattr`s it (nor a computed `setattr` on `self` in the class's MRO,
//! [`super::construction::stored_nowhere_else`]), and no class of the MRO defines
//! `__getattribute__`.

use crate::project::{FileId, Project};

use super::construction::stored_nowhere_else;

/// Whether the code starting at `start` in `file` lies in a branch that no call runs.
pub fn never_runs(project: &Project, file: FileId, start: u32) -> bool {
    let facts = &project.file(file).facts;
    let Some(dead) = facts.dead_branch_at(start) else {
        return false;
    };
    if dead.class_attrs.is_empty() {
        return true;
    }
    let Some(class) = project.method_class(file, dead.function) else {
        return false;
    };
    if project.lookup_method(class, "__getattribute__").is_some() {
        return false;
    }
    dead.class_attrs.iter().all(|attr| {
        let bound_elsewhere = project.files.iter().enumerate().any(|(file_id, each)| {
            each.facts.classes.iter().enumerate().any(|(idx, other)| {
                project.class_id(file_id as FileId, idx as u32) != class
                    && other.bindings.iter().any(|binding| binding.name == *attr)
            }) || each.facts.functions.iter().any(|function| {
                function.name == *attr
                    && function
                        .class
                        .is_some_and(|c| project.class_id(file_id as FileId, c) != class)
            })
        });
        !bound_elsewhere && stored_nowhere_else(project, class, *attr, None)
    })
}
