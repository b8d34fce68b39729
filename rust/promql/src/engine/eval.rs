//! The evaluator: every node of the tree evaluates over all steps at once to a
//! matrix whose points sit on the steps, as in Prometheus's engine
//! (`promql/engine.go`, `evaluator.eval`). Selectors read storage series by
//! series; operators and most functions then work per series too, and only
//! what needs a whole step at a time (aggregations, vector matching,
//! `histogram_quantile`...) goes step by step through [`Evaluator::range_eval`].

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind, Result};

use super::storage::{SeriesData, SeriesSet};
use super::value::{is_stale_nan, same_labelset, Matrix, Point, Series, Value};
use super::{aggregate, binary, functions};
use crate::parser::ast::{Expr, MatrixSelector, SubqueryExpr, VectorSelector};
use crate::parser::lex::ItemType;

/// What all evaluators of one query share.
pub(crate) struct EvalContext<'a> {
    pub lookback: i64,
    /// Step of subqueries written without one.
    pub default_eval_interval: i64,
    pub max_samples: usize,
    /// Samples currently held, against `max_samples` (Prometheus's
    /// `currentSamples`, counted per node output and per range window).
    samples: Cell<usize>,
    /// The most samples held at once (Prometheus's `peakSamples`).
    peak: Cell<usize>,
    /// Samples selectors read (Prometheus's `totalQueryableSamples`).
    queryable: Cell<i64>,
    pub deadline: Option<Instant>,
    pub cancel: Option<&'a AtomicBool>,
    pub data: &'a [SeriesSet],
    /// Each select's `[start, end]` (its hints): what storage returns.
    ranges: &'a [(i64, i64)],
}

impl<'a> EvalContext<'a> {
    pub fn new(
        lookback: i64,
        default_eval_interval: i64,
        max_samples: usize,
        deadline: Option<Instant>,
        cancel: Option<&'a AtomicBool>,
        data: &'a [SeriesSet],
        ranges: &'a [(i64, i64)],
    ) -> Self {
        EvalContext {
            lookback,
            default_eval_interval,
            max_samples,
            samples: Cell::new(0),
            peak: Cell::new(0),
            queryable: Cell::new(0),
            deadline,
            cancel,
            data,
            ranges,
        }
    }

    /// Appends the samples of a selected series in `[mint, maxt]`, but none
    /// outside its select's range: Prometheus's storage trims the series it
    /// returns to the select hints' `[start, end]` (tsdb/querier.go,
    /// `blockQuerier.Select`), which shows wherever 2.42 evaluates a selector
    /// outside the range it planned for it (`@` in calls evaluated per step).
    pub fn read(
        &self,
        select_id: usize,
        s: &dyn SeriesData,
        mint: i64,
        maxt: i64,
        ts: &mut Vec<i64>,
        vs: &mut Vec<f64>,
    ) -> Result<()> {
        let (lo, hi) = self.ranges[select_id];
        let (mint, maxt) = (mint.max(lo), maxt.min(hi));
        if mint > maxt {
            return Ok(());
        }
        s.samples(mint, maxt, ts, vs)
    }

    pub fn add_samples(&self, n: usize) -> Result<()> {
        let now = self.samples.get() + n;
        if now > self.max_samples {
            return Err(Error::new(
                ErrorKind::Execution,
                "query processing would load too many samples into memory in query execution",
            ));
        }
        self.samples.set(now);
        self.peak.set(self.peak.get().max(now));
        Ok(())
    }

    /// Counts samples read by a selector (see
    /// [`super::stats::QueryStats::total_samples`]).
    pub fn count_queryable(&self, n: usize) {
        // Wrapping, as Go's int64 counter does: a subquery's steps are unbounded.
        self.queryable.set(self.queryable.get().wrapping_add(n as i64));
    }

    /// The samples read so far; setting it back leaves out what was read
    /// since, as Prometheus leaves out a subquery's own reads where a
    /// function takes its result as a range.
    pub fn queryable(&self) -> i64 {
        self.queryable.get()
    }

    pub fn set_queryable(&self, n: i64) {
        self.queryable.set(n);
    }

    pub fn peak_samples(&self) -> usize {
        self.peak.get()
    }

    pub fn release_samples(&self, n: usize) {
        self.samples.set(self.samples.get().saturating_sub(n));
    }

    /// The query's deadline and cancellation, checked between pieces of work.
    pub fn check_done(&self) -> Result<()> {
        if self.cancel.is_some_and(|c| c.load(Ordering::Relaxed)) {
            return Err(Error::new(ErrorKind::Canceled, "query was canceled in expression evaluation"));
        }
        if self.deadline.is_some_and(|d| Instant::now() > d) {
            return Err(Error::new(ErrorKind::Timeout, "query timed out in expression evaluation"));
        }
        Ok(())
    }
}

/// An evaluation over the steps `start, start+interval, ..., end` (ms).
#[derive(Clone, Copy)]
pub(crate) struct Evaluator<'a> {
    pub start: i64,
    pub end: i64,
    pub interval: i64,
    pub ctx: &'a EvalContext<'a>,
}

/// A series' labels and, for each step where a selector picks one of its
/// samples, the step and the sample's time.
pub(crate) type PickedSamples = (Arc<Labels>, Vec<(i64, i64)>);

/// One step's instant vector during [`Evaluator::range_eval`]: for each input
/// series with a point at the step, its index and value.
pub(crate) type StepVector = Vec<(usize, f64)>;

pub(crate) fn total_points(m: &Matrix) -> usize {
    m.iter().map(|s| s.points.len()).sum()
}

impl<'a> Evaluator<'a> {
    /// None when the range holds no step: a subquery window too short to
    /// contain a multiple of its step.
    pub fn num_steps(&self) -> usize {
        if self.end < self.start {
            return 0;
        }
        // In i128: a subquery's steps can span more than int64 holds.
        let n = (i128::from(self.end) - i128::from(self.start)) / i128::from(self.interval);
        usize::try_from(n).unwrap_or(usize::MAX).saturating_add(1)
    }

    pub fn step_ts(&self, i: usize) -> i64 {
        self.start.wrapping_add((i as i64).wrapping_mul(self.interval))
    }

    /// The step that a point of the evaluation lies on: the inverse of
    /// [`Evaluator::step_ts`]. A time before the start is step 0; a subquery's
    /// steps can span more than int64 holds, and only then is the division
    /// done in i128 (a library call, on the path of every point).
    pub fn step_index(&self, t: i64) -> usize {
        match t.checked_sub(self.start) {
            Some(d) => usize::try_from(d / self.interval).unwrap_or(0),
            None => usize::try_from((i128::from(t) - i128::from(self.start)) / i128::from(self.interval)).unwrap_or(0),
        }
    }

    pub fn steps(&self) -> impl Iterator<Item = i64> + '_ {
        (0..self.num_steps()).map(|i| self.step_ts(i))
    }

    pub fn eval(&self, expr: &Expr) -> Result<Value> {
        crate::stack::guarded(|| self.eval_node(expr))
    }

    fn eval_node(&self, expr: &Expr) -> Result<Value> {
        self.ctx.check_done()?;
        if self.end < self.start && !matches!(expr, Expr::StepInvariant(_) | Expr::Paren(_) | Expr::StringLiteral(_)) {
            // A subquery window that holds no step: 2.42's loops over the steps
            // run zero times, so nothing comes out, but for a step-invariant
            // node, evaluated once at the start whatever the end.
            return Ok(Value::Matrix(Matrix::new()));
        }
        match expr {
            Expr::NumberLiteral(n) => Ok(Value::Matrix(vec![self.scalar_series(|_| n.val)?])),
            Expr::StringLiteral(s) => Ok(Value::String(s.val.clone())),
            Expr::Paren(p) => self.eval(&p.expr),
            Expr::Unary(u) => {
                let mut m = self.eval_matrix(&u.expr)?;
                if u.op == ItemType::Sub {
                    for s in &mut m {
                        s.labels = drop_metric_name(&s.labels);
                        for p in &mut s.points {
                            p.v = -p.v;
                        }
                    }
                    check_unique_labels(&m)?;
                }
                Ok(Value::Matrix(m))
            }
            Expr::VectorSelector(vs) => self.vector_selector(vs).map(Value::Matrix),
            Expr::MatrixSelector(ms) => {
                if self.start != self.end {
                    return Err(Error::new(ErrorKind::Internal, "cannot do range evaluation of matrix selector"));
                }
                self.matrix_selector(ms).map(Value::Matrix)
            }
            Expr::Subquery(sq) => self.subquery(sq).map(Value::Matrix),
            Expr::StepInvariant(inner) => self.step_invariant(inner),
            Expr::Aggregate(a) => aggregate::eval(self, a).map(Value::Matrix),
            Expr::Binary(b) => binary::eval(self, b).map(Value::Matrix),
            Expr::Call(c) => functions::eval(self, c).map(Value::Matrix),
        }
    }

    pub fn eval_matrix(&self, expr: &Expr) -> Result<Matrix> {
        Ok(self.eval(expr)?.into_matrix())
    }

    /// A scalar: one series without labels, a point on every step.
    pub fn scalar_series(&self, f: impl Fn(i64) -> f64) -> Result<Series> {
        self.ctx.add_samples(self.num_steps())?;
        Ok(Series { labels: Arc::new(Labels::new()), points: self.steps().map(|t| Point { t, v: f(t) }).collect() })
    }

    /// A scalar argument's value at every step (scalars have a point on each).
    pub fn scalar_values(&self, expr: &Expr) -> Result<Vec<f64>> {
        Ok(self.scalar_steps(&self.eval_matrix(expr)?))
    }

    /// An evaluated scalar's value at every step. A point past the last step
    /// is left out: what a step-invariant node evaluated at the start of a
    /// range that holds no step gives (2.42 keeps it and never reads it).
    pub fn scalar_steps(&self, scalar: &Matrix) -> Vec<f64> {
        let mut out = vec![f64::NAN; self.num_steps()];
        if let Some(s) = scalar.first() {
            for p in &s.points {
                if let Some(slot) = out.get_mut(((p.t - self.start) / self.interval) as usize) {
                    *slot = p.v;
                }
            }
        }
        out
    }

    /// Evaluates once at the start and repeats the result on every step.
    fn step_invariant(&self, inner: &Expr) -> Result<Value> {
        if matches!(inner, Expr::NumberLiteral(_) | Expr::StringLiteral(_)) {
            return self.eval(inner);
        }
        // Prometheus 2.42 counts the one evaluation's reads at every step.
        let read_before = self.ctx.queryable();
        let once = Evaluator { end: self.start, ..*self };
        let value = once.eval(inner)?;
        let read = self.ctx.queryable().wrapping_sub(read_before);
        self.ctx.set_queryable(read_before.wrapping_add(read.wrapping_mul(self.num_steps() as i64)));
        let mut m = match value {
            Value::Matrix(m) if !matches!(inner.unwrapped(), Expr::MatrixSelector(_) | Expr::Subquery(_)) => m,
            other => return Ok(other),
        };
        // Past the end already (a subquery window without a step in it), the
        // one evaluation at the start stands, as in 2.42.
        if self.end <= self.start {
            return Ok(Value::Matrix(m));
        }
        let extra = (self.num_steps() - 1) * m.len();
        self.ctx.add_samples(extra)?;
        for s in &mut m {
            let v = s.points[0].v;
            s.points = self.steps().map(|t| Point { t, v }).collect();
        }
        Ok(Value::Matrix(m))
    }

    /// The time a selector reads at for the step `t`: `offset` shifts it
    /// back, and `@` pins it at the evaluator's first step. Prometheus 2.42
    /// turns `@ T` into an offset from that first step
    /// (`setOffsetForAtModifier`), so where a node with `@` is evaluated at
    /// every step (the range argument of `predict_linear`, or of a call with
    /// another argument that varies per step) its window moves on with the
    /// steps; everywhere else such nodes are evaluated once, at the first step.
    pub fn reference_time(&self, t: i64, timestamp: Option<i64>, offset: i64) -> i64 {
        match timestamp {
            // Wrapping, as Go's int64 arithmetic: `@` and offsets reach the
            // ends of int64 (a debug build panicked here; found by fuzzing).
            Some(at) => at.wrapping_sub(offset).wrapping_add(t.wrapping_sub(self.start)),
            None => t.wrapping_sub(offset),
        }
    }

    /// An instant vector selector: per series, the newest sample at or before
    /// each step's reference time within the lookback window (both ends
    /// included, as in Prometheus 2.42), unless it is a stale marker.
    fn vector_selector(&self, vs: &VectorSelector) -> Result<Matrix> {
        let mut out = Matrix::new();
        let reference = |t| self.reference_time(t, vs.timestamp, vs.original_offset);
        self.for_each_pick(vs, reference, |labels, points| {
            if !points.is_empty() {
                self.ctx.add_samples(points.len())?;
                self.ctx.count_queryable(points.len());
                out.push(Series {
                    labels: labels.clone(),
                    points: points.iter().map(|&(t, _, v)| Point { t, v }).collect(),
                });
            }
            Ok(())
        })?;
        Ok(out)
    }

    /// What `timestamp(selector)` needs: for each step where the selector picks
    /// a sample, the step and the sample's own time. Prometheus 2.42 reads a
    /// selector with `@ T` here at `T` itself, leaving out its `offset`, from
    /// data that storage trimmed to `T - offset` (engine.go, the `timestamp`
    /// case of `eval`); fixed later upstream, matched here as users see it.
    pub fn vector_selector_samples(&self, vs: &VectorSelector) -> Result<Vec<PickedSamples>> {
        let mut out = Vec::new();
        let reference = |t: i64| vs.timestamp.unwrap_or(t.wrapping_sub(vs.original_offset));
        self.for_each_pick(vs, reference, |labels, points| {
            self.ctx.count_queryable(points.len());
            out.push((labels.clone(), points.iter().map(|&(t, sample_t, _)| (t, sample_t)).collect()));
            Ok(())
        })?;
        Ok(out)
    }

    /// Runs the selector over each series and hands `f` the picks: (step,
    /// sample time, value) for every step that has one.
    /// `reference` gives the time read at for each step; it never decreases.
    fn for_each_pick(
        &self,
        vs: &VectorSelector,
        reference: impl Fn(i64) -> i64,
        mut f: impl FnMut(&Arc<Labels>, &[(i64, i64, f64)]) -> Result<()>,
    ) -> Result<()> {
        let lookback = self.ctx.lookback;
        let (first_ref, last_ref) = (reference(self.start), reference(self.end));
        let (mut ts, mut vals, mut picks) = (Vec::new(), Vec::new(), Vec::new());
        for (i, s) in self.ctx.data[vs.select_id].iter().enumerate() {
            if i % 1024 == 0 {
                self.ctx.check_done()?;
            }
            ts.clear();
            vals.clear();
            picks.clear();
            self.ctx.read(vs.select_id, s.as_ref(), first_ref.wrapping_sub(lookback), last_ref, &mut ts, &mut vals)?;
            let mut next = 0;
            for (step, t) in self.steps().enumerate() {
                if step % 4096 == 4095 {
                    // Subqueries can have any number of steps: stay interruptible.
                    self.ctx.check_done()?;
                }
                let r = reference(t);
                while next < ts.len() && ts[next] <= r {
                    next += 1;
                }
                if next > 0 && ts[next - 1] >= r.wrapping_sub(lookback) && !is_stale_nan(vals[next - 1]) {
                    picks.push((t, ts[next - 1], vals[next - 1]));
                }
            }
            f(s.labels(), &picks)?;
        }
        Ok(())
    }

    /// A range selector evaluated on its own (only in instant queries): the raw
    /// samples in `[t - range, t]` without stale markers.
    fn matrix_selector(&self, ms: &MatrixSelector) -> Result<Matrix> {
        let series = &self.ctx.data[ms.vs.select_id];
        let maxt = self.reference_time(self.start, ms.vs.timestamp, ms.vs.original_offset);
        let mint = maxt.wrapping_sub(ms.range);
        let mut out = Matrix::with_capacity(series.len());
        for s in series {
            let (mut ts, mut vals) = (Vec::new(), Vec::new());
            self.ctx.read(ms.vs.select_id, s.as_ref(), mint, maxt, &mut ts, &mut vals)?;
            let points: Vec<Point> =
                ts.into_iter().zip(vals).filter(|(_, v)| !is_stale_nan(*v)).map(|(t, v)| Point { t, v }).collect();
            self.ctx.count_queryable(points.len());
            if !points.is_empty() {
                self.ctx.add_samples(points.len())?;
                out.push(Series { labels: s.labels().clone(), points });
            }
        }
        Ok(out)
    }

    /// A subquery's inner expression evaluated on its own steps: multiples of its
    /// step covering `[t - offset - range, t - offset]` for every outer step `t`
    /// (or for the `@` time).
    pub fn subquery(&self, sq: &SubqueryExpr) -> Result<Matrix> {
        let interval = if sq.step != 0 { sq.step } else { self.ctx.default_eval_interval };
        let first = self.reference_time(self.start, sq.timestamp, sq.original_offset);
        let last = self.reference_time(self.end, sq.timestamp, sq.original_offset);
        // The first multiple of the step at or after the start of the first
        // window, computed as Prometheus does: Go's truncating division and
        // wrapping int64, which an `@` near the end of int64 overflows.
        let from = first.wrapping_sub(sq.range);
        let mut start = interval.wrapping_mul(from / interval);
        if start < from {
            start = start.wrapping_add(interval);
        }
        let inner = Evaluator { start, end: last, interval, ctx: self.ctx };
        let mut m = inner.eval_matrix(&sq.expr)?;
        // Without a step in the window, functions and operators give series
        // without points, which 2.42 never creates.
        m.retain(|s| !s.points.is_empty());
        Ok(m)
    }

    /// Evaluates `inputs` and calls `f` at every step with the instant vectors
    /// they have there, collecting its samples into series by label set, as
    /// Prometheus's `rangeEval`. `f` returns samples as (labels, value).
    pub fn range_eval(
        &self,
        inputs: &[&Matrix],
        mut f: impl FnMut(i64, &[StepVector]) -> Result<Vec<(Arc<Labels>, f64)>>,
    ) -> Result<Matrix> {
        let steps = self.num_steps();
        let mut cursors: Vec<Vec<usize>> = inputs.iter().map(|m| vec![0; m.len()]).collect();
        let mut vectors: Vec<StepVector> = inputs.iter().map(|m| Vec::with_capacity(m.len())).collect();
        let mut out = Matrix::new();
        let mut index: HashMap<Arc<Labels>, usize> = HashMap::new();
        for step in 0..steps {
            if step % 64 == 63 {
                self.ctx.check_done()?;
            }
            let t = self.step_ts(step);
            for (k, m) in inputs.iter().enumerate() {
                vectors[k].clear();
                for (si, s) in m.iter().enumerate() {
                    let c = &mut cursors[k][si];
                    if let Some(p) = s.points.get(*c) {
                        if p.t == t {
                            vectors[k].push((si, p.v));
                            *c += 1;
                        }
                    }
                }
            }
            let samples = f(t, &vectors)?;
            self.ctx.add_samples(samples.len())?;
            for (labels, v) in samples {
                let i = *index.entry(labels.clone()).or_insert_with(|| {
                    out.push(Series { labels, points: Vec::new() });
                    out.len() - 1
                });
                let points = &mut out[i].points;
                if points.last().is_some_and(|p| p.t == t) {
                    return Err(same_labelset());
                }
                points.push(Point { t, v });
            }
        }
        Ok(out)
    }
}

/// The label set without `__name__`.
pub(crate) fn drop_metric_name(labels: &Arc<Labels>) -> Arc<Labels> {
    if labels.metric_name().is_empty() {
        labels.clone()
    } else {
        Arc::new(labels.without_metric_name())
    }
}

/// Prometheus's `Matrix.ContainsSameLabelset`: no two series may share labels.
pub(crate) fn check_unique_labels(m: &Matrix) -> Result<()> {
    let mut seen = std::collections::HashSet::with_capacity(m.len());
    for s in m {
        if !seen.insert(&s.labels) {
            return Err(same_labelset());
        }
    }
    Ok(())
}
