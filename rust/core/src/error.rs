//! The one error type of thanos_rs.
//!
//! Every failure carries an [`ErrorKind`]. The kinds are the contract with the
//! outside world: the first five are Prometheus's HTTP API error types (the
//! `errorType` field of an error body, `web/api/v1/api.go`), the others are
//! data-plane failures that the edges (Python exceptions, gRPC status codes)
//! map on their own.

use std::fmt;

/// What went wrong, in the vocabulary the edges translate from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The caller's input is wrong: a PromQL parse error, a bad parameter.
    BadData,
    /// The query is valid but cannot be evaluated: too many samples, vector
    /// matching conflicts, an invalid regular expression in `label_replace`.
    Execution,
    /// The query ran past its deadline.
    Timeout,
    /// The query was cancelled by its caller.
    Canceled,
    /// A bug or an unexpected state on our side.
    Internal,
    /// A store or Prometheus could not be reached or answered with an error.
    Unavailable,
    /// Chunk bytes that do not decode (truncated, or bits that no encoder writes).
    CorruptChunk,
    /// A damaged remote-read or StoreAPI frame (bad checksum, size over the limit,
    /// undecodable protobuf).
    CorruptFrame,
    /// A damaged TSDB file (block index, chunk segment, tombstones, meta.json):
    /// bad magic number or checksum, a length or offset past the end of the
    /// file, or a format version this reader does not know. Kept apart from
    /// I/O failures so that a sidecar can fall back to remote read on it.
    CorruptBlock,
    /// An object storage request failed: the bucket is unreachable, refused
    /// the credentials, or answered with an error; also a bucket configuration
    /// its provider rejects. The message never holds a secret of the config.
    Bucket,
    /// The object asked for is not in the bucket (Thanos's
    /// `objstore.Bucket.IsObjNotFoundErr`): callers tell a block deleted
    /// meanwhile or a partial upload from a failing bucket by this kind.
    ObjectNotFound,
    /// A request asked for more than a limit of the store allows (a store
    /// gateway's `--store.grpc.series-sample-limit` or
    /// `--store.grpc.touched-series-limit`).
    LimitExceeded,
}

impl ErrorKind {
    /// Prometheus's `errorType` string for this kind. Data-plane kinds surface
    /// through the API as `execution` (Thanos reports store failures that way when
    /// partial response is off) or `internal`.
    pub fn api_error_type(self) -> &'static str {
        match self {
            ErrorKind::BadData => "bad_data",
            ErrorKind::Execution
            | ErrorKind::Unavailable
            | ErrorKind::CorruptFrame
            | ErrorKind::Bucket
            | ErrorKind::ObjectNotFound
            | ErrorKind::LimitExceeded => "execution",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Canceled => "canceled",
            ErrorKind::Internal | ErrorKind::CorruptChunk | ErrorKind::CorruptBlock => "internal",
        }
    }
}

/// Where a PromQL parse error is: Prometheus's `PositionRange` (byte offsets
/// into the query, end exclusive) and the line and column (from 1, in bytes)
/// that its message starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParsePosition {
    pub start: usize,
    pub end: usize,
    pub line: usize,
    pub column: usize,
}

/// An error with its kind and a message worded like the upstream tools' messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Error {
    kind: ErrorKind,
    message: String,
    /// Set on parse errors only; boxed so that every `Result` stays small.
    position: Option<Box<ParsePosition>>,
}

impl Error {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Error { kind, message: message.into(), position: None }
    }

    /// A PromQL parse error (kind `BadData`) at `position`.
    pub fn parse(message: impl Into<String>, position: ParsePosition) -> Self {
        Error { kind: ErrorKind::BadData, message: message.into(), position: Some(Box::new(position)) }
    }

    pub fn position(&self) -> Option<ParsePosition> {
        self.position.as_deref().copied()
    }

    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    /// Prefixes the message with where it happened, as Go's `errors.Wrap` does:
    /// `"query Prometheus: connection refused"`.
    pub fn context(mut self, what: impl fmt::Display) -> Self {
        self.message = format!("{what}: {}", self.message);
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Returns early with an [`Error`] of the given kind and a formatted message.
#[macro_export]
macro_rules! bail {
    ($kind:ident, $($arg:tt)*) => {
        return Err($crate::error::Error::new($crate::error::ErrorKind::$kind, format!($($arg)*)))
    };
}

/// Returns early with an [`Error`] unless the condition holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr, $kind:ident, $($arg:tt)*) => {
        if !$cond {
            $crate::bail!($kind, $($arg)*);
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fails() -> Result<()> {
        bail!(BadData, "bad {}", 42);
    }

    #[test]
    fn bail_sets_kind_and_message() {
        let err = fails().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::BadData);
        assert_eq!(err.to_string(), "bad 42");
        assert_eq!(err.context("parse").message(), "parse: bad 42");
    }

    #[test]
    fn api_error_types_follow_prometheus() {
        assert_eq!(ErrorKind::BadData.api_error_type(), "bad_data");
        assert_eq!(ErrorKind::Execution.api_error_type(), "execution");
        assert_eq!(ErrorKind::Timeout.api_error_type(), "timeout");
        assert_eq!(ErrorKind::Canceled.api_error_type(), "canceled");
        assert_eq!(ErrorKind::Internal.api_error_type(), "internal");
        assert_eq!(ErrorKind::Unavailable.api_error_type(), "execution");
        assert_eq!(ErrorKind::CorruptBlock.api_error_type(), "internal");
        assert_eq!(ErrorKind::Bucket.api_error_type(), "execution");
        assert_eq!(ErrorKind::ObjectNotFound.api_error_type(), "execution");
    }

    #[test]
    fn parse_errors_keep_their_position_through_context() {
        let at = ParsePosition { start: 4, end: 4, line: 1, column: 5 };
        let err = Error::parse("1:5: parse error: unclosed left parenthesis", at).context("query");
        assert_eq!((err.kind(), err.position()), (ErrorKind::BadData, Some(at)));
        assert_eq!(Error::new(ErrorKind::BadData, "x").position(), None);
    }
}
