"""``python -m thanos_rs``: subcommands and Thanos's flag names."""

from __future__ import annotations

import subprocess
import sys

import pytest

from thanos_rs.cli import build_parser


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "thanos_rs", *args], capture_output=True, text=True, timeout=60)


def test_help_lists_the_components():
    out = run_cli("--help")
    assert out.returncode == 0
    for command in ("sidecar", "query", "store", "compact", "demo", "tools"):
        assert command in out.stdout


@pytest.mark.parametrize(
    "command, names",
    [
        ("sidecar", ["--prometheus.url", "--grpc-address", "--http-address", "--reloader.config-file",
                     "--reloader.config-envsubst-file", "--reloader.rule-dir", "--reloader.watch-interval",
                     "--reloader.retry-interval", "--min-time", "--log.level", "--log.format",
                     "--grpc-server-tls-cert", "--grpc-server-tls-key", "--grpc-server-tls-client-ca"]),
        ("query", ["--http-address", "--grpc-address", "--query.replica-label", "--store", "--endpoint",
                   "--query.timeout", "--query.max-concurrent", "--query.lookback-delta",
                   "--query.partial-response", "--query.default-step", "--store.response-timeout",
                   "--store.unhealthy-timeout", "--selector-label", "--web.route-prefix",
                   "--web.external-prefix", "--grpc-client-tls-secure", "--grpc-client-tls-ca"]),
    ],
)
def test_help_shows_thanos_flag_names(command, names):
    out = run_cli(command, "--help")
    assert out.returncode == 0
    for name in names:
        assert name in out.stdout, name


def test_tutorial_command_lines_parse():
    parser = build_parser()
    args = parser.parse_args(
        "query --http-address 0.0.0.0:29090 --query.replica-label replica --store 127.0.0.1:19190 "
        "--store 127.0.0.1:19191 --endpoint=127.0.0.1:19192 --no-query.partial-response".split()
    )
    assert args.endpoints == ["127.0.0.1:19190", "127.0.0.1:19191", "127.0.0.1:19192"]
    assert args.query_replica_labels == ["replica"]
    assert args.query_partial_response is False
    assert args.query_timeout == 120.0
    args = parser.parse_args(
        "sidecar --http-address 0.0.0.0:19090 --grpc-address 0.0.0.0:19190 "
        "--reloader.config-file /etc/prometheus/prometheus.yml --prometheus.url http://127.0.0.1:9090 "
        "--reloader.watch-interval=1m30s".split()
    )
    assert args.prometheus_url == "http://127.0.0.1:9090"
    assert args.reloader_watch_interval == 90.0


def test_unknown_flags_are_refused_like_kingpin():
    out = run_cli("sidecar", "--no-such-flag")
    assert out.returncode == 2
    assert "unknown long flag '--no-such-flag', try --help" in out.stderr


def test_thanos_flags_we_do_not_implement_say_why():
    out = run_cli("sidecar", "--prometheus.http-client-file=client.yml")
    assert out.returncode == 2
    assert "--prometheus.http-client-file is not supported by thanos_rs: Prometheus is reached without" in out.stderr
    out = run_cli("query", "--endpoint.sd-config-file", "x.yml")
    assert out.returncode == 2 and "not supported" in out.stderr


def test_abbreviations_are_not_flags():
    out = run_cli("sidecar", "--prometheus.u", "http://x")
    assert out.returncode == 2


def test_features_the_engine_always_has_are_accepted_others_refused():
    parser = build_parser()
    args = parser.parse_args(["query", "--enable-feature=promql-at-modifier,promql-negative-offset"])
    assert args.enable_feature == ["promql-at-modifier,promql-negative-offset"]
    out = run_cli("query", "--enable-feature=query-pushdown")
    assert out.returncode == 2 and "feature 'query-pushdown' is not implemented by thanos_rs" in out.stderr
    out = run_cli("query", "--enable-feature", "warp-drive")
    assert out.returncode == 2 and "unknown feature 'warp-drive'" in out.stderr


@pytest.mark.parametrize("command", ["sidecar", "store", "compact"])
def test_a_broken_bucket_config_is_a_clear_error(command, tmp_path):
    missing = tmp_path / "bucket.yml"
    out = run_cli(command, f"--objstore.config-file={missing}")
    assert out.returncode == 1
    assert f"loading file {missing} for objstore.config-file: No such file or directory" in out.stderr
    assert "Traceback" not in out.stderr
    out = run_cli(command, "--objstore.config=type: NOPE")
    assert out.returncode == 1 and "bucket with type NOPE is not supported" in out.stderr


@pytest.mark.parametrize("command", ["store", "compact"])
def test_the_store_gateway_and_the_compactor_need_a_bucket(command):
    out = run_cli(command)
    assert out.returncode == 1
    assert "flag objstore.config-file or objstore.config is required" in out.stderr
