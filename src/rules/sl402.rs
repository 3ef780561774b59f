//! SL402: a memoisation into a shared cache whose key leaves out inputs the stored value depends
//! on.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{DecoratedCache, FunctionKind, MemoStore, Name, Root, Span};
use crate::knowledge;
use crate::model::AttributeWrites;
use crate::project::{ClassId, FileId, FuncId, Project, Resolved};

use super::common::{self, InstanceAssignments};
use super::sl201::{dotted, module_global};
use super::{Context, Rule, RuleMeta};

pub struct CacheKeyIncomplete;

static META: RuleMeta = RuleMeta {
    code: "SL402",
    name: "cache-key-incomplete",
    summary: "A shared cache stores a value that depends on inputs its key leaves out",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL402.md"),
};

/// Methods of the mapping protocol: their stores are the mapping's job, not memoisation.
const MAPPING_METHODS: &[&str] = &[
    "__setitem__",
    "__getitem__",
    "__missing__",
    "setdefault",
    "get",
    "update",
    "add",
];

/// Where a cache lives and why it is shared.
struct SharedCache {
    name: String,
    /// `shared by every `PatternRemixer``, `one dict for the whole process`.
    sharing: String,
    definition: Option<(FileId, Span, &'static str)>,
    /// The function's receiver is the same object for every call that reaches this cache (a
    /// singleton's own cache), so it is not an input that varies.
    receiver_fixed: bool,
}

impl Rule for CacheKeyIncomplete {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        if project
            .files
            .iter()
            .all(|f| f.facts.memo_stores.is_empty() && f.facts.decorated_caches.is_empty())
        {
            return Vec::new();
        }
        let instance_assignments = context.model.instance_assignments(project);
        let singletons: HashSet<ClassId> = context
            .model
            .singletons(project)
            .iter()
            .map(|s| s.class)
            .collect();
        let writes = context.model.attribute_writes(project);
        // One finding per function and cache.
        let mut found: BTreeMap<(FileId, u32, String), Diagnostic> = BTreeMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for store in &file.facts.memo_stores {
                // A class implementing the mapping protocol stores what it is given.
                let function = &file.facts.functions[store.function as usize];
                // Constructors and class hooks register the object they make.
                if MAPPING_METHODS.contains(&function.name.as_str())
                    || knowledge::INSTANCE_SETUP_METHODS.contains(&function.name.as_str())
                    || knowledge::CLASS_CREATION_METHODS.contains(&function.name.as_str())
                {
                    continue;
                }
                // A later call gets the first call's value only from a function that hands
                // back what it reads under the key.
                if !store.serves_read_value {
                    continue;
                }
                let key = (file_id, store.function, store.cache.display());
                if found.contains_key(&key) {
                    continue;
                }
                let last =
                    store
                        .cache
                        .attrs
                        .last()
                        .map(|a| a.as_str())
                        .or(match &store.cache.root {
                            Root::Global(name) => Some(name.as_str()),
                            _ => None,
                        });
                // A cache something empties (`CACHE.clear()`) may live for one operation only.
                if last.is_some_and(|name| writes.emptied(name)) {
                    continue;
                }
                let Some(cache) =
                    shared_cache(project, instance_assignments, &singletons, file_id, store)
                else {
                    continue;
                };
                let missing = missing_inputs(project, writes, file_id, store, &cache);
                let finding = if missing.is_empty() {
                    let Some((key_text, missing)) =
                        text_key_missing(project, writes, file_id, store)
                    else {
                        continue;
                    };
                    report(project, file_id, store, &cache, key_text, &missing)
                } else {
                    let key_text = format!("depends {}", key_clause(project, file_id, store));
                    let missing = read_of_inputs(project, file_id, store, &missing);
                    report(project, file_id, store, &cache, key_text, &join(&missing))
                };
                found.insert(key, finding);
            }
            for cache in &file.facts.decorated_caches {
                if let Some(finding) = decorated_cache(project, writes, file_id, cache) {
                    let key = (file_id, cache.function, cache.decorator.to_string());
                    found.insert(key, finding);
                }
            }
        }
        found.into_values().collect()
    }
}

/// The cache a memoisation stores into, when every call shares it.
fn shared_cache(
    project: &Project,
    instance_assignments: &InstanceAssignments,
    singletons: &HashSet<ClassId>,
    file: FileId,
    store: &MemoStore,
) -> Option<SharedCache> {
    let path = &store.cache;
    let function = store.function;
    let class_level = |class: ClassId, attr: &str, receiver_fixed: bool| {
        let (defining, binding) = project.lookup_class_attribute(class, attr)?;
        let defining_file = project.class(defining).0;
        let type_name = common::mutable_type(project, defining_file, &binding.value)?;
        Some(SharedCache {
            name: attr.to_string(),
            sharing: format!(
                "one {type_name} shared by every `{}`",
                project.class(defining).1.name
            ),
            definition: Some((
                defining_file,
                binding.span,
                "created once, when the class is defined",
            )),
            receiver_fixed,
        })
    };
    match (&path.root, path.attrs.as_slice()) {
        (Root::Global(head), attrs) => {
            let written = dotted(head, attrs);
            if let Some((global_file, global, binding)) =
                module_global(project, file, function, &written)
            {
                let Some(type_name) = common::mutable_type(project, global_file, &binding.value)
                else {
                    let class = crate::model::module_instance_class(project, global_file, global)?;
                    let store = keyed_store_method(project, class)?;
                    return Some(SharedCache {
                        name: written,
                        sharing: format!(
                            "one `{}` for the whole process, whose `{}` stores by key into `self.{}`",
                            project.class(class).1.name,
                            project.function(store.0).1.name,
                            store.1
                        ),
                        definition: Some((
                            global_file,
                            binding.span,
                            "created once, when the module is imported",
                        )),
                        receiver_fixed: false,
                    });
                };
                return Some(SharedCache {
                    name: written,
                    sharing: format!("one {type_name} for the whole process"),
                    definition: Some((
                        global_file,
                        binding.span,
                        "created once, when the module is imported",
                    )),
                    receiver_fixed: false,
                });
            }
            let (owner, attr) = written.rsplit_once('.')?;
            match project.resolve(file, Some(function), owner) {
                Resolved::Class(class) => class_level(class, attr, false),
                Resolved::Global(global_file, global) => {
                    let class = crate::model::module_instance_class(project, global_file, global)?;
                    common::instance_attribute_container(project, class, attr)?;
                    Some(SharedCache {
                        name: written.clone(),
                        sharing: format!(
                            "an attribute of `{owner}`, one `{}` for the whole process",
                            project.class(class).1.name
                        ),
                        definition: None,
                        receiver_fixed: false,
                    })
                }
                _ => None,
            }
        }
        (Root::SelfParam, [attr]) => {
            let outer = project.outermost_function(file, function);
            let method = &project.file(file).facts.functions[outer as usize];
            if method.kind != FunctionKind::Instance {
                return None;
            }
            let class = project.method_class(file, function)?;
            let shadowed = instance_assignments.shadows(
                project,
                class,
                attr,
                file,
                function,
                store.span.start,
            );
            if !shadowed && let Some(cache) = class_level(class, attr, false) {
                return Some(cache);
            }
            let singleton = std::iter::once(class)
                .chain(project.descendants(class).iter().copied())
                .find(|c| singletons.contains(c))?;
            common::instance_attribute_container(project, singleton, attr)?;
            Some(SharedCache {
                name: attr.to_string(),
                sharing: format!(
                    "held by the one `{}` created at module level",
                    project.class(singleton).1.name
                ),
                definition: None,
                receiver_fixed: true,
            })
        }
        (Root::Class, [attr]) => {
            let class = project.method_class(file, function)?;
            class_level(class, attr, true)
        }
        _ => None,
    }
}

/// The `set` method of instances of `class` when it stores its second argument under its
/// first in a container the instance holds (`self._cache[key] = value`), with that container.
fn keyed_store_method(project: &Project, class: ClassId) -> Option<(FuncId, Name)> {
    let method = project.lookup_method(class, "set")?;
    let (file, facts) = project.function(method);
    let (_, index) = project.function_in_file(method);
    let [_, key, value, ..] = facts.params.as_slice() else {
        return None;
    };
    let store = project
        .file(file)
        .facts
        .param_keyed_stores
        .iter()
        .find(|s| s.function == index && s.key == key.name && s.value == value.name)?;
    common::instance_attribute_container(project, class, &store.container)?;
    Some((method, store.container))
}

/// The inputs the value depends on and the key does not: parameters (of the function or the
/// functions around it) and the current request.
fn missing_inputs<'s>(
    project: &Project,
    writes: &AttributeWrites,
    file: FileId,
    store: &'s MemoStore,
    cache: &SharedCache,
) -> Vec<&'s Name> {
    let functions = &project.file(file).facts.functions;
    let mut params: Vec<&Name> = Vec::new();
    let mut receivers: Vec<&Name> = Vec::new();
    let mut current = Some(store.function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        let has_receiver = matches!(
            facts.kind,
            FunctionKind::Instance | FunctionKind::ClassMethod
        );
        for (i, param) in facts.params.iter().enumerate() {
            if has_receiver && i == 0 {
                receivers.push(&param.name);
            }
            params.push(&param.name);
        }
        current = facts.parent;
    }
    let missing: Vec<&Name> = store
        .value_inputs
        .iter()
        .filter(|name| !key_covers(project, file, store, name))
        .filter(|name| !(cache.receiver_fixed && receivers.contains(name)))
        .filter(|name| {
            params.iter().any(|p| p.as_str() == parameter_of(name))
                || is_request(project, file, store, name)
        })
        .filter(|name| !is_stateless_module_default(project, file, store.function, name))
        .filter(|name| !is_raise_switch(project, file, store.function, name))
        .collect();
    // The receiver is an input only through attributes that can differ between two calls.
    if missing.iter().all(|name| receivers.contains(name))
        && !store.uses_whole_receiver
        && store
            .receiver_reads
            .iter()
            .all(|attr| !writes.changed_after_setup(attr))
    {
        return Vec::new();
    }
    missing
}

/// Whether `name` is a parameter of `function` that only chooses between raising and returning
/// `None` with nothing stored, handed on only to the function's own recursive calls whose
/// results are stored only when not `None`: every value stored is the same whatever it is.
fn is_raise_switch(project: &Project, file: FileId, function: u32, name: &str) -> bool {
    project
        .file(file)
        .facts
        .raise_switches
        .iter()
        .any(|(f, param)| *f == function && param.as_str() == name)
}

/// A parameter of the function (or of one around it), or the current request.
fn is_input(project: &Project, file: FileId, store: &MemoStore, name: &Name) -> bool {
    let functions = &project.file(file).facts.functions;
    let mut current = Some(store.function);
    while let Some(f) = current {
        let facts = &functions[f as usize];
        if facts
            .params
            .iter()
            .any(|p| p.name.as_str() == parameter_of(name))
        {
            return true;
        }
        current = facts.parent;
    }
    is_request(project, file, store, name)
}

/// The parameter an input is or is an item of: `kwargs` for `kwargs['a']` (see the extractor's
/// keyword items).
fn parameter_of(input: &str) -> &str {
    input
        .split_once("['")
        .map_or(input, |(parameter, _)| parameter)
}

/// How the message names what is read of each of `inputs`: the input (`` `x` ``), or, for a
/// parameter read only through attribute paths (`paths`), each path (`` `x.a` ``, ``
/// `self.m()` ``; `` `x` `` for the parameter whole).
fn shown_reads(input: &str, paths: impl Iterator<Item = impl AsRef<str>>) -> Vec<String> {
    let shown: Vec<String> = paths
        .map(|path| match path.as_ref() {
            "" => format!("`{input}`"),
            path => format!("`{input}.{path}`"),
        })
        .collect();
    if shown.is_empty() || shown.iter().any(|read| read == &format!("`{input}`")) {
        vec![format!("`{input}`")]
    } else {
        shown
    }
}

/// What the value reads of each of `missing` that the key leaves out, as the message names it.
fn read_of_inputs(
    project: &Project,
    file: FileId,
    store: &MemoStore,
    missing: &[&Name],
) -> Vec<String> {
    missing
        .iter()
        .flat_map(|input| shown_reads(input, uncovered_reads(project, file, store, input)))
        .collect()
}

/// Whether the key depends on `input`, an input of the value ([`MemoStore::key_covers`]),
/// reading the value's paths through the properties of the parameter's class that return a
/// path of the instance ([`read_through_property`]).
fn key_covers(project: &Project, file: FileId, store: &MemoStore, input: &Name) -> bool {
    store.key_covers(input)
        || (store.key_inputs.contains(input)
            && uncovered_reads(project, file, store, input)
                .next()
                .is_none())
}

/// The paths the value reads of the parameter `name` that the key leaves out
/// ([`MemoStore::uncovered_paths`]), but for those that read a property of the parameter's
/// class returning a path the key covers (`directive.arguments` where `arguments` returns
/// `self.resolver.arguments` and the key reads `directive.resolver`).
fn uncovered_reads<'s>(
    project: &'s Project,
    file: FileId,
    store: &'s MemoStore,
    name: &'s str,
) -> impl Iterator<Item = &'s str> + 's {
    store.uncovered_paths(name).filter(move |read| {
        !read_through_property(project, file, store.function, name, read)
            .is_some_and(|path| store.key_covers_path(name, &path))
    })
}

/// The path of the parameter `name` of `function` (or of a function around it) that reading
/// `read` of it (`a.rest` of `name.a.rest`) reads, when `a` is a property of the parameter's
/// class whose body is only `return self.<path>` (`<path>.rest`). Only when what `name` holds
/// is known to be an instance of that class or of one of its subclasses (the parameter is
/// annotated with it), when no such class binds `a` otherwise (a method or a class attribute
/// of its own), and when no code may assign `a` on such an instance (every assignment of an
/// attribute `a`, by `x.a = v` or `setattr(x, "a", v)`, is on an object of a known class
/// outside that family): a `functools.cached_property` keeps what its first read computed
/// unless the instance's own `a` is set. For a cached property, besides, the path's first
/// attribute is rebound only by set-up methods (`__init__`, ...): the kept value is then the
/// one the path gives later too. Writes by names computed at run time (`setattr(x, name, v)`)
/// are not followed.
fn read_through_property(
    project: &Project,
    file: FileId,
    function: u32,
    name: &str,
    read: &str,
) -> Option<String> {
    let (attr, rest) = match read.split_once('.') {
        Some((attr, rest)) => (attr, Some(rest)),
        None => (read, None),
    };
    if attr.is_empty() || attr.ends_with("()") {
        return None;
    }
    let functions = &project.file(file).facts.functions;
    let mut current = Some(function);
    let mut parameter = false;
    while let Some(f) = current {
        if functions[f as usize].params.iter().any(|p| p.name == name) {
            parameter = true;
            break;
        }
        current = functions[f as usize].parent;
    }
    let owner = current.filter(|_| parameter)?;
    let typed = crate::model::typed_local(project, file, owner, name)?;
    let Resolved::Class(class) = project.resolve(file, Some(owner), &typed.class) else {
        return None;
    };
    let method = project.lookup_method(class, attr)?;
    let (method_file, index) = project.function_in_file(method);
    let property = project
        .file(method_file)
        .facts
        .attribute_properties
        .iter()
        .find(|p| p.function == index)?;
    let cached = property.decorator != "property";
    if cached
        && !matches!(
            project.resolve(method_file, None, &property.decorator),
            Resolved::External(q) if CACHED_PROPERTIES.contains(&q.as_str())
        )
    {
        return None;
    }
    let defining = project.method_class(method_file, index)?;
    // The family of classes whose instances `name` may hold, each of which must read `attr`
    // through this property.
    let family: Vec<ClassId> = std::iter::once(class)
        .chain(project.descendants(class).iter().copied())
        .collect();
    let overridden = family.iter().any(|&c| {
        project.lookup_method(c, attr) != Some(method)
            || project
                .lookup_class_attribute(c, attr)
                .is_some_and(|(binder, _)| project.in_mro(binder, defining))
    });
    if overridden {
        return None;
    }
    let related = |other: ClassId| {
        family
            .iter()
            .any(|&c| project.in_mro(c, other) || project.in_mro(other, c))
    };
    let first = property.path.as_str().split('.').next().unwrap_or("");
    for (file_id, source) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        let facts = &source.facts;
        let may_set = |function: u32, object: &crate::facts::AccessPath, written: &str| {
            let setup = || {
                knowledge::INSTANCE_SETUP_METHODS
                    .contains(&facts.functions[function as usize].name.as_str())
            };
            let counts = written == attr || (cached && written == first && !setup());
            counts && object_class(project, file_id, function, object).is_none_or(&related)
        };
        if facts
            .attribute_assignments
            .iter()
            .any(|a| may_set(a.function, &a.object, a.attr.as_str()))
            || facts.setattr_calls.iter().any(|call| {
                call.name
                    .is_some_and(|written| may_set(call.function, &call.object, written.as_str()))
            })
        {
            return None;
        }
    }
    Some(match rest {
        Some(rest) => format!("{}.{rest}", property.path),
        None => property.path.to_string(),
    })
}

/// The `functools.cached_property` decorators and their like: each computes the value on the
/// first read and keeps it in the instance's own attribute of the same name.
const CACHED_PROPERTIES: &[&str] = &[
    "functools.cached_property",
    "django.utils.functional.cached_property",
];

/// The class of the object an attribute is written on, when known: `self` in a method of a
/// class, or a local or parameter bound to `C(...)` or annotated `C`.
fn object_class(
    project: &Project,
    file: FileId,
    function: u32,
    object: &crate::facts::AccessPath,
) -> Option<ClassId> {
    if !object.attrs.is_empty() {
        return None;
    }
    match &object.root {
        Root::SelfParam => project.method_class(file, function),
        Root::Local(local) => {
            let typed = crate::model::typed_local(project, file, function, local)?;
            match project.resolve(file, Some(function), &typed.class) {
                Resolved::Class(class) => Some(class),
                _ => None,
            }
        }
        _ => None,
    }
}

fn is_request(project: &Project, file: FileId, store: &MemoStore, name: &Name) -> bool {
    matches!(
        project.resolve(file, Some(store.function), name),
        Resolved::External(q) if knowledge::REQUEST_GLOBALS.contains(&q.as_str())
    )
}

fn quoted(names: &[&Name]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    match quoted.as_slice() {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// What the key depends on, for the message: `on none of its inputs`, ``only on `a` ``.
fn key_clause(project: &Project, file: FileId, store: &MemoStore) -> String {
    let key_reads: Vec<String> = store
        .key_inputs
        .iter()
        .filter(|name| is_input(project, file, store, name))
        .flat_map(|name| {
            let paths = store
                .key_paths
                .iter()
                .filter_map(|entry| crate::facts::parameter_path(entry))
                .filter(|(head, _)| *head == name.as_str())
                .map(|(_, path)| path);
            shown_reads(name, paths)
        })
        .collect();
    if key_reads.is_empty() {
        "on none of its inputs".to_string()
    } else {
        format!("only on {}", join(&key_reads))
    }
}

/// For a key that is the text of a parameter (`repr(user)`): how the key is made, and the
/// attributes the value reads that the text leaves out, when the parameter's class is known and
/// its `__repr__` (or `__str__`) reads only attributes.
fn text_key_missing(
    project: &Project,
    writes: &AttributeWrites,
    file: FileId,
    store: &MemoStore,
) -> Option<(String, String)> {
    let text = store.key_repr.as_ref()?;
    let value_reads = text.value_reads.as_ref()?;
    let local = crate::model::typed_local(project, file, store.function, &text.input)?;
    let Resolved::Class(class) = project.resolve(file, Some(store.function), &local.class) else {
        return None;
    };
    let methods: &[&str] = if text.through_str {
        &["__str__", "__repr__"]
    } else {
        &["__repr__"]
    };
    let input = &text.input;
    let (method, shown, missing) =
        unseen_attributes(project, writes, class, methods, value_reads, input)?;
    let function = if text.through_str { "str" } else { "repr" };
    let key_text = format!(
        "is `{function}({input})`, which `{}.{method}` makes from {shown}",
        project.class(class).1.name,
    );
    Some((key_text, missing))
}

/// The first of `methods` that `class` defines and that reads only attributes of its receiver,
/// with what it reads and the attributes in `reads` (of an object written `name`) it leaves out,
/// as message text; `None` when it leaves none out (or attributes only class bodies bind).
fn unseen_attributes(
    project: &Project,
    writes: &AttributeWrites,
    class: ClassId,
    methods: &[&'static str],
    reads: &[Name],
    name: &str,
) -> Option<(&'static str, String, String)> {
    let (method, shown) = methods.iter().find_map(|method_name| {
        let method = project.lookup_method(class, method_name)?;
        Some((*method_name, key_method_reads(project, method)?))
    })?;
    // A property that returns an attribute shows that attribute.
    let shown_through_properties: Vec<&Name> = shown
        .iter()
        .filter_map(|attr| returned_attribute(project, project.lookup_method(class, attr)?))
        .collect();
    // Methods read through the receiver are code, not data an instance holds.
    let missing: Vec<String> = reads
        .iter()
        .filter(|attr| !attr.starts_with("__"))
        .filter(|attr| project.lookup_method(class, attr).is_none())
        .filter(|attr| !shown.contains(attr) && !shown_through_properties.contains(attr))
        .filter(|attr| writes.assigned(attr))
        .map(|attr| format!("`{name}.{attr}`"))
        .collect();
    if missing.is_empty() {
        return None;
    }
    let shown: Vec<String> = shown.iter().map(|a| format!("`{name}.{a}`")).collect();
    let shown = if shown.is_empty() {
        "no attribute".to_string()
    } else {
        join(&shown)
    };
    Some((method, shown, join(&missing)))
}

fn report(
    project: &Project,
    file: FileId,
    store: &MemoStore,
    cache: &SharedCache,
    key_text: String,
    missing_text: &str,
) -> Diagnostic {
    let function = &project.file(file).facts.functions[store.function as usize];
    let message = format!(
        "`{}` is {}, but in `{}` its key {key_text}; the value stored under it also depends on {missing_text}",
        cache.name, cache.sharing, function.name
    );
    let mut related = Vec::new();
    if let Some((defining_file, span, label)) = cache.definition {
        related.push(Label::new(defining_file, span, label));
    }
    META.diagnostic(message,
        Label::new(
            file,
            store.span,
            format!("stored under a key that leaves out {missing_text}"),
        ),
    )
    .with_related(related)
    .with_note(format!(
        "a later call with the same key but a different {missing_text} gets the value computed for the first call"
    ))
    .with_help(format!(
        "make the key include what the value depends on ({missing_text}), or keep one cache per {}",
        if missing_text.contains("`self`") {
            "instance"
        } else {
            "distinct input"
        }
    ))
    .with_identity(vec![cache.name.clone(), function.qualname.to_string()])
}

/// How a memoising decorator of a known library builds its key.
enum KeyMaker {
    /// `cachetools.cached(cache, key=lambda ...)`: what the key function uses.
    KeyFunction(Vec<Name>),
    /// The arguments, and `self` as the first of these methods the class defines sees it:
    /// flask-caching's `Cache.memoize` (`__caching_id__`, else `__repr__`), `functools` caches
    /// (`__eq__`, with `__hash__`).
    Receiver(&'static [&'static str]),
}

/// A function memoised by `cachetools.cached` with a key function that leaves out a parameter
/// the body reads, or by flask-caching's `memoize` on a method whose class's `repr` leaves out a
/// receiver attribute the body reads.
fn decorated_cache(
    project: &Project,
    writes: &AttributeWrites,
    file: FileId,
    cache: &DecoratedCache,
) -> Option<Diagnostic> {
    let facts = &project.file(file).facts;
    let function = &facts.functions[cache.function as usize];
    let maker = key_maker(project, file, function.parent, cache)?;
    let (key_text, missing, helped) = match maker {
        KeyMaker::KeyFunction(key) => {
            let mut missing: Vec<&Name> = cache
                .reads
                .iter()
                .filter(|name| !key.contains(name))
                .filter(|name| !is_stateless_module_default(project, file, cache.function, name))
                .collect();
            let receiver = receiver_name(function);
            // The receiver is an input only through attributes that can differ between calls.
            if let Some(receiver) = receiver
                && !cache.uses_whole_receiver
                && cache
                    .receiver_reads
                    .iter()
                    .all(|attr| !writes.changed_after_setup(attr))
            {
                missing.retain(|name| **name != *receiver);
            }
            if missing.is_empty() {
                return None;
            }
            let key: Vec<&Name> = key.iter().collect();
            let key_text = if key.is_empty() {
                "its key function uses none of its arguments".to_string()
            } else {
                format!("its key function uses only {}", quoted(&key))
            };
            let missing = quoted(&missing);
            (key_text, missing.clone(), missing)
        }
        KeyMaker::Receiver(methods) => {
            // Another decorator (`classproperty`, ...) may hand the function something other
            // than an instance.
            if function.kind != FunctionKind::Instance
                || cache.uses_whole_receiver
                || function.decorators.len() != 1
            {
                return None;
            }
            let class = project.method_class(file, cache.function)?;
            // Instances that define `__eq__` without `__hash__` cannot be keys at all.
            if methods.contains(&"__eq__") && project.lookup_method(class, "__hash__").is_none() {
                return None;
            }
            let (method, shown, missing) = unseen_attributes(
                project,
                writes,
                class,
                methods,
                &cache.receiver_reads,
                "self",
            )?;
            let key_text = format!(
                "its key tells instances apart only by what `{}.{method}` reads: {shown}",
                project.class(class).1.name,
            );
            (key_text, missing.clone(), missing)
        }
    };
    let message = format!(
        "`{}` is memoised by `{}` in a cache every call shares, and {key_text}; the value it returns also depends on {missing}",
        function.name, cache.decorator
    );
    Some(
        META.diagnostic(
            message,
            Label::new(file, cache.span, format!("the key leaves out {missing}")),
        )
        .with_note(format!(
            "a later call with the same key but a different {missing} gets the value computed for the first call"
        ))
        .with_help(format!("make the key include what the value depends on ({helped})"))
        .with_identity(vec![cache.decorator.to_string(), function.qualname.to_string()]),
    )
}

fn join(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

fn receiver_name(function: &crate::facts::FunctionFacts) -> Option<&Name> {
    match function.kind {
        FunctionKind::Instance | FunctionKind::ClassMethod => {
            function.params.first().map(|p| &p.name)
        }
        _ => None,
    }
}

/// The key maker of a decorator of a known library, as written in `parent`'s scope.
fn key_maker(
    project: &Project,
    file: FileId,
    parent: Option<u32>,
    cache: &DecoratedCache,
) -> Option<KeyMaker> {
    if let Resolved::External(q) = project.resolve(file, parent, &cache.decorator) {
        if q.starts_with("cachetools.") && q.ends_with(".cached") {
            return cache.key_params.clone().map(KeyMaker::KeyFunction);
        }
        if knowledge::CACHE_DECORATORS.contains(&q.as_str()) {
            return Some(KeyMaker::Receiver(&["__eq__"]));
        }
    }
    let (owner, method) = cache.decorator.rsplit_once('.')?;
    if method != "memoize" {
        return None;
    }
    let Resolved::Global(global_file, global) = project.resolve(file, parent, owner) else {
        return None;
    };
    let binding = &project.file(global_file).facts.globals[global as usize];
    let crate::facts::Value::Call { callee } = &binding.value else {
        return None;
    };
    match project.resolve(global_file, None, callee) {
        Resolved::External(q) if q == "flask_caching.Cache" => {
            Some(KeyMaker::Receiver(&["__caching_id__", "__repr__"]))
        }
        _ => None,
    }
}

/// The attribute `method` returns when it is a property whose body is `return self.X`.
fn returned_attribute(project: &Project, method: FuncId) -> Option<&Name> {
    let (file, index) = project.function_in_file(method);
    project
        .file(file)
        .facts
        .attribute_properties
        .iter()
        .find(|p| {
            p.function == index && p.decorator == "property" && !p.path.as_str().contains('.')
        })
        .map(|p| &p.path)
}

/// The receiver attributes a key method (`__repr__`, ...) reads, when it reads only attributes.
fn key_method_reads(project: &Project, method: crate::project::FuncId) -> Option<&[Name]> {
    let (file, index) = project.function_in_file(method);
    project
        .file(file)
        .facts
        .key_method_reads
        .iter()
        .find(|(f, _)| *f == index)?
        .1
        .as_deref()
}

/// Whether parameter `name` of `function` defaults to a module (`decoder=json`) that no call in
/// the tree replaces, as far as the recorded argument flows (names and call results passed) show:
/// then it is one module on every call, not an input that varies between them.
fn is_stateless_module_default(project: &Project, file: FileId, function: u32, name: &str) -> bool {
    let facts = &project.file(file).facts;
    let Some((index, param)) = facts.functions[function as usize]
        .params
        .iter()
        .enumerate()
        .find(|(_, p)| p.name == name)
    else {
        return false;
    };
    let Some(crate::facts::Value::Alias(path)) = &param.default else {
        return false;
    };
    let Root::Global(module) = &path.root else {
        return false;
    };
    if !path.attrs.is_empty() || !imports_a_module(project, file, module) {
        return false;
    }
    let function = &facts.functions[function as usize];
    let binds = receiver_name(function).is_some();
    !passed_anywhere(
        project,
        &function.name,
        (index as u32).saturating_sub(u32::from(binds)),
        name,
    )
}

fn imports_a_module(project: &Project, file: FileId, name: &str) -> bool {
    project.file(file).facts.imports.iter().any(|import| {
        import.function.is_none()
            && import.binding == name
            && matches!(import.target, crate::facts::ImportTarget::Module(_))
    })
}

/// Whether some call of a function named `function` anywhere in the tree passes an argument at
/// position `index` (as written, after a bound receiver) or later, or by keyword `name`
/// (counting unresolved calls too: this proves absence).
fn passed_anywhere(project: &Project, function: &str, index: u32, name: &str) -> bool {
    use crate::facts::ArgPosition;
    project.files.iter().any(|file| {
        let calls = &file.facts.calls;
        file.facts.flows.iter().any(|flow| {
            let Some((call, position)) = flow.target().argument() else {
                return false;
            };
            let callee = calls
                .get(call as usize)
                .map(|c| c.callee.as_str())
                .unwrap_or("");
            knowledge::last_segment(callee) == function
                && match position {
                    ArgPosition::Index(i) => i >= index,
                    ArgPosition::Keyword(k) => k == name,
                }
        })
    })
}
