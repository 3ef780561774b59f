//! SL502: `ContextVar(..., default=<mutable>)` whose value from `.get()` is changed in place.

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::project::Project;

use super::common;
use super::sl503::{self, ContextVarChanges};
use super::{Context, Rule, RuleMeta};

pub struct MutableContextVarDefault;

static META: RuleMeta = RuleMeta {
    code: "SL502",
    name: "mutable-contextvar-default",
    summary: "A `ContextVar` default is a mutable object that code changes through `.get()`: every context shares it",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL502.md"),
};

impl Rule for MutableContextVarDefault {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        sl503::context_var_changes(context)
            .into_iter()
            .filter(|group| group.var.default.is_some())
            .map(|group| report(context.project, &group))
            .collect()
    }
}

fn report(project: &Project, group: &ContextVarChanges<'_>) -> Diagnostic {
    let function = &project.file(group.file).facts.functions[group.function as usize];
    let var = &group.var.name;
    let (object, default_span) = group
        .var
        .default
        .as_ref()
        .expect("only variables with a default are reported");
    let type_name = object.type_name();
    let mut related = vec![Label::new(
        group.var.file,
        *default_span,
        "created once, at import: every context without its own value gets this object",
    )];
    common::push_aliases_and_sites(
        &mut related,
        group.file,
        &group.sites,
        &format!("taken from `{var}` here"),
    );
    META.diagnostic(
        format!(
            "the default of context variable `{var}` is one {type_name} shared by every context; \
             `{}` changes it through `.get()`",
            function.name
        ),
        Label::new(
            group.file,
            group.sites[0].span,
            "changed here: in a context that never set the variable, this is the shared default",
        ),
    )
    .with_related(related)
    .with_note(
        "`.get()` returns the default object itself when the variable is not set, so a \
         change made for one request or task is seen by every other one that has not set \
         its own value",
    )
    .with_help(format!(
        "drop the mutable default (`default=None`) and `.set()` a new {type_name} per request \
         or task, or never change the value in place: `{var}.set(...)` a new object"
    ))
    .with_identity(vec![function.qualname.to_string(), var.clone()])
}
