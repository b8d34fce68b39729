//! thanos-store: the StoreAPI data plane.
//!
//! - [`pb`]: the generated protobuf types of `proto/` (packages `thanos`,
//!   `thanos.info`, `prometheus`).

pub mod pb;
