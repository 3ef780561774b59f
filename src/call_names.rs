//! The names every call site of a file is written with, as hashes, worked out once per file's facts
//! and kept with them ([`FileFacts::call_names`]), so that a question asked of every call site of
//! the project ("which calls are of a method named one of these?") first tests a bit per name
//! instead of splitting and hashing each callee's text again.
//!
//! This is a filter in front of the exact test, never a replacement for it: a call whose names'
//! bits are not all clear in a [`NameFilter`] is then tested on its text as before, so the answer
//! is the same whatever the hashes collide on. Kept with the facts, it is correct across the
//! language server's edits for as long as the facts are: it is read from the facts alone, facts are
//! not changed once shared (`Arc<FileFacts>`), an edited file gets new facts (and so computes it
//! again on first use), and a copy of facts (`Clone`) starts without it.

use std::sync::OnceLock;

use xxhash_rust::xxh3::xxh3_64;

use crate::facts::FileFacts;

/// The hash of a name's text that [`CallNames`] and [`NameFilter`] agree on (xxh3, as the facts
/// cache hashes texts, cut to 32 bits).
pub fn name_hash(text: &str) -> u32 {
    bytes_hash(text.as_bytes())
}

fn bytes_hash(bytes: &[u8]) -> u32 {
    xxh3_64(bytes) as u32
}

/// For each call of [`FileFacts::calls`], the hashes of the pieces of its callee as written,
/// split at dots (`store.save`: `store`, `save`; `save`: `save`).
#[derive(Debug, Default)]
pub struct CallNames {
    /// The pieces' hashes, call after call.
    pieces: Vec<u32>,
    /// Where each call's pieces end in `pieces`.
    ends: Vec<u32>,
}

impl CallNames {
    pub fn of(facts: &FileFacts) -> Self {
        let mut names = CallNames {
            pieces: Vec::with_capacity(facts.calls.len() * 2),
            ends: Vec::with_capacity(facts.calls.len()),
        };
        for call in &facts.calls {
            // The pieces as `split('.')` gives them (empty ones included), found by a byte loop:
            // names are short, and the general pattern search costs several times more per piece
            // (a fifth of a cold run's model and rules went there).
            let callee = call.callee.as_str().as_bytes();
            let mut start = 0;
            for (at, &byte) in callee.iter().enumerate() {
                if byte == b'.' {
                    names.pieces.push(bytes_hash(&callee[start..at]));
                    start = at + 1;
                }
            }
            names.pieces.push(bytes_hash(&callee[start..]));
            names.ends.push(names.pieces.len() as u32);
        }
        names
    }

    /// The hashes of the pieces of call `index`'s callee, first to last.
    pub fn pieces(&self, index: usize) -> &[u32] {
        let start = if index == 0 {
            0
        } else {
            self.ends[index - 1] as usize
        };
        &self.pieces[start..self.ends[index] as usize]
    }

    /// The hash of the last piece of call `index`'s callee (the method's name of `store.save`).
    pub fn last(&self, index: usize) -> u32 {
        self.pieces[self.ends[index] as usize - 1]
    }
}

/// A set of names as bits of their hashes: `may_hold` is true for every name of the set, and
/// rarely for others (the caller then tests the text).
pub struct NameFilter {
    bits: Box<[u64]>,
}

/// Bits in a filter (8 KiB): with the few hundred names rules ask for, few false hits.
const FILTER_BITS: usize = 1 << 16;

/// The bit of a hash in a filter: its two halves folded.
fn filter_bit(hash: u32) -> usize {
    (hash ^ (hash >> 16)) as usize % FILTER_BITS
}

impl NameFilter {
    pub fn of<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let mut bits = vec![0u64; FILTER_BITS / 64].into_boxed_slice();
        for name in names {
            let bit = filter_bit(name_hash(name));
            bits[bit / 64] |= 1 << (bit % 64);
        }
        NameFilter { bits }
    }

    /// Whether a name of this hash may be in the set.
    pub fn may_hold(&self, hash: u32) -> bool {
        let bit = filter_bit(hash);
        self.bits[bit / 64] & (1 << (bit % 64)) != 0
    }

    /// Whether any of these hashes may be of a name in the set.
    pub fn may_hold_any(&self, hashes: &[u32]) -> bool {
        hashes.iter().any(|&hash| self.may_hold(hash))
    }
}

/// Where facts keep their [`CallNames`]: empty until first asked, and empty again in a copy.
#[derive(Default)]
pub struct KeptCallNames(OnceLock<CallNames>);

impl KeptCallNames {
    pub fn get_or_init(&self, facts: &FileFacts) -> &CallNames {
        self.0.get_or_init(|| CallNames::of(facts))
    }

    /// Whether they were worked out (for tests).
    pub fn is_set(&self) -> bool {
        self.0.get().is_some()
    }
}

impl Clone for KeptCallNames {
    /// A copy of facts may be changed before it is shared: it works its names out again.
    fn clone(&self) -> Self {
        KeptCallNames::default()
    }
}

impl std::fmt::Debug for KeptCallNames {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeptCallNames")
    }
}

#[cfg(test)]
mod tests {
    use super::{CallNames, NameFilter, name_hash};
    use crate::facts::{CallReceiver, CallSite, FileFacts, MaybeIndex, Name, Span};

    fn call(callee: &str) -> CallSite {
        CallSite::new(
            None,
            CallReceiver::Name,
            Name::from(callee),
            false,
            MaybeIndex::NONE,
            Span::new(0, 1),
        )
    }

    #[test]
    fn pieces_follow_the_callee_as_written() {
        let facts = FileFacts {
            calls: vec![call("save"), call("store.items.save"), call("a..b")].into(),
            ..FileFacts::default()
        };
        let names = CallNames::of(&facts);
        assert_eq!(names.pieces(0), &[name_hash("save")]);
        assert_eq!(
            names.pieces(1),
            &[name_hash("store"), name_hash("items"), name_hash("save")]
        );
        assert_eq!(names.last(1), name_hash("save"));
        assert_eq!(
            names.pieces(2),
            &[name_hash("a"), name_hash(""), name_hash("b")]
        );
        // The same pieces as `split('.')`, empty ones at either end included.
        let callees = ["", ".", "a.", ".a", "a..b", "save", "x.y.z"];
        let split = CallNames::of(&FileFacts {
            calls: callees.iter().map(|c| call(c)).collect(),
            ..FileFacts::default()
        });
        for (index, callee) in callees.iter().enumerate() {
            let expected: Vec<u32> = callee.split('.').map(name_hash).collect();
            assert_eq!(split.pieces(index), expected.as_slice(), "{callee:?}");
        }
        let filter = NameFilter::of(["items", "other"]);
        assert!(filter.may_hold_any(names.pieces(1)));
        assert!(filter.may_hold(name_hash("other")));
    }

    #[test]
    fn a_copy_of_facts_works_its_names_out_again() {
        let facts = FileFacts {
            calls: vec![call("store.save")].into(),
            ..FileFacts::default()
        };
        assert_eq!(facts.call_names().last(0), name_hash("save"));
        assert!(facts.kept_call_names.is_set());
        let mut copy = facts.clone();
        assert!(!copy.kept_call_names.is_set());
        copy.calls = vec![call("store.load")].into();
        assert_eq!(copy.call_names().last(0), name_hash("load"));
    }
}
