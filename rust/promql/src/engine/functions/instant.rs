//! Functions of instant vectors and scalars. Most map each sample on its own
//! and so run series by series; `sort`, `scalar`, `absent` and
//! `histogram_quantile` need a whole step and go through `range_eval`.

use std::collections::HashMap;
use std::sync::Arc;

use thanos_core::labels::{compile_anchored, Labels, METRIC_NAME};
use thanos_core::{bail, Result};

use super::calendar::{civil, days_in_month, go_int64, Civil};
use super::histogram::{bucket_quantile, Bucket};
use crate::engine::eval::{drop_metric_name, total_points, Evaluator};
use crate::engine::gomath;
use crate::engine::gosort::go_sort;
use crate::engine::value::{merge_same_labels, Matrix, Point, Series, Value};
use crate::parser::ast::Call;
use crate::parser::lex::is_label;
use crate::parser::literals::parse_go_float;

pub(crate) fn eval(ev: &Evaluator<'_>, call: &Call) -> Result<Matrix> {
    let name = call.func.name;
    let args: Vec<Value> = call.args.iter().map(|a| ev.eval(a)).collect::<Result<_>>()?;
    let held: usize = args.iter().map(|a| if let Value::Matrix(m) = a { total_points(m) } else { 0 }).sum();
    let out = eval_args(ev, call, name, args)?;
    ev.ctx.release_samples(held);
    Ok(out)
}

fn matrix(v: &Value) -> &Matrix {
    static EMPTY: Matrix = Vec::new();
    match v {
        Value::Matrix(m) => m,
        Value::String(_) => &EMPTY,
    }
}

fn string(v: &Value) -> &str {
    match v {
        Value::String(s) => s,
        Value::Matrix(_) => "",
    }
}

/// A scalar argument's value at each step.
fn per_step(ev: &Evaluator<'_>, v: &Value) -> Vec<f64> {
    ev.scalar_steps(matrix(v))
}

fn eval_args(ev: &Evaluator<'_>, call: &Call, name: &str, mut args: Vec<Value>) -> Result<Matrix> {
    if let Some(f) = math(name) {
        return map_samples(ev, take(&mut args, 0), |_, v| Some(f(v)));
    }
    let step = |t: i64| ev.step_index(t);
    match name {
        "time" => Ok(vec![ev.scalar_series(|t| t as f64 / 1000.0)?]),
        "pi" => Ok(vec![ev.scalar_series(|_| std::f64::consts::PI)?]),
        "vector" => {
            let mut m = take(&mut args, 0);
            if let Some(s) = m.first_mut() {
                s.labels = Arc::new(Labels::new());
            }
            Ok(m)
        }
        "scalar" => {
            let input = take(&mut args, 0);
            let counts = ev.range_eval(&[&input], |_, v| {
                Ok(vec![(Arc::new(Labels::new()), if v[0].len() == 1 { v[0][0].1 } else { f64::NAN })])
            })?;
            Ok(counts)
        }
        "clamp" => {
            let (min, max) = (per_step(ev, &args[1]), per_step(ev, &args[2]));
            map_samples(ev, take(&mut args, 0), |t, v| {
                let (lo, hi) = (min[step(t)], max[step(t)]);
                // Only an ordered `max < min` empties the result; NaN bounds give NaN.
                (hi.partial_cmp(&lo) != Some(std::cmp::Ordering::Less)).then(|| go_max(lo, go_min(hi, v)))
            })
        }
        "clamp_max" => {
            let max = per_step(ev, &args[1]);
            map_samples(ev, take(&mut args, 0), |t, v| Some(go_min(max[step(t)], v)))
        }
        "clamp_min" => {
            let min = per_step(ev, &args[1]);
            map_samples(ev, take(&mut args, 0), |t, v| Some(go_max(min[step(t)], v)))
        }
        "round" => {
            // Without a second argument, no vector of 1s over the steps: a
            // subquery can have trillions (`round(x)[100y:1ms]` asked for 25 TB
            // and aborted the process; found by fuzzing).
            let nearest = if args.len() > 1 { Some(per_step(ev, &args[1])) } else { None };
            map_samples(ev, take(&mut args, 0), |t, v| {
                let inverse = 1.0 / nearest.as_ref().map_or(1.0, |n| n[step(t)]);
                Some((v * inverse + 0.5).floor() / inverse)
            })
        }
        "timestamp" => map_samples(ev, take(&mut args, 0), |t, _| Some(t as f64 / 1000.0)),
        "year" | "month" | "day_of_month" | "day_of_week" | "day_of_year" | "days_in_month" | "hour" | "minute" => {
            let field = date_field(name);
            if args.is_empty() {
                // Go's `enh.Ts / 1000` truncates toward zero.
                return Ok(vec![Series {
                    labels: Arc::new(Labels::new()),
                    points: ev.steps().map(|t| Point { t, v: field(civil(t / 1000)) }).collect(),
                }]);
            }
            map_samples(ev, take(&mut args, 0), |_, v| Some(field(civil(go_int64(v)))))
        }
        // Native histograms only; classic float samples have none to offer.
        "histogram_count" | "histogram_sum" | "histogram_fraction" => Ok(Matrix::new()),
        "label_replace" => {
            let input = take(&mut args, 0);
            label_replace(ev, input, string(&args[1]), string(&args[2]), string(&args[3]), string(&args[4]))
        }
        "label_join" => {
            let input = take(&mut args, 0);
            let sources: Vec<&str> = args[3..].iter().map(string).collect();
            label_join(ev, input, string(&args[1]), string(&args[2]), &sources)
        }
        "sort" | "sort_desc" => {
            let input = take(&mut args, 0);
            let descending = name == "sort_desc";
            ev.range_eval(&[&input], |_, v| {
                let mut vec = v[0].clone();
                // NaN last either way, as Prometheus's reversed heap orders do.
                go_sort(
                    &mut vec,
                    |a, b| {
                        if descending {
                            b.1.is_nan() || b.1 < a.1
                        } else {
                            b.1.is_nan() || a.1 < b.1
                        }
                    },
                );
                Ok(vec.into_iter().map(|(i, v)| (input[i].labels.clone(), v)).collect())
            })
        }
        "absent" => {
            let input = take(&mut args, 0);
            let labels = Arc::new(super::absent_labels(&call.args[0]));
            ev.range_eval(&[&input], |_, v| Ok(if v[0].is_empty() { vec![(labels.clone(), 1.0)] } else { vec![] }))
        }
        "histogram_quantile" => {
            let q = per_step(ev, &args[0]);
            histogram_quantile(ev, &q, &take(&mut args, 1))
        }
        other => bail!(Internal, "function {other} is not implemented"),
    }
}

fn take(args: &mut [Value], i: usize) -> Matrix {
    match std::mem::replace(&mut args[i], Value::String(String::new())) {
        Value::Matrix(m) => m,
        Value::String(_) => Matrix::new(),
    }
}

/// Maps every sample through `f` (which may drop it), drops the metric name and
/// merges series that became equal, as a per-step evaluation would.
fn map_samples(ev: &Evaluator<'_>, input: Matrix, f: impl Fn(i64, f64) -> Option<f64>) -> Result<Matrix> {
    let mut out = Matrix::with_capacity(input.len());
    for s in input {
        let points: Vec<Point> = s.points.iter().filter_map(|p| f(p.t, p.v).map(|v| Point { t: p.t, v })).collect();
        if !points.is_empty() {
            out.push(Series { labels: drop_metric_name(&s.labels), points });
        }
    }
    let out = merge_same_labels(out)?;
    ev.ctx.add_samples(total_points(&out))?;
    Ok(out)
}

/// Go's `math.Max`: +Inf wins, then NaN, and +0 is above -0.
fn go_max(a: f64, b: f64) -> f64 {
    if a == f64::INFINITY || b == f64::INFINITY {
        f64::INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_positive() {
            a
        } else {
            b
        }
    } else if a > b {
        a
    } else {
        b
    }
}

/// Go's `math.Min`: -Inf wins, then NaN, and -0 is below +0.
fn go_min(a: f64, b: f64) -> f64 {
    if a == f64::NEG_INFINITY || b == f64::NEG_INFINITY {
        f64::NEG_INFINITY
    } else if a.is_nan() || b.is_nan() {
        f64::NAN
    } else if a == 0.0 && b == 0.0 {
        if a.is_sign_negative() {
            a
        } else {
            b
        }
    } else if a < b {
        a
    } else {
        b
    }
}

/// The functions that apply a float function to each sample.
fn math(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "sqrt" => f64::sqrt,
        // Rounded as Go's math package rounds them, as in Prometheus.
        "exp" => gomath::exp,
        "ln" => gomath::ln,
        "log2" => gomath::log2,
        "log10" => gomath::log10,
        "sin" => gomath::sin,
        "cos" => gomath::cos,
        "tan" => gomath::tan,
        "asin" => gomath::asin,
        "acos" => gomath::acos,
        "atan" => gomath::atan,
        "sinh" => gomath::sinh,
        "cosh" => gomath::cosh,
        "tanh" => gomath::tanh,
        "asinh" => gomath::asinh,
        "acosh" => gomath::acosh,
        "atanh" => gomath::atanh,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "sgn" => |v| {
            if v < 0.0 {
                -1.0
            } else if v > 0.0 {
                1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

fn date_field(name: &str) -> fn(Civil) -> f64 {
    match name {
        "year" => |c| c.year as f64,
        "month" => |c| c.month as f64,
        "day_of_month" => |c| c.day as f64,
        "day_of_week" => |c| c.weekday as f64,
        "day_of_year" => |c| c.yearday as f64,
        "days_in_month" => |c| days_in_month(c.year, c.month) as f64,
        "hour" => |c| c.hour as f64,
        _ => |c| c.minute as f64,
    }
}

/// Relabels each series once, keeps values, and merges what became equal.
fn relabel(ev: &Evaluator<'_>, input: Matrix, f: impl Fn(&Labels) -> Labels) -> Result<Matrix> {
    let out: Matrix = input.into_iter().map(|s| Series { labels: Arc::new(f(&s.labels)), points: s.points }).collect();
    let out = merge_same_labels(out)?;
    ev.ctx.add_samples(total_points(&out))?;
    Ok(out)
}

fn label_replace(ev: &Evaluator<'_>, input: Matrix, dst: &str, repl: &str, src: &str, regex: &str) -> Result<Matrix> {
    let re = compile_anchored(regex).map_err(|_| {
        thanos_core::Error::new(
            thanos_core::ErrorKind::Execution,
            format!("invalid regular expression in label_replace(): {regex}"),
        )
    })?;
    if !is_label(dst) {
        bail!(Execution, "invalid destination label name in label_replace(): {dst}");
    }
    relabel(ev, input, |labels| {
        let Some(caps) = re.captures(labels.get(src)) else {
            return labels.clone();
        };
        let mut value = String::new();
        caps.expand(repl, &mut value);
        // An empty result removes the label.
        let mut b = labels.builder();
        b.set(dst, value);
        b.build()
    })
}

fn label_join(ev: &Evaluator<'_>, input: Matrix, dst: &str, sep: &str, sources: &[&str]) -> Result<Matrix> {
    if let Some(bad) = sources.iter().find(|s| !is_label(s)) {
        bail!(Execution, "invalid source label name in label_join(): {bad}");
    }
    if !is_label(dst) {
        bail!(Execution, "invalid destination label name in label_join(): {dst}");
    }
    relabel(ev, input, |labels| {
        let joined = sources.iter().map(|s| labels.get(s)).collect::<Vec<_>>().join(sep);
        let mut b = labels.builder();
        b.set(dst, joined);
        b.build()
    })
}

/// Classic histograms: at each step, the series of a histogram (equal labels
/// but for `le`) give the buckets; the result drops `__name__` and `le`.
fn histogram_quantile(ev: &Evaluator<'_>, q: &[f64], input: &Matrix) -> Result<Matrix> {
    // Per series: its histogram (labels without `le`) and its upper bound.
    let mut histogram_of: Vec<Option<(usize, f64)>> = Vec::with_capacity(input.len());
    let mut histograms: Vec<Arc<Labels>> = Vec::new();
    let mut ids: HashMap<Labels, usize> = HashMap::new();
    for s in input {
        let Some(upper_bound) = parse_go_float(s.labels.get("le")) else {
            histogram_of.push(None);
            continue;
        };
        let key = s.labels.without(&["le"]);
        let id = *ids.entry(key.clone()).or_insert_with(|| {
            histograms.push(Arc::new(key.without(&[METRIC_NAME])));
            histograms.len() - 1
        });
        histogram_of.push(Some((id, upper_bound)));
    }
    ev.range_eval(&[input], |t, v| {
        let step = ev.step_index(t);
        let mut buckets: Vec<Vec<Bucket>> = vec![Vec::new(); histograms.len()];
        let mut order = Vec::new();
        for &(si, count) in &v[0] {
            if let Some((h, upper_bound)) = histogram_of[si] {
                if buckets[h].is_empty() {
                    order.push(h);
                }
                buckets[h].push(Bucket { upper_bound, count });
            }
        }
        Ok(order.into_iter().map(|h| (histograms[h].clone(), bucket_quantile(q[step], &mut buckets[h]))).collect())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_min_max_semantics() {
        assert!(go_max(f64::NAN, 1.0).is_nan());
        assert!(go_min(1.0, f64::NAN).is_nan());
        assert!(go_max(-0.0, 0.0).is_sign_positive());
        assert!(go_min(0.0, -0.0).is_sign_negative());
        assert_eq!(go_max(1.0, 2.0), 2.0);
        assert_eq!(go_max(f64::NAN, f64::INFINITY), f64::INFINITY);
        assert_eq!(go_min(f64::NEG_INFINITY, f64::NAN), f64::NEG_INFINITY);
    }
}
