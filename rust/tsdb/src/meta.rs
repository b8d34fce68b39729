//! A block's `meta.json`: its identity, time range and history
//! (`BlockMeta` in Prometheus's `tsdb/block.go` at v2.42.0), and the `thanos`
//! section that blocks in object storage carry (`metadata.Thanos` in Thanos's
//! `pkg/block/metadata/meta.go` at v0.26.0).

use std::collections::BTreeMap;

use std::path::Path;

use serde::{Deserialize, Serialize};
use thanos_core::{Error, ErrorKind, Result};

/// The file name inside a block directory.
pub const META_FILENAME: &str = "meta.json";

/// The only `version` Prometheus 2.42 writes (`metaVersion1` in `tsdb/block.go`).
pub const META_VERSION_1: u32 = 1;

/// A ULID is 26 characters of Crockford's base32 (`oklog/ulid`).
const ULID_LEN: usize = 26;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMeta {
    /// Unique identifier of the block and its contents; changes on compaction.
    pub ulid: String,
    /// The block holds samples in `[min_time, max_time)`: the upper bound is
    /// exclusive (`tsdb/querier.go`: "block time range is half-open").
    pub min_time: i64,
    pub max_time: i64,
    #[serde(default)]
    pub stats: BlockStats,
    pub compaction: BlockMetaCompaction,
    /// The format version of `meta.json` (not of the index).
    pub version: u32,
    /// Absent in the blocks of a Prometheus data directory; written by Thanos's
    /// shipper, compactor and tools for every block in a bucket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub thanos: Option<ThanosMeta>,
}

/// Where a block in a bucket came from and what it holds.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThanosMeta {
    /// Thanos writes 1; older blocks have none.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub version: u32,
    /// The external labels of the Prometheus (or the labels the compactor
    /// kept): the block's stream. `null` reads as none, as Go's JSON does.
    #[serde(default, deserialize_with = "null_as_default")]
    pub labels: BTreeMap<String, String>,
    #[serde(default)]
    pub downsample: ThanosDownsample,
    /// `sidecar`, `compactor`, `receive`, `ruler`, `bucket.repair`, ...;
    /// empty when unknown.
    #[serde(default)]
    pub source: String,
    /// The chunk segment files under `chunks/`, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub segment_files: Vec<String>,
    /// Every file of the block with its size, for readers to check and plan by.
    #[serde(default, skip_serializing_if = "Vec::is_empty", deserialize_with = "null_as_default")]
    pub files: Vec<ThanosFile>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThanosDownsample {
    /// The step of the block's samples in milliseconds: 0 for raw data,
    /// 300,000 (5m) or 3,600,000 (1h) after downsampling.
    pub resolution: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ThanosFile {
    /// Relative to the block's directory: `index`, `chunks/000001`, `meta.json`.
    pub rel_path: String,
    /// Omitted for meta.json, whose size is not known while it is written.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub size_bytes: u64,
}

fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

fn null_as_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStats {
    #[serde(default)]
    pub num_samples: u64,
    #[serde(default)]
    pub num_series: u64,
    #[serde(default)]
    pub num_chunks: u64,
    #[serde(default)]
    pub num_tombstones: u64,
}

/// Empty fields are left out, as Go's `omitempty` tags on Prometheus's struct
/// leave them (`tsdb/block.go`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMetaCompaction {
    /// The most compaction cycles any source block went through; 1 for a block
    /// cut from the head or written by `promtool tsdb create-blocks-from`.
    pub level: u32,
    /// ULIDs of the head blocks that went into this one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// The compaction produced no samples; Prometheus deletes such a block on reload.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub deletable: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub parents: Vec<BlockDesc>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed: bool,
    /// For example `from-out-of-order`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hints: Vec<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDesc {
    pub ulid: String,
    pub min_time: i64,
    pub max_time: i64,
}

impl BlockMeta {
    /// Parses and checks a `meta.json`. `path` only names the file in errors.
    pub fn parse(path: &Path, bytes: &[u8]) -> Result<Self> {
        let bad = |what: String| Error::new(ErrorKind::CorruptBlock, format!("{}: {what}", path.display()));
        let meta: BlockMeta = serde_json::from_slice(bytes).map_err(|e| bad(format!("parse: {e}")))?;
        if meta.version != META_VERSION_1 {
            return Err(bad(format!("unsupported meta.json version {} (known: {META_VERSION_1})", meta.version)));
        }
        if !is_ulid(&meta.ulid) {
            return Err(bad(format!("invalid ulid {:?}", meta.ulid)));
        }
        if meta.min_time > meta.max_time {
            return Err(bad(format!("minTime {} is after maxTime {}", meta.min_time, meta.max_time)));
        }
        Ok(meta)
    }

    /// Reads `dir/meta.json`.
    pub fn read(dir: &Path) -> Result<Self> {
        let path = dir.join(META_FILENAME);
        let bytes = std::fs::read(&path)
            .map_err(|e| Error::new(ErrorKind::Unavailable, format!("read {}: {e}", path.display())))?;
        Self::parse(&path, &bytes)
    }
}

/// Whether `s` is spelt as a ULID: 26 characters of Crockford's base32, the
/// first at most `7` (a ULID is 128 bits, 26 x 5 = 130).
fn is_ulid(s: &str) -> bool {
    const ALPHABET: &str = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    s.len() == ULID_LEN && s.as_bytes()[0] <= b'7' && s.chars().all(|c| ALPHABET.contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// As promtool 2.42 writes it for a backfilled block.
    const PROMTOOL: &str = r#"{
        "ulid": "01HFKQ4ZKQ2ZP1V7D1S8X4T6RE",
        "minTime": 1700000000000,
        "maxTime": 1700006400001,
        "stats": {"numSamples": 480, "numSeries": 2, "numChunks": 4},
        "compaction": {"level": 1, "sources": ["01HFKQ4ZKQ2ZP1V7D1S8X4T6RE"]},
        "version": 1
    }"#;

    #[test]
    fn parses_prometheus_meta() {
        let m = BlockMeta::parse(Path::new("meta.json"), PROMTOOL.as_bytes()).unwrap();
        assert_eq!(m.ulid, "01HFKQ4ZKQ2ZP1V7D1S8X4T6RE");
        assert_eq!((m.min_time, m.max_time), (1700000000000, 1700006400001));
        assert_eq!(m.stats, BlockStats { num_samples: 480, num_series: 2, num_chunks: 4, num_tombstones: 0 });
        assert_eq!(m.compaction.level, 1);
        assert_eq!(m.compaction.sources.len(), 1);
    }

    #[test]
    fn parses_thanos_section() {
        let with_thanos = PROMTOOL.replace(
            "\"version\": 1\n",
            r#""version": 1,
            "thanos": {
                "version": 1,
                "labels": {"replica": "a", "cluster": "eu1"},
                "downsample": {"resolution": 300000},
                "source": "sidecar",
                "segment_files": ["000001"],
                "files": [{"rel_path": "chunks/000001", "size_bytes": 1024}, {"rel_path": "meta.json"}]
            }
            "#,
        );
        let m = BlockMeta::parse(Path::new("meta.json"), with_thanos.as_bytes()).unwrap();
        let thanos = m.thanos.unwrap();
        assert_eq!(thanos.labels.iter().next(), Some((&"cluster".to_string(), &"eu1".to_string())));
        assert_eq!((thanos.downsample.resolution, thanos.source.as_str()), (300000, "sidecar"));
        assert_eq!(thanos.segment_files, ["000001"]);
        assert_eq!(thanos.files[0], ThanosFile { rel_path: "chunks/000001".into(), size_bytes: 1024 });
        assert_eq!(thanos.files[1].size_bytes, 0);
        // Prometheus's own blocks have no such section, and Go writes null labels.
        assert_eq!(BlockMeta::parse(Path::new("m"), PROMTOOL.as_bytes()).unwrap().thanos, None);
        let null_labels = PROMTOOL.replace("\"version\": 1\n", r#""version": 1, "thanos": {"labels": null}"#);
        let m = BlockMeta::parse(Path::new("m"), null_labels.as_bytes()).unwrap();
        assert!(m.thanos.unwrap().labels.is_empty());
    }

    #[test]
    fn refuses_unknown_versions_and_garbage() {
        let v2 = PROMTOOL.replace("\"version\": 1", "\"version\": 2");
        let e = BlockMeta::parse(Path::new("b/meta.json"), v2.as_bytes()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CorruptBlock);
        assert_eq!(e.message(), "b/meta.json: unsupported meta.json version 2 (known: 1)");
        let e = BlockMeta::parse(Path::new("m"), &PROMTOOL.as_bytes()[..40]).unwrap_err();
        assert!(e.message().starts_with("m: parse: "), "{}", e.message());
        let bad_ulid = PROMTOOL.replacen("01HFKQ4ZKQ2ZP1V7D1S8X4T6RE", "01HFKQ4ZKQ2ZP1V7D1S8X4T6RU", 1);
        assert!(BlockMeta::parse(Path::new("m"), bad_ulid.as_bytes()).is_err());
    }
}
