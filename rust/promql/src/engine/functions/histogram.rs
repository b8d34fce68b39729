//! `histogram_quantile` over classic histograms: the `le` buckets of a series
//! group, interpolated linearly within the bucket the quantile falls in
//! (`bucketQuantile` in Prometheus 2.42's `promql/quantile.go`).

use crate::engine::gosort::go_sort;

/// A bucket: its upper bound and the cumulative count up to it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Bucket {
    pub upper_bound: f64,
    pub count: f64,
}

pub(crate) fn bucket_quantile(q: f64, buckets: &mut Vec<Bucket>) -> f64 {
    if q.is_nan() {
        return f64::NAN;
    }
    if q < 0.0 {
        return f64::NEG_INFINITY;
    }
    if q > 1.0 {
        return f64::INFINITY;
    }
    go_sort(buckets, |a, b| a.upper_bound < b.upper_bound);
    if buckets.last().is_none_or(|b| b.upper_bound != f64::INFINITY) {
        return f64::NAN;
    }
    coalesce(buckets);
    ensure_monotonic(buckets);
    if buckets.len() < 2 {
        return f64::NAN;
    }
    let observations = buckets[buckets.len() - 1].count;
    if observations == 0.0 {
        return f64::NAN;
    }
    let mut rank = q * observations;
    // The first bucket, among all but +Inf, whose count reaches the rank.
    let n = buckets.len() - 1;
    // Go's sort.Search, probe for probe: with NaN counts the predicate is not
    // monotonic, and where the search lands is what Prometheus answers.
    let b = go_search(n, |i| buckets[i].count >= rank);
    if b == n {
        return buckets[n - 1].upper_bound;
    }
    if b == 0 && buckets[0].upper_bound <= 0.0 {
        return buckets[0].upper_bound;
    }
    let (mut start, end, mut count) = (0.0, buckets[b].upper_bound, buckets[b].count);
    if b > 0 {
        start = buckets[b - 1].upper_bound;
        count -= buckets[b - 1].count;
        rank -= buckets[b - 1].count;
    }
    start + (end - start) * (rank / count)
}

/// Merges buckets with the same upper bound (a series may appear twice under
/// equivalent `le` spellings), adding their counts.
/// Go's `sort.Search`: the first `i` in `0..n` where `f(i)` holds, found by
/// bisection.
fn go_search(n: usize, f: impl Fn(usize) -> bool) -> usize {
    let (mut i, mut j) = (0, n);
    while i < j {
        let h = (i + j) / 2;
        if f(h) {
            j = h;
        } else {
            i = h + 1;
        }
    }
    i
}

fn coalesce(buckets: &mut Vec<Bucket>) {
    let mut out: Vec<Bucket> = Vec::with_capacity(buckets.len());
    for b in buckets.iter() {
        match out.last_mut() {
            Some(last) if last.upper_bound == b.upper_bound => last.count += b.count,
            _ => out.push(*b),
        }
    }
    *buckets = out;
}

/// Raises counts that fall below an earlier bucket's count: scrapes of the
/// buckets are not atomic, and a quantile needs a cumulative distribution.
fn ensure_monotonic(buckets: &mut [Bucket]) {
    let mut max = buckets[0].count;
    for b in buckets.iter_mut().skip(1) {
        if b.count > max {
            max = b.count;
        } else if b.count < max {
            b.count = max;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(upper_bound: f64, count: f64) -> Bucket {
        Bucket { upper_bound, count }
    }

    #[test]
    fn interpolates_within_the_bucket() {
        let mut bs = vec![b(f64::INFINITY, 100.0), b(0.1, 50.0), b(0.2, 100.0)];
        assert!((bucket_quantile(0.5, &mut bs) - 0.1).abs() < 1e-12);
        let mut bs = vec![b(1.0, 10.0), b(2.0, 20.0), b(f64::INFINITY, 20.0)];
        assert!((bucket_quantile(0.75, &mut bs) - 1.5).abs() < 1e-12);
    }

    #[test]
    fn edge_cases() {
        assert!(bucket_quantile(0.5, &mut vec![b(1.0, 1.0)]).is_nan());
        assert_eq!(bucket_quantile(2.0, &mut vec![b(f64::INFINITY, 1.0)]), f64::INFINITY);
        // The quantile falls in +Inf: the highest finite bound.
        let mut bs = vec![b(1.0, 0.0), b(f64::INFINITY, 10.0)];
        assert_eq!(bucket_quantile(0.5, &mut bs), 1.0);
    }
}
