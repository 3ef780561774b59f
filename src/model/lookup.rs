//! Lookups the model and the rules share: classes along the hierarchy, methods, callees, locals
//! of known class.

use crate::facts::Value;
use crate::facts::{AccessPath, Binding, CallReceiver, FuncIdx, FunctionKind, Root};
use crate::knowledge;
use crate::project::{ClassId, FileId, FuncId, MroEntry, Project, Resolved};

/// The classes of the analysed tree in the MRO of `class`, itself first.
pub fn project_mro(project: &Project, class: ClassId) -> impl Iterator<Item = ClassId> + '_ {
    project.mro(class).filter_map(|entry| match entry {
        MroEntry::Class(c) => Some(*c),
        MroEntry::External(_) => None,
    })
}

/// The classes whose methods may run on an instance whose class is `class` or a subclass: the
/// project classes of its MRO, in MRO order, then its subclasses.
pub fn class_hierarchy(project: &Project, class: ClassId) -> Vec<ClassId> {
    let mut classes: Vec<ClassId> = project_mro(project, class).collect();
    classes.extend(project.descendants(class));
    classes
}

/// The function of the analysed tree a callee written in `function` of `file` calls: a plain or
/// dotted name (`helper`, `utils.helper`, `Service.build`), a method through the instance or
/// class parameter (`self.helper`, `cls.build`), or a class (its `__init__`). The flag says whether the call binds the
/// callee's first parameter (`self.helper(x)` passes `x` as the second parameter).
pub fn resolve_callee(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    callee: &str,
) -> Option<(FuncId, bool)> {
    let binds = |f: FuncId| {
        matches!(
            project.function(f).1.kind,
            FunctionKind::Instance | FunctionKind::ClassMethod
        )
    };
    let functions = &project.file(file).facts.functions;
    let outer = &functions[project.outermost_function(file, function) as usize];
    if let Some((receiver, method)) = callee.split_once('.')
        && !method.contains('.')
        && matches!(
            outer.kind,
            FunctionKind::Instance | FunctionKind::ClassMethod
        )
        && outer.params.first().is_some_and(|p| p.name == receiver)
    {
        let class = project.method_class(file, function)?;
        let found = project.lookup_method(class, method)?;
        return Some((found, binds(found)));
    }
    match project.resolve(file, Some(function), callee) {
        Resolved::Function(f) => Some((f, false)),
        // `C(...)` runs `C.__init__` with the new instance as `self`.
        Resolved::Class(class) => project.lookup_method(class, "__init__").map(|f| (f, true)),
        _ => {
            let (owner, method) = callee.rsplit_once('.')?;
            let Resolved::Class(class) = project.resolve(file, Some(function), owner) else {
                return None;
            };
            let found = project.lookup_method(class, method)?;
            let kind = project.function(found).1.kind;
            Some((found, kind == FunctionKind::ClassMethod))
        }
    }
}

pub fn typed_local<'a>(
    project: &'a Project,
    file: FileId,
    function: u32,
    name: &str,
) -> Option<&'a crate::facts::TypedLocal> {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        if let Some(local) = facts.typed_locals.iter().find(|t| t.name == name) {
            return Some(local);
        }
        current = facts.parent;
    }
    None
}

/// A module- or class-level binding an access path leads to.
#[derive(Debug, Clone, Copy)]
pub enum BindingRef<'a> {
    /// A module global and its file.
    Global(FileId, &'a Binding),
    /// A class-level binding, found through the MRO: the class that defines it.
    ClassLevel(ClassId, &'a Binding),
}

impl<'a> BindingRef<'a> {
    pub fn binding(&self) -> &'a Binding {
        match self {
            BindingRef::Global(_, b) | BindingRef::ClassLevel(_, b) => b,
        }
    }

    /// The file whose scope evaluates the binding's value.
    pub fn file(&self, project: &Project) -> FileId {
        match self {
            BindingRef::Global(file, _) => *file,
            BindingRef::ClassLevel(class, _) => project.class(*class).0,
        }
    }
}

/// The module- or class-level binding that the root and the first `len` attributes of `path`
/// denote in `function` of `file`: `var`, `module.var`, `Class.var`, `self.var`, `cls.var`.
pub fn binding_of_path<'p>(
    project: &'p Project,
    file: FileId,
    function: FuncIdx,
    path: &AccessPath,
    len: usize,
) -> Option<BindingRef<'p>> {
    if path.attrs.len() < len {
        return None;
    }
    match &path.root {
        Root::Global(head) => {
            let mut dotted = head.to_string();
            for attr in &path.attrs[..len] {
                dotted.push('.');
                dotted.push_str(attr);
            }
            match project.resolve(file, Some(function), &dotted) {
                Resolved::Global(global_file, index) => Some(BindingRef::Global(
                    global_file,
                    &project.file(global_file).facts.globals[index as usize],
                )),
                _ if len > 0 => {
                    let (owner, attr) = dotted.rsplit_once('.')?;
                    let Resolved::Class(class) = project.resolve(file, Some(function), owner)
                    else {
                        return None;
                    };
                    let (defining, binding) = project.lookup_class_attribute(class, attr)?;
                    Some(BindingRef::ClassLevel(defining, binding))
                }
                _ => None,
            }
        }
        Root::SelfParam | Root::Class if len == 1 => {
            let class = project.method_class(file, function)?;
            let (defining, binding) = project.lookup_class_attribute(class, &path.attrs[0])?;
            Some(BindingRef::ClassLevel(defining, binding))
        }
        _ => None,
    }
}

/// The type name of the mutable object `value` creates when evaluated in `file`, if it does.
pub fn mutable_type(project: &Project, file: FileId, value: &Value) -> Option<String> {
    match value {
        Value::Container(kind) => Some(kind.as_str().to_string()),
        Value::Call { callee } => match project.resolve(file, None, callee) {
            Resolved::External(q) if knowledge::MUTABLE_TYPES.contains(&q.as_str()) => {
                Some(knowledge::last_segment(&q).to_string())
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

/// The `__set__` a store of `attr` on an instance of `class` calls instead of setting an
/// attribute of the instance: the class body of `class` (or of a base) binds `attr` to an
/// instance of a class of the tree that defines `__set__`, a data descriptor (`content_type =
/// HeaderProperty("Content-Type")`). Python finds data descriptors on the type before it looks
/// at the instance, so `obj.content_type = v` runs `HeaderProperty.__set__(descriptor, obj, v)`.
pub fn data_descriptor_setter(project: &Project, class: ClassId, attr: &str) -> Option<FuncId> {
    let (defining, binding) = project.lookup_class_attribute(class, attr)?;
    let Value::Call { callee } = &binding.value else {
        return None;
    };
    let file = project.class(defining).0;
    let Resolved::Class(descriptor) = project.resolve(file, None, callee) else {
        return None;
    };
    project.lookup_method(descriptor, "__set__")
}

/// Whether `method` may run with `self` an instance of `class` or of one of its subclasses.
/// `self.m()`, and `obj.m()` on any receiver, find the first `m` along the MRO of the instance's
/// own class: a base's method that `class` and each of its subclasses override never runs on
/// their instances that way. It still does when reached past that lookup: `super().m()` in a
/// class such an instance has in its MRO (below or above `class`), or the function taken from a
/// class by name (`Base.m(self, ...)`, or `Base.m` handed on). Subclasses outside the tree are
/// not seen.
pub fn may_run_on_instances_of(project: &Project, method: FuncId, class: ClassId) -> bool {
    let name = project.function(method).1.name;
    let found_by_lookup = std::iter::once(class)
        .chain(project.descendants(class).iter().copied())
        .any(|c| project.lookup_method(c, &name) == Some(method));
    if found_by_lookup {
        return true;
    }
    let hierarchy = class_hierarchy(project, class);
    project.files.iter().enumerate().any(|(file, source)| {
        let file = file as FileId;
        source.facts.calls.iter().any(|site| {
            if !site.callee.as_str().ends_with(name.as_str()) {
                return false;
            }
            match site.receiver() {
                // Which base's method `super()` finds depends on the instance's MRO; any
                // `super().m()` in a class of the hierarchy may reach it.
                CallReceiver::Super => {
                    site.callee == name
                        && site.function().is_some_and(|function| {
                            project
                                .method_class(file, function)
                                .is_some_and(|caller| hierarchy.contains(&caller))
                        })
                }
                CallReceiver::Name => site
                    .callee
                    .as_str()
                    .rsplit_once('.')
                    .is_some_and(|(owner, called)| {
                        called == name.as_str()
                            && matches!(project.resolve(file, site.function(), owner),
                                Resolved::Class(owner) if project.lookup_method(owner, &name) == Some(method))
                    }),
                _ => false,
            }
        })
    })
}
