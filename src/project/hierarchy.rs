//! The class hierarchy: resolved bases, C3 method-resolution order, and subclasses.

use crate::facts::Name;

use super::resolve::Resolved;
use super::{ClassId, Project};

/// One class in a method-resolution order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MroEntry {
    Class(ClassId),
    /// A base outside the analysed tree, by qualified name; its own bases are unknown.
    External(Name),
}

#[derive(Debug, Default)]
pub(super) struct Hierarchy {
    mro: Vec<Vec<MroEntry>>,
    subclasses: Vec<Vec<ClassId>>,
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
        let mut mro = vec![Vec::new(); count];
        for id in 0..count {
            linearize(ClassId(id as u32), &bases, &mut state, &mut mro);
        }
        Hierarchy { mro, subclasses }
    }

    pub(super) fn mro(&self, class: ClassId) -> &[MroEntry] {
        &self.mro[class.0 as usize]
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

/// C3 linearisation. Cycles (possible in broken code) and inconsistent hierarchies fall back to a
/// depth-first order without duplicates, so every class gets an MRO.
fn linearize(id: ClassId, bases: &[Vec<MroEntry>], state: &mut [State], mro: &mut [Vec<MroEntry>]) {
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
    let mut sequences: Vec<Vec<MroEntry>> = bases[i]
        .iter()
        .map(|base| match base {
            MroEntry::Class(b) if state[b.0 as usize] == State::Done => mro[b.0 as usize].clone(),
            MroEntry::Class(_) => Vec::new(),
            external => vec![external.clone()],
        })
        .collect();
    sequences.push(bases[i].clone());
    let mut result = vec![MroEntry::Class(id)];
    let merged = merge(sequences.clone());
    match merged {
        Some(merged) => result.extend(merged),
        None => {
            for entry in sequences.into_iter().flatten() {
                if !result.contains(&entry) {
                    result.push(entry);
                }
            }
        }
    }
    result.retain(
        |e| !matches!(e, MroEntry::Class(c) if *c != id && state[c.0 as usize] != State::Done),
    );
    mro[i] = result;
    state[i] = State::Done;
}

fn merge(mut sequences: Vec<Vec<MroEntry>>) -> Option<Vec<MroEntry>> {
    let mut out = Vec::new();
    loop {
        sequences.retain(|s| !s.is_empty());
        if sequences.is_empty() {
            return Some(out);
        }
        let candidate = sequences
            .iter()
            .map(|s| &s[0])
            .find(|head| !sequences.iter().any(|s| s[1..].contains(head)))?
            .clone();
        for s in &mut sequences {
            if s[0] == candidate {
                s.remove(0);
            }
        }
        out.push(candidate);
    }
}
