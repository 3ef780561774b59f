//! The kept values of a link as bytes, for the link the cache keeps between runs
//! (`crate::link_cache`). Only what a later link reads is stored: each slot's place, the values of
//! each place in their one order (`Values::canonical`), and the external names by id (the memo of their attributes is
//! found again as asked). Decoding checks every id against the counts of the project it is for,
//! so that bytes no link wrote are refused rather than followed.

use crate::facts::Name;
use crate::link_cache::{Decoder, Encoder};

use super::super::{ClassId, FuncId};
use super::{
    ExternalId, Externals, Held, HeldTable, HeldValues, KeptValues, MAX_HELD, NAMES_A_CLASS,
    UNSEEN, names_a_class,
};

impl KeptValues {
    /// Appends these values to `out`: the external names, each slot's place, then each place's
    /// values.
    pub(crate) fn encode(&self, out: &mut Encoder<'_>) {
        out.len(self.externals.names.len());
        for name in &self.externals.names {
            out.str(name.as_str());
        }
        let HeldTable { places, values } = &self.held;
        out.u32s(places);
        out.len(values.len());
        for held in values {
            out.len(held.len());
            for value in held.as_slice() {
                let (kind, id) = match value {
                    Held::Function(f) => (0, f.0),
                    Held::Class(c) => (1, c.0),
                    Held::Instance(c) => (2, c.0),
                    Held::External(q) => (3, q.0),
                };
                out.u8(kind);
                out.u32(id);
            }
        }
    }

    /// Values [`KeptValues::encode`] wrote, for a project of `functions` functions and `classes`
    /// classes; `None` when the bytes name anything outside those, or break the rules a link
    /// keeps (a place past the last, a value held twice, more than `MAX_HELD` values, an external
    /// name twice or with the wrong class bit).
    pub(crate) fn decode(input: &mut Decoder, functions: u32, classes: u32) -> Option<KeptValues> {
        let count = input.len(4)?;
        let mut externals = Externals::default();
        externals.names.reserve(count);
        for i in 0..count {
            let name = input.str()?;
            let class_bit = if names_a_class(name) {
                NAMES_A_CLASS
            } else {
                0
            };
            if i as u32 & NAMES_A_CLASS != 0 {
                return None;
            }
            let name = Name::from(name);
            if externals
                .ids
                .insert(name, ExternalId(i as u32 | class_bit))
                .is_some()
            {
                return None;
            }
            externals.names.push(name);
        }
        let places = input.u32s()?;
        let count = input.len(4)?;
        if places
            .iter()
            .any(|place| *place != UNSEEN && *place as usize >= count)
        {
            return None;
        }
        let external = |id: u32| {
            externals
                .names
                .get((id & !NAMES_A_CLASS) as usize)
                .is_some_and(|name| names_a_class(name.as_str()) == (id & NAMES_A_CLASS != 0))
        };
        let mut values = Vec::with_capacity(count);
        for _ in 0..count {
            let held = input.len(5)?;
            if held > MAX_HELD {
                return None;
            }
            // What `HeldValues::add` would make of them one by one, without its search from the
            // first value held for each (a value is looked for only when its bit is set).
            let mut slot = Vec::with_capacity(held);
            let mut bits = 0;
            for _ in 0..held {
                let value = match (input.u8()?, input.u32()?) {
                    (0, id) if id < functions => Held::Function(FuncId(id)),
                    (1, id) if id < classes => Held::Class(ClassId(id)),
                    (2, id) if id < classes => Held::Instance(ClassId(id)),
                    (3, id) if external(id) => Held::External(ExternalId(id)),
                    _ => return None,
                };
                let bit = HeldValues::bit(value);
                if bits & bit != 0 && slot.contains(&value) {
                    return None;
                }
                bits |= bit;
                slot.push(value);
            }
            values.push(HeldValues::distinct(slot, bits));
        }
        Some(KeptValues {
            held: HeldTable { places, values },
            externals,
            flows: None,
        })
    }
}
