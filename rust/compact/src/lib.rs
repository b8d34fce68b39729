//! thanos-compact: the compactor's work on blocks, under the planning that
//! Python does (which blocks, when, uploads and deletion marks).
//!
//! - [`compact`] merges blocks into one, vertically where they overlap;
//! - [`downsample`] turns a block into one of aggregates at a coarser resolution.

pub mod compact;
pub mod downsample;

pub use compact::{compact_blocks, compact_blocks_with, Dedup};
pub use downsample::downsample_block;
