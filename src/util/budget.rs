//! One evaluation's budget beyond Rhai's operation count: the memory its values hold, the bytes
//! it copies, and the time it computes. What a script's thread allocates is counted as it
//! happens, so a value that keeps growing (or nesting) is stopped at the next operation instead
//! of by re-measuring the whole value after every operation, which Rhai's own size limits do and
//! which makes growth loops quadratic.
//!
//! The counting allocator is installed by the binary (`main.rs`); without it no memory is
//! counted and those limits never trip.

use std::alloc::{GlobalAlloc, Layout};

use crate::util::alloc::Mi as Inner;
use std::cell::Cell;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

/// Allocations smaller than this are not counted: a value grows by the large blocks of its
/// arrays, maps and strings, which are, and a script's every call makes small ones, whose
/// counting would cost more than the limit is worth.
const COUNTED: usize = 64;

/// What scripts must stop for, read between every two operations as one load: bit 0, an
/// interrupt (Ctrl-C, SIGTERM); above it, how many evaluations now running passed a limit (each
/// thread then asks whether it was its own).
static STOP: AtomicU32 = AtomicU32::new(0);
const INTERRUPT: u32 = 1;
const ONE_TRIPPED: u32 = 2;

/// Whether anything asks a script to stop: an interrupt, or some evaluation over its limit.
#[inline]
pub fn stop_asked() -> bool {
    STOP.load(Ordering::Relaxed) != 0
}

/// Ctrl-C or SIGTERM (and, for the REPL's next statement, its end).
pub fn set_interrupted(on: bool) {
    if on {
        STOP.fetch_or(INTERRUPT, Ordering::Relaxed);
    } else {
        STOP.fetch_and(!INTERRUPT, Ordering::Relaxed);
    }
}

pub fn interrupted() -> bool {
    STOP.load(Ordering::Relaxed) & INTERRUPT != 0
}

/// mimalloc, counting for the threads that run scripts. (Not the system allocator: glibc's
/// malloc and free were a seventh of a bulk run's CPU; see README, "Where the time goes".)
pub struct Counting;

/// One script thread's budget for the evaluation it runs now.
struct Budget {
    active: Cell<bool>,
    /// Bytes allocated and not freed by this thread since the evaluation began.
    live: Cell<isize>,
    /// Bytes allocated since it began, freed or not: the work of copying values.
    total: Cell<usize>,
    max_live: Cell<isize>,
    max_total: Cell<usize>,
    /// Which limit was passed (0: none).
    tripped: Cell<u8>,
    /// Whether that is counted in `STOP` (until the evaluation ends).
    counted: Cell<bool>,
    /// When the evaluation began, time spent waiting for vendors since, and the most it may
    /// compute (the rest).
    began: Cell<Option<Instant>>,
    waited: Cell<Duration>,
    max_compute: Cell<Duration>,
}

thread_local! {
    static BUDGET: Budget = const {
        Budget {
            active: Cell::new(false),
            live: Cell::new(0),
            total: Cell::new(0),
            max_live: Cell::new(isize::MAX),
            max_total: Cell::new(usize::MAX),
            tripped: Cell::new(0),
            counted: Cell::new(false),
            began: Cell::new(None),
            waited: Cell::new(Duration::ZERO),
            max_compute: Cell::new(Duration::MAX),
        }
    };
}

/// One evaluation's budget, set aside while its script waits as a coroutine (`run::fibers`) and
/// another script's runs on the same thread.
#[derive(Clone, Copy)]
pub struct Saved {
    active: bool,
    live: isize,
    total: usize,
    max_live: isize,
    max_total: usize,
    tripped: u8,
    counted: bool,
    began: Option<Instant>,
    waited: Duration,
    max_compute: Duration,
}

/// Take this thread's budget off it, leaving it counting nothing.
pub fn take() -> Saved {
    BUDGET
        .try_with(|b| {
            let saved = Saved {
                active: b.active.replace(false),
                live: b.live.get(),
                total: b.total.get(),
                max_live: b.max_live.get(),
                max_total: b.max_total.get(),
                tripped: b.tripped.replace(0),
                // A limit passed stays counted in `STOP` while set aside: the evaluation has
                // not ended.
                counted: b.counted.replace(false),
                began: b.began.take(),
                waited: b.waited.get(),
                max_compute: b.max_compute.get(),
            };
            Some(saved)
        })
        .ok()
        .flatten()
        .unwrap_or(Saved {
            active: false,
            live: 0,
            total: 0,
            max_live: isize::MAX,
            max_total: usize::MAX,
            tripped: 0,
            counted: false,
            began: None,
            waited: Duration::ZERO,
            max_compute: Duration::MAX,
        })
}

/// Put a budget `take` set aside back on this thread.
pub fn put(saved: Saved) {
    let _ = BUDGET.try_with(|b| {
        b.active.set(saved.active);
        b.live.set(saved.live);
        b.total.set(saved.total);
        b.max_live.set(saved.max_live);
        b.max_total.set(saved.max_total);
        b.tripped.set(saved.tripped);
        b.counted.set(saved.counted);
        b.began.set(saved.began);
        b.waited.set(saved.waited);
        b.max_compute.set(saved.max_compute);
    });
}

/// Which limit a script passed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Over {
    /// Its values hold more memory than allowed.
    Memory,
    /// It allocated more than allowed in all (copying values that keep growing or nesting).
    Copying,
    /// It computed longer than allowed (not counting time spent waiting for vendors).
    Time,
}

/// The budget of this thread's next evaluation: bytes its values may hold at once, bytes it may
/// allocate in all, and time it may compute (`0`: no limit). Counting starts from nothing.
pub fn start(max_live: u64, max_total: u64, max_compute: Duration) {
    let _ = BUDGET.try_with(|b| {
        uncount(b);
        b.tripped.set(0);
        b.live.set(0);
        b.total.set(0);
        b.began.set(Some(Instant::now()));
        b.waited.set(Duration::ZERO);
        b.max_compute.set(if max_compute.is_zero() {
            Duration::MAX
        } else {
            max_compute
        });
        b.max_live.set(if max_live == 0 {
            isize::MAX
        } else {
            max_live.min(isize::MAX as u64) as isize
        });
        b.max_total.set(if max_total == 0 {
            usize::MAX
        } else {
            max_total.min(usize::MAX as u64) as usize
        });
        b.active.set(true);
    });
}

/// Stop counting for this thread (its evaluation ended). What it tripped stays readable
/// (`tripped`) until the next `start`.
pub fn stop() {
    let _ = BUDGET.try_with(|b| {
        b.active.set(false);
        uncount(b);
    });
}

/// Whether this thread's evaluation passed a limit: one thread-local read.
#[inline]
pub fn tripped() -> Option<Over> {
    match BUDGET.try_with(|b| b.tripped.get()).unwrap_or(0) {
        0 => None,
        1 => Some(Over::Memory),
        2 => Some(Over::Copying),
        _ => Some(Over::Time),
    }
}

/// Time this thread spent waiting (for a vendor's answer), which is not computing.
pub fn waited(time: Duration) {
    let _ = BUDGET.try_with(|b| b.waited.set(b.waited.get() + time));
}

/// Look at the clock (every few hundred operations): a script whose every operation is slow
/// (a value nesting deeper each pass is walked whole by every assignment) is stopped too.
#[cold]
pub fn check_time() {
    let _ = BUDGET.try_with(|b| {
        if let Some(began) = b.began.get()
            && b.active.get()
            && began.elapsed().saturating_sub(b.waited.get()) > b.max_compute.get()
        {
            trip(b, 3);
        }
    });
}

#[inline]
fn note(grown: isize) {
    let _ = BUDGET.try_with(|b| {
        if !b.active.get() {
            return;
        }
        let live = b.live.get() + grown;
        b.live.set(live);
        if grown > 0 {
            let total = b.total.get().saturating_add(grown as usize);
            b.total.set(total);
            if total > b.max_total.get() {
                trip(b, 2);
            }
        }
        if live > b.max_live.get() {
            trip(b, 1);
        }
    });
}

#[cold]
fn trip(b: &Budget, why: u8) {
    if !b.counted.replace(true) {
        STOP.fetch_add(ONE_TRIPPED, Ordering::Relaxed);
    }
    b.tripped.set(why);
}

/// A limit this thread passed no longer makes other threads' operations ask.
fn uncount(b: &Budget) {
    if b.counted.replace(false) {
        STOP.fetch_sub(ONE_TRIPPED, Ordering::Relaxed);
    }
}

// SAFETY: every call is passed on to mimalloc unchanged; the counting only reads and
// writes this thread's own cells, which allocate nothing.
unsafe impl GlobalAlloc for Counting {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { Inner.alloc(layout) };
        if layout.size() >= COUNTED && !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { Inner.alloc_zeroed(layout) };
        if layout.size() >= COUNTED && !p.is_null() {
            note(layout.size() as isize);
        }
        p
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { Inner.dealloc(ptr, layout) };
        if layout.size() >= COUNTED {
            note(-(layout.size() as isize));
        }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { Inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            let counted = |n: usize| if n >= COUNTED { n as isize } else { 0 };
            let grown = counted(new_size) - counted(layout.size());
            if grown != 0 {
                note(grown);
            }
        }
        p
    }
}
