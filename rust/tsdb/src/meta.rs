//! A block's `meta.json`: its identity, time range and history
//! (`BlockMeta` in Prometheus's `tsdb/block.go` at v2.42.0).

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

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockMetaCompaction {
    /// The most compaction cycles any source block went through; 1 for a block
    /// cut from the head or written by `promtool tsdb create-blocks-from`.
    pub level: u32,
    /// ULIDs of the head blocks that went into this one.
    #[serde(default)]
    pub sources: Vec<String>,
    /// The compaction produced no samples; Prometheus deletes such a block on reload.
    #[serde(default)]
    pub deletable: bool,
    #[serde(default)]
    pub parents: Vec<BlockDesc>,
    #[serde(default)]
    pub failed: bool,
    /// For example `from-out-of-order`.
    #[serde(default)]
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
