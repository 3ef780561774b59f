//! SL204: an object a function creates once for the whole process (while modules are imported,
//! at start-up, or at the first call of a once-guarded function), kept in the closure of a
//! function defined inside it, and changed by that function per call.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{ClosureRebind, FuncIdx, MutationKind, Root, Value};
use crate::model::{ChangeSite, Lifetime, Object, ObjectId, Origin, Timing};
use crate::project::{FileId, Project};

use super::common;
use super::{Context, Rule, RuleMeta, sharing_meant, sl109};

pub struct ClosureStateWrittenPerCall;

static META: RuleMeta = RuleMeta {
    code: "SL204",
    name: "closure-state-written-per-call",
    summary: "An object a decorator or factory creates at import time is kept in a closure and changed by it per call",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL204.md"),
};

impl Rule for ClosureStateWrittenPerCall {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let findings = closure_writes(context, false);
        sharing_meant::leave_meant(context.project, findings)
    }
}

/// The per-call changes of objects kept in closures: the adds of futures kept only until they are
/// done (SL109) when `kept`, the others otherwise (rebinds through `nonlocal` among them).
pub(super) fn closure_writes(context: &Context<'_>, kept: bool) -> Vec<Diagnostic> {
    let (project, model) = (context.project, context.model);
    let mut found: BTreeMap<(FileId, u32), Diagnostic> = BTreeMap::new();
    for change in model.changes() {
        let ChangeSite::Mutation(index) = change.site else {
            continue;
        };
        let facts = &project.file(change.file).facts;
        if change.timing.before_requests()
            || facts.kept_until_done.contains(&change.span.start) != kept
            || found.contains_key(&(change.file, change.span.start))
            || common::in_test_code(project, change.file, change.function)
        {
            continue;
        }
        let mutation = &project.file(change.file).facts.mutations[index as usize];
        let first_value = match change.timing {
            Timing::PerCall => None,
            // A first-time store of per-call data (the first caller's `self`) keeps that
            // call's object for every later one; other first-time stores are set-up.
            _ => match stored_parameter(project, change.file, change.function, change.span.start) {
                Some(param) => Some(param),
                None => continue,
            },
        };
        let Some((object, type_name)) = closure_object(
            project,
            model,
            &change.objects,
            change.file,
            change.function,
        ) else {
            continue;
        };
        let changes = match &mutation.kind {
            MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_) => {
                object.class.is_some()
            }
            _ => common::changes_container(project, change.file, mutation, &type_name),
        };
        if !changes {
            continue;
        }
        let diagnostic = report(
            project,
            object,
            &type_name,
            change.file,
            change.function,
            mutation,
            change.span,
            first_value,
            kept,
        );
        found.insert((change.file, change.span.start), diagnostic);
    }
    // A rebind is no add of a future.
    for (file, source) in project.files.iter().enumerate().filter(|_| !kept) {
        let file = file as FileId;
        for rebind in &source.facts.closure_rebinds {
            if let Some(diagnostic) = closure_rebind(project, file, rebind) {
                found.insert((file, rebind.span.start), diagnostic);
            }
        }
    }
    found.into_values().collect()
}

/// A variable of a function that runs only once (while modules are imported, or once after),
/// rebound through `nonlocal` per call by a function defined in it.
fn closure_rebind(project: &Project, file: FileId, rebind: &ClosureRebind) -> Option<Diagnostic> {
    if common::runs_per_call(project, file, rebind.owner)
        || !common::runs_per_call(project, file, rebind.function)
        || common::in_test_code(project, file, rebind.function)
        || (rebind.first_time && rebind.stored_param.is_none())
        || meets_one_call(project, file, rebind.function, rebind.owner)
    {
        return None;
    }
    let functions = &project.file(file).facts.functions;
    let owner = &functions[rebind.owner as usize];
    let changer = &functions[rebind.function as usize].name;
    let name = &rebind.name;
    let owner_runs = common::once_when(project, Lifetime::of_body(project, file, rebind.owner));
    let (when, note) = timing_words(
        &format!("rebinds `{name}` through `nonlocal`"),
        rebind
            .first_time
            .then_some(rebind.stored_param.as_deref())
            .flatten(),
        project
            .file(file)
            .facts
            .runs_on_every_call(rebind.span.start),
    );
    let message = format!(
        "`{name}` is one variable for the whole process: `{}` binds it {owner_runs}, and `{changer}`, defined in `{}`, {when}",
        owner.name, owner.name
    );
    Some(
        META.diagnostic(
            message,
            Label::new(file, rebind.span, format!("`{changer}` {when}")),
        )
        .with_related(vec![Label::new(
            file,
            owner.span,
            format!("`{}` runs only {owner_runs}", owner.name),
        )])
        .with_note(note)
        .with_help(format!(
            "keep what `{changer}` needs per call in its own locals or in the call's objects"
        ))
        .with_identity(vec![
            format!("{}.<local {name}>", owner.qualname),
            changer.to_string(),
        ]),
    )
}

/// When a change happens, for the message, and what it means: on every call, or once to the
/// first call's `param`.
fn timing_words(written: &str, first_value: Option<&str>, every_call: bool) -> (String, String) {
    match first_value {
        None => (
            format!(
                "{written}{}",
                common::when(every_call, " on every call", " on the calls that reach it")
            ),
            "every call of the functions it returned, in every request, sees what earlier calls left there"
                .to_string(),
        ),
        Some(param) => (
            format!("{written} to its first call's `{param}`, once"),
            format!("every later call, whatever its own `{param}`, finds the first call's there"),
        ),
    }
}

/// The once-created closure local among `objects` that the nested function `function` of `file`
/// changes, with its type name.
fn closure_object<'m>(
    project: &Project,
    model: &'m crate::model::Model,
    objects: &[ObjectId],
    file: FileId,
    function: FuncIdx,
) -> Option<(&'m Object, String)> {
    objects.iter().find_map(|id| {
        let object = model.object(*id);
        let Origin::ClosureLocal(creator) = object.origin else {
            return None;
        };
        let (creator_file, creator_idx) = project.function_in_file(creator);
        if !object.lifetime.is_once()
            || creator_file != file
            || creator_idx == function
            || !is_nested_in(project, file, function, creator_idx)
            || meets_one_call(project, file, function, creator_idx)
        {
            return None;
        }
        let type_name = common::mutable_type(project, object.file, &object.value())
            .or_else(|| object.class.map(|c| project.class(c).1.name.to_string()))?;
        Some((object, type_name))
    })
}

/// Whether each object a call of `creator` makes meets one call of `function`: `function` is
/// what `creator` returns, and every use of `creator` calls that at once (`@factory(...)`), so
/// nothing it changes is seen by a later call (indico's `periodic_task`).
fn meets_one_call(project: &Project, file: FileId, function: FuncIdx, creator: FuncIdx) -> bool {
    project.file(file).facts.functions[function as usize].parent == Some(creator)
        && project.called_once_per_parent_call(file, function)
}

fn is_nested_in(project: &Project, file: FileId, function: FuncIdx, ancestor: FuncIdx) -> bool {
    let functions = &project.file(file).facts.functions;
    let mut current = functions[function as usize].parent;
    while let Some(f) = current {
        if f == ancestor {
            return true;
        }
        current = functions[f as usize].parent;
    }
    false
}

/// The parameter of `function` that the attribute assignment starting at `start` stores.
fn stored_parameter(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    start: u32,
) -> Option<String> {
    let facts = &project.file(file).facts;
    let assignment = facts
        .attribute_assignments
        .iter()
        .find(|a| a.function == function && a.span.start == start)?;
    let Value::Alias(path) = &assignment.value else {
        return None;
    };
    let Root::Local(name) = &path.root else {
        return None;
    };
    let params = &facts.functions[function as usize].params;
    (path.attrs.is_empty() && params.iter().any(|p| p.name == *name)).then(|| name.to_string())
}

#[allow(clippy::too_many_arguments)]
fn report(
    project: &Project,
    object: &Object,
    type_name: &str,
    file: FileId,
    function: FuncIdx,
    mutation: &crate::facts::Mutation,
    span: crate::facts::Span,
    first_value: Option<String>,
    kept: bool,
) -> Diagnostic {
    let Origin::ClosureLocal(creator) = object.origin else {
        unreachable!("closure_object keeps closure locals only")
    };
    let creator_name = &project.function(creator).1.name;
    let changer = &project.file(file).facts.functions[function as usize].name;
    let name = object
        .path
        .rsplit_once("<local ")
        .map_or("", |(_, n)| n.trim_end_matches('>'));
    let written = match &mutation.kind {
        MutationKind::AttributeAssign(attr) => {
            format!("sets `{}.{attr}`", mutation.target.display())
        }
        MutationKind::AttributeDelete(attr) => {
            format!("deletes `{}.{attr}`", mutation.target.display())
        }
        _ if common::only_adds([mutation]) => format!("writes into `{name}`"),
        _ => format!("changes `{name}`"),
    };
    let every_call = project.file(file).facts.runs_on_every_call(span.start);
    let (when, note) = timing_words(&written, first_value.as_deref(), every_call);
    // Classes are code names; builtin container kinds are plain words.
    let type_name = match object.class {
        Some(_) => format!("`{type_name}`"),
        None => type_name.to_string(),
    };
    let created = common::once_when(project, object.lifetime);
    let message = format!(
        "`{name}` is one {type_name} for the whole process: `{creator_name}` creates it {created}, and `{changer}`, defined in `{creator_name}` and keeping it in its closure, {when}"
    );
    let related = vec![Label::new(
        object.file,
        object.site,
        format!("created once, {created}, when `{creator_name}` runs"),
    )];
    let identity = vec![object.path.clone(), changer.to_string()];
    if kept {
        return sl109::kept_until_done(message, Label::new(file, span, ""))
            .with_related(related)
            .with_identity(identity);
    }
    META.diagnostic(message, Label::new(file, span, format!("`{changer}` {when}")))
        .with_related(related)
        .with_note(note)
        .with_help(format!(
            "create the {type_name} inside `{changer}` for each call, or key what it keeps by the call's own inputs"
        ))
        .with_identity(identity)
}
