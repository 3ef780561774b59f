//! `threading.local()` objects and the writes that reach their attributes. A thread-local is
//! one object per thread, not per request or task: code that writes it from an event loop shares
//! it with every task on that thread. The objects are the module- and class-level bindings to a
//! thread-local call (`threading.local()`, a subclass of the tree) and those stored on `self`
//! in a method (`self._local = threading.local()`), found by the class hierarchy; the writes
//! are attribute stores on them (`_local.user = u`) and in-place changes of their attributes
//! (`_local.stack.append(x)`).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{AccessPath, FuncIdx, Root, Span, Value};
use crate::knowledge;
use crate::project::{ClassId, FileId, Project, Resolved};

use super::Model;
use super::lookup::{binding_of_path, class_hierarchy};

/// A thread-local object: how the write names it and where it is created.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct ThreadLocal {
    pub name: String,
    pub file: FileId,
    pub span: Span,
}

/// A write of an attribute of a thread-local, in `function` of `file`.
#[derive(Debug, Clone)]
pub struct ThreadLocalWrite {
    pub file: FileId,
    pub function: FuncIdx,
    pub span: Span,
    /// What is written, as the source writes it: `_local.user`, `self._local.stack`.
    pub written: String,
    pub object: ThreadLocal,
}

impl Model {
    /// Every write of a thread-local's attributes in a function, per file: attribute stores,
    /// then in-place changes. Worked out on the first question and kept.
    pub fn thread_local_writes(&self, project: &Project) -> &[ThreadLocalWrite] {
        self.thread_local_writes
            .get_or_init(|| collect_thread_local_writes(project))
    }
}

fn collect_thread_local_writes(project: &Project) -> Vec<ThreadLocalWrite> {
    let finder = Finder::new(project);
    let mut writes = Vec::new();
    if finder.names.is_empty() {
        return writes;
    }
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        for assignment in &facts.attribute_assignments {
            if let Some(object) = finder.object(file, assignment.function, &assignment.object) {
                writes.push(ThreadLocalWrite {
                    file,
                    function: assignment.function,
                    span: assignment.span,
                    written: format!("{}.{}", assignment.object.display(), assignment.attr),
                    object,
                });
            }
        }
        for mutation in &facts.mutations {
            if mutation.target.attrs.is_empty() {
                continue;
            }
            // The thread-local is a proper prefix of the changed object's path.
            let mut prefix = mutation.target.clone();
            prefix.attrs.pop();
            if let Some(object) = finder.object(file, mutation.function, &prefix) {
                writes.push(ThreadLocalWrite {
                    file,
                    function: mutation.function,
                    span: mutation.span,
                    written: mutation.target.display(),
                    object,
                });
            }
        }
    }
    writes
}

/// Finds the thread-local object an access path denotes.
struct Finder<'p> {
    project: &'p Project,
    /// Names bound (module, class or instance level) to a call that may create a thread-local.
    names: HashSet<&'p str>,
    /// `self.attr = threading.local()` in a method of a class.
    instance: HashMap<(ClassId, &'p str), ThreadLocal>,
}

impl<'p> Finder<'p> {
    fn new(project: &'p Project) -> Self {
        let local_classes: HashSet<&str> = project
            .class_ids()
            .filter(|c| {
                !project.class(*c).1.bases.is_empty()
                    && project.inherits_external(*c, knowledge::THREAD_LOCAL_TYPES)
            })
            .map(|c| project.class(c).1.name.as_str())
            .collect();
        let may_create = |value: &Value| match value {
            Value::Call { callee } => {
                let last = knowledge::last_segment(callee);
                last == "local" || local_classes.contains(last)
            }
            _ => false,
        };
        let mut names = HashSet::default();
        let mut instance = HashMap::default();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            for binding in facts
                .globals
                .iter()
                .chain(facts.classes.iter().flat_map(|c| c.bindings.iter()))
            {
                if may_create(&binding.value) {
                    names.insert(binding.name.as_str());
                }
            }
            for assignment in &facts.attribute_assignments {
                if assignment.object == AccessPath::new(Root::SelfParam)
                    && may_create(&assignment.value)
                    && is_thread_local(
                        project,
                        file_id,
                        Some(assignment.function),
                        &assignment.value,
                    )
                    && let Some(class) = project.method_class(file_id, assignment.function)
                {
                    names.insert(assignment.attr.as_str());
                    instance
                        .entry((class, assignment.attr.as_str()))
                        .or_insert(ThreadLocal {
                            name: format!("self.{}", assignment.attr),
                            file: file_id,
                            span: assignment.span,
                        });
                }
            }
        }
        Finder {
            project,
            names,
            instance,
        }
    }

    fn object(&self, file: FileId, function: FuncIdx, path: &AccessPath) -> Option<ThreadLocal> {
        let last = match (path.attrs.last(), &path.root) {
            (Some(last), _) => last.as_str(),
            (None, Root::Global(name)) => name.as_str(),
            _ => return None,
        };
        if !self.names.contains(last) {
            return None;
        }
        let project = self.project;
        if let Some(binding) = binding_of_path(project, file, function, path, path.attrs.len()) {
            let binding_file = binding.file(project);
            let facts = binding.binding();
            if is_thread_local(project, binding_file, None, &facts.value) {
                return Some(ThreadLocal {
                    name: path.display(),
                    file: binding_file,
                    span: facts.span,
                });
            }
        }
        if path.root == Root::SelfParam && path.attrs.len() == 1 {
            let class = project.method_class(file, function)?;
            return class_hierarchy(project, class)
                .iter()
                .find_map(|c| self.instance.get(&(*c, last)).cloned());
        }
        None
    }
}

fn is_thread_local(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    value: &Value,
) -> bool {
    let Value::Call { callee } = value else {
        return false;
    };
    match project.resolve(file, function, callee) {
        Resolved::External(q) => knowledge::THREAD_LOCAL_TYPES.contains(&q.as_str()),
        Resolved::Class(class) => project.inherits_external(class, knowledge::THREAD_LOCAL_TYPES),
        _ => false,
    }
}
