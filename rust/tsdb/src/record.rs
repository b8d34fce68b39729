//! The records of the WAL: what the head was told, in order
//! (`tsdb/record/record.go` and section "Record encoding" of
//! `tsdb/docs/format/wal.md` at v2.42.0).
//!
//! A record starts with its type byte. Read here are
//!
//! - Series (1): `ref <8b BE>`, then the label pairs as `count <uvarint>` and
//!   uvarint-prefixed strings, repeated;
//! - Samples (2): `ref <8b BE>`, `t <8b BE>` of the first sample, then for
//!   each sample the differences to those as *signed* varints (the format
//!   document says uvarint; `Decoder.Samples` reads `Varint64`) and the value
//!   bits `<8b BE>`;
//! - Tombstones (3): `ref <8b BE>`, `mint <varint>`, `maxt <varint>`, repeated.
//!   The range can end before it starts: `Head.Delete` clamps the requested
//!   range to each series' own and logs the result, empty or not.
//!
//! Exemplars (4), m-map markers (5, written to the out-of-order log only),
//! metadata (6), native histogram samples (7, 8) and types this version does
//! not know are skipped and counted, not decoded.

use std::path::Path;

use thanos_core::labels::{Label, Labels};
use thanos_core::Result;

use crate::encoding::{corrupt, Decbuf};
use crate::tombstones::Interval;

pub const SERIES: u8 = 1;
pub const SAMPLES: u8 = 2;
pub const TOMBSTONES: u8 = 3;
pub const EXEMPLARS: u8 = 4;
pub const MMAP_MARKERS: u8 = 5;
pub const METADATA: u8 = 6;
pub const HISTOGRAM_SAMPLES: u8 = 7;
pub const FLOAT_HISTOGRAM_SAMPLES: u8 = 8;

/// A series and the reference the WAL knows it by (`RefSeries`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RefSeries {
    pub series_ref: u64,
    pub labels: Labels,
}

/// One float sample of a series (`RefSample`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefSample {
    pub series_ref: u64,
    pub t: i64,
    pub v: f64,
}

/// A deleted time range of a series (`tombstones.Stone` with one interval).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stone {
    pub series_ref: u64,
    pub interval: Interval,
}

/// A decoded record.
#[derive(Clone, Debug, PartialEq)]
pub enum Record {
    Series(Vec<RefSeries>),
    Samples(Vec<RefSample>),
    Tombstones(Vec<Stone>),
    /// A record of a type not read here, by its type byte (0 for an empty record).
    Skipped(u8),
}

/// How many records of each kind not read were passed over.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SkippedRecords {
    pub exemplars: u64,
    pub mmap_markers: u64,
    pub metadata: u64,
    pub histogram_samples: u64,
    pub float_histogram_samples: u64,
    /// Empty records and types Prometheus 2.42 does not write.
    pub unknown: u64,
}

impl SkippedRecords {
    /// Counts a skipped record of type `t`.
    pub fn count(&mut self, t: u8) {
        let c = match t {
            EXEMPLARS => &mut self.exemplars,
            MMAP_MARKERS => &mut self.mmap_markers,
            METADATA => &mut self.metadata,
            HISTOGRAM_SAMPLES => &mut self.histogram_samples,
            FLOAT_HISTOGRAM_SAMPLES => &mut self.float_histogram_samples,
            _ => &mut self.unknown,
        };
        *c += 1;
    }

    pub fn total(&self) -> u64 {
        self.exemplars
            + self.mmap_markers
            + self.metadata
            + self.histogram_samples
            + self.float_histogram_samples
            + self.unknown
    }
}

/// Decodes `rec`, the record whose first fragment is at `offset` in `file`.
/// Errors name the file and that offset, then the position in the record.
pub fn decode(file: &Path, offset: usize, rec: &[u8]) -> Result<Record> {
    let Some(&t) = rec.first() else {
        return Ok(Record::Skipped(0));
    };
    let what = match t {
        SERIES => "series",
        SAMPLES => "samples",
        TOMBSTONES => "tombstones",
        _ => return Ok(Record::Skipped(t)),
    };
    let mut d = Decbuf::new(Path::new("record"), rec, 1, rec.len())?;
    let decoded = match t {
        SERIES => decode_series(&mut d).map(Record::Series),
        SAMPLES => decode_samples(&mut d).map(Record::Samples),
        _ => decode_tombstones(&mut d).map(Record::Tombstones),
    };
    decoded.map_err(|e| corrupt(file, offset, format!("{what} record: {}", e.message())))
}

fn decode_series(d: &mut Decbuf<'_>) -> Result<Vec<RefSeries>> {
    let mut out = Vec::new();
    while !d.is_empty() {
        let series_ref = d.be64()?;
        let at = d.pos();
        let n = d.uvarint()?;
        let mut labels: Vec<Label> = Vec::new();
        for _ in 0..n {
            let name = d.uvarint_str()?;
            let value = d.uvarint_str()?;
            // Prometheus writes label sets sorted by name, names unique; a
            // series is identified by its labels, so anything else is refused.
            if labels.last().is_some_and(|l| l.name.as_str() >= name) {
                return Err(d.error(format!("labels of the series at {at} are not sorted at {name:?}")));
            }
            labels.push(Label { name: name.to_string(), value: value.to_string() });
        }
        // An empty value means "no such label" (`Labels` keeps none).
        labels.retain(|l| !l.value.is_empty());
        out.push(RefSeries { series_ref, labels: Labels::from_sorted(labels) });
    }
    Ok(out)
}

fn decode_samples(d: &mut Decbuf<'_>) -> Result<Vec<RefSample>> {
    let mut out = Vec::new();
    if d.is_empty() {
        return Ok(out);
    }
    let base_ref = d.be64()? as i64;
    let base_t = d.be64()? as i64;
    while !d.is_empty() {
        let dref = d.varint()?;
        let dt = d.varint()?;
        let v = f64::from_bits(d.be64()?);
        // Go's int64 arithmetic wraps.
        out.push(RefSample { series_ref: base_ref.wrapping_add(dref) as u64, t: base_t.wrapping_add(dt), v });
    }
    Ok(out)
}

fn decode_tombstones(d: &mut Decbuf<'_>) -> Result<Vec<Stone>> {
    let mut out = Vec::new();
    while !d.is_empty() {
        let series_ref = d.be64()?;
        let mint = d.varint()?;
        let maxt = d.varint()?;
        out.push(Stone { series_ref, interval: Interval { mint, maxt } });
    }
    Ok(out)
}

/// Encoders of the three record types read here, as Prometheus's
/// `record.Encoder` writes them; for tests.
#[cfg(test)]
pub(crate) mod encode {
    use super::*;

    pub(crate) fn uvarint(out: &mut Vec<u8>, mut v: u64) {
        while v >= 0x80 {
            out.push(v as u8 | 0x80);
            v >>= 7;
        }
        out.push(v as u8);
    }

    pub(crate) fn varint(out: &mut Vec<u8>, v: i64) {
        uvarint(out, ((v << 1) ^ (v >> 63)) as u64);
    }

    pub(crate) fn series(s: &[(u64, &[(&str, &str)])]) -> Vec<u8> {
        let mut out = vec![SERIES];
        for (r, labels) in s {
            out.extend_from_slice(&r.to_be_bytes());
            uvarint(&mut out, labels.len() as u64);
            for (n, v) in labels.iter() {
                for x in [n, v] {
                    uvarint(&mut out, x.len() as u64);
                    out.extend_from_slice(x.as_bytes());
                }
            }
        }
        out
    }

    pub(crate) fn samples(s: &[(u64, i64, f64)]) -> Vec<u8> {
        let mut out = vec![SAMPLES];
        if let Some(&(r0, t0, _)) = s.first() {
            out.extend_from_slice(&r0.to_be_bytes());
            out.extend_from_slice(&t0.to_be_bytes());
            for &(r, t, v) in s {
                varint(&mut out, (r as i64).wrapping_sub(r0 as i64));
                varint(&mut out, t.wrapping_sub(t0));
                out.extend_from_slice(&v.to_bits().to_be_bytes());
            }
        }
        out
    }

    pub(crate) fn tombstones(s: &[(u64, i64, i64)]) -> Vec<u8> {
        let mut out = vec![TOMBSTONES];
        for &(r, mint, maxt) in s {
            out.extend_from_slice(&r.to_be_bytes());
            varint(&mut out, mint);
            varint(&mut out, maxt);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use thanos_core::ErrorKind;

    const F: &str = "wal/00000003";

    #[test]
    fn decodes_series_samples_and_tombstones() {
        let rec = encode::series(&[(5, &[("__name__", "up"), ("job", "a")]), (9, &[("a", "")])]);
        let Record::Series(s) = decode(Path::new(F), 0, &rec).unwrap() else { panic!() };
        assert_eq!(s[0], RefSeries { series_ref: 5, labels: Labels::from_pairs([("__name__", "up"), ("job", "a")]) });
        assert_eq!(s[1], RefSeries { series_ref: 9, labels: Labels::new() });

        // References and times go down as well as up from the first sample.
        let samples = [(7, 1000, 1.5), (3, 900, f64::from_bits(0x7ff0_0000_0000_0002)), (u64::MAX, i64::MIN, -0.0)];
        let Record::Samples(s) = decode(Path::new(F), 0, &encode::samples(&samples)).unwrap() else { panic!() };
        let got: Vec<(u64, i64, u64)> = s.iter().map(|s| (s.series_ref, s.t, s.v.to_bits())).collect();
        let want: Vec<(u64, i64, u64)> = samples.iter().map(|s| (s.0, s.1, s.2.to_bits())).collect();
        assert_eq!(got, want);
        assert_eq!(decode(Path::new(F), 0, &[SAMPLES]).unwrap(), Record::Samples(vec![]));

        let Record::Tombstones(t) = decode(Path::new(F), 0, &encode::tombstones(&[(4, -5, 10)])).unwrap() else {
            panic!()
        };
        assert_eq!(t, vec![Stone { series_ref: 4, interval: Interval { mint: -5, maxt: 10 } }]);

        for ty in [EXEMPLARS, METADATA, HISTOGRAM_SAMPLES, 77] {
            assert_eq!(decode(Path::new(F), 0, &[ty, 1, 2, 3]).unwrap(), Record::Skipped(ty));
        }
        assert_eq!(decode(Path::new(F), 0, &[]).unwrap(), Record::Skipped(0));
        let mut sk = SkippedRecords::default();
        for t in [EXEMPLARS, METADATA, METADATA, 0, 99] {
            sk.count(t);
        }
        assert_eq!((sk.exemplars, sk.metadata, sk.unknown, sk.total()), (1, 2, 2, 5));
    }

    #[test]
    fn random_bytes_decode_or_fail_without_panicking() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..20_000 {
            let len = (next() % 64) as usize;
            let mut rec: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if let Some(b) = rec.first_mut() {
                *b = (*b % 4) + 1;
            }
            let _ = decode(Path::new(F), 0, &rec);
        }
    }

    #[test]
    fn damage_names_the_file_and_offset() {
        let rec = encode::series(&[(5, &[("b", "1"), ("a", "2")])]);
        let e = decode(Path::new(F), 32768, &rec).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::CorruptBlock);
        assert!(e.message().starts_with("wal/00000003: offset 32768: series record: "), "{}", e.message());
        assert!(e.message().contains("not sorted"), "{}", e.message());
        let rec = encode::samples(&[(1, 2, 3.0), (1, 3, 4.0)]);
        for cut in 2..rec.len() {
            // Every cut either decodes fewer samples exactly or is an error.
            if let Ok(Record::Samples(s)) = decode(Path::new(F), 0, &rec[..cut]) {
                assert!(s.len() < 2, "cut at {cut}");
            }
        }
        // An empty range, as Prometheus logs for a series that starts after it.
        let Record::Tombstones(t) = decode(Path::new(F), 7, &encode::tombstones(&[(1, 10, 5)])).unwrap() else {
            panic!()
        };
        assert_eq!(t[0].interval, Interval { mint: 10, maxt: 5 });
    }
}
