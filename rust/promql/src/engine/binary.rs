//! Binary operators with Prometheus 2.42's vector matching (`VectorBinop`,
//! `VectorAnd`/`Or`/`Unless`, `VectorscalarBinop` in `promql/engine.go`).

use std::collections::HashMap;
use std::sync::Arc;

use thanos_core::labels::{Labels, METRIC_NAME};
use thanos_core::{bail, Result};

use super::eval::{drop_metric_name, total_points, Evaluator};
use super::gomath;
use super::value::{merge_same_labels, Matrix, Point, Series};
use crate::parser::ast::{BinaryExpr, Cardinality, ValueType, VectorMatching};
use crate::parser::lex::ItemType;

pub(crate) fn eval(ev: &Evaluator<'_>, b: &BinaryExpr) -> Result<Matrix> {
    let (lt, rt) = b.operand_types;
    let lhs = ev.eval_matrix(&b.lhs)?;
    let rhs = ev.eval_matrix(&b.rhs)?;
    let held = total_points(&lhs) + total_points(&rhs);
    let out = match (lt, rt) {
        (ValueType::Scalar, ValueType::Scalar) => {
            let (l, r) = (ev.scalar_steps(&lhs), ev.scalar_steps(&rhs));
            Ok(vec![ev.scalar_series(|t| {
                let i = ev.step_index(t);
                scalar_op(b.op, l[i], r[i])
            })?])
        }
        (ValueType::Vector, ValueType::Scalar) => vector_scalar(ev, b, lhs, &ev.scalar_steps(&rhs), false),
        (ValueType::Scalar, ValueType::Vector) => vector_scalar(ev, b, rhs, &ev.scalar_steps(&lhs), true),
        _ => vector_vector(ev, b, &lhs, &rhs),
    }?;
    ev.ctx.release_samples(held);
    Ok(out)
}

fn bool_to_f64(b: bool) -> f64 {
    if b {
        1.0
    } else {
        0.0
    }
}

/// `scalarBinop`: comparisons give 0 or 1.
fn scalar_op(op: ItemType, l: f64, r: f64) -> f64 {
    match op {
        ItemType::Eqlc => bool_to_f64(l == r),
        ItemType::Neq => bool_to_f64(l != r),
        ItemType::Gtr => bool_to_f64(l > r),
        ItemType::Lss => bool_to_f64(l < r),
        ItemType::Gte => bool_to_f64(l >= r),
        ItemType::Lte => bool_to_f64(l <= r),
        _ => arithmetic(op, l, r),
    }
}

fn arithmetic(op: ItemType, l: f64, r: f64) -> f64 {
    match op {
        ItemType::Add => l + r,
        ItemType::Sub => l - r,
        ItemType::Mul => l * r,
        ItemType::Div => l / r,
        ItemType::Pow => gomath::pow(l, r),
        // Go's math.Mod: exact, with the sign of `l`, as Rust's `%` on floats.
        ItemType::Mod => l % r,
        ItemType::Atan2 => gomath::atan2(l, r),
        _ => f64::NAN,
    }
}

/// `vectorElemBinop`: the value and whether a comparison keeps the sample
/// (comparisons keep the left value).
fn elem_op(op: ItemType, l: f64, r: f64) -> (f64, bool) {
    match op {
        ItemType::Eqlc => (l, l == r),
        ItemType::Neq => (l, l != r),
        ItemType::Gtr => (l, l > r),
        ItemType::Lss => (l, l < r),
        ItemType::Gte => (l, l >= r),
        ItemType::Lte => (l, l <= r),
        _ => (arithmetic(op, l, r), true),
    }
}

/// Arithmetic drops the metric name; comparisons and set operators keep it.
fn drops_metric_name(op: ItemType) -> bool {
    matches!(op, ItemType::Add | ItemType::Sub | ItemType::Div | ItemType::Mul | ItemType::Pow | ItemType::Mod)
}

/// A vector and a scalar (`swap` when the scalar is on the left): each series
/// maps on its own, so this works series by series.
fn vector_scalar(ev: &Evaluator<'_>, b: &BinaryExpr, vector: Matrix, scalar: &[f64], swap: bool) -> Result<Matrix> {
    let drop_name = drops_metric_name(b.op) || b.return_bool;
    let mut out = Matrix::with_capacity(vector.len());
    for s in vector {
        let points: Vec<Point> = s
            .points
            .iter()
            .filter_map(|p| {
                let sv = scalar[ev.step_index(p.t)];
                let (l, r) = if swap { (sv, p.v) } else { (p.v, sv) };
                let (mut v, keep) = elem_op(b.op, l, r);
                // A comparison with the scalar on the left still filters the vector's values.
                if b.op.is_comparison_operator() && swap {
                    v = r;
                }
                if b.return_bool {
                    return Some(Point { t: p.t, v: bool_to_f64(keep) });
                }
                keep.then_some(Point { t: p.t, v })
            })
            .collect();
        if !points.is_empty() {
            let labels = if drop_name { drop_metric_name(&s.labels) } else { s.labels };
            out.push(Series { labels, points });
        }
    }
    let out = merge_same_labels(out)?;
    ev.ctx.add_samples(total_points(&out))?;
    Ok(out)
}

/// The labels two series are matched on: only the `on(...)` labels, or all but
/// the `ignoring(...)` labels and the metric name.
fn signature(labels: &Labels, m: &VectorMatching) -> Labels {
    if m.on {
        labels.keep_only(&m.matching_labels)
    } else {
        let mut drop: Vec<&str> = m.matching_labels.iter().map(String::as_str).collect();
        drop.push(METRIC_NAME);
        labels.without(&drop)
    }
}

/// Numbers each series' signature, so that matching compares integers.
fn signature_ids(lhs: &Matrix, rhs: &Matrix, m: &VectorMatching) -> (Vec<usize>, Vec<usize>) {
    let mut ids: HashMap<Labels, usize> = HashMap::new();
    let mut number = |s: &Series| {
        let n = ids.len();
        *ids.entry(signature(&s.labels, m)).or_insert(n)
    };
    let l = lhs.iter().map(&mut number).collect();
    let r = rhs.iter().map(&mut number).collect();
    (l, r)
}

fn vector_vector(ev: &Evaluator<'_>, b: &BinaryExpr, lhs: &Matrix, rhs: &Matrix) -> Result<Matrix> {
    let m = b.matching.as_ref().expect("vector matching between two vectors");
    let (lsig, rsig) = signature_ids(lhs, rhs, m);
    let mut result_labels: HashMap<(usize, usize), Arc<Labels>> = HashMap::new();
    ev.range_eval(&[lhs, rhs], |_, v| {
        let (lv, rv) = (&v[0], &v[1]);
        match b.op {
            ItemType::Land => {
                if lv.is_empty() || rv.is_empty() {
                    return Ok(vec![]);
                }
                let right: std::collections::HashSet<usize> = rv.iter().map(|&(i, _)| rsig[i]).collect();
                Ok(lv
                    .iter()
                    .filter(|&&(i, _)| right.contains(&lsig[i]))
                    .map(|&(i, v)| (lhs[i].labels.clone(), v))
                    .collect())
            }
            ItemType::Lor => {
                let left: std::collections::HashSet<usize> = lv.iter().map(|&(i, _)| lsig[i]).collect();
                let mut out: Vec<_> = lv.iter().map(|&(i, v)| (lhs[i].labels.clone(), v)).collect();
                out.extend(
                    rv.iter().filter(|&&(i, _)| !left.contains(&rsig[i])).map(|&(i, v)| (rhs[i].labels.clone(), v)),
                );
                Ok(out)
            }
            ItemType::Lunless => {
                let right: std::collections::HashSet<usize> = rv.iter().map(|&(i, _)| rsig[i]).collect();
                Ok(lv
                    .iter()
                    .filter(|&&(i, _)| !right.contains(&lsig[i]))
                    .map(|&(i, v)| (lhs[i].labels.clone(), v))
                    .collect())
            }
            op => binop_step(op, b.return_bool, m, (lhs, lv, &lsig), (rhs, rv, &rsig), &mut result_labels),
        }
    })
}

type Side<'a> = (&'a Matrix, &'a Vec<(usize, f64)>, &'a Vec<usize>);

/// One step of `VectorBinop`.
fn binop_step(
    op: ItemType,
    return_bool: bool,
    m: &VectorMatching,
    left: Side<'_>,
    right: Side<'_>,
    cache: &mut HashMap<(usize, usize), Arc<Labels>>,
) -> Result<Vec<(Arc<Labels>, f64)>> {
    if left.1.is_empty() || right.1.is_empty() {
        return Ok(vec![]);
    }
    // For group_right the right side is the "many" side: iterate it instead.
    let swapped = m.card == Cardinality::OneToMany;
    let (many, one) = if swapped { (right, left) } else { (left, right) };
    let mut one_by_sig: HashMap<usize, (usize, f64)> = HashMap::with_capacity(one.1.len());
    for &(i, v) in one.1 {
        if let Some(&(dup, _)) = one_by_sig.get(&one.2[i]) {
            let side = if swapped { "left" } else { "right" };
            let matched = match_labels(&one.0[i].labels, m);
            bail!(
                Execution,
                "found duplicate series for the match group {matched} on the {side} hand-side of the operation: [{}, {}];many-to-many matching not allowed: matching labels must be unique on one side",
                one.0[i].labels,
                one.0[dup].labels
            );
        }
        one_by_sig.insert(one.2[i], (i, v));
    }
    let mut matched: HashMap<usize, Vec<Arc<Labels>>> = HashMap::new();
    let mut out = Vec::new();
    for &(i, v) in many.1 {
        let sig = many.2[i];
        let Some(&(j, w)) = one_by_sig.get(&sig) else {
            continue;
        };
        let (l, r) = if swapped { (w, v) } else { (v, w) };
        let (mut value, keep) = elem_op(op, l, r);
        if return_bool {
            value = bool_to_f64(keep);
        } else if !keep {
            continue;
        }
        let key = if swapped { (j, i) } else { (i, j) };
        let labels = cache
            .entry(key)
            .or_insert_with(|| Arc::new(result_labels(&many.0[i].labels, &one.0[j].labels, op, m, return_bool)))
            .clone();
        let seen = matched.entry(sig).or_default();
        if m.card == Cardinality::OneToOne {
            if !seen.is_empty() {
                bail!(
                    Execution,
                    "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)"
                );
            }
        } else if seen.contains(&labels) {
            bail!(Execution, "multiple matches for labels: grouping labels must ensure unique matches");
        }
        seen.push(labels.clone());
        out.push((labels, value));
    }
    Ok(out)
}

/// `Labels.MatchLabels`: the labels the match group is made of, for errors.
fn match_labels(labels: &Labels, m: &VectorMatching) -> Labels {
    signature(labels, m)
}

/// `resultMetric`: the "many" side's labels, without the metric name for
/// arithmetic, cut to the matching labels for one-to-one matching, plus the
/// `group_x(...)` labels taken from the "one" side.
fn result_labels(many: &Labels, one: &Labels, op: ItemType, m: &VectorMatching, return_bool: bool) -> Labels {
    let mut b = many.builder();
    if drops_metric_name(op) || return_bool {
        b.delete(METRIC_NAME);
    }
    let mut labels = b.build();
    if m.card == Cardinality::OneToOne {
        labels = if m.on { labels.keep_only(&m.matching_labels) } else { labels.without(&m.matching_labels) };
    }
    if m.include.is_empty() {
        return labels;
    }
    let mut b = labels.builder();
    for name in &m.include {
        b.set(name.clone(), one.get(name));
    }
    b.build()
}
