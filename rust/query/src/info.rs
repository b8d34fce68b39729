//! The Info APIs from the querier's side: reading what an endpoint announces
//! (`thanos.info.Info/Info`, or the legacy `thanos.Store/Info` of older
//! stores) and announcing the querier itself when it is used as a store.

use bytes::Bytes;
use prost::Message;
use thanos_core::labels::Labels;
use thanos_core::{Error, ErrorKind, Result};
use thanos_store::labelpb;
use thanos_store::pb::thanos::info::{self, InfoResponse, StoreInfo as PbStoreInfo};
use thanos_store::pb::thanos::{InfoResponse as LegacyInfoResponse, StoreType, ZLabelSet};

use crate::response::labels_from_pb;

/// What an endpoint announced.
#[derive(Clone, Debug, PartialEq)]
pub struct EndpointInfo {
    /// Thanos's component name: `sidecar`, `query`, `store`, `rule`, `receive`.
    pub component: String,
    pub label_sets: Vec<Labels>,
    /// The store's time range; `None` when it serves no StoreAPI.
    pub store: Option<(i64, i64)>,
    /// The other APIs it announces, by the names of [`APIS`].
    pub apis: Vec<&'static str>,
}

/// The APIs beside the StoreAPI that an Info answer can announce, named as
/// the querier's Python side asks for them.
pub const APIS: [&str; 4] = ["rules", "targets", "metadata", "exemplars"];

fn announced(r: &InfoResponse) -> Vec<&'static str> {
    let present = [r.rules.is_some(), r.targets.is_some(), r.metric_metadata.is_some(), r.exemplars.is_some()];
    APIS.iter().zip(present).filter(|(_, p)| *p).map(|(name, _)| *name).collect()
}

/// Label sets as the querier keeps them: Thanos ignores the marker set of
/// pre-0.8 stores whose first label is `@thanos_compatibility_store_type`.
fn label_sets(sets: Vec<ZLabelSet>) -> Vec<Labels> {
    sets.into_iter()
        .filter(|s| s.labels.first().is_none_or(|l| l.name != "@thanos_compatibility_store_type"))
        .map(|s| labels_from_pb(s.labels))
        .collect()
}

fn corrupt(what: &str, e: prost::DecodeError) -> Error {
    Error::new(ErrorKind::CorruptFrame, format!("decode {what}: {e}"))
}

/// An answer of `thanos.info.Info/Info`.
pub fn decode_info(message: Bytes) -> Result<EndpointInfo> {
    let r = InfoResponse::decode(message).map_err(|e| corrupt("InfoResponse", e))?;
    let apis = announced(&r);
    Ok(EndpointInfo {
        component: r.component_type,
        label_sets: label_sets(r.label_sets),
        store: r.store.map(|s| (s.min_time, s.max_time)),
        apis,
    })
}

/// An answer of the legacy `thanos.Store/Info`.
pub fn decode_store_info(message: Bytes) -> Result<EndpointInfo> {
    let r = LegacyInfoResponse::decode(message).map_err(|e| corrupt("Store InfoResponse", e))?;
    let component = match StoreType::try_from(r.store_type).unwrap_or(StoreType::Unknown) {
        StoreType::Query => "query",
        StoreType::Rule => "rule",
        StoreType::Sidecar => "sidecar",
        StoreType::Store => "store",
        StoreType::Receive => "receive",
        StoreType::Debug => "debug",
        StoreType::Unknown => "",
    };
    let mut sets = r.label_sets;
    if sets.is_empty() && !r.labels.is_empty() {
        sets.push(ZLabelSet { labels: r.labels });
    }
    Ok(EndpointInfo {
        component: component.to_string(),
        label_sets: label_sets(sets),
        store: Some((r.min_time, r.max_time)),
        // Stores that only have the legacy Info serve only the StoreAPI.
        apis: Vec::new(),
    })
}

fn to_pb_sets(sets: &[Labels]) -> Vec<ZLabelSet> {
    sets.iter().map(|s| ZLabelSet { labels: labelpb::to_proto(s) }).collect()
}

/// The APIs beside the StoreAPI the querier serves over gRPC, proxying its
/// endpoints' (by the names of [`APIS`]).
pub const QUERY_APIS: &[&str] = &["rules", "targets", "metadata", "exemplars"];

/// The querier's own Info: each downstream label set extended with the
/// selector labels (or just those when there are none), the union of the
/// downstream time ranges, and the query API.
pub fn query_info(downstream: &[EndpointInfo], selector_labels: &Labels) -> InfoResponse {
    let mut sets: Vec<Labels> = downstream
        .iter()
        .flat_map(|e| &e.label_sets)
        .map(|s| {
            let mut b = s.builder();
            for l in selector_labels.iter() {
                b.set(l.name.clone(), l.value.clone());
            }
            b.build()
        })
        .collect();
    if sets.is_empty() && !selector_labels.is_empty() {
        sets.push(selector_labels.clone());
    }
    sets.sort();
    sets.dedup();
    let ranges: Vec<(i64, i64)> = downstream.iter().filter_map(|e| e.store).collect();
    let (min_time, max_time) = if ranges.is_empty() {
        (i64::MIN, i64::MAX)
    } else {
        (ranges.iter().map(|r| r.0).min().unwrap(), ranges.iter().map(|r| r.1).max().unwrap())
    };
    InfoResponse {
        label_sets: to_pb_sets(&sets),
        component_type: "query".to_string(),
        store: Some(PbStoreInfo { min_time, max_time, ..Default::default() }),
        rules: QUERY_APIS.contains(&"rules").then_some(info::RulesInfo {}),
        targets: QUERY_APIS.contains(&"targets").then_some(info::TargetsInfo {}),
        metric_metadata: QUERY_APIS.contains(&"metadata").then_some(info::MetricMetadataInfo {}),
        exemplars: QUERY_APIS.contains(&"exemplars").then_some(info::ExemplarsInfo::default()),
        // No Query API: this querier serves no thanos.Query gRPC service, and
        // announcing it would send distributed-engine calls to nowhere.
        ..Default::default()
    }
}

/// The same for older queriers calling the legacy `thanos.Store/Info`.
pub fn query_store_info(info: &InfoResponse) -> LegacyInfoResponse {
    let store = info.store.clone().unwrap_or_default();
    LegacyInfoResponse {
        labels: info.label_sets.first().map(|s| s.labels.clone()).unwrap_or_default(),
        min_time: store.min_time,
        max_time: store.max_time,
        store_type: StoreType::Query as i32,
        label_sets: info.label_sets.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_store::pb::thanos::Label;

    fn sidecar(cluster: &str, replica: &str, min: i64, max: i64) -> EndpointInfo {
        EndpointInfo {
            component: "sidecar".into(),
            label_sets: vec![Labels::from_pairs([("cluster", cluster), ("replica", replica)])],
            store: Some((min, max)),
            apis: vec!["rules", "exemplars"],
        }
    }

    #[test]
    fn round_trips_and_the_querier_announces_its_stores() {
        let down = [sidecar("eu1", "0", 10, 100), sidecar("us1", "0", 5, 90)];
        let info = query_info(&down, &Labels::from_pairs([("tier", "global")]));
        let back = decode_info(info.encode_to_vec().into()).unwrap();
        assert_eq!(back.component, "query");
        assert_eq!(back.store, Some((5, 100)));
        assert_eq!(back.label_sets.len(), 2);
        assert_eq!(back.label_sets[0].get("tier"), "global");
        assert_eq!(back.apis, QUERY_APIS, "the querier announces the APIs it serves over gRPC");
        let legacy = decode_store_info(query_store_info(&info).encode_to_vec().into()).unwrap();
        assert_eq!(legacy.component, "query");
        assert_eq!(legacy.label_sets, back.label_sets);
    }

    #[test]
    fn without_stores_the_range_is_unbounded_and_markers_are_ignored() {
        let info = query_info(&[], &Labels::new());
        assert_eq!(info.store.unwrap().min_time, i64::MIN);
        let legacy = LegacyInfoResponse {
            label_sets: vec![ZLabelSet {
                labels: vec![Label { name: "@thanos_compatibility_store_type".into(), value: "x".into() }],
            }],
            store_type: StoreType::Sidecar as i32,
            ..Default::default()
        };
        let got = decode_store_info(legacy.encode_to_vec().into()).unwrap();
        assert_eq!((got.component.as_str(), got.label_sets.len()), ("sidecar", 0));
        assert!(decode_info(Bytes::from_static(b"\x0a\xff")).is_err());
    }
}
