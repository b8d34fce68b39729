//! thanos-query: the querier's data plane, from store selection to the
//! series the PromQL engine reads (Thanos's `pkg/query`, `pkg/store/proxy.go`
//! and `pkg/dedup`).
//!
//! - [`select`]: which stores a select asks and the `SeriesRequest` it sends;
//! - [`response`]: a store's `Series` stream decoded, chunks left compressed;
//! - [`merge`]: the k-way merge of the stores' sorted streams;
//! - [`downsampled`]: downsampled chunks read as the select's function asks;
//! - [`dedup`]: grouping of HA replicas and the penalty deduplication;
//! - [`series`]: the engine's view of a merged, deduplicated series;
//! - [`querier`]: a PromQL query driven through those steps;
//! - [`metadata`]: the series and label APIs;
//! - [`proxy`]: the querier's own StoreAPI, for stacking queriers, and
//!   [`proxy_heap`], the merge that streams its answer;
//! - [`rules`]: the Rules API's answers merged, deduplicated and written
//!   as Prometheus's `/api/v1/rules` and `/api/v1/alerts`;
//! - [`metricmeta`], [`targets`], [`exemplars`]: the Metadata, Targets and
//!   Exemplars APIs' requests, and their answers merged and written as JSON;
//! - [`info`]: reading endpoints' Info answers and announcing the querier.

pub mod dedup;
pub mod downsampled;
pub mod exemplars;
pub mod info;
pub mod matchsets;
pub mod merge;
pub mod metadata;
pub mod metricmeta;
pub mod proxy;
pub mod proxy_heap;
pub mod querier;
pub mod response;
pub mod rules;
pub mod select;
pub mod series;
pub mod storematch;
pub mod targets;
