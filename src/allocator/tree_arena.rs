//! Syntax trees built in a per-thread arena and discarded whole.
//!
//! A syntax tree is a few hundred thousand small blocks (a node per expression, a vector per
//! body), each allocated once and all freed together when the file's facts are made; freeing them
//! walks the whole tree again. While [`with_tree`] builds a tree, the binary's allocator hands
//! out this thread's slot of one reserved address range by bumping a pointer, and frees inside the
//! range do nothing. Once the tree has been read it is forgotten, not dropped, and the slot is
//! used again from its start for the next file.
//!
//! What keeps it sound:
//! - Only the builder passed to [`with_tree`] allocates from the slot, and its contract is that
//!   what it allocates is owned by the tree it returns (Ruff's parser 0.0.10 initialises no static
//!   or thread-local lazily: nothing it allocates outlives the tree). The reader runs on the heap.
//! - While the thread panics, allocations go to the heap (the panic hook and the payload live
//!   past the unwinding).
//! - A block of the slot grown outside it is copied to the heap; a heap block grown inside stays
//!   on the heap. Frees inside the range are no-ops, so a tree dropped normally is freed right.
//! - If anything of the tree went to the heap (the slot was full, or a cache of a node was filled
//!   outside [`in_tree_of`]), the tree is dropped normally instead of forgotten.
//! - Memory stays bounded: a slot holds at most [`SLOT_BYTES`] (a larger tree goes on in the heap),
//!   the pages past [`KEPT_BYTES`] are returned after each file, and [`return_idle_pages`] returns
//!   all pages of the slots not in use once the files are parsed.

use std::alloc::Layout;
use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// Address space of one thread's slot. A tree takes about thirty times its text and the slot
/// also keeps what the parser freed while building it, so a slot serves texts of several MB.
const SLOT_BYTES: usize = 256 << 20;
/// Threads that hold a slot at once; a thread past them builds its trees on the heap.
const SLOTS: usize = 16;
/// Pages of a slot kept mapped from one file to the next (a tree's first pages fault in once per
/// thread, not once per file); what a larger tree touched past them is returned after it.
const KEPT_BYTES: usize = 8 << 20;

/// Length of the reserved range.
const RANGE_LEN: usize = SLOTS * SLOT_BYTES;
/// Start of the reserved range. Until it is reserved, the last `RANGE_LEN` bytes of the address
/// space, where no block lies: every free asks [`owns`], which then reads this one word only.
static RANGE_START: AtomicUsize = AtomicUsize::new(0usize.wrapping_sub(RANGE_LEN));
/// Which slots a thread holds (bit per slot).
static CLAIMED: AtomicUsize = AtomicUsize::new(0);
/// Whether a slot is building or reading a tree, or being returned to the system.
static BUSY: [AtomicBool; SLOTS] = [const { AtomicBool::new(false) }; SLOTS];
/// How far into each slot pages may be mapped.
static TOUCHED: [AtomicUsize; SLOTS] = [const { AtomicUsize::new(0) }; SLOTS];

/// This thread's bump state.
struct Bump {
    /// Where the next block goes; 0 while allocations go to the heap.
    next: Cell<usize>,
    /// The slot's start and end while it is in use.
    start: Cell<usize>,
    end: Cell<usize>,
    /// Where the tree being read ends (0 when none is): a cache filled in it goes on from there.
    tree_end: Cell<usize>,
    /// Something was allocated on the heap while the slot was being filled.
    spilled: Cell<bool>,
}

thread_local! {
    static BUMP: Bump = const {
        Bump {
            next: Cell::new(0),
            start: Cell::new(0),
            end: Cell::new(0),
            tree_end: Cell::new(0),
            spilled: Cell::new(false),
        }
    };
    /// The slot this thread holds, if any, claimed at its first tree and given up when it ends.
    static CLAIM: Claim = Claim::take();
}

/// Whether this thread is building or filling a tree, so that what it allocates now comes from
/// its slot and is overwritten by the next file's tree: code that keeps what it allocates past
/// the tree (the interner) asserts that it is not.
pub(crate) fn building_tree() -> bool {
    BUMP.with(|bump| bump.next.get() != 0)
}

/// Whether `ptr` lies in the reserved range (then it was given by a slot and is never freed).
#[inline(always)]
pub(super) fn owns(ptr: *mut u8) -> bool {
    (ptr as usize).wrapping_sub(RANGE_START.load(Ordering::Acquire)) < RANGE_LEN
}

/// A block from this thread's slot, or null when the slot is not in use (or full, or the thread
/// panics): the caller then takes it from the heap.
#[inline(always)]
pub(super) fn alloc(layout: Layout) -> *mut u8 {
    BUMP.with(|bump| {
        let next = bump.next.get();
        if next == 0 {
            return std::ptr::null_mut();
        }
        bump_from(bump, next, layout)
    })
}

#[inline(always)]
fn bump_from(bump: &Bump, next: usize, layout: Layout) -> *mut u8 {
    // No overflow: a slot ends far below the top of the address space, and a size is at most
    // `isize::MAX`.
    let start = (next + layout.align() - 1) & !(layout.align() - 1);
    let end = start + layout.size();
    if end <= bump.end.get() && !std::thread::panicking() {
        bump.next.set(end);
        start as *mut u8
    } else {
        bump.spilled.set(true);
        std::ptr::null_mut()
    }
}

/// Grows or shrinks a block of the reserved range. A shrink stays in place (the tail is left
/// unused unless the block is the slot's last); a growth too when the block is the slot's last and
/// the slot is in use, else it is copied into a new block (`alloc`'s, from the slot or the heap).
///
/// # Safety
/// `ptr` is a block of `layout` in the reserved range and `new_size` is valid for its alignment.
#[inline]
pub(super) unsafe fn realloc(
    ptr: *mut u8,
    layout: Layout,
    new_size: usize,
    alloc: impl FnOnce(Layout) -> *mut u8,
) -> *mut u8 {
    let grown_in_place = BUMP.with(|bump| {
        let next = bump.next.get();
        let start = ptr as usize;
        let end = start + new_size;
        let last = next != 0 && start + layout.size() == next;
        if new_size <= layout.size() {
            if last {
                bump.next.set(end);
            }
            true
        } else if last && end <= bump.end.get() && !std::thread::panicking() {
            bump.next.set(end);
            true
        } else {
            false
        }
    });
    if grown_in_place {
        return ptr;
    }
    // SAFETY: the caller's contract makes this layout valid.
    let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
    let new = alloc(new_layout);
    if !new.is_null() {
        // SAFETY: both blocks are live and distinct; the copy is within both.
        unsafe { std::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size)) };
    }
    new
}

/// Builds a value with every block it allocates taken from this thread's slot, hands it to `read`
/// (which allocates on the heap) and discards it whole: forgotten, and the slot used again. When
/// the thread holds no slot, or something of the value went to the heap, it is built and dropped
/// as usual.
///
/// # Safety
/// Every block `build` allocates and does not free must be owned by the value it returns (no
/// static, thread-local or captured collection may keep one), since the slot is reused after
/// `read` returns.
pub(crate) unsafe fn with_tree<T, R>(build: impl FnOnce() -> T, read: impl FnOnce(&T) -> R) -> R {
    let Some(slot) = CLAIM.with(Claim::start_use) else {
        return read(&build());
    };
    let in_use = InUse { slot };
    let tree = {
        let _filling = Filling::from(slot_start(slot));
        build()
    };
    let tree = Discarded {
        tree: ManuallyDrop::new(tree),
        _in_use: in_use,
    };
    read(&tree.tree)
}

/// Runs `fill` with its allocations taken from this thread's slot when `node` lies in the tree
/// [`with_tree`] reads (a cache inside the tree, filled on first read), else as usual.
///
/// # Safety
/// Every block `fill` allocates and does not free must be owned by the tree `node` belongs to.
pub(crate) unsafe fn in_tree_of<N, R>(node: &N, fill: impl FnOnce() -> R) -> R {
    let address = node as *const N as usize;
    let filling = BUMP.with(|bump| {
        let (start, tree_end) = (bump.start.get(), bump.tree_end.get());
        (bump.next.get() == 0 && address.wrapping_sub(start) < tree_end.wrapping_sub(start))
            .then(|| Filling::from(tree_end))
    });
    let filled = fill();
    drop(filling);
    filled
}

/// Returns the pages of every slot not in use to the system (after the parse stage, when no
/// tree is built for a while).
pub(crate) fn return_idle_pages() {
    let claimed = CLAIMED.load(Ordering::Acquire);
    for slot in (0..SLOTS).filter(|slot| claimed & (1 << slot) != 0) {
        if BUSY[slot].swap(true, Ordering::Acquire) {
            continue;
        }
        release_pages(slot, 0);
        BUSY[slot].store(false, Ordering::Release);
    }
}

fn slot_start(slot: usize) -> usize {
    RANGE_START.load(Ordering::Acquire) + slot * SLOT_BYTES
}

/// Returns the pages of `slot` past `keep` bytes; the caller holds the slot busy.
fn release_pages(slot: usize, keep: usize) {
    let touched = TOUCHED[slot].load(Ordering::Relaxed);
    if touched <= keep {
        return;
    }
    // SAFETY: the range lies in the reservation, and no block in it is live (the slot is busy
    // with no tree built or read); the pages read as zero if used again.
    unsafe {
        libc::madvise(
            (slot_start(slot) + keep) as *mut libc::c_void,
            touched - keep,
            libc::MADV_DONTNEED,
        );
    }
    TOUCHED[slot].store(keep, Ordering::Relaxed);
}

/// Reserves the range once (address space only: pages are mapped as they are first written).
fn reserved() -> bool {
    static RESERVED: OnceLock<bool> = OnceLock::new();
    *RESERVED.get_or_init(|| {
        // SAFETY: a fresh private anonymous mapping; nothing else refers to it.
        let start = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                RANGE_LEN,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if start == libc::MAP_FAILED {
            return false;
        }
        RANGE_START.store(start as usize, Ordering::Release);
        true
    })
}

/// A thread's hold on a slot.
struct Claim {
    slot: Option<usize>,
}

impl Claim {
    fn take() -> Claim {
        if !reserved() {
            return Claim { slot: None };
        }
        let mut claimed = CLAIMED.load(Ordering::Relaxed);
        loop {
            let free = (!claimed).trailing_zeros() as usize;
            if free >= SLOTS {
                return Claim { slot: None };
            }
            match CLAIMED.compare_exchange_weak(
                claimed,
                claimed | (1 << free),
                Ordering::AcqRel,
                Ordering::Relaxed,
            ) {
                Ok(_) => return Claim { slot: Some(free) },
                Err(now) => claimed = now,
            }
        }
    }

    /// The slot, marked busy, unless this thread holds none or is already using it (a tree built
    /// while another is read is built on the heap).
    fn start_use(&self) -> Option<usize> {
        let slot = self.slot?;
        (!BUSY[slot].swap(true, Ordering::Acquire)).then_some(slot)
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if let Some(slot) = self.slot {
            while BUSY[slot].swap(true, Ordering::Acquire) {
                std::hint::spin_loop();
            }
            release_pages(slot, 0);
            BUSY[slot].store(false, Ordering::Release);
            CLAIMED.fetch_and(!(1 << slot), Ordering::AcqRel);
        }
    }
}

/// Allocations of this thread go to its slot, from `from` on, until this is dropped (also when
/// the builder unwinds); then the tree ends where they stopped.
struct Filling;

impl Filling {
    fn from(from: usize) -> Filling {
        BUMP.with(|bump| {
            if bump.tree_end.get() == 0 {
                let start = from;
                bump.start.set(start);
                bump.end.set(start + SLOT_BYTES);
                bump.spilled.set(false);
            }
            bump.next.set(from);
        });
        Filling
    }
}

impl Drop for Filling {
    fn drop(&mut self) {
        BUMP.with(|bump| {
            bump.tree_end.set(bump.next.get());
            bump.next.set(0);
        });
    }
}

/// The end of a slot's use: the tree forgotten if it lies wholly in the slot, else dropped.
struct Discarded<T> {
    tree: ManuallyDrop<T>,
    _in_use: InUse,
}

impl<T> Drop for Discarded<T> {
    fn drop(&mut self) {
        if BUMP.with(|bump| bump.spilled.get()) {
            // SAFETY: dropped once, here; blocks of the slot are freed as no-ops.
            unsafe { ManuallyDrop::drop(&mut self.tree) };
        }
    }
}

/// The slot marked busy; given back (with its pages past [`KEPT_BYTES`]) when dropped, after the
/// tree (fields drop in order).
struct InUse {
    slot: usize,
}

impl Drop for InUse {
    fn drop(&mut self) {
        let used = BUMP.with(|bump| {
            let used = bump.tree_end.get().saturating_sub(bump.start.get());
            bump.tree_end.set(0);
            used
        });
        TOUCHED[self.slot].fetch_max(used, Ordering::Relaxed);
        release_pages(self.slot, KEPT_BYTES);
        BUSY[self.slot].store(false, Ordering::Release);
    }
}
