//! What a module-level instance keeps, for good, from its one construction: an attribute that
//! only its `__init__` stores, from a parameter the module-level call passes a false literal or
//! no value. A test of that attribute the value fails fails on every call, so code under it (a
//! write, or a whole method that returns at once, [`crate::facts::SelfAttributeExit`]) never runs on that
//! instance. SL203 leaves out the writes of a singleton's methods made under such a test; SL301,
//! the calls of a method of a module-level default that return at once on it.
//!
//! Likewise what a parameter default built by an argument-less call of a class of the tree keeps
//! for good: a literal its class binds at class level that nothing stores anew
//! ([`default_attribute_literal`]). SL301 leaves out the changes made only under a test that the
//! attribute equals another literal (lightrag's `if param.mode == "bypass":` on `QueryParam()`).

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{
    AccessPath, KwargsForward, Literal, MutationKind, Name, Param, Root, Span, StarArgs, Value,
};
use crate::knowledge;
use crate::project::{ClassId, FileId, FuncId, MroEntry, Project};

use super::{Location, Model, Origin, Singleton, data_descriptor_setter, project_mro};

/// Whether `singleton`'s attribute `attr` fails, on every call after its construction, a test of
/// its truth (`truth`) or that it is not `None`: the `__init__` instances of its class run stores
/// it, on every call, from a parameter with no default or whose default is `None` (the class's
/// own `__init__`, or a base's it reaches through `super().__init__(**kwargs)`,
/// [`KwargsForward`]); the module-level call that built the object gives that parameter no value
/// (no keyword of its name that reaches it, too few positional arguments to reach it, no splat)
/// or a literal that fails the test; and nothing else in the tree stores an attribute of that
/// name ([`stored_only_there`]: a `setattr` by a computed name counts there only on `self` in a
/// method of the class's MRO). `stored_once` keeps the answers of the costly part, per class and
/// attribute.
pub fn attribute_fails_for_good(
    project: &Project,
    singleton: Singleton,
    attr: Name,
    truth: bool,
    stored_once: &mut HashMap<(ClassId, Name), bool>,
) -> bool {
    let Some(stored) = stored_from_parameter(project, singleton, attr) else {
        return false;
    };
    *stored_once
        .entry((singleton.class, attr))
        .or_insert_with(|| {
            let attr = project.file(stored.file).facts.attribute_assignments
                [stored.assignment as usize]
                .attr;
            stored_nowhere_else(
                project,
                singleton.class,
                attr,
                Some((stored.file, stored.assignment)),
            )
        })
        && !set_by_call(project, singleton, &stored, truth)
}

/// Whether a call of `method` on `singleton` does nothing: the method, undecorated (a wrapper
/// would run instead of its body) and not a `__getattribute__` class's, returns at once while an
/// attribute of `self` fails a test ([`crate::facts::SelfAttributeExit`]) that `singleton`'s
/// attribute fails for good ([`attribute_fails_for_good`]), and no module writes attributes by a
/// name it computes ([`crate::facts::FileFacts::writes_computed_attributes`]), on whatever
/// receiver: the object reaches code as a parameter of any name, so a computed store anywhere
/// may switch its attribute.
pub fn method_does_nothing_on(project: &Project, singleton: Singleton, method: FuncId) -> bool {
    let (file, index) = project.function_in_file(method);
    let facts = &project.file(file).facts;
    if !facts.functions[index as usize].decorators.is_empty()
        || project
            .lookup_method(singleton.class, "__getattribute__")
            .is_some()
        || project
            .files
            .iter()
            .any(|file| file.facts.writes_computed_attributes())
    {
        return false;
    }
    facts
        .self_attribute_exits
        .iter()
        .filter(|exit| exit.function == index)
        .any(|exit| {
            attribute_fails_for_good(
                project,
                singleton,
                exit.attr,
                exit.truth,
                &mut HashMap::default(),
            )
        })
}

/// Where the `__init__` that instances of a class run stores `self.<attr>` from a parameter
/// with no default or whose default is `None` ([`stored_from_parameter`]).
struct StoredFromParameter<'p> {
    /// The storing `__init__`'s file, and the store's index in its `attribute_assignments`.
    file: FileId,
    assignment: u32,
    /// The parameter's name and index (`self` at 0).
    param: (Name, u32),
    /// The `__init__` methods, from the class's own, that hand their `**kwargs` on to the next
    /// base's on the way to the storing one.
    forwards: Vec<&'p KwargsForward>,
}

/// For `self.<attr>` on instances of exactly `singleton`'s class, built only by `__init__`
/// methods of the tree (no metaclass, no `__new__`, no base outside the tree): the store, by the
/// class's `__init__` or by a base's that it reaches through [`KwargsForward`]s, of a parameter
/// with no default or whose default is `None` there, on every call.
fn stored_from_parameter(
    project: &Project,
    singleton: Singleton,
    attr: Name,
) -> Option<StoredFromParameter<'_>> {
    let class = singleton.class;
    if !built_by_tree_alone(project, class)
        || data_descriptor_setter(project, class, &attr).is_some()
    {
        return None;
    }
    let mut init = project.lookup_method(class, "__init__")?;
    let mut forwards = Vec::new();
    loop {
        let (file, init_facts) = project.function(init);
        let (_, init_index) = project.function_in_file(init);
        let facts = &project.file(file).facts;
        let stored = facts.param_attributes.iter().find(|stored| {
            let assignment = &facts.attribute_assignments[stored.assignment as usize];
            assignment.function == init_index && assignment.attr == attr
        });
        if let Some(stored) = stored {
            let assignment = &facts.attribute_assignments[stored.assignment as usize];
            let param = init_facts.params.get(stored.param as usize)?;
            // With no default, the construction must pass the parameter; with `None`, a
            // construction that passes nothing leaves it `None`. Either way what it holds is
            // what the call gives, which `set_by_call` reads.
            return (facts.runs_on_every_call(assignment.span.start)
                && matches!(param.default, None | Some(Value::None)))
            .then_some(StoredFromParameter {
                file,
                assignment: stored.assignment,
                param: (param.name, stored.param),
                forwards,
            });
        }
        forwards.push(
            facts
                .kwargs_forwards
                .iter()
                .find(|forward| forward.function == init_index)?,
        );
        init = next_init(project, class, project.method_class(file, init_index)?)?;
    }
}

/// Whether instances of `class` are built by the tree's own code alone: every class of its MRO
/// is the tree's, with no metaclass and only named bases, but `object`, and none defines
/// `__new__`.
fn built_by_tree_alone(project: &Project, class: ClassId) -> bool {
    project.mro(class).all(|entry| match entry {
        MroEntry::Class(c) => {
            let facts = project.class(*c).1;
            facts.metaclass.is_none() && facts.bases.iter().all(Option::is_some)
        }
        MroEntry::External(name) => name.as_str() == "object",
    }) && project.lookup_method(class, "__new__").is_none()
}

/// The literal that attribute `attr` of the default of `param` (of `file`) holds on every call,
/// when the default is `C()`, an argument-less call of `class` ([`crate::facts::FileFacts::bare_call_defaults`]):
/// `C`'s attribute is a class-level binding to a literal (`mode: str = "mix"`, a dataclass field
/// or a plain class attribute), instances are built by the tree's code alone
/// ([`built_by_tree_alone`]) with no decorator but those that copy a field's default as it is
/// ([`knowledge::PLAIN_FIELD_DECORATORS`]), no class of the MRO defines `__setattr__` or
/// `__getattribute__`, nothing in the tree stores an attribute of that name
/// ([`stored_nowhere_else`]), and nothing that may hold the default writes attributes by a name
/// it computes: the model sees it held by parameters alone (a field, a global or a return would
/// hand it to code it cannot follow), of functions that, like the MRO's classes, have no
/// `setattr` with a computed name nor `vars()`/`__dict__` write in their own code
/// ([`writes_computed_attributes_within`]). A call the model cannot resolve carries nothing,
/// here as everywhere.
pub fn default_attribute_literal(
    project: &Project,
    model: &Model,
    file: FileId,
    param: &Param,
    class: ClassId,
    attr: Name,
) -> Option<Literal> {
    if !project
        .file(file)
        .facts
        .bare_call_defaults
        .contains(&param.span.start)
        || !built_by_tree_alone(project, class)
    {
        return None;
    }
    let plain_class = |c: ClassId| {
        let (class_file, facts) = project.class(c);
        facts.decorators.iter().all(|decorator| {
            project.resolves_to_any(
                class_file,
                None,
                decorator.name.as_str(),
                knowledge::PLAIN_FIELD_DECORATORS,
            )
        }) && !writes_computed_attributes_within(project, class_file, facts.span)
    };
    if !project_mro(project, class).all(plain_class)
        || project.lookup_method(class, "__setattr__").is_some()
        || project.lookup_method(class, "__getattribute__").is_some()
    {
        return None;
    }
    let (defining, binding) = project.lookup_class_attribute(class, attr.as_str())?;
    let literals = &project.file(project.class(defining).0).facts.class_literals;
    let literal = literals
        .binary_search_by_key(&binding.span.start, |(start, _)| *start)
        .ok()
        .map(|i| literals[i].1)?;
    let object = model.by_file[file as usize].iter().copied().find(|id| {
        let object = model.object(*id);
        object.site == param.span && matches!(object.origin, Origin::Default(..))
    })?;
    let held_by_parameters_alone = model
        .points_to
        .iter()
        .filter(|(_, objects)| objects.contains(&object))
        .all(|(location, _)| match location {
            Location::Param(function, _) => {
                let (function_file, facts) = project.function(*function);
                !writes_computed_attributes_within(project, function_file, facts.span)
            }
            _ => false,
        });
    (held_by_parameters_alone && stored_nowhere_else(project, class, attr, None)).then_some(literal)
}

/// Whether code within `span` of `file` (a function's or a class's, nested scopes included)
/// may write attributes by a name it computes
/// ([`crate::facts::FileFacts::computed_attribute_writes`]).
fn writes_computed_attributes_within(project: &Project, file: FileId, span: Span) -> bool {
    project
        .file(file)
        .facts
        .computed_attribute_writes
        .iter()
        .any(|start| (span.start..span.end).contains(start))
}

/// The `__init__` that `super().__init__` in a method of `owner` finds on an instance of
/// `class`: the first that a class after `owner` in `class`'s MRO defines itself.
fn next_init(project: &Project, class: ClassId, owner: ClassId) -> Option<FuncId> {
    let name = crate::facts::interned("__init__")?;
    project
        .mro(class)
        .skip_while(|entry| **entry != MroEntry::Class(owner))
        .skip(1)
        .map_while(|entry| match entry {
            MroEntry::Class(c) => Some(*c),
            MroEntry::External(_) => None,
        })
        .find_map(|c| project.own_method(c, &name))
}

/// Whether the module-level call that built `singleton` may give the storing `__init__`'s
/// parameter (`stored.param`, through `stored.forwards`) a value that passes a test of its truth
/// (`truth`) or that it is not `None`: a keyword of its name that reaches it other than a literal
/// failing the test, enough positional arguments to reach it, a splat, a call not known, or a
/// forward that writes that keyword out or that cannot take the positional arguments it gets.
fn set_by_call(
    project: &Project,
    singleton: Singleton,
    stored: &StoredFromParameter<'_>,
    truth: bool,
) -> bool {
    let (name, index) = stored.param;
    let facts = &project.file(singleton.file).facts;
    let Some(call) = facts
        .binding_calls
        .iter()
        .find(|call| call.global == singleton.global)
    else {
        return true;
    };
    if call.splat {
        return true;
    }
    // What each `__init__` on the way gets: positional arguments, and whether the keyword of
    // the parameter's name is among its keywords, as written in the call.
    let mut positional = call.positional;
    let mut keyword_reaches = call.keywords.contains(&name);
    for forward in &stored.forwards {
        if forward.keywords.contains(&name) {
            return true;
        }
        let beyond = positional.saturating_sub(forward.positional);
        positional = match forward.star_args {
            StarArgs::HandedOn => beyond,
            StarArgs::Kept => 0,
            StarArgs::Absent if beyond == 0 => 0,
            StarArgs::Absent => return true,
        };
        keyword_reaches &= !forward.taken_keywords.contains(&name);
    }
    let failing = |(keyword, none): &(Name, bool)| *keyword == name && (*none || truth);
    index <= positional || (keyword_reaches && !call.false_keywords.iter().any(failing))
}

/// Whether nothing in the whole tree stores an attribute named `attr` but the attribute
/// assignment `except` (a file and an index in its `attribute_assignments`; in the `__init__`
/// instances of `class` run): no other assignment, augmented assignment or deletion of
/// `<anything>.<attr>`, in functions or outside them, no `setattr` with that name, and no
/// `setattr` with a computed name on `self` in a method of `class`'s MRO.
pub(super) fn stored_nowhere_else(
    project: &Project,
    class: ClassId,
    attr: Name,
    except: Option<(FileId, u32)>,
) -> bool {
    let mro: HashSet<ClassId> = project_mro(project, class).collect();
    project.files.iter().enumerate().all(|(file_id, each)| {
        let facts = &each.facts;
        let file_id = file_id as FileId;
        facts.outer_attribute_stores.binary_search(&attr).is_err()
            && facts
                .attribute_assignments
                .iter()
                .enumerate()
                .all(|(i, a)| a.attr != attr || except == Some((file_id, i as u32)))
            && facts.mutations.iter().all(|m| {
                !matches!(&m.kind, MutationKind::AttributeAssign(a) | MutationKind::AttributeDelete(a) if *a == attr)
                    && m.target.attrs.last() != Some(&attr)
            })
            && facts.setattr_calls.iter().all(|call| match call.name {
                Some(name) => name != attr,
                None => {
                    call.object != AccessPath::new(Root::SelfParam)
                        || project
                            .method_class(file_id, call.function)
                            .is_none_or(|owner| !mro.contains(&owner))
                }
            })
    })
}
