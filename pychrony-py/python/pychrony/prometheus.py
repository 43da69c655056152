"""chronyd's reports as Prometheus metrics: a prometheus_client custom collector.

``ChronyCollector`` reads one snapshot of chronyd's reports per scrape (``get_snapshot()`` of
the parts its collectors need: one pipelined round on a connection kept across scrapes) and
exports tracking, sources and serverstats under chrony_exporter's metric names, types and labels
(so dashboards built for it keep working), plus the leap status, a ``synchronized`` gauge, the
maximum error, each source's configured name, selectdata, authdata, and whether each collector
succeeded and how long the read took. A report
chronyd refuses or that fails on its own costs only its collector's metrics
(``chrony_scrape_collector_success 0``); ``chrony_up`` is 0 only when chronyd does not answer.

This module needs prometheus_client (``pip install 'chrony-monitor[prometheus]'``); ``import
pychrony`` does not import it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

try:
    from prometheus_client.core import Metric
    from prometheus_client.samples import Sample
except ImportError as exc:  # pragma: no cover - tested by running without prometheus_client
    raise ModuleNotFoundError(
        "pychrony.prometheus needs prometheus_client: install it with "
        "`pip install 'chrony-monitor[prometheus]'`.",
        name="prometheus_client",
    ) from exc

from ._api import DEFAULT_TIMEOUT, ChronyConnection, _check_timeout
from ._collectors import COLLECTOR_PARTS, COLLECTORS, DEFAULT_COLLECTORS, SOURCE_PARTS
from ._errors import ChronyError
from ._models import LEAP_DELETE_SECOND, LEAP_INSERT_SECOND, TrackingStatus
from ._reports import (
    AuthData,
    NTPData,
    SelectData,
    ServerStats,
    Snapshot,
    Source,
    SourceMode,
    SourceSnapshot,
    SourceState,
    SourceStats,
)

__all__ = ["COLLECTORS", "DEFAULT_COLLECTORS", "ChronyCollector"]

# A scrape never raises for chronyd's errors: why chronyd could not be asked goes here.
_log = logging.getLogger(__name__)

# A metric: name, help, and how to get its value from a record (None: no sample).
_Value = Callable[[Any], float | None]
_Spec = tuple[str, str, _Value]

# chronyd's reference ID of its local clock (`local`, "LOCL" as text).
_LOCAL_REFID = 0x7F7F0101

# --- tracking -------------------------------------------------------------------------------------


def _maximum_error(t: TrackingStatus) -> float:
    # chrony's bound on the clock's error, assuming the stratum-1 source is right.
    return abs(t.offset) + t.root_dispersion + t.root_delay / 2.0


def _remote_reference(t: TrackingStatus) -> float:
    return 0.0 if t.reference_id in (0, _LOCAL_REFID) else 1.0


_TRACKING: tuple[_Spec, ...] = (
    (
        "chrony_tracking_last_offset_seconds",
        "Offset of the last clock update, s.",
        lambda t: t.last_offset,
    ),
    (
        "chrony_tracking_reference_timestamp_seconds",
        "Time of the last clock update, seconds since the Unix epoch (0: never).",
        lambda t: t.ref_time,
    ),
    (
        "chrony_tracking_system_time_seconds",
        "chronyd's current correction of the clock, s (positive: the clock is slow).",
        lambda t: t.offset,
    ),
    (
        "chrony_tracking_remote_reference",
        "1 when chronyd follows a time source, 0 when unsynchronised or on its local clock.",
        _remote_reference,
    ),
    (
        "chrony_tracking_rms_offset_seconds",
        "Long-term RMS of the offsets, s.",
        lambda t: t.rms_offset,
    ),
    (
        "chrony_tracking_root_delay_seconds",
        "Total network path delay to the stratum-1 source, s.",
        lambda t: t.root_delay,
    ),
    (
        "chrony_tracking_root_dispersion_seconds",
        "Total dispersion accumulated to the stratum-1 source, s.",
        lambda t: t.root_dispersion,
    ),
    (
        "chrony_tracking_frequency_ppms",
        "Frequency error of the clock without chronyd's correction, ppm (positive: fast).",
        lambda t: t.frequency,
    ),
    (
        "chrony_tracking_residual_frequency_ppms",
        "Residual frequency of the reference source, ppm.",
        lambda t: t.residual_freq,
    ),
    ("chrony_tracking_skew_ppms", "Estimated error bound of the frequency, ppm.", lambda t: t.skew),
    (
        "chrony_tracking_update_interval_seconds",
        "Interval between the last two clock updates, s.",
        lambda t: t.update_interval,
    ),
    ("chrony_tracking_stratum", "chronyd's NTP stratum (0: unsynchronised).", lambda t: t.stratum),
    (
        "chrony_tracking_leap_status",
        "Leap status: 0 normal, 1 insert second, 2 delete second, 3 not synchronised.",
        lambda t: t.leap_status,
    ),
    (
        "chrony_tracking_leap_pending",
        "1 when a leap second is to be inserted or deleted at the end of the day.",
        lambda t: float(t.leap_status in (LEAP_INSERT_SECOND, LEAP_DELETE_SECOND)),
    ),
    (
        "chrony_tracking_synchronized",
        "1 when chronyd is synchronised to a source (reference ID set, stratum below 16).",
        lambda t: float(t.is_synchronized()),
    ),
    (
        "chrony_tracking_maximum_error_seconds",
        "Bound of the clock's error: |system time| + root dispersion + root delay / 2, s.",
        _maximum_error,
    ),
)

_TRACKING_INFO = ("tracking_address", "tracking_name", "tracking_refid")

# --- sources --------------------------------------------------------------------------------------


# chrony_exporter's words for a source's state and mode.
_STATE_WORDS = {
    SourceState.SELECTED: "sync",
    SourceState.NONSELECTABLE: "unreach",
    SourceState.FALSETICKER: "falseticker",
    SourceState.JITTERY: "jittery",
    SourceState.UNSELECTED: "candidate",
    SourceState.SELECTABLE: "outlier",
}
_MODE_WORDS = {
    SourceMode.CLIENT: "client",
    SourceMode.PEER: "peer",
    SourceMode.REFCLOCK: "reference clock",
}


def _word(words: dict[Any, str], value: int) -> str:
    return words.get(value, f"unknown ({int(value)})")


def _reach_ratio(s: Source) -> float:
    return bin(s.reachability & 0xFF).count("1") / 8.0


_SOURCES: tuple[_Spec, ...] = (
    (
        "chrony_sources_last_sample_age_seconds",
        "Seconds since the source's last good sample (absent: none yet).",
        lambda s: s.last_sample_ago,
    ),
    (
        "chrony_sources_reachability_ratio",
        "Share of the last 8 polls the source answered.",
        _reach_ratio,
    ),
    (
        "chrony_sources_reachability_success",
        "1 when the source answered the last poll.",
        lambda s: float(s.reachability & 1),
    ),
    (
        "chrony_sources_last_sample_offset_seconds",
        "Offset of the source's last sample, adjusted for slewing since, s.",
        lambda s: s.latest_meas,
    ),
    (
        "chrony_sources_last_sample_error_margin_seconds",
        "Error margin of the source's last sample, s.",
        lambda s: s.latest_meas_err,
    ),
    (
        "chrony_sources_polling_interval_seconds",
        "Interval between polls of the source, s.",
        lambda s: 2.0**s.poll,
    ),
    ("chrony_sources_stratum", "The source's stratum.", lambda s: s.stratum),
)

# --- sourcestats ----------------------------------------------------------------------------------

# chrony_exporter's --collector.sources.with-ntpdata metrics (its names), from each NTP source's
# ntpdata record: the last measurement (a reference clock has none, so no sample).
_NTP_DATA: tuple[_Spec, ...] = (
    (
        "chrony_sources_peer_offset_seconds",
        "Offset of the source's last measurement, s (ntpdata's Offset).",
        lambda d: d.offset,
    ),
    (
        "chrony_sources_peer_delay_seconds",
        "Network round-trip delay of the last measurement, s (Peer delay).",
        lambda d: d.peer_delay,
    ),
    (
        "chrony_sources_peer_dispersion_seconds",
        "Dispersion of the last measurement, s (Peer dispersion).",
        lambda d: d.peer_dispersion,
    ),
    (
        "chrony_sources_peer_response_time_seconds",
        "Time the source took to answer the last request, s (Response time).",
        lambda d: d.response_time,
    ),
    (
        "chrony_sources_peer_jitter_asymmetry_seconds",
        "Estimated asymmetry of the network jitter, a ratio from -0.5 to 0.5 despite the name "
        "(chrony_exporter's; Jitter asymmetry).",
        lambda d: d.jitter_asymmetry,
    ),
)

_SOURCE_STATS: tuple[_Spec, ...] = (
    ("chrony_sourcestats_samples", "Samples kept for the source (NP).", lambda s: s.samples),
    (
        "chrony_sourcestats_runs",
        "Runs of residuals with the same sign after the last regression (NR).",
        lambda s: s.runs,
    ),
    (
        "chrony_sourcestats_span_seconds",
        "Interval between the oldest and the newest sample, s.",
        lambda s: s.span,
    ),
    (
        "chrony_sourcestats_stddev",
        "Estimated standard deviation of the samples, s.",
        lambda s: s.std_dev,
    ),
    (
        "chrony_sourcestats_frequency_ppms",
        "Estimated residual frequency of the source, ppm.",
        lambda s: s.resid_freq,
    ),
    (
        "chrony_sourcestats_frequency_skew_ppms",
        "Estimated error bound of that frequency, ppm.",
        lambda s: s.skew,
    ),
    ("chrony_sourcestats_offset", "Estimated offset of the source, s.", lambda s: s.offset),
)

# --- selectdata -----------------------------------------------------------------------------------


_SELECT: tuple[_Spec, ...] = (
    (
        "chrony_selectdata_authenticated",
        "1 when the source's packets are authenticated (NTS or a symmetric key).",
        lambda d: float(d.authentication),
    ),
    (
        "chrony_selectdata_leap_status",
        "Leap status the source announces: 0 normal, 1 insert, 2 delete, 3 not synchronised.",
        lambda d: d.leap_status,
    ),
    (
        "chrony_selectdata_last_sample_age_seconds",
        "Seconds since the source's last sample at the last selection (absent: none).",
        lambda d: d.last_sample_ago,
    ),
    (
        "chrony_selectdata_score",
        "The source's score relative to the selected one.",
        lambda d: d.score,
    ),
    (
        "chrony_selectdata_offset_low_seconds",
        "Lower end of the interval holding the source's true offset, s.",
        lambda d: d.low_limit,
    ),
    (
        "chrony_selectdata_offset_high_seconds",
        "Upper end of the interval holding the source's true offset, s.",
        lambda d: d.high_limit,
    ),
)

# --- authdata -------------------------------------------------------------------------------------

_AUTH: tuple[_Spec, ...] = (
    (
        "chrony_authdata_key_id",
        "The key's ID in the key file; with NTS, the successful key establishments.",
        lambda a: a.key_id,
    ),
    ("chrony_authdata_key_type", "The key's algorithm, by chrony's number.", lambda a: a.key_type),
    ("chrony_authdata_key_length_bits", "The key's length, bits.", lambda a: a.key_length),
    (
        "chrony_authdata_nts_ke_attempts",
        "NTS-KE attempts since the last successful one.",
        lambda a: a.ke_attempts,
    ),
    (
        "chrony_authdata_nts_last_ke_age_seconds",
        "Seconds since the last NTS key establishment (absent: never).",
        lambda a: a.last_ke_ago,
    ),
    (
        "chrony_authdata_nts_cookies",
        "NTS cookies held (0: a key establishment is due).",
        lambda a: a.cookies,
    ),
    (
        "chrony_authdata_nts_cookie_length_bytes",
        "Length of the NTS cookies, bytes.",
        lambda a: a.cookie_length,
    ),
    (
        "chrony_authdata_nts_nak",
        "1 when the server answered with an NTS NAK.",
        lambda a: float(a.nak),
    ),
)

# --- serverstats: ServerStats field, metric name, counter?, help ----------------------------------

_SERVER_STATS: tuple[tuple[str, str, bool, str], ...] = (
    (
        "ntp_hits",
        "chrony_serverstats_ntp_packets_received_total",
        True,
        "Valid NTP requests received.",
    ),
    (
        "cmd_hits",
        "chrony_serverstats_command_packets_received_total",
        True,
        "Command requests received.",
    ),
    (
        "ntp_drops",
        "chrony_serverstats_ntp_packets_dropped_total",
        True,
        "NTP requests dropped by rate limiting.",
    ),
    (
        "cmd_drops",
        "chrony_serverstats_command_packets_dropped_total",
        True,
        "Command requests dropped by rate limiting.",
    ),
    (
        "log_drops",
        "chrony_serverstats_client_log_records_dropped_total",
        True,
        "Client log records dropped to limit the memory use.",
    ),
    (
        "nke_hits",
        "chrony_serverstats_nts_ke_connections_accepted_total",
        True,
        "NTS-KE connections accepted.",
    ),
    (
        "nke_drops",
        "chrony_serverstats_nts_ke_connections_dropped_total",
        True,
        "NTS-KE connections dropped by rate limiting.",
    ),
    (
        "ntp_auth_hits",
        "chrony_serverstats_authenticated_ntp_packets_total",
        True,
        "NTP requests authenticated with a symmetric key or NTS.",
    ),
    (
        "ntp_interleaved_hits",
        "chrony_serverstats_interleaved_ntp_packets_total",
        True,
        "NTP requests in the interleaved mode.",
    ),
    (
        "ntp_timestamps",
        "chrony_serverstats_ntp_timestamps_held",
        False,
        "Receive and transmit timestamp pairs held for interleaved-mode clients.",
    ),
    (
        "ntp_span_seconds",
        "chrony_serverstats_ntp_timestamp_span_seconds",
        False,
        "Interval covered by the timestamps held, s.",
    ),
    *(
        (
            f"ntp_{where}_{way}_timestamps",
            f"chrony_serverstats_ntp_{where}_{way}_timestamps_total",
            True,
            f"NTP responses with a {way.upper()} timestamp captured by the {what}.",
        )
        for where, what in (("daemon", "daemon"), ("kernel", "kernel"), ("hw", "NIC"))
        for way in ("rx", "tx")
    ),
)

# --- the scrape's own metrics ---------------------------------------------------------------------

_UP = ("chrony_up", "1 when chronyd answered this scrape, 0 when it could not be asked.")
_SUCCESS = (
    "chrony_scrape_collector_success",
    "1 when the collector's reports were read, 0 when chronyd refused one or reading it failed.",
)
_DURATION = (
    "chrony_scrape_collector_duration_seconds",
    "Seconds spent reading chronyd's reports (one pipelined round for every collector).",
)


# The families are prometheus_client's Metric with its Sample tuples, built directly: what
# GaugeMetricFamily/CounterMetricFamily's add_metric would build (the same family names, types and
# samples), without their per-sample work (a scrape has about a hundred samples).


def _gauge(name: str, doc: str) -> Metric:
    return Metric(name, doc, "gauge")


def _counter(name: str, doc: str) -> Metric:
    # A counter family is named without `_total`; its sample with it (as CounterMetricFamily).
    return Metric(name.removesuffix("_total"), doc, "counter")


def _add(family: Metric, labels: dict[str, str], value: float) -> None:
    family.samples.append(Sample(family.name, labels, value))


def _gauges(specs: Iterable[_Spec]) -> list[Metric]:
    return [_gauge(name, doc) for name, doc, _ in specs]


def _fill(
    families: Sequence[Metric], specs: Sequence[_Spec], labels: dict[str, str], record: Any
) -> None:
    for family, (_, _, value) in zip(families, specs, strict=True):
        v = value(record)
        if v is not None:
            family.samples.append(Sample(family.name, labels, float(v)))


class ChronyCollector:
    """A prometheus_client collector of chronyd's reports.

    Register it on a ``CollectorRegistry`` (``registry.register(ChronyCollector())``): each
    scrape reads a snapshot of the reports the enabled ``collectors`` export, over one
    connection kept across scrapes (opened by the first; closed when chronyd could not be asked,
    so that the next scrape opens a new one and finds a restarted chronyd). Concurrent scrapes
    take turns on it. ``describe()`` lists the metrics without contacting
    chronyd, so registering it does not query chronyd. Why chronyd could not be asked is logged
    (logger ``pychrony.prometheus``: a warning once per reason, and when it answers again).

    Args:
        address: chronyd's Unix socket path or UDP command address, as :class:`ChronyConnection`
            takes it (None: the default socket paths). Over UDP chronyd refuses selectdata,
            authdata and serverstats unless its ``opencommands`` allow them.
        timeout: seconds to wait for each of chronyd's replies (default 3.0, below Prometheus's
            default scrape timeout of 10 s); a chronyd that does not answer ends the scrape
            after one timeout, with ``chrony_up 0``.
        collectors: the collectors to enable, among :data:`COLLECTORS` (default:
            :data:`DEFAULT_COLLECTORS`, all but ntpdata).

    Raises:
        TypeError, ValueError: for an argument of the wrong type or value (nothing is sent).
    """

    def __init__(
        self,
        address: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        *,
        collectors: Iterable[str] | None = None,
    ) -> None:
        self._timeout = _check_timeout(timeout)
        # The connection's own checks of the address; it opens nothing until the first scrape
        # and is kept across scrapes (ChronyConnection makes concurrent scrapes take turns).
        self._conn = ChronyConnection(address, timeout=self._timeout)
        self.collectors = _checked_collectors(
            DEFAULT_COLLECTORS if collectors is None else collectors
        )
        # Only the reports the enabled collectors export are asked for.
        self._parts = sorted({p for c in self.collectors for p in COLLECTOR_PARTS[c]})
        # Why the last scrape could not ask chronyd (None: it could), for the log.
        self._reason: str | None = None

    def close(self) -> None:
        """Closes the connection kept across scrapes (removing its socket file); the next
        scrape opens a new one."""
        self._conn.close()

    def describe(self) -> Iterator[Metric]:
        """Every metric this collector can export, without samples (chronyd is not asked)."""
        yield from self._families(None, None)

    def collect(self) -> Iterator[Metric]:
        """Reads chronyd once and yields its metrics; a chronyd error never raises here."""
        start = time.perf_counter()
        try:
            # The reports in one pipelined round; a refused part is None with its error.
            parts: Snapshot | None = self._conn.get_snapshot(parts=self._parts)
        except ChronyError as e:
            # Nothing could be read (no socket, a timeout, a chronyd gone): the next scrape
            # opens a new socket, so a restarted chronyd is found again.
            self._conn.close()
            parts = None
            self._down(e)
        else:
            self._up()
        total = time.perf_counter() - start
        for family in self._families(parts, total):
            if family.samples:
                yield family

    def _down(self, e: ChronyError) -> None:
        # chrony_up 0 says that chronyd could not be asked; the log says why, once per reason
        # (not at every scrape while chronyd stays away).
        reason = str(e)
        if reason != self._reason:
            _log.warning("chronyd could not be asked: %s", reason)
            self._reason = reason

    def _up(self) -> None:
        if self._reason is not None:
            _log.info("chronyd answers again")
            self._reason = None

    def _families(self, parts: Snapshot | None, total: float | None) -> Iterator[Metric]:
        """The metric families of the enabled collectors: empty for describe() (``total``
        None), else filled from ``parts`` (None: chronyd could not be asked) read in ``total``
        seconds."""
        on = set(self.collectors)
        tracking = parts.tracking if parts is not None else None
        sources = parts.sources if parts is not None else None
        if "tracking" in on:
            yield from _tracking_families(tracking, sources)
        if "sources" in on:
            yield from _per_source(sources, _SOURCES, lambda p: p.source, _SOURCES_INFO)
        if "ntpdata" in on:
            yield from _per_source(sources, _NTP_DATA, lambda p: p.ntp, None)
        if "sourcestats" in on:
            yield from _per_source(sources, _SOURCE_STATS, lambda p: p.stats, None)
        if "selectdata" in on:
            yield from _per_source(sources, _SELECT, lambda p: p.select, _SELECT_INFO)
        if "authdata" in on:
            yield from _per_source(sources, _AUTH, lambda p: p.auth, _AUTH_INFO)
        if "serverstats" in on:
            yield from _server_stats_families(parts.server_stats if parts is not None else None)
        up, success, duration = _gauge(*_UP), _gauge(*_SUCCESS), _gauge(*_DURATION)
        if total is not None:
            _add(up, {}, float(parts is not None))
            for name in self.collectors:
                ok = parts is not None and _succeeded(parts, name)
                _add(success, {"collector": name}, float(ok))
                # One round reads every collector's reports: each took the whole of it.
                _add(duration, {"collector": name}, total)
        yield from (up, success, duration)


def _checked_collectors(names: Iterable[str]) -> tuple[str, ...]:
    if isinstance(names, str):
        raise TypeError(f"collectors must be a list of names such as ['tracking'], not {names!r}")
    chosen = list(names)
    for name in chosen:
        if name not in COLLECTORS:
            raise ValueError(f"unknown collector {name!r}: choose among {', '.join(COLLECTORS)}")
    if not chosen:
        raise ValueError(f"collectors must name at least one of {', '.join(COLLECTORS)}")
    # The output's order, each once.
    return tuple(c for c in COLLECTORS if c in chosen)


def _succeeded(parts: Snapshot, collector: str) -> bool:
    if collector == "tracking":
        return "tracking" not in parts.errors
    if collector == "serverstats":
        return "server_stats" not in parts.errors
    if parts.sources is None:
        return False
    part = next((p for p, c in SOURCE_PARTS.items() if c == collector), None)
    return part is None or not any(part in s.errors for s in parts.sources)


def _source_labels(p: SourceSnapshot) -> dict[str, str]:
    # The configured name (sourcename), never a reverse DNS lookup; a reference clock and a
    # source whose name could not be read are named by their address, as chronyc -n names them.
    # One dict for all of the source's samples: nothing changes a sample's labels.
    address = p.source.address
    return {"source_address": address, "source_name": p.name if p.name else address}


def _tracking_families(
    t: TrackingStatus | None, sources: list[SourceSnapshot] | None
) -> Iterator[Metric]:
    info = _gauge("chrony_tracking_info", "The reference chronyd follows.")
    gauges = _gauges(_TRACKING)
    if t is not None:
        # A reference clock, the local clock and no reference have no IP: their reference ID's
        # text (what chronyc -n shows) stands for the address.
        address = t.reference_ip or t.reference_id_name
        named = {p.source.address: p.name for p in sources or [] if p.name}
        values = (address, named.get(address, address), f"{t.reference_id:08X}")
        _add(info, dict(zip(_TRACKING_INFO, values, strict=True)), 1.0)
        _fill(gauges, _TRACKING, {}, t)
    yield info
    yield from gauges


# An info metric of a per-source collector: name, help, its labels after the source's, and their
# values from the collector's record.
_Info = tuple[str, str, list[str], Callable[[Any], list[str]]]

_SOURCES_INFO: _Info = (
    "chrony_sources_state_info",
    "The source's state and mode (chrony_exporter's words).",
    ["source_state", "source_mode"],
    lambda s: [_word(_STATE_WORDS, s.state), _word(_MODE_WORDS, s.mode)],
)

_SELECT_INFO: _Info = (
    "chrony_selectdata_state_info",
    "The source's state in the last source selection (chronyc's symbol too), and its selection "
    "options as chronyc selectdata shows them (N noselect, P prefer, T trust, R require).",
    ["state", "state_symbol", "configured_options", "effective_options"],
    lambda d: [
        d.state.name.lower(),
        d.state.symbol,
        d.configured_options.text,
        d.effective_options.text,
    ],
)

_AUTH_INFO: _Info = (
    "chrony_authdata_mode_info",
    "How the source is authenticated: none, symmetric_key or nts.",
    ["mode"],
    lambda a: [a.mode.name.lower()],
)


def _per_source(
    sources: list[SourceSnapshot] | None,
    specs: Sequence[_Spec],
    record: Callable[
        [SourceSnapshot], Source | NTPData | SourceStats | SelectData | AuthData | None
    ],
    info: _Info | None,
) -> Iterator[Metric]:
    """The families of one per-source collector: its info metric (if any), then one gauge per
    spec; a source without a record of the collector's report has no samples."""
    info_family = None
    if info is not None:
        info_family = _gauge(info[0], info[1])
    gauges = _gauges(specs)
    for p in sources or []:
        r = record(p)
        if r is None:
            continue
        labels = _source_labels(p)
        if info is not None and info_family is not None:
            _add(info_family, {**labels, **dict(zip(info[2], info[3](r), strict=True))}, 1.0)
        _fill(gauges, specs, labels, r)
    if info_family is not None:
        yield info_family
    yield from gauges


def _server_stats_families(stats: ServerStats | None) -> Iterator[Metric]:
    for field, name, counter, doc in _SERVER_STATS:
        family = _counter(name, doc) if counter else _gauge(name, doc)
        # An older chronyd does not send the newer counters: no sample rather than 0.
        value = None if stats is None else getattr(stats, field)
        if value is not None:
            family.samples.append(Sample(name, {}, float(value)))
        yield family
