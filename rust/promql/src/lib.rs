//! thanos-promql: PromQL parsing and evaluation with Prometheus 2.42 semantics.
