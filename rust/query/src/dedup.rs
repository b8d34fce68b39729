//! Deduplication of HA replicas (Thanos's `pkg/dedup`): series that differ
//! only in their replica labels are one series, read from one replica at a
//! time and switching to another only where the current one has a gap.

use std::cmp::Ordering;

use thanos_core::labels::Labels;

use crate::response::{ChunkRef, StoreSeries};

/// Thanos's penalty before the first sample (ms): sampling intervals are
/// seconds long, so a replica 5 s behind is not yet considered
/// (`initialPenalty` in `pkg/dedup/iter.go`).
const INITIAL_PENALTY: i64 = 5000;

/// A deduplicated series: its labels without replica labels and the chunks of
/// each replica.
#[derive(Debug)]
pub struct ReplicaGroup {
    pub labels: Labels,
    pub replicas: Vec<Vec<ChunkRef>>,
}

/// Groups merged series (sorted by labels) into replica groups, sorted by their
/// labels without `replica_labels`. Within a group replicas are in the order
/// Thanos folds them: by their replica labels, one without them first.
pub fn group_replicas(series: Vec<StoreSeries>, replica_labels: &[String]) -> Vec<ReplicaGroup> {
    if replica_labels.is_empty() {
        return series.into_iter().map(|s| ReplicaGroup { labels: s.labels, replicas: vec![s.chunks] }).collect();
    }
    let order = |a: &StoreSeries, b: &StoreSeries| {
        part(&a.labels, replica_labels, false)
            .cmp(part(&b.labels, replica_labels, false))
            .then_with(|| part(&a.labels, replica_labels, true).cmp(part(&b.labels, replica_labels, true)))
    };
    let mut series = series;
    // Already in order unless stripping the replica labels moved a series: with
    // labels sorted by name, a replica label in the middle decides the order
    // before the labels after it do.
    if !series.is_sorted_by(|a, b| order(a, b) != Ordering::Greater) {
        series.sort_by(order);
    }
    let mut groups: Vec<ReplicaGroup> = Vec::with_capacity(series.len());
    for s in series {
        match groups.last_mut() {
            Some(g) if is_key_of(&g.labels, &s.labels, replica_labels) => g.replicas.push(s.chunks),
            _ => {
                let labels = Labels::from_sorted(
                    s.labels.into_vec().into_iter().filter(|l| !replica_labels.contains(&l.name)).collect(),
                );
                groups.push(ReplicaGroup { labels, replicas: vec![s.chunks] });
            }
        }
    }
    groups
}

/// The labels of a set that are (`replica`) or are not replica labels, as
/// pairs: label sets compared by their key part without copying them.
fn part<'a>(
    labels: &'a Labels,
    replica_labels: &'a [String],
    replica: bool,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    labels
        .iter()
        .filter(move |l| replica_labels.contains(&l.name) == replica)
        .map(|l| (l.name.as_str(), l.value.as_str()))
}

/// Whether `key` (a group's labels, without replica labels) is `labels`
/// without its replica labels.
fn is_key_of(key: &Labels, labels: &Labels, replica_labels: &[String]) -> bool {
    key.iter().map(|l| (l.name.as_str(), l.value.as_str())).eq(part(labels, replica_labels, false))
}

/// The samples of one series, in time order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Samples {
    pub ts: Vec<i64>,
    pub vs: Vec<f64>,
}

impl Samples {
    pub fn run(&self) -> Run<'_> {
        Run { ts: &self.ts, vs: &self.vs }
    }
}

/// Borrowed samples of one replica, strictly increasing in time.
#[derive(Clone, Copy, Debug)]
pub struct Run<'a> {
    pub ts: &'a [i64],
    pub vs: &'a [f64],
}

/// Folds replicas left to right, `dedup(dedup(r0, r1), r2)`, as Thanos does,
/// appending the result to `ts` and `vs`.
pub fn dedup_replicas(replicas: &[Run<'_>], counter: bool, ts: &mut Vec<i64>, vs: &mut Vec<f64>) {
    match replicas {
        [] => {}
        [only] => {
            ts.extend_from_slice(only.ts);
            vs.extend_from_slice(only.vs);
        }
        [a, b] => dedup_pair_into(*a, *b, counter, ts, vs),
        [first, second, rest @ ..] => {
            let mut acc = dedup_pair(*first, *second, counter);
            for (i, r) in rest.iter().enumerate() {
                if i + 1 == rest.len() {
                    return dedup_pair_into(acc.run(), *r, counter, ts, vs);
                }
                acc = dedup_pair(acc.run(), *r, counter);
            }
        }
    }
}

/// [`dedup_pair_into`] into a new series.
pub fn dedup_pair(a: Run<'_>, b: Run<'_>, counter: bool) -> Samples {
    let mut out = Samples::default();
    dedup_pair_into(a, b, counter, &mut out.ts, &mut out.vs);
    out
}

/// Thanos's penalty algorithm over two replicas. At each step both replicas
/// propose their first sample past the last one emitted plus their penalty;
/// the earlier proposal wins, and the loser's penalty becomes twice the
/// winner's step, so the output sticks to one replica and only switches where
/// it has a gap of more than about two intervals.
///
/// Two refinements keep the output equal to what one Prometheus holding all
/// the data would return:
/// - on a switch the new replica is read from its first sample at least half
///   a sampling interval (the last step emitted; half the initial penalty
///   before there is one) after the last one emitted, so the gap is filled
///   (Thanos resumes at the winning proposal, one penalty later, and loses
///   the samples between) without the other replica's copy of the scrape just
///   emitted, which would double the sampling rate there and give `rate` a
///   window of two samples where one Prometheus has one;
/// - for counters, Thanos shifts the new replica up when its value is below the
///   last emitted one (the replica lags, issue #2401). That shift is only made
///   when the replica did not itself go down there: a counter reset both
///   replicas saw is kept, so `rate`, `increase` and `resets` see it.
pub fn dedup_pair_into(a: Run<'_>, b: Run<'_>, counter: bool, out_ts: &mut Vec<i64>, out_vs: &mut Vec<f64>) {
    let side = [a, b];
    // Per replica: its first sample after the last one emitted, how far past
    // that it must be to be chosen, and what its counter values are shifted by.
    let mut next = [0usize; 2];
    let mut penalty = [0i64; 2];
    let mut adjust = [0.0f64; 2];
    out_ts.reserve(a.ts.len().max(b.ts.len()));
    out_vs.reserve(a.ts.len().max(b.ts.len()));
    let (mut last_t, mut last_v, mut using) = (i64::MIN, f64::NAN, usize::MAX);
    // The step between the last two samples emitted, once there are two.
    let mut step = None;
    loop {
        let ca = candidate(a.ts, next[0], last_t, penalty[0]);
        let cb = candidate(b.ts, next[1], last_t, penalty[1]);
        let pick = match (ca, cb) {
            (None, None) => break,
            (Some(_), None) => 0,
            (None, Some(_)) => 1,
            (Some(ta), Some(tb)) => usize::from(ta > tb),
        };
        let other = 1 - pick;
        let (ts, vs) = (side[pick].ts, side[pick].vs);
        let switch = using != pick && using != usize::MAX;
        if switch {
            // A switch: from the first sample half an interval on. A real
            // proposal is past it already (penalties are at least twice a
            // step or the whole initial penalty); only one left within the
            // penalty after the other replica ended may not be.
            let from = last_t.saturating_add(step.unwrap_or(INITIAL_PENALTY) / 2);
            next[pick] += ts[next[pick]..].partition_point(|&t| t < from);
            if next[pick] == ts.len() {
                continue;
            }
        }
        let i = next[pick];
        let t = ts[i];
        if counter && switch {
            let v = shifted(vs[i], adjust[pick]);
            let own_drop = i > 0 && shifted(vs[i - 1], adjust[pick]) > v;
            if last_v > v && !own_drop {
                adjust[pick] += last_v - v;
            }
        }
        let v = shifted(vs[i], adjust[pick]);
        // Saturating: timestamps are any int64, and a step of more than 2^62 ms
        // doubled wrapped to a negative penalty, which let the other replica
        // interleave at once (found by fuzzing).
        step = (last_t != i64::MIN).then(|| t.saturating_sub(last_t));
        penalty[other] = step.map_or(INITIAL_PENALTY, |s| s.saturating_mul(2));
        penalty[pick] = 0;
        out_ts.push(t);
        out_vs.push(v);
        (last_t, last_v, using) = (t, v, pick);
        // Replicas are strictly increasing (see `series::decode_replica`).
        next[pick] = i + 1;
        let o = side[other].ts;
        while next[other] < o.len() && o[next[other]] <= t {
            next[other] += 1;
        }
    }
}

/// A replica's proposal: its first sample at least `penalty` after `last_t`;
/// `i64::MAX` when it has samples left only within the penalty, so that it
/// still serves when the other replica has ended (Thanos would drop them).
#[inline]
fn candidate(ts: &[i64], next: usize, last_t: i64, penalty: i64) -> Option<i64> {
    if next == ts.len() {
        return None;
    }
    let target = last_t.saturating_add(1).saturating_add(penalty);
    Some(ts[next..].iter().copied().find(|&t| t >= target).unwrap_or(i64::MAX))
}

/// A counter value shifted by a replica's adjustment; NaNs, the stale marker
/// among them, keep their exact bits.
#[inline]
fn shifted(v: f64, adjust: f64) -> f64 {
    if adjust != 0.0 && !v.is_nan() {
        v + adjust
    } else {
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn samples(points: &[(i64, f64)]) -> Samples {
        Samples { ts: points.iter().map(|p| p.0).collect(), vs: points.iter().map(|p| p.1).collect() }
    }

    fn every(interval: i64, from: i64, to: i64, f: impl Fn(i64) -> f64) -> Samples {
        samples(&(from..=to).step_by(interval as usize).map(|t| (t, f(t))).collect::<Vec<_>>())
    }

    #[test]
    fn a_step_of_half_the_int64_range_keeps_the_other_replica_out() {
        // Found by fuzzing: a's step from near i64::MIN to 0, doubled, wrapped
        // to a negative penalty and b's sample at 5 slipped in between.
        let a = samples(&[(i64::MIN + 10, 1.0), (0, 1.0), (i64::MAX - 10, 1.0)]);
        let b = samples(&[(i64::MIN + 10, 2.0), (5, 2.0), (i64::MAX - 5, 2.0)]);
        let got = dedup_pair(a.run(), b.run(), false);
        // (b's sample 5 ms after a's last is its copy of it: not appended.)
        assert_eq!(got.ts, [i64::MIN + 10, 0, i64::MAX - 10]);
        assert_eq!(got.vs, [1.0, 1.0, 1.0]);
    }

    #[test]
    fn equal_replicas_give_one_copy() {
        let a = every(15_000, 0, 600_000, |t| t as f64);
        assert_eq!(dedup_pair(a.run(), a.run(), false), a);
        let mut out = Samples::default();
        dedup_replicas(&[a.run(), a.run(), a.run()], false, &mut out.ts, &mut out.vs);
        assert_eq!(out, a);
    }

    #[test]
    fn a_gap_is_filled_from_the_other_replica() {
        let full = every(15_000, 0, 600_000, |t| (t / 1000) as f64);
        let gappy = samples(
            &full
                .ts
                .iter()
                .zip(&full.vs)
                .filter(|(t, _)| !(100_000..400_000).contains(*t))
                .map(|(t, v)| (*t, *v))
                .collect::<Vec<_>>(),
        );
        assert_eq!(dedup_pair(gappy.run(), full.run(), false), full);
        assert_eq!(dedup_pair(full.run(), gappy.run(), false), full);
    }

    #[test]
    fn sticks_to_one_replica_when_timestamps_are_jittered() {
        let a = every(15_000, 0, 300_000, |_| 1.0);
        let b = every(15_000, 7_000, 307_000, |_| 2.0);
        let got = dedup_pair(a.run(), b.run(), false);
        // As Thanos: the first sample from a; b's first one is 7 s later, past
        // the initial 5 s penalty and before a's second, so b takes over.
        assert_eq!(got.ts[..3], [0, 7_000, 22_000]);
        assert!(got.vs[1..].iter().all(|&v| v == 2.0), "{got:?}");
        // Never two samples closer than the sampling interval after the start.
        assert!(got.ts.windows(2).skip(1).all(|w| w[1] - w[0] >= 15_000));
    }

    #[test]
    fn the_other_replica_s_copy_of_the_last_scrape_is_not_appended() {
        // b scrapes 1 s after a: when a ends, b's copy of a's last scrape is
        // the same observation, not a new one (it gave `rate` a window of two
        // equal samples, 0, where one Prometheus has one sample and no rate).
        let a = every(15_000, 0, 60_000, |t| t as f64);
        let b = every(15_000, 1_000, 61_000, |t| (t - 1_000) as f64);
        assert_eq!(dedup_pair(a.run(), b.run(), true), a);
        // Before a second sample there is no step: half the initial penalty.
        let one = samples(&[(426_087, 1469.0)]);
        let copy = samples(&[(426_251, 1469.0)]);
        assert_eq!(dedup_pair(one.run(), copy.run(), true), one);
        assert_eq!(dedup_pair(copy.run(), one.run(), true), one);
        let later = samples(&[(429_000, 1470.0)]);
        assert_eq!(dedup_pair(one.run(), later.run(), true).ts, [426_087, 429_000]);
    }

    #[test]
    fn a_switch_resumes_half_an_interval_after_the_last_sample() {
        // a stops at 30 s; b, 4 s behind, takes over at 49 s (its copy of the
        // 45 s scrape), not at 34 s (its copy of the 30 s one).
        let a = every(15_000, 0, 30_000, |_| 1.0);
        let b = every(15_000, 4_000, 94_000, |_| 2.0);
        let got = dedup_pair(a.run(), b.run(), false);
        assert_eq!(got.ts, [0, 15_000, 30_000, 49_000, 64_000, 79_000, 94_000]);
        // b up only from 40 s: the gap is filled from there, past half an
        // interval (Thanos resumes at b's proposal past the penalty, 70 s).
        let b = every(15_000, 40_000, 100_000, |_| 2.0);
        let got = dedup_pair(a.run(), b.run(), false);
        assert_eq!(got.ts, [0, 15_000, 30_000, 40_000, 55_000, 70_000, 85_000, 100_000]);
    }

    #[test]
    fn a_lagging_counter_is_shifted_on_a_switch() {
        // a stops at 100; b lags behind a and continues at 99: not a reset.
        let a = samples(&[(0, 90.0), (15_000, 100.0)]);
        let b = samples(&[(0, 85.0), (15_000, 95.0), (30_000, 99.0), (45_000, 109.0)]);
        let got = dedup_pair(a.run(), b.run(), true);
        assert_eq!(got, samples(&[(0, 90.0), (15_000, 100.0), (30_000, 100.0), (45_000, 110.0)]));
        // Without the counter hint the values are passed through.
        let raw = dedup_pair(a.run(), b.run(), false);
        assert_eq!(raw.vs, vec![90.0, 100.0, 99.0, 109.0]);
    }

    #[test]
    fn a_reset_both_replicas_saw_is_kept() {
        // The target restarts while a is away: b saw 100 then 3.
        let a = samples(&[(0, 90.0), (15_000, 100.0), (120_000, 20.0)]);
        let b = samples(&[(0, 90.0), (15_000, 100.0), (30_000, 3.0), (45_000, 8.0), (60_000, 12.0)]);
        let got = dedup_pair(a.run(), b.run(), true);
        assert_eq!(got.vs, vec![90.0, 100.0, 3.0, 8.0, 12.0, 20.0]);
    }

    #[test]
    fn stale_markers_keep_their_bits() {
        let stale = f64::from_bits(0x7ff0_0000_0000_0002);
        let a = samples(&[(0, 10.0)]);
        let b = samples(&[(0, 5.0), (15_000, 6.0), (30_000, stale)]);
        let got = dedup_pair(a.run(), b.run(), true);
        assert_eq!(got.vs[2].to_bits(), stale.to_bits());
    }

    fn store_series(pairs: &[(&str, &str)]) -> StoreSeries {
        StoreSeries {
            labels: Labels::from_pairs(pairs.iter().copied()),
            chunks: vec![ChunkRef::raw(0, 0, Bytes::from(pairs.len().to_string()))],
        }
    }

    #[test]
    fn groups_by_labels_without_replica_labels() {
        let mut input = vec![
            store_series(&[("__name__", "up"), ("cluster", "eu1"), ("replica", "0")]),
            store_series(&[("__name__", "up"), ("cluster", "us1"), ("replica", "0"), ("z", "1")]),
            store_series(&[("__name__", "up"), ("cluster", "us1"), ("replica", "0"), ("z", "2")]),
            store_series(&[("__name__", "up"), ("cluster", "us1"), ("replica", "1"), ("z", "1")]),
            store_series(&[("__name__", "up"), ("cluster", "us1"), ("z", "1")]),
        ];
        input.sort_by(|a, b| a.labels.cmp(&b.labels));
        let groups = group_replicas(input, &["replica".to_string()]);
        let shape: Vec<(String, usize)> = groups.iter().map(|g| (g.labels.to_string(), g.replicas.len())).collect();
        assert_eq!(
            shape,
            vec![
                (r#"{__name__="up", cluster="eu1"}"#.into(), 1),
                (r#"{__name__="up", cluster="us1", z="1"}"#.into(), 3),
                (r#"{__name__="up", cluster="us1", z="2"}"#.into(), 1),
            ]
        );
        // The series without a replica label comes first, as in Thanos.
        assert_eq!(groups[1].replicas[0][0].data, Bytes::from("3"));
    }

    #[test]
    fn no_replica_labels_means_no_grouping() {
        let input = vec![store_series(&[("a", "1"), ("replica", "0")]), store_series(&[("a", "1"), ("replica", "1")])];
        assert_eq!(group_replicas(input, &[]).len(), 2);
    }
}
