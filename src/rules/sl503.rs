//! SL503: an object taken from a `ContextVar` with `.get()` and changed in place.
//!
//! Also home of the search SL502 shares: every in-place change of an object read from a context
//! variable.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, Mutation, MutationKind, Span, Value};
use crate::knowledge;
use crate::project::{FileId, Project, Resolved};

use super::common::{self, BindingRef, SharedObject};
use super::{Context, Rule, RuleMeta};

pub struct ContextVarValueMutatedInPlace;

static META: RuleMeta = RuleMeta {
    code: "SL503",
    name: "contextvar-value-mutated-in-place",
    summary: "An object a `ContextVar` is set to at import time is taken with `.get()` and changed in place: every task holds that one object",
    severity: Severity::Warning,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL503.md"),
};

/// A context variable: where it is bound and what its `default=` creates, if a mutable object.
#[derive(Clone)]
pub(super) struct ContextVarDef {
    pub file: FileId,
    pub name: String,
    pub span: Span,
    pub default: Option<(SharedObject, Span)>,
}

/// In-place changes of the objects one function reads from one context variable.
pub(super) struct ContextVarChanges<'a> {
    pub file: FileId,
    pub function: FuncIdx,
    pub var: ContextVarDef,
    pub sites: Vec<&'a Mutation>,
}

/// Every function that changes an object read with `.get()` from a context variable of the
/// analysed tree, grouped by function and variable: the model's changes of context variables
/// created once, where the change goes through `.get()`.
pub(super) fn context_var_changes<'a>(context: &Context<'a>) -> Vec<ContextVarChanges<'a>> {
    let (project, model) = (context.project, context.model);
    if context_var_names(project).is_empty() {
        return Vec::new();
    }
    let mut groups: BTreeMap<(FileId, FuncIdx, FileId, Span), ContextVarChanges<'a>> =
        BTreeMap::new();
    for once in model.once_object_mutations(project) {
        let (change, mutation) = (once.change, once.mutation);
        // `.get()` makes the path nested; a context variable cannot be subscripted.
        if !mutation.nested || change.timing.before_requests() {
            continue;
        }
        if let MutationKind::MutatingCall(callee) = &mutation.kind
            && !project.resolves_to_any(
                change.file,
                Some(mutation.function),
                callee,
                knowledge::MUTATING_FUNCTIONS,
            )
        {
            continue;
        }
        let Some((class, binding)) = model.binding_of(project, once.object) else {
            continue;
        };
        let object_file = model.object(once.object).file;
        let binding = match class {
            Some(class) => BindingRef::ClassLevel(class, binding),
            None => BindingRef::Global(object_file, binding),
        };
        let Some(var) = context_var(project, binding) else {
            continue;
        };
        if common::in_test_code(project, change.file, mutation.function) {
            continue;
        }
        groups
            .entry((change.file, mutation.function, var.file, var.span))
            .or_insert_with(|| ContextVarChanges {
                file: change.file,
                function: mutation.function,
                var,
                sites: Vec::new(),
            })
            .sites
            .push(mutation);
    }
    groups
        .into_values()
        .map(|mut group| {
            common::sort_sites(&mut group.sites);
            group.sites.dedup_by_key(|m| m.span.start);
            group
        })
        .collect()
}

/// Names bound at module or class level to a call of something named `ContextVar`: a cheap
/// filter before resolving.
fn context_var_names(project: &Project) -> HashSet<&str> {
    let is_candidate = |value: &Value| matches!(value, Value::Call { callee } if knowledge::last_segment(callee) == "ContextVar");
    project
        .files
        .iter()
        .flat_map(|f| {
            f.facts
                .globals
                .iter()
                .chain(f.facts.classes.iter().flat_map(|c| c.bindings.iter()))
        })
        .filter(|b| is_candidate(&b.value))
        .map(|b| b.name.as_str())
        .collect()
}

fn context_var(project: &Project, binding: BindingRef<'_>) -> Option<ContextVarDef> {
    let file = binding.file(project);
    let facts = binding.binding();
    let Value::Call { callee } = &facts.value else {
        return None;
    };
    match project.resolve(file, None, callee) {
        Resolved::External(q) if knowledge::CONTEXT_VAR_TYPES.contains(&q.as_str()) => {}
        _ => return None,
    }
    let class = match binding {
        BindingRef::ClassLevel(class, _) => {
            let (class_file, _) = project.class(class);
            let index = class.0 - project.class_id(class_file, 0).0;
            Some(index)
        }
        BindingRef::Global(..) => None,
    };
    let default = project
        .file(file)
        .facts
        .keyword_defaults
        .iter()
        .find(|d| {
            d.class == class
                && d.name == facts.name
                && d.span.start >= facts.span.start
                && d.span.end <= facts.span.end
        })
        .and_then(|d| Some((common::shared_object(project, file, &d.default)?, d.span)));
    Some(ContextVarDef {
        file,
        name: facts.name.to_string(),
        span: facts.span,
        default,
    })
}

impl Rule for ContextVarValueMutatedInPlace {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let changes = context_var_changes(context);
        if changes.is_empty() {
            return Vec::new();
        }
        let set_once = import_time_sets(project);
        changes
            .into_iter()
            // A shared default is the bigger problem; SL502 reports it.
            .filter(|group| group.var.default.is_none())
            .filter_map(|group| {
                let set = set_once.get(&(group.var.file, group.var.span))?;
                Some(report(project, &group, *set))
            })
            .collect()
    }
}

/// Where import-time code (module level, or functions only import-time code runs) sets each
/// context variable, by the variable's binding: the first such place. Every task started later
/// copies the context, so every task holds the object set there. Not a set reset in the
/// `finally` of the `try` that follows it ([`crate::facts::FileFacts::reset_context_sets`]): the
/// context is as it was once the function returns.
fn import_time_sets(project: &Project) -> BTreeMap<(FileId, Span), (FileId, Span)> {
    let mut sets = BTreeMap::new();
    for (file, source) in project.files.iter().enumerate() {
        let file = file as FileId;
        for call in &source.facts.calls {
            let Some(var) = call.callee.strip_suffix(".set") else {
                continue;
            };
            // Reset in the `finally` of the `try` that follows: the value set is in no context
            // once the function has returned, so no task starts with it.
            if call.reference()
                || call.receiver() != crate::facts::CallReceiver::Name
                || source.facts.reset_context_sets.contains(&call.span.start)
                || call
                    .function()
                    .is_some_and(|f| common::runs_per_call(project, file, f))
            {
                continue;
            }
            let Resolved::Global(var_file, index) = project.resolve(file, call.function(), var)
            else {
                continue;
            };
            let binding = &project.file(var_file).facts.globals[index as usize];
            if context_var(project, BindingRef::Global(var_file, binding)).is_some() {
                sets.entry((var_file, binding.span))
                    .or_insert((file, call.span));
            }
        }
    }
    sets
}

fn report(project: &Project, group: &ContextVarChanges<'_>, set: (FileId, Span)) -> Diagnostic {
    let function = &project.file(group.file).facts.functions[group.function as usize];
    let var = &group.var.name;
    let first = group.sites[0];
    let mut related = vec![
        Label::new(
            group.var.file,
            group.var.span,
            "a context variable: copying a context copies the reference, not the object",
        ),
        Label::new(
            set.0,
            set.1,
            "set here, at import time: every task's context starts with this one object",
        ),
    ];
    common::push_aliases_and_sites(
        &mut related,
        group.file,
        &group.sites,
        &format!("taken from `{var}` here"),
    );
    META.diagnostic(
        format!(
            "`{}` changes in place the object context variable `{var}` was set to at import \
             time; every task holds that one object",
            function.name
        ),
        Label::new(
            group.file,
            first.span,
            "changed in place: every task whose context holds the import-time object sees it",
        ),
    )
    .with_related(related)
    .with_note(
        "context copies are shallow: a value set while modules are imported is in the context \
         every task starts from, so each task that has not set its own gets the same object, and \
         what one request writes into it the next one reads",
    )
    .with_help(format!(
        "set a new object instead of changing it, e.g. `{var}.set({{**{var}.get(), key: value}})`"
    ))
    .with_identity(vec![function.qualname.to_string(), var.clone()])
}
