//! The process-wide interner behind [`super::Name`]: each text once, never freed, behind a
//! 4-byte number (equal exactly when the texts are) that leads to the text and its hash.
//!
//! Its tables grow with the names a project has (185 k on the 1.2 M-line corpus: 1.2 MB of hash
//! table, 3 MB of the numbers' addresses and hashes, each text's length before it) where `ustr`, which it replaces, reserved 2^20 pointers (8.4 MB, all of it resident)
//! whatever the project. The hash is the one `ustr` computed (`ahash` with its fixed keys), so
//! every hash map keyed by names iterates as it did.
//!
//! A handle is the text's number, not its address, so that a name takes 4 bytes in the facts
//! (half of a pointer; BENCHMARKS.md, "Round 34: memory"): the numbers are given in the order
//! texts are first interned, from 1, and [`TEXTS`] maps each to its text's address and hash.

use std::alloc::Layout;
use std::hash::Hasher;
use std::num::NonZeroU32;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use hashbrown::HashTable;

/// Shards, each behind its own lock: threads interning different names rarely wait for each
/// other. A shard is chosen by bits of the hash that its table reads for neither a bucket (the
/// low bits) nor a bucket's tag (the top seven): with either, a shard's names would share them.
const SHARD_BITS: u32 = 4;
const SHARDS: usize = 1 << SHARD_BITS;
const SHARD_SHIFT: u32 = 40;

/// The names a shard's table has room for at its first name (16 k buckets: 64 KiB of handles, of
/// which only the pages written become resident, and 16 KiB of control bytes). Growing from empty
/// moved each name once per doubling, a cache miss for its hash each time; the corpus's 185 k
/// names (about 11.6 k a shard) now fit without a move (BENCHMARKS.md, "Round 39: where the cold
/// run's CPU time goes").
const SHARD_CAPACITY: usize = 14 << 10;

/// The text of one shard is taken in blocks of this many bytes: a block's unused tail is the
/// only space lost, and never more than one a shard is partly filled.
const BLOCK: usize = 32 << 10;

/// What precedes each text in its block (its hash is in [`TEXTS`], by its number).
#[repr(C)]
struct Header {
    len: usize,
}

const HEADER: usize = size_of::<Header>();

/// An interned text: its number, which [`TEXTS`] maps to the address of its bytes, just after
/// its [`Header`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) struct Interned(NonZeroU32);

/// The texts' addresses and hashes by number: one range of address space reserved at the first
/// name (room for [`ENTRIES`] numbers, 2 GiB; less if that much cannot be reserved), whose pages
/// are mapped as they are first written, so that a name's address is one load away from its
/// number, and its hash one load too: hash maps keyed by names hash them by the million in the
/// link, and a hash kept before the text (in its block, a second dependent load into 8 MB of
/// scattered text) missed the cache twice (BENCHMARKS.md, "Round 39: where the cold run's CPU
/// time goes").
const ENTRIES: usize = 1 << 27;
static TEXTS: AtomicPtr<Entry> = AtomicPtr::new(std::ptr::null_mut());

/// What [`TEXTS`] holds for one number.
#[repr(C)]
struct Entry {
    /// The address of the text's bytes, just after its [`Header`].
    text: AtomicPtr<u8>,
    /// The text's hash ([`hash`]).
    hash: AtomicU64,
}

/// How many numbers [`TEXTS`] has room for, once reserved.
static RESERVED: std::sync::OnceLock<usize> = std::sync::OnceLock::new();

/// The next number to give (0 is never given, so that `Option<Interned>` takes 4 bytes).
static NEXT_NUMBER: AtomicU32 = AtomicU32::new(1);

/// Reserves [`TEXTS`] once, halving the room asked for while the system refuses it; how many
/// numbers it has room for.
fn reserved() -> usize {
    *RESERVED.get_or_init(|| {
        let mut entries = ENTRIES;
        loop {
            // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
            let start = unsafe {
                libc::mmap(
                    std::ptr::null_mut(),
                    entries * size_of::<Entry>(),
                    libc::PROT_READ | libc::PROT_WRITE,
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                    -1,
                    0,
                )
            };
            if start != libc::MAP_FAILED {
                TEXTS.store(start.cast(), Ordering::Release);
                return entries;
            }
            assert!(entries > 1 << 16, "no address space left for the names");
            entries /= 2;
        }
    })
}

/// Notes `address` and `hash` as the text of a new number, and gives that number. A project of
/// more names than [`TEXTS`] has room for (134 M, whose text alone would take 2 GiB) fails the
/// file being read, as any panic does, and nothing else.
fn number(address: NonNull<u8>, hash: u64) -> NonZeroU32 {
    let room = reserved();
    let number = NEXT_NUMBER.fetch_add(1, Ordering::Relaxed);
    assert!(
        number != 0 && (number as usize) < room,
        "more names than the interner has room for"
    );
    // SAFETY: the range holds `room` entries, and the number is below it.
    let entry = unsafe { &*TEXTS.load(Ordering::Acquire).add(number as usize) };
    entry.hash.store(hash, Ordering::Relaxed);
    entry.text.store(address.as_ptr(), Ordering::Release);
    NonZeroU32::new(number).expect("numbers start at 1")
}

impl std::fmt::Debug for Interned {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl Interned {
    /// The number's entry in [`TEXTS`].
    #[inline]
    fn entry(&self) -> &'static Entry {
        let number = self.0.get() as usize;
        // SAFETY: a handle is made only after its number's entry was written (`number`), by a
        // thread that handed it on here through some synchronisation (or by this one); the
        // range is never unmapped.
        unsafe { &*TEXTS.load(Ordering::Acquire).add(number) }
    }

    /// The address of the text's bytes.
    #[inline]
    fn bytes(&self) -> *const u8 {
        self.entry().text.load(Ordering::Acquire)
    }

    #[inline]
    pub(super) fn hash(&self) -> u64 {
        self.entry().hash.load(Ordering::Relaxed)
    }

    /// The text's number: given in the order texts are first interned.
    pub(super) fn number(&self) -> u32 {
        self.0.get()
    }

    /// The handle whose [`Interned::number`] is `number`.
    ///
    /// # Safety
    ///
    /// `number` must be one that [`Interned::number`] gave (its entry written).
    #[inline]
    pub(super) unsafe fn from_number(number: u32) -> Interned {
        // SAFETY: a number given by `Interned::number` is not 0 (the caller's promise).
        Interned(unsafe { NonZeroU32::new_unchecked(number) })
    }

    pub(super) fn as_str(&self) -> &'static str {
        let bytes = self.bytes();
        // SAFETY: the header precedes the text's bytes (see `header`).
        let len = unsafe { (*bytes.sub(HEADER).cast::<Header>()).len };
        // SAFETY: the `len` bytes after the header were copied from a `str` and never change.
        unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(bytes, len)) }
    }

    /// The text spelled `text`, interned.
    pub(super) fn new(text: &str) -> Interned {
        let hash = hash(text);
        let mut shard = shard(hash);
        if let Some(found) = shard.find(hash, text) {
            return found;
        }
        shard.insert(hash, text)
    }

    /// The text spelled `text` if it was ever interned.
    pub(super) fn existing(text: &str) -> Option<Interned> {
        let hash = hash(text);
        shard(hash).find(hash, text)
    }
}

fn hash(text: &str) -> u64 {
    let mut hasher = ahash::AHasher::default();
    hasher.write(text.as_bytes());
    hasher.finish()
}

#[derive(Default)]
struct Shard {
    table: HashTable<Interned>,
    /// Where the next text of this shard goes in the current block, and how many bytes are left.
    next: Option<NonNull<u8>>,
    left: usize,
}

// SAFETY: the block pointer is only used under the shard's lock.
unsafe impl Send for Shard {}

static TABLE: [Mutex<Shard>; SHARDS] = [const {
    Mutex::new(Shard {
        table: HashTable::new(),
        next: None,
        left: 0,
    })
}; SHARDS];

fn shard(hash: u64) -> std::sync::MutexGuard<'static, Shard> {
    // Nothing panics while a shard is locked but the allocator's out-of-memory abort: a poisoned
    // shard still holds whole entries.
    TABLE[(hash >> SHARD_SHIFT) as usize & (SHARDS - 1)]
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
}

impl Shard {
    fn find(&self, hash: u64, text: &str) -> Option<Interned> {
        self.table
            .find(hash, |held| held.hash() == hash && held.as_str() == text)
            .copied()
    }

    fn insert(&mut self, hash: u64, text: &str) -> Interned {
        // Names are interned while facts are made, never while a syntax tree is built in the tree
        // arena: the text's block and the table's growth would come from the thread's slot, which
        // the next file's tree overwrites.
        assert!(
            !crate::allocator::building_tree(),
            "a name interned while a syntax tree is built would live in the tree arena"
        );
        if self.table.capacity() == 0 {
            self.table.reserve(SHARD_CAPACITY, |held| held.hash());
        }
        let size = (HEADER + text.len()).next_multiple_of(align_of::<Header>());
        let at = self.take(size);
        // SAFETY: `take` gave `size` writable bytes aligned for a header, which hold the header
        // and the text.
        let interned = unsafe {
            at.cast::<Header>()
                .as_ptr()
                .write(Header { len: text.len() });
            let bytes = at.as_ptr().add(HEADER);
            std::ptr::copy_nonoverlapping(text.as_ptr(), bytes, text.len());
            Interned(number(NonNull::new_unchecked(bytes), hash))
        };
        self.table.insert_unique(hash, interned, |held| held.hash());
        interned
    }

    /// `size` bytes (a multiple of the header's alignment) from the current block, or from a new
    /// one; a text longer than a quarter block gets a block of its own, so that it does not cut
    /// the current one short.
    fn take(&mut self, size: usize) -> NonNull<u8> {
        if size > BLOCK / 4 {
            return leaked_block(size);
        }
        if size > self.left {
            self.next = Some(leaked_block(BLOCK));
            self.left = BLOCK;
        }
        let at = self.next.expect("a block was just taken");
        // SAFETY: `size <= left`, the bytes left in the block `at` points into.
        self.next = Some(unsafe { at.add(size) });
        self.left -= size;
        at
    }
}

/// `size` bytes aligned for a header, never freed: interned texts live as long as the process.
fn leaked_block(size: usize) -> NonNull<u8> {
    let layout = Layout::from_size_align(size, align_of::<Header>())
        .expect("an interned name's size fits a layout");
    // SAFETY: `size` is at least a header's, so the layout is not zero-sized.
    let block = unsafe { std::alloc::alloc(layout) };
    NonNull::new(block).unwrap_or_else(|| std::alloc::handle_alloc_error(layout))
}

#[cfg(test)]
mod tests {
    use super::Interned;

    #[test]
    fn one_copy_of_each_text_with_its_hash() {
        let long = "x".repeat(super::BLOCK);
        for text in ["", "self", "os.path", long.as_str()] {
            let first = Interned::new(text);
            assert_eq!(first.as_str(), text);
            assert_eq!(Interned::new(text), first);
            assert_eq!(Interned::existing(text), Some(first));
            assert_eq!(first.hash(), super::hash(text));
        }
        assert_eq!(Interned::existing("never interned by any test"), None);
    }

    /// Hash maps keyed by names iterate in the order of these hashes, so the report's order rests
    /// on them: a change of `ahash`'s keys or features (a random seed, another algorithm) fails
    /// here instead of silently reordering output.
    #[test]
    fn the_hash_is_ahash_with_its_fixed_keys() {
        let pinned: [(&str, u64); 3] = [
            ("", 3_732_488_548_624_710_865),
            ("self", 7_950_754_686_085_275_446),
            ("os.path", 10_332_963_705_045_265_713),
        ];
        let found: Vec<(&str, u64)> = pinned.iter().map(|(t, _)| (*t, super::hash(t))).collect();
        assert_eq!(found, pinned);
    }

    #[test]
    fn many_texts_across_blocks() {
        let texts: Vec<String> = (0..20_000).map(|i| format!("name_{i}")).collect();
        let interned: Vec<Interned> = texts.iter().map(|t| Interned::new(t)).collect();
        for (text, name) in texts.iter().zip(&interned) {
            assert_eq!(name.as_str(), text);
            assert_eq!(Interned::new(text), *name);
        }
    }
}
