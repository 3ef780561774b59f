//! The kept values of a link in the ids of a link that added classes and functions
//! (`super::super::remap`).

use super::super::remap::IdRemap;
use super::super::{FuncId, Project};
use super::{Held, HeldTable, HeldValues, KeptValues, UNSEEN};

impl KeptValues {
    /// These values (of the previous link) with every id and slot renumbered for `project`, whose
    /// functions and classes `ids` maps the previous link's to. The slots are numbered as
    /// `Slots::new` numbers them: what each function returns, what its decorators make of it,
    /// its parameters in function order, then the other names file by file, which are the same
    /// names in the same order as before (the flows are the same). The added functions' slots are
    /// unseen, as they are after a full link: no flow reads or writes them.
    pub(in super::super) fn renumbered(self, project: &Project, ids: &IdRemap) -> KeptValues {
        let old_functions = ids.old_function_count();
        let new_functions = project.function_count() as u32;
        let params = |function: FuncId| project.function(function).1.params.len() as u32;
        let mut new_param_base = Vec::with_capacity(new_functions as usize + 1);
        let mut next = 2 * new_functions;
        for function in (0..new_functions).map(FuncId) {
            new_param_base.push(next);
            next += params(function);
        }
        let new_names_start = next;
        let mut old_param_base = Vec::with_capacity(old_functions as usize + 1);
        let mut next = 2 * old_functions;
        for function in (0..old_functions).map(FuncId) {
            old_param_base.push(next);
            next += params(ids.function(function));
        }
        let old_names_start = next;
        let slot = |old: u32| -> u32 {
            if old < old_functions {
                ids.function(FuncId(old)).0
            } else if old < 2 * old_functions {
                new_functions + ids.function(FuncId(old - old_functions)).0
            } else if old < old_names_start {
                let function = old_param_base.partition_point(|&base| base <= old) - 1;
                let new = ids.function(FuncId(function as u32));
                new_param_base[new.0 as usize] + (old - old_param_base[function])
            } else {
                old - old_names_start + new_names_start
            }
        };
        let KeptValues { held, externals } = self;
        let mut places =
            vec![UNSEEN; held.places.len() + (new_names_start - old_names_start) as usize];
        for (old, place) in held.places.iter().enumerate() {
            if *place != UNSEEN {
                places[slot(old as u32) as usize] = *place;
            }
        }
        let renumber = |value: Held| match value {
            Held::Function(f) => Held::Function(ids.function(f)),
            Held::Class(c) => Held::Class(ids.class(c)),
            Held::Instance(c) => Held::Instance(ids.class(c)),
            Held::External(q) => Held::External(q),
        };
        let values = held
            .values
            .into_iter()
            .map(|held| {
                let mut values = HeldValues::default();
                for value in held.values {
                    // The same values, at most as many as a slot holds: each is added.
                    values.add(renumber(value));
                }
                values
            })
            .collect();
        KeptValues {
            held: HeldTable { places, values },
            externals,
        }
    }
}

#[cfg(test)]
impl KeptValues {
    /// What each slot holds, in order, with external values by name (their ids depend on the
    /// order threads interned them in): equal for two links whose values are the same.
    pub(in super::super) fn described(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (slot, place) in self.held.places.iter().enumerate() {
            let Some(held) = self.held.values.get(*place as usize) else {
                continue;
            };
            let values: Vec<String> = held
                .values
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
