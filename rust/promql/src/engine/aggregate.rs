//! Aggregation operators (`sum`, `avg`, `topk`, ...), step by step with
//! Prometheus 2.42's arithmetic (`evaluator.aggregation` in `promql/engine.go`):
//! plain summation, an incremental mean for `avg`, Welford's update for
//! `stddev`/`stdvar`, Go's heap order for `topk`/`bottomk`.

use std::collections::HashMap;
use std::sync::Arc;

use thanos_core::labels::{Labels, METRIC_NAME};
use thanos_core::{bail, Result};

use super::eval::Evaluator;
use super::gosort::{go_sort, heap_pop, heap_push};
use super::value::{Matrix, Point, Series};
use crate::parser::ast::{AggregateExpr, Expr};
use crate::parser::lex::{is_label, ItemType};
use crate::parser::literals::format_api_float;

pub(crate) fn eval(ev: &Evaluator<'_>, a: &AggregateExpr) -> Result<Matrix> {
    let mut grouping = a.grouping.clone();
    grouping.sort();
    let input = ev.eval_matrix(&a.expr)?;
    // Each series' group, computed once rather than at every step.
    let mut group_of: Vec<usize> = Vec::with_capacity(input.len());
    let mut groups: Vec<Arc<Labels>> = Vec::new();
    if a.op != ItemType::CountValues {
        let mut ids: HashMap<Labels, usize> = HashMap::new();
        for s in &input {
            let key = group_labels(&s.labels, &grouping, a.without);
            let id = *ids.entry(key.clone()).or_insert_with(|| {
                groups.push(Arc::new(key));
                groups.len() - 1
            });
            group_of.push(id);
        }
    }
    let param = match &a.param {
        Some(p) => Param::from_expr(ev, p)?,
        None => Param::None,
    };
    let out = if matches!(a.op, ItemType::Topk | ItemType::Bottomk | ItemType::CountValues | ItemType::Quantile) {
        let mut count_values_grouping = CountValuesGrouping::new(&grouping);
        ev.range_eval(&[&input], |t, vectors| {
            let vec = &vectors[0];
            let step = ev.step_index(t);
            match a.op {
                ItemType::CountValues => {
                    let grouping =
                        if a.without { grouping.clone() } else { count_values_grouping.next(param.string()) };
                    count_values(param.string(), vec, &input, &grouping, a.without)
                }
                ItemType::Quantile => Ok(quantile_by_group(param.scalar(step), vec, &group_of, &groups)),
                op => top_k(op, param.scalar(step), vec, &input, &group_of, groups.len()),
            }
        })?
    } else {
        simple(ev, a.op, &input, &group_of, &groups)?
    };
    ev.ctx.release_samples(super::eval::total_points(&input));
    Ok(out)
}

/// The `by` labels of `count_values` at each step, as Prometheus 2.42 gets
/// them: it appends the value label to the query's own grouping slice and
/// sorts it in place, and where that slice has room to spare (the parser
/// builds it by appending, so 3, 5, 6 or 7 labels) the append and the sort
/// write into the query's grouping, so from the second step of a range query
/// on the labels are wrong. Fixed upstream in v2.52.0 (commit 29244fb841);
/// matched here as 2.42's users see it.
struct CountValuesGrouping {
    /// The query's grouping as the next step will find it.
    shared: Vec<String>,
    /// The room of the parser's slice: appends from one element double it.
    capacity: usize,
}

impl CountValuesGrouping {
    fn new(sorted: &[String]) -> Self {
        CountValuesGrouping { shared: sorted.to_vec(), capacity: sorted.len().next_power_of_two() }
    }

    fn next(&mut self, label: &str) -> Vec<String> {
        let mut grouping = self.shared.clone();
        grouping.push(label.to_string());
        grouping.sort();
        if self.shared.len() < self.capacity && !self.shared.is_empty() {
            self.shared = grouping[..self.shared.len()].to_vec();
        }
        grouping
    }
}

/// The labels of a series' group: only the `by` labels, or all but the
/// `without` labels and the metric name.
fn group_labels(labels: &Labels, grouping: &[String], without: bool) -> Labels {
    if without {
        let mut drop: Vec<&str> = grouping.iter().map(String::as_str).collect();
        drop.push(METRIC_NAME);
        labels.without(&drop)
    } else {
        labels.keep_only(grouping)
    }
}

enum Param {
    None,
    Scalar(Vec<f64>),
    String(String),
}

impl Param {
    fn from_expr(ev: &Evaluator<'_>, p: &Expr) -> Result<Param> {
        if let Expr::StringLiteral(s) = p.unwrapped() {
            return Ok(Param::String(s.val.clone()));
        }
        Ok(Param::Scalar(ev.scalar_values(p)?))
    }

    fn scalar(&self, step: usize) -> f64 {
        match self {
            Param::Scalar(v) => v[step],
            _ => f64::NAN,
        }
    }

    fn string(&self) -> &str {
        match self {
            Param::String(s) => s,
            _ => "",
        }
    }
}

/// Running state of one group at one step; `count` 0 while it has no sample.
#[derive(Clone, Copy, Default)]
struct Group {
    value: f64,
    mean: f64,
    count: usize,
}

impl Group {
    /// Adds a sample with 2.42's arithmetic for `op`; the first one sets the
    /// state (Prometheus starts a group from its first sample, not from 0).
    #[inline]
    fn add(&mut self, op: ItemType, v: f64) {
        if self.count == 0 {
            let value = match op {
                ItemType::Stddev | ItemType::Stdvar => 0.0,
                ItemType::Group => 1.0,
                _ => v,
            };
            *self = Group { value, mean: v, count: 1 };
            return;
        }
        self.count += 1;
        match op {
            ItemType::Sum => self.value += v,
            ItemType::Avg => {
                // Once the mean is infinite, only an infinity of the other sign or
                // a NaN changes it; adding more would turn it into NaN.
                if self.mean.is_infinite() {
                    if v.is_infinite() && (self.mean > 0.0) == (v > 0.0) {
                        return;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        return;
                    }
                }
                let n = self.count as f64;
                self.mean += v / n - self.mean / n;
            }
            ItemType::Max if self.value < v || self.value.is_nan() => self.value = v,
            ItemType::Min if self.value > v || self.value.is_nan() => self.value = v,
            ItemType::Stddev | ItemType::Stdvar => {
                let delta = v - self.mean;
                self.mean += delta / self.count as f64;
                self.value += delta * (v - self.mean);
            }
            _ => {} // count, group
        }
    }

    fn result(&self, op: ItemType) -> f64 {
        match op {
            ItemType::Avg => self.mean,
            ItemType::Count => self.count as f64,
            ItemType::Stdvar => self.value / self.count as f64,
            ItemType::Stddev => (self.value / self.count as f64).sqrt(),
            _ => self.value,
        }
    }
}

/// Cells of group state per block of steps: 384 KiB, so that a block stays
/// in a core's L2 cache while the series are added into it.
const BLOCK_CELLS: usize = 16_384;

/// `sum`, `avg`, `min`, `max`, `count`, `group`, `stddev` and `stdvar`, series
/// by series: each group has a cell per step of a block of steps, and each
/// series adds its points of the block into its group's cells. At every step
/// the samples still go in the input's series order, as in Prometheus's
/// step-by-step aggregation, so the results are the same bits; but a series'
/// points are read in a row instead of gathering one point from every series
/// at each step (for `sum by (job) (rate(x[5m]))` over 1,000 series, 1,000
/// places in memory per step).
///
/// Groups come out in the order Prometheus's `rangeEval` creates them: by the
/// first step with a sample, then by the first series with one at that step.
/// Output points count against max_samples block by block, as they do step
/// by step there.
fn simple(
    ev: &Evaluator<'_>,
    op: ItemType,
    input: &Matrix,
    group_of: &[usize],
    groups: &[Arc<Labels>],
) -> Result<Matrix> {
    let steps = ev.num_steps();
    let block = (BLOCK_CELLS / groups.len().max(1)).max(1);
    let mut cells = vec![Group::default(); groups.len() * block];
    let mut points: Vec<Vec<Point>> = vec![Vec::new(); groups.len()];
    let mut first = vec![(usize::MAX, usize::MAX); groups.len()];
    let mut cursors = vec![0usize; input.len()];
    // A block starts at the earliest step that a series still has a point
    // at, so sparse subqueries of billions of steps skip what is empty.
    while let Some(t) = input.iter().zip(&cursors).filter_map(|(s, &c)| s.points.get(c)).map(|p| p.t).min() {
        ev.ctx.check_done()?;
        let from = ev.step_index(t);
        // The block's last step: at least its first, so that it always takes
        // the point it starts at, whatever that point's time.
        let last = from.saturating_add(block - 1).min(steps.saturating_sub(1)).max(from);
        for (si, s) in input.iter().enumerate() {
            if si % 4096 == 4095 {
                ev.ctx.check_done()?;
            }
            let g = group_of[si];
            let row = &mut cells[g * block..(g + 1) * block];
            let c = &mut cursors[si];
            // Points lie on the steps: the next one is usually at the next step.
            let (mut next_t, mut next_k) = (i64::MIN, 0);
            while let Some(p) = s.points.get(*c) {
                let k = if p.t == next_t { next_k } else { ev.step_index(p.t) };
                if k > last {
                    break;
                }
                let cell = &mut row[k - from];
                if cell.count == 0 && (k, si) < first[g] {
                    first[g] = (k, si);
                }
                cell.add(op, p.v);
                (next_t, next_k) = (p.t.wrapping_add(ev.interval), k.saturating_add(1));
                *c += 1;
            }
        }
        let mut produced = 0;
        for (row, out) in cells.chunks_mut(block).zip(&mut points) {
            for (i, cell) in row[..=last - from].iter_mut().enumerate() {
                if cell.count > 0 {
                    out.push(Point { t: ev.step_ts(from + i), v: cell.result(op) });
                    produced += 1;
                }
                *cell = Group::default();
            }
        }
        ev.ctx.add_samples(produced)?;
    }
    let mut order: Vec<usize> = (0..groups.len()).filter(|&g| !points[g].is_empty()).collect();
    order.sort_unstable_by_key(|&g| first[g]);
    Ok(order
        .into_iter()
        .map(|g| Series { labels: groups[g].clone(), points: std::mem::take(&mut points[g]) })
        .collect())
}

/// Go's `vectorByValueHeap` order: NaN below everything, then ascending.
fn by_value(a: f64, b: f64) -> bool {
    a.is_nan() || a < b
}

/// `vectorByReverseValueHeap`: NaN below everything, then descending.
fn by_reverse_value(a: f64, b: f64) -> bool {
    a.is_nan() || a > b
}

fn top_k(
    op: ItemType,
    param: f64,
    vec: &[(usize, f64)],
    input: &Matrix,
    group_of: &[usize],
    ngroups: usize,
) -> Result<Vec<(Arc<Labels>, f64)>> {
    // Go's `convertibleToInt64`: NaN and values past the largest float below
    // 2^63 are refused.
    if !(-9223372036854775808.0..=9223372036854774784.0).contains(&param) {
        bail!(Execution, "Scalar value {} overflows int64", crate::parser::literals::format_go_float(param));
    }
    let k = param as i64;
    if k < 1 {
        return Ok(vec![]);
    }
    let k = k as usize;
    // topk keeps the k largest in a min-heap, bottomk the k smallest in a max-heap.
    let less: fn(f64, f64) -> bool = if op == ItemType::Topk { by_value } else { by_reverse_value };
    let mut heaps: Vec<Option<Vec<(usize, f64)>>> = (0..ngroups).map(|_| None).collect();
    let mut order = Vec::new();
    for &(si, v) in vec {
        let g = group_of[si];
        let Some(heap) = &mut heaps[g] else {
            order.push(g);
            heaps[g] = Some(vec![(si, v)]);
            continue;
        };
        let top = heap[0].1;
        if heap.len() < k || less(top, v) || top.is_nan() {
            if heap.len() == k {
                if k == 1 {
                    heap[0] = (si, v);
                    continue;
                }
                heap_pop(heap, |a, b| less(a.1, b.1));
            }
            heap_push(heap, (si, v), |a, b| less(a.1, b.1));
        }
    }
    let mut out = Vec::new();
    for g in order {
        let mut heap = heaps[g].take().unwrap();
        // Sorted the other way round: largest first for topk.
        go_sort(&mut heap, |a, b| less(b.1, a.1));
        out.extend(heap.into_iter().map(|(si, v)| (input[si].labels.clone(), v)));
    }
    Ok(out)
}

fn quantile_by_group(
    q: f64,
    vec: &[(usize, f64)],
    group_of: &[usize],
    groups: &[Arc<Labels>],
) -> Vec<(Arc<Labels>, f64)> {
    let mut values: Vec<Option<Vec<f64>>> = (0..groups.len()).map(|_| None).collect();
    let mut order = Vec::new();
    for &(si, v) in vec {
        let g = group_of[si];
        match &mut values[g] {
            Some(vs) => vs.push(v),
            None => {
                order.push(g);
                values[g] = Some(vec![v]);
            }
        }
    }
    order.into_iter().map(|g| (groups[g].clone(), quantile(q, values[g].as_mut().unwrap()))).collect()
}

/// Prometheus's `quantile`: linear interpolation between the closest ranks of
/// the sorted values (`promql/quantile.go`).
pub(crate) fn quantile(q: f64, values: &mut [f64]) -> f64 {
    if values.is_empty() || q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    // vectorByValueHeap's order through Go's sort.Sort: NaN first, and equal
    // values (0 and -0 among them) where Go's pdqsort leaves them.
    go_sort(values, |a, b| by_value(*a, *b));
    let n = values.len() as f64;
    let rank = q * (n - 1.0);
    let lower = rank.floor().max(0.0);
    let upper = (lower + 1.0).min(n - 1.0);
    let weight = rank - rank.floor();
    values[lower as usize] * (1.0 - weight) + values[upper as usize] * weight
}

fn count_values(
    label: &str,
    vec: &[(usize, f64)],
    input: &Matrix,
    grouping: &[String],
    without: bool,
) -> Result<Vec<(Arc<Labels>, f64)>> {
    if !is_label(label) {
        bail!(Execution, "invalid label name {}", crate::parser::lex::go_quote(label));
    }
    let mut counts: HashMap<Labels, usize> = HashMap::new();
    let mut order: Vec<Labels> = Vec::new();
    for &(si, v) in vec {
        let mut b = input[si].labels.builder();
        b.set(label, format_api_float(v));
        let key = group_labels(&b.build(), grouping, without);
        match counts.get_mut(&key) {
            Some(n) => *n += 1,
            None => {
                counts.insert(key.clone(), 1);
                order.push(key);
            }
        }
    }
    Ok(order.into_iter().map(|k| (Arc::new(k.clone()), counts[&k] as f64)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::eval::EvalContext;

    const STEP: i64 = 15_000;
    const STEPS: i64 = 300;

    /// 1,000 series in 300 groups (so that 300 steps span several blocks of
    /// steps), starting and ending at different steps, some with gaps, with
    /// values whose sums depend on the order they are added in, NaNs and
    /// infinities among them.
    fn input() -> (Matrix, Vec<usize>, Vec<Arc<Labels>>) {
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let groups: Vec<Arc<Labels>> =
            (0..300).map(|g| Arc::new(Labels::from_pairs([("g", &format!("{g}"))]))).collect();
        let (mut input, mut group_of) = (Matrix::new(), vec![]);
        for s in 0..1_000 {
            let (a, b) = ((next() % STEPS as u64) as i64, (next() % STEPS as u64) as i64);
            let gap = next() % 7;
            let points = (a.min(b)..=a.max(b))
                .filter(|k| gap == 0 || k % 7 != gap as i64)
                .map(|k| Point {
                    t: k * STEP,
                    v: match next() % 50 {
                        0 => f64::NAN,
                        1 => f64::INFINITY,
                        2 => f64::NEG_INFINITY,
                        r => (next() % 1_000_000) as f64 * 10f64.powi(r as i32 % 9 - 4),
                    },
                })
                .collect();
            input.push(Series { labels: Arc::new(Labels::from_pairs([("s", &format!("{s}"))])), points });
            group_of.push((next() % 300) as usize);
        }
        (input, group_of, groups)
    }

    /// What Prometheus's `rangeEval` does: at each step, the samples there
    /// in series order, each group created when its first sample comes.
    fn step_by_step(
        ev: &Evaluator<'_>,
        op: ItemType,
        input: &Matrix,
        group_of: &[usize],
        groups: &[Arc<Labels>],
    ) -> Matrix {
        ev.range_eval(&[input], |_, vectors| {
            let mut state = vec![Group::default(); groups.len()];
            let mut order = vec![];
            for &(si, v) in &vectors[0] {
                if state[group_of[si]].count == 0 {
                    order.push(group_of[si]);
                }
                state[group_of[si]].add(op, v);
            }
            Ok(order.into_iter().map(|g| (groups[g].clone(), state[g].result(op))).collect())
        })
        .unwrap()
    }

    fn bits(m: &Matrix) -> Vec<(&Labels, Vec<(i64, u64)>)> {
        m.iter().map(|s| (s.labels.as_ref(), s.points.iter().map(|p| (p.t, p.v.to_bits())).collect())).collect()
    }

    /// Same groups in the same order (the order an outer aggregation adds
    /// them in), same points, same bits.
    #[test]
    fn series_by_series_equals_step_by_step() {
        let (input, group_of, groups) = input();
        let ctx = EvalContext::new(300_000, 60_000, 50_000_000, None, None, &[], &[]);
        let ev = Evaluator { start: 0, end: (STEPS - 1) * STEP, interval: STEP, ctx: &ctx };
        use ItemType::*;
        for op in [Sum, Avg, Min, Max, Count, Group, Stddev, Stdvar] {
            let want = step_by_step(&ev, op, &input, &group_of, &groups);
            let got = simple(&ev, op, &input, &group_of, &groups).unwrap();
            assert_eq!(bits(&got), bits(&want), "{op:?}");
        }
    }

    /// Points lie on the steps; one that does not (before the start, past
    /// the end, near the ends of int64) is placed on some step rather than
    /// stopping the blocks from moving on.
    #[test]
    fn a_point_off_the_steps_ends_the_aggregation() {
        let ctx = EvalContext::new(300_000, 60_000, 50_000_000, None, None, &[], &[]);
        let ev = Evaluator { start: 0, end: 10 * STEP, interval: STEP, ctx: &ctx };
        let labels = Arc::new(Labels::from_pairs([("g", "a")]));
        for t in [i64::MIN, -STEP, -1, 11 * STEP, i64::MAX] {
            // In time order, as a series' points always are.
            let points =
                if t < 0 { vec![Point { t, v: 1.0 }, Point { t: 0, v: 2.0 }] } else { vec![Point { t, v: 1.0 }] };
            let input = vec![Series { labels: labels.clone(), points }];
            let out = simple(&ev, ItemType::Sum, &input, &[0], std::slice::from_ref(&labels)).unwrap();
            assert!(!out[0].points.is_empty(), "{t}");
        }
        let ev = Evaluator { start: i64::MIN, end: i64::MAX, interval: 1, ctx: &ctx };
        let input = vec![Series { labels: labels.clone(), points: vec![Point { t: i64::MAX, v: 1.0 }] }];
        let out = simple(&ev, ItemType::Sum, &input, &[0], std::slice::from_ref(&labels)).unwrap();
        assert_eq!(out[0].points.len(), 1);
    }
}
