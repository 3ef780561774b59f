//! SL202: a module-level container that per-call code only ever grows.

use std::collections::{BTreeMap, HashSet};

use crate::diagnostic::{Diagnostic, Label, Severity};
use crate::facts::{CallReceiver, FileFacts, FuncIdx, MutationKind, Span};
use crate::knowledge;
use crate::model::{GlobalWriteKind, Timing};
use crate::project::{FileId, Project, Resolved};

use super::common;
use super::sl201::PerRequest;
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
        // What each file's stores are, asked once per file that writes a global.
        let mut file_stores: Option<(FileId, FileStores)> = None;
        for write in context.model.global_writes(project) {
            let Some((global_file, global)) = write.global else {
                continue;
            };
            let id = (global_file, global);
            let (index, leading) = match write.kind {
                // `global CACHE; CACHE = []` starts it over.
                GlobalWriteKind::Rebind { .. } => {
                    containers.entry(id).or_default().bounded = true;
                    continue;
                }
                GlobalWriteKind::Mutation { index, leading } => (index, leading),
                _ => continue,
            };
            let facts = &project.file(write.file).facts;
            let mutation = &facts.mutations[index as usize];
            if leading as usize != mutation.target.attrs.len() || not_containers.contains(&id) {
                continue;
            }
            let container = match containers.entry(id) {
                std::collections::btree_map::Entry::Occupied(entry) => entry.into_mut(),
                std::collections::btree_map::Entry::Vacant(entry) => {
                    let binding = &project.file(global_file).facts.globals[global as usize];
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
            if file_stores
                .as_ref()
                .is_none_or(|(file, _)| *file != write.file)
            {
                file_stores = Some((write.file, FileStores::of(facts)));
            }
            let Some((_, stores)) = &file_stores else {
                continue;
            };
            match growth(project, write.file, mutation, &stores.constant_keys) {
                Growth::Shrinks => container.bounded = true,
                Growth::Neutral => {}
                Growth::Grows => {
                    let span = mutation.span;
                    if (mutation.nested
                        && stores
                            .memoised
                            .contains(&(mutation.function, mutation.target.display())))
                        || stores.memo.contains(&span.start)
                        || stores.parameter_stores.contains(&span.start)
                        || write.timing != Timing::PerCall
                        || per_request.reached(project, write.file, mutation.function)
                    {
                        continue;
                    }
                    container.growth.push((write.file, mutation.function, span));
                }
            }
        }
        containers.retain(|_, c| !c.bounded && !c.growth.is_empty() && !c.type_name.is_empty());
        if !containers.is_empty() {
            for id in removed_by_callback(project) {
                containers.remove(&id);
            }
        }
        containers
            .into_iter()
            .filter(|((file, global), _)| !named_as_cache(project, *file, *global))
            .map(|(id, c)| report(project, id, c))
            .collect()
    }
}

/// The module globals one of whose removing methods is handed on as a callback
/// (`future.add_done_callback(_PENDING.discard)`): they shrink whenever it is called.
fn removed_by_callback(project: &Project) -> Vec<(FileId, u32)> {
    let mut removed = Vec::new();
    for (file, source) in project.files.iter().enumerate() {
        for site in &source.facts.calls {
            if !site.reference() || site.receiver() != CallReceiver::Name {
                continue;
            }
            let Some((owner, method)) = site.callee.rsplit_once('.') else {
                continue;
            };
            if !knowledge::removes_entries(method) {
                continue;
            }
            if let Resolved::Global(global_file, global) =
                project.resolve(file as FileId, site.function(), owner)
            {
                removed.push((global_file, global));
            }
        }
    }
    removed
}

/// The stores of one file that tell a container's growth apart from a cache's or a setting's.
struct FileStores {
    constant_keys: HashSet<u32>,
    parameter_stores: HashSet<u32>,
    memo: HashSet<u32>,
    /// Filling the entries of a cache (`C[k].append(v)` where `C[k]` was just memoised).
    memoised: HashSet<(u32, String)>,
}

impl FileStores {
    fn of(facts: &FileFacts) -> Self {
        FileStores {
            constant_keys: facts.constant_key_stores.iter().copied().collect(),
            parameter_stores: facts.parameter_stores.iter().copied().collect(),
            memo: facts.memo_stores.iter().map(|m| m.span.start).collect(),
            memoised: facts
                .memo_stores
                .iter()
                .map(|m| (m.function, m.cache.display()))
                .collect(),
        }
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
        MutationKind::Method(name) => {
            if knowledge::ADDING_METHODS.contains(&name.as_str()) {
                Growth::Grows
            } else if knowledge::REORDERING_METHODS.contains(&name.as_str()) {
                Growth::Neutral
            } else {
                Growth::Shrinks
            }
        }
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
    // "On every call" only when each function named adds at a place all its calls reach.
    let every_call = growth.iter().all(|(f, function, _)| {
        growth.iter().any(|(g, other, span)| {
            g == f && other == function && project.file(*g).facts.runs_on_every_call(span.start)
        })
    });
    let message = format!(
        "`{}` is a module-level {} that {} {adds} to{} and nothing ever removes from",
        binding.name,
        container.type_name,
        functions.join(", "),
        common::when(every_call, " on every call", "")
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
        Label::new(
            first_file,
            first_span,
            common::when(
                project
                    .file(first_file)
                    .facts
                    .runs_on_every_call(first_span.start),
                "grows here, on every call",
                "grows here",
            ),
        ),
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
