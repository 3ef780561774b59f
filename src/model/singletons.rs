//! Module-level instances of classes of the tree (`service = PriceService()`: one object for the
//! whole process) and the writes that reach them through a module name: `service.user = u`,
//! `service.cache.append(x)`, `from svc import service as s; s.items[k] = v`. Writes a method
//! makes through `self` are `Model::self_writes_in` (`fields.rs`); which methods run on the
//! instance is the rule's question (a call graph walk from the calls it sees).

use rayon::prelude::*;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use crate::call_names::{NameFilter, name_hash};
use crate::facts::{FileFacts, FuncIdx, ImportTarget, Root, Value};
use crate::project::{ClassId, FileId, Project, Resolved};

use super::Model;
use crate::knowledge;

/// A module-level binding to an instance of a class of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Singleton {
    pub file: FileId,
    /// Index in the file's `globals`.
    pub global: u32,
    pub class: ClassId,
}

impl Singleton {
    /// The module-level name the instance is bound to.
    pub fn name<'p>(&self, project: &'p Project) -> &'p str {
        project.file(self.file).facts.globals[self.global as usize]
            .name
            .as_str()
    }
}

/// Which fact a write through a module name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SingletonWriteSite {
    /// `service.user = u`: index in the file's `attribute_assignments`.
    Assignment(u32),
    /// `service.cache.append(x)` (one attribute, then the change): index in the file's
    /// `mutations`.
    Mutation(u32),
}

/// A write, in a function, whose receiver names a module-level instance.
#[derive(Debug, Clone, Copy)]
pub struct SingletonWrite {
    pub file: FileId,
    pub function: FuncIdx,
    pub singleton: Singleton,
    pub site: SingletonWriteSite,
}

impl Model {
    /// Every module-level binding (outside `if __name__ == "__main__":` blocks) to an instance
    /// of a class of the tree, in file and binding order. Worked out on the first question and
    /// kept.
    pub fn singletons(&self, project: &Project) -> &[Singleton] {
        self.singletons.get_or_init(|| collect_singletons(project))
    }

    /// Every write in a function whose receiver names a module-level instance, through its
    /// attribute (`service.user = u`) or a container it holds (`service.cache.append(x)`); per
    /// file, assignments first, then changes, each in file order. Worked out on the first
    /// question and kept.
    pub fn singleton_writes(&self, project: &Project) -> &[SingletonWrite] {
        self.singleton_writes
            .get_or_init(|| collect_writes(project, self.singletons(project)))
    }
}

fn collect_singletons(project: &Project) -> Vec<Singleton> {
    let mut out = Vec::new();
    for (file_id, file) in project.files.iter().enumerate() {
        let file_id = file_id as FileId;
        for (i, binding) in file.facts.globals.iter().enumerate() {
            if matches!(binding.value, Value::Call { .. })
                && !file.facts.in_script_block(binding.span.start)
                && let Some(class) = module_instance_class(project, file_id, i as u32)
            {
                out.push(Singleton {
                    file: file_id,
                    global: i as u32,
                    class,
                });
            }
        }
    }
    out
}

/// The class of the object a module-level binding creates, when it is a class of the tree
/// (and not a container type): `service = PriceService()`.
pub fn module_instance_class(project: &Project, file: FileId, global: u32) -> Option<ClassId> {
    let binding = project.file(file).facts.globals.get(global as usize)?;
    let Value::Call { callee } = &binding.value else {
        return None;
    };
    super::class_called(project, file, callee)
        .filter(|&class| !project.inherits_external(class, knowledge::MUTABLE_TYPES))
}

fn collect_writes(project: &Project, singletons: &[Singleton]) -> Vec<SingletonWrite> {
    if singletons.is_empty() {
        return Vec::new();
    }
    let names: HashSet<&str> = singletons.iter().map(|s| s.name(project)).collect();
    let by_global: HashMap<(FileId, u32), Singleton> = singletons
        .iter()
        .map(|s| ((s.file, s.global), *s))
        .collect();
    // File by file in parallel, in file order.
    let per_file: Vec<Vec<SingletonWrite>> = project
        .files
        .par_iter()
        .enumerate()
        .map(|(file_id, file)| {
            let mut writes = Vec::new();
            let file_id = file_id as FileId;
            let facts = &file.facts;
            let aliases = imported_names(facts, &names);
            // Resolving is the cost: only names that may reach an instance are resolved.
            let named = |function: FuncIdx, head: &str| {
                if !mentions_singleton(head, &names, &aliases) {
                    return None;
                }
                match project.resolve(file_id, Some(function), head) {
                    Resolved::Global(global_file, global) => by_global.get(&(global_file, global)),
                    _ => None,
                }
                .copied()
            };
            for (index, assignment) in facts.attribute_assignments.iter().enumerate() {
                let Root::Global(head) = &assignment.object.root else {
                    continue;
                };
                if !assignment.object.attrs.is_empty() {
                    continue;
                }
                if let Some(singleton) = named(assignment.function, head) {
                    writes.push(SingletonWrite {
                        file: file_id,
                        function: assignment.function,
                        singleton,
                        site: SingletonWriteSite::Assignment(index as u32),
                    });
                }
            }
            for (index, mutation) in facts.mutations.iter().enumerate() {
                let Root::Global(head) = &mutation.target.root else {
                    continue;
                };
                if mutation.target.attrs.len() != 1 {
                    continue;
                }
                if let Some(singleton) = named(mutation.function, head) {
                    writes.push(SingletonWrite {
                        file: file_id,
                        function: mutation.function,
                        singleton,
                        site: SingletonWriteSite::Mutation(index as u32),
                    });
                }
            }
            writes
        })
        .collect();
    per_file.into_iter().flatten().collect()
}

/// The names under which a file imports one of `names` (`from svc import service as svc`), for
/// [`mentions_singleton`].
pub fn imported_names<'f>(facts: &'f FileFacts, names: &HashSet<&str>) -> Vec<&'f str> {
    facts
        .imports
        .iter()
        .filter(|import| {
            matches!(&import.target, ImportTarget::Member { name, .. } if names.contains(name.as_str()))
        })
        .map(|import| import.binding.as_str())
        .collect()
}

/// The instances' names as SL203 asks every call of one file about them: `names` and a
/// [`NameFilter`] of them, and the names the file imports them under ([`imported_names`]) with
/// those names' hashes.
pub struct SingletonNames<'a> {
    pub names: &'a HashSet<&'a str>,
    pub filter: &'a NameFilter,
    pub aliases: Vec<&'a str>,
    alias_hashes: Vec<u32>,
}

impl<'a> SingletonNames<'a> {
    pub fn of_file(
        facts: &'a FileFacts,
        names: &'a HashSet<&'a str>,
        filter: &'a NameFilter,
    ) -> Self {
        let aliases = imported_names(facts, names);
        let alias_hashes = aliases.iter().map(|alias| name_hash(alias)).collect();
        SingletonNames {
            names,
            filter,
            aliases,
            alias_hashes,
        }
    }

    /// [`mentions_singleton`] of the callee of call `index` of `facts` (the file these are of),
    /// tested first through the hashes of its pieces ([`crate::call_names`]), which is all most
    /// calls need.
    pub fn mentioned_by_call(&self, facts: &FileFacts, index: usize) -> bool {
        let pieces = facts.call_names().pieces(index);
        (self.filter.may_hold_any(pieces) || self.alias_hashes.contains(&pieces[0]))
            && mentions_singleton(&facts.calls[index].callee, self.names, &self.aliases)
    }
}

/// The calls of one file that SL203 follows to the instances (those whose callee as written
/// may name one, [`SingletonNames::mentioned_by_call`]), by index, kept with the file's facts
/// for the names they were found for ([`singleton_names_key`]): another analysis of the same
/// facts with the same instances' names takes them from here instead of going over every call of
/// the file again (the language server's next edit, for every file but the edited ones).
#[derive(Default)]
pub struct KeptSingletonCalls(Mutex<Option<(u128, Arc<[u32]>)>>);

impl KeptSingletonCalls {
    /// The calls kept for `names_key`, else those `find` finds (then kept for it).
    pub fn get_or_find(&self, names_key: u128, find: impl FnOnce() -> Vec<u32>) -> Arc<[u32]> {
        let mut kept = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((key, calls)) = &*kept
            && *key == names_key
        {
            return Arc::clone(calls);
        }
        let calls: Arc<[u32]> = find().into();
        *kept = Some((names_key, Arc::clone(&calls)));
        calls
    }
}

impl Clone for KeptSingletonCalls {
    /// A copy of facts may be changed before it is shared: it finds its calls again.
    fn clone(&self) -> Self {
        KeptSingletonCalls::default()
    }
}

impl std::fmt::Debug for KeptSingletonCalls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptSingletonCalls")
    }
}

/// What the calls [`KeptSingletonCalls`] keeps depend on besides the file's facts: the set of
/// the instances' names (a 128-bit hash of them sorted, as the link's signatures are hashes).
pub fn singleton_names_key(names: &HashSet<&str>) -> u128 {
    let mut sorted: Vec<&str> = names.iter().copied().collect();
    sorted.sort_unstable();
    let mut hasher = xxhash_rust::xxh3::Xxh3::new();
    for name in sorted {
        hasher.update(name.as_bytes());
        hasher.update(b"\0");
    }
    hasher.digest128()
}

/// A cheap test before resolving: whether a dotted name as written may reach an instance (its
/// head or a later part is an instance's name, or its head is imported under another name).
pub fn mentions_singleton(dotted: &str, names: &HashSet<&str>, aliases: &[&str]) -> bool {
    let mut parts = dotted.split('.');
    let Some(head) = parts.next() else {
        return false;
    };
    names.contains(head) || aliases.contains(&head) || parts.any(|p| names.contains(p))
}
