//! The sidecar's StoreAPI read straight from Prometheus's data directory
//! (`--tsdb.path`) instead of through its remote-read API: Thanos's
//! `TSDBStore` (`pkg/store/tsdb.go`), over a directory that Prometheus keeps
//! writing. Requests are decided as for remote read ([`SeriesPlan`],
//! [`LabelsPlan`]); chunks go out as they are on disk.

use prost::Message;
use thanos_core::labels::Labels;
use thanos_core::{bail, Result};
use thanos_tsdb::{ChunkSeries, Db, MergedSeriesSet};

use crate::pb::{prometheus, thanos};
use crate::request::{LabelsMethod, LabelsPlan, SeriesPlan};
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

    /// The next `SeriesResponse` messages, stopping once about `budget` bytes
    /// are ready (a series is never split); empty when the answer is complete.
    pub fn next_messages(&mut self, budget: usize) -> Result<Vec<Vec<u8>>> {
        let mut out = Vec::new();
        let mut size = 0;
        while size < budget {
            let Some(set) = &mut self.set else { break };
            match set.next().transpose()? {
                Some(series) => {
                    let series = self.convert(series)?;
                    size += series.encoded_len();
                    self.plan.batcher.push(series, &mut out);
                }
                None => {
                    self.set = None;
                    self.plan.batcher.flush(&mut out);
                }
            }
        }
        Ok(out)
    }

    fn convert(&self, series: ChunkSeries) -> Result<thanos::Series> {
        let labels =
            series.labels.into_vec().into_iter().map(|l| prometheus::Label { name: l.name, value: l.value }).collect();
        if self.plan.skip_chunks {
            return Ok(self.plan.series(labels, Vec::new()));
        }
        let mut chunks = Vec::with_capacity(series.chunks.len());
        for c in series.chunks {
            let Some(encoding) = storepb::chunk_encoding(i32::from(c.encoding)) else {
                bail!(CorruptBlock, "chunk of encoding {}, which the StoreAPI cannot carry", c.encoding);
            };
            chunks.push(thanos::AggrChunk {
                min_time: c.meta.min_time,
                max_time: c.meta.max_time,
                raw: Some(thanos::Chunk { r#type: encoding, data: c.data, hash: 0 }),
                ..Default::default()
            });
        }
        Ok(self.plan.series(labels, chunks))
    }
}

/// The encoded answer of a `LabelNames` or `LabelValues` call over a data directory.
pub fn labels_response(plan: &LabelsPlan, db: &Db) -> Result<Vec<u8>> {
    if let Some(answer) = plan.answer() {
        return Ok(answer.to_vec());
    }
    let strings = match plan.method {
        LabelsMethod::Names => db.label_names(&plan.matchers, plan.start, plan.end)?,
        LabelsMethod::Values => db.label_values(&plan.label, &plan.matchers, plan.start, plan.end)?,
    };
    Ok(plan.finish(strings))
}
