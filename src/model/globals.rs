//! Writes that reach module globals: a module-level object changed in place (`G[k] = v`,
//! `module.G.append(x)`, `G.attr = v`) and a global bound to another value (`global G; G = v`,
//! `module.G = v`). A global is a location whether or not it holds an object the model created
//! (a number, a string, an object of a library), so these writes are kept by the global they
//! reach rather than by object; rules that ask about module state start here.

use crate::facts::{AccessPath, FuncIdx, MutationKind, Name, Root, Span, Value};
use crate::project::{FileId, Project, Resolved};

use super::{Model, Timing, timing};

/// A module-level binding: its file and the index of its last binding in `FileFacts::globals`.
pub type GlobalId = (FileId, u32);

/// What a write to a global is, with the fact it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GlobalWriteKind {
    /// Mutation event `index` of the file's `mutations`, whose target reaches the global after
    /// `leading` of its attributes (`module.G[k] = v`: 1); the target's attributes after those
    /// are parts of the global's object (`G.items.append(x)`).
    Mutation { index: u32, leading: u32 },
    /// Rebind `index` of the file's `global_rebinds`: `global G` and then `G = v` in a function.
    Rebind { index: u32 },
    /// Attribute assignment `index` of the file's `attribute_assignments` on the global's object
    /// (`G.x = v`, `G.a.x = v`), its object path reaching the global after `leading` attributes.
    AttributeStore { index: u32, leading: u32 },
    /// Attribute assignment `index` that binds the global of another module: `module.G = v`.
    ModuleAttributeRebind { index: u32 },
}

/// One write that reaches a module global.
#[derive(Debug, Clone)]
pub struct GlobalWrite {
    pub file: FileId,
    pub function: FuncIdx,
    pub span: Span,
    /// The global written; `None` for a `global` name that only functions bind (no module-level
    /// binding, nothing imported of that name).
    pub global: Option<GlobalId>,
    pub kind: GlobalWriteKind,
    pub timing: Timing,
}

impl GlobalWrite {
    /// The module whose own name of the global this write binds to another object: the writing
    /// module for `global G; G = v` (and `G += v`, which binds the name when the object has no
    /// in-place operator), the module that `module` names for `module.G = v`. `None` for a change
    /// of the object itself (`G[k] = v`, `G.x = v`), which every name bound to it sees.
    ///
    /// The global a write reaches is found through imports, but names are not shared: a module
    /// that took it with `from M import G` (or a star import) has a name of its own, bound to
    /// the object `M.G` held then. Binding `M.G` again leaves that name as it was, and binding
    /// the importer's `G` leaves `M.G`; see [`binding_read_in`] for the name a read reads.
    pub fn binds_name_in(&self, project: &Project) -> Option<FileId> {
        let facts = &project.file(self.file).facts;
        match self.kind {
            GlobalWriteKind::Rebind { .. } => Some(self.file),
            GlobalWriteKind::ModuleAttributeRebind { index } => {
                let assignment = &facts.attribute_assignments[index as usize];
                module_named(
                    project,
                    self.file,
                    self.function,
                    &assignment.object,
                    usize::MAX,
                )
            }
            GlobalWriteKind::Mutation { index, leading } => {
                let mutation = &facts.mutations[index as usize];
                let binds = matches!(mutation.kind, MutationKind::InPlaceOperator(_))
                    && mutation.target.attrs.len() == leading as usize;
                match leading {
                    _ if !binds => None,
                    0 => Some(self.file),
                    _ => module_named(
                        project,
                        self.file,
                        self.function,
                        &mutation.target,
                        leading as usize - 1,
                    ),
                }
            }
            GlobalWriteKind::AttributeStore { .. } => None,
        }
    }
}

/// The module whose name `dotted`, read in `function` of `file` and resolving to a module global,
/// reads: the module its prefix names (`settings.TIMEZONE`: `settings`), or `file` itself for a
/// bare name, whether `file` binds the name or took it by `from M import name` or a star import
/// (a name of its own, which only `file`'s own bindings change).
pub fn binding_read_in(
    project: &Project,
    file: FileId,
    function: Option<FuncIdx>,
    dotted: &str,
) -> FileId {
    match dotted.rsplit_once('.') {
        Some((prefix, _)) => match project.resolve(file, function, prefix) {
            Resolved::Module(module) => module,
            _ => file,
        },
        None => file,
    }
}

/// The module that `path`'s root and its first `attrs` attributes name (all of them when
/// `attrs` is more than it has), when they name one.
fn module_named(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    path: &AccessPath,
    attrs: usize,
) -> Option<FileId> {
    let Root::Global(head) = &path.root else {
        return None;
    };
    let mut dotted = head.to_string();
    for attr in path.attrs.iter().take(attrs) {
        dotted.push('.');
        dotted.push_str(attr);
    }
    match project.resolve(file, Some(function), &dotted) {
        Resolved::Module(module) => Some(module),
        _ => None,
    }
}

impl Model {
    /// Every write in a function that reaches a module global, per file in the order rebinds,
    /// mutations, attribute assignments. Worked out on the first question and kept.
    pub fn global_writes(&self, project: &Project) -> &[GlobalWrite] {
        self.global_writes
            .get_or_init(|| collect_global_writes(project))
    }
}

impl Model {
    /// Whether every binding of the module global `global` that the analysis sees gives it a
    /// new `type_name`: each module-level binding is a display of that builtin kind or a call of
    /// the type, nothing is imported under its name, each rebind in a function is a type
    /// normalisation to it ([`crate::facts::FileFacts::type_normalisations`], which reads only
    /// the global) and each `module.G = v` of another module makes one too. Then
    /// `isinstance(G, T)` holds wherever the global is read. Not seen: bindings through
    /// `globals()`, `setattr` on the module, or by unpacking and `for` at module level.
    pub fn global_always_new(&self, project: &Project, global: GlobalId, type_name: &Name) -> bool {
        let (global_file, index) = global;
        let facts = &project.file(global_file).facts;
        let Some(name) = facts.globals.get(index as usize).map(|b| b.name) else {
            return false;
        };
        let made = |value: &Value| match value {
            Value::Container(kind) => kind.as_str() == type_name.as_str(),
            Value::Call { callee } => callee == type_name,
            _ => false,
        };
        facts
            .globals
            .iter()
            .filter(|binding| binding.name == name)
            .all(|binding| made(&binding.value))
            && !facts.imports.iter().any(|import| import.binding == name)
            && self
                .global_writes(project)
                .iter()
                .filter(|write| write.global == Some(global))
                .all(|write| {
                    let facts = &project.file(write.file).facts;
                    match write.kind {
                        GlobalWriteKind::Rebind { .. } => facts
                            .type_normalisations
                            .iter()
                            .any(|(start, t)| *start == write.span.start && t == type_name),
                        GlobalWriteKind::ModuleAttributeRebind { index } => {
                            made(&facts.attribute_assignments[index as usize].value)
                        }
                        GlobalWriteKind::Mutation { .. }
                        | GlobalWriteKind::AttributeStore { .. } => true,
                    }
                })
    }
}

fn collect_global_writes(project: &Project) -> Vec<GlobalWrite> {
    let mut writes = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        let facts = &source.facts;
        let mut write = |function: FuncIdx, span: Span, global, kind| {
            writes.push(GlobalWrite {
                file,
                function,
                span,
                global,
                kind,
                timing: timing(project, file, function, span),
            });
        };
        for (index, rebind) in facts.global_rebinds.iter().enumerate() {
            let global = match project.resolve(file, Some(rebind.function), &rebind.name) {
                Resolved::Global(global_file, index) => Some((global_file, index)),
                Resolved::Unknown => None,
                _ => continue,
            };
            let kind = GlobalWriteKind::Rebind {
                index: index as u32,
            };
            write(rebind.function, rebind.span, global, kind);
        }
        for (index, mutation) in facts.mutations.iter().enumerate() {
            if let Some((global, leading)) =
                global_of(project, file, mutation.function, &mutation.target)
            {
                let kind = GlobalWriteKind::Mutation {
                    index: index as u32,
                    leading: leading as u32,
                };
                write(mutation.function, mutation.span, Some(global), kind);
            }
        }
        for (index, assignment) in facts.attribute_assignments.iter().enumerate() {
            let index = index as u32;
            let function = assignment.function;
            if let Some((global, leading)) = global_of(project, file, function, &assignment.object)
            {
                let leading = leading as u32;
                let kind = GlobalWriteKind::AttributeStore { index, leading };
                write(function, assignment.span, Some(global), kind);
            } else {
                let mut path = assignment.object.clone();
                path.attrs.push(assignment.attr);
                if let Some((global, _)) = global_of(project, file, function, &path) {
                    let kind = GlobalWriteKind::ModuleAttributeRebind { index };
                    write(function, assignment.span, Some(global), kind);
                }
            }
        }
    }
    writes
}

/// The module global at the start of `path` written in `function` of `file` (`G`, `module.G`,
/// `G.x[k]`), and how many of the path's attributes (modules) lead to it.
fn global_of(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    path: &AccessPath,
) -> Option<(GlobalId, usize)> {
    let Root::Global(head) = &path.root else {
        return None;
    };
    let mut dotted = head.to_string();
    let mut leading = 0;
    loop {
        match project.resolve(file, Some(function), &dotted) {
            Resolved::Global(global_file, index) => return Some(((global_file, index), leading)),
            // Only modules lead on to a global of another module.
            Resolved::Module(_) => {
                let attr: &Name = path.attrs.get(leading)?;
                dotted.push('.');
                dotted.push_str(attr);
                leading += 1;
            }
            _ => return None,
        }
    }
}
