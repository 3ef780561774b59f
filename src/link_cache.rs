//! The last run's link, kept in the cache folder so that a run in which a few files changed links
//! as the language server links after an edit ([`crate::project::Relinkable::link`]): the values
//! of names are not learnt again and the call edges of unchanged files are not resolved again.
//!
//! What is kept is what [`crate::project::callgraph::Previous`] holds: the values of names
//! (`KeptValues`) and the call graph's edges by file, and how many files mention each identifier
//! ([`MentionCounts`]). It is valid for a later link only under the same conditions as the
//! server's: the same build, the same files (paths, in order), roots and entry-point patterns,
//! and every file whose text changed reads the same for the values stage
//! ([`crate::project::values_signature`] of its facts then and now), or only appends definitions
//! that nothing resolves to or takes such definitions away ([`crate::project::values_stay`],
//! asked of the stored counts; the values and graph are then renumbered). A changed file's facts
//! then are found in the facts cache under its text hash then, and without them nothing is kept.
//! So the key is the build fingerprint, a hash of the paths, roots and patterns, and each file's
//! text hash.
//!
//! Layout of `<dir>/link.bin` (little-endian):
//!
//! ```text
//! magic "SLLINK04" | build fingerprint u64 | checksum u64 (of everything after it)
//! key u128 | file count u32 | file count × text hash u128
//! files with unlisted identifiers u32 | count u32 | count × (identifier hash u64, files u32)
//! function count u32 | class count u32 | values | call graph
//! ```
//!
//! Like every cache, it is never trusted: a file whose checksum fails, whose key differs, or whose
//! values or graph name anything the project does not have, is ignored (a full link), and it is
//! replaced atomically through [`CacheDir`].

use std::io::{Seek, Write};
use std::path::{Path, PathBuf};

use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::cache::TextHash;
use crate::cache_dir::CacheDir;
use crate::project::callgraph::{CallGraph, Previous};
use crate::project::{FileId, KeptValues, MentionCounts, OldFacts, Project};

const FILE_NAME: &str = "link.bin";
const MAGIC: &[u8; 8] = b"SLLINK04";
const HEADER_LEN: usize = 8 + 8 + 8;

/// What a link depends on besides the files' facts: the build, the paths in order, the roots
/// and the entry-point patterns, and each file's text.
#[derive(PartialEq, Eq)]
pub struct LinkKey {
    key: u128,
    texts: Vec<TextHash>,
}

impl LinkKey {
    /// The key of a link of `files` (path and text hash, in link order) with these roots and
    /// entry-point patterns.
    pub fn new<'a>(
        files: impl Iterator<Item = (&'a Path, TextHash)>,
        roots: &[PathBuf],
        entry_points: &[String],
    ) -> LinkKey {
        let mut hasher = Xxh3::new();
        let mut field = |bytes: &[u8]| {
            hasher.update(&(bytes.len() as u64).to_le_bytes());
            hasher.update(bytes);
        };
        field(&crate::cache::build_fingerprint().to_le_bytes());
        field(&(roots.len() as u64).to_le_bytes());
        for root in roots {
            field(root.as_os_str().as_encoded_bytes());
        }
        field(&(entry_points.len() as u64).to_le_bytes());
        for pattern in entry_points {
            field(pattern.as_bytes());
        }
        let mut texts = Vec::new();
        for (path, text) in files {
            field(path.as_os_str().as_encoded_bytes());
            texts.push(text);
        }
        LinkKey {
            key: hasher.digest128(),
            texts,
        }
    }
}

/// A stored link whose key matched but for the texts of some files.
pub struct StoredLink {
    bytes: Vec<u8>,
    /// Where the counts of mentions start in `bytes`.
    mentions: usize,
    /// Where the values start in `bytes`.
    rest: usize,
    /// The files whose text changed since, with their text hash then.
    pub changed: Vec<(FileId, TextHash)>,
    /// The counts, values and graph decoded while the files' facts were read ([`read_ahead`]).
    ahead: Option<Ahead>,
}

/// What [`read_ahead`] decoded of a stored link, for a project of `files` files (the key's).
struct Ahead {
    files: u32,
    mentions: Option<MentionCounts>,
    /// The stored numbers of functions and classes, and the values and graph decoded for them
    /// (`None` when they do not decode, or not to the end).
    counts: Option<(u32, u32)>,
    kept: Option<(KeptValues, CallGraph)>,
}

/// The link stored in `dir` for the files of `key`, if its checksum, build, files, roots and
/// patterns match; only the texts may differ ([`StoredLink::changed`]).
pub fn read(dir: &Path, key: &LinkKey) -> Option<StoredLink> {
    let bytes = CacheDir::new(dir).read(FILE_NAME).ok()?;
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..8] != MAGIC
        || header[8..16] != crate::cache::build_fingerprint().to_le_bytes()
        || header[16..24] != xxh3_64(&bytes[HEADER_LEN..]).to_le_bytes()
    {
        return None;
    }
    let mut input = Decoder::new(&bytes[HEADER_LEN..]);
    if input.u128()? != key.key || input.len(16)? != key.texts.len() {
        return None;
    }
    let mut changed = Vec::new();
    for (file, now) in key.texts.iter().enumerate() {
        let then = input.u128()?;
        if then != *now {
            changed.push((file as FileId, then));
        }
    }
    // The counts of mentions are read only when asked for.
    let mentions = bytes.len() - input.bytes.len();
    input.u32()?;
    let counts = input.len(12)?;
    input.bytes = &input.bytes[12 * counts..];
    let rest = bytes.len() - input.bytes.len();
    Some(StoredLink {
        bytes,
        mentions,
        rest,
        changed,
        ahead: None,
    })
}

/// [`read`], and what [`StoredLink::mentions`] and [`StoredLink::previous`] decode, decoded now
/// for the key's number of files and the stored numbers of functions and classes: a run reads
/// the stored link on one thread while the other reads the files' facts, instead of after them
/// with the other thread idle. Those two then give what they would have decoded (the same bytes
/// with the same numbers), or decode again when asked of other numbers.
pub fn read_ahead(dir: &Path, key: &LinkKey) -> Option<StoredLink> {
    let mut stored = read(dir, key)?;
    let files = key.texts.len() as u32;
    let mentions = stored.mentions(files);
    let mut input = Decoder::new(&stored.bytes[stored.rest..]);
    let counts = input.u32().zip(input.u32());
    let kept = counts.and_then(|(functions, classes)| {
        let values = KeptValues::decode(&mut input, functions, classes)?;
        let call_graph = CallGraph::decode_kept(&mut input, files, functions, classes)?;
        input.bytes.is_empty().then_some((values, call_graph))
    });
    stored.ahead = Some(Ahead {
        files,
        mentions,
        counts,
        kept,
    });
    Some(stored)
}

impl StoredLink {
    /// How many files mentioned each identifier in the stored link; `None` when the stored
    /// counts are not of a project of `files` files.
    pub fn mentions(&mut self, files: u32) -> Option<MentionCounts> {
        if let Some(mentions) = self
            .ahead
            .as_mut()
            .filter(|ahead| ahead.files == files)
            .and_then(|ahead| ahead.mentions.take())
        {
            return Some(mentions);
        }
        MentionCounts::decode(
            &mut Decoder::new(&self.bytes[self.mentions..self.rest]),
            files,
        )
    }

    /// What the next link may start from, for `files` files whose facts had `functions`
    /// functions and `classes` classes in all when the link was stored; `old_facts` are the
    /// facts then of the changed files whose numbers of classes or functions changed since, or
    /// that read otherwise for the values stage (see
    /// [`Previous::old_facts`]). `None` when the stored values and graph are not of such a
    /// project.
    pub fn previous(
        self,
        files: u32,
        functions: u32,
        classes: u32,
        old_facts: Vec<OldFacts>,
    ) -> Option<Previous> {
        let (values, call_graph) = match self.ahead {
            Some(ahead) if ahead.files == files => {
                if ahead.counts? != (functions, classes) {
                    return None;
                }
                ahead.kept?
            }
            _ => {
                let mut input = Decoder::new(&self.bytes[self.rest..]);
                if input.u32()? != functions || input.u32()? != classes {
                    return None;
                }
                let values = KeptValues::decode(&mut input, functions, classes)?;
                let call_graph = CallGraph::decode_kept(&mut input, files, functions, classes)?;
                if !input.bytes.is_empty() {
                    return None;
                }
                (values, call_graph)
            }
        };
        Some(Previous {
            values,
            call_graph,
            changed: self.changed.iter().map(|(file, _)| *file).collect(),
            edited: None,
            old_facts,
        })
    }
}

/// Stores the link of `project` (whose values are `values`, and whose files' mentions are
/// `mentions`) under `key`, replacing the stored one. Nothing is written when the graph kept no
/// edges by file; failing to write is ignored. The encoding goes to the file as it is made, in
/// pieces of [`SPILL`] bytes, and the checksum is written into the header last: no run holds the
/// whole encoding (8 MB on the benchmark corpus, and its growth by doubling), which was live
/// beside the model as it was built.
pub fn save(
    dir: &Path,
    key: &LinkKey,
    project: &Project,
    values: &KeptValues,
    mentions: &MentionCounts,
) {
    let _ = CacheDir::new(dir).replace_file(FILE_NAME, |file| {
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&crate::cache::build_fingerprint().to_le_bytes());
        header.extend_from_slice(&0u64.to_le_bytes());
        let mut writer = std::io::BufWriter::with_capacity(SPILL, &mut *file);
        writer.write_all(&header)?;
        let mut hasher = Xxh3::new();
        let mut failed = None;
        let mut sink = |bytes: &[u8]| {
            hasher.update(bytes);
            if failed.is_none()
                && let Err(error) = writer.write_all(bytes)
            {
                failed = Some(error);
            }
        };
        let mut out = Encoder(Vec::with_capacity(2 * SPILL), Some(&mut sink));
        out.u128(key.key);
        out.len(key.texts.len());
        for text in &key.texts {
            out.u128(*text);
        }
        mentions.encode(&mut out);
        out.u32(project.function_count() as u32);
        let classes: usize = project.files.iter().map(|f| f.facts.classes.len()).sum();
        out.u32(classes as u32);
        values.encode(&mut out);
        if !project.call_graph().encode_kept(&mut out) {
            // The temporary file is removed, the stored link left as it was.
            return Err(std::io::Error::other("the graph kept no edges by file"));
        }
        out.flush();
        drop(out);
        if let Some(error) = failed {
            return Err(error);
        }
        writer.flush()?;
        drop(writer);
        file.seek(std::io::SeekFrom::Start(16))?;
        file.write_all(&hasher.digest().to_le_bytes())
    });
}

/// How many encoded bytes [`Encoder`] gathers before it hands them on, when it streams.
const SPILL: usize = 64 * 1024;

/// Little-endian bytes of the stored link, written by the parts that own what they store: kept
/// in the vector, or handed to the sink (then cleared) each time they pass [`SPILL`] bytes.
pub(crate) struct Encoder<'a>(Vec<u8>, Option<Sink<'a>>);

/// Where a streaming [`Encoder`] hands its bytes.
type Sink<'a> = &'a mut dyn FnMut(&[u8]);

impl Encoder<'_> {
    /// Hands the bytes gathered to the sink, if there is one and they are many (or `all`).
    #[inline]
    fn spill(&mut self, all: bool) {
        if let Some(sink) = &mut self.1
            && (all || self.0.len() >= SPILL)
        {
            sink(&self.0);
            self.0.clear();
        }
    }

    /// Hands every byte gathered to the sink (when there is one).
    fn flush(&mut self) {
        self.spill(true);
    }

    pub(crate) fn u8(&mut self, value: u8) {
        self.0.push(value);
        self.spill(false);
    }

    pub(crate) fn u32(&mut self, value: u32) {
        self.0.extend_from_slice(&value.to_le_bytes());
        self.spill(false);
    }

    pub(crate) fn u64(&mut self, value: u64) {
        self.0.extend_from_slice(&value.to_le_bytes());
        self.spill(false);
    }

    pub(crate) fn u128(&mut self, value: u128) {
        self.0.extend_from_slice(&value.to_le_bytes());
        self.spill(false);
    }

    /// A count, then that many numbers.
    pub(crate) fn u32s(&mut self, values: &[u32]) {
        self.len(values.len());
        for chunk in values.chunks(SPILL / 4) {
            self.0.reserve(4 * chunk.len());
            for value in chunk {
                self.0.extend_from_slice(&value.to_le_bytes());
            }
            self.spill(false);
        }
    }

    /// A count of items (or bytes) that follow.
    pub(crate) fn len(&mut self, len: usize) {
        self.u32(len as u32);
    }

    pub(crate) fn str(&mut self, text: &str) {
        self.len(text.len());
        self.0.extend_from_slice(text.as_bytes());
        self.spill(false);
    }
}

/// Reads what [`Encoder`] wrote; every read past the end is `None`.
pub(crate) struct Decoder<'a> {
    bytes: &'a [u8],
}

impl<'a> Decoder<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Decoder { bytes }
    }

    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.bytes.split_first_chunk::<N>()?;
        self.bytes = rest;
        Some(*head)
    }

    pub(crate) fn u8(&mut self) -> Option<u8> {
        self.take::<1>().map(|[b]| b)
    }

    pub(crate) fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }

    pub(crate) fn u64(&mut self) -> Option<u64> {
        self.take().map(u64::from_le_bytes)
    }

    pub(crate) fn u128(&mut self) -> Option<u128> {
        self.take().map(u128::from_le_bytes)
    }

    /// A count of items that take at least `item_bytes` each: one the rest of the bytes cannot
    /// hold is `None`, so that no damaged count makes a large allocation.
    pub(crate) fn len(&mut self, item_bytes: usize) -> Option<usize> {
        let len = self.u32()? as usize;
        (len.checked_mul(item_bytes)? <= self.bytes.len()).then_some(len)
    }

    /// What [`Encoder::u32s`] wrote.
    pub(crate) fn u32s(&mut self) -> Option<Vec<u32>> {
        let len = self.len(4)?;
        let (numbers, rest) = self.bytes.split_at(4 * len);
        self.bytes = rest;
        Some(
            numbers
                .chunks_exact(4)
                .map(|n| u32::from_le_bytes([n[0], n[1], n[2], n[3]]))
                .collect(),
        )
    }

    pub(crate) fn str(&mut self) -> Option<&'a str> {
        let len = self.len(1)?;
        let (text, rest) = self.bytes.split_at(len);
        self.bytes = rest;
        std::str::from_utf8(text).ok()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::project::LinkInput;

    const SOURCE: &str = "class A:\n    def m(self):\n        return B\n\n\nclass B:\n    pass\n\n\ndef make():\n    return A\n\n\nx = make()\nx().m()\n";

    /// `source` as the file `app/a.py`, linked keeping its values, and the values and the call
    /// graph encoded as the link cache stores them, with the project's number of functions.
    fn linked_and_encoded(source: &str) -> (Project, Encoder<'static>, u32) {
        let facts = crate::syntax::extract(source).expect("parses");
        let inputs = vec![LinkInput {
            path: "app/a.py".into(),
            facts: Arc::new(facts),
        }];
        let (project, values) = Project::link_keeping_values(inputs, &[], &[]);
        let functions = project.function_count() as u32;
        let mut out = Encoder(Vec::new(), None);
        values.encode(&mut out);
        assert!(project.call_graph().encode_kept(&mut out));
        (project, out, functions)
    }

    #[test]
    fn every_kind_of_edge_survives_a_round_trip() {
        const KINDS: &str = "import threading\n\n_hooks = []\n\n\ndef deco(f):\n    return f\n\n\ndef keep(h):\n    _hooks.append(h)\n\n\n@deco\ndef run():\n    def job():\n        pass\n\n    keep(job)\n    threading.Thread(target=job)\n    keep(job)\n";
        let (project, out, functions) = linked_and_encoded(KINDS);
        let mut input = Decoder::new(&out.0);
        KeptValues::decode(&mut input, functions, 0).expect("values");
        let graph = CallGraph::decode_kept(&mut input, 1, functions, 0).expect("graph");
        let kinds = |graph: &CallGraph| -> Vec<(u32, u32, crate::project::EdgeKind)> {
            (0..functions)
                .flat_map(|f| {
                    graph
                        .callees(crate::project::FuncId(f))
                        .iter()
                        .map(move |e| (f, e.to.0, e.kind))
                })
                .collect()
        };
        let before = kinds(project.call_graph());
        assert!(
            before
                .iter()
                .any(|e| e.2 == crate::project::EdgeKind::HandedOver)
        );
        assert!(
            before
                .iter()
                .any(|e| e.2 == crate::project::EdgeKind::Callback)
        );
        assert_eq!(kinds(&graph), before);
    }

    #[test]
    fn values_and_graph_survive_a_round_trip_and_other_counts_are_refused() {
        let (_, out, functions) = linked_and_encoded(SOURCE);

        let mut input = Decoder::new(&out.0);
        let values = KeptValues::decode(&mut input, functions, 2).expect("values");
        let graph = CallGraph::decode_kept(&mut input, 1, functions, 2).expect("graph");
        assert!(input.bytes.is_empty());
        let mut again = Encoder(Vec::new(), None);
        values.encode(&mut again);
        assert!(graph.encode_kept(&mut again));
        assert_eq!(again.0, out.0);

        // `make` returns the class `A`: a project without classes cannot hold it; nor can a
        // graph of another number of functions or files be this one.
        assert!(KeptValues::decode(&mut Decoder::new(&out.0), functions, 0).is_none());
        let mut input = Decoder::new(&out.0);
        KeptValues::decode(&mut input, functions, 2).expect("values");
        let rest = input.bytes;
        assert!(CallGraph::decode_kept(&mut Decoder::new(rest), 1, functions + 1, 2).is_none());
        assert!(CallGraph::decode_kept(&mut Decoder::new(rest), 2, functions, 2).is_none());
    }

    /// What `read_ahead` decodes while the facts are read is what `read` and the link's
    /// questions decode after them, and other counts or files are refused by both.
    #[test]
    fn what_is_read_ahead_is_what_is_read_after() {
        let facts = Arc::new(crate::syntax::extract(SOURCE).expect("parses"));
        let inputs = vec![LinkInput {
            path: "app/a.py".into(),
            facts: Arc::clone(&facts),
        }];
        let (project, values) = Project::link_keeping_values(inputs, &[], &[]);
        let functions = project.function_count() as u32;
        let mentions = MentionCounts::of(vec![&*facts]);
        let dir = tempfile::tempdir().unwrap();
        let key = LinkKey::new([(Path::new("app/a.py"), 7)].into_iter(), &[], &[]);
        save(dir.path(), &key, &project, &values, &mentions);
        let encoded = |previous: Previous| {
            let mut out = Encoder(Vec::new(), None);
            previous.values.encode(&mut out);
            assert!(previous.call_graph.encode_kept(&mut out));
            out.0
        };
        let mut ahead = read_ahead(dir.path(), &key).expect("stored");
        let mut after = read(dir.path(), &key).expect("stored");
        assert_eq!(ahead.mentions(1), Some(mentions));
        assert_eq!(after.mentions(1), ahead.mentions(1));
        let (ahead, after) = (
            ahead.previous(1, functions, 2, Vec::new()).expect("kept"),
            after.previous(1, functions, 2, Vec::new()).expect("kept"),
        );
        assert_eq!(encoded(ahead), encoded(after));

        let ahead = || read_ahead(dir.path(), &key).expect("stored");
        assert!(ahead().previous(1, functions + 1, 2, Vec::new()).is_none());
        assert!(ahead().previous(1, functions, 1, Vec::new()).is_none());
        assert!(ahead().previous(2, functions, 2, Vec::new()).is_none());
        assert!(ahead().mentions(0).is_none());
        let other = LinkKey::new([(Path::new("app/b.py"), 7)].into_iter(), &[], &[]);
        assert!(read_ahead(dir.path(), &other).is_none());
        // Another text of the same file is a change, read ahead as after.
        let edited = LinkKey::new([(Path::new("app/a.py"), 8)].into_iter(), &[], &[]);
        assert_eq!(
            read_ahead(dir.path(), &edited).expect("stored").changed,
            vec![(0, 7)]
        );
    }

    #[test]
    fn a_slot_is_decoded_as_its_values_were_added_and_one_holding_a_value_twice_is_refused() {
        // No external names, one slot at place 0, holding `values` (kind, id) in that order.
        let stored = |values: &[(u8, u32)]| {
            let mut out = Encoder(Vec::new(), None);
            out.len(0);
            out.u32s(&[0]);
            out.len(1);
            out.len(values.len());
            for (kind, id) in values {
                out.u8(*kind);
                out.u32(*id);
            }
            out.0
        };
        let decoded = |bytes: &[u8]| KeptValues::decode(&mut Decoder::new(bytes), 100, 100);
        // Distinct values, up to the most a slot holds, many of them sharing a slot's bit: read
        // back, in their order.
        for count in [0, 1, 2, 3, 31, 32] {
            let values: Vec<(u8, u32)> = (0..count).map(|i| ((i % 3) as u8, i / 3)).collect();
            let bytes = stored(&values);
            let kept = decoded(&bytes).expect("distinct values are read");
            let mut again = Encoder(Vec::new(), None);
            kept.encode(&mut again);
            assert_eq!(again.0, bytes, "{count} values");
        }
        // A value held twice, next to itself or apart, and one more than a slot holds.
        assert!(decoded(&stored(&[(0, 1), (0, 1)])).is_none());
        assert!(decoded(&stored(&[(2, 5), (0, 1), (1, 5), (2, 5)])).is_none());
        let too_many: Vec<(u8, u32)> = (0..33).map(|i| (0, i)).collect();
        assert!(decoded(&stored(&too_many)).is_none());
    }

    #[test]
    fn a_count_the_bytes_cannot_hold_is_refused() {
        let bytes = [0xff, 0xff, 0xff, 0x7f, 1, 2, 3];
        assert_eq!(Decoder::new(&bytes).len(1), None);
        assert_eq!(Decoder::new(&bytes).u32s(), None);
        assert_eq!(
            Decoder::new(&[3, 0, 0, 0, b'a', b'b', b'c']).str(),
            Some("abc")
        );
    }
}
