//! A link again that keeps the values of names although an edit added classes and functions.
//!
//! Ids are dense and in file order, so a class or function added to one file moves the ids of
//! every later file, and with them the slots of the values stage. When an edit only appends
//! definitions that nothing resolves to, takes such definitions away again, or replaces those a
//! file ended with by others (see [`replaces_unused_tail`]), a full link applies the same flows,
//! resolved to the same things, in the same order, as the previous link did: only the numbers
//! differ. The previous link's values
//! and call graph are then renumbered ([`IdRemap`]) instead of learnt again.

use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use crate::facts::{ClassFacts, FileFacts, FlowTarget, FunctionFacts, ImportTarget, Name, Value};

use super::{ClassId, FileId, FuncId, Read, SourceFile, signature, values};

mod identifiers;

pub(super) use identifiers::{identifier_hash, identifier_hashes};

/// Old ids to new ones, for a link of the same files in which some files have other classes or
/// functions at the end of their lists than before: each keeps a prefix of its lists
/// ([`kept_prefix`]); the old definitions after it are removed, the new ones added.
pub struct IdRemap {
    /// Each class of the previous link's new id, [`REMOVED`] for a removed one.
    classes: Vec<u32>,
    /// The same for functions.
    functions: Vec<u32>,
    /// The first parameter slot of each function of the previous link (`Slots::new`), and one
    /// past the last.
    old_param_base: Vec<u32>,
}

const REMOVED: u32 = u32::MAX;

impl IdRemap {
    /// The renumbering from a link of `files` where the files listed in `old` had those facts
    /// instead; `None` when each of them kept all its classes and functions and gained none.
    pub(super) fn new(files: &[SourceFile], old: &[(FileId, Arc<FileFacts>)]) -> Option<IdRemap> {
        // Each edited file's kept classes and functions (`kept_prefix`), by file.
        let kept: Vec<(FileId, &FileFacts, (usize, usize))> = old
            .iter()
            .map(|(file, facts)| {
                let now = &files[*file as usize].facts;
                (*file, &**facts, kept_prefix(facts, now))
            })
            .collect();
        if kept.iter().all(|(file, facts, prefix)| {
            let now = &files[*file as usize].facts;
            *prefix == (facts.classes.len(), facts.functions.len())
                && *prefix == (now.classes.len(), now.functions.len())
        }) {
            return None;
        }
        let mut remap = IdRemap {
            classes: Vec::new(),
            functions: Vec::new(),
            old_param_base: Vec::new(),
        };
        let (mut new_class, mut new_function) = (0, 0);
        let mut old_params = Vec::new();
        // Each file's old ids in order: the kept ones get its first new ids, the others none.
        let renumber = |ids: &mut Vec<u32>, next: &mut u32, old: usize, kept: usize, now: usize| {
            ids.extend((0..old).map(|i| if i < kept { *next + i as u32 } else { REMOVED }));
            *next += now as u32;
        };
        for (id, file) in files.iter().enumerate() {
            let now = &file.facts;
            let (before, (kept_classes, kept_functions)) =
                kept.iter().find(|(f, ..)| *f as usize == id).map_or(
                    (&**now, (now.classes.len(), now.functions.len())),
                    |(_, facts, prefix)| (*facts, *prefix),
                );
            renumber(
                &mut remap.classes,
                &mut new_class,
                before.classes.len(),
                kept_classes,
                now.classes.len(),
            );
            renumber(
                &mut remap.functions,
                &mut new_function,
                before.functions.len(),
                kept_functions,
                now.functions.len(),
            );
            old_params.extend(before.functions.iter().map(|f| f.params.len() as u32));
        }
        let mut next = 2 * remap.functions.len() as u32;
        remap.old_param_base.reserve(old_params.len() + 1);
        for params in old_params {
            remap.old_param_base.push(next);
            next += params;
        }
        remap.old_param_base.push(next);
        Some(remap)
    }

    /// The new id of a class of the previous link; `None` for a removed one.
    pub fn class(&self, old: ClassId) -> Option<ClassId> {
        let new = self.classes[old.0 as usize];
        (new != REMOVED).then_some(ClassId(new))
    }

    /// The new id of a function of the previous link; `None` for a removed one.
    pub fn function(&self, old: FuncId) -> Option<FuncId> {
        let new = self.functions[old.0 as usize];
        (new != REMOVED).then_some(FuncId(new))
    }

    /// How many functions the previous link had.
    pub fn old_function_count(&self) -> u32 {
        self.functions.len() as u32
    }

    /// The first parameter slot of each function of the previous link, and one past the last.
    pub fn old_param_base(&self) -> &[u32] {
        &self.old_param_base
    }
}

/// Whether a link again after `edits` (each file, its facts before and after, and whether the
/// values stage reads the same of both) gives every name the values the previous link gave (in
/// the new ids): each edit reads the same, or keeps a prefix of the file's classes and functions
/// ([`kept_prefix`]) and differs only in trailing definitions that nothing resolves to, on both
/// sides: it appends such definitions, takes them away, or replaces those the file ended with by
/// others ([`replaces_unused_tail`]). `mentions` counts the mentions in the project before the
/// edits (the server's [`Mentions`], or the counts the link cache stores, [`MentionCounts`]);
/// the edits' mentions are asked of it as it is (for definitions taken away, which exist there)
/// and as it will be once the edited files' facts are replaced (for definitions appended).
pub fn values_stay(
    edits: &[(FileId, &FileFacts, &FileFacts, bool)],
    mentions: &impl CountsMentions,
) -> bool {
    if edits.iter().all(|&(_, _, _, same)| same) {
        return true;
    }
    let before = Replaced::new(mentions, Vec::new());
    // Listing the edited files' identifiers costs a pass over their facts: only an edit that
    // appends definitions asks for the index after the edits.
    let after = std::cell::OnceCell::new();
    let after = || {
        after.get_or_init(|| {
            let identifiers = edits
                .iter()
                .map(|(_, old, new, _)| (identifiers(old), identifiers(new)));
            Replaced::new(mentions, identifiers.collect())
        })
    };
    edits
        .iter()
        .all(|&(_, old, new, same)| same || replaces_unused_tail(old, new, &before, after))
}

/// How many classes and how many functions an edit from `old` to `new` keeps in their places:
/// the longest prefixes of the two files' lists whose classes have the same names, and whose
/// functions have the same names, classes and parents. The definitions after them are the
/// edit's tails: those of `old` are taken away, those of `new` appended (`IdRemap` gives the
/// first ones their new ids, and none to the others).
pub(super) fn kept_prefix(old: &FileFacts, new: &FileFacts) -> (usize, usize) {
    let classes = old
        .classes
        .iter()
        .zip(&new.classes)
        .take_while(|(a, b)| a.name == b.name)
        .count();
    let functions = old
        .functions
        .iter()
        .zip(&new.functions)
        .take_while(|(a, b)| a.name == b.name && a.class == b.class && a.parent == b.parent)
        .count();
    (classes, functions)
}

/// Whether `new` is `old` with the classes and functions after their [`kept_prefix`] (the
/// tails) taken away and others appended, on both sides definitions that nothing of the project
/// can resolve to, so that a link of the project with `new` gives every name the values a link
/// with `old` gave (in the new ids), and every other file the same call edges. As if the edit
/// took `old`'s tail away (its names counted in `before`, the mentions with `old`), then
/// appended `new`'s (its names counted in `after()`, the mentions with `new`): either tail may
/// be empty, not both.
///
/// What is proved, part by part:
/// - what the values stage reads of the file other than its tails is the same
///   ([`super::values_signature`]), and so are the kept classes and functions (they come
///   first): no flow is in a function of a tail, and no kept function is of a class or inside a
///   function of a tail;
/// - a class of a tail has no bases, metaclass or decorators: it is in no MRO but its own, so
///   no method look-up, dispatch or attribute look-up of another class changes;
/// - a function of a tail has no decorators (none of its slots is written), and is a method of
///   a class of the tail, nested in a function of the tail, or a module-level function; its
///   attribute assignments (`self.x = v`) are read only for its own class, or for a call into
///   it;
/// - the name of every class of a tail and of every function of a tail that is not inside
///   another of its definitions is mentioned by no link fact of any file but this one's facts
///   on its side, and not by the other side's: no name anywhere resolves to it (a resolution
///   starts from a name as written, and goes through module attributes and imports by their
///   names).
fn replaces_unused_tail<'a, 'm: 'a, M: CountsMentions>(
    old: &FileFacts,
    new: &FileFacts,
    before: &Replaced<'m, M>,
    after: impl FnOnce() -> &'a Replaced<'m, M>,
) -> bool {
    let (classes, functions) = kept_prefix(old, new);
    let tails = |facts: &FileFacts| {
        (
            facts.classes.len() > classes,
            facts.functions.len() > functions,
        )
    };
    let (old_tail, new_tail) = (tails(old), tails(new));
    if old_tail == (false, false) && new_tail == (false, false) {
        return false;
    }
    let kept_only = |facts: &FileFacts| {
        let in_prefix = |function: &FunctionFacts| {
            function.class.is_none_or(|c| (c as usize) < classes)
                && function.parent.is_none_or(|f| (f as usize) < functions)
        };
        let (calls, flows) = values::calls_and_flows_read(facts);
        if !flows
            .iter()
            .all(|flow| flow.function().is_none_or(|f| (f as usize) < functions))
            || !facts.functions[..functions].iter().all(in_prefix)
        {
            return None;
        }
        let assignments: Vec<_> = facts
            .attribute_assignments
            .iter()
            .filter(|a| (a.function as usize) < functions)
            .cloned()
            .collect();
        let mut read = Read::of(facts, &calls, &flows, Vec::new());
        read.classes = &facts.classes[..classes];
        read.functions = &facts.functions[..functions];
        read.attribute_assignments = &assignments;
        Some(signature(&read))
    };
    match (kept_only(old), kept_only(new)) {
        (Some(a), Some(b)) if a == b => {}
        _ => return false,
    }
    (old_tail == (false, false) || unused_tail(old, new, (classes, functions), before))
        && (new_tail == (false, false) || unused_tail(new, old, (classes, functions), after()))
}

/// Whether the classes and functions of `facts` after the first `kept` ones (a tail of
/// [`replaces_unused_tail`]) are plain and unused: mentioned by no file but this one in
/// `mentions` (the mentions with `facts`), and not by `other` (the file's facts on the other
/// side of the edit).
fn unused_tail(
    facts: &FileFacts,
    other: &FileFacts,
    (classes, functions): (usize, usize),
    mentions: &Replaced<'_, impl CountsMentions>,
) -> bool {
    let tail_classes = &facts.classes[classes..];
    let tail_functions = &facts.functions[functions..];
    let in_tail_class = |class: Option<u32>| class.is_some_and(|c| c as usize >= classes);
    let in_tail_function =
        |function: Option<u32>| function.is_some_and(|f| f as usize >= functions);
    let plain_class = |class: &ClassFacts| {
        class.bases.is_empty() && class.metaclass.is_none() && class.decorators.is_empty()
    };
    let plain_function = |function: &FunctionFacts| {
        function.decorators.is_empty()
            && (function.class.is_none() || in_tail_class(function.class))
            && (function.parent.is_none() || in_tail_function(function.parent))
    };
    if !tail_classes.iter().all(plain_class) || !tail_functions.iter().all(plain_function) {
        return false;
    }
    let Some(other_mentions) = identifiers(other) else {
        return false;
    };
    let unused = |name: &str| {
        let hash = identifier_hash(name.as_bytes());
        mentions.unknown() == 0
            && other_mentions.binary_search(&hash).is_err()
            && mentions.files_mentioning(hash) == 1
    };
    tail_classes.iter().all(|class| unused(&class.name))
        && tail_functions
            .iter()
            .filter(|f| f.class.is_none() && f.parent.is_none())
            .all(|f| unused(&f.name))
}

/// Every identifier in what the link reads of `facts` (hashed, sorted, without repeats): each
/// part of every name it holds. `None` if it could not be listed.
fn identifiers(facts: &FileFacts) -> Option<Vec<u64>> {
    identifier_hashes(&Read::of(facts, &facts.calls, &facts.flows, Vec::new()))
}

/// The names of `file`'s module an edit from `old` to `new` binds otherwise (by identifier hash:
/// names whose imports changed, anywhere in the file; names the module's scope binds to
/// something else, or no longer or newly; and names bound to a module binding whose slot of
/// the values stage comes or goes), when the values of names can be updated for it as for an
/// edit of value flows ([`super::PreviousValues::Update`]): only the file's own flows can
/// resolve differently. `None` when that is not proved:
/// - everything else the values stage reads of the file across files is the same
///   (`super::definitions_outline`): the same classes, functions and attribute assignments, so
///   the same ids, and the same slots but those of the file's names;
/// - no changed binding is a star import (it would bind every name the module leaves unbound);
/// - the changed names some lookup from outside the file's own module-level resolution asked the
///   file's scope for, found or not (`reads`, recorded since the values were last learnt from
///   nothing, [`super::resolve::ScopeReads`]), are returned apart ([`Rebound::read`]): a name of
///   another module, a re-export, a star import of the file or a package's binding reaches the
///   file's names only by such a lookup, so every other file resolves every other name as
///   before, and [`readers`] finds the files that may resolve these otherwise. A name whose scope entry means what it
///   meant (the same class, function or import target, or a binding of the same value) is not
///   changed: a lookup of it finds the same thing; and the slot of a module name is read from
///   outside only through a lookup that finds a module binding of that name
///   (`Resolved::Global`), so a slot that comes or goes for a name the scope binds to a class,
///   function or import (`Model = Model` after `class Model`) changes nothing another file
///   reads;
/// - nothing the link resolves in the file but its imports, flows and call sites names a changed
///   name ([`resolved_identifiers`]), so those resolve as before too. The file's flows that name
///   one are taken as changed by the update; the others resolve as before.
pub(super) fn rebound_names(
    (file, old, new): (FileId, &FileFacts, &FileFacts),
    reads: Option<&super::resolve::ScopeReads>,
) -> Option<Rebound> {
    use super::resolve::{Symbol, scope_of};
    let reads = reads.filter(|reads| reads.complete)?;
    if super::definitions_outline(old) != super::definitions_outline(new) {
        return None;
    }
    /// Each name's import bindings: where each is and what it binds, in order.
    fn bindings(facts: &FileFacts) -> HashMap<Name, Vec<(Option<u32>, &ImportTarget)>> {
        let mut by_name: HashMap<Name, Vec<(Option<u32>, &ImportTarget)>> = HashMap::default();
        for import in &facts.imports {
            by_name
                .entry(import.binding)
                .or_default()
                .push((import.function, &import.target));
        }
        by_name
    }
    /// What a scope entry means, positions and indices left out.
    #[derive(PartialEq)]
    enum Meaning<'f> {
        Class(u32),
        Function(u32),
        Import(&'f ImportTarget),
        Global(&'f Value, Option<Name>),
    }
    fn meaning<'f>(facts: &'f FileFacts, symbol: Option<&Symbol>) -> Option<Meaning<'f>> {
        Some(match *symbol? {
            Symbol::Class(c) => Meaning::Class(c),
            Symbol::Function(f) => Meaning::Function(f),
            Symbol::Import(i) => Meaning::Import(&facts.imports[i as usize].target),
            Symbol::Global(g) => {
                let binding = &facts.globals[g as usize];
                Meaning::Global(&binding.value, binding.annotation)
            }
        })
    }
    /// The module names the file's flows store into.
    fn stored(facts: &FileFacts) -> HashSet<Name> {
        facts
            .flows
            .iter()
            .filter_map(|flow| match &flow.target() {
                FlowTarget::Name { name, global } if *global || flow.function().is_none() => {
                    Some(*name)
                }
                _ => None,
            })
            .collect()
    }
    let (before, after) = (bindings(old), bindings(new));
    let mut changed: Vec<Name> = before
        .keys()
        .chain(after.keys())
        .filter(|name| before.get(*name) != after.get(*name))
        .copied()
        .collect();
    // The binding of `from m import *` (`Import::is_star`).
    if changed.iter().any(|name| *name == "*") {
        return None;
    }
    let (scope_before, scope_after) = (scope_of(old), scope_of(new));
    changed.extend(
        scope_before
            .keys()
            .chain(scope_after.keys())
            .filter(|name| {
                meaning(old, scope_before.get(*name)) != meaning(new, scope_after.get(*name))
            })
            .copied(),
    );
    let (stored_before, stored_after) = (stored(old), stored(new));
    let global = |symbol: Option<&Symbol>| matches!(symbol, Some(Symbol::Global(_)));
    changed.extend(
        stored_before
            .symmetric_difference(&stored_after)
            .filter(|name| global(scope_before.get(*name)) || global(scope_after.get(*name)))
            .copied(),
    );
    let mut hashes: Vec<u64> = changed
        .iter()
        .map(|name| identifier_hash(name.as_bytes()))
        .collect();
    hashes.sort_unstable();
    hashes.dedup();
    let resolved = resolved_identifiers(new)?;
    if hashes
        .iter()
        .any(|hash| resolved.binary_search(hash).is_ok())
    {
        return None;
    }
    let read = hashes
        .iter()
        .copied()
        .filter(|hash| reads.read(file, *hash))
        .collect();
    Some(Rebound {
        names: hashes,
        read,
    })
}

/// The names an edit of one file binds otherwise ([`rebound_names`]).
pub(super) struct Rebound {
    /// Every one (identifier hashes, sorted).
    pub(super) names: Vec<u64>,
    /// Those a lookup from outside the file's own module-level resolution asked for: another
    /// file may resolve them otherwise ([`readers`]).
    pub(super) read: Vec<u64>,
}

/// The identifiers (hashed, sorted) of what the link resolves in `facts` besides its imports,
/// flows and call sites: class bases, metaclasses and decorators, the values and annotations
/// of class and module bindings, function decorators, parameter annotations and defaults,
/// typed locals, returned names, attribute assignments' objects and values, and the first-time
/// calls. These feed the hierarchy and what every file's calls and flows find, so a name they
/// hold that resolves otherwise after an edit may change anything; the names of what the file
/// defines (its classes, functions, parameters and bindings) are not resolved and are left
/// out. `None` if they could not be listed.
pub(super) fn resolved_identifiers(facts: &FileFacts) -> Option<Vec<u64>> {
    fn bound(bindings: &[crate::facts::Binding]) -> Vec<(&Value, Option<Name>)> {
        bindings
            .iter()
            .map(|binding| (&binding.value, binding.annotation))
            .collect()
    }
    let classes: Vec<_> = facts
        .classes
        .iter()
        .map(|class| {
            (
                &class.bases,
                class.metaclass,
                &class.decorators,
                bound(&class.bindings),
            )
        })
        .collect();
    let functions: Vec<_> = facts
        .functions
        .iter()
        .map(|function| {
            let params: Vec<_> = function
                .params
                .iter()
                .map(|param| (param.annotation, &param.default))
                .collect();
            (
                &function.decorators,
                params,
                &function.typed_locals,
                &function.returned_names,
            )
        })
        .collect();
    let assignments: Vec<_> = facts
        .attribute_assignments
        .iter()
        .map(|assignment| (&assignment.object, &assignment.value))
        .collect();
    identifier_hashes(&(
        classes,
        functions,
        bound(&facts.globals),
        assignments,
        &facts.first_time_calls,
    ))
}

/// Which files' link facts mention each identifier (by hash: a collision only makes a name look
/// used), for [`values_stay`] (is an added or removed definition's name used elsewhere?) and
/// [`readers`] (which files may resolve a rebound name?). Built once some edit asks
/// ([`super::Project::mentions`]), then kept with the project across the links of a long-lived
/// caller and brought up to date with each file whose facts an edit replaces
/// ([`super::Relinkable::replace_facts`]). An edit that keeps the link keeps every file's
/// [`super::link_signature`], which hashes everything the identifiers are listed from, so it
/// needs no update.
#[derive(Debug, Default, PartialEq)]
pub struct Mentions {
    /// Per identifier hash: the files mentioning it, sorted.
    files: HashMap<u64, Vec<FileId>>,
    /// Files whose identifiers could not be listed, sorted: while there are any, any file may
    /// mention any name.
    unknown: Vec<FileId>,
}

impl Mentions {
    /// The identifiers of every file's facts.
    pub(super) fn of(files: &[SourceFile]) -> Mentions {
        use rayon::prelude::*;
        let per_file: Vec<Option<Vec<u64>>> =
            files.par_iter().map(|f| identifiers(&f.facts)).collect();
        let mut index = Mentions::default();
        for (file, identifiers) in per_file.into_iter().enumerate() {
            index.add(file as FileId, identifiers);
        }
        index
    }

    /// `file`'s facts `new` in place of `old`.
    pub(super) fn replace(&mut self, file: FileId, old: &FileFacts, new: &FileFacts) {
        match identifiers(old) {
            Some(old) => {
                for hash in old {
                    if let Some(files) = self.files.get_mut(&hash) {
                        files.retain(|f| *f != file);
                        if files.is_empty() {
                            self.files.remove(&hash);
                        }
                    }
                }
            }
            None => self.unknown.retain(|f| *f != file),
        }
        self.add(file, identifiers(new));
    }

    fn add(&mut self, file: FileId, identifiers: Option<Vec<u64>>) {
        let Some(identifiers) = identifiers else {
            if let Err(at) = self.unknown.binary_search(&file) {
                self.unknown.insert(at, file);
            }
            return;
        };
        for hash in identifiers {
            let files = self.files.entry(hash).or_default();
            if let Err(at) = files.binary_search(&file) {
                files.insert(at, file);
            }
        }
    }

    fn mentioning(&self, hash: u64) -> &[FileId] {
        self.files.get(&hash).map_or(&[], Vec::as_slice)
    }
}

/// What [`values_stay`] asks of an index of the mentions of a project: how many files' link
/// facts mention an identifier, and how many files' identifiers could not be listed.
pub trait CountsMentions {
    fn files_mentioning(&self, hash: u64) -> usize;
    fn unknown(&self) -> usize;
}

impl CountsMentions for Mentions {
    fn files_mentioning(&self, hash: u64) -> usize {
        self.mentioning(hash).len()
    }

    fn unknown(&self) -> usize {
        self.unknown.len()
    }
}

/// How many files' link facts mention each identifier (by hash, as [`Mentions`] lists them),
/// without which: all [`values_stay`] asks, small enough for the link cache to store
/// (`crate::link_cache`) and brought up to date from the facts of the files a run found changed
/// ([`MentionCounts::replaced`]), so that a run need not list every file's identifiers.
#[derive(Debug, Default, PartialEq)]
pub struct MentionCounts {
    /// Identifier hash and how many files mention it (at least one), sorted by hash.
    counts: Vec<(u64, u32)>,
    /// How many files' identifiers could not be listed.
    unknown: u32,
}

impl CountsMentions for MentionCounts {
    fn files_mentioning(&self, hash: u64) -> usize {
        self.counts
            .binary_search_by_key(&hash, |&(h, _)| h)
            .map_or(0, |at| self.counts[at].1 as usize)
    }

    fn unknown(&self) -> usize {
        self.unknown as usize
    }
}

impl MentionCounts {
    /// The counts of the files `facts`.
    pub fn of<'a>(facts: impl rayon::iter::IntoParallelIterator<Item = &'a FileFacts>) -> Self {
        use rayon::prelude::*;
        let per_file: Vec<Option<Vec<u64>>> = facts.into_par_iter().map(identifiers).collect();
        let mut counts = MentionCounts::default();
        // At its exact length: at the link's peak of memory, on the thread beside it.
        let mut all = Vec::with_capacity(per_file.iter().flatten().map(Vec::len).sum());
        for identifiers in per_file {
            match identifiers {
                Some(identifiers) => all.extend(identifiers),
                None => counts.unknown += 1,
            }
        }
        all.par_sort_unstable();
        for hash in all {
            match counts.counts.last_mut() {
                Some((last, count)) if *last == hash => *count += 1,
                _ => counts.counts.push((hash, 1)),
            }
        }
        // Kept until the link is stored, at the end of the run.
        counts.counts.shrink_to_fit();
        counts
    }

    /// The counts with the files of `edits` (each file's facts before and after) changed so.
    pub fn replaced(&self, edits: &[(&FileFacts, &FileFacts)]) -> MentionCounts {
        let mut change: HashMap<u64, i64> = HashMap::default();
        let mut unknown = i64::from(self.unknown);
        for (old, new) in edits {
            for (facts, by) in [(old, -1), (new, 1)] {
                match identifiers(facts) {
                    Some(identifiers) => {
                        for hash in identifiers {
                            *change.entry(hash).or_default() += by;
                        }
                    }
                    None => unknown += by,
                }
            }
        }
        let mut added: Vec<(u64, i64)> = change.into_iter().filter(|(_, by)| *by != 0).collect();
        added.sort_unstable();
        let mut counts = Vec::with_capacity(self.counts.len() + added.len());
        let mut added = added.into_iter().peekable();
        let mut push = |hash: u64, count: i64| {
            if count > 0 {
                counts.push((hash, count as u32));
            }
        };
        for &(hash, count) in &self.counts {
            while let Some(&(new, by)) = added.peek()
                && new < hash
            {
                push(new, by);
                added.next();
            }
            let by = added
                .next_if(|(new, _)| *new == hash)
                .map_or(0, |(_, by)| by);
            push(hash, i64::from(count) + by);
        }
        for (hash, by) in added {
            push(hash, by);
        }
        MentionCounts {
            counts,
            unknown: unknown.max(0) as u32,
        }
    }

    pub(crate) fn encode(&self, out: &mut crate::link_cache::Encoder<'_>) {
        out.u32(self.unknown);
        out.len(self.counts.len());
        for &(hash, count) in &self.counts {
            out.u64(hash);
            out.u32(count);
        }
    }

    /// What [`MentionCounts::encode`] wrote, for a project of `files` files; `None` unless the
    /// hashes are in order, without repeats, and every count is of one to `files` files.
    pub(crate) fn decode(
        input: &mut crate::link_cache::Decoder,
        files: u32,
    ) -> Option<MentionCounts> {
        let unknown = input.u32()?;
        let len = input.len(12)?;
        let mut counts = Vec::with_capacity(len);
        for _ in 0..len {
            let (hash, count) = (input.u64()?, input.u32()?);
            if count == 0 || count > files || counts.last().is_some_and(|&(last, _)| last >= hash) {
                return None;
            }
            counts.push((hash, count));
        }
        (unknown <= files).then_some(MentionCounts { counts, unknown })
    }
}

/// One edited file's identifiers before and after ([`identifiers`]; `None` where they could not
/// be listed).
type BeforeAndAfter = (Option<Vec<u64>>, Option<Vec<u64>>);

/// An index of mentions with some files' identifiers replaced, without changing it.
struct Replaced<'a, Index> {
    index: &'a Index,
    identifiers: Vec<BeforeAndAfter>,
}

impl<'a, Index: CountsMentions> Replaced<'a, Index> {
    fn new(index: &'a Index, identifiers: Vec<BeforeAndAfter>) -> Self {
        Replaced { index, identifiers }
    }

    /// How many files' identifiers could not be listed.
    fn unknown(&self) -> usize {
        let (before, after) = self.identifiers.iter().fold((0, 0), |(b, a), (old, new)| {
            (
                b + usize::from(old.is_none()),
                a + usize::from(new.is_none()),
            )
        });
        (self.index.unknown() + after).saturating_sub(before)
    }

    /// How many files mention `hash`.
    fn files_mentioning(&self, hash: u64) -> usize {
        let mentions = |ids: &Option<Vec<u64>>| {
            usize::from(
                ids.as_ref()
                    .is_some_and(|ids| ids.binary_search(&hash).is_ok()),
            )
        };
        let (before, after) = self.identifiers.iter().fold((0, 0), |(b, a), (old, new)| {
            (b + mentions(old), a + mentions(new))
        });
        (self.index.files_mentioning(hash) + after).saturating_sub(before)
    }
}

/// The files that may resolve a name otherwise after an edit that rebinds the names `read`
/// (identifier hashes) of a module which lookups from outside it asked for
/// ([`Rebound::read`]), and the names (sorted) through which they may: `read`, and every name an
/// import of any file binds to a target that names one of them, transitively (`from m import X
/// as Y`, a re-export of `X` and its importers). A lookup from another file starts from a name as
/// written in that file (its flows, call sites, imports and what [`resolved_identifiers`]
/// lists), and reaches the module's scope through imports by their names, or through an
/// attribute named in the text (`m.X`, a star import's `X`); so a file that mentions none of
/// these names resolves every name as before. A reader's flows and call sites that name one are
/// planned and resolved again by the update. `None` when that is not proved: some file's
/// identifiers could not be listed, or a reader resolves one of the names outside its imports,
/// flows and call sites (a class base, a module binding's value: they feed what every file
/// finds).
pub(super) fn readers(
    files: &[SourceFile],
    index: &Mentions,
    read: &[u64],
) -> Option<(Vec<FileId>, Vec<u64>)> {
    if !index.unknown.is_empty() {
        return None;
    }
    let mut names: Vec<u64> = read.to_vec();
    let mut known: HashSet<u64> = names.iter().copied().collect();
    let mut readers: Vec<FileId> = Vec::new();
    let mut next = 0;
    while let Some(&name) = names.get(next) {
        next += 1;
        for &file in index.mentioning(name) {
            readers.push(file);
            for import in &files[file as usize].facts.imports {
                // A star import binds the names it finds under the same names.
                if import.is_star() {
                    continue;
                }
                let binding = identifier_hash(import.binding.as_bytes());
                if !known.contains(&binding)
                    && identifier_hashes(&import.target)?
                        .binary_search(&name)
                        .is_ok()
                {
                    known.insert(binding);
                    names.push(binding);
                }
            }
        }
    }
    readers.sort_unstable();
    readers.dedup();
    names.sort_unstable();
    names.dedup();
    for &file in &readers {
        let resolved = resolved_identifiers(&files[file as usize].facts)?;
        if names
            .iter()
            .any(|name| resolved.binary_search(name).is_ok())
        {
            return None;
        }
    }
    Some((readers, names))
}
