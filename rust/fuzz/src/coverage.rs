//! Edge coverage from LLVM's SanitizerCoverage, on stable Rust.
//!
//! `scripts/fuzz.sh` compiles the project's crates with
//! `-C passes=sancov-module -C llvm-args=-sanitizer-coverage-level=3
//! -C llvm-args=-sanitizer-coverage-trace-pc-guard`: every edge of the control
//! flow graph gets a 32-bit guard and a call to
//! [`__sanitizer_cov_trace_pc_guard`]. Those callbacks are defined here, as a
//! fuzzing runtime would: the guards are numbered once at start-up, and each
//! call bumps the hit counter of its edge. After an input runs, the counters
//! are bucketed as AFL does (1, 2, 3, 4-7, 8-15, 16-31, 32-127, 128+ hits),
//! and the input is interesting when an edge reaches a bucket it never reached
//! before. A plain `cargo build` has no guards: [`edges`] is then 0 and the
//! fuzzer runs unguided.

use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};

/// Counters, one per edge. The project's four crates have some tens of
/// thousands of edges; more guards than this share counters.
const MAP_SIZE: usize = 1 << 18;

#[repr(C, align(64))]
struct Map([AtomicU8; MAP_SIZE]);

static COUNTS: Map = Map([const { AtomicU8::new(0) }; MAP_SIZE]);
static GUARDS: AtomicU32 = AtomicU32::new(0);

/// Called by the module constructor of every instrumented code unit with the
/// bounds of the guard section; the section is shared, so later calls find it
/// numbered already.
///
/// # Safety
/// `start..stop` must be the guard section, as LLVM passes it.
#[no_mangle]
pub unsafe extern "C" fn __sanitizer_cov_trace_pc_guard_init(start: *mut u32, stop: *mut u32) {
    if start == stop || unsafe { *start } != 0 {
        return;
    }
    let mut p = start;
    while p < stop {
        // Guard 0 would mean "not numbered": start at 1.
        let n = GUARDS.fetch_add(1, Ordering::Relaxed) + 1;
        unsafe {
            *p = n;
            p = p.add(1);
        }
    }
}

/// Called on every instrumented edge. LLVM does not instrument functions
/// named `__sanitizer_*`, so this one does not call itself.
///
/// # Safety
/// `guard` must point at a guard numbered by the init function above.
#[no_mangle]
pub unsafe extern "C" fn __sanitizer_cov_trace_pc_guard(guard: *mut u32) {
    let i = unsafe { *guard } as usize & (MAP_SIZE - 1);
    // Not an atomic increment: a load and a store are two plain moves, and
    // the targets run on one thread. Wrapping at 256 loses nothing that
    // matters: the buckets above 127 are one.
    let c = &COUNTS.0[i];
    c.store(c.load(Ordering::Relaxed).wrapping_add(1), Ordering::Relaxed);
}

/// The number of edges instrumented; 0 in a build without coverage.
pub fn edges() -> usize {
    GUARDS.load(Ordering::Relaxed) as usize
}

/// The AFL hit-count bucket of a counter, as one bit.
fn bucket(count: u8) -> u8 {
    match count {
        0 => 0,
        1 => 1,
        2 => 2,
        3 => 4,
        4..=7 => 8,
        8..=15 => 16,
        16..=31 => 32,
        32..=127 => 64,
        _ => 128,
    }
}

/// The (edge, bucket) pairs reached so far by one target.
pub struct Seen {
    buckets: Vec<u8>,
    /// Edges hit at least once.
    pub covered: usize,
}

impl Seen {
    pub fn new() -> Self {
        Seen { buckets: vec![0; (edges() + 1).min(MAP_SIZE)], covered: 0 }
    }

    /// Clears the counters before an input runs.
    pub fn reset(&self) {
        for c in &COUNTS.0[..self.buckets.len()] {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Folds the counters of the input that just ran into what was seen;
    /// true when it reached a new (edge, bucket) pair.
    pub fn merge(&mut self) -> bool {
        let mut new = false;
        for (seen, c) in self.buckets.iter_mut().zip(&COUNTS.0) {
            let count = c.load(Ordering::Relaxed);
            if count == 0 {
                continue;
            }
            let b = bucket(count);
            if *seen & b == 0 {
                if *seen == 0 {
                    self.covered += 1;
                }
                *seen |= b;
                new = true;
            }
        }
        new
    }
}
