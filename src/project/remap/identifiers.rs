//! The identifiers in a value's strings, collected through its `Serialize` implementation: every
//! string it serializes is visited (as its JSON would hold it), and nothing is formatted.

use std::fmt;

use serde::Serialize;
use serde::ser::{self, Serializer};

/// The hash of each run of identifier characters (letters, digits, underscores and non-ASCII
/// characters) in the strings `value` serializes, so each part of a dotted name; sorted, without
/// repeats. `None` if serializing fails.
pub(in crate::project) fn identifier_hashes(value: &impl Serialize) -> Option<Vec<u64>> {
    // With a name table, each interned name gives its text the first time only and its index
    // (a number, no identifier) after that: a file's facts repeat `self`, its imports and its
    // attributes many times, and the result has no repeats anyway.
    crate::facts::with_name_table(|| every_identifier(value))
}

/// [`identifier_hashes`] of every string `value` serializes, as it serializes them.
fn every_identifier(value: &impl Serialize) -> Option<Vec<u64>> {
    let mut collector = Collector(Vec::new());
    value.serialize(&mut collector).ok()?;
    let mut hashes = collector.0;
    hashes.sort_unstable();
    hashes.dedup();
    Some(hashes)
}

pub(in crate::project) fn identifier_hash(identifier: &[u8]) -> u64 {
    xxhash_rust::xxh3::xxh3_64(identifier)
}

struct Collector(Vec<u64>);

impl Collector {
    fn text(&mut self, text: &str) {
        let is_part = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b >= 0x80;
        self.0.extend(
            text.as_bytes()
                .split(|b| !is_part(b))
                .filter(|run| !run.is_empty())
                .map(identifier_hash),
        );
    }
}

#[derive(Debug)]
struct Failed(String);

impl fmt::Display for Failed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Failed {}

impl ser::Error for Failed {
    fn custom<T: fmt::Display>(message: T) -> Self {
        Failed(message.to_string())
    }
}

/// Numbers, booleans and the names of fields and variants (the facts' own, not the code's) hold
/// no identifier of the analysed code.
impl Serializer for &mut Collector {
    type Ok = ();
    type Error = Failed;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    fn serialize_bool(self, _: bool) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_i8(self, _: i8) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_i16(self, _: i16) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_i32(self, _: i32) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_i64(self, _: i64) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_u8(self, _: u8) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_u16(self, _: u16) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_u32(self, _: u32) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_u64(self, _: u64) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_f32(self, _: f32) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_f64(self, _: f64) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_char(self, c: char) -> Result<(), Failed> {
        self.text(c.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    fn serialize_str(self, text: &str) -> Result<(), Failed> {
        self.text(text);
        Ok(())
    }
    fn serialize_bytes(self, bytes: &[u8]) -> Result<(), Failed> {
        self.text(&String::from_utf8_lossy(bytes));
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<(), Failed> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
    ) -> Result<(), Failed> {
        Ok(())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), Failed> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        value: &T,
    ) -> Result<(), Failed> {
        value.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self, Failed> {
        Ok(self)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self, Failed> {
        Ok(self)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Self, Failed> {
        Ok(self)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Failed> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, Failed> {
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, Failed> {
        Ok(self)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self, Failed> {
        Ok(self)
    }
}

/// The compound parts: each element, field, key and value is visited like a whole value.
macro_rules! visit_each {
    ($($trait:ident :: $method:ident $(($key:ty))?),* $(,)?) => {$(
        impl ser::$trait for &mut Collector {
            type Ok = ();
            type Error = Failed;
            fn $method<T: ?Sized + Serialize>(
                &mut self,
                $(_: $key,)?
                value: &T,
            ) -> Result<(), Failed> {
                value.serialize(&mut **self)
            }
            fn end(self) -> Result<(), Failed> {
                Ok(())
            }
        }
    )*};
}

visit_each!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field,
    SerializeStruct::serialize_field(&'static str),
    SerializeStructVariant::serialize_field(&'static str),
);

impl ser::SerializeMap for &mut Collector {
    type Ok = ();
    type Error = Failed;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result<(), Failed> {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result<(), Failed> {
        value.serialize(&mut **self)
    }
    fn end(self) -> Result<(), Failed> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::{every_identifier, identifier_hash, identifier_hashes};

    #[test]
    fn every_part_of_every_string_and_nothing_else() {
        #[derive(serde::Serialize)]
        enum Kind {
            Call { callee: String },
        }
        #[derive(serde::Serialize)]
        struct Fact {
            name: String,
            start: u32,
            kinds: Vec<Kind>,
            alias: Option<String>,
        }
        let fact = Fact {
            name: "pkg.mod.Store".into(),
            start: 12,
            kinds: vec![Kind::Call {
                callee: "helper(é)".into(),
            }],
            alias: Some("_x1".into()),
        };
        let mut expected: Vec<u64> = ["pkg", "mod", "Store", "helper", "é", "_x1"]
            .iter()
            .map(|t| identifier_hash(t.as_bytes()))
            .collect();
        expected.sort_unstable();
        assert_eq!(identifier_hashes(&fact), Some(expected));
    }

    /// The name table only skips repeated names: the identifiers are those of the same facts
    /// with every copy of every name written out as text (no table is in use on a test's
    /// thread).
    #[test]
    fn a_name_written_once_gives_the_identifiers_of_every_copy() {
        let source = "import os.path\nfrom .b import Store as S\n\n\nclass Cache(S):\n    items = {}\n\n    def put(self, key, value):\n        self.items[key] = os.path.join(key, value)\n        self.other.items.append(self)\n\n\ndef helper(store):\n    store.put(1, 2)\n    return helper\n";
        let facts = crate::syntax::extract(source).unwrap();
        let listed = identifier_hashes(&facts).unwrap();
        assert!(listed.len() > 10);
        assert_eq!(listed, every_identifier(&facts).unwrap());
    }
}
