//! The result of a whole run, replayed when nothing changed: the common pre-commit and CI case.
//!
//! A run's result depends on the build of stateleak, the settings that shape it (every folder's,
//! and the options of the command line that change findings) and the text of every checked file,
//! nothing else: the files are read again on replay only for snippets. So a run is stored under
//! the hash of all of them, and a later run that computes the same key replays it without parsing,
//! linking or running a rule.
//!
//! Layout of `<cache dir>/run-<slot>.bin` (little-endian), written through [`CacheDir`]:
//!
//! ```text
//! magic "SLRUN001" | checksum u64 (XXH3 of what follows) | run key u128 | postcard `StoredRun`
//! ```
//!
//! The slot comes from the build, the checked paths and the settings without the files' texts,
//! so each way of invoking stateleak on a project keeps one file, replaced when its files change;
//! only the [`KEPT_SLOTS`] most recently written slots are kept. A file that is missing, foreign,
//! damaged or for other texts is a miss, and the run takes the long way (and rewrites it).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use xxhash_rust::xxh3::{Xxh3, xxh3_64};

use crate::cache::{FactsDigest, TextHash};
use crate::cache_dir::CacheDir;
use crate::check::{CheckOptions, CheckResult, FileError, Finding};
use crate::suppression::UnusedSuppression;

const MAGIC: &[u8; 8] = b"SLRUN002";
const HEADER_LEN: usize = 8 + 8 + 16;
const FILE_PREFIX: &str = "run-";
/// Ways of invoking stateleak whose last results are kept (each is one file).
pub const KEPT_SLOTS: usize = 8;

/// Identifies a run: the build, the settings and the checked files with the hashes of their texts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RunKey {
    /// The build, the paths and the settings: names the file.
    slot: u64,
    /// The slot, the files' texts and the files a run reports on.
    run: u128,
}

impl RunKey {
    /// `files` are the checked files in discovery order and `hashes` the hashes of their texts;
    /// `missing_paths` whether an explicit path did not exist (it is part of the result).
    pub fn new(
        options: &CheckOptions,
        files: &[PathBuf],
        hashes: &[TextHash],
        missing_paths: bool,
    ) -> Self {
        let slot = xxh3_64(settings_identity(options, files).as_bytes());
        RunKey {
            slot,
            run: files_hash(slot, b"texts", options, files, Some(hashes), missing_paths),
        }
    }

    /// This run's files (their paths, not their texts), whether an explicit path was missing and
    /// the files reported on: what a stored run must share to be replayed for files that read
    /// the same ([`load_same_facts`]).
    pub fn files(&self, options: &CheckOptions, files: &[PathBuf], missing_paths: bool) -> u128 {
        files_hash(self.slot, b"files", options, files, None, missing_paths)
    }

    fn file_name(&self) -> String {
        format!("{FILE_PREFIX}{:016x}.bin", self.slot)
    }
}

/// The slot with each file and the hash of its text when given (`kind` tells the two apart),
/// whether an explicit path was missing and the files reported on.
fn files_hash(
    slot: u64,
    kind: &[u8],
    options: &CheckOptions,
    files: &[PathBuf],
    hashes: Option<&[TextHash]>,
    missing_paths: bool,
) -> u128 {
    let mut hasher = Xxh3::new();
    hasher.update(&slot.to_le_bytes());
    hasher.update(kind);
    hasher.update(&[u8::from(missing_paths)]);
    for (i, path) in files.iter().enumerate() {
        update_with_path(&mut hasher, path);
        if let Some(hashes) = hashes {
            hasher.update(&hashes[i].to_le_bytes());
        }
    }
    // The files reported on change with every commit a hook checks: they choose the result,
    // not the slot.
    if let Some(named) = &options.report_only {
        hasher.update(b"report only");
        let mut named: Vec<PathBuf> = named.iter().map(|p| crate::config::absolute(p)).collect();
        named.sort();
        for path in &named {
            update_with_path(&mut hasher, path);
        }
    }
    hasher.digest128()
}

/// Lengths first, so that no two lists of paths hash the same bytes.
fn update_with_path(hasher: &mut Xxh3, path: &Path) {
    let bytes = path.as_os_str().as_encoded_bytes();
    hasher.update(&(bytes.len() as u64).to_le_bytes());
    hasher.update(bytes);
}

/// Everything besides the files' texts that shapes a run's result. The exclusion filter is left
/// out: it only chooses the files, and those are part of the key. The output format is too: the
/// stored result is rendered afresh by each run.
fn settings_identity(options: &CheckOptions, files: &[PathBuf]) -> String {
    let rules: Vec<&str> = options.rules.iter().map(|r| r.meta().code).collect();
    let ignores = options.per_file_ignores.identity();
    let folders = options
        .folder_settings
        .as_ref()
        .map(|folders| folders.fingerprint(files));
    format!(
        "build {:x}|paths {:?}|rules {rules:?}|settings {:?}|max size {}|ignores {ignores:?}|\
         src {:?}|unused {}|fixes {:?}|folders {folders:?}",
        crate::cache::build_fingerprint(),
        options.paths,
        options.rule_settings,
        options.max_file_size,
        options.src,
        options.report_unused_suppressions,
        options.fixes,
    )
}

/// What a run stores: its result without timings and warnings, and without the texts of the files
/// its findings point into (their paths only: the texts are read again on replay).
#[derive(Serialize, Deserialize)]
struct StoredRun {
    files_checked: usize,
    files_analysed: usize,
    findings: Vec<Finding>,
    errors: Vec<FileError>,
    source_paths: Vec<PathBuf>,
    missing_paths: bool,
    unused_suppressions: Vec<UnusedSuppression>,
    suppressed: usize,
    /// What lets a run whose texts differ replay this one, when it was stored with it.
    same_facts: Option<SameFacts>,
}

/// What a run's result depends on besides the settings and the paths, when its texts are not the
/// same: each file's facts, and where the result turned byte offsets into lines and columns, the
/// layout of the texts there.
///
/// Every stage after extraction reads a file only through its facts, except the turning of byte
/// offsets into lines and columns (the findings' places, also of those suppression comments drop
/// later, the lines of entry paths and of truncation errors), which reads the text before the
/// offset and the byte at it. So a run whose files read the same, and whose texts are laid out the
/// same up to and including the last offset turned in each file, has this result, and replaying it
/// is exact: a comment appended to a file, or edited where no place of the result comes after it
/// on its line or below it, and facts that do not change.
#[derive(Clone, Serialize, Deserialize)]
pub struct SameFacts {
    /// [`RunKey::files`] of the run.
    pub files: u128,
    /// Each file's text hash then, in order: a file whose text hashes the same reads the same.
    pub texts: Vec<TextHash>,
    /// The digest of each file's facts then ([`crate::cache::FactsDigest`]), in order.
    pub digests: Vec<FactsDigest>,
    /// The files the result turned offsets in.
    pub reached: Vec<ReachedText>,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct ReachedText {
    /// The file's place in the run's files, and its path.
    pub file: u32,
    pub path: PathBuf,
    /// The furthest offset turned into a line and column in it.
    pub reach: u32,
    /// [`text_layout`] of the text up to `reach`.
    pub layout: (u32, u128),
}

/// What turning byte offsets up to `reach` into lines and columns reads of `text`
/// (`source::LineIndex::line_column`): the lines that start at or before `reach`, which bytes up
/// to and including `reach` continue a character, and the length when it is short of `reach`
/// (offsets past the end are turned as the end). Two texts with the same layout turn every offset
/// up to `reach` into the same line and column. Returns the length (or `reach`) and the hash.
pub fn text_layout(text: &str, reach: u32) -> (u32, u128) {
    let bytes = text.as_bytes();
    let len = bytes.len().min(reach as usize + 1);
    let short_of_reach = (bytes.len() as u64).min(u64::from(reach)) as u32;
    // Each mark as its offset and what it marks, hashed at once.
    let mut marks: Vec<u8> = Vec::with_capacity(len / 8);
    let mut mark = |i: u32, what: u8| {
        marks.extend_from_slice(&i.to_le_bytes());
        marks.push(what);
    };
    for &start in crate::source::LineIndex::new(text).starts() {
        if start > reach {
            break;
        }
        mark(start, b'l');
    }
    if !bytes[..len].is_ascii() {
        for (i, &byte) in bytes[..len].iter().enumerate() {
            if (0x80..=0xBF).contains(&byte) {
                mark(i as u32, b'c');
            }
        }
    }
    let mut hasher = Xxh3::new();
    hasher.update(&short_of_reach.to_le_bytes());
    hasher.update(&marks);
    (short_of_reach, hasher.digest128())
}

/// The result stored in `dir` for `key`, if there is one and it is intact. `read` gives the text
/// of a file findings point into and `hashes` what each file's text hashed to when the key was
/// made: a text that changed since (or cannot be read) makes the replay a miss. Timings are left
/// empty.
pub fn load(
    dir: &Path,
    key: RunKey,
    hashes: &HashMap<&Path, TextHash>,
    read: impl Fn(&Path) -> Option<String>,
) -> Option<CheckResult> {
    let (run, stored) = read_stored(dir, key)?;
    if run != key.run {
        return None;
    }
    replayed(stored, hashes, read, HashMap::new())
}

/// The result stored in `dir` for a run in `key`'s slot of the same files (`files`,
/// [`RunKey::files`]) that read the same as now though their texts may not ([`SameFacts`]), if
/// there is one, it is intact, and every text it turned offsets in is laid out as then up to the
/// last of them. `hashes` are the hashes of the files' texts now, in order; `facts_now` gives the
/// digest of file `i`'s facts now, asked only of files whose text changed, and of at most
/// `changed_at_most` of them (more: `None` at once). `by_path` and `read` are as for [`load`].
/// Returns what to store the result under again, with the texts of now.
#[allow(clippy::too_many_arguments)]
pub fn load_same_facts(
    dir: &Path,
    key: RunKey,
    files: u128,
    hashes: &[TextHash],
    changed_at_most: usize,
    mut facts_now: impl FnMut(usize) -> Option<FactsDigest>,
    by_path: &HashMap<&Path, TextHash>,
    read: impl Fn(&Path) -> Option<String>,
) -> Option<(CheckResult, SameFacts)> {
    let (_, stored) = read_stored(dir, key)?;
    let mut same = stored.same_facts.clone()?;
    if same.files != files || same.texts.len() != hashes.len() || same.digests.len() != hashes.len()
    {
        return None;
    }
    let changed: Vec<usize> = (0..hashes.len())
        .filter(|&i| hashes[i] != same.texts[i])
        .collect();
    if changed.len() > changed_at_most {
        return None;
    }
    for &i in &changed {
        if facts_now(i)? != same.digests[i] {
            return None;
        }
    }
    let mut read_already = HashMap::new();
    for reached in &same.reached {
        let file = reached.file as usize;
        let now = *hashes.get(file)?;
        if now == same.texts[file] {
            continue;
        }
        let text = read(&reached.path)?;
        if crate::cache::text_hash(&text) != now
            || text_layout(&text, reached.reach) != reached.layout
        {
            return None;
        }
        read_already.insert(reached.path.clone(), text);
    }
    let result = replayed(stored, by_path, read, read_already)?;
    same.texts = hashes.to_vec();
    Some((result, same))
}

/// The stored run of `key`'s slot, whichever texts it was for, with its run key, if it is intact.
fn read_stored(dir: &Path, key: RunKey) -> Option<(u128, StoredRun)> {
    let bytes = CacheDir::new(dir).read(&key.file_name()).ok()?;
    let header = bytes.get(..HEADER_LEN)?;
    let checksum = u64::from_le_bytes(header[8..16].try_into().ok()?);
    if &header[..8] != MAGIC || xxh3_64(&bytes[16..]) != checksum {
        return None;
    }
    let run = u128::from_le_bytes(header[16..32].try_into().ok()?);
    Some((run, postcard::from_bytes(&bytes[HEADER_LEN..]).ok()?))
}

/// The result of a stored run, with the texts of the files its findings point into (`read_already`
/// holds some, checked): each must hash as in `hashes`.
fn replayed(
    stored: StoredRun,
    hashes: &HashMap<&Path, TextHash>,
    read: impl Fn(&Path) -> Option<String>,
    mut read_already: HashMap<PathBuf, String>,
) -> Option<CheckResult> {
    let mut sources = HashMap::with_capacity(stored.source_paths.len());
    for path in stored.source_paths {
        let text = match read_already.remove(&path) {
            Some(text) => text,
            None => {
                let text = read(&path)?;
                if hashes.get(path.as_path()) != Some(&crate::cache::text_hash(&text)) {
                    return None;
                }
                text
            }
        };
        sources.insert(path, text);
    }
    Some(CheckResult {
        files_checked: stored.files_checked,
        files_analysed: stored.files_analysed,
        findings: stored.findings,
        errors: stored.errors,
        sources,
        elapsed: std::time::Duration::ZERO,
        missing_paths: stored.missing_paths,
        unused_suppressions: stored.unused_suppressions,
        suppressed: stored.suppressed,
        cache_hits: stored.files_analysed,
        stage_times: Vec::new(),
        warnings: Vec::new(),
    })
}

/// Stores `result` in `dir` under `key`, with `same_facts` when a run whose texts differ may replay
/// it ([`load_same_facts`]). A run with an internal error is not stored (the next run should meet
/// the bug again, not a replay); failing to write is ignored, as a cache may fail.
pub fn save(dir: &Path, key: RunKey, result: &CheckResult, same_facts: Option<SameFacts>) {
    if result.has_internal_errors() {
        return;
    }
    let mut source_paths: Vec<PathBuf> = result.sources.keys().cloned().collect();
    source_paths.sort();
    let stored = StoredRun {
        files_checked: result.files_checked,
        files_analysed: result.files_analysed,
        findings: result.findings.clone(),
        errors: result.errors.clone(),
        source_paths,
        missing_paths: result.missing_paths,
        unused_suppressions: result.unused_suppressions.clone(),
        suppressed: result.suppressed,
        same_facts,
    };
    let Ok(payload) = postcard::to_stdvec(&stored) else {
        return;
    };
    let mut bytes = Vec::with_capacity(HEADER_LEN + payload.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&[0; 8]);
    bytes.extend_from_slice(&key.run.to_le_bytes());
    bytes.extend_from_slice(&payload);
    let checksum = xxh3_64(&bytes[16..]);
    bytes[8..16].copy_from_slice(&checksum.to_le_bytes());
    let dir = CacheDir::new(dir);
    if dir
        .replace(&key.file_name(), |out| out.write_all(&bytes))
        .is_ok()
    {
        dir.keep_newest(FILE_PREFIX, ".bin", KEPT_SLOTS);
    }
}

/// Text that serde reads back as one of a fixed set of `'static` strings (a rule's code, a timing's
/// reason). Named so that serde does not take the field for text borrowed from its input.
pub type KnownText = &'static str;

/// `text` as one of `known`, or an error naming it.
fn known_text<E: serde::de::Error>(
    text: &str,
    known: impl IntoIterator<Item = &'static str>,
) -> Result<KnownText, E> {
    known
        .into_iter()
        .find(|k| *k == text)
        .ok_or_else(|| E::custom(format!("unknown text `{text}`")))
}

/// Reads a rule code back as the rule's own code; an unknown one makes the stored run a miss.
pub fn rule_code<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<KnownText, D::Error> {
    let code = String::deserialize(deserializer)?;
    known_text(
        &code,
        crate::rules::all().iter().map(|rule| rule.meta().code),
    )
}

/// Reads a list of rule codes back as the rules' own codes.
pub fn rule_codes<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<KnownText>, D::Error> {
    Vec::<String>::deserialize(deserializer)?
        .iter()
        .map(|code| {
            known_text(
                code,
                crate::rules::all().iter().map(|rule| rule.meta().code),
            )
        })
        .collect()
}

/// Reads a change's timing reason back as the model's own text.
pub fn timing_reason<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<KnownText>, D::Error> {
    use crate::model::Timing;
    let reasons = [
        Timing::PerCall,
        Timing::ImportTime,
        Timing::OnceAfterImport,
        Timing::OnceAtRunTime,
    ]
    .map(Timing::reason);
    Option::<String>::deserialize(deserializer)?
        .map(|text| known_text(&text, reasons))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::text_layout;
    use crate::source::LineIndex;

    /// Every offset up to `reach` turns into the same line and column in both texts.
    fn turned_alike(a: &str, b: &str, reach: u32) -> bool {
        let (ia, ib) = (LineIndex::new(a), LineIndex::new(b));
        (0..=reach).all(|offset| ia.line_column(a, offset) == ib.line_column(b, offset))
    }

    #[test]
    fn the_layout_is_the_same_exactly_when_offsets_up_to_the_reach_turn_alike() {
        let text = "ab\ncd\n";
        let cases = [
            // Appended after the reach, and a comment after the last place of its line.
            ("ab\ncd\n# x\n", 5, true),
            ("ab\ncd  # x\n", 5, true),
            // A line break moved before the reach; one at the reach starts a line there.
            ("a\nbcd\n", 5, false),
            ("ab\ncdx", 6, false),
            ("ab\ncd\nx", 6, true),
            // A character of two bytes for two of one.
            ("é\ncd\n", 5, false),
            // Shorter than the reach: the end is where later offsets turn.
            ("ab\ncd", 5, true),
            ("ab\ncd", 6, false),
        ];
        for (other, reach, alike) in cases {
            assert_eq!(
                text_layout(text, reach) == text_layout(other, reach),
                alike,
                "{other:?} up to {reach}"
            );
            assert_eq!(turned_alike(text, other, reach), alike, "{other:?}");
        }
        // A `\r` before the reach is a line break of its own unless a `\n` follows, even at the
        // reach itself.
        let crlf = "ab\r\ncd";
        assert_eq!(text_layout(crlf, 3), text_layout("ab\r\nxy", 3));
        assert_ne!(text_layout(crlf, 3), text_layout("ab\r xy", 3));
        assert!(!turned_alike(crlf, "ab\r xy", 3));
    }
}
