//! The class hierarchy: resolved bases, C3 method-resolution order, and subclasses.
//!
//! MROs share their tails: a class with a single base stores only itself and points at its base's
//! MRO, so a chain of K classes takes K entries, not K²/2, and linearising a class costs the length
//! of its own bases' MROs once (the C3 merge keeps a count of every entry in the sequences' tails
//! instead of scanning them).

use crate::facts::Name;

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
        let bases: Vec<Vec<MroEntry>> = project
            .class_ids()
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
        Hierarchy { mro, subclasses }
    }

    pub(super) fn mro(&self, class: ClassId) -> Mro<'_> {
        mro_of(&self.mro, class)
    }

    pub(super) fn descendants(&self, class: ClassId) -> Vec<ClassId> {
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
        out
    }
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
