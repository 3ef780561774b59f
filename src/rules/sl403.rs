//! SL403: a caller changes the object an `lru_cache`/`cache` function returned.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, MutationKind, Root, Span};
use crate::knowledge;
use crate::project::{FileId, FuncId, Project};

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

/// A cached function: its decorator and what its `return`s evaluate to.
struct Cached {
    decorator: Span,
}

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
}

impl Rule for CachedResultMutated {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let cached = cached_functions(project);
        if cached.is_empty() {
            return Vec::new();
        }
        let names: HashSet<&str> = cached
            .keys()
            .map(|f| project.function(*f).1.name.as_str())
            .collect();
        let named = |callee: &str| names.contains(callee.rsplit('.').next().unwrap_or(callee));

        let mut groups: BTreeMap<Key, Vec<Site>> = BTreeMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            // Locals bound once to a call of a cached function: (function, local) -> cached.
            let mut results: HashMap<(FuncIdx, &str), FuncId> = HashMap::new();
            for (index, function) in facts.functions.iter().enumerate() {
                for local in function.typed_locals.iter().filter(|l| l.exact) {
                    if named(&local.class)
                        && let Some((callee, _)) =
                            common::resolve_callee(project, file_id, index as u32, &local.class)
                        && cached.contains_key(&callee)
                    {
                        results.insert((index as u32, local.name.as_str()), callee);
                    }
                }
            }
            let mut add = |function: FuncIdx, callee: FuncId, span: Span, kind: MutationKind| {
                groups
                    .entry(Key {
                        file: file_id,
                        function,
                        cached: callee,
                    })
                    .or_default()
                    .push(Site { span, kind });
            };
            if !results.is_empty() {
                for mutation in &facts.mutations {
                    if let Root::Local(name) = &mutation.target.root
                        && let Some(&callee) = results.get(&(mutation.function, name.as_str()))
                    {
                        add(
                            mutation.function,
                            callee,
                            mutation.span,
                            mutation.kind.clone(),
                        );
                    }
                }
                for assignment in &facts.attribute_assignments {
                    if let Root::Local(name) = &assignment.object.root
                        && assignment.object.attrs.is_empty()
                        && let Some(&callee) = results.get(&(assignment.function, name.as_str()))
                    {
                        let kind = MutationKind::AttributeAssign(assignment.attr.clone());
                        add(assignment.function, callee, assignment.span, kind);
                    }
                }
            }
            for mutation in &facts.call_result_mutations {
                if named(&mutation.callee)
                    && let Some((callee, _)) = common::resolve_callee(
                        project,
                        file_id,
                        mutation.function,
                        &mutation.callee,
                    )
                    && cached.contains_key(&callee)
                {
                    add(
                        mutation.function,
                        callee,
                        mutation.span,
                        mutation.kind.clone(),
                    );
                }
            }
        }

        let mut findings = Vec::new();
        for (key, mut sites) in groups {
            sites.retain(|site| really_changes(project, key.file, key.function, key.cached, site));
            if sites.is_empty()
                || !common::runs_per_call(project, key.file, key.function)
                || common::in_test_code(project, key.file, key.function)
            {
                continue;
            }
            sites.sort_by_key(|s| s.span);
            sites.dedup_by_key(|s| s.span);
            findings.push(report(project, &key, &cached[&key.cached], &sites));
        }
        findings
    }
}

fn cached_functions(project: &Project) -> HashMap<FuncId, Cached> {
    let mut cached = HashMap::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        for (index, function) in file.facts.functions.iter().enumerate() {
            if function.decorators.is_empty() {
                continue;
            }
            if let Some(decorator) = common::cache_decorator(project, file_id, index as u32) {
                cached.insert(
                    project.function_id(file_id, index as u32),
                    Cached {
                        decorator: decorator.span,
                    },
                );
            }
        }
    }
    cached
}

/// Whether the change is in place: `+=` only when the cached function is seen returning a type
/// whose operator changes it in place; calls of functions only when they are known mutators.
fn really_changes(
    project: &Project,
    file: FileId,
    function: FuncIdx,
    cached: FuncId,
    site: &Site,
) -> bool {
    match &site.kind {
        MutationKind::InPlaceOperator(op) => {
            let (cached_file, _) = project.function(cached);
            let cached_index = cached.0 - project.function_id(cached_file, 0).0;
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
        _ => true,
    }
}

fn report(project: &Project, key: &Key, cached: &Cached, sites: &[Site]) -> Diagnostic {
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
            cached.decorator,
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
