//! The system allocator with a cap on any single allocation, so that a length
//! field trusted by a decoder shows up as a crash with its input saved
//! instead of as a machine swapping, or an allocation the overcommitting
//! kernel grants and a later run fails on.

use std::alloc::{GlobalAlloc, Layout, System};

/// Far above anything a well-formed input of a few KiB needs: the largest
/// legitimate allocation is the remote-read frame buffer, capped at 50 MB
/// (`DEFAULT_CHUNKED_READ_LIMIT`).
pub const MAX_ALLOCATION: usize = 256 << 20;

pub struct Capped;

// SAFETY: forwards to `System`; refusing with null is allowed by the contract,
// and the caller then reports the failure (Rust aborts with the size).
unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if layout.size() > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > MAX_ALLOCATION {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
