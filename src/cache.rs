//! The on-disk cache of per-file facts, so that a re-run parses only the files that changed.
//!
//! Facts depend on nothing but a file's text and the extractor, so an entry is found by the hash of
//! the decoded text alone (a copied or renamed file hits too). The build of stateleak that wrote
//! the cache is part of the file's header: a different version or build starts from empty. Should
//! extraction ever depend on a setting, that setting must join the fingerprint
//! (`build_fingerprint`); settings of the link and the rules need not, since those stages run on
//! every invocation.
//!
//! Layout of `<dir>/facts.bin` (little-endian):
//!
//! ```text
//! magic "SLFACTS1" | build fingerprint u64 | entry count u32
//! entry count × (text hash u128 | age u8 | payload length u32)
//! payloads, in entry order (postcard-encoded `CachedOutcome`)
//! ```
//!
//! The file is read whole, the index parsed at once, and each payload decoded only when (and by
//! the worker thread that) a file asks for it. A write replaces the file atomically (temporary file,
//! then rename), so concurrent runs never see half a cache. Anything unexpected in the file makes
//! it count as empty: the cache can make a run faster, never wrong and never fail.

use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::xxh3_128;

use crate::facts::FileFacts;

/// The cache folder, relative to the working directory.
pub const DEFAULT_DIR: &str = ".stateleak_cache";

const FILE_NAME: &str = "facts.bin";
const MAGIC: &[u8; 8] = b"SLFACTS1";
const HEADER_LEN: usize = 8 + 8 + 4;
const INDEX_ENTRY_LEN: usize = 16 + 1 + 4;
/// An entry not used by this many consecutive writing runs is dropped, so the file tracks the
/// files being checked instead of growing with every edit.
const MAX_AGE: u8 = 4;

/// The hash by which a file's facts are found.
pub type TextHash = u128;

pub fn text_hash(text: &str) -> TextHash {
    xxh3_128(text.as_bytes())
}

/// What extraction gave for one text: its facts, or the syntax error that stopped it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub enum CachedOutcome {
    Facts(Box<FileFacts>),
    SyntaxError { line: u32, message: String },
}

/// One file's entry for the cache written at the end of a run.
pub struct Record {
    pub hash: TextHash,
    pub payload: Payload,
}

pub enum Payload {
    /// Found in the cache that was read: the entry's bytes are copied over unchanged.
    Hit(usize),
    /// Extracted in this run and encoded.
    New(Vec<u8>),
}

/// The cache as read at the start of a run.
pub struct FactsCache {
    dir: PathBuf,
    fingerprint: u64,
    bytes: Vec<u8>,
    /// Per entry: hash, age, and payload range in `bytes`.
    index: Vec<(TextHash, u8, std::ops::Range<usize>)>,
    by_hash: HashMap<TextHash, usize>,
}

impl FactsCache {
    /// Reads the cache in `dir`; a missing, foreign or damaged cache reads as empty.
    pub fn open(dir: &Path) -> FactsCache {
        let mut cache = FactsCache {
            dir: dir.to_path_buf(),
            fingerprint: build_fingerprint(),
            bytes: Vec::new(),
            index: Vec::new(),
            by_hash: HashMap::new(),
        };
        if let Ok(bytes) = std::fs::read(dir.join(FILE_NAME))
            && let Some(index) = parse_index(&bytes, cache.fingerprint)
        {
            cache.by_hash = index
                .iter()
                .enumerate()
                .map(|(i, (hash, _, _))| (*hash, i))
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

    /// The outcome cached for a text, and the entry to pass to [`FactsCache::save`].
    pub fn get(&self, hash: TextHash) -> Option<(CachedOutcome, Record)> {
        let &entry = self.by_hash.get(&hash)?;
        let range = self.index[entry].2.clone();
        let outcome = postcard::from_bytes(&self.bytes[range]).ok()?;
        Some((
            outcome,
            Record {
                hash,
                payload: Payload::Hit(entry),
            },
        ))
    }

    /// Encodes an outcome extracted in this run.
    pub fn record(hash: TextHash, outcome: &CachedOutcome) -> Option<Record> {
        let payload = postcard::to_stdvec(outcome).ok()?;
        Some(Record {
            hash,
            payload: Payload::New(payload),
        })
    }

    /// Writes the cache for the next run: this run's records, plus the older entries that have
    /// not yet aged out. Nothing is written when every record was a hit, since the file on disk
    /// already holds them. Failing to write is not an error of the analysis and is ignored.
    pub fn save(self, records: Vec<Record>) {
        let all_hits = records.iter().all(|r| matches!(r.payload, Payload::Hit(_)));
        if all_hits && !self.index.is_empty() {
            return;
        }
        let mut used = vec![false; self.index.len()];
        let mut entries: Vec<(TextHash, u8, &[u8])> = Vec::with_capacity(records.len());
        let mut seen = std::collections::HashSet::with_capacity(records.len());
        for record in &records {
            if !seen.insert(record.hash) {
                continue;
            }
            match &record.payload {
                Payload::Hit(i) => {
                    used[*i] = true;
                    entries.push((record.hash, 0, &self.bytes[self.index[*i].2.clone()]));
                }
                Payload::New(bytes) => entries.push((record.hash, 0, bytes)),
            }
        }
        for (i, (hash, age, range)) in self.index.iter().enumerate() {
            if !used[i] && *age < MAX_AGE && !seen.contains(hash) {
                entries.push((*hash, age + 1, &self.bytes[range.clone()]));
            }
        }
        let _ = write_atomically(&self.dir, self.fingerprint, &entries);
    }
}

fn parse_index(
    bytes: &[u8],
    fingerprint: u64,
) -> Option<Vec<(TextHash, u8, std::ops::Range<usize>)>> {
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..8] != MAGIC || u64::from_le_bytes(header[8..16].try_into().ok()?) != fingerprint {
        return None;
    }
    let count = u32::from_le_bytes(header[16..20].try_into().ok()?) as usize;
    let index_end = HEADER_LEN.checked_add(count.checked_mul(INDEX_ENTRY_LEN)?)?;
    let index_bytes = bytes.get(HEADER_LEN..index_end)?;
    let mut offset = index_end;
    let mut index = Vec::with_capacity(count);
    for entry in index_bytes.chunks_exact(INDEX_ENTRY_LEN) {
        let hash = u128::from_le_bytes(entry[..16].try_into().ok()?);
        let age = entry[16];
        let len = u32::from_le_bytes(entry[17..21].try_into().ok()?) as usize;
        let end = offset.checked_add(len)?;
        index.push((hash, age, offset..end));
        offset = end;
    }
    (offset == bytes.len()).then_some(index)
}

fn write_atomically(
    dir: &Path,
    fingerprint: u64,
    entries: &[(TextHash, u8, &[u8])],
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    // Keep the cache out of version control and backups wherever it is created.
    let gitignore = dir.join(".gitignore");
    if !gitignore.exists() {
        std::fs::write(&gitignore, "# Created by stateleak.\n*\n")?;
        std::fs::write(
            dir.join("CACHEDIR.TAG"),
            "Signature: 8a477f597d28d172789f06886806bc55\n# stateleak's cache of per-file facts.\n",
        )?;
    }
    let temporary = dir.join(format!("{FILE_NAME}.{}.tmp", std::process::id()));
    let write = || -> std::io::Result<()> {
        // Streamed: the payloads are already encoded, so nothing is copied into one big buffer.
        let mut out =
            std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&temporary)?);
        let mut header = Vec::with_capacity(HEADER_LEN);
        header.extend_from_slice(MAGIC);
        header.extend_from_slice(&fingerprint.to_le_bytes());
        header.extend_from_slice(&(entries.len() as u32).to_le_bytes());
        out.write_all(&header)?;
        for (hash, age, payload) in entries {
            let mut index_entry = [0u8; INDEX_ENTRY_LEN];
            index_entry[..16].copy_from_slice(&hash.to_le_bytes());
            index_entry[16] = *age;
            index_entry[17..].copy_from_slice(&(payload.len() as u32).to_le_bytes());
            out.write_all(&index_entry)?;
        }
        for (_, _, payload) in entries {
            out.write_all(payload)?;
        }
        out.into_inner().map_err(|e| e.into_error())?;
        std::fs::rename(&temporary, dir.join(FILE_NAME))
    };
    // A cache left half-written must not linger (the rename makes the new file visible at once).
    write().inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// Identifies the build of stateleak: its version and the size and modification time of the
/// running executable, so that any rebuild (a changed extractor or fact model) starts afresh.
fn build_fingerprint() -> u64 {
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
        CachedOutcome::Facts(Box::new(facts))
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
            FactsCache::record(a, &facts_with_import("first")).unwrap(),
            FactsCache::record(b, &error).unwrap(),
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
            cache.save(vec![hit, FactsCache::record(new, &error).unwrap()]);
        }
        let cache = FactsCache::open(dir.path());
        assert!(cache.get(b).is_none());
        assert!(cache.get(a).is_some());
        drop(hit);
    }

    #[test]
    fn a_damaged_cache_reads_as_empty() {
        let dir = tempfile::tempdir().unwrap();
        let cache = FactsCache::open(dir.path());
        let a = text_hash("a = 1\n");
        cache.save(vec![
            FactsCache::record(a, &facts_with_import("x")).unwrap(),
        ]);
        let path = dir.path().join(FILE_NAME);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 1);
        std::fs::write(&path, &bytes).unwrap();
        assert!(FactsCache::open(dir.path()).is_empty());
        std::fs::write(&path, b"garbage").unwrap();
        assert!(FactsCache::open(dir.path()).is_empty());
        assert!(dir.path().join(".gitignore").exists());
    }
}
