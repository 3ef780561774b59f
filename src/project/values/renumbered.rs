//! The kept values of a link in the ids of a link that added classes and functions
//! (`super::super::remap`).

use super::super::remap::IdRemap;
use super::super::{FuncId, Project};
use super::{Held, KeptValues, UNSEEN};

impl KeptValues {
    /// These values (of the previous link) with every id and slot renumbered for `project`, whose
    /// functions and classes `ids` maps the previous link's to. The slots are numbered as
    /// `Slots::new` numbers them: what each function returns, what its decorators make of it,
    /// its parameters in function order, then the other names file by file, which are the same
    /// names in the same order as before (the flows are the same). The added functions' slots are
    /// unseen, as they are after a full link: no flow reads or writes them. `None` if a slot of a
    /// removed function was seen, or a removed class or function is held.
    pub(in super::super) fn renumbered(
        self,
        project: &Project,
        ids: &IdRemap,
    ) -> Option<KeptValues> {
        let old_functions = ids.old_function_count();
        let new_functions = project.function_count() as u32;
        let mut new_param_base = Vec::with_capacity(new_functions as usize + 1);
        let mut next = 2 * new_functions;
        for function in (0..new_functions).map(FuncId) {
            new_param_base.push(next);
            next += project.function(function).1.params.len() as u32;
        }
        let new_names_start = next;
        let old_param_base = ids.old_param_base();
        let old_names_start = old_param_base[old_functions as usize];
        let KeptValues {
            mut held,
            externals,
            flows,
        } = self;
        let names = held.places.len().saturating_sub(old_names_start as usize);
        let mut places = vec![UNSEEN; new_names_start as usize + names];
        // Slot by slot, in blocks: each function's return and decorated slots and parameters
        // (none seen for a removed function), then every other name.
        for old in 0..old_functions {
            let params = old_param_base[old as usize]..old_param_base[old as usize + 1];
            let Some(new) = ids.function(FuncId(old)) else {
                let seen = |slot: u32| held.places.get(slot as usize).is_some_and(|p| *p != UNSEEN);
                if seen(old) || seen(old_functions + old) || params.clone().any(seen) {
                    return None;
                }
                continue;
            };
            let new = new.0;
            let old_places = |slot: u32| held.places.get(slot as usize).copied().unwrap_or(UNSEEN);
            places[new as usize] = old_places(old);
            places[(new_functions + new) as usize] = old_places(old_functions + old);
            let new_params = new_param_base[new as usize];
            for (i, slot) in params.enumerate() {
                places[new_params as usize + i] = old_places(slot);
            }
        }
        if names > 0 {
            places[new_names_start as usize..]
                .copy_from_slice(&held.places[old_names_start as usize..]);
        }
        let renumber = |value: Held| {
            Some(match value {
                Held::Function(f) => Held::Function(ids.function(f)?),
                Held::Class(c) => Held::Class(ids.class(c)?),
                Held::Instance(c) => Held::Instance(ids.class(c)?),
                Held::External(q) => Held::External(q),
            })
        };
        // In place: the same values in the same order (their bits change with their ids).
        for slot in &mut held.values {
            slot.map_each(renumber)?;
        }
        held.places = places;
        // Which flows read and wrote each slot stays true: it is kept by place, and the places
        // are the same; the flows are the same flows in the same order (the edited files' flows
        // read the same, and no name of them resolves to an added or removed definition), so
        // each keeps its id. Only the first slot of each file's names moves.
        let flows = flows.map(|flows| flows.names_moved_to(new_names_start));
        Some(KeptValues {
            held,
            externals,
            flows,
        })
    }
}

#[cfg(test)]
impl KeptValues {
    /// What each slot that holds anything holds, in order, with external values by name (their
    /// ids depend on the order threads interned them in): equal for two links whose values are
    /// the same. A slot that holds nothing is left out: whether it has a place (it was read) does
    /// not change what it holds, and an update keeps the places of the link before it.
    pub(in super::super) fn described(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (slot, place) in self.held.places.iter().enumerate() {
            let Some(held) = self.held.values.get(*place as usize) else {
                continue;
            };
            if held.as_slice().is_empty() {
                continue;
            }
            let values: Vec<String> = held
                .as_slice()
                .iter()
                .map(|value| match value {
                    Held::External(q) => format!("External({})", self.externals.name(*q)),
                    other => format!("{other:?}"),
                })
                .collect();
            out.push(format!("{slot}: {}", values.join(", ")));
        }
        out
    }
}
