"""The ``pychrony`` command.

``pychrony tracking`` prints chronyd's tracking report as ``chronyc -n tracking`` does, or JSON.
Exit status: 0 when chronyd is synchronised, 1 when it is not, 2 on an error (message on stderr).

``pychrony sources`` prints chronyd's sources as ``chronyc -n sources -a`` does (``-v``: with
chronyc's caption), as ``chronyc -c sources -a`` does (``--csv``), or JSON. Exit status: 0, or 2 on
an error; ``-N``: configured names instead of addresses, as ``chronyc -N``. ``pychrony
sourcestats`` does the same for ``chronyc sourcestats -a``.

``pychrony rtcdata`` prints chronyd's RTC tracking as ``chronyc rtcdata`` does (``--csv``: as
``chronyc -c rtcdata``), or JSON. Exit status: 0, 1 when chronyd tracks no RTC (it prints
chronyc's ``513 RTC driver not running``, or ``null`` with ``--json``), 2 on an error.

``pychrony smoothing`` prints the state of chronyd's time smoothing as ``chronyc smoothing`` does
(``--csv``: as ``chronyc -c smoothing``), or JSON. Exit status: 0, 1 when chronyd has no
``smoothtime`` (it prints chronyc's ``505 Facility not enabled in daemon``, or ``null`` with
``--json``), 2 on an error.

``pychrony clients`` prints chronyd's client access log as ``chronyc -n clients`` does (``-k``:
the NTS-KE columns instead of the command ones; ``--csv``: as ``chronyc -c clients``), or JSON.
Exit status: 0, 1 when chronyd runs with ``noclientlog`` (it prints chronyc's ``519 Client
logging is not active in the daemon``, after the table's head as chronyc does except with
``--csv``, or ``null`` with ``--json``), 2 on an error.

``pychrony ntpdata [ADDRESS]`` prints chronyd's NTP measurements of every NTP source (or of the one
at ADDRESS) as ``chronyc -n ntpdata [ADDRESS]`` does (``--csv``: as ``chronyc -c ntpdata``), or
JSON. Exit status: 0, 1 when chronyd has no NTP source at ADDRESS (it prints chronyc's ``503 No
such source``, or ``null`` with ``--json``), 2 on an error or a malformed ADDRESS.

``pychrony snapshot`` reads every report in one pipelined round and prints, each under a heading,
what ``pychrony tracking``, ``sources``, ``sourcestats``, ``selectdata``, ``ntpdata``,
``authdata``, ``activity``, ``serverstats``, ``smoothing`` and ``rtcdata`` print (a part chronyd
refused: the error's message in its place), or one JSON object. Exit status: 0 when the snapshot
was read (even with refused parts), 2 on an error.

``pychrony check`` is of another kind: a Nagios/Icinga plugin (see ``_check``), whose exit status
is the plugin's verdict, 0 OK to 3 UNKNOWN, usage errors included.

``pychrony exporter`` serves chronyd's metrics to Prometheus at ``/metrics`` (``--listen``,
default ``127.0.0.1:9123``; ``--collectors``) until SIGTERM or Ctrl-C; it needs prometheus_client
(``pip install 'chrony-monitor[prometheus]'``) and exits 2 without it.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import ipaddress
import json
import math
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NoReturn

from . import _check
from ._api import DEFAULT_TIMEOUT, ChronyConnection, _check_timeout
from ._collectors import COLLECTORS, DEFAULT_COLLECTORS
from ._errors import ChronyError
from ._exporter import INSTALL_HINT, parse_listen, serve
from ._models import LEAP_STATUS_TEXT, TrackingStatus
from ._reports import (
    SERVER_STATS_LABELS,
    Activity,
    AuthData,
    Client,
    NTPData,
    RTCData,
    SelectData,
    ServerStats,
    Smoothing,
    Snapshot,
    Source,
    SourceMode,
    SourceName,
    SourceState,
    SourceStats,
)

__all__ = [
    "format_activity",
    "format_activity_csv",
    "format_auth_data",
    "format_auth_data_csv",
    "format_clients",
    "format_clients_csv",
    "format_ntp_data",
    "format_ntp_data_csv",
    "format_rtc_data",
    "format_rtc_data_csv",
    "format_select_data",
    "format_select_data_csv",
    "format_smoothing",
    "format_smoothing_csv",
    "format_snapshot",
    "format_sources",
    "format_sources_csv",
    "named_sources",
    "format_source_stats",
    "format_source_stats_csv",
    "format_tracking",
    "main",
    "snapshot_record",
]

EXIT_OK = 0
EXIT_SYNCHRONISED = 0
EXIT_NOT_SYNCHRONISED = 1
#: When chronyd lacks the report: no RTC tracking, no smoothtime, noclientlog, no such ntpdata
#: source.
EXIT_NO_REPORT = 1
EXIT_ERROR = 2


def _ref_time_text(ref_time: float) -> str:
    # chronyc prints the whole seconds of the reference time in UTC.
    return time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(math.floor(ref_time)))


def format_tracking(status: TrackingStatus) -> str:
    """The report in ``chronyc -n tracking``'s layout, one line per field, with a final newline.

    Signs follow chronyc (checked against chronyc 4.3): a positive current correction means the
    clock is "slow" of NTP time (zero or negative: "fast"); a positive frequency means the clock
    runs "fast" (zero or negative: "slow").
    """
    offset_dir = "slow" if status.offset > 0.0 else "fast"
    freq_dir = "fast" if status.frequency > 0.0 else "slow"
    lines = [
        f"Reference ID    : {status.reference_id:08X} ({status.reference_id_name})",
        f"Stratum         : {status.stratum}",
        f"Ref time (UTC)  : {_ref_time_text(status.ref_time)}",
        f"System time     : {abs(status.offset):.9f} seconds {offset_dir} of NTP time",
        f"Last offset     : {status.last_offset:+.9f} seconds",
        f"RMS offset      : {status.rms_offset:.9f} seconds",
        f"Frequency       : {abs(status.frequency):.3f} ppm {freq_dir}",
        f"Residual freq   : {status.residual_freq:+.3f} ppm",
        f"Skew            : {status.skew:.3f} ppm",
        f"Root delay      : {status.root_delay:.9f} seconds",
        f"Root dispersion : {status.root_dispersion:.9f} seconds",
        f"Update interval : {status.update_interval:.1f} seconds",
        f"Leap status     : {LEAP_STATUS_TEXT.get(status.leap_status, 'Invalid')}",
    ]
    return "\n".join(lines) + "\n"


# --- sources --------------------------------------------------------------------------------------

# chronyd's "never" in its seconds-ago counters (Source.last_sample_ago is None instead).
_NEVER = 0xFFFFFFFF

# chronyc 4.3's table head (with its trailing spaces), and the caption `-v` puts above it.
SOURCES_HEADER = "MS Name/IP address         Stratum Poll Reach LastRx Last sample               "
SOURCES_CAPTION = """
  .-- Source mode  '^' = server, '=' = peer, '#' = local clock.
 / .- Source state '*' = current best, '+' = combined, '-' = not combined,
| /             'x' = may be in error, '~' = too variable, '?' = unusable.
||                                                 .- xxxx [ yyyy ] +/- zzzz
||      Reachability register (octal) -.           |  xxxx = adjusted offset,
||      Log2(Polling interval) --.      |          |  yyyy = measured offset,
||                                \\     |          |  zzzz = estimated error.
||                                 |    |           \\
"""


def _ago_text(seconds: int | None) -> str:
    """chronyc's ``LastRx``: whole seconds below 1200, then minutes, hours, days or years (365
    days) rounded down, in 4 characters; ``-`` when there has been no sample."""
    if seconds is None or seconds == _NEVER:
        return "   -"
    if seconds < 1200:
        return f"{seconds:4d}"
    if seconds < 36000:
        return f"{seconds // 60:3d}m"
    if seconds < 345600:
        return f"{seconds // 3600:3d}h"
    days = seconds // 86400
    if days > 999:
        return f"{days // 365:3d}y"
    return f"{days:3d}d"


# The units of chronyc's offsets from a second up: (limit in seconds, divisor, unit).
_LONG_UNITS = (
    (99999.5 * 60, 60.0, "m"),
    (99999.5 * 3600, 3600.0, "h"),
    (99999.5 * 86400, 86400.0, "d"),
)
_YEAR = 86400.0 * 365


def _offset_text(seconds: float, *, signed: bool = False) -> str:
    """chronyc's offsets: ns, us or ms as a rounded integer (below 9999.5 of each), seconds with
    one decimal below 999.5, then whole seconds, minutes, hours, days (each below 99999.5) and
    years. Unsigned: 6 characters (a 2-letter unit after 4, a 1-letter one after 5); ``signed``:
    with a sign, 7 characters."""
    x = abs(seconds)
    value = seconds if signed else x
    sign = "+" if signed else ""
    width = 5 if signed else 4  # before a 2-letter unit; one more before a 1-letter one
    if x < 9999.5e-9:
        return f"{value * 1e9:{sign}{width}.0f}ns"
    if x < 9999.5e-6:
        return f"{value * 1e6:{sign}{width}.0f}us"
    if x < 9999.5e-3:
        return f"{value * 1e3:{sign}{width}.0f}ms"
    if x < 999.5:
        return f"{value:{sign}{width + 1}.1f}s"
    if x < 99999.5:
        return f"{value:{sign}{width + 1}.0f}s"
    for limit, divisor, unit in _LONG_UNITS:
        if x < limit:
            return f"{value / divisor:{sign}{width + 1}.0f}{unit}"
    return f"{value / _YEAR:{sign}{width + 1}.0f}y"


def _symbols(source: Source) -> tuple[str, str]:
    # SourceState(...) also accepts a plain int, for a Source built by hand.
    return SourceMode(source.mode).symbol, SourceState(source.state).symbol


def format_sources(sources: Sequence[Source], *, verbose: bool = False) -> str:
    """The sources in ``chronyc -n sources -a``'s layout (``verbose``: ``-v``'s, with the
    caption), with a final newline. Checked against chronyc 4.3 byte for byte."""
    lines = [SOURCES_CAPTION.rstrip("\n")] if verbose else []
    lines += [SOURCES_HEADER, "=" * len(SOURCES_HEADER)]
    for s in sources:
        mode, state = _symbols(s)
        lines.append(
            f"{mode}{state} {s.address:<27}  {s.stratum:2d}  {s.poll:2d}   {s.reachability:3o}  "
            f"{_ago_text(s.last_sample_ago)}  {_offset_text(s.latest_meas, signed=True)}"
            f"[{_offset_text(s.orig_latest_meas, signed=True)}] +/- "
            f"{_offset_text(s.latest_meas_err)}"
        )
    return "\n".join(lines) + "\n"


def format_sources_csv(sources: Sequence[Source]) -> str:
    """The sources as ``chronyc -c sources -a`` prints them: mode, state, name, stratum, poll,
    reachability (octal), seconds since the last sample (4294967295: none), then the adjusted
    offset, the measured offset and the error in seconds with 9 decimals; one line each."""
    lines = []
    for s in sources:
        mode, state = _symbols(s)
        ago = _NEVER if s.last_sample_ago is None else s.last_sample_ago
        lines.append(
            f"{mode},{state},{s.address},{s.stratum},{s.poll},{s.reachability:o},{ago},"
            f"{s.latest_meas:.9f},{s.orig_latest_meas:.9f},{s.latest_meas_err:.9f}"
        )
    return "".join(line + "\n" for line in lines)


def source_record(source: Source) -> dict[str, Any]:
    """One source as ``pychrony sources --json`` prints it: the dataclass's fields, with state and
    mode by name (``"SELECTED"``, ``"CLIENT"``, ``"UNKNOWN_9"``), then ``reachable`` and
    ``selected`` (the two methods)."""
    record = {f.name: getattr(source, f.name) for f in dataclasses.fields(source)}
    record["state"] = SourceState(source.state).name
    record["mode"] = SourceMode(source.mode).name
    record["reachable"] = source.is_reachable()
    record["selected"] = source.is_selected()
    return record


# --- sourcestats ----------------------------------------------------------------------------------

# chronyc 4.3's table head, and the caption `-v` puts above it.
SOURCE_STATS_HEADER = (
    "Name/IP Address            NP  NR  Span  Frequency  Freq Skew  Offset  Std Dev"
)
SOURCE_STATS_CAPTION = """\
                             .- Number of sample points in measurement set.
                            /    .- Number of residual runs with same sign.
                           |    /    .- Length of measurement set (time).
                           |   |    /      .- Est. clock freq error (ppm).
                           |   |   |      /           .- Est. error in freq.
                           |   |   |     |           /         .- Est. offset.
                           |   |   |     |          |          |   On the -.
                           |   |   |     |          |          |   samples. \\
                           |   |   |     |          |          |             |
"""


def _ppm_text(ppm: float, *, signed: bool = False) -> str:
    """chronyc's ppm columns: 3 decimals below 99999.5, else none, in 10 characters; ``signed``
    with a sign."""
    decimals = 3 if abs(ppm) < 99999.5 else 0
    return f"{ppm:{'+' if signed else ''}10.{decimals}f}"


def format_source_stats(stats: Sequence[SourceStats], *, verbose: bool = False) -> str:
    """The statistics in ``chronyc -n sourcestats -a``'s layout (``verbose``: ``-v``'s, with the
    caption), with a final newline. Checked against chronyc 4.3 byte for byte."""
    lines = [SOURCE_STATS_CAPTION.rstrip("\n")] if verbose else []
    lines += [SOURCE_STATS_HEADER, "=" * len(SOURCE_STATS_HEADER)]
    for s in stats:
        lines.append(
            f"{s.address:<25} {s.samples:3d} {s.runs:3d}  {_ago_text(s.span)} "
            f"{_ppm_text(s.resid_freq, signed=True)} {_ppm_text(s.skew)}  "
            f"{_offset_text(s.offset, signed=True)}  {_offset_text(s.std_dev)}"
        )
    return "\n".join(lines) + "\n"


def format_source_stats_csv(stats: Sequence[SourceStats]) -> str:
    """The statistics as ``chronyc -c sourcestats -a`` prints them: name, samples, runs, span
    (seconds), the residual frequency and the skew in ppm with 3 decimals, then the offset and
    the standard deviation in seconds with 9 decimals; one line each."""
    return "".join(
        f"{s.address},{s.samples},{s.runs},{s.span},{s.resid_freq:.3f},{s.skew:.3f},"
        f"{s.offset:.9f},{s.std_dev:.9f}\n"
        for s in stats
    )


def named_sources(sources: Sequence[Source], names: Sequence[SourceName]) -> list[Source]:
    """The sources with each NTP source's configured name in place of its address, as
    ``chronyc -N`` shows them; reference clocks (no name) keep their reference ID."""
    by_address = {n.address: n.name for n in names}
    return [dataclasses.replace(s, address=by_address.get(s.address, s.address)) for s in sources]


def format_activity(activity: Activity) -> str:
    """The report as ``chronyc -n activity`` prints it (its ``200 OK`` line first)."""
    return (
        "200 OK\n"
        f"{activity.online} sources online\n"
        f"{activity.offline} sources offline\n"
        f"{activity.burst_online} sources doing burst (return to online)\n"
        f"{activity.burst_offline} sources doing burst (return to offline)\n"
        f"{activity.unresolved} sources with unknown address\n"
    )


def format_activity_csv(activity: Activity) -> str:
    """The report as ``chronyc -c activity`` prints it: the 5 counts in field order."""
    return ",".join(str(v) for v in dataclasses.astuple(activity)) + "\n"


def _sent_counters(stats: ServerStats) -> list[tuple[str, int]]:
    # The counters this chronyd sent (chronyc prints 11 for a chronyd <= 4.3, 17 from 4.4).
    values = dataclasses.asdict(stats)
    return [
        (label, values[name])
        for name, label in SERVER_STATS_LABELS.items()
        if values[name] is not None
    ]


def format_server_stats(stats: ServerStats) -> str:
    """The counters as ``chronyc -n serverstats`` prints them: a label in 27 columns, ``: ``, the
    number; counters this chronyd does not send are left out."""
    return "".join(f"{label:<27}: {value}\n" for label, value in _sent_counters(stats))


def format_server_stats_csv(stats: ServerStats) -> str:
    """The counters as ``chronyc -c serverstats`` prints them, in print order."""
    return ",".join(str(value) for _, value in _sent_counters(stats)) + "\n"


# --- rtcdata --------------------------------------------------------------------------------------

#: What chronyc prints (on stdout, with or without -c) when chronyd tracks no RTC: chronyd's
#: status 513.
RTC_DISABLED_TEXT = "513 RTC driver not running\n"


def format_rtc_data(rtc: RTCData) -> str:
    """The report as ``chronyc -n rtcdata`` prints it: the reference time in UTC (whole
    seconds), the counts, the span as chronyc's intervals, the offset in seconds with 6
    decimals and the gain rate in ppm with 3."""
    return (
        f"RTC ref time (UTC) : {_ref_time_text(rtc.ref_time)}\n"
        f"Number of samples  : {rtc.samples}\n"
        f"Number of runs     : {rtc.runs}\n"
        f"Sample span period : {_ago_text(rtc.span)}\n"
        f"RTC is fast by     : {rtc.offset:12.6f} seconds\n"
        f"RTC gains time at  : {rtc.freq_offset:9.3f} ppm\n"
    )


def format_rtc_data_csv(rtc: RTCData) -> str:
    """The report as ``chronyc -c rtcdata`` prints it, in the same order. The reference time has
    9 decimals as chronyc's, but the float ``ref_time`` carries only about 0.24 µs of them."""
    return (
        f"{rtc.ref_time:.9f},{rtc.samples},{rtc.runs},{rtc.span},{rtc.offset:.6f},"
        f"{rtc.freq_offset:.3f}\n"
    )


AUTH_DATA_HEADER = "Name/IP address             Mode KeyID Type KLen Last Atmp  NAK Cook CLen"


def format_auth_data(auth: Sequence[AuthData]) -> str:
    """The sources' authentication in ``chronyc -n authdata -a``'s layout, with a final
    newline."""
    lines = [AUTH_DATA_HEADER, "=" * len(AUTH_DATA_HEADER)]
    for a in auth:
        lines.append(
            f"{a.address:<27} {a.mode.symbol:>4} {a.key_id:5d} {a.key_type:4d} {a.key_length:4d} "
            f"{_ago_text(a.last_ke_ago)} {a.ke_attempts:4d} {int(a.nak):4d} {a.cookies:4d} "
            f"{a.cookie_length:4d}"
        )
    return "\n".join(lines) + "\n"


def format_auth_data_csv(auth: Sequence[AuthData]) -> str:
    """The sources' authentication as ``chronyc -c authdata -a`` prints it: address, mode,
    key ID, type, key length, seconds since the last key establishment (4294967295: never),
    attempts, NAK (0/1), cookies, cookie length; one line each."""
    return "".join(
        f"{a.address},{a.mode.symbol},{a.key_id},{a.key_type},{a.key_length},"
        f"{_NEVER if a.last_ke_ago is None else a.last_ke_ago},{a.ke_attempts},{int(a.nak)},"
        f"{a.cookies},{a.cookie_length}\n"
        for a in auth
    )


# --- clients --------------------------------------------------------------------------------------

#: What chronyc prints (on stdout, with or without -c) when chronyd runs with ``noclientlog``:
#: chronyd's status 519.
CLIENT_LOG_INACTIVE_TEXT = "519 Client logging is not active in the daemon\n"

# chronyd's "no data" for a log2 interval (Client's intervals are None instead).
_NO_INTERVAL = 127


def _clients_header(nke: bool) -> str:
    last = "NTS-KE" if nke else "Cmd"
    return f"Hostname{' ' * 22}NTP   Drop Int IntL Last  {last:>6}   Drop Int  Last"


def _interval_text(log2: int | None) -> str:
    # chronyc's 2-character interval column: " -" when chronyd has no data.
    return " -" if log2 is None else f"{log2:2d}"


def _last_columns(client: Client, nke: bool) -> tuple[int, int, int | None, int | None]:
    # The four columns after the NTP ones: NTS-KE (chronyc's -k) or command packets.
    c = client
    if nke:
        return (c.nke_hits, c.nke_drops, c.nke_interval, c.last_nke_hit_ago)
    return (c.cmd_hits, c.cmd_drops, c.cmd_interval, c.last_cmd_hit_ago)


def format_clients(clients: Sequence[Client], *, nke: bool = False) -> str:
    """The access log in ``chronyc -n clients``'s layout (``nke``: ``-k``'s NTS-KE columns), with
    a final newline."""
    header = _clients_header(nke)
    lines = [header, "=" * len(header)]
    for c in clients:
        hits, drops, interval, last = _last_columns(c, nke)
        lines.append(
            f"{c.address:<25}  {c.ntp_hits:6d}  {c.ntp_drops:5d}  {_interval_text(c.ntp_interval)}"
            f"  {_interval_text(c.ntp_timeout_interval)}  {_ago_text(c.last_ntp_hit_ago)}"
            f"  {hits:6d}  {drops:5d}  {_interval_text(interval)}  {_ago_text(last)}"
        )
    return "\n".join(lines) + "\n"


def format_clients_csv(clients: Sequence[Client], *, nke: bool = False) -> str:
    """The access log as ``chronyc -c clients`` (``nke``: ``-k``) prints it: address, NTP hits,
    drops, interval, timeout interval (127: no data), seconds since the last NTP packet
    (4294967295: never), then the same four for command packets or NTS-KE connections."""

    def log2(v: int | None) -> int:
        return _NO_INTERVAL if v is None else v

    def ago(v: int | None) -> int:
        return _NEVER if v is None else v

    lines = []
    for c in clients:
        hits, drops, interval, last = _last_columns(c, nke)
        lines.append(
            f"{c.address},{c.ntp_hits},{c.ntp_drops},{log2(c.ntp_interval)},"
            f"{log2(c.ntp_timeout_interval)},{ago(c.last_ntp_hit_ago)},{hits},{drops},"
            f"{log2(interval)},{ago(last)}\n"
        )
    return "".join(lines)


# --- ntpdata --------------------------------------------------------------------------------------

#: What chronyc prints (on stdout, with or without -c; exit status 1) for an address chronyd has
#: no NTP source at: chronyd's status 503.
NO_SUCH_SOURCE_TEXT = "503 No such source\n"


def _ip_refid(address: str | None) -> int:
    """The reference ID chronyd gives an IP address (chronyc's ``(7F000001)`` after an address):
    an IPv4 address itself, the first 32 bits of the MD5 of an IPv6 address's 16 bytes, 0 for
    none (``[UNSPEC]``)."""
    if address is None:
        return 0
    ip = ipaddress.ip_address(address)  # the library's own text of a parsed address
    if ip.version == 4:
        return int(ip)
    digest = hashlib.md5(ip.packed, usedforsecurity=False).digest()
    return int.from_bytes(digest[:4], "big")


def _refid_text(d: NTPData) -> str:
    # chronyc names the source's reference ID only at stratum 0 or 1 (a reference clock's
    # "GPS"): its bytes that pass isprint() in the C locale, most significant first.
    if d.stratum > 1:
        return ""
    return bytes(b for b in d.reference_id.to_bytes(4, "big") if 0x20 <= b <= 0x7E).decode()


def _yes_no(flag: bool) -> str:
    return "Yes" if flag else "No"


def _ntp_lines(d: NTPData) -> list[tuple[str, str]]:
    """chronyc's lines of one source as (label, text); the newer counters only where chronyd
    sent them (4.6+)."""
    local = "[UNSPEC]" if d.local_address is None else d.local_address
    lines = [
        ("Remote address", f"{d.remote_address} ({_ip_refid(d.remote_address):08X})"),
        ("Remote port", str(d.remote_port)),
        ("Local address", f"{local} ({_ip_refid(d.local_address):08X})"),
        ("Leap status", LEAP_STATUS_TEXT.get(d.leap_status, "Invalid")),
        ("Version", str(d.version)),
        ("Mode", d.mode.text),
        ("Stratum", str(d.stratum)),
        ("Poll interval", f"{d.poll} ({2.0**d.poll:.0f} seconds)"),
        ("Precision", f"{d.precision} ({2.0**d.precision:.9f} seconds)"),
        ("Root delay", f"{d.root_delay:.6f} seconds"),
        ("Root dispersion", f"{d.root_dispersion:.6f} seconds"),
        ("Reference ID", f"{d.reference_id:08X} ({_refid_text(d)})"),
        ("Reference time", _ref_time_text(d.ref_time)),
        ("Offset", f"{d.offset:+.9f} seconds"),
        ("Peer delay", f"{d.peer_delay:.9f} seconds"),
        ("Peer dispersion", f"{d.peer_dispersion:.9f} seconds"),
        ("Response time", f"{d.response_time:.9f} seconds"),
        ("Jitter asymmetry", f"{d.jitter_asymmetry:+.2f}"),
        ("NTP tests", d.tests_text()),
        ("Interleaved", _yes_no(d.interleaved)),
        ("Authenticated", _yes_no(d.authenticated)),
        ("TX timestamping", d.tx_timestamping),
        ("RX timestamping", d.rx_timestamping),
        ("Total TX", str(d.total_tx)),
        ("Total RX", str(d.total_rx)),
        ("Total valid RX", str(d.total_valid_rx)),
        ("Total good RX", str(d.total_good_rx)),
    ]
    newer = [
        ("Total kernel TX", d.total_kernel_tx),
        ("Total kernel RX", d.total_kernel_rx),
        ("Total HW TX", d.total_hw_tx),
        ("Total HW RX", d.total_hw_rx),
    ]
    return lines + [(label, str(n)) for label, n in newer if n is not None]


def format_ntp_data(data: Sequence[NTPData], *, each_after_blank: bool = True) -> str:
    """The sources' NTP data as ``chronyc -n ntpdata`` prints it: a label in 16 columns, ``: ``,
    the value, one line each. ``each_after_blank``: a blank line before each source, as chronyc
    prints every source (``False``: one source asked for by address, without it)."""
    blocks = []
    for d in data:
        lines = [f"{label:<16}: {text}" for label, text in _ntp_lines(d)]
        blocks.append(("\n" if each_after_blank else "") + "".join(f"{line}\n" for line in lines))
    return "".join(blocks)


def format_ntp_data_csv(data: Sequence[NTPData]) -> str:
    """The sources' NTP data as ``chronyc -c ntpdata`` prints it, one line each: the addresses
    each followed by its reference ID, the poll and the precision each followed by its value in
    seconds, the reference ID's text (empty above stratum 1), the reference time and the
    measurements in seconds with 9 decimals (the reference time's digits below a microsecond are
    those of the ``float``, not chronyd's nanoseconds), the tests as three fields; 34 fields, 38
    where chronyd sent the kernel and hardware counters (4.6+)."""
    rows = []
    for d in data:
        local = "[UNSPEC]" if d.local_address is None else d.local_address
        fields = [
            d.remote_address,
            f"{_ip_refid(d.remote_address):08X}",
            str(d.remote_port),
            local,
            f"{_ip_refid(d.local_address):08X}",
            LEAP_STATUS_TEXT.get(d.leap_status, "Invalid"),
            str(d.version),
            d.mode.text,
            str(d.stratum),
            str(d.poll),
            f"{2.0**d.poll:.0f}",
            str(d.precision),
            f"{2.0**d.precision:.9f}",
            f"{d.root_delay:.6f}",
            f"{d.root_dispersion:.6f}",
            f"{d.reference_id:08X}",
            _refid_text(d),
            f"{d.ref_time:.9f}",
            f"{d.offset:.9f}",
            f"{d.peer_delay:.9f}",
            f"{d.peer_dispersion:.9f}",
            f"{d.response_time:.9f}",
            f"{d.jitter_asymmetry:.2f}",
            *d.tests_text().split(" "),
            _yes_no(d.interleaved),
            _yes_no(d.authenticated),
            d.tx_timestamping,
            d.rx_timestamping,
            *(str(n) for n in (d.total_tx, d.total_rx, d.total_valid_rx, d.total_good_rx)),
        ]
        newer = (d.total_kernel_tx, d.total_kernel_rx, d.total_hw_tx, d.total_hw_rx)
        fields += [str(n) for n in newer if n is not None]
        rows.append(",".join(fields) + "\n")
    return "".join(rows)


def ntp_data_record(d: NTPData) -> dict[str, Any]:
    """One source as ``pychrony ntpdata --json`` prints it: the NTPData fields, the mode by name
    (``"SERVER"``, ``"UNKNOWN_0"``)."""
    return {**dataclasses.asdict(d), "mode": d.mode.name}


# --- smoothing ------------------------------------------------------------------------------------

#: What chronyc prints (on stdout, with or without -c) when chronyd has no ``smoothtime``:
#: chronyd's status 505.
SELECT_DATA_HEADER = "S Name/IP Address        Auth COpts EOpts Last Score     Interval  Leap"

# chronyc's one-character leap status of selectdata ("?": not synchronised or a value it does not
# know).
_LEAP_CHARS = {0: "N", 1: "+", 2: "-"}


# The caption `-v` puts above the table: chronyc 4.9's. chronyc prints its own text, not the
# daemon's, so this is what a user of the newest chronyc sees with any chronyd; chronyc 4.3-4.8
# lack "r - stratum" (a state only newer chronyd sends) and print "update,, x".
SELECT_DATA_CAPTION = """\
  . State: N - noselect, s - unsynchronised, M - missing samples, r - stratum
 /         d/D - large distance, ~ - jittery, w/W - waits for others,
|          S - stale, O - orphan, T - not trusted, P - not preferred,
|          U - waits for update, x - falseticker, + - combined, * - best.
|   Effective options   ---------.  (N - noselect, P - prefer
|   Configured options  ----.     \\  T - trust, R - require)
|   Auth. enabled (Y/N) -.   \\     \\     Offset interval --.
|                        |    |     |                       |
"""


def format_select_data(select: Sequence[SelectData], *, verbose: bool = False) -> str:
    """The sources' selection state in ``chronyc -n selectdata -a``'s layout (``verbose``:
    ``-v``'s, with chronyc 4.9's caption), with a final newline."""
    lines = [SELECT_DATA_CAPTION.rstrip("\n")] if verbose else []
    lines += [SELECT_DATA_HEADER, "=" * len(SELECT_DATA_HEADER)]
    for d in select:
        lines.append(
            f"{d.state.symbol} {d.address:<25} {'Y' if d.authentication else 'N'} "
            f"{d.configured_options.text} {d.effective_options.text} "
            f"{_ago_text(d.last_sample_ago)} {d.score:5.1f} "
            f"{_offset_text(d.low_limit, signed=True)} {_offset_text(d.high_limit, signed=True)}"
            f"  {_LEAP_CHARS.get(d.leap_status, '?')}"
        )
    return "\n".join(lines) + "\n"


def format_select_data_csv(select: Sequence[SelectData]) -> str:
    """The sources' selection state as ``chronyc -c selectdata -a`` prints it: state, address,
    authentication (Y/N), the configured then the effective options one character a field,
    seconds since the last sample (4294967295: never), score, the interval's ends in seconds,
    the leap status in words; one line each."""
    return "".join(
        f"{d.state.symbol},{d.address},{'Y' if d.authentication else 'N'},"
        f"{','.join(d.configured_options.text)},{','.join(d.effective_options.text)},"
        f"{_NEVER if d.last_sample_ago is None else d.last_sample_ago},{d.score:.1f},"
        f"{d.low_limit:.9f},{d.high_limit:.9f},{LEAP_STATUS_TEXT.get(d.leap_status, 'Invalid')}\n"
        for d in select
    )


SMOOTHING_DISABLED_TEXT = "505 Facility not enabled in daemon\n"


def _smoothing_leap_text(smoothing: Smoothing) -> str:
    return "(leap second only)" if smoothing.leap_only else ""


def format_smoothing(smoothing: Smoothing) -> str:
    """The report as ``chronyc smoothing`` prints it: signed offset (9 decimals), frequency and
    wander (6), the times with 1."""
    active = "Yes" if smoothing.active else "No"
    return (
        f"Active         : {active} {_smoothing_leap_text(smoothing)}\n"
        f"Offset         : {smoothing.offset:+.9f} seconds\n"
        f"Frequency      : {smoothing.freq_ppm:+.6f} ppm\n"
        f"Wander         : {smoothing.wander_ppm:+.6f} ppm per second\n"
        f"Last update    : {smoothing.last_update_ago:.1f} seconds ago\n"
        f"Remaining time : {smoothing.remaining_time:.1f} seconds\n"
    )


def format_smoothing_csv(smoothing: Smoothing) -> str:
    """The report as ``chronyc -c smoothing`` prints it, in the same order."""
    active = "Yes" if smoothing.active else "No"
    return (
        f"{active},{_smoothing_leap_text(smoothing)},{smoothing.offset:.9f},"
        f"{smoothing.freq_ppm:.6f},{smoothing.wander_ppm:.6f},"
        f"{smoothing.last_update_ago:.1f},{smoothing.remaining_time:.1f}\n"
    )


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    try:
        return _check_timeout(value)  # the API's own rule, so the two never disagree
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"must be a finite number of seconds > 0 and < 2**64: {text!r}"
        ) from None


class _Parser(argparse.ArgumentParser):
    """Usage errors as one line on stderr, exit status 2 (argparse prints the whole usage).

    A ``plugin`` parser (``pychrony check``) follows the monitoring-plugins rules instead: the
    line goes to stdout as an UNKNOWN verdict (monitoring systems ignore stderr), and usage
    errors, ``--help`` and ``--version`` exit with 3 (UNKNOWN).
    """

    def __init__(self, *args: Any, plugin: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.plugin = plugin

    def error(self, message: str) -> NoReturn:
        line = f"{self.prog}: error: {message} (see `{self.prog} --help`)"
        self.exit(EXIT_ERROR, (_check.unknown_line(line) if self.plugin else line) + "\n")

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        if not self.plugin:
            super().exit(status, message)
        if message:
            sys.stdout.write(message)
        sys.exit(_check.UNKNOWN)


def _add_connection_options(
    command: argparse.ArgumentParser, timeout_flags: Sequence[str] = ("--timeout",)
) -> None:
    command.add_argument(
        "--socket",
        metavar="ADDRESS",
        help="chronyd's Unix socket path, or a UDP command port address such as 127.0.0.1:323 "
        "(default: /run/chrony/chronyd.sock, then /var/run/chrony/chronyd.sock)",
    )
    command.add_argument(
        *timeout_flags,
        dest="timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT,
        metavar="SECONDS",
        help=f"seconds to wait for chronyd's reply (default {DEFAULT_TIMEOUT:g})",
    )


# --- the commands ---------------------------------------------------------------------------------


def _fields(report: Any) -> Any:
    """A report as JSON values: a dataclass's fields, or a list of them."""
    if isinstance(report, list):
        return [_fields(r) for r in report]
    return dataclasses.asdict(report)


def _no_options(parser: argparse.ArgumentParser) -> None:
    del parser


def _always_ok(report: Any) -> int:
    del report
    return EXIT_OK


@dataclasses.dataclass(frozen=True)
class _Command:
    """One subcommand: how it reads its report through a connection, and how each output form
    prints it. Every command takes ``--json``, ``--socket`` and ``--timeout``."""

    name: str
    help: str
    #: The description of ``pychrony NAME --help``.
    description: str
    read: Callable[[ChronyConnection, argparse.Namespace], Any]
    #: chronyc's text layout.
    text: Callable[[Any, argparse.Namespace], str]
    json_help: str
    #: The JSON value of a report (not None).
    record: Callable[[Any], Any] = _fields
    #: The chronyc command whose ``-c`` output ``--csv`` prints, and how; no ``--csv`` without.
    csv_of: str | None = None
    csv: Callable[[Any, argparse.Namespace], str] | None = None
    #: What chronyc prints when chronyd lacks the report (``read`` returned None): exit 1.
    absent: Callable[[argparse.Namespace], str] | None = None
    #: The command's own options, added before the output and connection options.
    options: Callable[[argparse.ArgumentParser], None] = _no_options
    #: The exit status for a report that is there.
    status: Callable[[Any], int] = _always_ok

    def add_to(self, commands: Any) -> None:
        parser = commands.add_parser(self.name, help=self.help, description=self.description)
        self.options(parser)
        output = parser.add_mutually_exclusive_group()
        output.add_argument("--json", action="store_true", help=self.json_help)
        if self.csv_of is not None:
            output.add_argument(
                "--csv", action="store_true", help=f"print what `{self.csv_of}` prints"
            )
        _add_connection_options(parser)

    def run(self, args: argparse.Namespace) -> int:
        # The library's own address grammar: a socket path, or a UDP command port address. Not
        # entered as a context manager, which opens the socket: the first request does, after
        # the library checked its arguments (a malformed ntpdata ADDRESS sends nothing).
        conn = ChronyConnection(args.socket, timeout=args.timeout)
        try:
            report = self.read(conn, args)
        finally:
            conn.close()
        if args.json:
            print(json.dumps(None if report is None else self.record(report), indent=2))
        elif report is None:
            assert self.absent is not None, f"{self.name} has a report"
            sys.stdout.write(self.absent(args))
        elif self.csv is not None and args.csv:
            sys.stdout.write(self.csv(report, args))
        else:
            sys.stdout.write(self.text(report, args))
        return EXIT_NO_REPORT if report is None else self.status(report)


def _verbose_option(chronyc: str) -> Callable[[argparse.ArgumentParser], None]:
    def add(parser: argparse.ArgumentParser) -> None:
        parser.add_argument(
            "-v",
            dest="verbose",
            action="store_true",
            help=f"add chronyc's caption of the columns (like `{chronyc} -v`; text output only)",
        )

    return add


def _sources_options(parser: argparse.ArgumentParser) -> None:
    _verbose_option("chronyc sources")(parser)
    parser.add_argument(
        "-N",
        dest="names",
        action="store_true",
        help="show each NTP source's configured name instead of its address (like `chronyc -N`)",
    )


def _clients_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-k",
        dest="nke",
        action="store_true",
        help="show the NTS-KE columns instead of the command ones, as `chronyc clients -k`",
    )


def _read_sources(conn: ChronyConnection, args: argparse.Namespace) -> list[Source]:
    sources = conn.get_sources()
    return named_sources(sources, conn.get_source_names()) if args.names else sources


def _tracking_record(status: TrackingStatus) -> dict[str, Any]:
    return {
        **dataclasses.asdict(status),
        "synchronized": status.is_synchronized(),
        "leap_pending": status.is_leap_pending(),
    }


def _tracking_status(status: TrackingStatus) -> int:
    return EXIT_SYNCHRONISED if status.is_synchronized() else EXIT_NOT_SYNCHRONISED


class _UsageError(Exception):
    """An argument the library rejects before anything is sent: reported as argparse reports a
    usage error."""


def _ntpdata_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "address",
        nargs="?",
        metavar="ADDRESS",
        help="the source's IP address, e.g. 192.0.2.1 or 2001:db8::1 (not a name)",
    )


def _read_ntp_data(conn: ChronyConnection, args: argparse.Namespace) -> Any:
    """Every NTP source's (a list), or with ADDRESS that source's (None: no such source)."""
    if args.address is None:
        return conn.get_all_ntp_data()
    try:
        return conn.get_ntp_data(args.address)  # the library's own address check first
    except ValueError as exc:
        raise _UsageError(f"argument ADDRESS: {exc}") from None


def _each(report: Any) -> list[Any]:
    # ntpdata's report: a list, or one source's record with ADDRESS.
    return report if isinstance(report, list) else [report]


class _NoCsv(argparse.Action):
    """``snapshot --csv``: a usage error that says why (no one set of columns fits a mixed
    report)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: object) -> None:
        parser.error(
            "--csv: a snapshot mixes reports with different columns; use --json, or each "
            "report's own command with --csv"
        )


def _snapshot_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--csv", action=_NoCsv, nargs=0, help=argparse.SUPPRESS)


def _clients_absent(args: argparse.Namespace) -> str:
    # chronyc prints the table's head before it asks (not with -c), then chronyd's refusal.
    head = "" if args.csv else format_clients([], nke=args.nke)
    return head + CLIENT_LOG_INACTIVE_TEXT


_UNIX_ONLY = "(chronyd serves it over its Unix socket only)"
_EXIT = "Exit status: 0, or 2 on an error."

_COMMANDS = (
    _Command(
        "tracking",
        help="print the tracking report (like `chronyc -n tracking`)",
        description="Print chronyd's tracking report, like `chronyc -n tracking`.",
        read=lambda conn, args: conn.get_tracking(),
        text=lambda status, args: format_tracking(status),
        json_help="print one JSON object",
        record=_tracking_record,
        status=_tracking_status,
    ),
    _Command(
        "sources",
        help="print the time sources (like `chronyc -n sources -a`)",
        description="Print chronyd's time sources, like `chronyc -n sources -a` (unresolved "
        f"sources included). {_EXIT}",
        read=_read_sources,
        text=lambda sources, args: format_sources(sources, verbose=args.verbose),
        json_help="print a JSON list of objects (the Source fields; state and mode by name)",
        record=lambda sources: [source_record(s) for s in sources],
        csv_of="chronyc -c sources -a",
        csv=lambda sources, args: format_sources_csv(sources),
        options=_sources_options,
    ),
    _Command(
        "sourcestats",
        help="print the sources' sample statistics (like `chronyc -n sourcestats -a`)",
        description="Print chronyd's statistics of each source's samples, like `chronyc -n "
        f"sourcestats -a` (unresolved sources included). {_EXIT}",
        read=lambda conn, args: conn.get_source_stats(),
        text=lambda stats, args: format_source_stats(stats, verbose=args.verbose),
        json_help="print a JSON list of objects (the SourceStats fields)",
        csv_of="chronyc -c sourcestats -a",
        csv=lambda stats, args: format_source_stats_csv(stats),
        options=_verbose_option("chronyc sourcestats"),
    ),
    _Command(
        "activity",
        help="print how many sources are online/offline (like `chronyc -n activity`)",
        description=f"Print chronyd's activity report, like `chronyc -n activity`. {_EXIT}",
        read=lambda conn, args: conn.get_activity(),
        text=lambda activity, args: format_activity(activity),
        json_help="print one JSON object (the Activity fields)",
        csv_of="chronyc -c activity",
        csv=lambda activity, args: format_activity_csv(activity),
    ),
    _Command(
        "serverstats",
        help="print the server counters (like `chronyc -n serverstats`)",
        description=f"Print chronyd's server counters, like `chronyc -n serverstats`. {_EXIT}",
        read=lambda conn, args: conn.get_server_stats(),
        text=lambda stats, args: format_server_stats(stats),
        json_help="print one JSON object (the ServerStats fields; null: not sent by this chronyd)",
        csv_of="chronyc -c serverstats",
        csv=lambda stats, args: format_server_stats_csv(stats),
    ),
    _Command(
        "rtcdata",
        help="print the real-time clock's tracking (like `chronyc -n rtcdata`)",
        description="Print chronyd's tracking of the real-time clock, like `chronyc -n rtcdata`. "
        "Exit status: 0, 1 when chronyd tracks no RTC (chronyc's `513 RTC driver not running` "
        "is printed; JSON: null), or 2 on an error.",
        read=lambda conn, args: conn.get_rtc_data(),
        text=lambda rtc, args: format_rtc_data(rtc),
        json_help='print one JSON object (the RTCData fields and "calibrated"), or null',
        record=lambda rtc: {**dataclasses.asdict(rtc), "calibrated": rtc.is_calibrated()},
        csv_of="chronyc -c rtcdata",
        csv=lambda rtc, args: format_rtc_data_csv(rtc),
        absent=lambda args: RTC_DISABLED_TEXT,
    ),
    _Command(
        "authdata",
        help="print how the sources are authenticated (like `chronyc -n authdata -a`)",
        description="Print how chronyd's NTP sources are authenticated, like `chronyc -n "
        f"authdata -a` {_UNIX_ONLY}. {_EXIT}",
        read=lambda conn, args: conn.get_auth_data(),
        text=lambda auth, args: format_auth_data(auth),
        json_help="print a JSON list of objects (the AuthData fields; mode by name)",
        record=lambda auth: [{**dataclasses.asdict(a), "mode": a.mode.name} for a in auth],
        csv_of="chronyc -c authdata -a",
        csv=lambda auth, args: format_auth_data_csv(auth),
    ),
    _Command(
        "smoothing",
        help="print the state of the server time smoothing (like `chronyc smoothing`)",
        description="Print the state of chronyd's server time smoothing, like `chronyc "
        "smoothing`. Exit status: 0, 1 when chronyd has no smoothtime (chronyc's `505 Facility "
        "not enabled in daemon` is printed; JSON: null), or 2 on an error.",
        read=lambda conn, args: conn.get_smoothing(),
        text=lambda smoothing, args: format_smoothing(smoothing),
        json_help="print one JSON object (the Smoothing fields), or null",
        csv_of="chronyc -c smoothing",
        csv=lambda smoothing, args: format_smoothing_csv(smoothing),
        absent=lambda args: SMOOTHING_DISABLED_TEXT,
    ),
    _Command(
        "clients",
        help="print chronyd's client access log (like `chronyc -n clients`)",
        description="Print chronyd's client access log, like `chronyc -n clients` "
        f"{_UNIX_ONLY}. Exit status: 0, 1 when chronyd runs with noclientlog (chronyc's `519 "
        "Client logging is not active in the daemon` is printed; JSON: null), or 2 on an error.",
        read=lambda conn, args: conn.get_clients(),
        text=lambda clients, args: format_clients(clients, nke=args.nke),
        json_help="print a JSON list of objects (the Client fields, all columns), or null",
        csv_of="chronyc -c clients",
        csv=lambda clients, args: format_clients_csv(clients, nke=args.nke),
        absent=_clients_absent,
        options=_clients_options,
    ),
    _Command(
        "selectdata",
        help="print why each source is or is not selected (like `chronyc -n selectdata -a`)",
        description="Print the state of each of chronyd's sources in its last source selection, "
        f"like `chronyc -n selectdata -a` {_UNIX_ONLY}. {_EXIT}",
        read=lambda conn, args: conn.get_select_data(),
        text=lambda select, args: format_select_data(select, verbose=args.verbose),
        json_help="print a JSON list of objects (the SelectData fields; state by name, options "
        "as chronyd's bits)",
        record=lambda select: [{**dataclasses.asdict(d), "state": d.state.name} for d in select],
        csv_of="chronyc -c selectdata -a",
        csv=lambda select, args: format_select_data_csv(select),
        options=_verbose_option("chronyc selectdata"),
    ),
    _Command(
        "ntpdata",
        help="print the NTP measurements of the NTP sources (like `chronyc -n ntpdata`)",
        description="Print chronyd's NTP measurements of every NTP source with an address, or of "
        f"the one at ADDRESS, like `chronyc -n ntpdata [ADDRESS]` {_UNIX_ONLY}. Exit status: 0, "
        "1 when chronyd has no NTP source at ADDRESS (chronyc's `503 No such source` is printed; "
        "JSON: null), or 2 on an error.",
        read=_read_ntp_data,
        text=lambda data, args: format_ntp_data(_each(data), each_after_blank=args.address is None),
        json_help="print a JSON list of objects (the NTPData fields; mode by name), or with "
        "ADDRESS one object or null",
        record=lambda data: (
            [ntp_data_record(d) for d in data] if isinstance(data, list) else ntp_data_record(data)
        ),
        csv_of="chronyc -c ntpdata [ADDRESS]",
        csv=lambda data, args: format_ntp_data_csv(_each(data)),
        absent=lambda args: NO_SUCH_SOURCE_TEXT,
        options=_ntpdata_options,
    ),
    _Command(
        "snapshot",
        help="print every report at once, read in one pipelined round",
        description="Read every report in one pipelined round and print, each under a heading, "
        "what `pychrony tracking`, `sources`, `sourcestats`, `selectdata`, `ntpdata`, "
        "`authdata`, `activity`, `serverstats`, `smoothing` and `rtcdata` print (like `chronyc "
        "-n`); a part chronyd refuses (over UDP: serverstats, selectdata, ntpdata, authdata) "
        "shows why instead. "
        "Exit status: 0 when the snapshot was read, or 2 on an error.",
        read=lambda conn, args: conn.get_snapshot(),
        text=lambda snapshot, args: format_snapshot(snapshot),
        json_help="print one JSON object: each report as its command's --json prints it, each "
        'source with its records, and "errors" for the parts chronyd refused',
        record=lambda snapshot: snapshot_record(snapshot),
        options=_snapshot_options,
    ),
)


def _command(name: str) -> _Command:
    return next(c for c in _COMMANDS if c.name == name)


# --- snapshot -------------------------------------------------------------------------------------

# The options of each report's command as a snapshot prints it: none (chronyc -n's plain layout).
_PLAIN = argparse.Namespace(
    verbose=False, names=False, nke=False, address=None, csv=False, json=False
)


@dataclasses.dataclass(frozen=True)
class _Section:
    """A section of ``pychrony snapshot``: the command whose text and JSON it reuses, and the
    field that holds its report (a SourceSnapshot's for a per-source one)."""

    command: str
    part: str
    per_source: bool = False


_SECTIONS = (
    _Section("tracking", "tracking"),
    _Section("sources", "source", per_source=True),
    _Section("sourcestats", "stats", per_source=True),
    _Section("selectdata", "select", per_source=True),
    _Section("ntpdata", "ntp", per_source=True),
    _Section("authdata", "auth", per_source=True),
    _Section("activity", "activity"),
    _Section("serverstats", "server_stats"),
    _Section("smoothing", "smoothing"),
    _Section("rtcdata", "rtc"),
)


def _failed_text(errors: Sequence[ChronyError]) -> str:
    # Why a part is missing, once per distinct message (every source's selectdata is refused the
    # same way over UDP).
    return "".join(dict.fromkeys(f"pychrony: {exc}\n" for exc in errors))


def _section_text(section: _Section, snapshot: Snapshot) -> str:
    """The section's command's text of its part; chronyc's words when chronyd lacks it; why it
    failed. A per-source part: the table of the sources that have a record, then why the others'
    failed (only that when none has one)."""
    command = _command(section.command)
    if not section.per_source:
        value = getattr(snapshot, section.part)
        if value is not None:
            return command.text(value, _PLAIN)
        if section.part in snapshot.errors:
            return _failed_text([snapshot.errors[section.part]])
        assert command.absent is not None, f"{section.part} is None without an error"
        return command.absent(_PLAIN)
    if snapshot.sources is None:
        return _failed_text([snapshot.errors["sources"]])
    records = [getattr(s, section.part) for s in snapshot.sources]
    failed = [s.errors[section.part] for s in snapshot.sources if section.part in s.errors]
    present = [r for r in records if r is not None]
    table = command.text(present, _PLAIN) if present or not failed else ""
    return table + _failed_text(failed)


def format_snapshot(snapshot: Snapshot) -> str:
    """The snapshot as ``pychrony snapshot`` prints it: for each of tracking, sources,
    sourcestats, selectdata, ntpdata, authdata, activity, serverstats, smoothing and rtcdata, a
    heading ``=== <command> ===`` then what that ``pychrony`` command (and ``chronyc -n``) prints
    for it; sections are separated by an empty line. A part chronyd refused shows the error's
    message instead."""
    return "\n".join(
        f"=== {section.command} ===\n" + _section_text(section, snapshot) for section in _SECTIONS
    )


def _errors_record(errors: Mapping[str, ChronyError]) -> dict[str, Any]:
    return {
        name: {"error": type(exc).__name__, "error_code": exc.error_code, "message": exc.message}
        for name, exc in errors.items()
    }


def _one_record(command: str, value: Any) -> Any:
    # One record of a list report as that command's --json lists it.
    return None if value is None else _command(command).record([value])[0]


def _whole_record(snapshot: Snapshot, part: str) -> Any:
    # A whole-daemon part as its section's command's --json prints it.
    command = next(s.command for s in _SECTIONS if s.part == part and not s.per_source)
    value = getattr(snapshot, part)
    return None if value is None else _command(command).record(value)


def snapshot_record(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot as ``pychrony snapshot --json`` prints it, in :class:`Snapshot`'s field
    order: each part as its own command's ``--json`` prints it (null: absent), each source as
    ``{"source", "stats", "select", "ntp", "auth", "name", "errors"}``, and ``errors``: for each
    part read without success, the exception's class name, ``error_code`` and ``message``."""
    sources = None
    if snapshot.sources is not None:
        sources = [
            {
                "source": _one_record("sources", s.source),
                "stats": _one_record("sourcestats", s.stats),
                "select": _one_record("selectdata", s.select),
                "ntp": _one_record("ntpdata", s.ntp),
                "auth": _one_record("authdata", s.auth),
                "name": s.name,
                "errors": _errors_record(s.errors),
            }
            for s in snapshot.sources
        ]
    return {
        "tracking": _whole_record(snapshot, "tracking"),
        "sources": sources,
        "activity": _whole_record(snapshot, "activity"),
        "server_stats": _whole_record(snapshot, "server_stats"),
        "smoothing": _whole_record(snapshot, "smoothing"),
        "rtc": _whole_record(snapshot, "rtc"),
        "errors": _errors_record(snapshot.errors),
    }


# The plugin-style command; not a report command of _COMMANDS.
_CHECK = "check"


def _add_check(commands: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(
        _CHECK,
        plugin=True,
        help="judge chronyd's state as a Nagios/Icinga plugin (exit status 0-3, perfdata)",
        description=_check.DESCRIPTION,
        epilog=_check.EPILOG,
    )
    _check.add_arguments(parser)
    _add_connection_options(parser, timeout_flags=("-t", "--timeout"))
    parser.add_argument(
        "-V", "--version", action="version", version=f"%(prog)s {_package_version()}"
    )
    return parser


def _package_version() -> str:
    from . import __version__

    return __version__


# --- the exporter: a service, not a report -------------------------------------------------------


def _listen_address(text: str) -> tuple[str, int]:
    try:
        return parse_listen(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _collector_names(text: str) -> tuple[str, ...]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    unknown = [n for n in names if n not in COLLECTORS]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"{text!r}: give a comma-separated list of {', '.join(COLLECTORS)}"
        )
    return tuple(names)


def _add_exporter(commands: Any) -> None:
    parser = commands.add_parser(
        "exporter",
        help="serve chronyd's metrics to Prometheus (needs prometheus_client)",
        description="Serve chronyd's reports as Prometheus metrics at /metrics, under "
        "chrony_exporter's names plus pychrony's additions (see the user guide). chronyd is read "
        "once per scrape; a report it refuses sets chrony_scrape_collector_success{collector} to "
        "0 and costs only that collector's metrics. Runs until SIGTERM or Ctrl-C (exit 0); "
        f"exit 2 on an error, or when prometheus_client is missing ({INSTALL_HINT}).",
    )
    parser.add_argument(
        "--listen",
        type=_listen_address,
        default=("127.0.0.1", 9123),
        metavar="HOST:PORT",
        help="where to serve HTTP (default 127.0.0.1:9123; [::1]:9123 for IPv6; port 0: any "
        "free one, printed on stdout)",
    )
    parser.add_argument(
        "--collectors",
        type=_collector_names,
        default=DEFAULT_COLLECTORS,
        metavar="NAMES",
        help=f"the collectors to enable, comma-separated, among {','.join(COLLECTORS)} (default: "
        "all but ntpdata)",
    )
    _add_connection_options(parser)


def _run_exporter(args: argparse.Namespace) -> int:
    try:
        return serve(args.listen, args.socket, args.timeout, args.collectors)
    except ModuleNotFoundError as exc:
        if exc.name != "prometheus_client":
            raise
        print(f"pychrony: the exporter needs prometheus_client: {INSTALL_HINT}.", file=sys.stderr)
    except OSError as exc:
        host, port = args.listen
        print(
            f"pychrony: cannot listen on {host} port {port} ({exc.strerror or exc}): choose "
            "another --listen address.",
            file=sys.stderr,
        )
    return EXIT_ERROR


def _parser() -> tuple[argparse.ArgumentParser, argparse.ArgumentParser]:
    """The command's parser, and check's (whose usage errors are its own)."""
    parser = _Parser(
        prog="pychrony",
        description="Read chronyd's monitoring data.",
        epilog="Exit status: 0 ok (for tracking: synchronised), 1 not synchronised (tracking) or "
        "no RTC tracking (rtcdata), no smoothing (smoothing), no client log (clients) or no "
        "such source (ntpdata ADDRESS), 2 error; check: the plugin's 0 OK, 1 WARNING, "
        "2 CRITICAL, 3 UNKNOWN.",
    )
    commands = parser.add_subparsers(
        dest="command", metavar="COMMAND", required=True, parser_class=_Parser
    )
    for command in _COMMANDS:
        command.add_to(commands)
    _add_exporter(commands)
    return parser, _add_check(commands)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the tool; returns the exit status."""
    parser, check_parser = _parser()
    args, unknown = parser.parse_known_args(argv)
    if unknown:
        # argparse reports a subcommand's unknown arguments through the main parser: check's
        # must be UNKNOWN (3) like its other usage errors.
        chosen = check_parser if args.command == _CHECK else parser
        chosen.error(f"unrecognized arguments: {' '.join(unknown)}")
    if args.command == _CHECK:
        try:
            return _check.run(args)
        except KeyboardInterrupt:
            return 130
    if args.command == "exporter":
        return _run_exporter(args)
    command = next(c for c in _COMMANDS if c.name == args.command)
    try:
        return command.run(args)
    except _UsageError as exc:
        # As the subcommand's parser words its own usage errors.
        prog = f"{parser.prog} {args.command}"
        parser.exit(EXIT_ERROR, f"{prog}: error: {exc} (see `{prog} --help`)\n")
    except ChronyError as exc:
        print(f"pychrony: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
