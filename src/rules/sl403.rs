//! SL403: a caller changes the object an `lru_cache`/`cache` function returned.

use std::collections::BTreeMap;

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, MutationKind, Span, Value};
use crate::knowledge;
use crate::model::Model;
use crate::project::{FileId, FuncId, Project, Resolved};

use super::common;
use super::{Context, Rule, RuleMeta};

pub struct CachedResultMutated;

static META: RuleMeta = RuleMeta {
    code: "SL403",
    name: "cached-result-mutated",
    summary: "A caller changes the object an `lru_cache`/`cache` function returned: later callers get the changed object",
    severity: Severity::Error,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL403.md"),
};

/// The caller's function and the cached function it calls.
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Key {
    file: FileId,
    function: FuncIdx,
    cached: FuncId,
}

struct Site {
    span: Span,
    kind: MutationKind,
    /// Made to the result itself, not to an attribute or item of it.
    direct: bool,
}

impl Rule for CachedResultMutated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let results = context.model.cached_results(project);
        // The caller's function and the cached function whose result it changes -> where the
        // result is created (the cache decorator) and the changes.
        let mut groups: BTreeMap<Key, (Span, Vec<Site>)> = BTreeMap::new();
        for change in &results.changes {
            let key = Key {
                file: change.file,
                function: change.function,
                cached: results.function(change.object),
            };
            let decorator = results.objects[change.object as usize].site;
            groups
                .entry(key)
                .or_insert_with(|| (decorator, Vec::new()))
                .1
                .push(Site {
                    span: change.span,
                    kind: change.kind.clone(),
                    direct: change.direct,
                });
        }

        let mut findings = Vec::new();
        for (key, (decorator, mut sites)) in groups {
            sites.retain(|site| {
                really_changes(
                    project,
                    context.model,
                    key.file,
                    key.function,
                    key.cached,
                    site,
                )
            });
            if sites.is_empty()
                || !common::runs_per_call(project, key.file, key.function)
                || common::in_test_code(project, key.file, key.function)
            {
                continue;
            }
            sites.sort_by_key(|s| s.span);
            sites.dedup_by_key(|s| s.span);
            findings.push(report(project, &key, decorator, &sites));
        }
        findings
    }
}

/// Whether the change is in place: `+=` only when the cached function is seen returning a type
/// whose operator changes it in place; calls of functions only when they are known mutators; a
/// method named like a container's mutator called on the result itself unless every object the
/// cached function is seen returning is a new instance of a class of the tree whose own method
/// of that name changes nothing of it ([`common::tree_method_changes_instance`]).
fn really_changes(
    project: &Project,
    model: &Model,
    file: FileId,
    function: FuncIdx,
    cached: FuncId,
    site: &Site,
) -> bool {
    match &site.kind {
        MutationKind::InPlaceOperator(op) => {
            let (cached_file, cached_index) = project.function_in_file(cached);
            project
                .file(cached_file)
                .facts
                .cached_returns
                .iter()
                .filter(|r| r.function == cached_index)
                .filter_map(|r| common::mutable_type(project, cached_file, &r.value))
                .any(|type_name| common::operator_in_place(&type_name, op))
        }
        MutationKind::MutatingCall(callee) => {
            project.resolves_to_any(file, Some(function), callee, knowledge::MUTATING_FUNCTIONS)
        }
        MutationKind::Method(name) if site.direct => {
            method_may_change_result(project, model, cached, name)
        }
        _ => true,
    }
}

/// Whether calling method `name` on what `cached` returns may change it: false only when the
/// cached function is seen returning, and each `return` gives a new instance of a class of the
/// tree (`return Backend()`) on which the tree decides that the call changes nothing.
fn method_may_change_result(project: &Project, model: &Model, cached: FuncId, name: &str) -> bool {
    let (cached_file, cached_index) = project.function_in_file(cached);
    let mut returns = project
        .file(cached_file)
        .facts
        .cached_returns
        .iter()
        .filter(|r| r.function == cached_index)
        .peekable();
    if returns.peek().is_none() {
        return true;
    }
    returns.any(|r| {
        let Value::Call { callee } = &r.value else {
            return true;
        };
        let Resolved::Class(class) = project.resolve(cached_file, Some(cached_index), callee)
        else {
            return true;
        };
        common::tree_method_changes_instance(project, model, class, name) != Some(false)
    })
}

fn report(project: &Project, key: &Key, decorator: Span, sites: &[Site]) -> Diagnostic {
    let (cached_file, cached_facts) = project.function(key.cached);
    let caller = &project.file(key.file).facts.functions[key.function as usize];
    let adds = sites.iter().all(|s| match &s.kind {
        MutationKind::Method(name) => knowledge::ADDING_METHODS.contains(&name.as_str()),
        MutationKind::ItemDelete | MutationKind::AttributeDelete(_) => false,
        _ => true,
    });
    let verb = if adds { "writes into it" } else { "changes it" };
    let message = format!(
        "`{}` is cached, so every caller gets the same object; `{}` {verb}",
        cached_facts.name, caller.name
    );
    let mut related = vec![
        Label::new(
            cached_file,
            decorator,
            "results are kept here and handed out again, not copied",
        ),
        Label::new(cached_file, cached_facts.span, "the cached function"),
    ];
    related.extend(
        sites[1..]
            .iter()
            .map(|site| Label::and_here(key.file, site.span)),
    );
    META.diagnostic(
        message,
        Label::new(
            key.file,
            sites[0].span,
            format!(
                "changed here: later calls of `{}` return the changed object",
                cached_facts.name
            ),
        ),
    )
    .with_related(related)
    .with_note(
        "the cache returns the object it stored, not a copy: what one request changes is \
         served to every later caller with the same arguments",
    )
    .with_help(
        "copy the result before changing it (`list(...)`, `dict(...)`, `copy.deepcopy(...)`), \
         or make the cached function return an immutable value (a tuple, a frozenset, \
         `types.MappingProxyType`)",
    )
    .with_identity(vec![
        caller.qualname.to_string(),
        cached_facts.qualname.to_string(),
    ])
}
