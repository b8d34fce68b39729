//! Query evaluation with Prometheus 2.42's semantics.
//!
//! A [`Query`] is built once (parse, checks, `@` resolution, the list of
//! selects it needs), then fed series for each select, either from a
//! [`storage::Queryable`] or by a caller that fetches them itself (the querier
//! fetches from StoreAPIs), and then executed.

mod aggregate;
mod binary;
mod eval;
mod functions;
mod gomath;
mod gosort;
pub mod plan;
pub mod stats;
pub mod storage;
pub mod value;

use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use thanos_core::labels::Labels;
use thanos_core::{bail, Error, ErrorKind, Result};

use self::eval::{EvalContext, Evaluator};
use self::plan::{plan_selects, preprocess, Select};
use self::stats::QueryStats;
use self::storage::{Queryable, SeriesSet};
use self::value::{QueryValue, Sample, Value};
use crate::parser::{parse_expr, Expr, ValueType};

/// Prometheus's API refuses range queries with more points than this per series
/// (`web/api/v1/api.go`): enough for a week at a 60 s step or a year at 1 h.
pub const MAX_POINTS_PER_SERIES: i64 = 11_000;

/// What is wrong with a range query's times (ms), checked in the order and
/// worded as Prometheus's API checks them (`queryRange` in
/// `web/api/v1/api.go`): the parameter at fault, none for the point limit,
/// and the message. None when they are fine.
pub fn range_error(start: i64, end: i64, step: i64) -> Option<(Option<&'static str>, &'static str)> {
    if end < start {
        return Some((Some("end"), "end timestamp must not be before start time"));
    }
    if step <= 0 {
        let msg = "zero or negative query resolution step widths are not accepted. Try a positive integer";
        return Some((Some("step"), msg));
    }
    // Saturating, as Go's Time.Sub does: from the API's min to its max time
    // is more than an int64 holds.
    if end.saturating_sub(start) / step > MAX_POINTS_PER_SERIES {
        let msg = "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)";
        return Some((None, msg));
    }
    None
}

#[derive(Clone, Debug)]
pub struct EngineOpts {
    /// How far back an instant selector looks for a sample, ms (`--query.lookback-delta`).
    pub lookback_delta: i64,
    /// Samples a query may hold at once (`--query.max-samples`).
    pub max_samples: usize,
    pub timeout: Option<Duration>,
    /// The step of subqueries written without one, ms.
    pub default_eval_interval: i64,
}

impl Default for EngineOpts {
    /// Prometheus's defaults: 5m lookback, 50 million samples, 2m timeout, 1m
    /// subquery step.
    fn default() -> Self {
        EngineOpts {
            lookback_delta: 300_000,
            max_samples: 50_000_000,
            timeout: Some(Duration::from_secs(120)),
            default_eval_interval: 60_000,
        }
    }
}

pub struct Query {
    expr: Expr,
    value_type: ValueType,
    start: i64,
    end: i64,
    /// 0 for an instant query.
    interval: i64,
    selects: Vec<Select>,
    series: Vec<Option<SeriesSet>>,
    opts: EngineOpts,
    /// When `opts.timeout` runs out: counted from the query's creation, so that
    /// fetching its data counts as well as evaluating it (Prometheus's timeout
    /// also covers the query queue and the selects).
    deadline: Option<Instant>,
}

impl Query {
    /// An instant query at `t` (ms).
    pub fn instant(opts: EngineOpts, query: &str, t: i64) -> Result<Query> {
        Query::new(opts, parse_expr(query)?, t, t, 0)
    }

    /// A range query from `start` to `end` every `step` (ms), with the checks
    /// Prometheus's API applies.
    pub fn range(opts: EngineOpts, query: &str, start: i64, end: i64, step: i64) -> Result<Query> {
        if let Some((_, msg)) = range_error(start, end, step) {
            bail!(BadData, "{msg}");
        }
        let expr = parse_expr(query)?;
        let t = expr.value_type();
        if t != ValueType::Vector && t != ValueType::Scalar {
            bail!(
                BadData,
                "invalid expression type \"{}\" for range query, must be Scalar or instant Vector",
                t.documented()
            );
        }
        Query::new(opts, expr, start, end, step)
    }

    fn new(opts: EngineOpts, expr: Expr, start: i64, end: i64, interval: i64) -> Result<Query> {
        // A timeout too long to represent is no deadline at all.
        let deadline = opts.timeout.and_then(|t| Instant::now().checked_add(t));
        let value_type = expr.value_type();
        let mut expr = preprocess(expr, start, end);
        let selects = plan_selects(&mut expr, start, end, interval, opts.lookback_delta, opts.default_eval_interval);
        let series = vec![None; selects.len()];
        Ok(Query { expr, value_type, start, end, interval, selects, series, opts, deadline })
    }

    /// The selects to answer before [`Query::exec`], one per vector selector.
    pub fn selects(&self) -> &[Select] {
        &self.selects
    }

    pub fn value_type(&self) -> ValueType {
        self.value_type
    }

    pub fn set_series(&mut self, select: usize, series: SeriesSet) {
        self.series[select] = Some(series);
    }

    /// Answers every select from one storage.
    pub fn select_from(&mut self, storage: &dyn Queryable) -> Result<()> {
        for i in 0..self.selects.len() {
            let s = &self.selects[i];
            let series = storage.select(&s.hints, &s.matchers)?;
            self.series[i] = Some(series);
        }
        Ok(())
    }

    /// Evaluates the query. `cancel`, when set while running, stops it.
    pub fn exec(&self, cancel: Option<&AtomicBool>) -> Result<QueryValue> {
        self.exec_with_stats(cancel).map(|(value, _)| value)
    }

    /// [`Query::exec`], and what the evaluation cost.
    pub fn exec_with_stats(&self, cancel: Option<&AtomicBool>) -> Result<(QueryValue, QueryStats)> {
        let data: Vec<SeriesSet> = self
            .series
            .iter()
            .map(|s| {
                s.clone()
                    .ok_or_else(|| Error::new(ErrorKind::Internal, "query executed before its selects were answered"))
            })
            .collect::<Result<_>>()?;
        let ranges: Vec<(i64, i64)> = self.selects.iter().map(|s| (s.hints.start, s.hints.end)).collect();
        let ctx = EvalContext::new(
            self.opts.lookback_delta,
            self.opts.default_eval_interval,
            self.opts.max_samples,
            self.deadline,
            cancel,
            &data,
            &ranges,
        );
        let instant = self.interval == 0;
        let ev = Evaluator {
            start: self.start,
            end: self.end,
            interval: if instant { 1 } else { self.interval },
            ctx: &ctx,
        };
        let evaluating = Instant::now();
        let value = ev.eval(&self.expr)?;
        let mut stats = QueryStats {
            inner_eval: evaluating.elapsed(),
            total_samples: ctx.queryable(),
            peak_samples: ctx.peak_samples(),
            ..QueryStats::default()
        };
        let matrix = match value {
            Value::String(s) => return Ok((QueryValue::String { t: self.start, v: s }, stats)),
            Value::Matrix(m) => m,
        };
        if !instant {
            let sorting = Instant::now();
            let mut matrix = matrix;
            matrix.sort_by(|a, b| a.labels.cmp(&b.labels));
            stats.result_sort = sorting.elapsed();
            return Ok((QueryValue::Matrix(matrix), stats));
        }
        let value = match self.value_type {
            ValueType::Vector => QueryValue::Vector(
                matrix.into_iter().map(|s| Sample { labels: s.labels, t: self.start, v: s.points[0].v }).collect(),
            ),
            ValueType::Scalar => {
                let v = matrix.first().and_then(|s| s.points.first()).map(|p| p.v).unwrap_or(f64::NAN);
                QueryValue::Scalar { t: self.start, v }
            }
            _ => QueryValue::Matrix(matrix),
        };
        Ok((value, stats))
    }
}

/// An engine over its own in-memory series.
pub struct Engine {
    pub opts: EngineOpts,
    pub storage: storage::MemStorage,
}

impl Engine {
    pub fn new(opts: EngineOpts) -> Self {
        Engine { opts, storage: storage::MemStorage::new() }
    }

    pub fn query(&self, query: &str, t: i64) -> Result<QueryValue> {
        let mut q = Query::instant(self.opts.clone(), query, t)?;
        q.select_from(&self.storage)?;
        q.exec(None)
    }

    pub fn query_range(&self, query: &str, start: i64, end: i64, step: i64) -> Result<QueryValue> {
        let mut q = Query::range(self.opts.clone(), query, start, end, step)?;
        q.select_from(&self.storage)?;
        q.exec(None)
    }

    pub fn append(&mut self, labels: Labels, ts: &[i64], vs: &[f64]) -> Result<()> {
        self.storage.append(labels, ts, vs)
    }

    /// Adds the samples of an OpenMetrics text (timestamps in seconds).
    pub fn load_openmetrics(&mut self, text: &str) -> Result<()> {
        for (labels, ts, vs) in crate::openmetrics::parse(text)? {
            self.append(labels, &ts, &vs)?;
        }
        Ok(())
    }
}
