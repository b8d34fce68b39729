//! thanos-store: the StoreAPI data plane.
//!
//! - [`pb`]: the generated protobuf types of `proto/` (packages `thanos`,
//!   `thanos.info`, `prometheus`);
//! - [`remote`]: Prometheus remote read: the request and the streamed frames;
//!   and the decoder of a remote-write body;
//! - [`prometheus`]: the sidecar's StoreAPI over one Prometheus;
//! - [`info`]: the Info answers;
//! - [`labelpb`], [`storepb`], [`promclient`]: labels, matchers and Prometheus
//!   HTTP API answers on the wire.

pub mod info;
pub mod labelpb;
pub mod pb;
pub mod promclient;
pub mod prometheus;
pub mod remote;
pub mod storepb;
