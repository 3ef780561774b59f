//! Questions several rules ask of the linked project.

use crate::diagnostic::Label;
use crate::facts::NameText;
use crate::facts::{
    AccessPath, Binding, CallReceiver, FileFacts, FuncIdx, FunctionKind, MemoStore, Mutation,
    MutationKind, Name, Returned, Root, Value,
};
use crate::knowledge;
pub use crate::project::in_test_code;
use crate::project::{ClassId, FileId, FuncId, MroEntry, OnceCause, Project, Resolved};

use super::Context;
use crate::model::{Lifetime, Model};

pub use crate::model::{
    BindingRef, ClassPath, InstanceAssignments, cache_decorator, class_hierarchy, class_path,
    mutable_type, project_mro, resolve_callee, runs_per_call,
};

/// A class-level binding annotated `ClassVar`: sharing is declared.
pub fn is_classvar(binding: &Binding) -> bool {
    binding
        .annotation
        .as_deref()
        .is_some_and(knowledge::is_classvar_annotation)
}

/// Classes whose instances share no class-level container through an instance: Enums (members,
/// not instances), metaclasses (their instances are classes), and the configured `safe-bases`.
fn has_no_shared_instances(context: &Context<'_>, class: ClassId) -> bool {
    let project = context.project;
    let safe = |q: &str| context.settings.safe_bases.iter().any(|s| s == q);
    project.external_bases(class).iter().any(|q| {
        knowledge::ENUM_BASES.contains(&q.as_str()) || q == "builtins.type" || safe(q)
    })
        // Most runs configure no safe bases: no project class's name to build then.
        || (!context.settings.safe_bases.is_empty()
            && project_mro(project, class).any(|c| {
                let (file, facts) = project.class(c);
                safe(&format!("{}.{}", project.file(file).module, facts.qualname))
            }))
}

/// How the model library `class` derives from treats its class-level defaults, if it derives
/// from one: a model base of its MRO, or one a base of its tree names through a module-level
/// alias (see [`aliased_base_copying`]).
pub fn default_copying(project: &Project, class: ClassId) -> Option<knowledge::DefaultCopying> {
    default_copying_within(project, class, MAX_BASE_ALIAS_HOPS)
}

/// How many aliased bases [`default_copying`] follows, one within another.
const MAX_BASE_ALIAS_HOPS: u32 = 4;

fn default_copying_within(
    project: &Project,
    class: ClassId,
    hops: u32,
) -> Option<knowledge::DefaultCopying> {
    let external = project
        .external_bases(class)
        .iter()
        .find_map(|q| model_base_copying(q));
    if external.is_some() || hops == 0 {
        return external;
    }
    project_mro(project, class).find_map(|c| {
        let (file, facts) = project.class(c);
        facts
            .bases
            .iter()
            .flatten()
            .find_map(|base| aliased_base_copying(project, file, base, hops - 1))
    })
}

fn model_base_copying(qualified: &str) -> Option<knowledge::DefaultCopying> {
    knowledge::DEFAULT_COPYING_BASES
        .iter()
        .find(|(base, _)| *base == qualified)
        .map(|(_, copying)| *copying)
}

/// How the model base that `base`, written as a base of a class of `file`, stands for treats
/// class-level defaults, when `base` is a module-level variable every binding of which names a
/// model base that treats them alike: `ConfigBase = custom_types.ConfigModel` in a `try` and
/// `ConfigBase = BaseModel` in its `except ImportError`. The class hierarchy leaves such a base
/// out (a variable is no class), so [`default_copying`] asks here.
///
/// A class reads its bases once, when its `class` statement runs, so what matters is what the
/// name holds then; the proof asks that nothing but those `name = value` bindings ever binds it
/// (see [`bound_only_by_globals`]), and that each binding's value is a name bound once: an import
/// of a model base, or a module (or an import of one) whose top-level class, bound once too, is a
/// model (`custom_types.ConfigModel`). Not proved, and `None`, for any other binding (a call, a
/// class of no model library, a name that does not resolve). The facts record `A or B` as an
/// alias of `A`; such a base is not written in practice.
fn aliased_base_copying(
    project: &Project,
    file: FileId,
    base: &Name,
    hops: u32,
) -> Option<knowledge::DefaultCopying> {
    let Resolved::Global(global_file, last) = project.resolve(file, None, base) else {
        return None;
    };
    let facts = &project.file(global_file).facts;
    let name = facts.globals.get(last as usize)?.name;
    let mut agreed = None;
    for binding in facts.globals.iter().filter(|b| b.name == name) {
        let Value::Alias(path) = &binding.value else {
            return None;
        };
        let Root::Global(head) = &path.root else {
            return None;
        };
        if !bound_once(project, global_file, head) {
            return None;
        }
        let mut dotted = head.to_string();
        for attr in &path.attrs {
            dotted.push('.');
            dotted.push_str(attr.as_str());
        }
        let copying = match project.resolve(global_file, None, dotted.as_str()) {
            Resolved::External(q) => model_base_copying(&q)?,
            Resolved::Class(class) => {
                let (class_file, class_facts) = project.class(class);
                if class_facts.qualname.contains('.')
                    || (class_file != global_file
                        && !bound_once(project, class_file, &class_facts.name))
                {
                    return None;
                }
                default_copying_within(project, class, hops)?
            }
            _ => return None,
        };
        if agreed.is_some_and(|kind| kind != copying) {
            return None;
        }
        agreed = Some(copying);
    }
    (agreed.is_some() && bound_only_by_globals(project, global_file, &name))
        .then_some(agreed)
        .flatten()
}

/// Whether the module `file` binds `name` only by module-level `name = value` statements (what
/// its `globals` record): [`Project::bound_only_by_globals_or_running_loops`], and no file of
/// the tree stores the running event loop in an attribute of that name on an object it names
/// (`core.loop = asyncio.get_running_loop()`). Code that reaches the module through
/// `sys.modules`, or calls `setattr` with a name it computes, is not seen.
pub(super) fn bound_only_by_globals(project: &Project, file: FileId, name: &Name) -> bool {
    project.bound_only_by_globals_or_running_loops(file, name)
        && !project.files.iter().any(|source| {
            source
                .facts
                .running_loop_stores
                .iter()
                .any(|store| store.target.rsplit('.').next() == Some(name.as_str()))
        })
}

/// Whether every value the module global `name` of `file` can hold is immutable: each of its
/// module-level bindings is a literal of an immutable type or a call of an immutable builtin
/// type ([`knowledge::IMMUTABLE_BUILTIN_TYPES`]) that the module does not bind to something
/// else, it is bound in no other way ([`bound_only_by_globals`]), and no file of the tree may
/// set an attribute of this module by a name it computes
/// ([`Project::namespace_may_be_written`]). Not seen: the module reached through `sys.modules` or
/// a parameter and changed by a computed name.
pub(super) fn global_always_immutable(project: &Project, file: FileId, name: &Name) -> bool {
    let facts = &project.file(file).facts;
    let builtin_here = |callee: &Name| {
        knowledge::IMMUTABLE_BUILTIN_TYPES.contains(&callee.as_str())
            && !facts.globals.iter().any(|binding| binding.name == *callee)
            && !facts.imports.iter().any(|import| import.binding == *callee)
            && !facts
                .functions
                .iter()
                .any(|function| function.parent.is_none() && function.name == *callee)
            && !facts
                .classes
                .iter()
                .any(|class| !class.in_function && class.name == *callee)
            && facts.other_rebinds.binary_search(callee).is_err()
    };
    let mut bindings = facts
        .globals
        .iter()
        .filter(|binding| binding.name == *name)
        .peekable();
    bindings.peek().is_some()
        && bindings.all(|binding| match &binding.value {
            Value::Immutable => true,
            Value::Call { callee } => builtin_here(callee),
            _ => false,
        })
        && !facts.imports.iter().any(|import| import.binding == *name)
        && bound_only_by_globals(project, file, name)
        && !project.namespace_may_be_written(file)
}

/// Whether the module `file`, which imports `name`, binds it in no other way: no module-level
/// `name = value` ([`bound_only_by_globals`] for the rest). A module that binds an imported
/// global again holds its own value under that name.
pub(super) fn import_kept(project: &Project, file: FileId, name: &Name) -> bool {
    !project
        .file(file)
        .facts
        .globals
        .iter()
        .any(|binding| binding.name == *name)
        && bound_only_by_globals(project, file, name)
}

/// Whether the module `file` binds `name` by exactly one module-level `name = value` and in no
/// other way ([`bound_only_by_globals`]).
pub(super) fn module_binds_once(project: &Project, file: FileId, name: &Name) -> bool {
    let facts = &project.file(file).facts;
    facts
        .globals
        .iter()
        .filter(|binding| binding.name == *name)
        .count()
        == 1
        && !facts.imports.iter().any(|import| import.binding == *name)
        && bound_only_by_globals(project, file, name)
}

/// Whether the module `file` binds `name` exactly once, by an import, a class or a function
/// definition at module level, and in no other way.
fn bound_once(project: &Project, file: FileId, name: &Name) -> bool {
    let facts = &project.file(file).facts;
    let imports = facts
        .imports
        .iter()
        .filter(|import| import.function.is_none() && import.binding == *name)
        .count();
    let classes = facts
        .classes
        .iter()
        .filter(|class| !class.in_function && class.qualname == *name)
        .count();
    let functions = facts
        .functions
        .iter()
        .filter(|function| function.parent.is_none() && function.class.is_none())
        .filter(|function| function.name == *name)
        .count();
    imports + classes + functions == 1
        && !facts.globals.iter().any(|binding| binding.name == *name)
        && bound_only_by_globals(project, file, name)
}

/// Classes whose instances share no class-level object: model classes (whatever their
/// defaults), Enums, metaclasses and the configured `safe-bases`. For what is set on the class
/// itself; a change through an instance asks [`instance_gets_own_default`].
pub fn copies_or_has_no_instances(context: &Context<'_>, class: ClassId) -> bool {
    default_copying(context.project, class).is_some() || has_no_shared_instances(context, class)
}

/// Whether an instance of `class` holds its own copy of the class-level `binding` of `defining`
/// (a class of its MRO), rather than the one object the class body made: the model library
/// `class` derives from copies that default (see [`knowledge::DefaultCopying`]), or `class` is
/// an Enum, a metaclass or a configured safe base.
pub fn instance_gets_own_default(
    context: &Context<'_>,
    class: ClassId,
    defining: ClassId,
    binding: &Binding,
) -> bool {
    use knowledge::DefaultCopying;
    if has_no_shared_instances(context, class) {
        return true;
    }
    let Some(copying) = default_copying(context.project, class) else {
        return false;
    };
    if is_classvar(binding) {
        return false;
    }
    let project = context.project;
    let file = project.class(defining).0;
    let name = binding.name.as_str();
    let private = name.starts_with('_') && !(name.starts_with("__") && name.ends_with("__"));
    let field = binding.annotation.is_some();
    match copying {
        DefaultCopying::CopiesAny | DefaultCopying::CopiesEvery => true,
        DefaultCopying::CopiesUnhashable => {
            private || (field && default_hashable(project, file, &binding.value) != Some(true))
        }
        DefaultCopying::CopiesEmptyBuiltins => {
            field
                && match &binding.value {
                    Value::Container(_) => true,
                    Value::Call { callee } => matches!(
                        project.resolve(file, None, callee),
                        Resolved::External(q) if knowledge::MSGSPEC_COPIED_TYPES.contains(&q.as_str())
                    ),
                    _ => false,
                }
        }
    }
}

/// Whether the object a class-level `value` creates can be hashed, when the tree shows it: a
/// display or a known container or namespace type cannot; an instance of a class of the tree can
/// when the first class of its MRO that defines `__hash__` or `__eq__` defines `__hash__` (one
/// that defines `__eq__` alone gets `__hash__ = None`), or none does and it derives from
/// `object` alone.
fn default_hashable(project: &Project, file: FileId, value: &Value) -> Option<bool> {
    match value {
        Value::Container(_) => Some(false),
        Value::Call { callee } => match project.resolve(file, None, callee) {
            Resolved::External(q)
                if knowledge::MUTABLE_TYPES.contains(&q.as_str())
                    || knowledge::MUTABLE_OBJECT_TYPES.contains(&q.as_str()) =>
            {
                Some(false)
            }
            Resolved::Class(class) => instances_hashable(project, class),
            _ => None,
        },
        _ => None,
    }
}

fn instances_hashable(project: &Project, class: ClassId) -> Option<bool> {
    for c in project_mro(project, class) {
        // A class decorator (a dataclass, attrs) may write `__eq__` and `__hash__`; an
        // assignment may bind either to anything; a base that is not a name (a call), or a name
        // that is no class (a variable, an unresolved name), is unknown.
        let (file, facts) = project.class(c);
        if !facts.decorators.is_empty()
            || facts.bases.iter().any(|base| {
                base.as_ref().is_none_or(|base| {
                    !matches!(
                        project.resolve(file, None, base),
                        Resolved::Class(_) | Resolved::External(_)
                    )
                })
            })
            || project.class_attribute(c, "__eq__").is_some()
        {
            return None;
        }
        if let Some(hash) = project.class_attribute(c, "__hash__") {
            // `__hash__ = None` makes instances unhashable; any other value is not followed.
            return matches!(hash.value, Value::None).then_some(false);
        }
        let defines = |name: &str| {
            name.interned()
                .is_some_and(|name| project.own_method(c, &name).is_some())
        };
        if defines("__hash__") {
            return Some(true);
        }
        if defines("__eq__") {
            return Some(false);
        }
    }
    project
        .external_bases(class)
        .iter()
        .all(|q| matches!(q.as_str(), "object" | "builtins.object"))
        .then_some(true)
}

/// Whether instances of `class` can change: not a frozen dataclass or attrs class, not a named
/// tuple or other immutable type, not an Enum.
pub fn has_mutable_instances(project: &Project, class: ClassId) -> bool {
    if project.inherits_external(class, knowledge::IMMUTABLE_BASES)
        || project.inherits_external(class, knowledge::ENUM_BASES)
    {
        return false;
    }
    project_mro(project, class).all(|c| {
        let (file, facts) = project.class(c);
        !facts
            .decorators
            .iter()
            .any(|d| match project.resolve(file, None, &d.name) {
                Resolved::External(q) => {
                    knowledge::FROZEN_CLASS_DECORATORS.contains(&q.as_str())
                        || (knowledge::is_dataclass_decorator(q.as_str())
                            && d.true_keywords.iter().any(|k| k == "frozen"))
                }
                _ => false,
            })
    })
}

/// A shared object a class- or module-level binding creates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedObject {
    /// A container (list, dict, set, a project class deriving from one, ...), by type name.
    Container(String),
    /// An instance of a class of the analysed tree (or a known mutable object type) whose
    /// attributes can be set.
    Object {
        type_name: String,
        class: Option<ClassId>,
    },
}

impl SharedObject {
    pub fn type_name(&self) -> &str {
        match self {
            SharedObject::Container(name) => name,
            SharedObject::Object { type_name, .. } => type_name,
        }
    }

    /// What a message calls the object: `list`, or `` `Registry` object``.
    pub fn kind(&self) -> String {
        match self {
            SharedObject::Container(type_name) => type_name.clone(),
            SharedObject::Object { type_name, .. } => format!("`{type_name}` object"),
        }
    }

    /// How a finding words the change `sites` (sorted, not empty, all in the file of `facts`)
    /// make to this object, bound to `attr`, or to its attribute `inner` when that is the
    /// container that changes: the verb phrase for the message and the primary label.
    pub fn describe_change(
        &self,
        attr: &str,
        inner: Option<&str>,
        sites: &[&Mutation],
        facts: &FileFacts,
    ) -> (String, &'static str) {
        let every_call = facts.runs_on_every_call(sites[0].span.start);
        match (self, inner, &sites[0].kind) {
            (SharedObject::Object { .. }, None, MutationKind::AttributeAssign(name)) => (
                format!("sets its attribute `{name}`"),
                when(every_call, "set here, on every call", "set here"),
            ),
            (SharedObject::Object { .. }, None, MutationKind::Method(name)) => (
                format!("changes it with its method `{name}`"),
                when(every_call, "changed here, on every call", "changed here"),
            ),
            (SharedObject::Object { .. }, None, _) => (
                "changes its attributes".to_string(),
                when(every_call, "changed here, on every call", "changed here"),
            ),
            (_, inner, _) => {
                let object = inner.map_or("it".to_string(), |i| format!("`{attr}.{i}`"));
                describe_container_change(&object, sites, facts)
            }
        }
    }
}

/// When code that makes one object for the whole process runs, as findings word it (after
/// "created once," or "runs only"): while modules are imported, at start-up, or at the first call
/// of the function whose first-time block runs it, with the flag that guards the block. The one
/// wording of [`Lifetime`] for every rule that says when such an object is made.
pub fn once_when(project: &Project, lifetime: Lifetime) -> String {
    match lifetime {
        Lifetime::Once => "while modules are imported".to_string(),
        Lifetime::OnceAfterImport(OnceCause::StartUp) => "at start-up".to_string(),
        Lifetime::OnceAfterImport(OnceCause::FirstCall(function)) => {
            let (file, idx) = project.function_in_file(function);
            let file_facts = &project.file(file).facts;
            let name = &file_facts.functions[idx as usize].name;
            let mut flags = file_facts
                .first_time_calls
                .iter()
                .filter(|call| file_facts.calls[call.call as usize].function() == Some(idx))
                .map(|call| call.flag);
            // The guard is named when the function's first-time blocks test one flag.
            let first = flags.next();
            match first.filter(|flag| flags.all(|other| other == *flag)) {
                Some(flag) => {
                    format!("at the first call of `{name}` (guarded by `{flag}`)")
                }
                None => format!("at the first call of `{name}`"),
            }
        }
        Lifetime::OnceAfterImport(OnceCause::Several) => {
            "after import, at start-up or on a first call".to_string()
        }
        Lifetime::PerCall => "on every call".to_string(),
    }
}

/// `on_every_call` where the change runs on every call of its function, else `otherwise`: a
/// change under a test, in a loop or after an early `return` is not made on every call.
pub fn when(
    every_call: bool,
    on_every_call: &'static str,
    otherwise: &'static str,
) -> &'static str {
    if every_call { on_every_call } else { otherwise }
}

/// The verb phrase (`writes into {object}` or `changes {object}`) and primary label for
/// `sites` (in the file of `facts`) changing a container. When every site reaches one element of
/// the container (`cls.groups[k].append(v)`), what changes is an object the container holds, not
/// the container: the phrase says so.
pub fn describe_container_change(
    object: &str,
    sites: &[&Mutation],
    facts: &FileFacts,
) -> (String, &'static str) {
    let every_call = facts.runs_on_every_call(sites[0].span.start);
    let object = if sites.iter().all(|site| site.nested) {
        format!("an object {object} holds")
    } else {
        object.to_string()
    };
    if only_adds(sites.iter().copied()) {
        (
            format!("writes into {object}"),
            when(every_call, "written here, on every call", "written here"),
        )
    } else {
        (
            format!("changes {object}"),
            when(every_call, "changed here, on every call", "changed here"),
        )
    }
}

/// Adds to `related` where `sites` (one finding's changes in `file`, sorted) took their object
/// under another name, labelled `alias_message`, then the sites after the first.
pub fn push_aliases_and_sites(
    related: &mut Vec<Label>,
    file: FileId,
    sites: &[&Mutation],
    alias_message: &str,
) {
    for site in sites {
        if let Some(alias) = site.alias
            && !related.iter().any(|l| l.file == file && l.span == alias)
        {
            related.push(Label::new(file, alias, alias_message));
        }
    }
    related.extend(
        sites[1..]
            .iter()
            .map(|site| Label::and_here(file, site.span)),
    );
}

/// Puts the mutation sites of one finding in source order, once each.
pub fn sort_sites(sites: &mut Vec<&Mutation>) {
    sites.sort_by_key(|m| m.span);
    sites.dedup_by_key(|m| m.span);
}

/// The shared mutable object `value` creates when evaluated in `file`, if it does.
pub fn shared_object(project: &Project, file: FileId, value: &Value) -> Option<SharedObject> {
    if let Some(container) = mutable_type(project, file, value) {
        return Some(SharedObject::Container(container));
    }
    let Value::Call { callee } = value else {
        return None;
    };
    match project.resolve(file, None, callee) {
        Resolved::Class(class)
            if has_mutable_instances(project, class)
                && !is_descriptor(project, class)
                && !holds_only_per_thread_attributes(project, class) =>
        {
            Some(SharedObject::Object {
                type_name: project.class(class).1.name.to_string(),
                class: Some(class),
            })
        }
        Resolved::External(q) if knowledge::MUTABLE_OBJECT_TYPES.contains(&q.as_str()) => {
            Some(SharedObject::Object {
                type_name: knowledge::last_segment(&q).to_string(),
                class: None,
            })
        }
        _ => None,
    }
}

/// Whether every attribute an instance of `class` holds is one per thread: the class derives
/// from `threading.local` and from no other external class, and no class body of its tree
/// binds anything but functions. An instance's own attributes are per thread; a class
/// attribute (`registry = {}`) is one object every thread reads through its instance.
fn holds_only_per_thread_attributes(project: &Project, class: ClassId) -> bool {
    let externals = project.external_bases(class);
    externals
        .iter()
        .any(|q| knowledge::THREAD_LOCAL_TYPES.contains(&q.as_str()))
        && externals.iter().all(|q| {
            knowledge::THREAD_LOCAL_TYPES.contains(&q.as_str())
                || matches!(q.as_str(), "object" | "builtins.object")
        })
        && project_mro(project, class).all(|c| {
            let facts = project.class(c).1;
            facts.bindings.is_empty() && facts.bases.iter().all(Option::is_some)
        })
}

/// The container type of attribute `attr` of instances of `class`: a class-level binding, or an
/// assignment `self.attr = <container>` in a method of the class or a base.
pub fn instance_attribute_container(
    project: &Project,
    class: ClassId,
    attr: &str,
) -> Option<String> {
    if let Some((defining, binding)) = project.lookup_class_attribute(class, attr)
        && let Some(container) = mutable_type(project, project.class(defining).0, &binding.value)
    {
        return Some(container);
    }
    project_mro(project, class).find_map(|c| {
        let file = project.class(c).0;
        project
            .file(file)
            .facts
            .attribute_assignments
            .iter()
            .filter(|a| {
                a.attr == attr
                    && a.object == AccessPath::new(Root::SelfParam)
                    && project.method_class(file, a.function) == Some(c)
            })
            .find_map(|a| mutable_type(project, file, &a.value))
    })
}

/// Whether `mutation` changes the contents of its target (rather than an attribute of it, which
/// containers do not have) and, for calls of functions, whether the callee really mutates.
pub fn changes_contents(project: &Project, file: FileId, mutation: &Mutation) -> bool {
    match &mutation.kind {
        MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_) => false,
        MutationKind::MutatingCall(callee) => project.resolves_to_any(
            file,
            Some(mutation.function),
            callee,
            knowledge::MUTATING_FUNCTIONS,
        ),
        _ => true,
    }
}

/// Whether `mutation` changes a container of type `type_name` in place.
pub fn changes_container(
    project: &Project,
    file: FileId,
    mutation: &Mutation,
    type_name: &str,
) -> bool {
    if !changes_contents(project, file, mutation) {
        return false;
    }
    match &mutation.kind {
        MutationKind::InPlaceOperator(op) => operator_in_place(type_name, op),
        _ => true,
    }
}

/// Whether every change in `mutations` adds to its object (rather than removing or reordering).
pub fn only_adds<'a>(mutations: impl IntoIterator<Item = &'a Mutation>) -> bool {
    mutations.into_iter().all(|m| match &m.kind {
        MutationKind::Method(name) => knowledge::ADDING_METHODS.contains(&name.as_str()),
        MutationKind::ItemDelete | MutationKind::AttributeDelete(_) => false,
        _ => true,
    })
}

/// The names bound at class level to something that may be a mutable object: a cheap filter
/// before any resolution.
pub fn class_level_candidates(project: &Project) -> std::collections::HashSet<&str> {
    project
        .files
        .iter()
        .flat_map(|f| f.facts.classes.iter())
        .flat_map(|c| c.bindings.iter())
        .filter(|b| matches!(b.value, Value::Container(_) | Value::Call { .. }))
        .map(|b| b.name.as_str())
        .collect()
}

/// `+=` and friends change lists, sets and dicts (by type name) in place; on other types they
/// rebind the name to a new object.
pub fn operator_in_place(type_name: &str, op: &str) -> bool {
    match type_name {
        "list" | "deque" | "bytearray" => matches!(op, "+=" | "*="),
        "set" | "WeakSet" => matches!(op, "|=" | "-=" | "&=" | "^="),
        "dict" | "defaultdict" | "OrderedDict" | "ChainMap" => op == "|=",
        "Counter" => matches!(op, "+=" | "-=" | "|=" | "&="),
        // A project class that subclasses a container: its operator comes from that container.
        _ => matches!(op, "+=" | "*=" | "|=" | "-=" | "&=" | "^="),
    }
}

/// The object the class-level `binding` of `defining_class` creates, when `mutation` (in
/// `file`) changes it, or its attribute `inner`.
pub fn changed_class_level_object(
    project: &Project,
    model: &Model,
    (defining_class, binding): (ClassId, &Binding),
    file: FileId,
    mutation: &Mutation,
    inner: Option<&str>,
) -> Option<SharedObject> {
    let defining_file = project.class(defining_class).0;
    if inner.is_none()
        && calls_declared_elements_method(project, model, (defining_class, binding), file, mutation)
    {
        return None;
    }
    let object = shared_object(project, defining_file, &binding.value)?;
    changes_shared_object(project, model, file, mutation, &object, inner).then_some(object)
}

/// Whether `mutation`, a mutating method's name called on exactly one element of the container
/// the class-level `binding` creates, calls the element's own method
/// ([`declared_element_own_method`]) and that method, in the element's class and in each
/// subclass, assigns no attribute of the element and changes no container it holds (a change of
/// the element the dict holds stays one).
fn calls_declared_elements_method(
    project: &Project,
    model: &Model,
    (defining_class, binding): (ClassId, &Binding),
    file: FileId,
    mutation: &Mutation,
) -> bool {
    let MutationKind::Method(name) = &mutation.kind else {
        return false;
    };
    declared_element_own_method(project, (defining_class, binding), file, mutation).is_some_and(
        |element| {
            std::iter::once(element)
                .chain(project.descendants(element).iter().copied())
                .all(|class| {
                    !method_changes_own_state(project, model, class, name)
                        && !method_may_change_receiver(project, class, name)
                })
        },
    )
}

/// The class the annotation of the class-level `binding` declares its elements to be, when
/// `mutation`, a method called on exactly one element of that container (`page.update()` after
/// `page = WebPage.instances[k]`), runs that class's own method and no container's: for the
/// class and each subclass the method is found in a body of the tree before any base outside it
/// (`object` aside) and before any class-level binding of the name, and the class derives from no
/// builtin container. What the method does to the element is not looked at.
pub fn declared_element_own_method(
    project: &Project,
    (defining_class, binding): (ClassId, &Binding),
    file: FileId,
    mutation: &Mutation,
) -> Option<ClassId> {
    let MutationKind::Method(name) = &mutation.kind else {
        return None;
    };
    let written = binding.element_class.as_ref()?;
    if !mutation.nested
        || !project
            .file(file)
            .facts
            .element_receivers
            .contains(&mutation.span)
    {
        return None;
    }
    let defining_file = project.class(defining_class).0;
    let Resolved::Class(element) = project.resolve(defining_file, None, written) else {
        return None;
    };
    std::iter::once(element)
        .chain(project.descendants(element).iter().copied())
        .all(|class| {
            derives_from_object_alone(project, class)
                && own_method_comes_first(project, class, name)
        })
        .then_some(element)
}

/// What a call of method `name` does to an instance of exactly `class`, a class of the tree,
/// when the tree rather than the method's name decides it (`get_backend().clear(scope)` on a
/// `Backend` whose own `clear` deletes rows elsewhere): `Some(false)` when no body of the tree
/// binds the name and nothing outside the tree could supply it (every base outside the tree is
/// `object` and no `__getattr__` is defined: the call raises); otherwise, when the instance finds
/// the tree's own method first ([`own_method_comes_first`] up to the defining class, a base
/// outside the tree after it) and that method does not reach a base through `super()`, whether
/// it changes the instance's own state ([`method_changes_own_state`]). `None` when the class
/// derives from a builtin container (its method is the container's, or may reach it) or a base
/// outside the tree may be the method that runs: the name decides.
pub fn tree_method_changes_instance(
    project: &Project,
    model: &Model,
    class: ClassId,
    name: &str,
) -> Option<bool> {
    if project.inherits_external(class, knowledge::MUTABLE_TYPES) {
        return None;
    }
    let Some(method) = project.lookup_method(class, name) else {
        let undefined = project.lookup_class_attribute(class, name).is_none()
            && derives_from_object_alone(project, class)
            && ["__getattr__", "__getattribute__"]
                .iter()
                .all(|hook| project.lookup_method(class, *hook).is_none());
        return undefined.then_some(false);
    };
    if !own_method_comes_first(project, class, name) {
        return None;
    }
    let (file, index) = project.function_in_file(method);
    let reaches_base = project
        .file(file)
        .facts
        .calls
        .iter()
        .any(|call| call.function() == Some(index) && call.receiver() == CallReceiver::Super);
    if reaches_base {
        return None;
    }
    Some(method_changes_own_state(project, model, class, name))
}

/// Whether every base of `class` outside the tree is `object`: a base of the standard library
/// (`collections.UserDict`) or of a package has methods an override may reach to write.
fn derives_from_object_alone(project: &Project, class: ClassId) -> bool {
    project.mro(class).into_iter().all(|entry| match entry {
        MroEntry::External(base) => base.as_str() == "builtins.object",
        MroEntry::Class(_) => true,
    })
}

/// What a call of a method named `name` does to an instance of exactly `class` (made by the
/// class's own constructor, so no subclass's override runs): `None` when the call may run no
/// method of the tree ([`own_method_comes_first`] fails: a base outside the tree, or a
/// class-level binding of the name, comes first); else whether the class's own method may change
/// the instance, in its body ([`method_changes_own_state`]) or in ways that does not follow
/// ([`method_may_change_receiver`]: a call through `self`, `setattr`, a decorator).
pub fn exact_class_method_may_change(
    project: &Project,
    model: &Model,
    class: ClassId,
    name: &str,
) -> Option<bool> {
    own_method_comes_first(project, class, name).then(|| {
        method_changes_own_state(project, model, class, name)
            || method_may_change_receiver(project, class, name)
    })
}

/// Whether method `name` of `class` may change the instance it is called on in ways
/// [`method_changes_own_state`] does not follow: it calls anything through the receiver,
/// `super()` or the class (a helper or a base may write), calls `setattr`, `vars` or
/// `object.__setattr__`, changes anything it reaches from the receiver (an attribute of unknown
/// type, `self.__dict__`), assigns an attribute of the receiver, or defines a function (which
/// may do any of these). A decorated method may be replaced by a wrapper that does any of these:
/// its body is not what runs. Whatever the facts above do not follow (the receiver handed to a
/// call or aliased, an attribute of it handed on or iterated, `del`, a walrus) is refused
/// through `FileFacts::receiver_left_alone`: the body may use the receiver only in `return self`.
fn method_may_change_receiver(project: &Project, class: ClassId, name: &str) -> bool {
    let Some(method) = project.lookup_method(class, name) else {
        return true;
    };
    let (file, index) = project.function_in_file(method);
    let facts = &project.file(file).facts;
    if !facts.functions[index as usize].decorators.is_empty()
        || facts.receiver_left_alone.binary_search(&index).is_err()
    {
        return true;
    }
    let through_receiver = |root: &Root| matches!(root, Root::SelfParam | Root::Class);
    facts.calls.iter().any(|call| {
        call.function() == Some(index)
            && match call.receiver() {
                CallReceiver::SelfParam | CallReceiver::Super | CallReceiver::Class => true,
                CallReceiver::Name => {
                    let callee = call.callee.as_str();
                    matches!(callee, "setattr" | "vars") || callee.starts_with("object.")
                }
                _ => false,
            }
    }) || facts
        .mutations
        .iter()
        .any(|m| m.function == index && through_receiver(&m.target.root))
        || facts
            .attribute_assignments
            .iter()
            .any(|a| a.function == index && through_receiver(&a.object.root))
        || facts.functions.iter().any(|f| f.parent == Some(index))
}

/// Whether an instance of `class` finds `name` as a method a body of the tree defines, before any
/// base outside the tree but `object` and before any class-level binding of the name.
pub fn own_method_comes_first(project: &Project, class: ClassId, name: &str) -> bool {
    let Some(method) = project.lookup_method(class, name) else {
        return false;
    };
    let (file, index) = project.function_in_file(method);
    let Some(definer) = project.method_class(file, index) else {
        return false;
    };
    for entry in project.mro(class) {
        match entry {
            MroEntry::External(base) if base.as_str() != "builtins.object" => return false,
            MroEntry::External(_) => {}
            MroEntry::Class(c) => {
                if project.class_attribute(*c, name).is_some() {
                    return false;
                }
                if *c == definer {
                    return true;
                }
            }
        }
    }
    false
}

/// Whether every instance of exactly `class` is false, so that `if obj:` never passes for one:
/// the `__bool__` Python finds first is the tree's own method, every `return` of which gives a
/// false constant (`return False`; `None` or `0` raise `TypeError` in the test, which passes
/// neither), or, with no `__bool__` on the class or any base (every base outside the tree being
/// `object`), its `__len__` is such a method (`return 0`). py-cord's `_MissingSentinel`.
pub fn instances_are_false(project: &Project, class: ClassId) -> bool {
    let returns_false_constant = |name: &str| {
        own_method_comes_first(project, class, name)
            && project.lookup_method(class, name).is_some_and(|method| {
                let (file, index) = project.function_in_file(method);
                let facts = &project.file(file).facts;
                let function = &facts.functions[index as usize];
                // A decorator may replace the body; a coroutine or a generator is true.
                function.kind == FunctionKind::Instance
                    && function.decorators.is_empty()
                    && !function.is_async
                    && facts
                        .method_returns
                        .iter()
                        .filter(|r| r.function == index)
                        .all(|r| r.value == Returned::Falsy)
            })
    };
    if project.lookup_method(class, "__bool__").is_some() {
        return returns_false_constant("__bool__");
    }
    let no_bool_anywhere = project.mro(class).into_iter().all(|entry| match entry {
        MroEntry::External(base) => base.as_str() == "builtins.object",
        MroEntry::Class(c) => project.class_attribute(*c, "__bool__").is_none(),
    });
    no_bool_anywhere && returns_false_constant("__len__")
}

/// Whether `mutation`, reaching a shared object and then its attribute `inner` (when given),
/// changes that object: a container's contents, an object's attributes, or a container an
/// object's attribute holds.
pub fn changes_shared_object(
    project: &Project,
    model: &Model,
    file: FileId,
    mutation: &Mutation,
    object: &SharedObject,
    inner: Option<&str>,
) -> bool {
    if memo_of_key_alone(project, model, file, mutation) {
        return false;
    }
    match (object, inner) {
        (SharedObject::Container(type_name), None) => {
            changes_container(project, file, mutation, type_name)
        }
        // An element of an object that is no container is whatever its class's own `get` or
        // `__getitem__` returns (a database row, a new object), not a part of the object.
        (SharedObject::Object { .. }, None) if mutation.nested => false,
        (SharedObject::Object { class, .. }, None) => match &mutation.kind {
            MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_) => true,
            MutationKind::Method(name) => {
                class.is_some_and(|class| method_changes_own_state(project, model, class, name))
            }
            _ => false,
        },
        (
            SharedObject::Object {
                class: Some(class), ..
            },
            Some(attr),
        ) => instance_attribute_container(project, *class, attr)
            .is_some_and(|type_name| changes_container(project, file, mutation, &type_name)),
        _ => false,
    }
}

/// Whether method `name` of instances of `class` changes the instance it is called on, in its
/// own body: it assigns one of its attributes, or changes a container one holds
/// (`self._headers.setdefault(k, set())`). Set-up methods change a new instance only.
pub fn method_changes_own_state(
    project: &Project,
    model: &Model,
    class: ClassId,
    name: &str,
) -> bool {
    if knowledge::INSTANCE_SETUP_METHODS.contains(&name) {
        return false;
    }
    let Some(method) = project.lookup_method(class, name) else {
        return false;
    };
    let Some(writes) = model.self_writes_in(project, method) else {
        return false;
    };
    let (file, _) = project.function(method);
    let facts = &project.file(file).facts;
    let lazy = |span: crate::facts::Span| facts.lazy_inits.contains(&span.start);
    writes
        .assignments
        .iter()
        .any(|&i| !lazy(facts.attribute_assignments[i as usize].span))
        || writes.mutations.iter().any(|&i| {
            let mutation = &facts.mutations[i as usize];
            let [attr] = mutation.target.attrs.as_slice() else {
                return false;
            };
            !lazy(mutation.span)
                && instance_attribute_container(project, class, attr)
                    .is_some_and(|type_name| changes_container(project, file, mutation, &type_name))
        })
}

/// Whether instances of `class` are descriptors (`__get__`): reading them through an instance or
/// the class gives what `__get__` returns, not the object itself.
pub fn is_descriptor(project: &Project, class: ClassId) -> bool {
    project.lookup_method(class, "__get__").is_some()
}

/// Whether one of the two classes derives from the other (or they are the same class).
pub fn same_hierarchy(project: &Project, a: ClassId, b: ClassId) -> bool {
    project.in_mro(a, b) || project.in_mro(b, a)
}

/// Whether `mutation` stores into a cache, after a lookup of the same key, a value computed from
/// the key alone (`d[k] = k.lower()`, `d[k] = re.compile(k)`): a later call that finds the entry
/// gets what it would have computed itself, so no call's data reaches another through it
/// (interning tables, `fib` memos). The value's inputs are the names it reads, as the extractor
/// records them (functions it calls are code, not inputs); besides the key's inputs it may read
/// builtins, modules imported whole from outside the tree, and class constants through the
/// receiver (`self._pattern`: attributes no code assigns and no subclass body binds again, so
/// every instance reads the same object). Anything else read from the receiver, the receiver
/// itself, another input, or a local filled in place before the store, makes it more than a
/// function of the key.
pub fn memo_of_key_alone(
    project: &Project,
    model: &Model,
    file: FileId,
    mutation: &Mutation,
) -> bool {
    let facts = &project.file(file).facts;
    // The inputs of a value are followed through assignments, not through in-place changes: a
    // local filled before the store (`objects.append(argument)`) may hold more than they say.
    let fills_a_local = || {
        model
            .first_local_change(project, file, mutation.function)
            .is_some_and(|start| start < mutation.span.start)
    };
    // `d.setdefault(k, []).append(v)` adds to the entry on every call: an accumulation.
    !mutation.nested
        && !fills_a_local()
        && facts.memo_stores.iter().any(|store| {
            store.span.start == mutation.span.start
                && store.function == mutation.function
                && !store.key_inputs.is_empty()
                && !store.value_inputs.is_empty()
                && value_of_key_alone(project, model, file, store)
        })
}

/// Whether the value `store` stores reads only the key's inputs, code, and class constants
/// through the receiver. A method the value calls on the receiver (`self.compile(k)`) reads what
/// its body reads, when no subclass overrides it: its arguments are read by the value itself.
fn value_of_key_alone(project: &Project, model: &Model, file: FileId, store: &MemoStore) -> bool {
    let reads_the_key = store.value_inputs.iter().all(|input| {
        store.key_inputs.contains(input)
            || names_code(project, file, store.function, input)
            || is_receiver(project, file, store.function, input)
            || bound_in_the_value(project, file, store.function, input)
    });
    if !reads_the_key {
        return false;
    }
    let methods = match &store.receiver_methods {
        Some(methods) => methods.as_slice(),
        None if store.uses_whole_receiver => return false,
        None => &[],
    };
    let mut receiver_reads = store.receiver_reads.clone();
    for method in methods {
        match receiver_method_reads(project, file, store.function, method) {
            Some(reads) => receiver_reads.extend(reads),
            None => return false,
        }
    }
    reads_only_class_constants(project, model, file, store, &receiver_reads)
}

/// The receiver attributes that `method`, called on the receiver of `function`, reads, when the
/// class's method of that name is the one every subclass runs, and the rest it reads is its
/// parameters (what the call passes) or code: builtins, modules imported whole, classes of the
/// tree (as the functions a value calls, classes are code).
fn receiver_method_reads(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    method: &str,
) -> Option<Vec<Name>> {
    let class = project.method_class(file, function)?;
    let called = project.lookup_method(class, method)?;
    if project
        .descendants(class)
        .iter()
        .any(|d| project.lookup_method(*d, method) != Some(called))
    {
        return None;
    }
    let (method_file, facts) = project.function(called);
    let (_, index) = project.function_in_file(called);
    let (_, reads) = project
        .file(method_file)
        .facts
        .memo_method_reads
        .iter()
        .find(|(f, _)| *f == index)?;
    let receiver = facts.params.first()?.name;
    let mut attributes = Vec::new();
    for read in reads {
        match read.split_once('.') {
            // `self.x`; not the receiver whole (`self.`) nor a method of it (`self.m()`).
            Some((head, attr)) => {
                if head != receiver.as_str() || attr.is_empty() || attr.ends_with("()") {
                    return None;
                }
                attributes.push(attr.into());
            }
            None => {
                let code = facts.params.iter().any(|p| p.name == *read)
                    || names_code(project, method_file, index, read)
                    || bound_in_the_value(project, method_file, index, read)
                    || matches!(
                        project.resolve(method_file, Some(index), read),
                        Resolved::Class(_)
                    );
                if !code {
                    return None;
                }
            }
        }
    }
    Some(attributes)
}

/// Whether `name`, read by a value in `function`, names nothing of the module, its imports or
/// the builtins and is no parameter, in a function not nested in another (so not a variable of
/// an enclosing call): the variable of a comprehension in the value, whose inputs are its
/// iterable's.
fn bound_in_the_value(project: &Project, file: FileId, function: FuncIdx, name: &str) -> bool {
    let function_facts = &project.file(file).facts.functions[function as usize];
    function_facts.parent.is_none()
        && function_facts.params.iter().all(|p| p.name != name)
        && matches!(
            project.resolve(file, Some(function), name),
            Resolved::Unknown
        )
}

fn is_receiver(project: &Project, file: FileId, function: FuncIdx, name: &str) -> bool {
    let function = &project.file(file).facts.functions[function as usize];
    matches!(
        function.kind,
        FunctionKind::Instance | FunctionKind::ClassMethod
    ) && function.params.first().is_some_and(|p| p.name == name)
}

/// Whether every receiver attribute `store`'s value reads is a class constant: bound only by
/// class bodies, never assigned by code (on any object, by name), and not bound again by a
/// subclass of the method's class, so that every instance and every call reads the same object.
fn reads_only_class_constants(
    project: &Project,
    model: &Model,
    file: FileId,
    store: &MemoStore,
    receiver_reads: &[Name],
) -> bool {
    if receiver_reads.is_empty() {
        return true;
    }
    let Some(class) = project.method_class(file, store.function) else {
        return false;
    };
    let writes = model.attribute_writes(project);
    receiver_reads.iter().all(|attr| {
        !writes.assigned(attr)
            && project.lookup_class_attribute(class, attr).is_some()
            && project
                .descendants(class)
                .iter()
                .all(|d| project.class(*d).1.bindings.iter().all(|b| b.name != *attr))
    })
}

/// Whether `name`, read in `function`, is a builtin or a module from outside the tree imported
/// whole (`import re`).
fn names_code(project: &Project, file: FileId, function: FuncIdx, name: &str) -> bool {
    match project.resolve(file, Some(function), name) {
        Resolved::External(qualified) => {
            qualified.starts_with("builtins.") || !qualified.contains('.')
        }
        _ => false,
    }
}

/// Whether `class` has at most one instance: the `__new__` it runs (its own or a base's in the
/// tree) stores the instance on the class behind a first-time guard (`if not hasattr(cls,
/// "instance"): cls.instance = super().__new__(cls)`). Sharing a class-level object among "every
/// instance" then means nothing more than the one instance's own state.
pub fn is_singleton(project: &Project, class: ClassId) -> bool {
    let Some(new) = project.lookup_method(class, "__new__") else {
        return false;
    };
    let (file, index) = project.function_in_file(new);
    let facts = &project.file(file).facts;
    // What is kept is the new instance: `super().__new__(cls)`, `object.__new__(cls)`.
    facts.attribute_assignments.iter().any(|a| {
        a.function == index
            && a.object.root == Root::Class
            && a.object.attrs.is_empty()
            && matches!(&a.value, Value::Call { callee } if callee.ends_with(".__new__"))
            && facts.lazy_inits.contains(&a.span.start)
    })
}

/// `diagnostic` with the identity and shared object of a finding about attribute `attr` of
/// `class` (every attribute, for a `setattr` whose name is not a literal) set in the function
/// named `function`.
pub fn about_class_attribute(
    diagnostic: crate::diagnostic::Diagnostic,
    project: &Project,
    class: ClassId,
    attr: Option<&str>,
    function: &str,
) -> crate::diagnostic::Diagnostic {
    let (class_file, class_facts) = project.class(class);
    diagnostic
        .with_identity(vec![
            class_facts.qualname.to_string(),
            attr.unwrap_or("setattr").to_string(),
            function.to_string(),
        ])
        .with_object(crate::model::import_path(
            project,
            class_file,
            &class_facts.qualname,
            attr,
        ))
}

/// Whether the class-level `binding` in the body of `class` is provably never the attribute
/// instances find, because the class's metaclass does away with it while it makes the class:
///
/// - its `__new__` deletes the value from the class body's namespace before it makes the class
///   (the value is an instance of a class it tests for, `NamespaceRewrite`);
/// - its `__init__` applies `dataclasses.dataclass` to the class, and the binding is a field (an
///   annotation other than `ClassVar` or `InitVar`) whose default is a list, dict or set:
///   `dataclass` refuses such a default, so either the class is never made or by then something
///   has replaced the value.
pub fn replaced_at_class_creation(project: &Project, class: ClassId, binding: &Binding) -> bool {
    let Some(metaclass) = metaclass(project, class) else {
        return false;
    };
    let (file, _) = project.class(class);
    match &binding.value {
        Value::Call { callee } => match project.resolve(file, None, callee) {
            Resolved::Class(made) => namespace_removes(project, metaclass, made),
            Resolved::External(q) => {
                matches!(
                    q.as_str(),
                    "builtins.list" | "builtins.dict" | "builtins.set"
                ) && dataclass_field(project, file, binding)
                    && makes_dataclasses(project, metaclass)
            }
            _ => false,
        },
        Value::Container(_) => {
            dataclass_field(project, file, binding) && makes_dataclasses(project, metaclass)
        }
        _ => false,
    }
}

/// The metaclass that makes `class`: the one the classes of its MRO declare (`metaclass=M`)
/// that derives from all the others (Python refuses a class whose metaclasses conflict, and no
/// class outside the tree derives from one of the tree's). `None` when one is not a class of the
/// tree, or none is declared.
fn metaclass(project: &Project, class: ClassId) -> Option<ClassId> {
    let mut declared: Vec<ClassId> = Vec::new();
    for c in project_mro(project, class) {
        let (file, facts) = project.class(c);
        let Some(written) = &facts.metaclass else {
            continue;
        };
        match project.resolve(file, None, written) {
            Resolved::Class(m) if !declared.contains(&m) => declared.push(m),
            Resolved::Class(_) => {}
            _ => return None,
        }
    }
    declared
        .iter()
        .copied()
        .find(|m| declared.iter().all(|other| project.in_mro(*m, *other)))
}

/// The method `name` the class `metaclass` has: the first class of its MRO that defines one,
/// when that is a class of the tree (a base outside it may define its own).
fn metaclass_method(project: &Project, metaclass: ClassId, name: &str) -> Option<FuncId> {
    for entry in project.mro(metaclass) {
        let MroEntry::Class(c) = entry else {
            return None;
        };
        if let Some(method) = name
            .interned()
            .and_then(|name| project.own_method(*c, &name))
        {
            return Some(method);
        }
    }
    None
}

/// Whether the `__new__` of `metaclass` deletes instances of `made` from the class body's
/// namespace before it makes the class.
fn namespace_removes(project: &Project, metaclass: ClassId, made: ClassId) -> bool {
    let Some(new) = metaclass_method(project, metaclass, "__new__") else {
        return false;
    };
    let (file, index) = project.function_in_file(new);
    let facts = &project.file(file).facts;
    let is_made = |written: &Name, in_file: FileId, function: FuncIdx| {
        matches!(project.resolve(in_file, Some(function), written),
            Resolved::Class(tested) if project.in_mro(made, tested))
    };
    facts
        .namespace_rewrites
        .iter()
        .filter(|rewrite| rewrite.function == index)
        .any(|rewrite| {
            rewrite.removed.iter().any(|c| is_made(c, file, index))
                || rewrite.handed_to.iter().any(|(callee, position)| {
                    let Resolved::Function(helper) = project.resolve(file, Some(index), callee)
                    else {
                        return false;
                    };
                    let (helper_file, helper_index) = project.function_in_file(helper);
                    project
                        .file(helper_file)
                        .facts
                        .namespace_removals
                        .iter()
                        .any(|removal| {
                            removal.function == helper_index
                                && removal.param == *position
                                && removal
                                    .classes
                                    .iter()
                                    .any(|c| is_made(c, helper_file, helper_index))
                        })
                })
        })
}

/// A dataclass field of a class in `file`: annotated with a name that resolves (through the
/// file's imports, so `from typing import ClassVar as CV` is seen) to something other than
/// `ClassVar` (shared by declaration), `InitVar` (no field, and its default is not checked) or
/// `Annotated` (which may wrap either). A name that resolves to nothing known gives up.
fn dataclass_field(project: &Project, file: FileId, binding: &Binding) -> bool {
    let Some(annotation) = binding.annotation.as_ref() else {
        return false;
    };
    match project.resolve(file, None, annotation) {
        Resolved::External(q) => !matches!(
            q.as_str(),
            "typing.ClassVar"
                | "typing_extensions.ClassVar"
                | "dataclasses.InitVar"
                | "typing.Annotated"
                | "typing_extensions.Annotated"
        ),
        Resolved::Class(_) => true,
        _ => false,
    }
}

/// Whether the `__init__` of `metaclass` applies `dataclasses.dataclass` to every class it
/// makes: itself, or an `__init__` later in the metaclass's MRO that it reaches through
/// `super().__init__(...)`, each before anything that may return.
fn makes_dataclasses(project: &Project, metaclass: ClassId) -> bool {
    for entry in project.mro(metaclass) {
        let MroEntry::Class(c) = entry else {
            return false;
        };
        let Some(init) = "__init__"
            .interned()
            .and_then(|name| project.own_method(*c, &name))
        else {
            continue;
        };
        let (file, init) = project.function_in_file(init);
        let facts = &project.file(file).facts;
        if facts.decorating_inits.iter().any(|(f, decorator)| {
            *f == init
                && matches!(project.resolve(file, Some(init), decorator),
                    Resolved::External(q) if q == "dataclasses.dataclass")
        }) {
            return true;
        }
        if !facts.super_calling_inits.contains(&init) {
            return false;
        }
    }
    false
}
