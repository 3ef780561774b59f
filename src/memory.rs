//! Facts kept in memory across the runs of a long-lived process (the language server).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use crate::cache::TextHash;
use crate::check::FileError;
use crate::facts::FileFacts;

/// The facts of the texts the last run saw, by text hash, so that a long-lived process (the
/// language server) re-extracts only the files that changed since. Each run keeps only the
/// entries it used: memory follows the project instead of its history.
#[derive(Default)]
pub struct FactsMemory {
    entries: Mutex<HashMap<TextHash, (Extracted, u64)>>,
    /// The hash of each file's text when last read, with the file's size and modification time
    /// then: a file whose size and time are unchanged is not read again.
    stamps: Mutex<HashMap<PathBuf, (FileStamp, TextHash, u64)>>,
    run: AtomicU64,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct FileStamp {
    pub(crate) len: u64,
    modified: SystemTime,
}

impl FileStamp {
    /// The stamp of a file, when it can tell a change: a time too recent could be shared by a
    /// write still to come (file times advance in coarse steps), so it is not trusted.
    pub(crate) fn of(path: &Path) -> Option<FileStamp> {
        let metadata = std::fs::metadata(path).ok()?;
        let modified = metadata.modified().ok()?;
        let age = SystemTime::now().duration_since(modified).ok()?;
        (age > Duration::from_secs(2)).then_some(FileStamp {
            len: metadata.len(),
            modified,
        })
    }
}

/// A text's facts, or the error that stopped their extraction (its path is the file's that was
/// extracted: fix it up for another path with the same text).
pub(crate) type Extracted = Result<Arc<FileFacts>, FileError>;

impl FactsMemory {
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<TextHash, (Extracted, u64)>> {
        // A panic while the lock was held leaves the map usable: entries are inserted whole.
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The number of the last run begun: facts used or added under it are kept by its end.
    pub(crate) fn current_run(&self) -> u64 {
        self.run.load(Ordering::Relaxed)
    }

    pub(crate) fn begin_run(&self) -> u64 {
        self.run.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub(crate) fn get(&self, hash: TextHash, run: u64, path: &Path) -> Option<Extracted> {
        let mut entries = self.lock();
        let (extracted, used) = entries.get_mut(&hash)?;
        *used = run;
        Some(match extracted {
            Ok(facts) => Ok(Arc::clone(facts)),
            Err(error) => Err(FileError {
                path: path.to_path_buf(),
                ..error.clone()
            }),
        })
    }

    pub(crate) fn insert(&self, hash: TextHash, run: u64, extracted: &Extracted) {
        self.lock().insert(hash, (extracted.clone(), run));
    }

    pub(crate) fn end_run(&self, run: u64) {
        self.lock().retain(|_, (_, used)| *used == run);
        self.lock_stamps().retain(|_, (_, _, used)| *used == run);
    }

    fn lock_stamps(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<PathBuf, (FileStamp, TextHash, u64)>> {
        self.stamps
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The hash of the file's text, when the file is unchanged since it was last read.
    pub(crate) fn unchanged(
        &self,
        path: &Path,
        stamp: Option<FileStamp>,
        run: u64,
    ) -> Option<TextHash> {
        let mut stamps = self.lock_stamps();
        let (known, hash, used) = stamps.get_mut(path)?;
        if Some(*known) != stamp {
            return None;
        }
        *used = run;
        Some(*hash)
    }

    pub(crate) fn stamp(&self, path: &Path, stamp: Option<FileStamp>, hash: TextHash, run: u64) {
        if let Some(stamp) = stamp {
            self.lock_stamps()
                .insert(path.to_path_buf(), (stamp, hash, run));
        }
    }
}
