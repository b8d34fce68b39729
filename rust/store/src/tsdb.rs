//! The sidecar's StoreAPI read straight from Prometheus's data directory
//! (`--tsdb.path`) instead of through its remote-read API: Thanos's
//! `TSDBStore` (`pkg/store/tsdb.go`), over a directory that Prometheus keeps
//! writing. Requests are decided as for remote read ([`SeriesPlan`],
//! [`LabelsPlan`]); chunks go out as they are on disk.

use bytes::Bytes;
use thanos_core::labels::{Labels, Matcher};
use thanos_core::{bail, Result};
use thanos_tsdb::{ChunkSeries, Db, MergedSeriesSet};

use crate::request::{LabelsMethod, LabelsPlan, SeriesPlan};
use crate::response::RawChunk;
use crate::storepb;

/// One `Series` call over a data directory. It holds the blocks it reads, so
/// it finishes on them even if Prometheus deletes them meanwhile.
pub struct TsdbSeries {
    plan: SeriesPlan,
    /// `None` once every series is sent, or when the external labels rule
    /// this sidecar out.
    set: Option<MergedSeriesSet>,
}

impl TsdbSeries {
    /// Decodes the request ([`SeriesPlan::new`]) and starts the selection.
    pub fn new(request: &[u8], external: Labels, min_time: i64, db: &Db) -> Result<Self> {
        let plan = SeriesPlan::new(request, external, min_time)?;
        let set = if plan.matches() { Some(db.select(plan.matchers(), plan.min_time, plan.max_time)?) } else { None };
        Ok(TsdbSeries { plan, set })
    }

    /// The next `SeriesResponse` messages, stopping once at least `budget`
    /// bytes of them are ready (a series is never split); empty only when the
    /// answer is complete. Series waiting in an unfilled batch do not count:
    /// a call returns once messages are ready, never an empty list before the end.
    pub fn next_messages(&mut self, budget: usize) -> Result<Vec<Bytes>> {
        let mut out: Vec<Bytes> = Vec::new();
        let mut ready = 0;
        while ready < budget.max(1) {
            let Some(set) = &mut self.set else { break };
            let before = out.len();
            match set.next().transpose()? {
                Some(series) => self.send(&series, &mut out)?,
                None => {
                    self.set = None;
                    self.plan.flush(&mut out);
                }
            }
            ready += out[before..].iter().map(Bytes::len).sum::<usize>();
        }
        Ok(out)
    }

    fn send(&mut self, series: &ChunkSeries, out: &mut Vec<Bytes>) -> Result<()> {
        let labels = series.labels.iter().map(|l| (l.name.as_str(), l.value.as_str()));
        if self.plan.skip_chunks {
            self.plan.push(labels, &[], out);
            return Ok(());
        }
        let mut chunks = Vec::with_capacity(series.chunks.len());
        for c in &series.chunks {
            let Some(encoding) = storepb::chunk_encoding(i32::from(c.encoding)) else {
                bail!(CorruptBlock, "chunk of encoding {}, which the StoreAPI cannot carry", c.encoding);
            };
            chunks.push(RawChunk::raw(c.meta.min_time, c.meta.max_time, encoding, &c.data));
        }
        self.plan.push(labels, &chunks, out);
        Ok(())
    }
}

/// The encoded answer of a `LabelNames` or `LabelValues` call over a data directory.
pub fn labels_response(plan: &LabelsPlan, db: &Db) -> Result<Vec<u8>> {
    if let Some(answer) = plan.answer() {
        return Ok(answer.to_vec());
    }
    // What Prometheus's label API answers such a request (`matchersToSeriesSet`
    // callers in `web/api/v1/api.go`); the remote-read path passes it on.
    if !plan.matchers.is_empty() && plan.matchers.iter().all(Matcher::matches_empty) {
        bail!(BadData, "match[] must contain at least one non-empty matcher");
    }
    let strings = match plan.method {
        LabelsMethod::Names => db.label_names(&plan.matchers, plan.start, plan.end)?,
        LabelsMethod::Values => db.label_values(&plan.label, &plan.matchers, plan.start, plan.end)?,
    };
    Ok(plan.finish(strings))
}
