//! thanos-store: the StoreAPI data plane.
//!
//! - [`pb`]: the generated protobuf types of `proto/` (packages `thanos`,
//!   `thanos.info`, `prometheus`);
//! - [`remote`]: Prometheus remote read: the request and the streamed frames;
//!   and the decoder of a remote-write body;
//! - [`remote_client`]: the HTTP client that asks Prometheus for it;
//! - [`request`]: what a StoreAPI call asks of a sidecar, decided once;
//! - [`response`]: the `SeriesResponse` messages it sends, written from the
//!   bytes they carry ([`wire`]: protobuf's wire format by hand);
//! - [`prometheus`]: the sidecar's StoreAPI over one Prometheus's HTTP APIs;
//! - [`tsdb`]: the same over Prometheus's data directory (`--tsdb.path`);
//! - [`bucket`]: the store gateway's StoreAPI over blocks in object storage,
//!   within the [`limiter`]'s limits;
//! - [`rules`]: the sidecar's Rules API over Prometheus's `/api/v1/rules`;
//! - [`info`]: the Info answers;
//! - [`metricmeta`], [`targets`], [`exemplars`]: the sidecar's Metadata,
//!   Targets and Exemplars APIs over Prometheus's HTTP API;
//! - [`labelpb`], [`storepb`], [`promclient`]: labels, matchers and Prometheus
//!   HTTP API answers on the wire.

pub mod bucket;
pub mod exemplars;
pub mod info;
pub mod labelpb;
pub mod limiter;
pub mod metricmeta;
pub mod pb;
pub mod promclient;
pub mod prometheus;
pub mod remote;
pub mod remote_client;
pub mod request;
pub mod response;
pub mod rules;
pub mod storepb;
pub mod targets;
pub mod tsdb;
mod wire;
