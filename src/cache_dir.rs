//! The cache folder: where it is, and reading and writing files inside it without ever writing
//! anywhere else.
//!
//! A checked project is untrusted input, and stateleak may run as a developer or as root in CI, so
//! a project must not be able to redirect the cache's writes with planted symbolic links: the
//! folder itself must not be a link, files are created exclusively (`O_EXCL`, which never follows
//! a link) under random names and then renamed into place (a rename replaces a link, it does not
//! write through it), and files are read with `O_NOFOLLOW`. Every cache of stateleak (the per-file
//! facts in [`crate::cache`] and any other) goes through [`CacheDir`].

use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// The cache folder's name in the project root.
pub const DEFAULT_NAME: &str = ".stateleak_cache";
/// Environment variable that chooses the cache folder (below `--cache-dir`, above the setting).
pub const ENV_VARIABLE: &str = "STATELEAK_CACHE_DIR";

/// What a stateleak cache folder holds, to keep it out of backups; `stateleak clean` removes only
/// folders carrying this tag.
const CACHEDIR_TAG: &str =
    "Signature: 8a477f597d28d172789f06886806bc55\n# This folder is a cache created by stateleak.\n";
/// Marks the tag as stateleak's (other tools write the same signature).
const TAG_MARK: &str = "created by stateleak";
const GITIGNORE: &str = "# Created by stateleak.\n*\n";
/// A temporary file this old is left over from a run that was killed, whatever its process id.
const STALE_AFTER: Duration = Duration::from_secs(3600);

/// The cache folder of a run. In order: `--cache-dir`, `STATELEAK_CACHE_DIR`, the `cache-dir`
/// setting (relative to its settings file's folder), else `.stateleak_cache` in the project root:
/// the settings file's folder, or the repository root (the nearest folder with `.git`) of the
/// first checked path, or the working directory.
pub fn location(
    flag: Option<&Path>,
    setting: Option<&Path>,
    settings_file: Option<&Path>,
    paths: &[PathBuf],
) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(ENV_VARIABLE).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    let settings_folder = settings_file.map(|f| crate::config::absolute(f).with_file_name(""));
    if let Some(dir) = setting {
        return match &settings_folder {
            Some(folder) => folder.join(dir),
            None => dir.to_path_buf(),
        };
    }
    let root = settings_folder
        .or_else(|| paths.first().and_then(|p| repository_root(p)))
        .unwrap_or_else(|| PathBuf::from("."));
    root.join(DEFAULT_NAME)
}

fn repository_root(path: &Path) -> Option<PathBuf> {
    let absolute = crate::config::absolute(path);
    absolute
        .ancestors()
        .find(|dir| dir.join(".git").exists())
        .map(Path::to_path_buf)
}

/// A cache folder, for reading and replacing the files in it.
#[derive(Debug, Clone)]
pub struct CacheDir {
    path: PathBuf,
}

impl CacheDir {
    pub fn new(path: impl Into<PathBuf>) -> CacheDir {
        CacheDir { path: path.into() }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The whole content of the file `name` in the folder. A folder or file that is a symbolic
    /// link is an error, not followed.
    pub fn read(&self, name: &str) -> io::Result<Vec<u8>> {
        refuse_link(&self.path)?;
        let mut file = open_no_follow(&self.path.join(name))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        Ok(bytes)
    }

    /// Replaces the file `name` atomically with what `write` writes: readers see the old file or
    /// the new one, never half of one. Creates the folder (with its `.gitignore` and
    /// `CACHEDIR.TAG`) when missing, and removes temporary files that killed runs left behind.
    pub fn replace(
        &self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> io::Result<()> {
        self.replace_file(name, |file| {
            let mut out = io::BufWriter::with_capacity(1 << 20, file);
            write(&mut out)?;
            out.flush()
        })
    }

    /// As [`CacheDir::replace`], `write` given the temporary file itself (to seek in it).
    pub fn replace_file(
        &self,
        name: &str,
        write: impl FnOnce(&mut std::fs::File) -> io::Result<()>,
    ) -> io::Result<()> {
        self.prepare()?;
        remove_stale_temporaries(&self.path, name);
        let mut temporary = tempfile::Builder::new()
            .prefix(&format!("{name}.{}.", std::process::id()))
            .suffix(".tmp")
            .tempfile_in(&self.path)?;
        write(temporary.as_file_mut())?;
        // On error the temporary file is removed when dropped.
        temporary
            .persist(self.path.join(name))
            .map(drop)
            .map_err(|e| e.error)
    }

    /// Removes the files named `<prefix>...<suffix>` but the `keep` most recently modified, so
    /// that a cache with one file per kind of run does not grow with every kind. Removing a link
    /// removes the link only.
    pub fn keep_newest(&self, prefix: &str, suffix: &str, keep: usize) {
        if refuse_link(&self.path).is_err() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(&self.path) else {
            return;
        };
        let mut files: Vec<(SystemTime, PathBuf)> = entries
            .flatten()
            .filter(|entry| {
                entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| name.starts_with(prefix) && name.ends_with(suffix))
            })
            .map(|entry| {
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(SystemTime::UNIX_EPOCH);
                (modified, entry.path())
            })
            .collect();
        files.sort_by(|a, b| b.cmp(a));
        for (_, path) in files.into_iter().skip(keep) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Creates the folder if needed; refuses one that is a link or not a folder.
    fn prepare(&self) -> io::Result<()> {
        if std::fs::symlink_metadata(&self.path).is_err() {
            std::fs::create_dir_all(&self.path)?;
        }
        refuse_link(&self.path)?;
        // Keep the cache out of version control and backups wherever it is created. Created
        // exclusively: an existing file, or a planted link, is left alone and never written through.
        for (name, text) in [(".gitignore", GITIGNORE), ("CACHEDIR.TAG", CACHEDIR_TAG)] {
            match create_new(&self.path.join(name)) {
                Ok(mut file) => file.write_all(text.as_bytes())?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }
}

/// Removes a cache folder (`stateleak clean`). Only a folder that stateleak created (it holds
/// stateleak's `CACHEDIR.TAG`) is removed; a link is refused. Returns whether there was one.
pub fn remove(path: &Path) -> io::Result<bool> {
    if std::fs::symlink_metadata(path).is_err() {
        return Ok(false);
    }
    refuse_link(path)?;
    let tag = CacheDir::new(path).read("CACHEDIR.TAG").unwrap_or_default();
    if !String::from_utf8_lossy(&tag).contains(TAG_MARK) {
        return Err(io::Error::other(format!(
            "{} is not a stateleak cache (it has no CACHEDIR.TAG written by stateleak); not removed",
            path.display()
        )));
    }
    // Does not follow links inside the folder.
    std::fs::remove_dir_all(path)?;
    Ok(true)
}

fn refuse_link(path: &Path) -> io::Result<()> {
    let metadata = std::fs::symlink_metadata(path)?;
    if metadata.file_type().is_symlink() {
        return Err(io::Error::other(format!(
            "the cache folder {} is a symbolic link; refusing to use it",
            path.display()
        )));
    }
    if !metadata.is_dir() {
        return Err(io::Error::other(format!(
            "the cache folder {} is not a folder",
            path.display()
        )));
    }
    Ok(())
}

#[cfg(unix)]
fn open_no_follow(path: &Path) -> io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(path)
}

#[cfg(not(unix))]
fn open_no_follow(path: &Path) -> io::Result<std::fs::File> {
    if std::fs::symlink_metadata(path)?.file_type().is_symlink() {
        return Err(io::Error::other("a symbolic link"));
    }
    std::fs::File::open(path)
}

/// Writes `bytes` to the file at `path` (created or truncated) unless `path` is a symbolic link:
/// a planted link must not turn a write the user asked for into a write somewhere else.
pub fn write_no_follow(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NOFOLLOW);
    }
    #[cfg(not(unix))]
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(io::Error::other("it is a symbolic link"));
    }
    options
        .open(path)
        .map_err(|e| {
            if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
                io::Error::other("it is a symbolic link; refusing to write through it")
            } else {
                e
            }
        })?
        .write_all(bytes)
}

/// Creates a file that must not exist yet: `O_EXCL` fails on any existing name, links included.
fn create_new(path: &Path) -> io::Result<std::fs::File> {
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
}

/// Removes `<name>.<pid>.<random>.tmp` files whose process is gone (or that are old): a run killed
/// while writing leaves one behind. A live run's temporary file is left alone.
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    let prefix = format!("{name}.");
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(&prefix))
            .and_then(|n| n.strip_suffix(".tmp"))
        else {
            continue;
        };
        let pid = rest.split('.').next().and_then(|p| p.parse::<u32>().ok());
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| SystemTime::now().duration_since(t).ok())
            .is_some_and(|age| age > STALE_AFTER);
        if old || pid.is_none_or(|pid| !process_is_alive(pid)) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(unix)]
fn process_is_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // Signal 0 only checks that the process exists; EPERM means it exists under another user.
    // SAFETY: kill with signal 0 sends nothing.
    let status = unsafe { libc::kill(pid, 0) };
    status == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

#[cfg(not(unix))]
fn process_is_alive(_pid: u32) -> bool {
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_are_replaced_and_read_back() {
        let root = tempfile::tempdir().unwrap();
        let dir = CacheDir::new(root.path().join("cache"));
        dir.replace("data", |out| out.write_all(b"one")).unwrap();
        dir.replace("data", |out| out.write_all(b"two")).unwrap();
        assert_eq!(dir.read("data").unwrap(), b"two");
        assert!(dir.path().join(".gitignore").is_file());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(names.is_empty(), "{names:?}");
        assert!(remove(dir.path()).unwrap());
        assert!(!dir.path().exists());
        assert!(!remove(dir.path()).unwrap());
    }

    #[test]
    fn a_folder_stateleak_did_not_create_is_not_removed() {
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("precious"), "x").unwrap();
        assert!(remove(root.path()).is_err());
        assert!(root.path().join("precious").exists());
    }
}
