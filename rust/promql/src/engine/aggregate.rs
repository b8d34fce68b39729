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
use super::value::Matrix;
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
    let mut count_values_grouping = CountValuesGrouping::new(&grouping);
    let out = ev.range_eval(&[&input], |t, vectors| {
        let vec = &vectors[0];
        let step = ((t - ev.start) / ev.interval) as usize;
        match a.op {
            ItemType::Topk | ItemType::Bottomk => top_k(a.op, param.scalar(step), vec, &input, &group_of, groups.len()),
            ItemType::CountValues => {
                let grouping = if a.without { grouping.clone() } else { count_values_grouping.next(param.string()) };
                count_values(param.string(), vec, &input, &grouping, a.without)
            }
            ItemType::Quantile => Ok(quantile_by_group(param.scalar(step), vec, &group_of, &groups)),
            op => Ok(simple(op, vec, &group_of, &groups)),
        }
    })?;
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

/// Running state of one group at one step.
struct Group {
    value: f64,
    mean: f64,
    count: usize,
}

fn simple(op: ItemType, vec: &[(usize, f64)], group_of: &[usize], groups: &[Arc<Labels>]) -> Vec<(Arc<Labels>, f64)> {
    // Groups in the order their first sample appears, as Prometheus returns them.
    let mut state: Vec<Option<Group>> = (0..groups.len()).map(|_| None).collect();
    let mut order = Vec::new();
    for &(si, v) in vec {
        let g = group_of[si];
        let Some(group) = &mut state[g] else {
            order.push(g);
            let value = match op {
                ItemType::Stddev | ItemType::Stdvar => 0.0,
                ItemType::Group => 1.0,
                _ => v,
            };
            state[g] = Some(Group { value, mean: v, count: 1 });
            continue;
        };
        match op {
            ItemType::Sum => group.value += v,
            ItemType::Avg => {
                group.count += 1;
                // Once the mean is infinite, only an infinity of the other sign or
                // a NaN changes it; adding more would turn it into NaN.
                if group.mean.is_infinite() {
                    if v.is_infinite() && (group.mean > 0.0) == (v > 0.0) {
                        continue;
                    }
                    if !v.is_infinite() && !v.is_nan() {
                        continue;
                    }
                }
                let n = group.count as f64;
                group.mean += v / n - group.mean / n;
            }
            ItemType::Max if group.value < v || group.value.is_nan() => group.value = v,
            ItemType::Min if group.value > v || group.value.is_nan() => group.value = v,
            ItemType::Count => group.count += 1,
            ItemType::Stddev | ItemType::Stdvar => {
                group.count += 1;
                let delta = v - group.mean;
                group.mean += delta / group.count as f64;
                group.value += delta * (v - group.mean);
            }
            _ => {} // group
        }
    }
    order
        .into_iter()
        .map(|g| {
            let s = state[g].as_ref().unwrap();
            let v = match op {
                ItemType::Avg => s.mean,
                ItemType::Count => s.count as f64,
                ItemType::Stdvar => s.value / s.count as f64,
                ItemType::Stddev => (s.value / s.count as f64).sqrt(),
                _ => s.value,
            };
            (groups[g].clone(), v)
        })
        .collect()
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
