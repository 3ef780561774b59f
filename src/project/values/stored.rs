//! The kept values of a link as bytes, for the link the cache keeps between runs
//! (`crate::link_cache`). Only what a later link reads is stored: each slot's place, the values of
//! each place in arrival order, and the external names by id (the memo of their attributes is
//! found again as asked). Decoding checks every id against the counts of the project it is for,
//! so that bytes no link wrote are refused rather than followed.

use crate::facts::Name;
use crate::link_cache::{Decoder, Encoder};

use super::super::{ClassId, FuncId};
use super::{
    ExternalId, Externals, Held, HeldTable, HeldValues, KeptValues, NAMES_A_CLASS, UNSEEN,
    names_a_class,
};

impl KeptValues {
    /// Appends these values to `out`.
    pub(crate) fn encode(&self, out: &mut Encoder) {
        let HeldTable { places, values } = &self.held;
        out.len(places.len());
        for place in places {
            out.u32(*place);
        }
        out.len(values.len());
        for held in values {
            out.len(held.values.len());
            for value in &held.values {
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
        out.len(self.externals.names.len());
        for name in &self.externals.names {
            out.str(name.as_str());
        }
    }

    /// Values [`KeptValues::encode`] wrote, for a project of `functions` functions and `classes`
    /// classes; `None` when the bytes name anything outside those, or break the rules a link
    /// keeps (a place of no values, a value held twice, more than `MAX_HELD` values).
    pub(crate) fn decode(input: &mut Decoder, functions: u32, classes: u32) -> Option<KeptValues> {
        let count = input.len(4)?;
        let mut places = Vec::with_capacity(count);
        for _ in 0..count {
            places.push(input.u32()?);
        }
        let count = input.len(4)?;
        let mut raw = Vec::with_capacity(count);
        for _ in 0..count {
            let held = input.len(5)?;
            let mut values = Vec::with_capacity(held);
            for _ in 0..held {
                values.push((input.u8()?, input.u32()?));
            }
            raw.push(values);
        }
        let count = input.len(4)?;
        let mut externals = Externals::default();
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
            let id = ExternalId(i as u32 | class_bit);
            if externals.ids.insert(name, id).is_some() {
                return None;
            }
            externals.names.push(name);
        }
        if places
            .iter()
            .any(|place| *place != UNSEEN && *place as usize >= raw.len())
        {
            return None;
        }
        let mut values = Vec::with_capacity(raw.len());
        for held in raw {
            let mut slot = HeldValues::default();
            for (kind, id) in held {
                let value = match kind {
                    0 if id < functions => Held::Function(FuncId(id)),
                    1 if id < classes => Held::Class(ClassId(id)),
                    2 if id < classes => Held::Instance(ClassId(id)),
                    3 if externals
                        .names
                        .get((id & !NAMES_A_CLASS) as usize)
                        .is_some_and(|name| {
                            names_a_class(name.as_str()) == (id & NAMES_A_CLASS != 0)
                        }) =>
                    {
                        Held::External(ExternalId(id))
                    }
                    _ => return None,
                };
                if !slot.add(value) {
                    return None;
                }
            }
            values.push(slot);
        }
        Some(KeptValues {
            held: HeldTable { places, values },
            externals,
        })
    }
}
