//! thanos-compact: the compactor's work on blocks, under the planning that
//! Python does (which blocks, when, uploads and deletion marks).
//!
//! - [`compact`] merges blocks into one, vertically where they overlap.

pub mod compact;

pub use compact::compact_blocks;
