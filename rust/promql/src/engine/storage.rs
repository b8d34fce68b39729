//! Where the engine reads data from: for each vector selector of a query, a
//! select with hints (as Prometheus's `storage.Querier.Select`) answered with a
//! set of series whose samples are read only when evaluation reaches them.

use std::collections::BTreeMap;
use std::sync::Arc;

use thanos_core::labels::{matches_all, Labels, Matcher};
use thanos_core::{bail, Result};

/// What the engine knows about a select, for stores that can use it: the time
/// range it will read, the step, the range of a range selector, the function or
/// aggregation around it (Prometheus's `storage.SelectHints`). The querier sends
/// these on as StoreAPI request fields, and replica deduplication needs `func`
/// to treat counters right.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SelectHints {
    pub start: i64,
    pub end: i64,
    pub step: i64,
    pub range: i64,
    pub func: String,
    pub by: bool,
    pub grouping: Vec<String>,
}

/// One selected series.
pub trait SeriesData: Send + Sync {
    fn labels(&self) -> &Arc<Labels>;
    /// Appends the samples with `mint <= t <= maxt` in time order.
    fn samples(&self, mint: i64, maxt: i64, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()>;
}

pub type SeriesSet = Vec<Arc<dyn SeriesData>>;

pub trait Queryable: Sync {
    /// The series matching all `matchers`, sorted by labels.
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet>;
}

/// Samples of one series in memory.
pub struct MemSeries {
    labels: Arc<Labels>,
    ts: Vec<i64>,
    vs: Vec<f64>,
}

impl SeriesData for MemSeries {
    fn labels(&self) -> &Arc<Labels> {
        &self.labels
    }

    fn samples(&self, mint: i64, maxt: i64, ts: &mut Vec<i64>, vs: &mut Vec<f64>) -> Result<()> {
        let lo = self.ts.partition_point(|&t| t < mint);
        let hi = self.ts.partition_point(|&t| t <= maxt);
        if lo < hi {
            ts.extend_from_slice(&self.ts[lo..hi]);
            vs.extend_from_slice(&self.vs[lo..hi]);
        }
        Ok(())
    }
}

/// An in-memory database of float series, for the engine used on its own and
/// for the test scripts.
#[derive(Default)]
pub struct MemStorage {
    series: BTreeMap<Labels, Arc<MemSeries>>,
}

impl MemStorage {
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends samples in time order to a series (created when new). Like the
    /// TSDB, a sample older than the newest one stored is refused.
    pub fn append(&mut self, labels: Labels, ts: &[i64], vs: &[f64]) -> Result<()> {
        let entry = self.series.entry(labels.clone()).or_insert_with(|| {
            Arc::new(MemSeries { labels: Arc::new(labels.clone()), ts: Vec::new(), vs: Vec::new() })
        });
        let s = Arc::get_mut(entry).expect("series are not shared while loading");
        for (&t, &v) in ts.iter().zip(vs) {
            match s.ts.last() {
                Some(&last) if t < last => bail!(BadData, "out of order sample for series {labels}: {t} after {last}"),
                // The TSDB keeps the first of two samples at the same time.
                Some(&last) if t == last => continue,
                _ => {}
            }
            s.ts.push(t);
            s.vs.push(v);
        }
        Ok(())
    }

    /// Replaces all samples of a series.
    pub fn replace(&mut self, labels: Labels, ts: Vec<i64>, vs: Vec<f64>) {
        let series = MemSeries { labels: Arc::new(labels.clone()), ts, vs };
        self.series.insert(labels, Arc::new(series));
    }

    pub fn clear(&mut self) {
        self.series.clear();
    }

    pub fn len(&self) -> usize {
        self.series.len()
    }

    pub fn is_empty(&self) -> bool {
        self.series.is_empty()
    }
}

impl Queryable for MemStorage {
    fn select(&self, hints: &SelectHints, matchers: &[Matcher]) -> Result<SeriesSet> {
        Ok(self
            .series
            .iter()
            .filter(|(labels, s)| {
                // Only series with samples in the time range, as a TSDB querier.
                let lo = s.ts.partition_point(|&t| t < hints.start);
                lo < s.ts.len() && s.ts[lo] <= hints.end && matches_all(matchers, labels)
            })
            .map(|(_, s)| s.clone() as Arc<dyn SeriesData>)
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_core::labels::MatchOp;

    #[test]
    fn select_filters_by_matchers_and_time() {
        let mut db = MemStorage::new();
        db.append(Labels::from_pairs([("__name__", "a"), ("job", "x")]), &[10, 20, 30], &[1.0, 2.0, 3.0]).unwrap();
        db.append(Labels::from_pairs([("__name__", "a"), ("job", "y")]), &[100], &[1.0]).unwrap();
        let m = [Matcher::new(MatchOp::Equal, "__name__", "a").unwrap()];
        let all = SelectHints { start: 0, end: 1000, ..Default::default() };
        assert_eq!(db.select(&all, &m).unwrap().len(), 2);
        let early = SelectHints { start: 15, end: 50, ..Default::default() };
        let got = db.select(&early, &m).unwrap();
        assert_eq!(got.len(), 1);
        let (mut ts, mut vs) = (vec![], vec![]);
        got[0].samples(15, 25, &mut ts, &mut vs).unwrap();
        assert_eq!((ts, vs), (vec![20], vec![2.0]));
    }

    #[test]
    fn out_of_order_is_refused() {
        let mut db = MemStorage::new();
        let l = Labels::from_pairs([("__name__", "a")]);
        db.append(l.clone(), &[10], &[1.0]).unwrap();
        assert!(db.append(l, &[5], &[1.0]).is_err());
    }
}
