//! SL202: a module-level container that per-call code only ever grows.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{FuncIdx, MutationKind, Root, Span};
use crate::knowledge;
use crate::project::{FileId, Project};

use super::common;
use super::sl201::{PerRequest, dotted, module_global};
use super::{Context, Rule, RuleMeta};

pub struct ModuleStateAccumulates;

static META: RuleMeta = RuleMeta {
    code: "SL202",
    name: "module-state-accumulates",
    summary: "A module-level list, set, deque or dict is only ever grown by per-call code",
    severity: Severity::Warning,
    // Caches over a small domain (per precision, per loaded module) grow the same way and are
    // fine; this cannot tell them apart, so it is an audit rule.
    enabled_by_default: false,
    document: include_str!("../../docs/rules/SL202.md"),
};

/// Container types whose growth this rule follows.
const GROWABLE: &[&str] = &[
    "list",
    "set",
    "dict",
    "deque",
    "defaultdict",
    "OrderedDict",
    "Counter",
];

/// Calls of mutating functions that add to their first argument.
const GROWING_FUNCTIONS: &[&str] = &[
    "heapq.heappush",
    "bisect.insort",
    "bisect.insort_left",
    "bisect.insort_right",
];

#[derive(Default)]
struct Container {
    type_name: String,
    /// Something removes from it, clears it or replaces it.
    bounded: bool,
    /// (file, function, site) of each growth in per-call code.
    growth: Vec<(FileId, FuncIdx, Span)>,
}

impl Rule for ModuleStateAccumulates {
    fn meta(&self) -> &'static RuleMeta {
        &META
    }

    fn check(&self, context: &Context<'_>) -> Vec<Diagnostic> {
        let project = context.project;
        let mut per_request = PerRequest::default();
        let mut containers: BTreeMap<(FileId, u32), Container> = BTreeMap::new();
        let mut not_containers: HashSet<(FileId, u32)> = HashSet::new();
        for (file_id, file) in project.files.iter().enumerate() {
            let file_id = file_id as FileId;
            let facts = &file.facts;
            let constant_keys: HashSet<u32> = facts.constant_key_stores.iter().copied().collect();
            let parameter_stores: HashSet<u32> = facts.parameter_stores.iter().copied().collect();
            let memo: HashSet<u32> = facts.memo_stores.iter().map(|m| m.span.start).collect();
            // Filling the entries of a cache (`C[k].append(v)` where `C[k]` was just memoised).
            let memoised: HashSet<(u32, String)> = facts
                .memo_stores
                .iter()
                .map(|m| (m.function, m.cache.display()))
                .collect();
            let lazy: HashSet<u32> = facts.lazy_inits.iter().copied().collect();
            for mutation in &facts.mutations {
                let Root::Global(head) = &mutation.target.root else {
                    continue;
                };
                let written = dotted(head, &mutation.target.attrs);
                let Some((global_file, global, binding)) =
                    module_global(project, file_id, mutation.function, &written)
                else {
                    continue;
                };
                let id = (global_file, global);
                if not_containers.contains(&id) {
                    continue;
                }
                let container = match containers.entry(id) {
                    std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                    std::collections::btree_map::Entry::Vacant(entry) => {
                        match common::mutable_type(project, global_file, &binding.value) {
                            Some(type_name) if GROWABLE.contains(&type_name.as_str()) => {
                                let bounded = project
                                    .file(global_file)
                                    .facts
                                    .bounded_globals
                                    .contains(&global);
                                entry.insert(Container {
                                    type_name,
                                    bounded,
                                    growth: Vec::new(),
                                })
                            }
                            _ => {
                                not_containers.insert(id);
                                continue;
                            }
                        }
                    }
                };
                match growth(project, file_id, mutation, &constant_keys) {
                    Growth::Shrinks => container.bounded = true,
                    Growth::Neutral => {}
                    Growth::Grows => {
                        let span = mutation.span;
                        if (mutation.nested
                            && memoised.contains(&(mutation.function, mutation.target.display())))
                            || memo.contains(&span.start)
                            || lazy.contains(&span.start)
                            || parameter_stores.contains(&span.start)
                            || !common::runs_per_call(project, file_id, mutation.function)
                            || per_request.reached(project, file_id, mutation.function)
                        {
                            continue;
                        }
                        container.growth.push((file_id, mutation.function, span));
                    }
                }
            }
            // `global CACHE; CACHE = []` starts it over.
            for rebind in &facts.global_rebinds {
                if let Some((global_file, global, _)) =
                    module_global(project, file_id, rebind.function, &rebind.name)
                {
                    containers.entry((global_file, global)).or_default().bounded = true;
                }
            }
        }
        containers
            .into_iter()
            .filter(|(_, c)| !c.bounded && !c.growth.is_empty() && !c.type_name.is_empty())
            .filter(|((file, global), _)| !named_as_cache(project, *file, *global))
            .map(|(id, c)| report(project, id, c))
            .collect()
    }
}

/// A container its authors call a cache (`_CACHE`, `_lexer_cache`, `memo`): growth per distinct
/// key is what it is for.
fn named_as_cache(project: &Project, file: FileId, global: u32) -> bool {
    let name = project.file(file).facts.globals[global as usize]
        .name
        .to_ascii_lowercase();
    name.contains("cache") || name.contains("memo")
}

enum Growth {
    Grows,
    Shrinks,
    Neutral,
}

fn growth(
    project: &Project,
    file: FileId,
    mutation: &crate::facts::Mutation,
    constant_keys: &HashSet<u32>,
) -> Growth {
    if mutation.nested {
        // Changing an element (`CACHE[k].append(v)`) grows the element, not the container; a
        // removal there bounds nothing either.
        return match &mutation.kind {
            MutationKind::Method(m) if knowledge::ADDING_METHODS.contains(&m.as_str()) => {
                Growth::Grows
            }
            _ => Growth::Neutral,
        };
    }
    match &mutation.kind {
        MutationKind::Method(name) => match name.as_str() {
            "append" | "extend" | "insert" | "add" | "appendleft" | "extendleft" | "update"
            | "setdefault" | "__setitem__" | "__iadd__" | "__ior__" => Growth::Grows,
            "sort" | "reverse" | "rotate" | "move_to_end" => Growth::Neutral,
            _ => Growth::Shrinks,
        },
        MutationKind::ItemAssign | MutationKind::ItemAugAssign => {
            if constant_keys.contains(&mutation.span.start) {
                Growth::Neutral
            } else {
                Growth::Grows
            }
        }
        MutationKind::ItemDelete | MutationKind::SliceAssign => Growth::Shrinks,
        MutationKind::InPlaceOperator(op) => match op.as_str() {
            "+=" | "|=" => Growth::Grows,
            _ => Growth::Shrinks,
        },
        MutationKind::MutatingCall(callee) => {
            if project.resolves_to_any(file, Some(mutation.function), callee, GROWING_FUNCTIONS) {
                Growth::Grows
            } else if project.resolves_to_any(
                file,
                Some(mutation.function),
                callee,
                knowledge::MUTATING_FUNCTIONS,
            ) {
                Growth::Shrinks
            } else {
                Growth::Neutral
            }
        }
        MutationKind::AttributeAssign(_) | MutationKind::AttributeDelete(_) => Growth::Neutral,
    }
}

fn report(project: &Project, (file, global): (FileId, u32), container: Container) -> Diagnostic {
    let binding = &project.file(file).facts.globals[global as usize];
    let mut growth = container.growth;
    growth.sort();
    let (first_file, first_function, first_span) = growth[0];
    let mut functions: Vec<String> = Vec::new();
    for (f, function, _) in &growth {
        let name = format!(
            "`{}`",
            project.file(*f).facts.functions[*function as usize].name
        );
        if !functions.contains(&name) {
            functions.push(name);
        }
    }
    let adds = if functions.len() == 1 { "adds" } else { "add" };
    let message = format!(
        "`{}` is a module-level {} that {} {adds} to on every call and nothing ever removes from",
        binding.name,
        container.type_name,
        functions.join(", ")
    );
    let mut related = vec![Label::new(
        file,
        binding.span,
        "created once, when the module is imported",
    )];
    related.extend(
        growth[1..]
            .iter()
            .map(|(f, _, span)| Label::and_here(*f, *span)),
    );
    let first_function = &project.file(first_file).facts.functions[first_function as usize];
    META.diagnostic(
        message,
        Label::new(first_file, first_span, "grows here, on every call"),
    )
    .with_related(related)
    .with_note(
        "in a long-running process it grows without bound, and what one call adds \
         outlives it: later calls see it",
    )
    .with_help(
        "keep the data in a local and return it, bound it (`deque(maxlen=...)`, an LRU \
         cache), or clear it when the work it belongs to ends",
    )
    .with_identity(vec![
        binding.name.to_string(),
        first_function.qualname.to_string(),
    ])
}
