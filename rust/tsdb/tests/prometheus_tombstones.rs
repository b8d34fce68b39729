//! Tombstones written by a real Prometheus 2.42 (the admin API's
//! `delete_series` on backfilled blocks) are read: chunks wholly deleted are
//! left out, the deleted ranges are reported, and dropping the samples inside
//! them leaves exactly the samples that were not deleted.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::prometheus::percent_encode;
use common::{open_blocks, promtool_backfill, small_dataset};
use thanos_core::chunkenc;
use thanos_core::labels::{MatchOp, Matcher};

const START: i64 = 1_700_000_000_000;
const MIN: i64 = 60_000;

/// Kills the Prometheus process when the test ends, however it ends.
struct Prometheus(Child);

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One HTTP/1.0 request; returns the status line and the body.
fn http(port: u16, method: &str, path: &str) -> std::io::Result<(String, String)> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    write!(s, "{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\n\r\n")?;
    let mut out = String::new();
    s.read_to_string(&mut out)?;
    let status = out.lines().next().unwrap_or_default().to_string();
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    Ok((status, body))
}

fn start_prometheus(data: &Path, dir: &Path) -> (Prometheus, u16) {
    let config = dir.join("prometheus.yml");
    std::fs::write(&config, "global: {}\n").unwrap();
    let port = free_port();
    let child = Command::new("prometheus")
        .arg(format!("--config.file={}", config.display()))
        .arg(format!("--storage.tsdb.path={}", data.display()))
        .arg(format!("--web.listen-address=127.0.0.1:{port}"))
        .arg("--web.enable-admin-api")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run prometheus ({e}): Prometheus 2.42 must be on PATH (scripts/setup.sh)"));
    let p = Prometheus(child);
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok((status, _)) = http(port, "GET", "/-/ready") {
            if status.contains(" 200") {
                return (p, port);
            }
        }
        assert!(Instant::now() < deadline, "prometheus did not become ready on port {port}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn delete_series(port: u16, selector: &str, start: i64, end: i64) {
    // The admin API takes seconds.
    let path = format!(
        "/api/v1/admin/tsdb/delete_series?match[]={}&start={}&end={}",
        percent_encode(selector),
        start as f64 / 1000.0,
        end as f64 / 1000.0
    );
    let (status, body) = http(port, "POST", &path).unwrap();
    assert!(status.contains(" 204"), "delete {selector}: {status} {body}");
}

#[test]
fn tombstones_written_by_prometheus() {
    let ds = small_dataset(6, 3);
    let tmp = tempfile::tempdir().unwrap();
    let dirs = promtool_backfill(&ds.openmetrics(), tmp.path());
    assert_eq!(dirs.len(), 2);
    let data = tmp.path().join("data");

    // A range inside the chunks of the odd jobs, and the whole first block of
    // host-0 (its first chunk entirely).
    let partial = (START + 30 * MIN, START + 50 * MIN);
    let whole = (START - 10 * MIN, START + 125 * MIN);
    {
        let (_prometheus, port) = start_prometheus(&data, tmp.path());
        delete_series(port, r#"load{job="odd"}"#, partial.0, partial.1);
        delete_series(port, r#"load{instance="host-0"}"#, whole.0, whole.1);
        // Tombstones are written before the API answers; Prometheus is killed here.
    }

    let blocks = open_blocks(&dirs);
    assert!(blocks.iter().any(|b| b.tombstones().total() > 0), "no tombstones written");
    // host-0's only chunk in the first block is deleted whole: the series is left out there.
    let host0 = [Matcher::equal("instance", "host-0")];
    assert_eq!(blocks[0].select(&host0, i64::MIN, i64::MAX).unwrap().count(), 0);
    assert_eq!(blocks[1].select(&host0, i64::MIN, i64::MAX).unwrap().count(), 1);
    let deleted = |labels: &thanos_core::labels::Labels, t: i64| {
        let (a, b) = if labels.get("instance") == "host-0" { whole } else { (i64::MAX, i64::MIN) };
        let in_partial = labels.get("job") == "odd" && partial.0 <= t && t <= partial.1;
        in_partial || (a <= t && t <= b)
    };
    let all = [Matcher::new(MatchOp::Regex, "__name__", ".+").unwrap()];
    let mut got: std::collections::BTreeMap<_, Vec<(i64, f64)>> = Default::default();
    let mut seen_deleted_ranges = 0;
    for b in &blocks {
        for s in b.select(&all, i64::MIN, i64::MAX).unwrap() {
            let s = s.unwrap();
            let (mut ts, mut vs) = (Vec::new(), Vec::new());
            for c in &s.chunks {
                chunkenc::decode_into(&c.data, &mut ts, &mut vs).unwrap();
                // A chunk wholly inside a deleted range is not returned.
                assert!(!deleted(&s.labels, c.meta.min_time) || !deleted(&s.labels, c.meta.max_time), "{}", s.labels);
            }
            seen_deleted_ranges += s.deleted.0.len();
            let kept = ts.into_iter().zip(vs).filter(|(t, _)| !s.deleted.contains(*t));
            got.entry(s.labels.clone()).or_default().extend(kept);
        }
    }
    assert!(seen_deleted_ranges >= 3, "deleted ranges reported: {seen_deleted_ranges}");
    for (labels, samples) in &ds.expected {
        let want: Vec<(i64, f64)> = samples.iter().copied().filter(|(t, _)| !deleted(labels, *t)).collect();
        let have = got.get(labels).cloned().unwrap_or_default();
        assert_eq!(have.len(), want.len(), "{labels}");
        for (h, w) in have.iter().zip(&want) {
            assert_eq!((h.0, h.1.to_bits()), (w.0, w.1.to_bits()), "{labels}");
        }
    }
}
