//! The hash of each file's text with the file's stamp when it was read (`stamps.bin` in the cache
//! folder), so that a run with a cache folder does not read and hash again every file to key
//! itself (`crate::check`'s `hash_files`): a file whose stamp is the stored one has the stored
//! hash.
//!
//! A stamp is the file's device and inode, size, permissions, and modification and change times
//! (to the nanosecond), as `stat` gives them; the change time moves on every write and cannot be
//! set back, so a tool that restores a modification time (`touch -d`, `rsync -t`, an unpacked
//! archive) still changes the stamp. File times advance in coarse steps, so a write right after a
//! file was read could leave its stamp as it was: a stamp with either time less than
//! [`SETTLED`] before the moment it is taken is not stored (such a file is read every run until
//! it has settled), as `crate::memory` does for the language server. What this trusts, as Ruff's
//! cache trusts modification times: that nothing rewrites a file keeping its size, times and
//! inode, and that the file system's clock is not behind this machine's by more than
//! [`SETTLED`]. What is never trusted is the file itself: it is checksummed and written by this
//! build ([`crate::cache::build_fingerprint`]), and any damage makes every file read again.
//!
//! Layout of `<dir>/stamps.bin` (little-endian):
//!
//! ```text
//! magic "SLSTMP01" | build fingerprint u64 | checksum u64 (of everything after it)
//! count u32 | count × (path length u32, path bytes, stamp 8 × u64, text hash u128)
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::time::{Duration, SystemTime};

use xxhash_rust::xxh3::xxh3_64;

use crate::cache::TextHash;
use crate::cache_dir::CacheDir;

const FILE_NAME: &str = "stamps.bin";
const MAGIC: &[u8; 8] = b"SLSTMP01";
const HEADER_LEN: usize = 8 + 8 + 8;
/// How long ago a file's times must be for its stamp to tell a later write.
pub const SETTLED: Duration = Duration::from_secs(2);

/// A file's identity, size, permissions and times, taken before its text is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp([u64; 8]);

impl Stamp {
    /// The stamp of the file at `path` (following links, as reading it does), when it can tell
    /// a later write: `None` when its times are less than [`SETTLED`] old, or cannot be read.
    #[cfg(unix)]
    pub fn of(path: &Path) -> Option<Stamp> {
        use std::os::unix::fs::MetadataExt;
        let metadata = std::fs::metadata(path).ok()?;
        let now = SystemTime::now();
        let settled = |time: SystemTime| now.duration_since(time).is_ok_and(|age| age > SETTLED);
        if !settled(metadata.modified().ok()?) {
            return None;
        }
        let changed = SystemTime::UNIX_EPOCH.checked_add(Duration::new(
            u64::try_from(metadata.ctime()).ok()?,
            u32::try_from(metadata.ctime_nsec()).ok()?,
        ))?;
        if !settled(changed) {
            return None;
        }
        Some(Stamp([
            metadata.dev(),
            metadata.ino(),
            metadata.size(),
            u64::from(metadata.mode()),
            metadata.mtime() as u64,
            metadata.mtime_nsec() as u64,
            metadata.ctime() as u64,
            metadata.ctime_nsec() as u64,
        ]))
    }

    #[cfg(not(unix))]
    pub fn of(_path: &Path) -> Option<Stamp> {
        None
    }

    /// The file's size.
    pub fn size(&self) -> u64 {
        self.0[2]
    }
}

/// The stamps and text hashes stored by the last run that wrote them, by path.
#[derive(Default)]
pub struct Stamps {
    by_path: HashMap<Vec<u8>, (Stamp, TextHash)>,
}

impl Stamps {
    /// The stamps stored in `dir`; none when the file is missing, damaged or of another build.
    pub fn load(dir: &Path) -> Stamps {
        CacheDir::new(dir)
            .read(FILE_NAME)
            .ok()
            .and_then(|bytes| decode(&bytes))
            .unwrap_or_default()
    }

    /// The hash of the text of the file at `path`, stored when it had this stamp.
    pub fn hash(&self, path: &Path, stamp: Stamp) -> Option<TextHash> {
        let &(stored, hash) = self.by_path.get(path.as_os_str().as_encoded_bytes())?;
        (stored == stamp).then_some(hash)
    }

    pub fn len(&self) -> usize {
        self.by_path.len()
    }

    pub fn is_empty(&self) -> bool {
        self.by_path.is_empty()
    }
}

fn decode(bytes: &[u8]) -> Option<Stamps> {
    let header = bytes.get(..HEADER_LEN)?;
    if &header[..8] != MAGIC
        || header[8..16] != crate::cache::build_fingerprint().to_le_bytes()
        || header[16..24] != xxh3_64(&bytes[HEADER_LEN..]).to_le_bytes()
    {
        return None;
    }
    let mut input = &bytes[HEADER_LEN..];
    let mut take = |n: usize| -> Option<&[u8]> {
        let (head, rest) = input.split_at_checked(n)?;
        input = rest;
        Some(head)
    };
    let u32_at = |b: &[u8]| u32::from_le_bytes(b.try_into().unwrap_or_default()) as usize;
    let count = u32_at(take(4)?);
    let mut by_path = HashMap::with_capacity(count.min(bytes.len() / 100));
    for _ in 0..count {
        let len = u32_at(take(4)?);
        let path = take(len)?.to_vec();
        let mut stamp = [0u64; 8];
        for field in &mut stamp {
            *field = u64::from_le_bytes(take(8)?.try_into().ok()?);
        }
        let hash = u128::from_le_bytes(take(16)?.try_into().ok()?);
        by_path.insert(path, (Stamp(stamp), hash));
    }
    take(1).is_none().then_some(Stamps { by_path })
}

/// Replaces the stored stamps by `entries` (a file's path, its stamp before it was read and the
/// hash of the text read). Failing to write is ignored.
pub fn save<'a>(dir: &Path, entries: impl Iterator<Item = (&'a Path, Stamp, TextHash)>) {
    let mut out = Vec::with_capacity(1 << 18);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&crate::cache::build_fingerprint().to_le_bytes());
    out.extend_from_slice(&0u64.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    let mut count = 0u32;
    for (path, stamp, hash) in entries {
        let path = path.as_os_str().as_encoded_bytes();
        out.extend_from_slice(&(path.len() as u32).to_le_bytes());
        out.extend_from_slice(path);
        for field in stamp.0 {
            out.extend_from_slice(&field.to_le_bytes());
        }
        out.extend_from_slice(&hash.to_le_bytes());
        count += 1;
    }
    out[HEADER_LEN..HEADER_LEN + 4].copy_from_slice(&count.to_le_bytes());
    let checksum = xxh3_64(&out[HEADER_LEN..]);
    out[16..24].copy_from_slice(&checksum.to_le_bytes());
    let _ = CacheDir::new(dir).replace(FILE_NAME, |file| file.write_all(&out));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_stamps_give_their_hash_and_damage_gives_none() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("a.py");
        std::fs::write(&file, "x = 1\n").unwrap();
        assert_eq!(
            Stamp::of(&file),
            None,
            "a file written just now is not stamped"
        );
        let old = SystemTime::now() - Duration::from_secs(60);
        std::fs::File::options()
            .write(true)
            .open(&file)
            .unwrap()
            .set_modified(old)
            .unwrap();
        // The change time just moved (setting the time changes it): still too recent.
        assert_eq!(Stamp::of(&file), None);
        let stamp = Stamp([1, 2, 6, 0o644, 3, 4, 5, 6]);
        let cache = dir.path().join("cache");
        save(&cache, [(file.as_path(), stamp, 7u128)].into_iter());
        let stamps = Stamps::load(&cache);
        assert_eq!(stamps.hash(&file, stamp), Some(7));
        assert_eq!(
            stamps.hash(&file, Stamp([1, 2, 7, 0o644, 3, 4, 5, 6])),
            None
        );
        assert_eq!(stamps.hash(&dir.path().join("b.py"), stamp), None);

        let bytes = std::fs::read(cache.join(FILE_NAME)).unwrap();
        for at in 0..bytes.len() {
            let mut damaged = bytes.clone();
            damaged[at] ^= 0x10;
            assert!(decode(&damaged).is_none(), "byte {at} flipped");
        }
        for len in 0..bytes.len() {
            assert!(decode(&bytes[..len]).is_none());
        }
    }
}
