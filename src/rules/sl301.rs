//! SL301: a mutable parameter default (or attrs field default) that is changed, handed out or
//! kept beyond the call.

use std::collections::{BTreeMap, HashMap};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{
    Argument, FalseArgument, FileFacts, FuncIdx, FunctionFacts, LiteralGuard, Mutation,
    MutationKind, Param, ParamGuard, ParamUse, ParamUseKind, Root, Span, Tested, Value,
};
use crate::knowledge;
use crate::project::{ClassId, FileId, Project, Resolved};

use super::common::{self, SharedObject};
use crate::model::{
    Model, Singleton, Through, Timing, changed_only_while_true, default_attribute_literal,
    keeps_empty, method_does_nothing_on,
};

use super::{Context, Rule, RuleMeta};

pub struct MutableDefaultMutated;

static META: RuleMeta = RuleMeta {
    code: "SL301",
    name: "mutable-default-mutated",
    summary: "A mutable default (parameter or attrs field) is changed, returned, yielded or stored by the code that uses it",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL301.md"),
};

impl Rule for MutableDefaultMutated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let mut findings = Vec::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let mut by_param: BTreeMap<(FuncIdx, u32), Vec<&ParamUse>> = BTreeMap::new();
            for param_use in &file.facts.param_uses {
                by_param
                    .entry((param_use.function, param_use.param))
                    .or_default()
                    .push(param_use);
            }
            for ((function, param), uses) in by_param {
                if let Some(finding) = check_parameter(context, file_id, function, param, &uses) {
                    findings.push(finding);
                }
            }
        }
        findings.extend(attrs_field_defaults(context));
        findings
    }
}

/// The object a default creates, and where.
struct DefaultObject {
    object: SharedObject,
    /// A module-level name the default refers to: its name, file and binding.
    global: Option<(String, FileId, Span)>,
    /// That module-level name, when its one binding makes an instance of a class of the tree:
    /// what the object keeps from its construction may prove a method call does nothing on it.
    singleton: Option<Singleton>,
}

impl DefaultObject {
    fn is_container(&self) -> bool {
        matches!(self.object, SharedObject::Container(_))
    }

    /// Where the model finds the object: the module-level binding the default names, or the
    /// parameter `param` of a function of `file` whose default it is.
    fn home(&self, file: FileId, param: &Param) -> (FileId, Span) {
        match &self.global {
            Some((_, global_file, binding)) => (*global_file, *binding),
            None => (file, param.span),
        }
    }
}

fn default_object(
    project: &Project,
    file: FileId,
    function: &FunctionFacts,
    value: &Value,
) -> Option<DefaultObject> {
    match value {
        Value::Container(_) | Value::Call { .. } => Some(DefaultObject {
            object: common::shared_object(project, file, value)?,
            global: None,
            singleton: None,
        }),
        Value::Alias(path) if path.attrs.is_empty() => {
            let Root::Global(name) = &path.root else {
                return None;
            };
            let Resolved::Global(global_file, index) = project.resolve(file, function.parent, name)
            else {
                return None;
            };
            let global_facts = &project.file(global_file).facts;
            let binding = &global_facts.globals[index as usize];
            let object = common::shared_object(project, global_file, &binding.value)?;
            // Bound once, by `name = C(...)` alone: the default is that one object.
            let bound_once = global_facts
                .globals
                .iter()
                .filter(|b| b.name == binding.name)
                .count()
                == 1
                && common::bound_only_by_globals(project, global_file, &binding.name);
            let singleton = match &object {
                SharedObject::Object {
                    class: Some(class), ..
                } if bound_once && matches!(binding.value, Value::Call { .. }) => Some(Singleton {
                    file: global_file,
                    global: index,
                    class: *class,
                }),
                _ => None,
            };
            Some(DefaultObject {
                object,
                global: Some((name.to_string(), global_file, binding.span)),
                singleton,
            })
        }
        _ => None,
    }
}

/// One reportable use of the default, with what the reader should see.
struct Finding {
    rank: u8,
    span: Span,
    label: String,
    verb: String,
    alias: Option<Span>,
    /// Another place of the story (the change inside a callee).
    elsewhere: Option<Label>,
}

/// A per-call change the model attaches to the default created at `param` (a parameter of
/// `file`) after it left through a return: the changing function's name and the place.
fn changed_by_a_caller(
    context: &Context<'_>,
    file: FileId,
    param: Span,
) -> Option<(String, Label)> {
    let (project, model) = (context.project, context.model);
    let object = model.object_defined_at(file, param)?;
    let change = model.changes().iter().find(|c| {
        c.timing == Timing::PerCall
            && c.objects
                .iter()
                .any(|o| std::ptr::eq(model.object(*o), object))
            && !(c.file == file && c.through == Through::Parameter)
    })?;
    let name = project.file(change.file).facts.functions[change.function as usize]
        .name
        .to_string();
    let every_call = project
        .file(change.file)
        .facts
        .runs_on_every_call(change.span.start);
    let label = Label::new(
        change.file,
        change.span,
        format!(
            "changed here, by `{name}`{}",
            common::when(every_call, ", on every call", "")
        ),
    );
    Some((name, label))
}

fn check_parameter(
    context: &Context<'_>,
    file: FileId,
    function: FuncIdx,
    param: u32,
    uses: &[&ParamUse],
) -> Option<Diagnostic> {
    let project = context.project;
    let facts = &project.file(file).facts;
    let function_facts = &facts.functions[function as usize];
    // A function defined inside another (or in a class defined inside one) gets new defaults
    // every time the outer function runs.
    if function_facts.parent.is_some()
        || project
            .method_class(file, function)
            .is_some_and(|c| project.class(c).1.in_function)
    {
        return None;
    }
    let param_facts = function_facts.params.get(param as usize)?;
    let default = default_object(project, file, function_facts, param_facts.default.as_ref()?)?;
    // Created empty and only ever emptied (`existing.pop(k)`), here and wherever the model
    // sees it go: it never changes.
    let only_emptied = uses
        .iter()
        .all(|u| leaves_it_empty(context, file, function, u, &default));
    if only_emptied {
        let (home_file, site) = default.home(file, param_facts);
        if context.model.stays_empty(project, home_file, site) {
            return None;
        }
    }
    // Created empty here, and every read of the parameter made only under `if param:`
    // (`if default_layout: return default_layout`): an empty container is false, so no read
    // ever gives the default, and nothing else can reach it to fill it.
    if default.global.is_none()
        && made_by_builtin(project, file, param_facts)
        && facts.truth_guarded_params.contains(&param_facts.span.start)
    {
        return None;
    }
    let rebound_at = uses
        .iter()
        .find(|u| matches!(u.kind, ParamUseKind::Rebound))
        .map(|u| u.span.start);
    let mut found = Vec::new();
    for param_use in uses {
        if rebound_at.is_some_and(|at| param_use.span.start > at)
            || past_identity_exit(facts, function_facts, param_facts, param_use)
        {
            continue;
        }
        let finding = match &param_use.kind {
            ParamUseKind::Rebound => None,
            ParamUseKind::Mutated(index) => {
                let mutation = &facts.mutations[*index as usize];
                (changes(project, context.model, file, mutation, &default.object, 0)
                    && !does_nothing_on_default(project, mutation, default.singleton)
                    && !excluded_by_identity_test(
                        facts,
                        mutation,
                        param_use.alias,
                        param_facts.default.as_ref(),
                    )
                    && !excluded_by_truth_test(
                        context,
                        file,
                        mutation,
                        &default,
                        param_facts,
                        uses,
                    )
                    && !excluded_by_literal_test(
                        context,
                        &facts.literal_guarded,
                        mutation.span.start,
                        file,
                        param_facts,
                        &default,
                    )
                    && !common::memo_of_key_alone(project, context.model, file, mutation))
                .then(|| Finding {
                    rank: 0,
                    span: param_use.span,
                    // A change under a test, in a loop or after an early return is not made
                    // by every call that leaves the argument out (emmett's `_new_table_sql`).
                    label: common::when(
                        facts.runs_on_every_call(mutation.span.start),
                        "changed here, on every call that leaves it out",
                        "changed here, on the calls that leave it out and reach it",
                    )
                    .to_string(),
                    verb: if mutation.nested || !mutation.target.attrs.is_empty() {
                        "changes an object inside it".to_string()
                    } else if runs_own_method(project, mutation, &default.object) {
                        // Not a container's `update`: the class's own method, whose change
                        // (`self.done += n`) adds nothing to a container.
                        "changes it".to_string()
                    } else {
                        change_verb(&mutation.kind).to_string()
                    },
                    alias: param_use.alias,
                    elsewhere: None,
                })
            }
            ParamUseKind::Passed { callee, argument } => passed_to_mutator(
                context, file, function, param_use, callee, argument, &default,
            ),
            ParamUseKind::Stored if default.is_container() => Some(Finding {
                rank: 2,
                span: param_use.span,
                label: "kept here: it outlives the call".to_string(),
                verb: "keeps it beyond the call".to_string(),
                alias: param_use.alias,
                elsewhere: None,
            }),
            ParamUseKind::Returned | ParamUseKind::Yielded if default.is_container() => {
                let word = if matches!(param_use.kind, ParamUseKind::Returned) {
                    "returns"
                } else {
                    "yields"
                };
                let changed = changed_by_a_caller(context, file, param_facts.span);
                let verb = match &changed {
                    Some((name, _)) => format!("{word} it to callers, and `{name}` changes it"),
                    None => format!("{word} it to callers, who may change it"),
                };
                Some(Finding {
                    rank: 3,
                    span: param_use.span,
                    label: format!("{word} it here: the caller gets the shared object"),
                    verb,
                    alias: param_use.alias,
                    elsewhere: changed.map(|(_, label)| label),
                })
            }
            _ => None,
        };
        found.extend(finding);
    }
    if found.is_empty()
        || !per_call(project, file, function, &param_facts.name)
        || common::in_test_code(project, file, function)
    {
        return None;
    }
    found.sort_by_key(|f| (f.rank, f.span));
    Some(report(
        file,
        function_facts,
        &param_facts.name,
        param_facts.span,
        &default,
        found,
    ))
}

/// Whether `param_use` leaves an empty default empty: a change that keeps an empty container
/// empty, or a hand-off the model follows to a function that only reads the parameter (its uses
/// of it are changes, each of which `passed_to_mutator` finds harmless, or none: it neither
/// returns, yields, stores nor hands it on), or to a builtin that only reads its argument
/// (`len`). A hand-off to a function the model does not see may fill it.
fn leaves_it_empty(
    context: &Context<'_>,
    file: FileId,
    function: FuncIdx,
    param_use: &ParamUse,
    default: &DefaultObject,
) -> bool {
    let project = context.project;
    let facts = &project.file(file).facts;
    match &param_use.kind {
        ParamUseKind::Mutated(index) => keeps_empty(facts, &facts.mutations[*index as usize]),
        ParamUseKind::Passed { callee, argument } => {
            if let Resolved::External(qualified) = project.resolve(file, Some(function), callee) {
                return qualified
                    .strip_prefix("builtins.")
                    .is_some_and(|name| knowledge::READING_BUILTINS.contains(&name));
            }
            let Some((target, bound)) = common::resolve_callee(project, file, function, callee)
            else {
                return false;
            };
            let (target_file, target_facts) = project.function(target);
            let (_, target_index) = project.function_in_file(target);
            let index = match argument {
                Argument::Position(position) => *position as usize + usize::from(bound),
                Argument::Keyword(name) => {
                    let Some(index) = target_facts.params.iter().position(|p| p.name == *name)
                    else {
                        return false;
                    };
                    index
                }
            };
            index < target_facts.params.len()
                && target != project.function_id(file, function)
                && project
                    .file(target_file)
                    .facts
                    .param_uses
                    .iter()
                    .filter(|u| u.function == target_index && u.param == index as u32)
                    .all(|u| matches!(u.kind, ParamUseKind::Mutated(_)))
                && passed_to_mutator(
                    context, file, function, param_use, callee, argument, default,
                )
                .is_none()
        }
        _ => false,
    }
}

/// Import-time functions (registration decorators, class-creation hooks) change their defaults
/// only while modules load. A function that returns the defaulted parameter itself is not a
/// decorator even when it has that shape.
fn per_call(project: &Project, file: FileId, function: FuncIdx, param: &str) -> bool {
    common::runs_per_call(project, file, function)
        || project.file(file).facts.functions[function as usize]
            .returned_names
            .iter()
            .any(|n| n == param)
}

/// Whether `mutation` really changes an object of the default's type.
/// `depth` is the number of attributes of the mutation's target that lead to the object itself
/// (0 for a parameter, 1 for `self.field`).
fn changes(
    project: &Project,
    model: &Model,
    file: FileId,
    mutation: &Mutation,
    object: &SharedObject,
    depth: usize,
) -> bool {
    let reaches_inside = mutation.target.attrs.len() > depth || mutation.nested;
    if excluded_by_type_test(project, file, mutation, object) {
        return false;
    }
    match &mutation.kind {
        // A method of the object's own class runs, not a container's of the same name: it
        // counts by what it does to the object.
        MutationKind::Method(name) if !reaches_inside => match object {
            SharedObject::Object {
                class: Some(class), ..
            } => {
                common::exact_class_method_may_change(project, model, *class, name).unwrap_or(true)
            }
            _ => true,
        },
        MutationKind::MutatingCall(callee) => project.resolves_to_any(
            file,
            Some(mutation.function),
            callee,
            knowledge::MUTATING_FUNCTIONS,
        ),
        MutationKind::InPlaceOperator(op) => match object {
            SharedObject::Container(type_name) => {
                reaches_inside || common::operator_in_place(type_name, op)
            }
            SharedObject::Object { .. } => reaches_inside,
        },
        MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_) => {
            reaches_inside || matches!(object, SharedObject::Object { .. })
        }
        _ => true,
    }
}

/// Whether the use, or the read of the parameter a local alias took it from, comes after `if
/// param is X: raise` (or `return`) in the function's own body, or in an `elif`/`else` of such an
/// `if` anywhere in it, where the default is written `X` (Zope's `_getOb(self, id,
/// default=_marker)`, supervisor's `saneget`): the default never gets there.
fn past_identity_exit(
    facts: &FileFacts,
    function_facts: &FunctionFacts,
    param_facts: &Param,
    param_use: &ParamUse,
) -> bool {
    let Some(written) = default_written(param_facts.default.as_ref()) else {
        return false;
    };
    facts
        .identity_exits
        .iter()
        .any(|(function_start, name, other, from, to)| {
            let within = |at: Span| (*from..*to).contains(&at.start);
            *function_start == function_facts.span.start
                && *name == param_facts.name
                && (within(param_use.span) || param_use.alias.is_some_and(within))
                && other.split('.').eq(written.iter().copied())
        })
}

/// The default as written, when it is a module-level name or a dotted name under one (`MISSING`,
/// `sentinels.UNSET`): its parts.
fn default_written(default: Option<&Value>) -> Option<Vec<&str>> {
    let Some(Value::Alias(path)) = default else {
        return None;
    };
    let Root::Global(head) = &path.root else {
        return None;
    };
    Some(
        std::iter::once(head.as_str())
            .chain(path.attrs.iter().map(|a| a.as_str()))
            .collect(),
    )
}

/// Whether `mutation` calls, on the object itself, a method that the object's class (a class of
/// the tree, of which the object is exactly an instance) defines before any base outside the
/// tree.
fn runs_own_method(project: &Project, mutation: &Mutation, object: &SharedObject) -> bool {
    let (
        MutationKind::Method(name),
        SharedObject::Object {
            class: Some(class), ..
        },
    ) = (&mutation.kind, object)
    else {
        return false;
    };
    mutation.target.attrs.is_empty()
        && !mutation.nested
        && common::own_method_comes_first(project, *class, name)
}

/// Whether `mutation` calls, on the module-level instance the default is (`singleton`), a method
/// that does nothing on it ([`method_does_nothing_on`]): `progress.update()` whose method
/// returns at once while `self.on` is false, with the default built `ProgressContext(on=False)`.
fn does_nothing_on_default(
    project: &Project,
    mutation: &Mutation,
    singleton: Option<Singleton>,
) -> bool {
    let (Some(singleton), MutationKind::Method(name)) = (singleton, &mutation.kind) else {
        return false;
    };
    mutation.target.attrs.is_empty()
        && !mutation.nested
        && common::own_method_comes_first(project, singleton.class, name)
        && project
            .lookup_method(singleton.class, name)
            .is_some_and(|method| method_does_nothing_on(project, singleton, method))
}

/// Whether the change happens only under `param is not X` where the default is written `X`
/// (`if flags is not MISSING: flags.x = v` with `flags=MISSING`), or under such a test of a
/// local alias of it, or through an alias (read at `alias`) taken only under such a test (`if
/// colors is not MISSING: target = colors`): never on the default.
fn excluded_by_identity_test(
    facts: &FileFacts,
    mutation: &Mutation,
    alias: Option<Span>,
    default: Option<&Value>,
) -> bool {
    let Some(written) = default_written(default) else {
        return false;
    };
    facts
        .identity_guarded
        .iter()
        .filter(|(start, _)| {
            *start == mutation.span.start || alias.is_some_and(|a| a.start == *start)
        })
        .any(|(_, other)| other.split('.').eq(written.iter().copied()))
}

/// Whether the change happens only under a test that requires the parameter (or an alias of
/// it) to be true (`if view and not view.is_finished(): view.message = m`) while the default is
/// always false: the test never passes for it. So is the one module-level instance of a class
/// whose instances are all false ([`common::instances_are_false`]: py-cord's `MISSING`), and a
/// container the builtins create empty for the parameter (cloudkitty's `filters={}`) that stays
/// empty wherever the model sees it go ([`Model::stays_empty`], to which a change made only while
/// the object is true keeps it empty) and that the function neither returns, yields nor stores,
/// alone or in a tuple: a caller could fill such a default, and the next call's test would pass.
fn excluded_by_truth_test(
    context: &Context<'_>,
    file: FileId,
    mutation: &Mutation,
    default: &DefaultObject,
    param: &Param,
    uses: &[&ParamUse],
) -> bool {
    let project = context.project;
    let facts = &project.file(file).facts;
    if !facts.truth_guarded.contains(&mutation.span.start) {
        return false;
    }
    match default.singleton {
        Some(singleton) => common::instances_are_false(project, singleton.class),
        None => {
            default.global.is_none()
                && changed_only_while_true(facts, mutation)
                && made_by_builtin(project, file, param)
                && !uses.iter().any(|u| {
                    matches!(
                        u.kind,
                        ParamUseKind::Returned
                            | ParamUseKind::Yielded
                            | ParamUseKind::ReturnedInside
                            | ParamUseKind::Stored
                    )
                })
                && context.model.stays_empty(project, file, param.span)
        }
    }
}

/// Whether the parameter's default is a container display (`{}`, `[]`) or a call of a builtin
/// (`dict()`, `set()`): not a module's own function of that name.
fn made_by_builtin(project: &Project, file: FileId, param: &Param) -> bool {
    match param.default.as_ref() {
        Some(Value::Container(_)) => true,
        Some(Value::Call { callee }) => matches!(
            project.resolve(file, None, callee),
            Resolved::External(q) if q.starts_with("builtins.")
        ),
        _ => false,
    }
}

/// Whether the change starting at `start` (among `guards`, its file's
/// [`FileFacts::literal_guarded`]) happens only under a test that an attribute of the object
/// equals some literals (`elif param.mode == "bypass":`) while the default of `param` (of
/// `file`), built by an argument-less call of a class of the tree, holds another literal there
/// for good ([`default_attribute_literal`]: lightrag's `QueryParam()`, whose `mode` is `"mix"`).
fn excluded_by_literal_test(
    context: &Context<'_>,
    guards: &[LiteralGuard],
    start: u32,
    file: FileId,
    param: &Param,
    default: &DefaultObject,
) -> bool {
    let SharedObject::Object {
        class: Some(class), ..
    } = default.object
    else {
        return false;
    };
    default.global.is_none()
        && guards.iter().filter(|g| g.start == start).any(|guard| {
            default_attribute_literal(
                context.project,
                context.model,
                file,
                param,
                class,
                guard.attr,
            )
            .is_some_and(|held| !guard.literals.contains(&held))
        })
}

/// Whether the change happens only under `isinstance(param, T)` for builtin types `T` none of
/// which is the default's: `elif isinstance(params, list): params.pop(0)` with `params={}`.
fn excluded_by_type_test(
    project: &Project,
    file: FileId,
    mutation: &Mutation,
    object: &SharedObject,
) -> bool {
    const BUILTIN_TYPES: &[&str] = &[
        "list",
        "dict",
        "set",
        "tuple",
        "str",
        "bytes",
        "int",
        "float",
        "frozenset",
    ];
    let Some((_, types)) = project
        .file(file)
        .facts
        .type_guarded
        .iter()
        .find(|(start, _)| *start == mutation.span.start)
    else {
        return false;
    };
    types.iter().all(|t| BUILTIN_TYPES.contains(&t.as_str()))
        && !types.iter().any(|t| t == object.type_name())
}

fn change_verb(kind: &MutationKind) -> &'static str {
    match kind {
        MutationKind::Method(name) if knowledge::ADDING_METHODS.contains(&name.as_str()) => {
            "adds to it"
        }
        MutationKind::ItemAssign | MutationKind::SliceAssign | MutationKind::ItemAugAssign => {
            "writes into it"
        }
        MutationKind::AttributeAssign(_) => "sets attributes on it",
        _ => "changes it in place",
    }
}

/// A defaulted parameter passed to a function of the analysed tree that changes the matching
/// parameter.
fn passed_to_mutator(
    context: &Context<'_>,
    file: FileId,
    function: FuncIdx,
    param_use: &ParamUse,
    callee: &str,
    argument: &Argument,
    default: &DefaultObject,
) -> Option<Finding> {
    let project = context.project;
    let (target, bound) = common::resolve_callee(project, file, function, callee)?;
    // A recursive call hands the default on to the same parameter: nothing new.
    if target == project.function_id(file, function) {
        return None;
    }
    let (target_file, target_facts) = project.function(target);
    let (_, target_index) = project.function_in_file(target);
    let index = match argument {
        Argument::Position(position) => *position as usize + usize::from(bound),
        Argument::Keyword(name) => target_facts.params.iter().position(|p| p.name == *name)?,
    };
    let target_param = target_facts.params.get(index)?;
    let target_file_facts = &project.file(target_file).facts;
    let excluded = |start: u32| {
        excluded_by_false_argument(
            project.file(file).facts.false_arguments.as_slice(),
            param_use.span.start,
            bound,
            target_facts,
            target_file_facts.param_guarded.as_slice(),
            start,
        )
    };
    // A rebind on a path this call never takes leaves the default in place after it.
    let rebound_at = target_file_facts
        .param_uses
        .iter()
        .find(|u| {
            u.function == target_index
                && u.param == index as u32
                && matches!(u.kind, ParamUseKind::Rebound)
        })
        .map(|u| u.span.start)
        .filter(|&at| !excluded(at));
    // A change that leaves an empty container empty (one made only in a loop over it, say)
    // changes nothing of a default that stays empty wherever the model sees it go.
    let param =
        &project.file(file).facts.functions[function as usize].params[param_use.param as usize];
    let stays_empty = || {
        let (home_file, site) = default.home(file, param);
        context.model.stays_empty(project, home_file, site)
    };
    let mutation = context
        .model
        .parameter_changes(project, target, index as u32)
        .iter()
        .map(|&m| &target_file_facts.mutations[m as usize])
        .filter(|m| {
            rebound_at.is_none_or(|at| m.span.start < at)
                && !excluded(m.span.start)
                && !excluded_by_literal_test(
                    context,
                    &target_file_facts.literal_guarded,
                    m.span.start,
                    file,
                    param,
                    default,
                )
                && changes(project, context.model, target_file, m, &default.object, 0)
                && !does_nothing_on_default(project, m, default.singleton)
        })
        .find(|m| !keeps_empty(target_file_facts, m) || !stays_empty())?;
    Some(Finding {
        rank: 1,
        span: param_use.span,
        label: format!("passed here to `{}`", target_facts.name),
        verb: format!("passes it to `{}`, which changes it", target_facts.name),
        alias: param_use.alias,
        elsewhere: Some(Label::new(
            target_file,
            mutation.span,
            format!(
                "`{}` changes its parameter `{}` here",
                target_facts.name, target_param.name
            ),
        )),
    })
}

/// Whether the callee's change (or rebind) starting at `start` runs only under a test of one of
/// its parameters that the call's literal argument fails: `if tid is not None:` with `None`
/// passed as `tid`, `if fill:` with `False`, `0`, `""` or `None`. The callee never binds that
/// parameter again, so it keeps the literal for the whole call. `use_start` is where the call
/// hands on the default; `bound` whether a positional argument's index skips the callee's
/// `self` or `cls`.
fn excluded_by_false_argument(
    false_arguments: &[FalseArgument],
    use_start: u32,
    bound: bool,
    callee: &FunctionFacts,
    guards: &[ParamGuard],
    start: u32,
) -> bool {
    let passed = false_arguments.iter().filter(|a| a.use_start == use_start);
    guards.iter().filter(|g| g.start == start).any(|guard| {
        let Tested::Param {
            index,
            positional,
            keyword,
        } = guard.tested
        else {
            return false;
        };
        passed.clone().any(|literal| {
            let reaches = match &literal.argument {
                Argument::Position(position) => positional && position + u32::from(bound) == index,
                Argument::Keyword(name) => {
                    keyword
                        && callee
                            .params
                            .get(index as usize)
                            .is_some_and(|p| p.name == *name)
                }
            };
            reaches && (literal.none || guard.truth)
        })
    })
}

fn constructor_text(object: &SharedObject) -> String {
    match object.type_name() {
        "list" => "[]".to_string(),
        "dict" => "{}".to_string(),
        other => format!("{other}()"),
    }
}

fn report(
    file: FileId,
    function: &FunctionFacts,
    param: &str,
    param_span: Span,
    default: &DefaultObject,
    found: Vec<Finding>,
) -> Diagnostic {
    let type_name = default.object.type_name();
    let first = &found[0];
    let created = match &default.global {
        Some((name, _, _)) => format!("the module-level {type_name} `{name}`"),
        None => format!(
            "one {type_name} created when `{}` is defined",
            function.name
        ),
    };
    let message = format!(
        "`{param}` defaults to {created}; `{}` {}",
        function.name, first.verb
    );
    let mut related = vec![Label::new(
        file,
        param_span,
        "the default is evaluated once, when `def` runs",
    )];
    if let Some((name, global_file, span)) = &default.global {
        related.push(Label::new(
            *global_file,
            *span,
            format!("`{name}` is created here, once"),
        ));
    }
    for finding in &found {
        if let Some(alias) = finding.alias
            && !related.iter().any(|l| l.file == file && l.span == alias)
        {
            related.push(Label::new(
                file,
                alias,
                format!("another name for `{param}`, not a copy"),
            ));
        }
    }
    for (index, finding) in found.iter().enumerate() {
        if index > 0 {
            related.push(Label::new(
                file,
                finding.span,
                format!("and here: {}", finding.label),
            ));
        }
        if let Some(elsewhere) = &finding.elsewhere {
            related.push(elsewhere.clone());
        }
    }
    let help = match &default.global {
        Some((name, _, _)) => {
            let copy = match &default.object {
                SharedObject::Container(type_name) => format!("{type_name}({name})"),
                SharedObject::Object { .. } => format!("copy.copy({name})"),
            };
            format!(
                "default to `None` and take a copy: `if {param} is None: {param} = {copy}`; pass \
                 `{name}` explicitly where sharing it is intended"
            )
        }
        None => format!(
            "default to `None` and create it in the body: `if {param} is None: {param} = {}`",
            constructor_text(&default.object)
        ),
    };
    META.diagnostic(message, Label::new(file, first.span, first.label.clone()))
        .with_related(related)
        .with_note(
            "every call that leaves the argument out gets the same object: in a long-running \
             process, what one request puts in it is seen by the next",
        )
        .with_help(help)
        .with_identity(vec![function.qualname.to_string(), param.to_string()])
}

/// attrs fields declared `attr.ib(default=<mutable>)` / `attrs.field(default=<mutable>)`: attrs
/// assigns the one default object to every instance.
fn attrs_field_defaults(context: &Context<'_>) -> Vec<Diagnostic> {
    let project = context.project;
    let mut fields: Vec<(ClassId, &str, FileId, Span, SharedObject)> = Vec::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        for default in &file.facts.keyword_defaults {
            let Some(class) = default.class else {
                continue;
            };
            let last = knowledge::last_segment(&default.callee);
            if !matches!(last, "ib" | "attrib" | "attr" | "field")
                || !project.resolves_to_any(
                    file_id,
                    None,
                    &default.callee,
                    knowledge::ATTRS_FIELD_FUNCTIONS,
                )
            {
                continue;
            }
            if let Some(object) = common::shared_object(project, file_id, &default.default) {
                fields.push((
                    project.class_id(file_id, class),
                    default.name.as_str(),
                    file_id,
                    default.span,
                    object,
                ));
            }
        }
    }
    if fields.is_empty() {
        return Vec::new();
    }
    let instance_assignments = context.model.instance_assignments(project);
    let mut by_attr: HashMap<&str, Vec<usize>> = HashMap::new();
    for (index, field) in fields.iter().enumerate() {
        by_attr.entry(field.1).or_default().push(index);
    }
    let mut sites_of: Vec<Vec<(FileId, &Mutation)>> = vec![Vec::new(); fields.len()];
    // `self` in a method, or a local of known class; per-call code only.
    for change in context.model.instance_changes(project) {
        let (file_id, receivers) = (change.file, &change.classes);
        let mutation = &project.file(file_id).facts.mutations[change.mutation as usize];
        let Some(candidates) = mutation
            .target
            .attrs
            .first()
            .and_then(|a| by_attr.get(a.as_str()))
        else {
            continue;
        };
        if common::in_test_code(project, file_id, mutation.function) {
            continue;
        }
        for &index in candidates {
            let (class, attr, _, field_span, object) = &fields[index];
            // The receiver's class sees this very field (no subclass overrides it).
            let sees_field = |receiver: &ClassId| {
                project.lookup_class_attribute(*receiver, attr).is_some_and(
                    |(defining, binding)| {
                        defining == *class
                            && binding.span.start <= field_span.start
                            && field_span.end <= binding.span.end
                    },
                )
            };
            let Some(receiver) = receivers.iter().find(|r| sees_field(r)) else {
                continue;
            };
            if changes(project, context.model, file_id, mutation, object, 1)
                && !instance_assignments.shadows(
                    project,
                    *receiver,
                    attr,
                    file_id,
                    mutation.function,
                    mutation.span.start,
                )
            {
                sites_of[index].push((file_id, mutation));
            }
        }
    }
    let mut findings = Vec::new();
    for ((class, attr, field_file, field_span, object), sites) in fields.into_iter().zip(sites_of) {
        let Some((site_file, site)) = sites.first().copied() else {
            continue;
        };
        let (_, class_facts) = project.class(class);
        let method = &project.file(site_file).facts.functions[site.function as usize];
        let mut related = vec![Label::new(
            field_file,
            field_span,
            "created once, when the class is defined; attrs gives it to every instance",
        )];
        related.extend(
            sites[1..]
                .iter()
                .map(|(other_file, other)| Label::and_here(*other_file, other.span)),
        );
        findings.push(
            META.diagnostic(
                format!(
                    "every `{}` gets the same {} as its `{attr}` default; `{}` {}",
                    class_facts.name,
                    object.type_name(),
                    method.name,
                    change_verb(&site.kind)
                ),
                Label::new(site_file, site.span, "changed here: every instance sees it"),
            )
            .with_related(related)
            .with_note(
                "attrs evaluates `default=` once and assigns that object to each new instance, \
                 so a change through one instance shows in all of them",
            )
            .with_help(format!(
                "use `factory={}` (or `default=Factory({})`) so that each instance gets its own",
                object.type_name(),
                object.type_name()
            ))
            .with_identity(vec![class_facts.qualname.to_string(), attr.to_string()]),
        );
    }
    findings
}
