//! Recursion over expression trees that cannot run out of stack. A query is
//! as deep as its text makes it (Prometheus evaluates a chain of 9,000 `+`s),
//! far deeper than a thread's stack allows for frames of an evaluator, so
//! every recursive walk of a tree goes through [`guarded`], which continues on
//! a fresh heap-allocated stack segment when the current one runs low.

/// Below this much stack left, a new segment is started: more than the
/// largest frame of any one level (the evaluator's, a few KiB).
const RED_ZONE: usize = 128 * 1024;
/// Each new segment: room for a few hundred levels.
const SEGMENT: usize = 2 * 1024 * 1024;

#[inline]
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> R {
    stacker::maybe_grow(RED_ZONE, SEGMENT, f)
}
