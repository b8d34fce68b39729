//! A real Prometheus 2.42 for the tests: started on a loopback port with a
//! temporary data directory, fed by remote write, stopped by PID.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use thanos_core::labels::Labels;

/// A running Prometheus, killed when dropped (a failing test included).
pub struct Prometheus {
    child: Option<Child>,
    pub port: u16,
    pub data: PathBuf,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

impl Prometheus {
    /// Starts `prometheus` on `data` with the remote-write receiver and the
    /// admin API, and `extra` flags; returns once it is ready.
    pub fn start(data: &Path, extra: &[&str]) -> Prometheus {
        let config = data.with_extension("yml");
        std::fs::write(&config, "global: {}\n").unwrap();
        let port = free_port();
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--web.enable-admin-api")
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::from(std::fs::File::create(data.with_extension("log")).unwrap()))
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run prometheus ({e}): Prometheus 2.42 must be on PATH"));
        let p = Prometheus { child: Some(child), port, data: data.to_path_buf() };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok((status, _)) = p.http("GET", "/-/ready", &[], &[]) {
                if status == 200 {
                    return p;
                }
            }
            assert!(Instant::now() < deadline, "prometheus did not become ready on port {port}: {}", p.log());
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Prometheus's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.data.with_extension("log")).unwrap_or_default()
    }

    /// Stops Prometheus with SIGTERM, as a clean shutdown: it closes the
    /// WAL segment and flushes its head chunk file.
    pub fn stop(mut self) {
        let Some(mut child) = self.child.take() else { return };
        let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("prometheus did not stop on SIGTERM");
    }

    /// One HTTP/1.0 request; the status code and the body.
    pub fn http(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> std::io::Result<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        let mut req = format!("{method} {path} HTTP/1.0\r\nHost: 127.0.0.1\r\nContent-Length: {}\r\n", body.len());
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())?;
        s.write_all(body)?;
        let mut out = Vec::new();
        s.read_to_end(&mut out)?;
        let out = String::from_utf8_lossy(&out).into_owned();
        let status = out.split(' ').nth(1).and_then(|c| c.parse().ok()).unwrap_or(0);
        let body = out.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
        Ok((status, body))
    }

    /// Sends the samples by remote write; they are in the WAL when it returns.
    pub fn remote_write(&self, series: &[(Labels, Vec<(i64, f64)>)]) {
        let body = snap::raw::Encoder::new().compress_vec(&write_request(series)).unwrap();
        let headers = [
            ("Content-Type", "application/x-protobuf"),
            ("Content-Encoding", "snappy"),
            ("X-Prometheus-Remote-Write-Version", "0.1.0"),
        ];
        let (status, body) = self.http("POST", "/api/v1/write", &headers, &body).unwrap();
        assert_eq!(status, 204, "remote write: {body}");
    }

    /// `delete_series` of the admin API, times in ms.
    pub fn delete_series(&self, selector: &str, start: i64, end: i64) {
        let path = format!(
            "/api/v1/admin/tsdb/delete_series?match[]={}&start={}&end={}",
            percent_encode(selector),
            seconds(start),
            seconds(end)
        );
        let (status, body) = self.http("POST", &path, &[], &[]).unwrap();
        assert_eq!(status, 204, "delete {selector}: {body}");
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Milliseconds as the API's decimal seconds, exactly.
fn seconds(ms: i64) -> String {
    format!("{}.{:03}", ms.div_euclid(1000), ms.rem_euclid(1000))
}

pub fn percent_encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A `prometheus.WriteRequest` in protobuf, written by hand:
/// `WriteRequest { repeated TimeSeries timeseries = 1 }`,
/// `TimeSeries { repeated Label labels = 1; repeated Sample samples = 2 }`,
/// `Label { string name = 1; string value = 2 }`,
/// `Sample { double value = 1; int64 timestamp = 2 }`.
pub fn write_request(series: &[(Labels, Vec<(i64, f64)>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (labels, samples) in series {
        let mut ts = Vec::new();
        for l in labels.iter() {
            let mut lb = Vec::new();
            field_bytes(&mut lb, 1, l.name.as_bytes());
            field_bytes(&mut lb, 2, l.value.as_bytes());
            field_bytes(&mut ts, 1, &lb);
        }
        for &(t, v) in samples {
            let mut sb = vec![(1 << 3) | 1];
            sb.extend_from_slice(&v.to_bits().to_le_bytes());
            sb.push(2 << 3);
            uvarint(&mut sb, t as u64);
            field_bytes(&mut ts, 2, &sb);
        }
        field_bytes(&mut out, 1, &ts);
    }
    out
}

fn field_bytes(out: &mut Vec<u8>, field: u8, b: &[u8]) {
    out.push((field << 3) | 2);
    uvarint(out, b.len() as u64);
    out.extend_from_slice(b);
}

fn uvarint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push(v as u8 | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// Waits until `f` holds, polling; panics with `what` after `secs`.
pub fn wait_for(secs: u64, what: &str, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(secs);
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}
