//! Changes in per-call code that may reach a class-level attribute: through an instance of a
//! class of the tree (`self.x.append(v)`, `r.x[k] = v`, see `instances`) or through the class
//! itself (`cls.x.append(v)`, `type(self).x[k] = v`, `C.x.update(...)`, `module.C.x.clear()`).
//! The rules that ask which class-level object a change reaches start from here.

use crate::facts::{AccessPath, FuncIdx, Root};
use crate::project::{ClassId, FileId, Project, Resolved};

use super::Model;
use super::timing::runs_per_call;

/// How a class-level change's receiver is written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClassReceiver {
    /// An instance: `self`, or the local's name.
    Instance(String),
    /// The class: `cls`, `type(self)`, `self.__class__` (`named: false`) or its name
    /// (`named: true`).
    Class { named: bool },
}

/// A change in per-call code whose receiver may hold class-level attributes of known classes.
#[derive(Debug, Clone)]
pub struct ClassLevelChange {
    pub file: FileId,
    /// Index in the file's `mutations`.
    pub mutation: u32,
    /// The classes whose attribute the change may reach.
    pub classes: Vec<ClassId>,
    /// Index in the change's target attributes of the class attribute (after `module.C`).
    pub attr_index: usize,
    pub receiver: ClassReceiver,
}

impl Model {
    /// Every change in per-call code through an instance of known classes or through a class,
    /// in file and mutation order. Worked out on the first question and kept.
    pub fn class_level_changes(&self, project: &Project) -> &[ClassLevelChange] {
        self.class_level_changes
            .get_or_init(|| collect_class_level_changes(self, project))
    }
}

fn collect_class_level_changes(model: &Model, project: &Project) -> Vec<ClassLevelChange> {
    let mut instance_changes = model.instance_changes(project).iter().peekable();
    let mut changes = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for (index, mutation) in source.facts.mutations.iter().enumerate() {
            let index = index as u32;
            if let Some(change) =
                instance_changes.next_if(|c| c.file == file && c.mutation == index)
            {
                changes.push(ClassLevelChange {
                    file,
                    mutation: index,
                    classes: change.classes.clone(),
                    attr_index: 0,
                    receiver: ClassReceiver::Instance(change.receiver.clone()),
                });
                continue;
            }
            if let Some(path) = class_path(project, file, mutation.function, &mutation.target)
                && runs_per_call(project, file, mutation.function)
            {
                changes.push(ClassLevelChange {
                    file,
                    mutation: index,
                    classes: path.classes,
                    attr_index: path.attr_index,
                    receiver: ClassReceiver::Class { named: path.named },
                });
            }
        }
    }
    changes
}

/// The class an access path written in `function` starts from when it goes through the class:
/// `cls.x`, `type(self).x`, `self.__class__.x` (the method's class, or any subclass of it), or
/// `C.x` / `module.C.x` for a class of the analysed tree (exactly that class). The path may end
/// at the class itself (`cls`), then `attr_index` is the number of attributes.
pub struct ClassPath {
    /// The classes the path may start from.
    pub classes: Vec<ClassId>,
    /// Index in the path's attributes of the class attribute (after `module.C`).
    pub attr_index: usize,
    /// Written with the class's name (`C.x`) rather than `cls`, `type(self)` or
    /// `self.__class__`.
    pub named: bool,
}

pub fn class_path(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    path: &AccessPath,
) -> Option<ClassPath> {
    match &path.root {
        Root::Class => {
            let class = project.method_class(file, function)?;
            let mut classes = vec![class];
            classes.extend(project.descendants(class));
            Some(ClassPath {
                classes,
                attr_index: 0,
                named: false,
            })
        }
        Root::Global(head) => {
            let mut dotted = head.to_string();
            for (index, attr) in path.attrs.iter().enumerate() {
                match project.resolve(file, Some(function), &dotted) {
                    Resolved::Class(class) => {
                        return Some(ClassPath {
                            classes: vec![class],
                            attr_index: index,
                            named: true,
                        });
                    }
                    // Only modules lead on to a class.
                    Resolved::Module(_) => {
                        dotted.push('.');
                        dotted.push_str(attr);
                    }
                    _ => return None,
                }
            }
            match project.resolve(file, Some(function), &dotted) {
                Resolved::Class(class) => Some(ClassPath {
                    classes: vec![class],
                    attr_index: path.attrs.len(),
                    named: true,
                }),
                _ => None,
            }
        }
        _ => None,
    }
}
