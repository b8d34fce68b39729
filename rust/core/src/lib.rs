//! thanos-core: what every part of thanos_rs shares.
//!
//! - [`error`]: the one error type and its kinds;
//! - [`chunkenc`]: Prometheus's XOR chunk codec;
//! - [`labels`]: label sets and matchers;
//! - [`timestamp`]: the bounds of time, in milliseconds.

pub mod chunkenc;
pub mod error;
pub mod gotime;
pub mod labels;
pub mod timestamp;

pub use error::{Error, ErrorKind, ParsePosition, Result};
