//! The on-disk cache of per-file facts, so that a re-run parses only the files that changed.
//!
//! Facts depend on nothing but a file's text and the extractor, so an entry is found by the hash of
//! the decoded text alone (a copied or renamed file hits too). The build of stateleak that wrote
//! the cache is part of the file's header: a different version or build starts from empty. Should
//! extraction ever depend on a setting, that setting must join the fingerprint
//! (`build_fingerprint`); settings of the link and the rules need not, since those stages run on
//! every invocation (the link kept between runs, `crate::link_cache`, has its own key).
//!
//! Layout of `<dir>/facts.bin` (little-endian):
//!
//! ```text
//! magic "SLFACTS2" | build fingerprint u64 | entry count u32 | index checksum u64
//! entry count × (text hash u128 | age u8 | payload length u32 | payload checksum u64)
//! payloads, in entry order (postcard-encoded `CachedOutcome`)
//! ```
//!
//! The file is read whole, the index parsed and verified at once (its checksum covers the header
//! fields before it and every index entry), and each payload verified against its own checksum
//! and decoded only when (and by the worker thread that) a file asks for it. The cache is never
//! trusted: a file whose header or index fails reads as empty, and an entry that fails its checksum
//! or does not decode is a miss, so the file is parsed again and the cache rewritten without the
//! damage. A write replaces the file atomically through [`CacheDir`] (which never follows links),
//! so concurrent runs never see half a cache. The cache can make a run faster, never wrong and
//! never fail.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_64, xxh3_128};

use crate::cache_dir::CacheDir;
use crate::facts::{FileFacts, with_name_table};

const FILE_NAME: &str = "facts.bin";
const MAGIC: &[u8; 8] = b"SLFACT16";
/// Magic, fingerprint and entry count: what the index checksum covers besides the index.
const CHECKED_HEADER_LEN: usize = 8 + 8 + 4;
const HEADER_LEN: usize = CHECKED_HEADER_LEN + 8;
const INDEX_ENTRY_LEN: usize = 16 + 1 + 4 + 8;
/// An entry not used by this many consecutive writing runs is dropped, so the file tracks the
/// files being checked instead of growing with every edit.
const MAX_AGE: u8 = 4;

/// The hash by which a file's facts are found.
pub type TextHash = u128;

pub fn text_hash(text: &str) -> TextHash {
    xxh3_128(text.as_bytes())
}

/// The hash of an entry's encoded outcome: equal digests are equal encodings, which decode to
/// equal facts (`crate::run_cache`'s replay of a run whose files read the same).
pub type FactsDigest = u128;

/// The digest of an outcome extracted in this run, as its entry would be written.
pub fn outcome_digest(outcome: &CachedOutcome) -> Option<FactsDigest> {
    encoded(outcome, xxh3_128)
}

/// What extraction gave for one text: its facts, or the syntax error that stopped it. The facts
/// are shared with the link, so that the record written at the end of the run holds no copy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CachedOutcome {
    Facts(#[serde(with = "shared_facts")] Arc<FileFacts>),
    SyntaxError { line: u32, message: String },
}

/// Facts behind an `Arc`, encoded as the facts themselves (and decoded straight into the `Arc`).
mod shared_facts {
    use std::sync::Arc;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::facts::FileFacts;

    pub fn serialize<S: Serializer>(facts: &Arc<FileFacts>, out: S) -> Result<S::Ok, S::Error> {
        facts.as_ref().serialize(out)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(input: D) -> Result<Arc<FileFacts>, D::Error> {
        FileFacts::deserialize(input).map(Arc::new)
    }
}

/// One file's entry for the cache written at the end of a run.
pub struct Record {
    pub hash: TextHash,
    pub payload: Payload,
}

pub enum Payload {
    /// Found in the cache that was read: the entry's bytes are copied over unchanged.
    Hit(usize),
    /// Extracted in this run: encoded only while the cache is written, straight into the file.
    New(CachedOutcome),
}

/// The cache as read at the start of a run.
pub struct FactsCache {
    dir: CacheDir,
    fingerprint: u64,
    bytes: Vec<u8>,
    index: Vec<IndexEntry>,
    by_hash: HashMap<TextHash, usize>,
}

struct IndexEntry {
    hash: TextHash,
    age: u8,
    payload: std::ops::Range<usize>,
    checksum: u64,
}

impl FactsCache {
    /// Reads the cache in `dir`; a missing, foreign or damaged cache reads as empty.
    pub fn open(dir: &Path) -> FactsCache {
        let dir = CacheDir::new(dir);
        let mut cache = FactsCache {
            fingerprint: build_fingerprint(),
            bytes: Vec::new(),
            index: Vec::new(),
            by_hash: HashMap::new(),
            dir,
        };
        if let Ok(bytes) = cache.dir.read(FILE_NAME)
            && let Some(index) = parse_index(&bytes, cache.fingerprint)
        {
            cache.by_hash = index
                .iter()
                .enumerate()
                .map(|(i, entry)| (entry.hash, i))
                .collect();
            cache.index = index;
            cache.bytes = bytes;
        }
        cache
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The outcome cached for a text, and the entry to pass to [`FactsCache::save`]. An entry
    /// that fails its checksum or does not decode is a miss.
    pub fn get(&self, hash: TextHash) -> Option<(CachedOutcome, Record)> {
        let &entry = self.by_hash.get(&hash)?;
        let IndexEntry {
            payload, checksum, ..
        } = &self.index[entry];
        let payload = &self.bytes[payload.clone()];
        if xxh3_64(payload) != *checksum {
            return None;
        }
        let outcome = with_name_table(|| postcard::from_bytes(payload)).ok()?;
        Some((
            outcome,
            Record {
                hash,
                payload: Payload::Hit(entry),
            },
        ))
    }

    /// The entry of an outcome extracted in this run (it shares the facts).
    pub fn record(hash: TextHash, outcome: &CachedOutcome) -> Record {
        Record {
            hash,
            payload: Payload::New(outcome.clone()),
        }
    }

    /// Writes the cache for the next run: this run's records, plus the older entries that have
    /// not yet aged out. Nothing is written when every record was a hit, since the file on disk
    /// already holds them. Failing to write is not an error of the analysis and is ignored.
    /// Returns the digest of each record's entry (none for an outcome that did not encode).
    pub fn save(self, records: Vec<Record>) -> HashMap<TextHash, FactsDigest> {
        let all_hits = records.iter().all(|r| matches!(r.payload, Payload::Hit(_)));
        if all_hits && !self.index.is_empty() {
            return records
                .iter()
                .filter_map(|record| match record.payload {
                    Payload::Hit(i) => Some((
                        record.hash,
                        xxh3_128(&self.bytes[self.index[i].payload.clone()]),
                    )),
                    Payload::New(_) => None,
                })
                .collect();
        }
        let mut digests = HashMap::with_capacity(records.len());
        let mut used = vec![false; self.index.len()];
        let mut entries: Vec<Entry> = Vec::with_capacity(records.len());
        let mut seen = std::collections::HashSet::with_capacity(records.len());
        for record in &records {
            if !seen.insert(record.hash) {
                continue;
            }
            let payload = match &record.payload {
                Payload::Hit(i) => {
                    used[*i] = true;
                    let entry = &self.index[*i];
                    let bytes = &self.bytes[entry.payload.clone()];
                    digests.insert(record.hash, xxh3_128(bytes));
                    // A hit was verified against its checksum when it was read.
                    EntryPayload::Bytes(bytes, entry.checksum)
                }
                // Encoded twice, once here for the index's length and checksum and once into the
                // file, so that no run holds the encoded facts of every file at once.
                Payload::New(outcome) => match EncodedSize::of(outcome) {
                    Some(size) => {
                        digests.insert(record.hash, size.digest);
                        EntryPayload::Outcome(outcome, size)
                    }
                    None => continue,
                },
            };
            entries.push(Entry {
                hash: record.hash,
                age: 0,
                payload,
            });
        }
        for (i, entry) in self.index.iter().enumerate() {
            // An unused entry is kept only if it is intact, so that damage does not linger.
            let payload = &self.bytes[entry.payload.clone()];
            if !used[i]
                && entry.age < MAX_AGE
                && !seen.contains(&entry.hash)
                && xxh3_64(payload) == entry.checksum
            {
                entries.push(Entry {
                    hash: entry.hash,
                    age: entry.age + 1,
                    payload: EntryPayload::Bytes(payload, entry.checksum),
                });
            }
        }
        let _ = self.dir.replace(FILE_NAME, |out| {
            write_entries(out, self.fingerprint, &entries)
        });
        digests
    }
}

/// One entry of the cache file being written.
struct Entry<'a> {
    hash: TextHash,
    age: u8,
    payload: EntryPayload<'a>,
}

enum EntryPayload<'a> {
    /// Bytes of the cache that was read, verified against their checksum.
    Bytes(&'a [u8], u64),
    /// An outcome of this run, with the length and checksum of its encoding.
    Outcome(&'a CachedOutcome, EncodedSize),
}

impl EntryPayload<'_> {
    fn len_and_checksum(&self) -> (usize, u64) {
        match self {
            EntryPayload::Bytes(bytes, checksum) => (bytes.len(), *checksum),
            EntryPayload::Outcome(_, size) => (size.len, size.checksum),
        }
    }

    fn write(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match self {
            EntryPayload::Bytes(bytes, _) => out.write_all(bytes),
            EntryPayload::Outcome(outcome, _) => encoded(outcome, |bytes| out.write_all(bytes))
                .unwrap_or_else(|| {
                    Err(std::io::Error::other("an entry that encoded once did not"))
                }),
        }
    }
}

/// The length and checksum of an outcome's encoding, measured without keeping the bytes.
#[derive(Clone, Copy)]
struct EncodedSize {
    len: usize,
    checksum: u64,
    digest: FactsDigest,
}

impl EncodedSize {
    fn of(outcome: &CachedOutcome) -> Option<EncodedSize> {
        encoded(outcome, |bytes| EncodedSize {
            len: bytes.len(),
            checksum: xxh3_64(bytes),
            digest: xxh3_128(bytes),
        })
    }
}

/// Calls `f` with the encoding of `outcome`, made in a buffer this thread reuses: an entry is
/// encoded once to measure it and once to write it, and a buffer the size of one entry is all
/// either holds (the postcard writer to an `io::Write` hands over each varint on its own).
fn encoded<R>(outcome: &CachedOutcome, f: impl FnOnce(&[u8]) -> R) -> Option<R> {
    thread_local! {
        static BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
    }
    BUFFER.with(|buffer| {
        let mut buffer = buffer.borrow_mut();
        let mut bytes = std::mem::take(&mut *buffer);
        bytes.clear();
        let result = with_name_table(|| postcard::to_extend(outcome, bytes));
        match result {
            Ok(bytes) => {
                let answer = f(&bytes);
                *buffer = bytes;
                Some(answer)
            }
            Err(_) => None,
        }
    })
}

/// Reads a cache image as a run reads it, whatever build wrote it, and decodes every entry that
/// verifies; returns how many did. The fuzz target `cache_decoder` feeds it arbitrary bytes.
pub fn decode_image(bytes: &[u8]) -> usize {
    let Some(fingerprint) = bytes
        .get(8..16)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
    else {
        return 0;
    };
    let Some(index) = parse_index(bytes, fingerprint) else {
        return 0;
    };
    index
        .iter()
        .filter(|entry| {
            let payload = &bytes[entry.payload.clone()];
            xxh3_64(payload) == entry.checksum
                && with_name_table(|| postcard::from_bytes::<CachedOutcome>(payload)).is_ok()
        })
        .count()
}

/// Rewrites an arbitrary image so that it passes every check [`decode_image`] makes before it
/// decodes: the magic, payload lengths that tile the rest of the image, and the index and payload
/// checksums. Only the fuzz target uses it, so that mutated payloads reach the decoder instead of
/// stopping at a checksum.
#[doc(hidden)]
pub fn reseal_image(bytes: &mut [u8]) {
    if bytes.len() < HEADER_LEN {
        return;
    }
    bytes[..8].copy_from_slice(MAGIC);
    let room = (bytes.len() - HEADER_LEN) / INDEX_ENTRY_LEN;
    let count = (u32::from_le_bytes(bytes[16..20].try_into().unwrap()) as usize).min(room);
    bytes[16..20].copy_from_slice(&(count as u32).to_le_bytes());
    let index_end = HEADER_LEN + count * INDEX_ENTRY_LEN;
    let mut offset = index_end;
    for i in 0..count {
        let entry = HEADER_LEN + i * INDEX_ENTRY_LEN;
        let stated = u32::from_le_bytes(bytes[entry + 17..entry + 21].try_into().unwrap());
        let left = bytes.len() - offset;
        let len = if i + 1 == count {
            left
        } else {
            (stated as usize).min(left)
        };
        bytes[entry + 17..entry + 21].copy_from_slice(&(len as u32).to_le_bytes());
        let checksum = xxh3_64(&bytes[offset..offset + len]);
        bytes[entry + 21..entry + 29].copy_from_slice(&checksum.to_le_bytes());
        offset += len;
    }
    let checksum = index_checksum(&bytes[..CHECKED_HEADER_LEN], &bytes[HEADER_LEN..index_end]);
    bytes[CHECKED_HEADER_LEN..HEADER_LEN].copy_from_slice(&checksum.to_le_bytes());
}

fn index_checksum(header: &[u8], index: &[u8]) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(header);
    hasher.update(index);
    hasher.digest()
}

fn parse_index(bytes: &[u8], fingerprint: u64) -> Option<Vec<IndexEntry>> {
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..8] != MAGIC || u64::from_le_bytes(header[8..16].try_into().ok()?) != fingerprint {
        return None;
    }
    let count = u32::from_le_bytes(header[16..20].try_into().ok()?) as usize;
    let index_end = HEADER_LEN.checked_add(count.checked_mul(INDEX_ENTRY_LEN)?)?;
    let index_bytes = bytes.get(HEADER_LEN..index_end)?;
    let stored_checksum = u64::from_le_bytes(header[CHECKED_HEADER_LEN..].try_into().ok()?);
    if index_checksum(&header[..CHECKED_HEADER_LEN], index_bytes) != stored_checksum {
        return None;
    }
    let mut offset = index_end;
    let mut index = Vec::with_capacity(count);
    for entry in index_bytes.chunks_exact(INDEX_ENTRY_LEN) {
        let len = u32::from_le_bytes(entry[17..21].try_into().ok()?) as usize;
        let end = offset.checked_add(len)?;
        index.push(IndexEntry {
            hash: u128::from_le_bytes(entry[..16].try_into().ok()?),
            age: entry[16],
            payload: offset..end,
            checksum: u64::from_le_bytes(entry[21..29].try_into().ok()?),
        });
        offset = end;
    }
    (offset == bytes.len()).then_some(index)
}

fn write_entries(
    out: &mut dyn std::io::Write,
    fingerprint: u64,
    entries: &[Entry],
) -> std::io::Result<()> {
    let mut header = Vec::with_capacity(HEADER_LEN);
    header.extend_from_slice(MAGIC);
    header.extend_from_slice(&fingerprint.to_le_bytes());
    header.extend_from_slice(&(entries.len() as u32).to_le_bytes());
    let mut index = Vec::with_capacity(entries.len() * INDEX_ENTRY_LEN);
    for entry in entries {
        let (len, checksum) = entry.payload.len_and_checksum();
        index.extend_from_slice(&entry.hash.to_le_bytes());
        index.push(entry.age);
        index.extend_from_slice(&(len as u32).to_le_bytes());
        index.extend_from_slice(&checksum.to_le_bytes());
    }
    header.extend_from_slice(&index_checksum(&header, &index).to_le_bytes());
    out.write_all(&header)?;
    out.write_all(&index)?;
    for entry in entries {
        entry.payload.write(out)?;
    }
    Ok(())
}

/// Identifies the build of stateleak: its version and the size and modification time of the
/// running executable, so that any rebuild (a changed extractor or fact model) starts afresh.
pub(crate) fn build_fingerprint() -> u64 {
    let mut identity = format!("{}|", env!("CARGO_PKG_VERSION"));
    if let Ok(exe) = std::env::current_exe()
        && let Ok(metadata) = std::fs::metadata(exe)
    {
        let modified = metadata
            .modified()
            .ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_nanos());
        identity.push_str(&format!("{}|{modified}", metadata.len()));
    }
    xxhash_rust::xxh3::xxh3_64(identity.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts_with_import(name: &str) -> CachedOutcome {
        let mut facts = FileFacts::default();
        facts
            .truncated
            .push((crate::facts::Span::new(1, 2), name.into()));
        CachedOutcome::Facts(Arc::new(facts))
    }

    fn truncated_name(outcome: &CachedOutcome) -> String {
        match outcome {
            CachedOutcome::Facts(facts) => facts.truncated[0].1.to_string(),
            CachedOutcome::SyntaxError { message, .. } => message.clone(),
        }
    }

    #[test]
    fn entries_survive_a_round_trip_and_age_out() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FactsCache::open(dir.path());
        assert!(cache.is_empty());
        let a = text_hash("a = 1\n");
        let b = text_hash("b = 2\n");
        let error = CachedOutcome::SyntaxError {
            line: 3,
            message: "bad".into(),
        };
        cache.save(vec![
            FactsCache::record(a, &facts_with_import("first")),
            FactsCache::record(b, &error),
        ]);

        let cache = FactsCache::open(dir.path());
        assert_eq!(cache.len(), 2);
        let (outcome, hit) = cache.get(a).unwrap();
        assert_eq!(truncated_name(&outcome), "first");
        assert!(matches!(
            cache.get(b).unwrap().0,
            CachedOutcome::SyntaxError { line: 3, .. }
        ));
        assert!(cache.get(text_hash("c = 3\n")).is_none());

        // Runs that use only `a` (and add something new, so that they write) age `b` out.
        for round in 0..=MAX_AGE {
            let cache = FactsCache::open(dir.path());
            assert!(cache.get(b).is_some(), "round {round}");
            let (_, hit) = cache.get(a).unwrap();
            let new = text_hash(&format!("n = {round}\n"));
            cache.save(vec![hit, FactsCache::record(new, &error)]);
        }
        let cache = FactsCache::open(dir.path());
        assert!(cache.get(b).is_none());
        assert!(cache.get(a).is_some());
        drop(hit);
    }

    #[test]
    fn a_new_entry_is_written_as_its_whole_encoding() {
        let dir = tempfile::tempdir().unwrap();
        let outcome = facts_with_import("streamed");
        let a = text_hash("a = 1\n");
        FactsCache::open(dir.path()).save(vec![FactsCache::record(a, &outcome)]);
        let bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        let encoded = with_name_table(|| postcard::to_allocvec(&outcome)).unwrap();
        assert!(bytes.ends_with(&encoded));
        assert_eq!(bytes.len(), HEADER_LEN + INDEX_ENTRY_LEN + encoded.len());
        let (read, _) = FactsCache::open(dir.path()).get(a).unwrap();
        assert_eq!(truncated_name(&read), "streamed");
    }

    #[test]
    fn a_damaged_cache_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FactsCache::open(dir.path());
        let a = text_hash("a = 1\n");
        cache.save(vec![FactsCache::record(a, &facts_with_import("x"))]);
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 1);
        std::fs::write(&path, &bytes).unwrap();
        assert!(FactsCache::open(dir.path()).is_empty());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(FactsCache::open(dir.path()).is_empty());
        assert!(dir.path().join(".gitignore").exists());
    }

    #[test]
    fn resealing_leaves_a_sound_image_alone_and_lets_damaged_payloads_reach_the_decoder() {
        let payload = with_name_table(|| postcard::to_allocvec(&facts_with_import("x"))).unwrap();
        let mut image = Vec::new();
        let entry = |hash, age| Entry {
            hash,
            age,
            payload: EntryPayload::Bytes(&payload, xxh3_64(&payload)),
        };
        write_entries(&mut image, 7, &[entry(1, 0), entry(2, 1)]).unwrap();
        let mut resealed = image.clone();
        reseal_image(&mut resealed);
        assert_eq!(resealed, image);
        assert_eq!(decode_image(&image), 2);

        // A flipped payload byte fails the checksum; resealed, it reaches (and fails) decoding.
        let last = image.len() - 1;
        image[last] ^= 0xff;
        assert_eq!(decode_image(&image), 1);
        image[HEADER_LEN + 17] = 0xff;
        reseal_image(&mut image);
        assert!(parse_index(&image, 7).is_some());
    }
}
