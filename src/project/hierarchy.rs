//! The class hierarchy: resolved bases, C3 method-resolution order, and subclasses.
//!
//! MROs share their tails: a class with a single base stores only itself and points at its base's
//! MRO, so a chain of K classes takes K entries, not K²/2, and linearising a class costs the length
//! of its own bases' MROs once (the C3 merge keeps a count of every entry in the sequences' tails
//! instead of scanning them).
//!
//! Queries along MROs are memoised per class, so that a query for every class of a deep hierarchy
//! costs about the number of classes, not its square: the external bases of each MRO (shared
//! along single-base chains), whether a class is in another's MRO (through the classes whose
//! stored entries name it and a numbering of the shared-tail forest), the subclasses of a class
//! (built on first use), and "the first class of the MRO that defines `name`" ([`MroMemo`]).

use std::sync::{Arc, Mutex, OnceLock};

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::facts::{Name, NameText};

use super::resolve::Resolved;
use super::{ClassId, Project};

/// One class in a method-resolution order.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum MroEntry {
    Class(ClassId),
    /// A base outside the analysed tree, by qualified name; its own bases are unknown.
    External(Name),
}

#[derive(Debug, Default)]
pub(super) struct Hierarchy {
    mro: Vec<StoredMro>,
    subclasses: Vec<Vec<ClassId>>,
    /// The external entries of each class's MRO, in MRO order.
    externals: Vec<Arc<[Name]>>,
    /// For each class, the classes whose stored `own` entries include it.
    named_by: Vec<Vec<ClassId>>,
    /// Pre- and post-order numbers of each class in the forest of `rest` links: `a` stores part of
    /// the MRO of `c` exactly when `a` is `c` or one of its `rest` ancestors.
    order: Vec<(u32, u32)>,
    /// Every class that has the class in its MRO, built on first use.
    descendants: Vec<OnceLock<Box<[ClassId]>>>,
}

/// Memoised answers to "the first class of the MRO of `class` for which a test gives a value",
/// one test per memo and one answer per class and name. An answer is kept for every stored MRO
/// segment a search passed, so later searches through the same tail stop there.
#[derive(Debug)]
pub struct MroMemo<V> {
    answers: Vec<Mutex<Answers<V>>>,
}

/// One class's memoised answers, by name: the class found and its value, or `None`.
type Answers<V> = HashMap<Name, Option<(ClassId, V)>>;

impl<V: Copy> MroMemo<V> {
    pub fn new(classes: usize) -> MroMemo<V> {
        MroMemo {
            answers: (0..classes).map(|_| Mutex::default()).collect(),
        }
    }

    fn answers(
        &self,
        class: ClassId,
    ) -> std::sync::MutexGuard<'_, HashMap<Name, Option<(ClassId, V)>>> {
        // Answers are inserted whole: a panic elsewhere leaves the map consistent.
        self.answers[class.0 as usize]
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// One class's MRO: `own` entries, then the whole MRO of `rest` when there is one.
#[derive(Debug, Clone, Default)]
struct StoredMro {
    own: Vec<MroEntry>,
    rest: Option<ClassId>,
}

/// The entries of one method-resolution order, the class itself first.
#[derive(Debug, Clone)]
pub struct Mro<'a> {
    stored: &'a [StoredMro],
    current: std::slice::Iter<'a, MroEntry>,
    rest: Option<ClassId>,
}

impl<'a> Iterator for Mro<'a> {
    type Item = &'a MroEntry;

    fn next(&mut self) -> Option<&'a MroEntry> {
        loop {
            if let Some(entry) = self.current.next() {
                return Some(entry);
            }
            let next = &self.stored[self.rest?.0 as usize];
            self.current = next.own.iter();
            self.rest = next.rest;
        }
    }
}

impl Hierarchy {
    pub(super) fn build(project: &Project) -> Hierarchy {
        let count = project.classes.len();
        // Bases are resolved on any thread (names resolve the same in any order).
        let bases: Vec<Vec<MroEntry>> = (0..count as u32)
            .into_par_iter()
            .map(ClassId)
            .map(|id| {
                let (file, class) = project.class(id);
                class
                    .bases
                    .iter()
                    .filter_map(|base| match project.resolve(file, None, base.as_deref()?) {
                        Resolved::Class(c) if c != id => Some(MroEntry::Class(c)),
                        Resolved::External(q) if q != "builtins.object" => {
                            Some(MroEntry::External(q))
                        }
                        _ => None,
                    })
                    .collect()
            })
            .collect();

        let mut subclasses = vec![Vec::new(); count];
        for (id, list) in bases.iter().enumerate() {
            for base in list {
                if let MroEntry::Class(b) = base {
                    subclasses[b.0 as usize].push(ClassId(id as u32));
                }
            }
        }

        let mut state = vec![State::Pending; count];
        let mut mro = vec![StoredMro::default(); count];
        for id in 0..count {
            linearize(ClassId(id as u32), &bases, &mut state, &mut mro);
        }
        let mut named_by = vec![Vec::new(); count];
        for (id, stored) in mro.iter().enumerate() {
            for entry in &stored.own {
                if let MroEntry::Class(c) = entry {
                    named_by[c.0 as usize].push(ClassId(id as u32));
                }
            }
        }
        Hierarchy {
            externals: externals(&mro),
            order: forest_order(&mro),
            named_by,
            descendants: (0..count).map(|_| OnceLock::new()).collect(),
            mro,
            subclasses,
        }
    }

    pub(super) fn mro(&self, class: ClassId) -> Mro<'_> {
        mro_of(&self.mro, class)
    }

    pub(super) fn externals(&self, class: ClassId) -> &[Name] {
        &self.externals[class.0 as usize]
    }

    /// Whether `ancestor` is in the MRO of `class` (`class` itself included).
    pub(super) fn in_mro(&self, class: ClassId, ancestor: ClassId) -> bool {
        let (pre, post) = self.order[class.0 as usize];
        self.named_by[ancestor.0 as usize].iter().any(|stores| {
            let (stores_pre, stores_post) = self.order[stores.0 as usize];
            stores_pre <= pre && post <= stores_post
        })
    }

    pub(super) fn descendants(&self, class: ClassId) -> &[ClassId] {
        self.descendants[class.0 as usize].get_or_init(|| {
            let mut seen = std::collections::HashSet::from([class]);
            let mut stack = vec![class];
            let mut out = Vec::new();
            while let Some(current) = stack.pop() {
                for sub in &self.subclasses[current.0 as usize] {
                    if seen.insert(*sub) {
                        out.push(*sub);
                        stack.push(*sub);
                    }
                }
            }
            out.sort();
            out.into()
        })
    }

    /// The first class of the MRO of `class` for which `test` gives a value, with that value,
    /// memoised in `memo` under `name` (the test must depend on nothing else).
    pub(super) fn find<V: Copy>(
        &self,
        memo: &MroMemo<V>,
        class: ClassId,
        name: &(impl NameText + ?Sized),
        mut test: impl FnMut(ClassId) -> Option<V>,
    ) -> Option<(ClassId, V)> {
        // Every class passed is asked under the name and then told the answer: text is hashed
        // once, not once a class.
        let name = name.to_name();
        // Most look-ups are answered by the class's own memo, asked before anything is set up.
        if let Some(known) = memo.answers(class).get(&name) {
            return *known;
        }
        // Most of the others pass a few classes: no allocation for them.
        let mut passed: smallvec::SmallVec<[ClassId; 8]> = smallvec::SmallVec::new();
        let mut segment = Some(class);
        let answer = loop {
            let Some(current) = segment else { break None };
            if let Some(known) = memo.answers(current).get(&name) {
                break *known;
            }
            passed.push(current);
            let stored = &self.mro[current.0 as usize];
            let found = stored.own.iter().find_map(|entry| match entry {
                MroEntry::Class(c) => test(*c).map(|v| (*c, v)),
                MroEntry::External(_) => None,
            });
            if found.is_some() {
                break found;
            }
            segment = stored.rest;
        };
        for current in passed {
            memo.answers(current).insert(name, answer);
        }
        answer
    }
}

/// The external entries of every class's MRO; a class whose own entries add none shares its tail's.
fn externals(mro: &[StoredMro]) -> Vec<Arc<[Name]>> {
    let mut done: Vec<Option<Arc<[Name]>>> = vec![None; mro.len()];
    for start in 0..mro.len() {
        // Follow the shared tails to one already done, then fill the way back.
        let mut pending = Vec::new();
        let mut current = Some(start);
        while let Some(i) = current
            && done[i].is_none()
        {
            pending.push(i);
            current = mro[i].rest.map(|r| r.0 as usize);
        }
        for i in pending.into_iter().rev() {
            let tail = mro[i].rest.and_then(|r| done[r.0 as usize].clone());
            let own = mro[i].own.iter().filter_map(|entry| match entry {
                MroEntry::External(q) => Some(*q),
                MroEntry::Class(_) => None,
            });
            let own: Vec<Name> = own.collect();
            done[i] = Some(match tail {
                Some(tail) if own.is_empty() => tail,
                tail => own
                    .into_iter()
                    .chain(tail.iter().flat_map(|t| t.iter().cloned()))
                    .collect(),
            });
        }
    }
    done.into_iter().map(|e| e.unwrap_or_default()).collect()
}

/// Pre- and post-order numbers of a depth-first walk of the forest whose parent links are `rest`.
fn forest_order(mro: &[StoredMro]) -> Vec<(u32, u32)> {
    let mut children = vec![Vec::new(); mro.len()];
    let mut roots = Vec::new();
    for (i, stored) in mro.iter().enumerate() {
        match stored.rest {
            Some(parent) => children[parent.0 as usize].push(i),
            None => roots.push(i),
        }
    }
    let mut order = vec![(0, 0); mro.len()];
    let mut clock = 0u32;
    for root in roots {
        // (node, whether its children were pushed)
        let mut stack = vec![(root, false)];
        while let Some((node, expanded)) = stack.pop() {
            if expanded {
                order[node].1 = clock;
                clock += 1;
                continue;
            }
            order[node].0 = clock;
            clock += 1;
            stack.push((node, true));
            stack.extend(children[node].iter().map(|&c| (c, false)));
        }
    }
    order
}

#[derive(Clone, Copy, PartialEq)]
enum State {
    Pending,
    InProgress,
    Done,
}

fn mro_of(stored: &[StoredMro], class: ClassId) -> Mro<'_> {
    let first = &stored[class.0 as usize];
    Mro {
        stored,
        current: first.own.iter(),
        rest: first.rest,
    }
}

/// C3 linearisation. Cycles (possible in broken code) and inconsistent hierarchies fall back to a
/// depth-first order without duplicates, so every class gets an MRO.
fn linearize(id: ClassId, bases: &[Vec<MroEntry>], state: &mut [State], mro: &mut [StoredMro]) {
    let i = id.0 as usize;
    match state[i] {
        State::Done => return,
        State::InProgress => return,
        State::Pending => state[i] = State::InProgress,
    }
    for base in &bases[i] {
        if let MroEntry::Class(b) = base {
            linearize(*b, bases, state, mro);
        }
    }
    // One base whose MRO is complete: C3 gives the class, then that MRO, which is shared.
    if let [MroEntry::Class(base)] = bases[i].as_slice()
        && state[base.0 as usize] == State::Done
    {
        mro[i] = StoredMro {
            own: vec![MroEntry::Class(id)],
            rest: Some(*base),
        };
        state[i] = State::Done;
        return;
    }
    let mut sequences: Vec<Vec<MroEntry>> = bases[i]
        .iter()
        .map(|base| match base {
            MroEntry::Class(b) if state[b.0 as usize] == State::Done => {
                mro_of(mro, *b).cloned().collect()
            }
            MroEntry::Class(_) => Vec::new(),
            external => vec![external.clone()],
        })
        .collect();
    sequences.push(bases[i].clone());
    let mut result = vec![MroEntry::Class(id)];
    match merge(&sequences) {
        Some(merged) => result.extend(merged),
        None => {
            let mut seen: std::collections::HashSet<MroEntry> = result.iter().cloned().collect();
            for entry in sequences.into_iter().flatten() {
                if seen.insert(entry.clone()) {
                    result.push(entry);
                }
            }
        }
    }
    result.retain(
        |e| !matches!(e, MroEntry::Class(c) if *c != id && state[c.0 as usize] != State::Done),
    );
    mro[i] = StoredMro {
        own: result,
        rest: None,
    };
    state[i] = State::Done;
}

/// The C3 merge: repeatedly takes the first head that is in no sequence's tail. `in_tails` counts
/// each entry's occurrences in the tails, so a head is checked in constant time.
fn merge(sequences: &[Vec<MroEntry>]) -> Option<Vec<MroEntry>> {
    let mut heads = vec![0usize; sequences.len()];
    let mut in_tails: std::collections::HashMap<&MroEntry, usize> =
        std::collections::HashMap::new();
    for sequence in sequences {
        for entry in sequence.iter().skip(1) {
            *in_tails.entry(entry).or_insert(0) += 1;
        }
    }
    let total: usize = sequences.iter().map(Vec::len).sum();
    let mut out = Vec::with_capacity(total);
    loop {
        let mut live = sequences
            .iter()
            .zip(&heads)
            .filter_map(|(s, &h)| s.get(h))
            .peekable();
        if live.peek().is_none() {
            return Some(out);
        }
        // None when every head is in some tail: no consistent order.
        let candidate = live.find(|head| in_tails.get(head).is_none_or(|&n| n == 0))?;
        let candidate = candidate.clone();
        for (sequence, head) in sequences.iter().zip(heads.iter_mut()) {
            if sequence.get(*head) == Some(&candidate) {
                *head += 1;
                // The next entry leaves the tail and becomes the head.
                if let Some(next) = sequence.get(*head)
                    && let Some(n) = in_tails.get_mut(next)
                {
                    *n -= 1;
                }
            }
        }
        out.push(candidate);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::LinkInput;

    const SOURCE: &str = "\
import abc

class A:
    x = 1

class B(A):
    pass

class C(A):
    x = 2

class D(B, C):
    pass

class E(D, abc.ABC):
    pass

class F(E):
    pass

class G(F, C):
    pass

class Lone:
    x = 3
";

    fn project() -> Project {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.py");
        std::fs::write(&path, SOURCE).unwrap();
        let facts = crate::syntax::extract(SOURCE).unwrap().into();
        Project::link(vec![LinkInput { path, facts }], &[])
    }

    /// The memoised answers agree with walking the whole MRO, whatever order they are asked in.
    #[test]
    fn memoised_queries_agree_with_walking_the_mro() {
        let project = project();
        let ids: Vec<ClassId> = project.class_ids().collect();
        let walked_attribute = |class: ClassId| {
            project.mro(class).find_map(|entry| match entry {
                MroEntry::Class(c) => project.class_attribute(*c, "x").map(|_| *c),
                MroEntry::External(_) => None,
            })
        };
        for order in [ids.clone(), ids.iter().rev().copied().collect()] {
            let memo: MroMemo<()> = project.mro_memo();
            for &class in &order {
                let found = project.find_in_mro(&memo, class, "x", |c| {
                    project.class_attribute(c, "x").map(|_| ())
                });
                assert_eq!(found.map(|(c, _)| c), walked_attribute(class));
                assert_eq!(
                    project.lookup_class_attribute(class, "x").map(|(c, _)| c),
                    walked_attribute(class)
                );
                let externals: Vec<&Name> = project
                    .mro(class)
                    .filter_map(|entry| match entry {
                        MroEntry::External(q) => Some(q),
                        MroEntry::Class(_) => None,
                    })
                    .collect();
                assert_eq!(
                    project.external_bases(class).iter().collect::<Vec<_>>(),
                    externals
                );
                for &other in &ids {
                    let walked = project.mro(class).any(|e| *e == MroEntry::Class(other));
                    assert_eq!(project.in_mro(class, other), walked, "{class:?} {other:?}");
                    assert_eq!(
                        project.descendants(other).contains(&class),
                        walked && class != other
                    );
                }
            }
        }
        // The hierarchy really has shared tails and a merged MRO to test.
        let named = |name: &str| {
            ids.iter()
                .copied()
                .find(|&c| project.class(c).1.name == name)
                .unwrap()
        };
        assert_eq!(walked_attribute(named("D")), Some(named("C")));
        assert_eq!(project.external_bases(named("F")).len(), 1);
        assert!(!project.in_mro(named("A"), named("B")));
    }
}
