"""PromQL queries for differential tests: hand-picked ones covering every
function, aggregation and operator over the series of ``datasets.monitoring``.
Random ones come from ``support.promqlgen``."""

from __future__ import annotations

HAND_PICKED = [
    "up",
    'http_requests_total{code="200", job=~"job.*"}',
    'http_requests_total{code!="200"} offset 17m',
    "http_requests_total @ 1700003600",
    "rate(http_requests_total[5m])",
    "irate(http_requests_total[1m])",
    "increase(http_requests_total[10m] offset -3m)",
    "delta(node_memory_used_bytes[10m])",
    "idelta(node_memory_used_bytes[2m])",
    "deriv(node_memory_used_bytes[15m])",
    "predict_linear(node_memory_used_bytes[30m], 3600)",
    "holt_winters(node_memory_used_bytes[10m], 0.3, 0.6)",
    "resets(http_requests_total[1h])",
    "changes(up[30m])",
    "avg_over_time(node_memory_used_bytes[7m])",
    "sum_over_time(flaky_gauge[10m])",
    "min_over_time(flaky_gauge[10m])",
    "max_over_time(flaky_gauge[10m])",
    "count_over_time(flaky_gauge[10m])",
    "stddev_over_time(node_memory_used_bytes[20m])",
    "stdvar_over_time(flaky_gauge[20m])",
    "quantile_over_time(0.9, node_memory_used_bytes[20m])",
    "last_over_time(flaky_gauge[20m])",
    "present_over_time(flaky_gauge[1m])",
    "absent_over_time(flaky_gauge[1m])",
    "absent(nonexistent{job=\"x\"})",
    "absent(up)",
    "sum(rate(http_requests_total[5m]))",
    "sum by (job) (rate(http_requests_total[5m]))",
    "sum without (instance, code) (rate(http_requests_total[5m]))",
    "avg by (code) (http_requests_total)",
    "max by (job) (node_memory_used_bytes)",
    "min without (job) (node_memory_used_bytes)",
    "count by (job) (up == 1)",
    "group by (instance) (up)",
    "stddev by (job) (node_memory_used_bytes)",
    "stdvar(node_memory_used_bytes)",
    "topk(3, rate(http_requests_total[5m]))",
    "bottomk by (job) (2, node_memory_used_bytes)",
    "quantile by (job) (0.75, node_memory_used_bytes)",
    "count_values(\"state\", up)",
    "histogram_quantile(0.9, sum by (le, job) (rate(http_request_duration_seconds_bucket[5m])))",
    "histogram_quantile(0.5, rate(http_request_duration_seconds_bucket[10m]))",
    "rate(http_request_duration_seconds_sum[5m]) / rate(http_request_duration_seconds_count[5m])",
    "http_requests_total / on (job, instance) group_left up",
    "sum by (job, instance) (http_requests_total) * on (job, instance) group_left up",
    "up * on (job, instance) group_right sum by (job, instance, code) (http_requests_total)",
    "http_requests_total{code=\"500\"} / ignoring (code) http_requests_total{code=\"200\"}",
    "node_memory_used_bytes > 2e9",
    "node_memory_used_bytes > bool 2e9",
    "2e9 < node_memory_used_bytes",
    "up == 0 or node_memory_used_bytes > 3e9",
    "node_memory_used_bytes and up == 1",
    "node_memory_used_bytes unless up == 0",
    "-node_memory_used_bytes % 7",
    "node_memory_used_bytes ^ 0.5 - sqrt(node_memory_used_bytes)",
    "abs(flaky_gauge)", "ceil(flaky_gauge)", "floor(flaky_gauge)", "round(flaky_gauge, 0.3)",
    "exp(flaky_gauge)", "ln(flaky_gauge)", "log2(up + 1)", "log10(node_memory_used_bytes)", "sgn(flaky_gauge)",
    "clamp(flaky_gauge, -1, 1)", "clamp_min(flaky_gauge, 0)", "clamp_max(flaky_gauge, 0)",
    "sin(flaky_gauge)", "cos(flaky_gauge)", "tan(flaky_gauge)", "atan2(flaky_gauge, 2)", "deg(flaky_gauge)",
    "timestamp(up)", "timestamp(up offset 1m)", "time()", "scalar(sum(up))", "vector(time())",
    "hour()", "minute(up)", "day_of_week()", "days_in_month()", "year()", "month()", "day_of_year()",
    "label_replace(up, \"host\", \"$1\", \"instance\", \"(.*):.*\")",
    "label_join(up, \"both\", \"/\", \"job\", \"instance\")",
    "sort(node_memory_used_bytes)", "sort_desc(node_memory_used_bytes)",
    "max_over_time(rate(http_requests_total[5m])[30m:1m])",
    "avg_over_time(sum by (job) (up)[1h:5m] offset 10m)",
    "rate(http_requests_total[5m] @ end())",
    "sum_over_time(up[10m:] @ start())",
    "1 + 2 * 3 ^ 2 ^ 0.5",
    "-(1)",
    "\"a string\"",
    "http_requests_total[2m]",
    "up[5m:1m]",
    # Prometheus 2.42's own behaviour, matched (issue 18): a range argument
    # with `@` in a call evaluated at every step slides with the steps...
    "predict_linear(node_memory_used_bytes[5m] @ end(), 600)",
    "predict_linear(node_memory_used_bytes[10m:1m] @ start(), 300)",
    "quantile_over_time(scalar(up{instance=\"host0:9100\",job=\"job0\"}), node_memory_used_bytes[3m] @ 1700005000 offset 1m)",
    # ...timestamp() reads a selector with `@` at the `@` time, without its offset...
    "timestamp(node_memory_used_bytes offset 5m @ end())",
    "timestamp(node_memory_used_bytes offset -5m @ 1700005000)",
    # ...ties ordered by Go 1.19's sort.Sort...
    "sort(http_request_duration_seconds_bucket > bool 0.5)",
    "sort_desc(round(http_request_duration_seconds_bucket / 1e9))",
    # ...and dates of times far out of range, in Go's wrapping arithmetic.
    "day_of_month(vector(1/0))", "year(vector(-1/0))", "days_in_month(vector(0/0))",
    "hour(vector(1e17))", "month(vector(-1e17))", "day_of_year(vector(-1e17))", "day_of_week(-vector(time()))",
    # ...count_values with three `by` labels, whose grouping 2.42 corrupts from the
    # second step of a range query on (fixed upstream in v2.52)...
    'count_values by (instance, job, code) ("le", http_requests_total > bool 0)',
    # ...the sign of zero where quantiles interpolate between 0 and -0...
    "quantile(0.5, flaky_gauge * 0)", "max(quantile_over_time(0.25, (flaky_gauge * 0)[20m:1m]))",
    # ...and subquery windows that hold no step.
    "(up)[90s:5m]", "(up @ 1700003000)[90s:5m]", "max_over_time((up @ 1700003000)[90s:5m])",
    '(label_replace(year(), "a", "b", "c", "(.*)"))[90s:5m]',
    # Errors: each must fail with Prometheus's error type.
    "sum(",
    "rate(up)",
    "up + on (job) up",
    "label_replace(up, \"x\", \"$1\", \"instance\", \"(\")",
    "topk(9223372036854775807000, up)",
]


# Instant queries whose answers order, or pick among, series of equal value:
# Go 1.19's sort.Sort (not stable) and container/heap decide. Only instant
# queries: in a range query Prometheus 2.42 feeds topk/bottomk the series of
# an operator's result in Go map order, which changes from run to run.
TIES = [
    "sort(http_request_duration_seconds_bucket > bool 0.5)",
    "sort_desc(round(http_request_duration_seconds_bucket / 1e9))",
    "topk(20, http_request_duration_seconds_bucket > bool 0.5)",
    "bottomk(30, round(http_request_duration_seconds_bucket / 1e9))",
    "sort(floor(http_request_duration_seconds_bucket) % 2)",
    "sort_desc(floor(http_request_duration_seconds_bucket) % 3)",
    "topk(25, floor(http_request_duration_seconds_bucket) % 2)",
    "bottomk(17, floor(http_request_duration_seconds_bucket) % 3)",
    "topk by (job) (5, up)",
]
