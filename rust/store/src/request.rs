//! What a StoreAPI call asks of a sidecar, decided once for both read paths
//! (Prometheus's remote read and its data directory): the matchers left once
//! the external labels are taken out, the time range the sidecar serves, how
//! answers are batched, and how label answers are finished.

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::{matches_external_labels, Labels, Matcher};
use thanos_core::{bail, Error, ErrorKind, Result};

use crate::labelpb;
use crate::pb::thanos;
use crate::response::{Batcher, RawChunk};
use crate::storepb;

pub(crate) fn decode<M: Message + Default>(what: &str, request: &[u8]) -> Result<M> {
    M::decode(request).map_err(|e| Error::new(ErrorKind::BadData, format!("unmarshal {what}: {e}")))
}

/// The first time the sidecar serves: Thanos v0.26 raises a request's min time
/// to it, keeping the step grid of the query hints when there are any.
pub(crate) fn clamp_min_time(min_time: i64, available: i64, hints: Option<&thanos::QueryHints>) -> i64 {
    if min_time >= available {
        return min_time;
    }
    let step = hints.map_or(0, |h| h.step_millis);
    if step <= 0 {
        return available;
    }
    // In i128: `available - min_time` spans up to the whole int64 range.
    let (min, avail, step) = (i128::from(min_time), i128::from(available), i128::from(step));
    let mut aligned = min + (avail - min) / step * step;
    if aligned != avail {
        aligned += step;
    }
    aligned.min(i128::from(i64::MAX)) as i64
}

/// A decoded `thanos.SeriesRequest`.
pub struct SeriesPlan {
    external: Labels,
    without: Vec<String>,
    /// `None` when an external-label matcher fails: the answer is empty.
    matchers: Option<Vec<Matcher>>,
    pub min_time: i64,
    pub max_time: i64,
    pub skip_chunks: bool,
    batcher: Batcher,
}

impl SeriesPlan {
    /// Decodes the request. `min_time` is the earliest time the sidecar
    /// serves. Fails with `BadData` on a malformed request, an invalid
    /// matcher, or when no matcher is left once the external labels are taken out.
    pub fn new(request: &[u8], external: Labels, min_time: i64) -> Result<Self> {
        let req: thanos::SeriesRequest = decode("SeriesRequest", request)?;
        let matchers = matches_external_labels(&storepb::matchers_from_proto(&req.matchers)?, &external);
        if matchers.as_ref().is_some_and(|m| m.is_empty()) {
            bail!(BadData, "no matchers specified (excluding external labels)");
        }
        Ok(SeriesPlan {
            external,
            without: req.without_replica_labels,
            matchers,
            min_time: clamp_min_time(req.min_time, min_time, req.query_hints.as_ref()),
            max_time: req.max_time,
            skip_chunks: req.skip_chunks,
            batcher: Batcher::new(req.response_batch_size),
        })
    }

    /// False when the external labels rule this sidecar out.
    pub fn matches(&self) -> bool {
        self.matchers.is_some()
    }

    /// The matchers left once the external labels are taken out.
    pub fn matchers(&self) -> &[Matcher] {
        self.matchers.as_deref().unwrap_or_default()
    }

    /// Sends a series: its labels, with the external labels merged in, and its chunks.
    pub(crate) fn push<'a>(
        &mut self,
        labels: impl IntoIterator<Item = (&'a str, &'a str)>,
        chunks: &[RawChunk<'_>],
        out: &mut Vec<Bytes>,
    ) {
        let labels = labelpb::extend_sorted(labels, &self.external, &self.without);
        self.batcher.push(&labels, chunks, out);
    }

    /// Sends the series still waiting for a batch to fill.
    pub(crate) fn flush(&mut self, out: &mut Vec<Bytes>) {
        self.batcher.flush(out);
    }
}

/// Which label call a [`LabelsPlan`] answers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LabelsMethod {
    Names,
    Values,
}

/// A decoded `LabelNames` or `LabelValues` request: either answered at once
/// (an external-label matcher fails, or the values of an external label are
/// asked for) or by looking up `label` over `matchers` in `[start, end]`.
pub struct LabelsPlan {
    pub method: LabelsMethod,
    external: Labels,
    without: Vec<String>,
    answer: Option<Vec<u8>>,
    /// The label whose values are asked for (empty for names).
    pub label: String,
    pub matchers: Vec<Matcher>,
    pub start: i64,
    pub end: i64,
}

impl LabelsPlan {
    /// Decodes a `thanos.LabelNamesRequest`.
    pub fn label_names(request: &[u8], external: Labels) -> Result<Self> {
        let req: thanos::LabelNamesRequest = decode("LabelNamesRequest", request)?;
        let mut p = LabelsPlan::new(LabelsMethod::Names, external, req.without_replica_labels, String::new());
        p.plan(&req.matchers, req.start, req.end)?;
        Ok(p)
    }

    /// Decodes a `thanos.LabelValuesRequest`.
    pub fn label_values(request: &[u8], external: Labels) -> Result<Self> {
        let req: thanos::LabelValuesRequest = decode("LabelValuesRequest", request)?;
        if req.label.is_empty() {
            bail!(BadData, "label name parameter cannot be empty");
        }
        let mut p = LabelsPlan::new(LabelsMethod::Values, external, req.without_replica_labels, req.label);
        if p.without.contains(&p.label) {
            // The querier strips this label from every series: it has no values.
            p.answer = Some(p.encode(Vec::new()));
        } else if p.external.has(&p.label) {
            // An external label has one value on every series of this sidecar,
            // whatever the matchers and time range.
            p.answer = Some(p.encode(vec![p.external.get(&p.label).to_string()]));
        } else {
            p.plan(&req.matchers, req.start, req.end)?;
        }
        Ok(p)
    }

    fn new(method: LabelsMethod, external: Labels, without: Vec<String>, label: String) -> Self {
        LabelsPlan { method, external, without, answer: None, label, matchers: Vec::new(), start: 0, end: 0 }
    }

    fn plan(&mut self, matchers: &[thanos::LabelMatcher], start: i64, end: i64) -> Result<()> {
        match matches_external_labels(&storepb::matchers_from_proto(matchers)?, &self.external) {
            None => self.answer = Some(self.encode(Vec::new())),
            Some(rest) => (self.matchers, self.start, self.end) = (rest, start, end),
        }
        Ok(())
    }

    /// The encoded response when nothing need be looked up.
    pub fn answer(&self) -> Option<&[u8]> {
        self.answer.as_deref()
    }

    /// The encoded response from the names or values found.
    pub fn finish(&self, mut strings: Vec<String>) -> Vec<u8> {
        // Series carry the external labels too, so their names are known labels
        // whenever there is any series at all.
        if self.method == LabelsMethod::Names && !strings.is_empty() {
            strings.extend(self.external.iter().map(|l| l.name.clone()));
        }
        strings.retain(|s| !self.without.contains(s));
        strings.sort_unstable();
        strings.dedup();
        self.encode(strings)
    }

    fn encode(&self, strings: Vec<String>) -> Vec<u8> {
        match self.method {
            LabelsMethod::Names => thanos::LabelNamesResponse { names: strings, ..Default::default() }.encode_to_vec(),
            LabelsMethod::Values => {
                thanos::LabelValuesResponse { values: strings, ..Default::default() }.encode_to_vec()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn min_time_is_clamped_on_the_step_grid() {
        assert_eq!(clamp_min_time(100, 50, None), 100);
        assert_eq!(clamp_min_time(0, 50, None), 50);
        let hints = thanos::QueryHints { step_millis: 30, ..Default::default() };
        assert_eq!(clamp_min_time(0, 50, Some(&hints)), 60);
        assert_eq!(clamp_min_time(20, 50, Some(&hints)), 50);
        assert_eq!(clamp_min_time(i64::MIN, i64::MAX, Some(&hints)), i64::MAX);
        let req = thanos::SeriesRequest {
            min_time: -10,
            max_time: i64::MAX,
            matchers: vec![thanos::LabelMatcher { r#type: 0, name: "__name__".into(), value: "up".into() }],
            ..Default::default()
        };
        let plan = SeriesPlan::new(&req.encode_to_vec(), Labels::new(), 7).unwrap();
        assert_eq!((plan.min_time, plan.max_time), (7, i64::MAX));
    }
}
