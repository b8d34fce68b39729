//! The HTTP half of the sidecar's remote read: `POST /api/v1/read` on
//! Prometheus (the `ReadClient` of `storage/remote/client.go` at v2.42.0, with
//! the headers of Thanos's `PrometheusStore.startPromRemoteRead`), its answer
//! read as the caller asks for messages and fed to a [`SeriesStream`].
//!
//! The body is read with the calling thread blocked, so Python calls
//! [`ReadBody::next_messages`] with the GIL released. Dropping a [`ReadBody`]
//! before its end closes the connection: a Series call given up by its caller
//! stops Prometheus's read with it.

use std::io::Read;
use std::time::{Duration, Instant};

use bytes::Bytes;
use thanos_core::{Error, ErrorKind};
use ureq::http::header::CONTENT_TYPE;
use ureq::tls::{RootCerts, TlsConfig};
use ureq::{Agent, BodyReader};

use crate::prometheus::SeriesStream;

/// Content type of the one-piece SAMPLES answer (`storage/remote/codec.go`),
/// all Prometheus before 2.13 sends.
pub const SAMPLES_CONTENT_TYPE: &str = "application/x-protobuf";
/// Content type of the streamed STREAMED_XOR_CHUNKS answer.
pub const STREAMED_CONTENT_TYPE: &str = "application/x-streamed-protobuf; proto=prometheus.ChunkedReadResponse";

/// How long a connection attempt may take, as the aiohttp session it replaces
/// allowed (`sock_connect=10`). Nothing else is timed: a remote read streams
/// for as long as Prometheus has data.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Bytes of an error answer kept for the message. Prometheus answers errors
/// with one line (`http.Error`); the cap keeps a misbehaving server from
/// filling memory.
const MAX_ERROR_BODY: u64 = 64 << 10;

/// Bytes asked of the socket per read: 64 KiB, a streamed frame or more.
const READ_BUFFER: usize = 64 << 10;

/// How long one [`ReadBody::next_messages`] call keeps reading once it has
/// messages, when Prometheus sends slower than the budget fills. A call costs
/// Python tens of microseconds, so calls this long cost well under 1 %, and a
/// slow Prometheus's series still reach the caller within about this time.
const MAX_BATCH_WAIT: Duration = Duration::from_millis(10);

/// How a remote read failed.
#[derive(Debug)]
pub enum ReadError {
    /// Prometheus was not asked, or its answer failed. `status` is the HTTP
    /// status of the answer: 0 when none came (connection refused or reset,
    /// timed out), an error code, or 2xx when the body broke off.
    Http { status: u16, message: String },
    /// The answer came whole but is not a remote-read answer: damaged frames,
    /// an unsupported content type.
    Data(Error),
}

impl From<Error> for ReadError {
    fn from(e: Error) -> Self {
        ReadError::Data(e)
    }
}

/// Remote read from one Prometheus; its connections are kept for the next
/// call once an answer has been read to its end.
pub struct ReadClient {
    agent: Agent,
    url: String,
}

impl ReadClient {
    /// `base_url` as given to `--prometheus.url`, http or https; https is
    /// checked against the system's trust store.
    pub fn new(base_url: &str, user_agent: &str) -> Self {
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(CONNECT_TIMEOUT))
            // Environment proxies are ignored, as by the sidecar's other calls.
            .proxy(None)
            .user_agent(user_agent)
            .tls_config(TlsConfig::builder().root_certs(RootCerts::PlatformVerifier).build())
            .build();
        ReadClient { agent: config.into(), url: format!("{}/api/v1/read", base_url.trim_end_matches('/')) }
    }

    /// Sends `request`, a snappy `ReadRequest` ([`SeriesStream::read_request`]),
    /// and returns the answer with its body still to read.
    pub fn read(&self, request: &[u8]) -> Result<ReadBody, ReadError> {
        let response = self
            .agent
            .post(&self.url)
            .header("Content-Encoding", "snappy")
            .header("Content-Type", "application/x-stream-protobuf")
            .header("X-Prometheus-Remote-Read-Version", "0.1.0")
            .send(request)
            .map_err(|e| ReadError::Http { status: 0, message: format!("send request: {e}") })?;
        let status = response.status();
        let content_type = response.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
        let mut reader = response.into_body().into_reader();
        if !status.is_success() {
            let mut text = Vec::new();
            // Whatever could be read says enough; a failure here changes nothing.
            let _ = (&mut reader).take(MAX_ERROR_BODY).read_to_end(&mut text);
            // The standard reason phrase: ureq keeps no other (Go's `resp.Status`
            // has the server's, which Prometheus never changes).
            let message = format!(
                "request failed with code {} {}; msg {}",
                status.as_u16(),
                status.canonical_reason().unwrap_or(""),
                String::from_utf8_lossy(&text)
            );
            return Err(ReadError::Http { status: status.as_u16(), message });
        }
        let samples = content_type.starts_with(SAMPLES_CONTENT_TYPE);
        if !samples && !content_type.starts_with(STREAMED_CONTENT_TYPE) {
            return Err(Error::new(
                ErrorKind::Internal,
                format!("not supported remote read content type: {content_type}"),
            )
            .into());
        }
        Ok(ReadBody { reader: Some(reader), status: status.as_u16(), samples })
    }
}

/// The answer of one remote read, read as messages are asked for.
pub struct ReadBody {
    /// `None` once the body is read to its end.
    reader: Option<BodyReader<'static>>,
    status: u16,
    samples: bool,
}

impl ReadBody {
    /// True for a streamed answer, false for a one-piece SAMPLES answer.
    pub fn streamed(&self) -> bool {
        !self.samples
    }

    /// The next `SeriesResponse` messages of `stream`, about `budget` bytes
    /// of them, or fewer when Prometheus sends slower than that (see
    /// [`MAX_BATCH_WAIT`]); empty only once the answer is complete. A SAMPLES
    /// answer comes in one piece whatever the budget.
    pub fn next_messages(&mut self, stream: &mut SeriesStream, budget: usize) -> Result<Vec<Bytes>, ReadError> {
        let Some(reader) = &mut self.reader else { return Ok(Vec::new()) };
        if self.samples {
            let mut body = Vec::new();
            reader.read_to_end(&mut body).map_err(|e| self.broken(e))?;
            self.reader = None;
            return Ok(stream.feed_samples(&body)?);
        }
        let started = Instant::now();
        let mut out: Vec<Bytes> = Vec::new();
        let mut ready = 0;
        while ready < budget.max(1) && !(ready > 0 && started.elapsed() >= MAX_BATCH_WAIT) {
            let Some(reader) = &mut self.reader else { break };
            let n = match stream.read_from(reader, READ_BUFFER) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(self.broken(e)),
            };
            let before = out.len();
            if n == 0 {
                self.reader = None;
                out.extend(stream.finish()?);
            } else {
                stream.convert_frames(&mut out)?;
            }
            ready += out[before..].iter().map(Bytes::len).sum::<usize>();
        }
        Ok(out)
    }

    fn broken(&self, e: std::io::Error) -> ReadError {
        ReadError::Http { status: self.status, message: format!("read response: {e}") }
    }
}

#[cfg(test)]
mod tests {
    use std::io::{BufRead, BufReader, Write};
    use std::net::{TcpListener, TcpStream};
    use std::sync::mpsc;
    use std::thread;

    use prost::Message;

    use super::*;
    use crate::pb::thanos;

    /// Five series as Prometheus 2.42 streamed them (`tests/testdata/golden`).
    const GOLDEN: &[u8] = include_bytes!("../../../tests/testdata/golden/prom242-remote-read.frames");

    fn stream() -> SeriesStream {
        let matcher = thanos::LabelMatcher { r#type: 2, name: "__name__".into(), value: ".+".into() };
        let request = thanos::SeriesRequest { max_time: i64::MAX, matchers: vec![matcher], ..Default::default() };
        let external = thanos_core::labels::Labels::from_pairs([("replica", "0")]);
        SeriesStream::new(&request.encode_to_vec(), external, i64::MIN).unwrap()
    }

    /// The messages of the golden body fed whole.
    fn golden_messages() -> Vec<Bytes> {
        let mut s = stream();
        let mut out = s.feed(GOLDEN).unwrap();
        out.extend(s.finish().unwrap());
        out
    }

    /// What the loopback server saw of the request.
    struct Request {
        head: String,
        body: Vec<u8>,
    }

    /// Serves one connection with `answer`, which writes the response; sends
    /// back the request. Returns the base URL.
    fn serve(answer: impl FnOnce(&mut TcpStream) + Send + 'static) -> (String, mpsc::Receiver<Request>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let (mut conn, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(conn.try_clone().unwrap());
            let mut head = String::new();
            while !head.ends_with("\r\n\r\n") {
                if reader.read_line(&mut head).unwrap() == 0 {
                    return;
                }
            }
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.parse().unwrap()))
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            // Tests that do not look at the request have dropped the receiver.
            let _ = tx.send(Request { head, body });
            answer(&mut conn);
        });
        (url, rx)
    }

    /// A chunked 200 answer of `content_type` whose chunks are `pieces`.
    fn chunked<'a>(conn: &mut TcpStream, content_type: &str, pieces: impl IntoIterator<Item = &'a [u8]>) {
        let head = format!("HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n");
        conn.write_all(head.as_bytes()).unwrap();
        for piece in pieces {
            conn.write_all(format!("{:x}\r\n", piece.len()).as_bytes()).unwrap();
            conn.write_all(piece).unwrap();
            conn.write_all(b"\r\n").unwrap();
        }
    }

    fn read_all(body: &mut ReadBody, stream: &mut SeriesStream, budget: usize) -> Vec<Vec<Bytes>> {
        let mut calls = Vec::new();
        loop {
            let messages = body.next_messages(stream, budget).unwrap();
            if messages.is_empty() {
                return calls;
            }
            calls.push(messages);
        }
    }

    #[test]
    fn a_streamed_answer_becomes_the_messages_of_its_frames() {
        let (url, requests) = serve(|conn| {
            chunked(conn, STREAMED_CONTENT_TYPE, GOLDEN.chunks(100));
            conn.write_all(b"0\r\n\r\n").unwrap();
        });
        let mut s = stream();
        let client = ReadClient::new(&format!("{url}/"), "Thanos/test");
        let mut body = client.read(&s.read_request()).unwrap();
        assert!(body.streamed());
        let calls = read_all(&mut body, &mut s, 1);
        assert_eq!(calls.concat(), golden_messages());
        assert_eq!(s.frames(), 5);

        let request = requests.recv().unwrap();
        let head = request.head.to_ascii_lowercase();
        assert!(head.starts_with("post /api/v1/read http/1.1\r\n"), "{head}");
        for header in [
            "content-encoding: snappy",
            "content-type: application/x-stream-protobuf",
            "x-prometheus-remote-read-version: 0.1.0",
            "user-agent: thanos/test",
        ] {
            assert!(head.contains(header), "{header} missing from {head}");
        }
        assert_eq!(request.body, s.read_request());
    }

    #[test]
    fn messages_do_not_depend_on_the_budget() {
        let (url, _) = serve(|conn| {
            chunked(conn, STREAMED_CONTENT_TYPE, GOLDEN.chunks(7));
            conn.write_all(b"0\r\n\r\n").unwrap();
        });
        let mut s = stream();
        let mut body = ReadClient::new(&url, "t").read(&s.read_request()).unwrap();
        let calls = read_all(&mut body, &mut s, 1 << 20);
        assert_eq!(calls.concat(), golden_messages());
        // Read to its end, the answer stays empty.
        assert!(body.next_messages(&mut s, 1).unwrap().is_empty());
    }

    #[test]
    fn a_samples_answer_comes_in_one_piece() {
        use crate::pb::prometheus::{Label, QueryResult, ReadResponse, Sample, TimeSeries};
        let series = TimeSeries {
            labels: vec![Label { name: "__name__".into(), value: "up".into() }],
            samples: (0..3).map(|i| Sample { timestamp: i * 1000, value: 1.0 }).collect(),
        };
        let response = ReadResponse { results: vec![QueryResult { timeseries: vec![series] }] };
        let raw = snap::raw::Encoder::new().compress_vec(&response.encode_to_vec()).unwrap();
        let (url, _) = serve(move |conn| {
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: {SAMPLES_CONTENT_TYPE}\r\nContent-Length: {}\r\n\r\n",
                raw.len()
            );
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(&raw).unwrap();
        });
        let mut s = stream();
        let mut body = ReadClient::new(&url, "t").read(&s.read_request()).unwrap();
        assert!(!body.streamed());
        let calls = read_all(&mut body, &mut s, 1);
        assert_eq!(calls.len(), 1);
        let got = thanos::SeriesResponse::decode(&calls[0][0][..]).unwrap();
        let Some(thanos::series_response::Result::Series(series)) = got.result else { panic!("{got:?}") };
        assert_eq!(series.chunks.len(), 1);
    }

    fn http_error(result: Result<ReadBody, ReadError>) -> (u16, String) {
        match result {
            Err(ReadError::Http { status, message }) => (status, message),
            Err(other) => panic!("not an HTTP error: {other:?}"),
            Ok(_) => panic!("no error"),
        }
    }

    #[test]
    fn an_error_status_keeps_its_code_and_body() {
        let (url, _) = serve(|conn| {
            let body = "remote read failed\n";
            let head =
                format!("HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n", body.len());
            conn.write_all(head.as_bytes()).unwrap();
            conn.write_all(body.as_bytes()).unwrap();
        });
        let (status, message) = http_error(ReadClient::new(&url, "t").read(b"x"));
        assert_eq!(status, 500);
        assert_eq!(message, "request failed with code 500 Internal Server Error; msg remote read failed\n");
    }

    #[test]
    fn an_unknown_content_type_is_refused() {
        let (url, _) = serve(|conn| chunked(conn, "text/html", [&b"<html>"[..]]));
        match ReadClient::new(&url, "t").read(b"x") {
            Err(ReadError::Data(e)) => {
                assert_eq!(
                    (e.kind(), e.message()),
                    (ErrorKind::Internal, "not supported remote read content type: text/html")
                )
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn an_unreachable_prometheus_has_no_status() {
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let (status, message) = http_error(ReadClient::new(&format!("http://127.0.0.1:{port}"), "t").read(b"x"));
        assert_eq!(status, 0);
        assert!(message.starts_with("send request: ") && message.contains("onnection refused"), "{message}");
    }

    #[test]
    fn a_body_broken_off_is_an_error_of_the_answer() {
        let half = GOLDEN.len() / 2;
        let (url, _) = serve(move |conn| chunked(conn, STREAMED_CONTENT_TYPE, [&GOLDEN[..half]]));
        let mut s = stream();
        let mut body = ReadClient::new(&url, "t").read(&s.read_request()).unwrap();
        let mut got = Vec::new();
        let err = loop {
            match body.next_messages(&mut s, 1) {
                Ok(m) if m.is_empty() => panic!("the body ended cleanly"),
                Ok(m) => got.extend(m),
                Err(e) => break e,
            }
        };
        let ReadError::Http { status, message } = err else { panic!("{err:?}") };
        assert_eq!(status, 200);
        assert!(message.starts_with("read response: "), "{message}");
        assert_eq!(got, golden_messages()[..got.len()], "what came before the break is sent");
    }

    #[test]
    fn dropping_the_answer_closes_the_connection() {
        let (closed_tx, closed) = mpsc::channel();
        let (url, _) = serve(move |conn| {
            chunked(conn, STREAMED_CONTENT_TYPE, [GOLDEN]);
            // The answer goes on for as long as the client reads it.
            conn.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            let mut buf = [0; 1];
            // End of file, or a reset when bytes were left unread; only
            // the timeout says that the connection stayed open.
            let closed = match conn.read(&mut buf) {
                Ok(n) => n == 0,
                Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
            };
            closed_tx.send(closed).unwrap();
        });
        let mut s = stream();
        let mut body = ReadClient::new(&url, "t").read(&s.read_request()).unwrap();
        let mut got = Vec::new();
        while got.len() < 5 {
            got.extend(body.next_messages(&mut s, 1).unwrap());
        }
        assert_eq!(got, golden_messages());
        drop(body);
        assert!(closed.recv().unwrap(), "the server saw the connection close");
    }
}
