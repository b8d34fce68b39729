//! Chunk encodings. Float samples travel in XOR chunks in Prometheus 2.42's
//! remote read and in Thanos v0.26's StoreAPI; see [`xor`] for the format and
//! [`batch`] for decoding many chunks fast.

#[cfg(target_arch = "x86_64")]
mod avx512;
pub mod batch;
pub mod bstream;
pub mod xor;

pub use batch::{decode_into, decode_many};
pub use xor::{encode, num_samples, XorAppender, XorIterator};
