//! Function calls. A call with a range-vector argument slides a window over
//! each series ([`range`]); the others work on instant vectors ([`instant`]).

mod calendar;
mod histogram;
mod instant;
pub(crate) mod range;

use std::sync::Arc;

use thanos_core::labels::{Labels, MatchOp, METRIC_NAME};
use thanos_core::{bail, Result};

use self::range::{Span, Window};
use super::eval::{check_unique_labels, drop_metric_name, total_points, Evaluator};
use super::value::{is_stale_nan, merge_same_labels, Matrix, Point, Series};
use crate::parser::ast::{Call, Expr, VectorSelector};

pub(crate) fn eval(ev: &Evaluator<'_>, call: &Call) -> Result<Matrix> {
    if call.func.name == "timestamp" {
        if let Expr::VectorSelector(vs) = call.args[0].unwrapped() {
            return timestamp_of_selector(ev, vs);
        }
    }
    let matrix_arg =
        call.args.iter().position(|a| matches!(a.unwrapped(), Expr::MatrixSelector(_) | Expr::Subquery(_)));
    match matrix_arg {
        Some(i) => range_call(ev, call, i),
        None => instant::eval(ev, call),
    }
}

/// `timestamp(selector)`: the time of the sample each step picked, rather than
/// the step's time.
fn timestamp_of_selector(ev: &Evaluator<'_>, vs: &VectorSelector) -> Result<Matrix> {
    let picked = ev.vector_selector_samples(vs)?;
    let out: Matrix = picked
        .into_iter()
        .filter(|(_, p)| !p.is_empty())
        .map(|(labels, p)| Series {
            labels: drop_metric_name(&labels),
            points: p.into_iter().map(|(t, sample_t)| Point { t, v: sample_t as f64 / 1000.0 }).collect(),
        })
        .collect();
    let out = merge_same_labels(out)?;
    ev.ctx.add_samples(total_points(&out))?;
    Ok(out)
}

/// Where the windows of a range argument end: its `@` time and offset, and how
/// long they are.
struct Windows {
    timestamp: Option<i64>,
    offset: i64,
    range: i64,
}

/// Hands `f` each series of a range argument with its samples. A selector's
/// series come one at a time, in buffers reused from one to the next, so the
/// samples of a whole select are never in memory at once.
fn for_each_range_series(
    ev: &Evaluator<'_>,
    arg: &Expr,
    mut f: impl FnMut(&Windows, Arc<Labels>, &mut Vec<i64>, &mut Vec<f64>) -> Result<()>,
) -> Result<()> {
    match arg.unwrapped() {
        Expr::MatrixSelector(ms) => {
            let w = Windows { timestamp: ms.vs.timestamp, offset: ms.vs.original_offset, range: ms.range };
            let first = ev.reference_time(ev.start, ms.vs.timestamp, ms.vs.original_offset);
            let last = ev.reference_time(ev.end, ms.vs.timestamp, ms.vs.original_offset);
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for s in &ev.ctx.data[ms.vs.select_id] {
                ts.clear();
                vs.clear();
                ev.ctx.read(ms.vs.select_id, s.as_ref(), first.wrapping_sub(ms.range), last, &mut ts, &mut vs)?;
                f(&w, s.labels().clone(), &mut ts, &mut vs)?;
            }
            Ok(())
        }
        Expr::Subquery(sq) => {
            let w = Windows { timestamp: sq.timestamp, offset: sq.original_offset, range: sq.range };
            // Only the windows over its result count as read, as in 2.42's
            // `evalSubquery`, not what the subquery itself read.
            let read_before = ev.ctx.queryable();
            let inner = ev.subquery(sq)?;
            ev.ctx.set_queryable(read_before);
            ev.ctx.release_samples(total_points(&inner));
            for s in inner {
                let (mut ts, mut vs): (Vec<i64>, Vec<f64>) = s.points.iter().map(|p| (p.t, p.v)).unzip();
                f(&w, s.labels, &mut ts, &mut vs)?;
            }
            Ok(())
        }
        _ => bail!(Internal, "not a range vector"),
    }
}

/// How many steps (or windows) a range call goes through between checks for
/// cancellation and the query's deadline.
const CHECK_EVERY_STEPS: usize = 4096;

fn range_call(ev: &Evaluator<'_>, call: &Call, matrix_arg: usize) -> Result<Matrix> {
    let name = call.func.name;
    let f = range::lookup(name).ok_or_else(|| {
        thanos_core::Error::new(thanos_core::ErrorKind::Internal, format!("no range function {name}"))
    })?;
    let mut scalars: Vec<Vec<f64>> = Vec::new();
    for (i, arg) in call.args.iter().enumerate() {
        if i != matrix_arg {
            scalars.push(ev.scalar_values(arg)?);
        }
    }
    let mut out = Matrix::new();
    let mut spans = Vec::new();
    let mut n = 0usize;
    for_each_range_series(ev, &call.args[matrix_arg], |w, labels, ts, vs| {
        if n.is_multiple_of(256) {
            ev.ctx.check_done()?;
        }
        n += 1;
        // Stale markers are never part of a window.
        if vs.iter().any(|&v| is_stale_nan(v)) {
            let keep: Vec<bool> = vs.iter().map(|&v| !is_stale_nan(v)).collect();
            let mut k = keep.iter();
            ts.retain(|_| *k.next().unwrap());
            let mut k = keep.iter();
            vs.retain(|_| *k.next().unwrap());
        }
        // A point per step at most; and, windows being at least a step long
        // where they are not pinned by `@`, rarely more than a sample each.
        let mut points = Vec::with_capacity(ev.num_steps().min(ts.len() + 1));
        let (mut lo, mut hi) = (0, 0);
        for (step, t) in ev.steps().enumerate() {
            if step % CHECK_EVERY_STEPS == CHECK_EVERY_STEPS - 1 {
                ev.ctx.check_done()?;
            }
            let end = ev.reference_time(t, w.timestamp, w.offset);
            let start = end.wrapping_sub(w.range);
            // Window ends never move back (`@` pins them): one pass suffices.
            while hi < ts.len() && ts[hi] <= end {
                hi += 1;
            }
            while lo < hi && ts[lo] < start {
                lo += 1;
            }
            if lo == hi {
                continue;
            }
            spans.push(Span { step, lo, hi, window: Window { step_t: t, end, range: w.range } });
            // A subquery can have billions of steps: windows are evaluated
            // in runs, so that only a run of them is held.
            if spans.len() == CHECK_EVERY_STEPS {
                eval_run(ev, f, ts, vs, &mut spans, &scalars, &mut points)?;
            }
        }
        eval_run(ev, f, ts, vs, &mut spans, &scalars, &mut points)?;
        if !points.is_empty() {
            ev.ctx.add_samples(points.len())?;
            let labels = if name == "last_over_time" { labels } else { drop_metric_name(&labels) };
            out.push(Series { labels, points });
        }
        Ok(())
    })?;
    if name == "absent_over_time" {
        return absent_over_time(ev, &out, &call.args[0]);
    }
    check_unique_labels(&out)?;
    Ok(out)
}

/// Evaluates a run of a series' windows into `points` and empties it. Each
/// window's samples count against max_samples while the function reads them,
/// one window at a time (2.42's rangeEval): the largest one is what can
/// exceed it. A window can hold millions of samples (a subquery at 1 s), so a
/// cancelled or timed-out query stops between runs.
fn eval_run(
    ev: &Evaluator<'_>,
    f: range::RangeFunc,
    ts: &[i64],
    vs: &[f64],
    spans: &mut Vec<Span>,
    scalars: &[Vec<f64>],
    points: &mut Vec<Point>,
) -> Result<()> {
    ev.ctx.check_done()?;
    let largest = spans.iter().map(|s| s.hi - s.lo).max().unwrap_or(0);
    ev.ctx.add_samples(largest)?;
    ev.ctx.count_queryable(spans.iter().map(|s| s.hi - s.lo).sum());
    ev.ctx.release_samples(largest);
    f.eval(ts, vs, spans, scalars, points)?;
    spans.clear();
    Ok(())
}

/// `absent_over_time`: 1 at the steps where no series had a sample in its
/// window, with the labels the selector's equality matchers imply.
///
/// Each of those points counts against `max_samples`, as each step's output
/// does in Prometheus's `rangeEval`, and is counted before any memory is
/// taken: a subquery can have trillions of steps, and a vector over them
/// aborted the process (`absent_over_time(x[1m])[100y:1ms]`; found by
/// fuzzing). The steps with a sample are at most the samples already counted.
fn absent_over_time(ev: &Evaluator<'_>, present: &Matrix, arg: &Expr) -> Result<Matrix> {
    let mut found: Vec<usize> = present.iter().flat_map(|s| &s.points).map(|p| ev.step_index(p.t)).collect();
    found.sort_unstable();
    found.dedup();
    let missing = ev.num_steps() - found.len();
    if missing == 0 {
        return Ok(Matrix::new());
    }
    ev.ctx.add_samples(missing)?;
    let points: Vec<Point> = (0..ev.num_steps())
        .filter(|i| found.binary_search(i).is_err())
        .map(|i| Point { t: ev.step_ts(i), v: 1.0 })
        .collect();
    Ok(vec![Series { labels: Arc::new(absent_labels(arg)), points }])
}

/// `createLabelsForAbsentFunction`: the labels set by equality matchers of a
/// selector argument (a label matched more than once is left out).
pub(crate) fn absent_labels(arg: &Expr) -> Labels {
    let matchers = match arg.unwrapped() {
        Expr::VectorSelector(vs) => &vs.matchers,
        Expr::MatrixSelector(ms) => &ms.vs.matchers,
        _ => return Labels::new(),
    };
    let mut b = Labels::new().builder();
    let mut seen = std::collections::HashSet::new();
    for m in matchers {
        if m.name == METRIC_NAME {
            continue;
        }
        if m.op == MatchOp::Equal && seen.insert(m.name.clone()) {
            b.set(m.name.clone(), m.value.clone());
        } else {
            b.delete(&m.name);
        }
    }
    b.build()
}
