//! Properties of replica deduplication over random replicas.

use proptest::prelude::*;
use thanos_query::dedup::{dedup_pair, dedup_replicas, Samples};

const INTERVAL: i64 = 15_000;

fn full(n: usize) -> Samples {
    let ts: Vec<i64> = (0..n as i64).map(|i| 1_000_000 + i * INTERVAL).collect();
    // A counter with resets, so that the counter mode is exercised too.
    let vs = (0..n).map(|i| ((i * 7) % 100) as f64).collect();
    Samples { ts, vs }
}

fn without(s: &Samples, gaps: &[(usize, usize)]) -> Samples {
    let keep = |i: usize| !gaps.iter().any(|&(from, len)| (from..from + len).contains(&i));
    let idx: Vec<usize> = (0..s.ts.len()).filter(|&i| keep(i)).collect();
    Samples { ts: idx.iter().map(|&i| s.ts[i]).collect(), vs: idx.iter().map(|&i| s.vs[i]).collect() }
}

/// Gaps as (first sample, length).
type Gaps = Vec<(usize, usize)>;

/// Gaps of at least three samples (shorter ones are within the penalty and
/// not filled, by design), some in one replica, some in the other, never both
/// at once: together the replicas hold every sample.
fn disjoint_gaps(n: usize) -> impl Strategy<Value = (Gaps, Gaps)> {
    prop::collection::vec((0..n.max(1), 3usize..40, any::<bool>()), 0..6).prop_map(move |raw| {
        let mut taken = vec![false; n];
        let (mut a, mut b) = (Vec::new(), Vec::new());
        for (from, len, in_a) in raw {
            let to = (from + len).min(n);
            // Neighbouring gaps keep one sample both replicas hold between them.
            let guard = from.saturating_sub(1)..(to + 1).min(n);
            if to - from < 3 || taken[guard].iter().any(|&t| t) {
                continue;
            }
            taken[from..to].iter_mut().for_each(|t| *t = true);
            if in_a {
                a.push((from, to - from));
            } else {
                b.push((from, to - from));
            }
        }
        (a, b)
    })
}

fn check_well_formed(out: &Samples, inputs: &[&Samples]) {
    assert!(out.ts.windows(2).all(|w| w[0] < w[1]), "timestamps not increasing: {:?}", out.ts);
    for (t, v) in out.ts.iter().zip(&out.vs) {
        let found =
            inputs.iter().any(|s| s.ts.iter().zip(&s.vs).any(|(st, sv)| st == t && sv.to_bits() == v.to_bits()));
        assert!(found, "sample ({t}, {v}) is in no replica");
    }
}

proptest! {
    #[test]
    fn replicas_that_together_hold_everything_give_everything(
        (n, (gaps_a, gaps_b)) in (1usize..300).prop_flat_map(|n| (Just(n), disjoint_gaps(n))),
        counter in any::<bool>(),
    ) {
        let all = full(n);
        let a = without(&all, &gaps_a);
        let b = without(&all, &gaps_b);
        prop_assert_eq!(dedup_pair(a.run(), b.run(), counter), all.clone());
        let mut three = Samples::default();
        dedup_replicas(&[a.run(), b.run(), a.run()], counter, &mut three.ts, &mut three.vs);
        prop_assert_eq!(three, all);
    }

    #[test]
    fn jittered_replicas_give_increasing_samples_from_the_inputs(
        n in 1usize..200,
        offset in 0i64..15_000,
        drop_a in prop::collection::vec(any::<bool>(), 200),
        drop_b in prop::collection::vec(any::<bool>(), 200),
    ) {
        let all = full(n);
        let pick = |s: &Samples, drop: &[bool], shift: i64| {
            let idx: Vec<usize> = (0..s.ts.len()).filter(|&i| !drop[i]).collect();
            Samples { ts: idx.iter().map(|&i| s.ts[i] + shift).collect(), vs: idx.iter().map(|&i| s.vs[i]).collect() }
        };
        let a = pick(&all, &drop_a, 0);
        let b = pick(&all, &drop_b, offset);
        let out = dedup_pair(a.run(), b.run(), false);
        check_well_formed(&out, &[&a, &b]);
        // Nothing is lost at the ends: the output starts at the first sample
        // and ends at the last, or less than half its last step before it,
        // where the other replica's last sample is its copy of the same
        // scrape (half the initial penalty, 5 s, before a second sample).
        let first = a.ts.first().into_iter().chain(b.ts.first()).min().copied();
        let last = a.ts.last().into_iter().chain(b.ts.last()).max().copied();
        prop_assert_eq!(out.ts.first().copied(), first);
        if let (Some(last), Some(&end)) = (last, out.ts.last()) {
            let step = match out.ts.len() {
                1 => 5_000,
                n => end - out.ts[n - 2],
            };
            prop_assert!(last - end < (step / 2).max(1), "ends at {end}, the last sample is at {last}");
        }
    }
}
