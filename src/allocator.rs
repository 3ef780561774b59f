//! When mimalloc (the binary's allocator, `src/main.rs`) hands freed memory back to the system.
//!
//! While files are parsed, every syntax tree is freed as soon as its facts are made and the next
//! file's tree takes the same pages: mimalloc's purge delay (1 s by default in the mimalloc 3 that
//! `libmimalloc-sys` builds) keeps those pages mapped, which spares a page fault for each page of
//! each tree. After the parse stage nothing churns like that, and memory freed by one stage of the
//! link (the trees left over, each file's value plans once joined, the link's look-ups) would stay
//! resident through the next stages, at the link's peak: there freed pages are returned at once.
//! A `MIMALLOC_PURGE_DELAY` set in the environment is left to decide for both.
//!
//! The options are process-wide and apply only when mimalloc is the global allocator; under
//! another allocator (a library caller's) they change nothing.
//!
//! Built with the `heap-stats` feature, the binary's allocator ([`Allocator`]) also counts the
//! bytes live, and each stage of a run prints what is live, the most that was live during it and
//! the resident size ([`note_stage`]): where a run's memory peaks and what holds it, without a heap
//! profiler. Without the feature the heap is mimalloc itself and nothing is counted.
//!
//! While a syntax tree is built, [`Allocator`] takes its blocks from a per-thread arena instead of
//! the heap, and the tree is discarded whole ([`tree_arena`]).

mod tree_arena;

pub use stats::note_stage;
pub(crate) use tree_arena::{building_tree, in_tree_of, with_tree};

#[cfg(not(any(feature = "heap-stats", feature = "system-heap")))]
use mimalloc::MiMalloc as Heap;
#[cfg(feature = "heap-stats")]
use stats::Counting as Heap;
#[cfg(all(feature = "system-heap", not(feature = "heap-stats")))]
use std::alloc::System as Heap;

use std::alloc::{GlobalAlloc, Layout};

/// The binary's allocator: mimalloc (counting with `heap-stats`), or a syntax tree's arena while
/// one is built ([`with_tree`]).
pub struct Allocator;

// SAFETY: a block comes from the arena or the heap and goes back to where it came from (the
// arena's blocks are recognised by their address and never freed one by one).
unsafe impl GlobalAlloc for Allocator {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let block = tree_arena::alloc(layout);
        if !block.is_null() {
            return block;
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { Heap.alloc(layout) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let block = tree_arena::alloc(layout);
        if !block.is_null() {
            // SAFETY: the block was just given, `layout.size()` bytes long; a slot is reused.
            unsafe { block.write_bytes(0, layout.size()) };
            return block;
        }
        // SAFETY: the caller's contract, passed on.
        unsafe { Heap.alloc_zeroed(layout) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if !tree_arena::owns(ptr) {
            // SAFETY: the caller's contract; the block is the heap's.
            unsafe { Heap.dealloc(ptr, layout) }
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if tree_arena::owns(ptr) {
            // SAFETY: the caller's contract; the block is the arena's, and `alloc` is asked for a
            // layout the caller's contract makes valid.
            return unsafe { tree_arena::realloc(ptr, layout, new_size, |new| self.alloc(new)) };
        }
        // SAFETY: the caller's contract; the block is the heap's.
        unsafe { Heap.realloc(ptr, layout, new_size) }
    }
}

use std::os::raw::c_long;
use std::sync::OnceLock;

use libmimalloc_sys::{mi_option_get, mi_option_set, mi_option_t};

/// `mi_option_purge_delay` in `mimalloc.h` (`libmimalloc-sys` names no constant for it; the crate
/// is pinned in `Cargo.toml`, and a test checks the number against the option's default).
const PURGE_DELAY: mi_option_t = 15;

/// The purge delay mimalloc started with, unless the environment sets it (then `None`: the
/// stages leave it alone).
fn initial_delay() -> Option<c_long> {
    static INITIAL: OnceLock<Option<c_long>> = OnceLock::new();
    *INITIAL.get_or_init(|| {
        // SAFETY: reading an option has no preconditions.
        (std::env::var_os("MIMALLOC_PURGE_DELAY").is_none())
            .then(|| unsafe { mi_option_get(PURGE_DELAY) })
    })
}

/// Before files are parsed: freed pages are kept for the next trees (mimalloc's own delay).
pub(crate) fn keep_freed_pages() {
    if let Some(delay) = initial_delay() {
        // SAFETY: setting an option has no preconditions; it takes effect at the next purge.
        unsafe { mi_option_set(PURGE_DELAY, delay) };
    }
}

/// After files are parsed: freed pages go back to the system at once.
pub(crate) fn return_freed_pages() {
    tree_arena::return_idle_pages();
    if initial_delay().is_some() {
        // SAFETY: as in `keep_freed_pages`.
        unsafe { mi_option_set(PURGE_DELAY, 0) };
    }
}

#[cfg(not(feature = "heap-stats"))]
mod stats {
    /// Prints nothing: bytes are counted only with the `heap-stats` feature.
    #[inline(always)]
    pub fn note_stage(_stage: &str) {}
}

#[cfg(feature = "heap-stats")]
mod stats {
    use std::alloc::{GlobalAlloc, Layout};
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

    /// mimalloc, counting the bytes live and the most that were live since the last stage.
    pub struct Counting;

    static LIVE: AtomicUsize = AtomicUsize::new(0);
    static PEAK: AtomicUsize = AtomicUsize::new(0);

    fn grew(bytes: usize) {
        let live = LIVE.fetch_add(bytes, Relaxed) + bytes;
        PEAK.fetch_max(live, Relaxed);
    }

    fn shrank(bytes: usize) {
        LIVE.fetch_sub(bytes, Relaxed);
    }

    // SAFETY: every call is mimalloc's; the counters only watch.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            grew(layout.size());
            // SAFETY: the caller's contract, passed on.
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        }

        unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
            grew(layout.size());
            // SAFETY: as in `alloc`.
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            shrank(layout.size());
            // SAFETY: as in `alloc`.
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            grew(new_size);
            shrank(layout.size());
            // SAFETY: as in `alloc`.
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, new_size) }
        }
    }

    /// Prints, as a stage of the run ends, the bytes live, the most that were live since the
    /// last stage ended (then starts counting that again) and the resident size. Memory the
    /// binary's allocator does not give (another global allocator's) is not counted as live, but is
    /// resident.
    pub fn note_stage(stage: &str) {
        let live = LIVE.load(Relaxed);
        let peak = PEAK.swap(live, Relaxed);
        let resident = std::fs::read_to_string("/proc/self/statm")
            .ok()
            .and_then(|statm| statm.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map_or_else(
                || "unknown".to_string(),
                |pages| format!("{:.1} MB", (pages * 4096) as f64 / 1e6),
            );
        eprintln!(
            "stateleak: heap after {stage:>8}: live {:.1} MB, at most {:.1} MB during it, resident {resident}",
            live as f64 / 1e6,
            peak as f64 / 1e6,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The number is the purge delay's: its default in mimalloc 3 is 1000 ms, and no other
    /// option defaults to that.
    #[test]
    fn the_option_number_is_the_purge_delay() {
        if let Some(value) = std::env::var_os("MIMALLOC_PURGE_DELAY") {
            let expected: c_long = value.to_str().unwrap().parse().unwrap();
            assert_eq!(unsafe { mi_option_get(PURGE_DELAY) }, expected);
        } else {
            assert_eq!(initial_delay(), Some(1000));
        }
    }
}
