//! SL404: a cached function reads module-level state that per-call code changes.

use std::collections::{BTreeMap, HashMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, MutationKind, Name, Span};
use crate::knowledge;
use crate::model::{GlobalId, GlobalWriteKind, Model};
use crate::project::{FileId, FuncId, Project, Resolved};

use super::common;
use super::{Context, Rule, RuleMeta};

pub struct CacheOverMutableGlobal;

static META: RuleMeta = RuleMeta {
    code: "SL404",
    name: "cache-over-mutable-global",
    summary: "An `lru_cache`/`cache` function reads module-level state that code changes at run time: the cache serves stale results",
    severity: Severity::Warning,
    enabled_by_default: true,
    document: include_str!("../../docs/rules/SL404.md"),
};

struct Change {
    file: FileId,
    function: FuncIdx,
    span: Span,
    /// The global is bound to another object.
    rebinds: bool,
    /// The attribute of the global that changes (`G.attr = v`, `G.attr.append(x)`); `None` when
    /// the global itself is rebound or changed in place.
    attr: Option<Name>,
}

/// What a cached function reads of one global: the attributes it reads from it.
#[derive(Default)]
struct Reads {
    attrs: HashSet<Name>,
}

impl Rule for CacheOverMutableGlobal {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        // cached function -> (its decorator, globals it reads).
        let mut reads: BTreeMap<FuncId, (Span, BTreeMap<GlobalId, Reads>)> = BTreeMap::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            for (function, read) in &file.facts.cached_global_reads {
                // `settings.TIMEZONE` through an imported module is that module's global;
                // otherwise `G.attr` is attribute `attr` of global `G`.
                let (resolved, attr) = match project.resolve(file_id, Some(*function), read) {
                    global @ Resolved::Global(..) => (global, None),
                    _ => match read.split_once('.') {
                        Some((name, attr)) => {
                            (project.resolve(file_id, Some(*function), name), Some(attr))
                        }
                        None => (Resolved::Unknown, None),
                    },
                };
                let Resolved::Global(global_file, index) = resolved else {
                    continue;
                };
                let Some(decorator) = common::cache_decorator(project, file_id, *function) else {
                    continue;
                };
                let entry = reads
                    .entry(project.function_id(file_id, *function))
                    .or_insert_with(|| (decorator.span, BTreeMap::new()))
                    .1
                    .entry((global_file, index))
                    .or_default();
                if let Some(attr) = attr {
                    entry.attrs.insert(attr.into());
                }
            }
        }
        if reads.is_empty() {
            return Vec::new();
        }
        let cleared = cleared_caches(project);
        reads.retain(|f, _| !cleared.contains(f));
        let wanted: HashSet<GlobalId> = reads
            .values()
            .flat_map(|(_, g)| g.keys().copied())
            .collect();
        let changes = changes_of(project, context.model, &wanted);

        let mut findings = Vec::new();
        for (cached, (decorator, globals)) in &reads {
            let (cached_file, cached_index) = project.function_in_file(*cached);
            for (global, read) in globals {
                let Some(list) = changes.get(global) else {
                    continue;
                };
                let binding = &project.file(global.0).facts.globals[global.1 as usize];
                let container = common::mutable_type(project, global.0, &binding.value);
                let list: Vec<&Change> = list
                    .iter()
                    .filter(|c| !(c.file == cached_file && c.function == cached_index))
                    .filter(|c| match &c.attr {
                        // The global itself: rebound, or a container changed in place.
                        None => c.rebinds || container.is_some(),
                        // An attribute: only one the cached function reads (or any part of a
                        // container, which has no attributes of its own).
                        Some(attr) => container.is_some() || read.attrs.contains(attr),
                    })
                    .collect();
                if list.is_empty() {
                    continue;
                }
                findings.push(report(project, *cached, *decorator, *global, &list));
            }
        }
        findings
    }
}

/// Cached functions whose `cache_clear()` some code calls: the project resets them itself.
fn cleared_caches(project: &Project) -> HashSet<FuncId> {
    let mut cleared = HashSet::new();
    for (file_id, file) in project.files.iter().enumerate() {
        for (function, callee) in &file.facts.cache_clears {
            if let Some((f, _)) =
                common::resolve_callee(project, file_id as FileId, *function, callee)
            {
                cleared.insert(f);
            }
        }
    }
    cleared
}

/// Per-call changes of the wanted globals: `global G; G = ...`, `G[k] = v`, `G.append(x)`,
/// `G.attr = v`, `module.G = v`.
fn changes_of(
    project: &Project,
    model: &Model,
    wanted: &HashSet<GlobalId>,
) -> HashMap<GlobalId, Vec<Change>> {
    let mut changes: HashMap<GlobalId, Vec<Change>> = HashMap::new();
    for write in model.global_writes(project) {
        let Some(global) = write.global.filter(|g| wanted.contains(g)) else {
            continue;
        };
        let facts = &project.file(write.file).facts;
        let (rebinds, attr) = match write.kind {
            GlobalWriteKind::Rebind { .. } | GlobalWriteKind::ModuleAttributeRebind { .. } => {
                (true, None)
            }
            GlobalWriteKind::Mutation { index, leading } => {
                let mutation = &facts.mutations[index as usize];
                let kind_changes = match &mutation.kind {
                    // Through a local alias, `+=` may rebind the local only.
                    MutationKind::InPlaceOperator(_) => mutation.alias.is_none(),
                    MutationKind::MutatingCall(callee) => project.resolves_to_any(
                        write.file,
                        Some(mutation.function),
                        callee,
                        knowledge::MUTATING_FUNCTIONS,
                    ),
                    _ => true,
                };
                if !kind_changes {
                    continue;
                }
                // `global G; G += 1` rebinds G when G is immutable.
                let rebinds = matches!(mutation.kind, MutationKind::InPlaceOperator(_))
                    && mutation.target.attrs.is_empty();
                let changed_attr = match &mutation.kind {
                    MutationKind::AttributeAssign(a) | MutationKind::AttributeDelete(a)
                        if !mutation.nested =>
                    {
                        Some(a)
                    }
                    _ => None,
                };
                let attr = mutation.target.attrs.get(leading as usize).or(changed_attr);
                (rebinds, attr.cloned())
            }
            // `G.x = v` changes G (or `G.a.x = v` its attribute `a`).
            GlobalWriteKind::AttributeStore { index, leading } => {
                let assignment = &facts.attribute_assignments[index as usize];
                let attrs = &assignment.object.attrs;
                let attr = attrs
                    .get(leading as usize)
                    .or((leading as usize == attrs.len()).then_some(&assignment.attr));
                (false, attr.cloned())
            }
        };
        if common::runs_per_call(project, write.file, write.function)
            && !common::in_test_code(project, write.file, write.function)
        {
            changes.entry(global).or_default().push(Change {
                file: write.file,
                function: write.function,
                span: write.span,
                rebinds,
                attr,
            });
        }
    }
    for list in changes.values_mut() {
        list.sort_by_key(|c| (c.file, c.span));
    }
    changes
}

fn report(
    project: &Project,
    cached: FuncId,
    decorator: Span,
    global: GlobalId,
    changes: &[&Change],
) -> Diagnostic {
    let (cached_file, cached_facts) = project.function(cached);
    let binding = &project.file(global.0).facts.globals[global.1 as usize];
    let name = &binding.name;
    let first = changes[0];
    let changer = &project.file(first.file).facts.functions[first.function as usize];
    let verb = if first.rebinds { "rebinds" } else { "changes" };
    let mut related = vec![
        Label::new(
            cached_file,
            decorator,
            format!("results cached by arguments only; `{name}` is not part of the key"),
        ),
        Label::new(cached_file, cached_facts.span, format!("reads `{name}`")),
        Label::new(global.0, binding.span, "module-level state"),
    ];
    related.extend(
        changes[1..]
            .iter()
            .map(|change| Label::and_here(change.file, change.span)),
    );
    META.diagnostic(
        format!(
            "`{}` is cached but reads `{name}`, which `{}` {verb} at run time: the cache keeps \
             serving results computed from the old value",
            cached_facts.name, changer.name
        ),
        Label::new(
            first.file,
            first.span,
            format!(
                "`{name}` {} here; cached results of `{}` still come from the old value",
                if first.rebinds { "rebound" } else { "changed" },
                cached_facts.name
            ),
        ),
    )
    .with_related(related)
    .with_note(
        "the cache is keyed on the arguments alone: after the module state changes, calls \
         with arguments seen before still return what was computed from the old state",
    )
    .with_help(format!(
        "pass `{name}` (or the part that matters) as an argument, call `{}.cache_clear()` \
         where it changes, or drop the cache",
        cached_facts.name
    ))
    .with_identity(vec![cached_facts.qualname.to_string(), name.to_string()])
}
