"""A real Prometheus server (Debian's package, unpacked by `cargo xtask prometheus`, run on
loopback by this test) scrapes `pychrony exporter` on the fixture's chronyd in mode "sources";
its HTTP API must give the series chrony_exporter's dashboards query, with chrony_exporter's
types, and the values chronyc shows on the same daemon for what does not change between two
scrapes (strata, addresses, configured names, options)."""

from __future__ import annotations

import json
import socket
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, Daemon, xtask_command
from exporter_process import Exporter

# What chrony_exporter exports for the collectors it shares with pychrony (v0.13.3 without
# --collector.sources.with-ntpdata), by type: the series its dashboards query.
CHRONY_EXPORTER_GAUGES = (
    "chrony_up",
    "chrony_tracking_info",
    "chrony_tracking_last_offset_seconds",
    "chrony_tracking_reference_timestamp_seconds",
    "chrony_tracking_system_time_seconds",
    "chrony_tracking_remote_reference",
    "chrony_tracking_rms_offset_seconds",
    "chrony_tracking_root_delay_seconds",
    "chrony_tracking_root_dispersion_seconds",
    "chrony_tracking_frequency_ppms",
    "chrony_tracking_residual_frequency_ppms",
    "chrony_tracking_skew_ppms",
    "chrony_tracking_update_interval_seconds",
    "chrony_tracking_stratum",
    "chrony_sources_last_sample_age_seconds",
    "chrony_sources_reachability_ratio",
    "chrony_sources_reachability_success",
    "chrony_sources_last_sample_offset_seconds",
    "chrony_sources_last_sample_error_margin_seconds",
    "chrony_sources_polling_interval_seconds",
    "chrony_sources_state_info",
    "chrony_sources_stratum",
    "chrony_sourcestats_samples",
    "chrony_sourcestats_runs",
    "chrony_sourcestats_span_seconds",
    "chrony_sourcestats_stddev",
    "chrony_sourcestats_frequency_ppms",
    "chrony_sourcestats_frequency_skew_ppms",
    "chrony_sourcestats_offset",
    "chrony_serverstats_ntp_timestamps_held",
    "chrony_serverstats_ntp_timestamp_span_seconds",
)
CHRONY_EXPORTER_COUNTERS = (
    "chrony_serverstats_ntp_packets_received_total",
    "chrony_serverstats_command_packets_received_total",
    "chrony_serverstats_ntp_packets_dropped_total",
    "chrony_serverstats_command_packets_dropped_total",
    "chrony_serverstats_client_log_records_dropped_total",
    "chrony_serverstats_nts_ke_connections_accepted_total",
    "chrony_serverstats_nts_ke_connections_dropped_total",
    "chrony_serverstats_authenticated_ntp_packets_total",
    "chrony_serverstats_interleaved_ntp_packets_total",
)
# chrony_exporter's per-source labels.
SOURCE_LABELS = {"source_address", "source_name"}
# How long Prometheus may take to start and to scrape for the first time (it applies a new
# target list every 5 s): a bound for waiting, not a measurement.
WAIT = 60.0


def prometheus_binary() -> str:
    proc = subprocess.run(
        [*xtask_command(), "prometheus"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, f"xtask prometheus failed:\n{proc.stdout}\n{proc.stderr}"
    (line,) = [x for x in proc.stdout.splitlines() if x.startswith("PROMETHEUS=")]
    return line.removeprefix("PROMETHEUS=")


def free_port() -> int:
    # Prometheus cannot report a port it picked itself: take one the kernel gives, then free it.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    def __init__(self, binary: str, target: str, directory: Path) -> None:
        config = directory / "prometheus.yml"
        config.write_text(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
            "scrape_configs:\n  - job_name: chrony\n    static_configs:\n"
            f"      - targets: ['{target}']\n"
        )
        self.url = f"http://127.0.0.1:{free_port()}"
        self.log = directory / "prometheus.log"
        with self.log.open("w") as log:
            self.proc = subprocess.Popen(
                [
                    binary,
                    f"--config.file={config}",
                    f"--storage.tsdb.path={directory / 'data'}",
                    f"--web.listen-address={self.url.removeprefix('http://')}",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def api(self, path: str, **params: str) -> Any:
        url = f"{self.url}/api/v1/{path}?{urllib.parse.urlencode(params)}"
        with urllib.request.urlopen(url, timeout=10) as reply:
            answer = json.load(reply)
        assert answer["status"] == "success", answer
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.api("query", query=expr)["result"]
        return result

    def wait_for(self, expr: str) -> list[dict[str, Any]]:
        """The result of `expr` once it has a series (Prometheus has scraped)."""
        deadline = time.monotonic() + WAIT
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()
            try:
                result = self.query(expr)
            except OSError:  # not listening yet
                result = []
            if result:
                return result
            time.sleep(0.2)
        pytest.fail(f"Prometheus had no series for {expr} after {WAIT} s:\n{self.log.read_text()}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def prometheus(sources: Daemon) -> Iterator[Prometheus]:
    """Prometheus scraping `pychrony exporter` on the "sources" daemon every second, after its
    first scrape."""
    binary = prometheus_binary()
    exporter = Exporter("--socket", sources.socket)
    with tempfile.TemporaryDirectory(prefix="prom.") as directory:
        server = Prometheus(binary, exporter.base.removeprefix("http://"), Path(directory))
        try:
            server.wait_for('chrony_up{job="chrony"}')
            yield server
        finally:
            server.stop()
            exporter.close()


def by_address(result: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["metric"]["source_address"]: r for r in result}


def test_prometheus_scrapes_the_exporter(prometheus: Prometheus) -> None:
    (target,) = prometheus.api("targets")["activeTargets"]
    assert target["health"] == "up", target
    (up,) = prometheus.query("chrony_up")
    assert up["value"][1] == "1"
    success = prometheus.query("chrony_scrape_collector_success")
    assert {r["metric"]["collector"]: r["value"][1] for r in success} == {
        c: "1"
        for c in (
            "tracking",
            "sources",
            "sourcestats",
            "selectdata",
            "authdata",
            "sourcename",
            "serverstats",
        )
    }


def test_chrony_exporter_series_are_there_with_its_types(prometheus: Prometheus) -> None:
    for name in CHRONY_EXPORTER_GAUGES + CHRONY_EXPORTER_COUNTERS:
        assert prometheus.query(name), name
        if name.startswith(("chrony_sources_", "chrony_sourcestats_")):
            for series in prometheus.query(name):
                assert SOURCE_LABELS <= set(series["metric"]), (name, series)
    metadata = prometheus.api("metadata")
    for name in CHRONY_EXPORTER_GAUGES:
        assert metadata[name][0]["type"] == "gauge", name
    for name in CHRONY_EXPORTER_COUNTERS:
        # Prometheus 2.x keeps a counter's metadata under its name without `_total`.
        assert metadata[name.removesuffix("_total")][0]["type"] == "counter", name
    # A dashboard's rate() over a counter works on these.
    assert prometheus.wait_for("rate(chrony_serverstats_command_packets_received_total[5s])")


def test_values_equal_chronyc(prometheus: Prometheus, sources: Daemon) -> None:
    rows = [r.split(",") for r in sources.chronyc("-c", "sources", "-a").splitlines()]
    named = [r.split(",") for r in sources.chronyc("-N", "-c", "sources", "-a").splitlines()]
    info = by_address(prometheus.query("chrony_sources_state_info"))
    assert set(info) == {r[2] for r in rows} and len(info) == len(rows)
    assert {a: i["metric"]["source_name"] for a, i in info.items()} == {
        r[2]: n[2] for r, n in zip(rows, named, strict=True)
    }
    strata = by_address(prometheus.query("chrony_sources_stratum"))
    assert {a: s["value"][1] for a, s in strata.items()} == {r[2]: r[3] for r in rows}
    select = [r.split(",") for r in sources.chronyc("-c", "selectdata", "-a").splitlines()]
    options = by_address(prometheus.query("chrony_selectdata_state_info"))
    assert {a: o["metric"]["configured_options"] for a, o in options.items()} == {
        r[1]: "".join(r[3:8]) for r in select
    }
    tracking = sources.chronyc("-c", "tracking").split(",")
    (reference,) = prometheus.query("chrony_tracking_info")
    assert reference["metric"]["tracking_refid"] == tracking[0]
    assert reference["metric"]["tracking_address"] == tracking[1]
    (stratum,) = prometheus.query("chrony_tracking_stratum")
    assert stratum["value"][1] == tracking[2]
    # A counter Prometheus scraped before this chronyc request: not above chronyc's.
    (hits,) = prometheus.query("chrony_serverstats_command_packets_received_total")
    commands = int(sources.chronyc("-c", "serverstats").split(",")[2])
    assert 0 < int(hits["value"][1]) < commands
