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
        let function = |old: u32| ids.function(FuncId(old)).map(|f| f.0);
        let slot = |old: u32| -> Option<u32> {
            Some(if old < old_functions {
                function(old)?
            } else if old < 2 * old_functions {
                new_functions + function(old - old_functions)?
            } else if old < old_names_start {
                let of = old_param_base.partition_point(|&base| base <= old) as u32 - 1;
                new_param_base[function(of)? as usize] + (old - old_param_base[of as usize])
            } else {
                old - old_names_start + new_names_start
            })
        };
        let KeptValues { held, externals } = self;
        let names = held.places.len().saturating_sub(old_names_start as usize);
        let mut places = vec![UNSEEN; new_names_start as usize + names];
        for (old, place) in held.places.iter().enumerate() {
            if *place != UNSEEN {
                places[slot(old as u32)? as usize] = *place;
            }
        }
        let renumber = |value: Held| {
            Some(match value {
                Held::Function(f) => Held::Function(ids.function(f)?),
                Held::Class(c) => Held::Class(ids.class(c)?),
                Held::Instance(c) => Held::Instance(ids.class(c)?),
                Held::External(q) => Held::External(q),
            })
        };
        let mut values = Vec::with_capacity(held.values.len());
        for old in held.values {
            let mut new = HeldValues::default();
            for value in old.values {
                // The same values, at most as many as a slot holds: each is added.
                new.add(renumber(value)?);
            }
            values.push(new);
        }
        Some(KeptValues {
            held: HeldTable { places, values },
            externals,
        })
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
