//! Times in milliseconds since the Unix epoch: the unit of every time in the
//! core and at its boundary with Python, which converts seconds once, at its
//! public edges.

/// The earliest time Prometheus's HTTP API reads and writes (`minTime` in
/// `web/api/v1/api.go` at v2.42.0): what an absent `start` means. It is a few
/// days short of the int64 limit so that a conversion to nanoseconds cannot
/// overflow.
pub const MIN_TIME: i64 = (i64::MIN / 1000 + 62_135_596_801) * 1000;

/// The latest time Prometheus's HTTP API reads and writes (`maxTime`, whose
/// nanoseconds `timestamp.FromTime` truncates to 999 ms): what an absent `end`
/// means.
pub const MAX_TIME: i64 = (i64::MAX / 1000 - 62_135_596_801) * 1000 + 999;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_prometheus_formatted_times() {
        // -292273086-05-16T16:47:06Z and 292277025-08-18T07:12:54.999999999Z,
        // the strings Prometheus prints for them, in seconds since the epoch.
        assert_eq!(MIN_TIME, -9_223_309_901_257_974_000);
        assert_eq!(MAX_TIME, 9_223_309_901_257_974_999);
    }
}
