//! mimalloc as Rust's allocator, taking its plain (unaligned) entry points whenever the layout
//! allows, as std's own `System` allocator does with malloc.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// The alignment every mimalloc block has without asking: every size class is a whole number of
/// words. (Not `MI_MAX_ALIGN_SIZE`: a 24-byte block is only 8-aligned, which is why the
/// `mimalloc` crate gave up its own fast path.)
const PLAIN_ALIGN: usize = std::mem::size_of::<usize>();

/// mimalloc. The `mimalloc` crate calls `mi_malloc_aligned` for every allocation, whose extra
/// checks (and, for a block not already aligned, a slow path) cost 3% of a recursive Rhai
/// function's instructions; a layout whose alignment every block has needs none of them.
pub struct Mi;

#[inline]
fn plain(layout: &Layout) -> bool {
    layout.align() <= PLAIN_ALIGN
}

type Plain = unsafe extern "C" fn(usize) -> *mut c_void;
type Aligned = unsafe extern "C" fn(usize, usize) -> *mut c_void;

/// A block for `layout` from the plain entry point if it may, else from the aligned one.
#[inline(always)]
unsafe fn block(layout: Layout, plain_fn: Plain, aligned_fn: Aligned) -> *mut u8 {
    // SAFETY: both are mimalloc's, called with the caller's size (and alignment).
    unsafe {
        if plain(&layout) {
            plain_fn(layout.size()) as *mut u8
        } else {
            aligned_fn(layout.size(), layout.align()) as *mut u8
        }
    }
}

/// `mi_option_destroy_on_exit`, which the crate exports no constant for: in mimalloc.h's enum it
/// comes right after `mi_option_max_segment_reclaim`.
const OPTION_DESTROY_ON_EXIT: mi::mi_option_t = mi::mi_option_max_segment_reclaim + 1;

/// Leave the heap to the kernel at exit. mimalloc linked into a program collects every heap at
/// exit and hands its pages back one `madvise` at a time (seven for an empty script), work that
/// `exit` does anyway; 2 makes its exit hook return at once (`_mi_auto_process_done`).
pub fn leave_heap_at_exit() {
    // SAFETY: sets one of mimalloc's options to a value it documents; callable at any time.
    unsafe { mi::mi_option_set(OPTION_DESTROY_ON_EXIT, 2) }
}

// SAFETY: every method passes the caller's layout on to mimalloc's matching entry point, which
// returns memory of at least that size and alignment (or null), and frees what it returned.
unsafe impl GlobalAlloc for Mi {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { block(layout, mi::mi_malloc, mi::mi_malloc_aligned) }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: see the impl.
        unsafe { block(layout, mi::mi_zalloc, mi::mi_zalloc_aligned) }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: see the impl.
        unsafe { mi::mi_free(ptr as *mut c_void) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: see the impl; the new layout has the old alignment.
        unsafe {
            if plain(&layout) {
                mi::mi_realloc(ptr as *mut c_void, new_size) as *mut u8
            } else {
                mi::mi_realloc_aligned(ptr as *mut c_void, new_size, layout.align()) as *mut u8
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment a program asks for comes back aligned, on both paths, through
    /// allocation, zeroing and growth.
    #[test]
    fn every_block_has_the_alignment_asked_for() {
        let mut kept = Vec::new();
        for align in [1usize, 2, 4, 8, 16, 32, 64, 4096] {
            for size in (1..=300).chain([1000, 4095, 70_000, 1 << 21]) {
                let Ok(layout) = Layout::from_size_align(size, align) else {
                    continue;
                };
                // SAFETY: a non-zero size; every block is freed with the layout it was made with.
                unsafe {
                    let p = Mi.alloc(layout);
                    let z = Mi.alloc_zeroed(layout);
                    assert!(!p.is_null() && !z.is_null());
                    assert_eq!(p as usize % align, 0, "alloc {size}/{align}");
                    assert_eq!(z as usize % align, 0, "alloc_zeroed {size}/{align}");
                    assert!((0..size).all(|i| *z.add(i) == 0));
                    p.write_bytes(0xa5, size);
                    let r = Mi.realloc(p, layout, size * 3 + 5);
                    assert!(!r.is_null());
                    assert_eq!(r as usize % align, 0, "realloc {size}/{align}");
                    assert!(
                        (0..size).all(|i| *r.add(i) == 0xa5),
                        "realloc kept {size}/{align}"
                    );
                    Mi.dealloc(z, layout);
                    kept.push((r, Layout::from_size_align_unchecked(size * 3 + 5, align)));
                }
            }
        }
        for (p, layout) in kept {
            // SAFETY: each was allocated above with this layout and not freed.
            unsafe { Mi.dealloc(p, layout) }
        }
    }

    /// The option set is the one mimalloc.h's enum puts after `max_segment_reclaim` (whose
    /// default, 10, shows the crate's constant is where the enum has it), and it takes.
    #[test]
    fn the_heap_is_left_to_the_kernel_at_exit() {
        // SAFETY: reads and sets mimalloc options.
        unsafe {
            assert_eq!(mi::mi_option_get(mi::mi_option_max_segment_reclaim), 10);
            leave_heap_at_exit();
            assert_eq!(mi::mi_option_get(OPTION_DESTROY_ON_EXIT), 2);
        }
    }
}
