//! Functions of a range vector (`rate(x[5m])`, `avg_over_time(...)`): per
//! series, a window `[t - range, t]` slides over the samples and the function
//! reduces each window to a value, with the numerics of Prometheus 2.42's
//! `promql/functions.go` (extrapolation, Kahan sums, the variance update).

use thanos_core::{bail, Result};

/// Where a window ends and what it spans, for the functions that need more
/// than the samples.
#[derive(Clone, Copy)]
pub(crate) struct Window {
    /// The evaluation step.
    pub step_t: i64,
    /// The window's end (the step's reference time, after `offset`/`@`).
    pub end: i64,
    /// The window's length in milliseconds.
    pub range: i64,
}

/// `kahanSumInc`: adds `inc` to `sum` carrying the lost low bits in `c`.
pub(crate) fn kahan_sum_inc(inc: f64, sum: f64, c: f64) -> (f64, f64) {
    let t = sum + inc;
    let c = if sum.abs() >= inc.abs() { c + ((sum - t) + inc) } else { c + ((inc - t) + sum) };
    (t, c)
}

/// A range function: the window's samples (never empty) and the step's scalar
/// arguments give a value, or none.
pub(crate) type RangeFn = fn(&[i64], &[f64], Window, &[f64]) -> Result<Option<f64>>;

/// One non-empty window of a series: its samples are `lo..hi`.
#[derive(Clone, Copy)]
pub(crate) struct Span {
    /// The step's index, for its scalar arguments.
    pub step: usize,
    pub lo: usize,
    pub hi: usize,
    pub window: Window,
}

/// How a range function goes over the windows of a series.
#[derive(Clone, Copy)]
pub(crate) enum RangeFunc {
    /// One window after the other.
    Each(RangeFn),
    /// `extrapolatedRate` (`rate`, `increase`, `delta`): all windows of a
    /// series together, so that what depends only on where the samples lie
    /// in a window is worked out once for the windows that share it.
    Extrapolated { is_counter: bool, is_rate: bool },
}

impl RangeFunc {
    /// The function's value over each window of `ts`/`vs`, as points at the
    /// windows' steps; `args` holds each scalar argument's value per step.
    pub(crate) fn eval(
        self,
        ts: &[i64],
        vs: &[f64],
        spans: &[Span],
        args: &[Vec<f64>],
        out: &mut Vec<super::Point>,
    ) -> Result<()> {
        match self {
            RangeFunc::Each(f) => {
                let mut step_args = vec![0.0; args.len()];
                for s in spans {
                    for (a, values) in step_args.iter_mut().zip(args) {
                        *a = values[s.step];
                    }
                    if let Some(v) = f(&ts[s.lo..s.hi], &vs[s.lo..s.hi], s.window, &step_args)? {
                        out.push(super::Point { t: s.window.step_t, v });
                    }
                }
            }
            RangeFunc::Extrapolated { is_counter, is_rate } => {
                let Some(first) = spans.first() else { return Ok(()) };
                let range_s = duration_seconds(first.window.range);
                let mut last: Option<(Placement, Edges)> = None;
                for s in spans.iter().filter(|s| s.hi - s.lo >= 2) {
                    let (increase, at) = increase(&ts[s.lo..s.hi], &vs[s.lo..s.hi], s.window, is_counter);
                    let edges = match last {
                        Some((prev, edges)) if prev == at => edges,
                        _ => Edges::new(at, range_s, is_rate),
                    };
                    last = Some((at, edges));
                    let v = edges.extrapolate(increase, vs[s.lo], is_counter, range_s, is_rate);
                    out.push(super::Point { t: s.window.step_t, v });
                }
            }
        }
        Ok(())
    }
}

pub(crate) fn lookup(name: &str) -> Option<RangeFunc> {
    let extrapolated = |is_counter, is_rate| Some(RangeFunc::Extrapolated { is_counter, is_rate });
    Some(RangeFunc::Each(match name {
        "rate" => return extrapolated(true, true),
        "increase" => return extrapolated(true, false),
        "delta" => return extrapolated(false, false),
        "irate" => |t, v, _, _| Ok(instant_value(t, v, true)),
        "idelta" => |t, v, _, _| Ok(instant_value(t, v, false)),
        "deriv" => |t, v, _, _| Ok((t.len() >= 2).then(|| linear_regression(t, v, t[0]).0)),
        "predict_linear" => |t, v, w, args| {
            Ok((t.len() >= 2).then(|| {
                let (slope, intercept) = linear_regression(t, v, w.step_t);
                slope * args[0] + intercept
            }))
        },
        "holt_winters" => |_, v, _, args| holt_winters(v, args[0], args[1]),
        "resets" => |_, v, _, _| Ok(Some(v.windows(2).filter(|w| w[1] < w[0]).count() as f64)),
        "changes" => |_, v, _, _| {
            Ok(Some(v.windows(2).filter(|w| w[1] != w[0] && !(w[1].is_nan() && w[0].is_nan())).count() as f64))
        },
        "avg_over_time" => |_, v, _, _| Ok(Some(avg_over_time(v))),
        "count_over_time" => |_, v, _, _| Ok(Some(v.len() as f64)),
        "last_over_time" => |_, v, _, _| Ok(v.last().copied()),
        "max_over_time" => |_, v, _, _| Ok(Some(v.iter().fold(v[0], |m, &x| if x > m || m.is_nan() { x } else { m }))),
        "min_over_time" => |_, v, _, _| Ok(Some(v.iter().fold(v[0], |m, &x| if x < m || m.is_nan() { x } else { m }))),
        "sum_over_time" => |_, v, _, _| {
            let (sum, c) = v.iter().fold((0.0, 0.0), |(s, c), &x| kahan_sum_inc(x, s, c));
            Ok(Some(if sum.is_infinite() { sum } else { sum + c }))
        },
        "quantile_over_time" => |_, v, _, args| Ok(Some(crate::engine::aggregate::quantile(args[0], &mut v.to_vec()))),
        "stddev_over_time" => |_, v, _, _| Ok(Some(variance(v).sqrt())),
        "stdvar_over_time" => |_, v, _, _| Ok(Some(variance(v))),
        "present_over_time" | "absent_over_time" => |_, _, _, _| Ok(Some(1.0)),
        _ => return None,
    }))
}

/// A range of `ms` milliseconds in seconds as Go's `Duration.Seconds` gives
/// it (whole seconds plus the nanoseconds over 1e9), which `rate` divides by:
/// for some ranges under a minute it differs from `ms / 1000` in the last
/// bit (`[31952ms]`, `[15274ms]`).
fn duration_seconds(ms: i64) -> f64 {
    (ms / 1000) as f64 + ((ms % 1000) * 1_000_000) as f64 / 1e9
}

/// Where a window's samples lie in it, in milliseconds: from the window's
/// start to the first sample, from the last sample to the window's end,
/// between the first and the last, and the intervals between them. Windows
/// sliding over regular samples mostly share it.
#[derive(Clone, Copy, PartialEq, Eq)]
struct Placement {
    to_start_ms: i64,
    to_end_ms: i64,
    sampled_ms: i64,
    intervals: usize,
}

/// The increase over a window of at least two samples (with counter resets
/// added back for counters), and where they lie in it.
fn increase(ts: &[i64], vs: &[f64], w: Window, is_counter: bool) -> (f64, Placement) {
    let last = ts.len() - 1;
    let mut result = vs[last] - vs[0];
    if is_counter {
        let mut prev = vs[0];
        for &cur in &vs[1..] {
            if cur < prev {
                result += prev;
            }
            prev = cur;
        }
    }
    let at = Placement {
        to_start_ms: ts[0] - w.end.wrapping_sub(w.range),
        to_end_ms: w.end - ts[last],
        sampled_ms: ts[last] - ts[0],
        intervals: last,
    };
    (result, at)
}

/// `extrapolatedRate`'s arithmetic on a [`Placement`], in seconds, and the
/// extrapolation factor that follows when a counter's zero does not cut the
/// window's start short. Five of its six divisions depend on the placement
/// alone; the sixth (where the counter was zero) on the values.
#[derive(Clone, Copy)]
struct Edges {
    to_start: f64,
    to_end: f64,
    sampled: f64,
    average: f64,
    factor: f64,
}

impl Edges {
    fn new(at: Placement, range_s: f64, is_rate: bool) -> Edges {
        let sampled = at.sampled_ms as f64 / 1000.0;
        let mut edges = Edges {
            to_start: at.to_start_ms as f64 / 1000.0,
            to_end: at.to_end_ms as f64 / 1000.0,
            sampled,
            average: sampled / at.intervals as f64,
            factor: 0.0,
        };
        edges.factor = edges.factor_from(edges.to_start, range_s, is_rate);
        edges
    }

    /// Extrapolate to an edge only when the samples reach within 1.1 average
    /// intervals of it; otherwise assume the series starts or ends half an
    /// interval past its samples. Per second for `rate`.
    fn factor_from(&self, to_start: f64, range_s: f64, is_rate: bool) -> f64 {
        let threshold = self.average * 1.1;
        let mut interval = self.sampled;
        interval += if to_start < threshold { to_start } else { self.average / 2.0 };
        interval += if self.to_end < threshold { self.to_end } else { self.average / 2.0 };
        let factor = interval / self.sampled;
        if is_rate {
            factor / range_s
        } else {
            factor
        }
    }

    /// The increase extrapolated towards the window's edges.
    fn extrapolate(&self, result: f64, first: f64, is_counter: bool, range_s: f64, is_rate: bool) -> f64 {
        let mut factor = self.factor;
        // A counter cannot go below zero: extrapolate no further back than
        // where it would have been zero.
        if is_counter && result > 0.0 && first >= 0.0 {
            let to_zero = self.sampled * (first / result);
            if to_zero < self.to_start {
                factor = self.factor_from(to_zero, range_s, is_rate);
            }
        }
        result * factor
    }
}

/// `instantValue` behind `irate` and `idelta`: from the last two samples.
fn instant_value(ts: &[i64], vs: &[f64], is_rate: bool) -> Option<f64> {
    let n = ts.len();
    if n < 2 {
        return None;
    }
    let (last, prev) = (vs[n - 1], vs[n - 2]);
    let mut result = if is_rate && last < prev { last } else { last - prev };
    let sampled = ts[n - 1] - ts[n - 2];
    if sampled == 0 {
        return None;
    }
    if is_rate {
        result /= sampled as f64 / 1000.0;
    }
    Some(result)
}

/// Least squares over `(t - intercept_time, v)` in seconds, with Kahan sums;
/// a constant series has slope 0 (NaN when the constant is infinite).
pub(crate) fn linear_regression(ts: &[i64], vs: &[f64], intercept_time: i64) -> (f64, f64) {
    let (mut n, mut sum_x, mut c_x, mut sum_y, mut c_y) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let (mut sum_xy, mut c_xy, mut sum_x2, mut c_x2) = (0.0, 0.0, 0.0, 0.0);
    let init_y = vs[0];
    let mut const_y = true;
    for (i, (&t, &v)) in ts.iter().zip(vs).enumerate() {
        if const_y && i > 0 && v != init_y {
            const_y = false;
        }
        n += 1.0;
        let x = (t - intercept_time) as f64 / 1e3;
        (sum_x, c_x) = kahan_sum_inc(x, sum_x, c_x);
        (sum_y, c_y) = kahan_sum_inc(v, sum_y, c_y);
        (sum_xy, c_xy) = kahan_sum_inc(x * v, sum_xy, c_xy);
        (sum_x2, c_x2) = kahan_sum_inc(x * x, sum_x2, c_x2);
    }
    if const_y {
        if init_y.is_infinite() {
            return (f64::NAN, f64::NAN);
        }
        return (0.0, init_y);
    }
    let (sum_x, sum_y, sum_xy, sum_x2) = (sum_x + c_x, sum_y + c_y, sum_xy + c_xy, sum_x2 + c_x2);
    let cov_xy = sum_xy - sum_x * sum_y / n;
    let var_x = sum_x2 - sum_x * sum_x / n;
    let slope = cov_xy / var_x;
    let intercept = sum_y / n - slope * sum_x / n;
    (slope, intercept)
}

/// `funcHoltWinters`: double exponential smoothing with factors in (0, 1).
fn holt_winters(vs: &[f64], sf: f64, tf: f64) -> Result<Option<f64>> {
    if sf <= 0.0 || sf >= 1.0 {
        bail!(Execution, "invalid smoothing factor. Expected: 0 < sf < 1, got: {sf:.6}");
    }
    if tf <= 0.0 || tf >= 1.0 {
        bail!(Execution, "invalid trend factor. Expected: 0 < tf < 1, got: {tf:.6}");
    }
    if vs.len() < 2 {
        return Ok(None);
    }
    let (mut s0, mut s1) = (0.0, vs[0]);
    let mut b = vs[1] - vs[0];
    for (i, &v) in vs.iter().enumerate().skip(1) {
        let x = sf * v;
        // The trend: the first one is the initial difference.
        if i > 1 {
            b = tf * (s1 - s0) + (1.0 - tf) * b;
        }
        let y = (1.0 - sf) * (s1 + b);
        (s0, s1) = (s1, x + y);
    }
    Ok(Some(s1))
}

/// `avg_over_time`: a running mean with Kahan compensation, keeping infinities.
fn avg_over_time(vs: &[f64]) -> f64 {
    let (mut mean, mut count, mut c) = (0.0f64, 0.0, 0.0);
    for &v in vs {
        count += 1.0;
        if mean.is_infinite() {
            if v.is_infinite() && (mean > 0.0) == (v > 0.0) {
                continue;
            }
            if !v.is_infinite() && !v.is_nan() {
                continue;
            }
        }
        (mean, c) = kahan_sum_inc(v / count - mean / count, mean, c);
    }
    if mean.is_infinite() {
        mean
    } else {
        mean + c
    }
}

/// The population variance by Welford's update with Kahan compensation, as
/// `stdvar_over_time` and `stddev_over_time` compute it.
fn variance(vs: &[f64]) -> f64 {
    let (mut count, mut mean, mut c_mean, mut aux, mut c_aux) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for &v in vs {
        count += 1.0;
        let delta = v - (mean + c_mean);
        (mean, c_mean) = kahan_sum_inc(delta / count, mean, c_mean);
        (aux, c_aux) = kahan_sum_inc(delta * (v - (mean + c_mean)), aux, c_aux);
    }
    (aux + c_aux) / count
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(end: i64, range: i64) -> Window {
        Window { step_t: end, end, range }
    }

    /// `name` over one window holding all of `ts`/`vs`.
    fn over_window(name: &str, ts: &[i64], vs: &[f64], window: Window) -> Option<f64> {
        let span = Span { step: 0, lo: 0, hi: ts.len(), window };
        let mut out = Vec::new();
        lookup(name).unwrap().eval(ts, vs, &[span], &[], &mut out).unwrap();
        out.first().map(|p| p.v)
    }

    #[test]
    fn rate_extrapolates_to_the_window() {
        // 0, 10, 20 at 0 s, 60 s, 120 s in a window of 3 minutes ending at 150 s.
        let ts = [0, 60_000, 120_000];
        let vs = [0.0, 10.0, 20.0];
        // Counter at zero at the first sample: no extrapolation backwards; 30 s
        // forward is within 1.1 intervals: 20 over 150 s.
        let r = over_window("increase", &ts, &vs, w(150_000, 180_000)).unwrap();
        assert!((r - 25.0).abs() < 1e-9, "{r}");
    }

    #[test]
    fn counter_resets_are_added_back() {
        let ts = [0, 10_000, 20_000, 30_000];
        let vs = [5.0, 10.0, 2.0, 4.0];
        assert_eq!(over_window("increase", &ts, &vs, w(30_000, 30_000)), Some(9.0));
        assert_eq!(instant_value(&ts, &[1.0, 2.0, 5.0, 1.0], true), Some(0.1));
    }

    #[test]
    fn windows_sharing_a_placement_give_what_each_gives_alone() {
        // Samples every 10 s; windows of 30 s every 10 s all hold three
        // samples placed alike. The counter starts near zero in the first
        // window only (extrapolation cut short there), and resets in the
        // third.
        let ts: Vec<i64> = (1..=8).map(|i| i * 10_000).collect();
        let vs = [1.0, 50.0, 90.0, 130.0, 5.0, 45.0, 85.0, 125.0];
        let spans: Vec<Span> = (0..6)
            .map(|k| {
                let end = 35_000 + k as i64 * 10_000;
                Span { step: k, lo: k, hi: k + 3, window: Window { step_t: end, end, range: 30_000 } }
            })
            .collect();
        for name in ["rate", "increase", "delta"] {
            let mut together = Vec::new();
            lookup(name).unwrap().eval(&ts, &vs, &spans, &[], &mut together).unwrap();
            let alone: Vec<f64> =
                spans.iter().map(|s| over_window(name, &ts[s.lo..s.hi], &vs[s.lo..s.hi], s.window).unwrap()).collect();
            let together: Vec<f64> = together.iter().map(|p| p.v).collect();
            assert_eq!(together, alone, "{name}");
        }
        // The first window (1, 50, 90) reaches back to where the counter was
        // zero, 20 s * 1/89 before its first sample, rather than to the
        // window's start 5 s before: 89 * (20 + 20/89 + 5) / 20. The second
        // (50, 90, 130) extrapolates 5 s each way: 80 * 30 / 20.
        let first = over_window("increase", &ts[0..3], &vs[0..3], spans[0].window).unwrap();
        let second = over_window("increase", &ts[1..4], &vs[1..4], spans[1].window).unwrap();
        assert_eq!((first, second), (112.25, 120.0));
    }

    #[test]
    fn rate_divides_by_the_range_as_go_converts_it() {
        assert_ne!(duration_seconds(15_274), 15_274.0 / 1000.0);
        assert_eq!(duration_seconds(15_274), 15.0 + 0.274);
        assert_eq!(duration_seconds(90_000), 90.0);
        // An increase of 1 over the whole window: 1 / 15.274 s, with the
        // seconds as Go has them (0.06547073458164201 from 15_274 / 1000).
        let window = w(15_274, 15_274);
        assert_eq!(over_window("rate", &[0, 15_274], &[0.0, 1.0], window), Some(0.065470734581642));
    }

    #[test]
    fn regression_of_a_line() {
        let ts = [0, 1000, 2000];
        let (slope, intercept) = linear_regression(&ts, &[1.0, 3.0, 5.0], 0);
        assert_eq!((slope, intercept), (2.0, 1.0));
        assert_eq!(linear_regression(&ts, &[4.0; 3], 0), (0.0, 4.0));
    }

    #[test]
    fn holt_winters_checks_its_factors() {
        assert!(holt_winters(&[1.0, 2.0], 1.0, 0.5).is_err());
        assert!(holt_winters(&[1.0, 2.0], 0.5, 0.0).is_err());
        assert_eq!(holt_winters(&[1.0], 0.5, 0.5).unwrap(), None);
    }
}
