# Hand-written stub of the pyo3 module pychrony._native (src/*.rs); checked by
# `python -m mypy.stubtest pychrony._native`. Private: use the pychrony package instead.
from typing import Any, Literal, TypeVar, final

from pychrony._errors import ChronyError

__all__ = [
    "AsyncConnection",
    "Call",
    "Connection",
    "get_auth_data",
    "get_activity",
    "get_clients",
    "get_all_ntp_data",
    "get_ntp_data",
    "get_rtc_data",
    "get_select_data",
    "get_smoothing",
    "get_snapshot",
    "get_server_stats",
    "get_source_names",
    "get_source_stats",
    "get_sources",
    "get_tracking",
]

# The tracking report is returned as a `record` (pychrony.TrackingStatus) built without its
# __init__: its 15 `fields` (pychrony._build.field_names) set to (reference_id,
# reference_id_name, stratum, leap_status, offset, last_offset, rms_offset, frequency,
# residual_freq, skew, root_delay, root_dispersion, update_interval, reference_ip, ref_time).
_R = TypeVar("_R")

# The same 15 values as a tuple, in that order: a snapshot's tracking part.
_Tracking = tuple[
    int, str, int, int, float, float, float, float, float, float, float, float, float, str, float
]

# (address, poll, stratum, state, mode, flags, reachability, last_sample_ago, orig_latest_meas,
#  latest_meas, latest_meas_err, reference_id): the field order of pychrony.Source, with state
#  and mode as chronyd's numbers.
_Source = tuple[str, int, int, int, int, int, int, int | None, float, float, float, int | None]

def get_tracking(
    socket_path: str | None, timeout: float, record: type[_R], fields: tuple[str, ...]
) -> _R: ...

# (online, offline, burst_online, burst_offline, unresolved)
_Activity = tuple[int, int, int, int, int]

def get_activity(socket_path: str | None, timeout: float) -> _Activity: ...

# pychrony.ServerStats's 17 counters: 5 ints, then 12 that a chronyd older than them does not send
_ServerStats = tuple[
    int,
    int,
    int,
    int,
    int,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
]

def get_server_stats(socket_path: str | None, timeout: float) -> _ServerStats: ...

# (ref_time, samples, runs, span, offset, freq_offset): the field order of pychrony.RTCData.
_RTCData = tuple[float, int, int, int, float, float]

# None: chronyd tracks no RTC.
def get_rtc_data(socket_path: str | None, timeout: float) -> _RTCData | None: ...

# (active, leap_only, offset, freq_ppm, wander_ppm, last_update_ago, remaining_time): the field
# order of pychrony.Smoothing.
_Smoothing = tuple[bool, bool, float, float, float, float, float]

# None: chronyd has no smoothtime.
def get_smoothing(socket_path: str | None, timeout: float) -> _Smoothing | None: ...

# The field order of pychrony.NTPData; the mode is its wire value.
_NTPData = tuple[
    str,
    str | None,
    int,
    int,
    int,
    int,
    int,
    int,
    int,
    float,
    float,
    int,
    float,
    float,
    float,
    float,
    float,
    float,
    tuple[bool, ...],
    bool,
    bool,
    str,
    str,
    int,
    int,
    int,
    int,
    int | None,
    int | None,
    int | None,
    int | None,
]

# None: chronyd has no NTP source at address.
def get_ntp_data(socket_path: str | None, timeout: float, address: str) -> _NTPData | None: ...
def get_all_ntp_data(socket_path: str | None, timeout: float) -> list[_NTPData]: ...
def get_sources(socket_path: str | None, timeout: float) -> list[_Source]: ...

# (reference_id, address, samples, runs, span, std_dev, resid_freq, skew, offset, offset_err):
#  the field order of pychrony.SourceStats.
_SourceStats = tuple[int, str, int, int, int, float, float, float, float, float]

def get_source_stats(socket_path: str | None, timeout: float) -> list[_SourceStats]: ...

# (address, mode, key_type, key_id, key_length, ke_attempts, last_ke_ago, cookies, cookie_length,
#  nak): the field order of pychrony.AuthData (mode: chronyd's number).
_AuthData = tuple[str, int, int, int, int, int, int | None, int, int, bool]

def get_auth_data(socket_path: str | None, timeout: float) -> list[_AuthData]: ...

# (address, reference_id, state, authentication, leap_status, configured_options,
#  effective_options, last_sample_ago, score, low_limit, high_limit): the field order of
#  pychrony.SelectData (state: its character's code; options: chronyd's bits).
_SelectData = tuple[str, int, int, bool, int, int, int, int | None, float, float, float]

def get_select_data(socket_path: str | None, timeout: float) -> list[_SelectData]: ...

# (address, ntp_hits, nke_hits, cmd_hits, ntp_drops, nke_drops, cmd_drops, ntp_interval,
#  nke_interval, cmd_interval, ntp_timeout_interval, last_ntp_hit_ago, last_nke_hit_ago,
#  last_cmd_hit_ago): the field order of pychrony.Client.
_Client = tuple[
    str,
    int,
    int,
    int,
    int,
    int,
    int,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
    int | None,
]

# None: chronyd has noclientlog.
def get_clients(socket_path: str | None, timeout: float) -> list[_Client] | None: ...

# (address, name): the field order of pychrony.SourceName.
_SourceName = tuple[str, str]

def get_source_names(socket_path: str | None, timeout: float) -> list[_SourceName]: ...

# A source of a snapshot: (source, stats, select, ntp, auth, name), each after the first either
# its report's value (ntp, auth, name: None where the source has none) or the exception, not
# raised, that the single report's call would raise; every part after the first None too when
# not asked for (``parts``).
_SourceSnapshot = tuple[
    _Source,
    _SourceStats | ChronyError | None,
    _SelectData | ChronyError | None,
    _NTPData | ChronyError | None,
    _AuthData | ChronyError | None,
    str | ChronyError | None,
]

# (tracking, activity, server_stats, smoothing, rtc, sources), each part as above (smoothing,
# rtc: None when chronyd lacks them; any part None when not asked for).
_Snapshot = tuple[
    _Tracking | ChronyError | None,
    _Activity | ChronyError | None,
    _ServerStats | ChronyError | None,
    _Smoothing | ChronyError | None,
    _RTCData | ChronyError | None,
    list[_SourceSnapshot] | ChronyError | None,
]

# ``parts``: the names of the parts to read (pychrony checks them first), None for all.
def get_snapshot(
    socket_path: str | None, timeout: float, parts: list[str] | None = None
) -> _Snapshot: ...

@final
class Connection:
    def __new__(cls, address: str | None, timeout: float) -> Connection: ...
    def open(self) -> None: ...
    def tracking(self, record: type[_R], fields: tuple[str, ...]) -> _R: ...
    def activity(self) -> _Activity: ...
    def server_stats(self) -> _ServerStats: ...
    def sources(self) -> list[_Source]: ...
    def source_stats(self) -> list[_SourceStats]: ...
    def source_names(self) -> list[_SourceName]: ...
    def auth_data(self) -> list[_AuthData]: ...
    def select_data(self) -> list[_SelectData]: ...
    def rtc_data(self) -> _RTCData | None: ...
    def smoothing(self) -> _Smoothing | None: ...
    def clients(self) -> list[_Client] | None: ...
    def ntp_data(self, address: str) -> _NTPData | None: ...
    def all_ntp_data(self) -> list[_NTPData]: ...
    def snapshot(self, parts: list[str] | None = None) -> _Snapshot: ...
    def close(self) -> None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def transport(self) -> Literal["unix", "udp"] | None: ...
    @property
    def closed(self) -> bool: ...

# A report's read in flight for pychrony.aio: step() at first, then whenever fd() is readable or
# delay() seconds have passed, until it returns True; then result() gives what the matching
# Connection method returns (the tracking record, a tuple, a list of tuples) or raises its error.
@final
class Call:
    def step(self) -> bool: ...
    def fd(self) -> int | None: ...
    def replaced_sockets(self) -> int: ...
    def delay(self) -> float | None: ...
    def result(self) -> Any: ...
    def cancel(self) -> None: ...

# Connection's reports as Calls; the Call of each method gives what Connection's gives.
@final
class AsyncConnection:
    def __new__(cls, address: str | None, timeout: float) -> AsyncConnection: ...
    def open(self) -> None: ...
    def tracking(self, record: type[Any], fields: tuple[str, ...]) -> Call: ...
    def activity(self) -> Call: ...
    def server_stats(self) -> Call: ...
    def sources(self) -> Call: ...
    def source_stats(self) -> Call: ...
    def source_names(self) -> Call: ...
    def auth_data(self) -> Call: ...
    def select_data(self) -> Call: ...
    def rtc_data(self) -> Call: ...
    def smoothing(self) -> Call: ...
    def clients(self) -> Call: ...
    def ntp_data(self, address: str) -> Call: ...
    def all_ntp_data(self) -> Call: ...
    def snapshot(self, parts: list[str] | None = None) -> Call: ...
    def close(self) -> None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def transport(self) -> Literal["unix", "udp"] | None: ...
    @property
    def closed(self) -> bool: ...
