"""pychrony.prometheus.ChronyCollector and `pychrony exporter`, against the fixture's chronyd
daemons: the scraped text parsed with prometheus_client's own parser, each value compared with
`chronyc -c` on the same daemon (equal whenever chronyc printed the line the same before and after
our scrape; bracketed where chronyd computes it per request), the exporter over HTTP on a free
loopback port, a frozen chronyd (the scrape answers, every collector says it failed), and a
chronyd that refuses reports over UDP (only those collectors fail)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import logging
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
import test_authdata
from conftest import (
    Daemon,
    each_line_equal_when_stable,
    kill_9,
    parse_chronyc_csv,
    start_daemon,
)
from exporter_process import Exporter
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.parser import text_string_to_metric_families
from pychrony.prometheus import COLLECTORS, DEFAULT_COLLECTORS, ChronyCollector

SCRIPT = Path(sys.executable).parent / "pychrony"
NEVER = "4294967295"
LEAP_TEXT = {0: "Normal", 1: "Insert second", 2: "Delete second", 3: "Not synchronised"}
# chrony_exporter's words for the sources report's state and mode, back to chronyc's symbols.
STATE_SYMBOL = {
    "sync": "*",
    "unreach": "?",
    "falseticker": "x",
    "jittery": "~",
    "candidate": "+",
    "outlier": "-",
}
MODE_SYMBOL = {"client": "^", "peer": "=", "reference clock": "#"}
AUTH_SYMBOL = {"none": "-", "symmetric_key": "SK", "nts": "NTS"}

Families = dict[str, Metric]


def parse(text: str) -> Families:
    return {f.name: f for f in text_string_to_metric_families(text)}


def scrape(collector: ChronyCollector) -> Families:
    """What Prometheus would read from a registry holding only `collector`."""
    registry = CollectorRegistry()
    registry.register(collector)
    return parse(generate_latest(registry).decode())


def value(families: Families, name: str) -> float:
    (sample,) = families[name].samples
    return sample.value


def per_source(families: Families, name: str) -> dict[str, float]:
    """A per-source metric by address; empty when no source has a sample (the family is left
    out then)."""
    family = families.get(name)
    return {} if family is None else {s.labels["source_address"]: s.value for s in family.samples}


def successes(families: Families) -> dict[str, float]:
    return {
        s.labels["collector"]: s.value for s in families["chrony_scrape_collector_success"].samples
    }


def counter_value(families: Families, name: str) -> int | None:
    """A serverstats counter (its family is named without `_total`), None when absent."""
    family = families.get(name.removesuffix("_total"))
    return None if family is None else int(family.samples[0].value)


# --- importing --------------------------------------------------------------------------------


def run_python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd="/",
    )


def test_import_pychrony_does_not_import_prometheus_client() -> None:
    proc = run_python(
        """
        import sys
        import pychrony, pychrony.cli
        print(sorted(m for m in sys.modules if m.split(".")[0] in ("prometheus_client", "wsgiref")))
        """
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[]\n"


def test_without_prometheus_client_the_errors_say_what_to_install() -> None:
    # prometheus_client is installed here: None in sys.modules makes importing it fail as if not.
    proc = run_python(
        """
        import sys
        sys.modules["prometheus_client"] = None
        try:
            import pychrony.prometheus
        except ModuleNotFoundError as exc:
            print(exc.name, exc, sep="|")
        from pychrony.cli import main
        sys.exit(main(["exporter", "--listen", "127.0.0.1:0"]))
        """
    )
    assert proc.returncode == 2
    name, message = proc.stdout.strip().split("|")
    assert name == "prometheus_client"
    assert "pip install 'chrony-monitor[prometheus]'" in message
    assert proc.stderr == (
        "pychrony: the exporter needs prometheus_client: install it with "
        "`pip install 'chrony-monitor[prometheus]'`.\n"
    )


# --- registering ------------------------------------------------------------------------------


def command_hits(daemon: Daemon) -> int:
    # chronyc -c serverstats: the third field counts command requests, this one included.
    return int(daemon.chronyc("-c", "serverstats").split(",")[2])


def test_register_and_describe_do_not_contact_chronyd(sources: Daemon) -> None:
    before = command_hits(sources)
    collector = ChronyCollector(sources.socket)
    # The default registry's kind, which calls collect() when a collector has no describe().
    registry = CollectorRegistry(auto_describe=True)
    registry.register(collector)
    described = list(collector.describe())
    # chronyd counted chronyc's two requests and nothing in between.
    assert command_hits(sources) == before + 1
    assert all(not family.samples for family in described)
    names = {family.name for family in described}
    assert {"chrony_up", "chrony_tracking_info", "chrony_sources_state_info"} <= names
    # describe() names every series: a second collector with the same names is refused.
    with pytest.raises(ValueError, match="Duplicated timeseries"):
        registry.register(ChronyCollector(sources.socket))


def test_a_scrape_asks_only_for_its_collectors_reports(sources: Daemon) -> None:
    """chronyd's command counter around a scrape (chronyc's own request counted out): the
    serverstats collector sends its one request; more collectors, more requests."""

    def sent(collectors: list[str]) -> int:
        collector = ChronyCollector(sources.socket, collectors=collectors)
        before = command_hits(sources)
        assert value(scrape(collector), "chrony_up") == 1.0
        return command_hits(sources) - before - 1

    assert sent(["serverstats"]) == 1
    assert 1 < sent(["tracking", "serverstats"]) < sent(list(COLLECTORS))


def test_close_ends_the_kept_connection_and_a_scrape_reopens_it(sources: Daemon) -> None:
    collector = ChronyCollector(sources.socket, collectors=["serverstats"])
    first = counter_value(scrape(collector), "chrony_serverstats_command_packets_received_total")
    collector.close()
    collector.close()  # nothing open: nothing to do
    again = scrape(collector)
    assert value(again, "chrony_up") == 1.0
    hits = counter_value(again, "chrony_serverstats_command_packets_received_total")
    assert first is not None and hits is not None and hits > first


def test_describe_names_what_collect_exports(sources: Daemon) -> None:
    collector = ChronyCollector(sources.socket, collectors=COLLECTORS)
    described = {f.name: f.type for f in collector.describe()}
    scraped = {f.name: f.type for f in scrape(collector).values()}
    assert scraped.items() <= described.items()


def test_bad_arguments_are_refused_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="unknown collector 'bogus': choose among tracking"):
        ChronyCollector(collectors=["tracking", "bogus"])
    with pytest.raises(TypeError, match="list of names"):
        ChronyCollector(collectors="tracking")
    with pytest.raises(ValueError, match="at least one"):
        ChronyCollector(collectors=[])
    with pytest.raises(ValueError, match="timeout"):
        ChronyCollector(timeout=0)
    with pytest.raises(TypeError, match="must be a str"):
        ChronyCollector(3)  # type: ignore[arg-type]


# --- tracking ---------------------------------------------------------------------------------


def tracking_between_two_chronyc_calls(
    daemon: Daemon, collector: ChronyCollector
) -> tuple[list[str], Families, list[str]]:
    """chronyc, our scrape, chronyc again, until no clock update landed in between."""
    for _ in range(50):
        before = parse_chronyc_csv(daemon.chronyc("-c", "tracking"))
        families = scrape(collector)
        after = parse_chronyc_csv(daemon.chronyc("-c", "tracking"))
        if before[3] == after[3] and before[0] == after[0]:
            return before, families, after
    pytest.fail("chronyd updated its clock between every pair of chronyc calls")


def tracking_columns(families: Families) -> list[str]:
    """The scrape in `chronyc -c tracking`'s columns and formats."""
    (info,) = families["chrony_tracking_info"].samples

    def v(name: str, spec: str) -> str:
        return f"{value(families, 'chrony_tracking_' + name):{spec}}"

    return [
        info.labels["tracking_refid"],
        info.labels["tracking_address"],
        v("stratum", ".0f"),
        v("reference_timestamp_seconds", ".9f"),
        v("system_time_seconds", ".9f"),
        v("last_offset_seconds", ".9f"),
        v("rms_offset_seconds", ".9f"),
        v("frequency_ppms", ".3f"),
        v("residual_frequency_ppms", ".3f"),
        v("skew_ppms", ".3f"),
        v("root_delay_seconds", ".9f"),
        v("root_dispersion_seconds", ".9f"),
        v("update_interval_seconds", ".1f"),
        LEAP_TEXT[int(value(families, "chrony_tracking_leap_status"))],
    ]


def test_tracking_of_a_synchronised_chronyd_equals_chronyc(synced: Daemon) -> None:
    before, families, after = tracking_between_two_chronyc_calls(
        synced, ChronyCollector(synced.socket, collectors=["tracking"])
    )
    got = tracking_columns(families)
    # Static between clock updates: exact, in chronyc's formats.
    for index in [0, 1, 2, 5, 6, 7, 8, 9, 10, 12, 13]:
        assert got[index] == before[index], (index, got, before)
    ref_time = value(families, "chrony_tracking_reference_timestamp_seconds")
    assert abs(ref_time - float(before[3])) < 1e-6
    # Computed by chronyd per request (as test_values.py checks them).
    offset = value(families, "chrony_tracking_system_time_seconds")
    assert abs(offset - float(before[4])) < 1e-4
    dispersion = value(families, "chrony_tracking_root_dispersion_seconds")
    low, high = sorted([float(before[11]), float(after[11])])
    assert low - 1e-9 <= dispersion <= high + 1e-9
    delay = value(families, "chrony_tracking_root_delay_seconds")
    assert value(families, "chrony_tracking_maximum_error_seconds") == (
        abs(offset) + dispersion + delay / 2.0
    )
    assert value(families, "chrony_tracking_synchronized") == 1.0
    assert value(families, "chrony_tracking_remote_reference") == 1.0
    assert value(families, "chrony_tracking_leap_pending") == 0.0
    # The name: the configured one, as chronyc -N shows it.
    (info,) = families["chrony_tracking_info"].samples
    named = parse_chronyc_csv(synced.chronyc("-N", "-c", "tracking"))
    assert info.labels["tracking_name"] == named[1]
    assert set(successes(families)) == {"tracking"}


def test_tracking_of_an_unsynchronised_chronyd_equals_chronyc_exactly(unsynced: Daemon) -> None:
    families = scrape(ChronyCollector(unsynced.socket, collectors=["tracking"]))
    expected = parse_chronyc_csv(unsynced.chronyc("-c", "tracking"))
    got = tracking_columns(families)
    # No reference: chronyc's name column is empty; the address label stands for it with the
    # reference ID's text, which is empty too.
    assert got == expected
    assert value(families, "chrony_tracking_synchronized") == 0.0
    assert value(families, "chrony_tracking_remote_reference") == 0.0
    assert value(families, "chrony_tracking_leap_status") == 3.0
    assert value(families, "chrony_tracking_leap_pending") == 0.0
    # |0| + root dispersion 1 + root delay 1 / 2.
    assert value(families, "chrony_tracking_maximum_error_seconds") == 1.5
    assert value(families, "chrony_up") == 1.0


# --- sources, sourcestats, selectdata, authdata -----------------------------------------------


def rows(families: Families, first: str, columns: list[tuple[str, str]]) -> list[str]:
    """One line per source, in the order of the `first` family's samples (chronyd's order):
    each of `columns` (metric, format) as chronyc prints it; NEVER where it has no sample."""
    addresses = [s.labels["source_address"] for s in families[first].samples]
    by_metric = {name: per_source(families, name) for name, _ in columns}
    return [
        ",".join(
            f"{by_metric[name][a]:{spec}}" if a in by_metric[name] else NEVER
            for name, spec in columns
        )
        for a in addresses
    ]


def sources_lines(families: Families) -> list[str]:
    info = {
        s.labels["source_address"]: s.labels for s in families["chrony_sources_state_info"].samples
    }
    numbers = rows(
        families,
        "chrony_sources_state_info",
        [
            ("chrony_sources_stratum", ".0f"),
            ("chrony_sources_polling_interval_seconds", ""),
            ("chrony_sources_reachability_ratio", ""),
            ("chrony_sources_reachability_success", ".0f"),
            ("chrony_sources_last_sample_age_seconds", ".0f"),
            ("chrony_sources_last_sample_offset_seconds", ".9f"),
            ("chrony_sources_last_sample_error_margin_seconds", ".9f"),
        ],
    )
    lines = []
    for address, line in zip(info, numbers, strict=True):
        stratum, interval, ratio, success, rest = line.split(",", 4)
        labels = info[address]
        poll = round(math.log2(float(interval)))
        reached = round(float(ratio) * 8)
        lines.append(
            f"{MODE_SYMBOL[labels['source_mode']]},{STATE_SYMBOL[labels['source_state']]},"
            f"{address},{stratum},{poll},{reached},{success},{rest}"
        )
    return lines


def sources_projection(c: list[str]) -> list[str]:
    """chronyc -c sources: reach (octal) as chrony_exporter exports it, the polls answered and
    the last one; the measured offset (in brackets) left out, as chrony_exporter leaves it."""
    reach = int(c[5], 8)
    return [*c[:5], str(bin(reach & 0xFF).count("1")), str(reach & 1), c[6], c[7], c[9]]


def test_sources_equal_chronyc(sources: Daemon) -> None:
    collector = ChronyCollector(sources.socket, collectors=["sources", "sourcename"])
    families = each_line_equal_when_stable(
        sources,
        ("-c", "sources", "-a"),
        lambda: scrape(collector),
        sources_lines,
        project=sources_projection,
    )
    # The configured names, as chronyc -N shows them (a reference clock: its refid text).
    names = [r.split(",")[2] for r in sources.chronyc("-N", "-c", "sources", "-a").splitlines()]
    labels = [s.labels for s in families["chrony_sources_state_info"].samples]
    assert [label["source_name"] for label in labels] == names
    assert [label["source_address"] for label in labels] == sources.source_addresses()
    assert successes(families) == {"sources": 1.0, "sourcename": 1.0}


def sourcestats_lines(families: Families) -> list[str]:
    return [
        f"{a},{rest}"
        for a, rest in zip(
            per_source(families, "chrony_sourcestats_samples"),
            rows(
                families,
                "chrony_sourcestats_samples",
                [
                    ("chrony_sourcestats_samples", ".0f"),
                    ("chrony_sourcestats_runs", ".0f"),
                    ("chrony_sourcestats_span_seconds", ".0f"),
                    ("chrony_sourcestats_frequency_ppms", ".3f"),
                    ("chrony_sourcestats_frequency_skew_ppms", ".3f"),
                    ("chrony_sourcestats_offset", ".9f"),
                    ("chrony_sourcestats_stddev", ".9f"),
                ],
            ),
            strict=True,
        )
    ]


def test_sourcestats_equal_chronyc(sources: Daemon) -> None:
    collector = ChronyCollector(sources.socket, collectors=["sourcestats"])
    # The offset (column 6) is extrapolated by chronyd to the time of each request.
    families = each_line_equal_when_stable(
        sources,
        ("-c", "sourcestats", "-a"),
        lambda: scrape(collector),
        sourcestats_lines,
        extrapolated=(6,),
    )
    assert list(per_source(families, "chrony_sourcestats_samples")) == sources.source_addresses()


def ntpdata_lines(families: Families) -> list[str]:
    """The ntpdata collector's values as chronyc -c ntpdata prints the same columns."""
    columns = [
        ("chrony_sources_peer_offset_seconds", ".9f"),
        ("chrony_sources_peer_delay_seconds", ".9f"),
        ("chrony_sources_peer_dispersion_seconds", ".9f"),
        ("chrony_sources_peer_response_time_seconds", ".9f"),
        ("chrony_sources_peer_jitter_asymmetry_seconds", ".2f"),
    ]
    values = [per_source(families, name) for name, _ in columns]
    return [
        ",".join(
            [address, *(format(v[address], f) for v, (_, f) in zip(values, columns, strict=True))]
        )
        for address in values[0]
    ]


def test_ntpdata_equals_chronyc(sources: Daemon) -> None:
    collector = ChronyCollector(sources.socket, collectors=["ntpdata"])
    families = each_line_equal_when_stable(
        sources,
        ("-c", "ntpdata"),
        lambda: scrape(collector),
        ntpdata_lines,
        # Remote address, offset, peer delay, peer dispersion, response time, jitter asymmetry.
        project=lambda row: [row[i] for i in (0, 18, 19, 20, 21, 22)],
    )
    # Every NTP source and no reference clock (nor an unresolved name), with the sources
    # collector's labels.
    ntp = [a for a in sources.source_addresses() if a[0].isdigit()]
    assert list(per_source(families, "chrony_sources_peer_offset_seconds")) == ntp
    assert successes(families) == {"ntpdata": 1.0}
    labels = [s.labels for s in families["chrony_sources_peer_delay_seconds"].samples]
    both = scrape(ChronyCollector(sources.socket, collectors=["sources", "ntpdata"]))
    stratum = [s.labels for s in both["chrony_sources_stratum"].samples]
    assert labels == [x for x in stratum if x["source_address"] in ntp]


def test_ntpdata_is_off_by_default(sources: Daemon) -> None:
    assert DEFAULT_COLLECTORS == tuple(c for c in COLLECTORS if c != "ntpdata")
    assert ChronyCollector(sources.socket).collectors == DEFAULT_COLLECTORS
    assert not [n for n in scrape(ChronyCollector(sources.socket)) if "_peer_" in n]


def selectdata_lines(families: Families) -> list[str]:
    info = [s.labels for s in families["chrony_selectdata_state_info"].samples]
    numbers = rows(
        families,
        "chrony_selectdata_state_info",
        [
            ("chrony_selectdata_last_sample_age_seconds", ".0f"),
            ("chrony_selectdata_score", ".1f"),
            ("chrony_selectdata_offset_low_seconds", ".9f"),
            ("chrony_selectdata_offset_high_seconds", ".9f"),
        ],
    )
    auth = per_source(families, "chrony_selectdata_authenticated")
    leap = per_source(families, "chrony_selectdata_leap_status")
    return [
        f"{label['state_symbol']},{label['source_address']},"
        f"{'Y' if auth[label['source_address']] else 'N'},"
        f"{','.join(label['configured_options'])},{','.join(label['effective_options'])},"
        f"{line},{LEAP_TEXT[int(leap[label['source_address']])]}"
        for label, line in zip(info, numbers, strict=True)
    ]


def test_selectdata_equals_chronyc(sources: Daemon) -> None:
    collector = ChronyCollector(sources.socket, collectors=["selectdata"])
    families = each_line_equal_when_stable(
        sources, ("-c", "selectdata", "-a"), lambda: scrape(collector), selectdata_lines
    )
    states = {
        s.labels["source_address"]: s.labels["state"]
        for s in families["chrony_selectdata_state_info"].samples
    }
    assert states["127.0.0.2"] == "ignored"  # noselect


def authdata_lines(families: Families) -> list[str]:
    modes = [
        (s.labels["source_address"], s.labels["mode"])
        for s in families["chrony_authdata_mode_info"].samples
    ]
    numbers = rows(
        families,
        "chrony_authdata_mode_info",
        [
            ("chrony_authdata_key_id", ".0f"),
            ("chrony_authdata_key_type", ".0f"),
            ("chrony_authdata_key_length_bits", ".0f"),
            ("chrony_authdata_nts_last_ke_age_seconds", ".0f"),
            ("chrony_authdata_nts_ke_attempts", ".0f"),
            ("chrony_authdata_nts_nak", ".0f"),
            ("chrony_authdata_nts_cookies", ".0f"),
            ("chrony_authdata_nts_cookie_length_bytes", ".0f"),
        ],
    )
    return [
        f"{address},{AUTH_SYMBOL[mode]},{line}"
        for (address, mode), line in zip(modes, numbers, strict=True)
    ]


@pytest.mark.parametrize("fixture", ["sources", "nts"])
def test_authdata_equals_chronyc(fixture: str, request: pytest.FixtureRequest) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    collector = ChronyCollector(daemon.socket, collectors=["authdata"])
    families = each_line_equal_when_stable(
        daemon,
        test_authdata.CSV,
        lambda: scrape(collector),
        authdata_lines,
        transient=(test_authdata.COOKIES_COLUMN,),
    )
    modes = {s.labels["mode"] for s in families["chrony_authdata_mode_info"].samples}
    assert modes == ({"nts"} if fixture == "nts" else {"none"})
    if fixture == "nts":
        assert min(per_source(families, "chrony_authdata_nts_cookies").values()) > 0


# --- serverstats ------------------------------------------------------------------------------

# chronyc -c serverstats' columns, in its order.
SERVER_STATS = (
    "chrony_serverstats_ntp_packets_received_total",
    "chrony_serverstats_ntp_packets_dropped_total",
    "chrony_serverstats_command_packets_received_total",
    "chrony_serverstats_command_packets_dropped_total",
    "chrony_serverstats_client_log_records_dropped_total",
    "chrony_serverstats_nts_ke_connections_accepted_total",
    "chrony_serverstats_nts_ke_connections_dropped_total",
    "chrony_serverstats_authenticated_ntp_packets_total",
    "chrony_serverstats_interleaved_ntp_packets_total",
    "chrony_serverstats_ntp_timestamps_held",
    "chrony_serverstats_ntp_timestamp_span_seconds",
    "chrony_serverstats_ntp_daemon_rx_timestamps_total",
    "chrony_serverstats_ntp_daemon_tx_timestamps_total",
    "chrony_serverstats_ntp_kernel_rx_timestamps_total",
    "chrony_serverstats_ntp_kernel_tx_timestamps_total",
    "chrony_serverstats_ntp_hw_rx_timestamps_total",
    "chrony_serverstats_ntp_hw_tx_timestamps_total",
)


@pytest.mark.parametrize("fixture", ["sources", "nts"])
def test_serverstats_bracketed_by_chronyc(fixture: str, request: pytest.FixtureRequest) -> None:
    daemon: Daemon = request.getfixturevalue(fixture)
    collector = ChronyCollector(daemon.socket, collectors=["serverstats"])
    before = [int(v) for v in daemon.chronyc("-c", "serverstats").split(",")]
    families = scrape(collector)
    after = [int(v) for v in daemon.chronyc("-c", "serverstats").split(",")]
    ours = [counter_value(families, name) for name in SERVER_STATS]
    # What this chronyd does not send (4.3 sends 11 counters) is absent, not 0.
    assert ours[len(before) :] == [None] * (len(SERVER_STATS) - len(before))
    for i, (b, o, a) in enumerate(zip(before, ours, after, strict=False)):
        assert o is not None and b <= o <= a, (SERVER_STATS[i], before, ours, after)
    # Our request and chronyc's second one are command packets chronyd counted.
    assert before[2] < (ours[2] or 0) < after[2]
    types = {f.name: f.type for f in families.values()}
    assert types["chrony_serverstats_ntp_packets_received"] == "counter"
    assert types["chrony_serverstats_ntp_timestamps_held"] == "gauge"


# --- failures ---------------------------------------------------------------------------------


def test_reports_refused_over_udp_fail_only_their_collectors(sources: Daemon) -> None:
    for args in (("-c", "selectdata", "-a"), ("-c", "authdata", "-a"), ("-c", "serverstats")):
        proc = sources.chronyc_process(*args, udp=True)
        assert proc.returncode != 0 and "Not authorised" in proc.stdout + proc.stderr, args
    families = scrape(ChronyCollector(sources.udp_v4, collectors=COLLECTORS))
    assert value(families, "chrony_up") == 1.0
    assert successes(families) == {
        "tracking": 1.0,
        "sources": 1.0,
        "ntpdata": 0.0,
        "sourcestats": 1.0,
        "selectdata": 0.0,
        "authdata": 0.0,
        "sourcename": 1.0,
        "serverstats": 0.0,
    }
    assert "chrony_tracking_info" in families and "chrony_sourcestats_samples" in families
    refused = (
        "chrony_sources_peer_",
        "chrony_selectdata_",
        "chrony_authdata_",
        "chrony_serverstats_",
    )
    assert not [name for name in families if name.startswith(refused)]


def test_no_chronyd_is_up_0_not_an_error(tmp_path: Path) -> None:
    families = scrape(ChronyCollector(str(tmp_path / "none.sock"), collectors=["tracking"]))
    assert value(families, "chrony_up") == 0.0
    assert successes(families) == {"tracking": 0.0}
    assert set(families) == {
        "chrony_up",
        "chrony_scrape_collector_success",
        "chrony_scrape_collector_duration_seconds",
    }


def test_frozen_chronyd_scrape_answers_with_every_collector_failed(frozen: Daemon) -> None:
    timeout = 0.5
    start = time.monotonic()
    families = scrape(ChronyCollector(frozen.socket, timeout))
    elapsed = time.monotonic() - start
    # One timeout ends the scrape: chronyd is not asked for the other reports.
    assert timeout <= elapsed < 2 * timeout, elapsed
    assert value(families, "chrony_up") == 0.0
    assert successes(families) == dict.fromkeys(DEFAULT_COLLECTORS, 0.0)
    assert not [name for name in families if name.startswith("chrony_tracking")]


def test_restarted_chronyd_is_read_again(
    restartable: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="pychrony.prometheus")
    daemon = start_daemon("start", directory=restartable)
    collector = ChronyCollector(daemon.socket, collectors=["tracking", "serverstats"])
    assert value(scrape(collector), "chrony_up") == 1.0
    # SIGKILL (the socket stays behind, refused), then SIGTERM (chronyd removes it): on the
    # connection kept open, each scrape says chronyd could not be asked, and the log says why.
    for stop, code, reason in [
        (kill_9, -1, "chronyd is not running (stale socket)"),
        (Daemon.stop, -2, "is chronyd running?"),
    ]:
        caplog.clear()
        stop(daemon)
        down = scrape(collector)
        assert value(down, "chrony_up") == 0.0
        assert successes(down) == {"tracking": 0.0, "serverstats": 0.0}
        assert not [name for name in down if name.startswith("chrony_tracking")]
        [record] = caplog.records
        assert record.levelno == logging.WARNING
        assert reason in record.getMessage() and f"(error code: {code})" in record.getMessage()
        # The same reason again is not logged again at every scrape.
        scrape(collector)
        assert len(caplog.records) == 1
        daemon.stop()
        again = start_daemon("start", directory=restartable)
        assert again.socket == daemon.socket and again.pid != daemon.pid
        # The same collector reads the new chronyd: its counter lies between chronyc's.
        before = int(again.chronyc("-c", "serverstats").split(",")[2])
        families = scrape(collector)
        after = int(again.chronyc("-c", "serverstats").split(",")[2])
        hits = counter_value(families, "chrony_serverstats_command_packets_received_total")
        assert hits is not None and before < hits < after
        assert value(families, "chrony_up") == 1.0
        assert successes(families) == {"tracking": 1.0, "serverstats": 1.0}
        assert caplog.records[-1].levelno == logging.INFO
        assert "answers again" in caplog.records[-1].getMessage()
        daemon = again
    daemon.stop()


# --- the exporter -----------------------------------------------------------------------------


def test_exporter_serves_metrics_over_http(sources: Daemon, exporter_of: type[Exporter]) -> None:
    exporter = exporter_of("--socket", sources.socket)
    status, content_type, text = exporter.get(exporter.url)
    assert status == 200 and content_type.startswith("text/plain")
    families = parse(text)
    assert value(families, "chrony_up") == 1.0
    assert successes(families) == dict.fromkeys(DEFAULT_COLLECTORS, 1.0)
    (info,) = families["chrony_tracking_info"].samples
    assert info.labels["tracking_refid"] == sources.chronyc("-c", "tracking").split(",")[0]
    addresses = [s.labels["source_address"] for s in families["chrony_sources_state_info"].samples]
    assert addresses == sources.source_addresses()
    # Its own registry: no process or Python metrics.
    assert not [name for name in families if not name.startswith("chrony_")]
    assert exporter.get(exporter.base + "/")[0] == 200
    assert exporter.get(exporter.base + "/other")[0] == 404
    assert exporter.stop() == (0, "pychrony exporter: stopped\n")


# A stop signal while the serving thread is between accepting a request and handing it to its
# thread: socketserver passes what happens there (an exception from a signal handler too) to
# handle_error and goes on serving. The program sends itself the signal from that place.
SIGNAL_WHILE_ACCEPTING = """
import os, signal, socketserver, sys
from pychrony.cli import main
hand_over = socketserver.ThreadingMixIn.process_request
def process_request(self, request, address):
    os.kill(os.getpid(), signal.{name})
    hand_over(self, request, address)
socketserver.ThreadingMixIn.process_request = process_request
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.parametrize("name", ["SIGTERM", "SIGINT"])
def test_exporter_stops_on_a_signal_that_arrives_while_it_accepts_a_request(
    name: str, sources: Daemon, exporter_of: type[Exporter]
) -> None:
    program = SIGNAL_WHILE_ACCEPTING.format(name=name)
    exporter = exporter_of("--socket", sources.socket, command=(sys.executable, "-c", program))
    # The request is answered or cut by the stop: either way the exporter ends, at once.
    with contextlib.suppress(OSError):
        exporter.get(exporter.url, timeout=5.0)
    # Ended by its own signal: stop() sends another, which would hide a lost one.
    assert exporter.proc.wait(timeout=10) == 0
    assert exporter.stop() == (0, "pychrony exporter: stopped\n")


def test_a_stop_waits_for_the_scrape_in_flight(frozen: Daemon, exporter_of: type[Exporter]) -> None:
    """SIGTERM during a scrape: the scrape is answered (chronyd down after its timeout), then the
    exporter ends. Before, its thread was a daemon thread: the process ended under it, and the
    interpreter could finalize while it was inside pychrony's native code (a crash, -11)."""
    socket_dir = os.path.dirname(frozen.socket)

    def clients() -> set[str]:
        return {name for name in os.listdir(socket_dir) if name.startswith("chrony-core.")}

    before = clients()
    exporter = exporter_of("--socket", frozen.socket, "--timeout", "1")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        scrape = pool.submit(exporter.get, exporter.url, 10.0)
        # In flight once its client socket is there (the frozen chronyd never answers it).
        deadline = time.monotonic() + 10
        while clients() == before and not scrape.done() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert clients() != before, "the scrape did not start"
        exporter.proc.send_signal(signal.SIGTERM)
        status, _, text = scrape.result()
    assert status == 200 and value(parse(text), "chrony_up") == 0.0
    assert exporter.proc.wait(timeout=10) == 0
    assert clients() == before


def test_exporter_listens_on_ipv6(sources: Daemon, exporter_of: type[Exporter]) -> None:
    exporter = exporter_of("--socket", sources.socket, listen="[::1]:0")
    assert exporter.url.startswith("http://[::1]:")
    status, _, text = exporter.get(exporter.url)
    assert status == 200 and value(parse(text), "chrony_up") == 1.0
    assert exporter.stop()[0] == 0


def test_exporter_collectors_option(sources: Daemon, exporter_of: type[Exporter]) -> None:
    exporter = exporter_of("--socket", sources.socket, "--collectors", "tracking,serverstats")
    families = parse(exporter.get(exporter.url)[2])
    assert successes(families) == {"tracking": 1.0, "serverstats": 1.0}
    assert {name.split("_")[1] for name in families} == {"tracking", "serverstats", "up", "scrape"}
    assert exporter.stop()[0] == 0


def test_exporter_on_a_frozen_chronyd_answers_within_its_timeout(
    frozen: Daemon, exporter_of: type[Exporter]
) -> None:
    exporter = exporter_of("--socket", frozen.socket, "--timeout", "0.3")
    # Far less than urllib's wait: the exporter gave up on chronyd after its own timeout.
    status, _, text = exporter.get(exporter.url, timeout=5.0)
    assert status == 200
    families = parse(text)
    assert value(families, "chrony_up") == 0.0
    assert successes(families) == dict.fromkeys(DEFAULT_COLLECTORS, 0.0)
    # A second scrape, for the same reason, is not logged again.
    assert exporter.get(exporter.url, timeout=5.0)[0] == 200
    status, err = exporter.stop()
    assert status == 0
    down, stopped = err.splitlines()
    assert down.startswith(
        f"pychrony exporter: chronyd could not be asked: chronyd at {frozen.socket}"
    )
    assert "did not answer within 300 ms" in down and down.endswith("(error code: -6)"), down
    assert stopped == "pychrony exporter: stopped"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--listen", "9123"], "--listen must be HOST:PORT"),
        (["--listen", "::1:9123"], "in brackets"),
        (["--collectors", "tracking,nope"], "comma-separated list of tracking"),
        (["--timeout", "0"], "finite number of seconds"),
    ],
)
def test_exporter_bad_arguments_exit_2_with_one_line(args: list[str], message: str) -> None:
    proc = subprocess.run(
        [str(SCRIPT), "exporter", *args], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2 and proc.stdout == ""
    assert message in proc.stderr and proc.stderr.count("\n") == 1, proc.stderr


def test_exporter_address_in_use_exits_2(exporter_of: type[Exporter], tmp_path: Path) -> None:
    first = exporter_of("--socket", str(tmp_path / "none.sock"))
    port = first.url.split(":")[2].split("/")[0]
    proc = subprocess.run(
        [str(SCRIPT), "exporter", "--listen", f"127.0.0.1:{port}"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ},
    )
    assert proc.returncode == 2
    assert f"cannot listen on 127.0.0.1 port {port}" in proc.stderr
    assert "choose another --listen address" in proc.stderr
