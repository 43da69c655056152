"""The additions' data model: every report but tracking (:class:`Source`, :class:`SourceState`,
:class:`SourceMode`, ...), with :class:`Snapshot`. Kept out of :mod:`pychrony._models` so that
``import pychrony`` does not define them: ``pychrony.Source`` and the functions returning them
import this module on first use."""

import enum
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, TypeVar

from ._errors import ChronyError
from ._models import TrackingStatus

__all__ = [
    "Activity",
    "AuthData",
    "AuthMode",
    "Client",
    "NTPData",
    "NTPMode",
    "RTCData",
    "SelectData",
    "SelectOptions",
    "SelectState",
    "ServerStats",
    "Smoothing",
    "Snapshot",
    "Source",
    "SourceMode",
    "SourceName",
    "SourceSnapshot",
    "SourceState",
    "SourceStats",
]

# --- the sources report -----------------------------------------------------------------------

_E = TypeVar("_E", bound="_WireEnum")
# Pseudo-members for values a newer chronyd may send, one object per (class, value). Kept outside
# the classes: an attribute assigned in an Enum's body would become a member.
_UNKNOWN: dict[tuple[type["_WireEnum"], int], "_WireEnum"] = {}
_UNKNOWN_LOCK = threading.Lock()


class _WireEnum(enum.IntEnum):
    """An IntEnum of a u16 field of chronyd's replies that never refuses a value of that range: an
    unknown one becomes a pseudo-member named ``UNKNOWN_<value>`` (cached, so ``is`` works), and
    ``symbol`` gives chronyc's character for it, a space."""

    @classmethod
    def _missing_(cls, value: object) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 0xFFFF:
            return None  # Enum raises ValueError
        return cls._unknown(value)

    @classmethod
    def _unknown(cls: type[_E], value: int) -> _E:
        with _UNKNOWN_LOCK:
            member = _UNKNOWN.get((cls, value))
            if member is None:
                member = int.__new__(cls, value)
                member._name_ = f"UNKNOWN_{value}"
                member._value_ = value
                _UNKNOWN[(cls, value)] = member
        assert isinstance(member, cls)
        return member

    def __reduce_ex__(self, protocol: object) -> tuple[Any, ...]:
        # By value, as Python 3.11.7+ does: 3.11.2 (Debian 12's) reduces a member by its name, and
        # an UNKNOWN_<n> pseudo-member is not an attribute of the class, so pickle and
        # copy.deepcopy (dataclasses.asdict) failed for it.
        return self.__class__, (self._value_,)

    @property
    def symbol(self) -> str:
        """chronyc's character for this value (a space for a value this version does not know)."""
        return self._symbols().get(int(self), " ")

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        raise NotImplementedError


# chronyc's characters (its `S` and `M` columns).
_STATE_SYMBOLS = {0: "*", 1: "?", 2: "x", 3: "~", 4: "+", 5: "-"}
_MODE_SYMBOLS = {0: "^", 1: "=", 2: "#"}


class SourceState(_WireEnum):
    """How chronyd uses a source at its last source selection (chronyc's ``S`` column).

    A value a newer chronyd adds is not an error: ``SourceState(9)`` is the pseudo-member
    ``SourceState.UNKNOWN_9`` (value 9, ``symbol`` a space, as chronyc shows it).
    """

    SELECTED = 0  #: ``*``: the source chronyd synchronises to
    NONSELECTABLE = 1  #: ``?``: unusable (unreachable, too few samples, ``noselect``, ...)
    FALSETICKER = 2  #: ``x``: in disagreement with the majority
    JITTERY = 3  #: ``~``: its time varies too much
    UNSELECTED = 4  #: ``+``: acceptable, combined with the selected source
    SELECTABLE = 5  #: ``-``: acceptable, not combined

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return _STATE_SYMBOLS


class SourceMode(_WireEnum):
    """What kind of source it is (chronyc's ``M`` column); unknown values as in
    :class:`SourceState` (``SourceMode(7)`` is ``SourceMode.UNKNOWN_7``)."""

    CLIENT = 0  #: ``^``: an NTP server (``server``, ``pool``)
    PEER = 1  #: ``=``: a symmetric NTP peer (``peer``)
    REFCLOCK = 2  #: ``#``: a reference clock (``refclock``)

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return _MODE_SYMBOLS


@dataclass(frozen=True)
class Source:
    """One source of chronyd's sources report: a line of ``chronyc -n sources -a``.

    The first 11 fields have pychrony 2.x's names and order; ``reference_id`` is an addition with
    a default. Offsets are in seconds, positive when the local clock is ahead of the source.

    Attributes:
        address: chronyc -n's ``Name/IP address`` column: the IP address, ``ID#NNNNNNNNNN`` for a
            source whose name is not resolved yet, or a reference clock's refid (``"GPS"``).
        poll: polling interval as a power of 2 seconds (``Poll``: -4 is 1/16 s, 6 is 64 s).
        stratum: the source's stratum (``Stratum``; 0 before its first sample and for refclocks).
        state: how chronyd uses it (``S``).
        mode: server, peer or reference clock (``M``).
        flags: chronyd's flags field (unused since chrony 4.0: 0).
        reachability: the reachability register, one bit per one of the last 8 polls
            (``Reach``, printed in octal: 377 is all 8).
        last_sample_ago: seconds since the last good sample (``LastRx``); None when there has
            been none (pychrony 2.x gave an int here, chronyd's 4294967295).
        orig_latest_meas: the last sample's offset as measured (``Last sample``, in brackets), s.
        latest_meas: the last sample's offset adjusted for slewing since
            (``Last sample``, left of the brackets), s.
        latest_meas_err: the last sample's error margin (``Last sample``, after ``+/-``), s.
        reference_id: a reference clock's refid as a number (0x47505300 for ``GPS``); None for
            other sources.
    """

    address: str
    poll: int
    stratum: int
    state: SourceState
    mode: SourceMode
    flags: int
    reachability: int
    last_sample_ago: int | None
    orig_latest_meas: float
    latest_meas: float
    latest_meas_err: float
    reference_id: int | None = None

    def is_reachable(self) -> bool:
        """True when one of the last 8 polls got a valid reply (``reachability & 0xff``)."""
        return self.reachability & 0xFF != 0

    def is_selected(self) -> bool:
        """True for the source chronyd synchronises to (state ``SELECTED``, chronyc's ``*``)."""
        return self.state == SourceState.SELECTED


# --- the activity report (an addition to the contract) --------------------------------------------


@dataclass(frozen=True)
class Activity:
    """How many of chronyd's sources are in each state of its online/offline logic (``chronyc
    activity``). All are counts of sources.

    Attributes:
        online: sources chronyd polls (``sources online``).
        offline: sources set offline (``sources offline``).
        burst_online: sources doing a burst, to return online (``doing burst (return to online)``).
        burst_offline: sources doing a burst, to return offline
            (``doing burst (return to offline)``).
        unresolved: sources whose name is not resolved yet (``sources with unknown address``).
    """

    online: int
    offline: int
    burst_online: int
    burst_offline: int
    unresolved: int


# --- the serverstats report (an addition to the contract) -----------------------------------------

#: chronyc serverstats's label of each ServerStats field, in its print order.
SERVER_STATS_LABELS = {
    "ntp_hits": "NTP packets received",
    "ntp_drops": "NTP packets dropped",
    "cmd_hits": "Command packets received",
    "cmd_drops": "Command packets dropped",
    "log_drops": "Client log records dropped",
    "nke_hits": "NTS-KE connections accepted",
    "nke_drops": "NTS-KE connections dropped",
    "ntp_auth_hits": "Authenticated NTP packets",
    "ntp_interleaved_hits": "Interleaved NTP packets",
    "ntp_timestamps": "NTP timestamps held",
    "ntp_span_seconds": "NTP timestamp span",
    "ntp_daemon_rx_timestamps": "NTP daemon RX timestamps",
    "ntp_daemon_tx_timestamps": "NTP daemon TX timestamps",
    "ntp_kernel_rx_timestamps": "NTP kernel RX timestamps",
    "ntp_kernel_tx_timestamps": "NTP kernel TX timestamps",
    "ntp_hw_rx_timestamps": "NTP hardware RX timestamps",
    "ntp_hw_tx_timestamps": "NTP hardware TX timestamps",
}


@dataclass(frozen=True)
class ServerStats:
    """chronyd's counters as an NTP and command server (``chronyc serverstats``), in chronyc's
    print order (SERVER_STATS_LABELS has chronyc's label of each). The first five are in every
    chronyd; a counter this chronyd does not send (it is older than the counter) is None.

    Attributes:
        ntp_hits: valid NTP requests received.
        ntp_drops: NTP requests dropped by rate limiting.
        cmd_hits: command requests received.
        cmd_drops: command requests dropped by rate limiting.
        log_drops: client log records dropped (clientloglimit).
        nke_hits: NTS-KE connections accepted (chrony 4.0+).
        nke_drops: NTS-KE connections dropped by rate limiting (4.0+).
        ntp_auth_hits: authenticated NTP requests (4.0+).
        ntp_interleaved_hits: interleaved-mode NTP requests (4.2+).
        ntp_timestamps: timestamp pairs held for interleaved mode, a gauge (4.2+).
        ntp_span_seconds: seconds the held timestamps cover, a gauge (4.2+).
        ntp_daemon_rx_timestamps: responses with a daemon RX timestamp (4.4+).
        ntp_daemon_tx_timestamps: responses with a daemon TX timestamp (4.4+).
        ntp_kernel_rx_timestamps: responses with a kernel RX timestamp (4.4+).
        ntp_kernel_tx_timestamps: interleaved responses with a kernel TX timestamp (4.4+).
        ntp_hw_rx_timestamps: responses with a hardware RX timestamp (4.4+).
        ntp_hw_tx_timestamps: interleaved responses with a hardware TX timestamp (4.4+).
    """

    ntp_hits: int
    ntp_drops: int
    cmd_hits: int
    cmd_drops: int
    log_drops: int
    nke_hits: int | None
    nke_drops: int | None
    ntp_auth_hits: int | None
    ntp_interleaved_hits: int | None
    ntp_timestamps: int | None
    ntp_span_seconds: int | None
    ntp_daemon_rx_timestamps: int | None
    ntp_daemon_tx_timestamps: int | None
    ntp_kernel_rx_timestamps: int | None
    ntp_kernel_tx_timestamps: int | None
    ntp_hw_rx_timestamps: int | None
    ntp_hw_tx_timestamps: int | None


# --- the sourcestats report (an addition to the contract) -----------------------------------------


@dataclass(frozen=True)
class SourceStats:
    """One source's sample statistics (a line of ``chronyc -n sourcestats -a``), from the linear
    regression chronyd fits to the source's recent samples. Fields have pychrony 2.x's names and
    order. Offsets are in seconds, positive when the local clock is ahead of the source;
    frequencies in ppm.

    Attributes:
        reference_id: the reference ID chronyd gives the source (an IPv4 server's is its address;
            a reference clock's names it: 0x47505300 is ``GPS``).
        address: chronyc -n's ``Name/IP Address`` column, as :attr:`Source.address`: the IP
            address, ``ID#NNNNNNNNNN`` for an unresolved name, or a reference clock's refid.
        samples: samples chronyd keeps for the source (``NP``).
        runs: runs of residuals with the same sign (``NR``; few runs for many samples: a bad
            fit).
        span: seconds between the oldest and the newest sample (``Span``).
        std_dev: the samples' estimated standard deviation, s (``Std Dev``).
        resid_freq: the source's residual frequency, ppm (``Frequency``).
        skew: the error bound of that frequency, ppm (``Freq Skew``).
        offset: the source's estimated offset, s (``Offset``; chronyd extrapolates it to the time
            of each request).
        offset_err: the error of that offset, s (chronyc does not print it).
    """

    reference_id: int
    address: str
    samples: int
    runs: int
    span: int
    std_dev: float
    resid_freq: float
    skew: float
    offset: float
    offset_err: float

    def has_sufficient_samples(self, minimum: int = 4) -> bool:
        """True when chronyd keeps at least ``minimum`` samples of the source (its estimates mean
        something from a few on)."""
        return self.samples >= minimum


# --- the rtcdata report (an addition to the contract) ---------------------------------------------


@dataclass(frozen=True)
class RTCData:
    """chronyd's model of the real-time clock (``chronyc rtcdata``), kept when chronyd has an
    ``rtcfile`` and RTC driver. Fields have pychrony 2.x's names and order.

    Attributes:
        ref_time: when the RTC was last measured, seconds since the Unix epoch (as
            :attr:`TrackingStatus.ref_time`; ``RTC ref time (UTC)``).
        samples: measurements kept (``Number of samples``).
        runs: runs of residuals with the same sign (``Number of runs``).
        span: seconds between the oldest and the newest measurement (``Sample span period``).
        offset: how far the RTC is ahead of the system clock, s (``RTC is fast by``).
        freq_offset: how fast the RTC gains time, ppm (``RTC gains time at``; negative: loses).
    """

    ref_time: float
    samples: int
    runs: int
    span: int
    offset: float
    freq_offset: float

    def is_calibrated(self) -> bool:
        """True once chronyd has measured the RTC at all (``samples > 0``)."""
        return self.samples > 0


# --- the sourcename report (an addition to the contract) ------------------------------------------


@dataclass(frozen=True)
class SourceName:
    """The name an NTP source was configured with (``server``, ``pool`` or ``peer`` in
    chrony.conf, or ``chronyc add``), as ``chronyc -N sources`` shows it. Reference clocks have
    none and are not listed.

    Attributes:
        address: the source, as :attr:`Source.address` gives it (an IP address, or ``ID#...`` for
            a name chronyd has not resolved yet).
        name: the name as configured, e.g. ``pool.ntp.org`` (every source from a pool has the
            pool's name), or an address as written.
    """

    address: str
    name: str


# --- the authdata report (an addition to the contract) --------------------------------------------

# chronyc's Mode column of authdata ("?": a value it does not know).
_AUTH_SYMBOLS = {0: "-", 1: "SK", 2: "NTS"}


class AuthMode(_WireEnum):
    """How a source is authenticated (chronyc's ``Mode`` column of ``authdata``); a value a newer
    chronyd adds is the pseudo-member ``AuthMode.UNKNOWN_<value>`` (``symbol`` ``?``)."""

    NONE = 0  #: ``-``: not authenticated
    SYMMETRIC_KEY = 1  #: ``SK``: a key from the key file (``key N``)
    NTS = 2  #: ``NTS``: Network Time Security

    @property
    def symbol(self) -> str:
        """chronyc's text for this mode (``?`` for a value this version does not know)."""
        return _AUTH_SYMBOLS.get(int(self), "?")

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return _AUTH_SYMBOLS


@dataclass(frozen=True)
class AuthData:
    """How one NTP source is authenticated (a line of ``chronyc authdata -a``).

    Attributes:
        address: the source's IP address (as :attr:`Source.address`; ``Name/IP address``).
        mode: :class:`AuthMode` (``Mode``).
        key_type: the key's algorithm by chrony's number, e.g. 15 AEAD-AES-SIV-CMAC-256 for NTS,
            0 for none (``Type``).
        key_id: the key's ID in the key file; with NTS the number of successful key
            establishments (``KeyID``).
        key_length: the key's length in bits (``KLen``).
        ke_attempts: NTS-KE attempts since the last success (``Atmp``).
        last_ke_ago: seconds since the last NTS key establishment, None if never (``Last``).
        cookies: NTS cookies held; 0 means a new key establishment is due (``Cook``).
        cookie_length: the cookies' length in bytes (``CLen``).
        nak: whether the server answered with an NTS NAK (``NAK``).
    """

    address: str
    mode: AuthMode
    key_type: int
    key_id: int
    key_length: int
    ke_attempts: int
    last_ke_ago: int | None
    cookies: int
    cookie_length: int
    nak: bool


# --- the smoothing report (an addition to the contract) -------------------------------------------


@dataclass(frozen=True)
class Smoothing:
    """The state of chronyd's server time smoothing (``chronyc smoothing``), kept when chronyd
    has ``smoothtime``. chronyd computes the offset, frequency and times for the moment of the
    request.

    Attributes:
        active: smoothing is being applied (``Active``).
        leap_only: only leap seconds are smoothed (``smoothtime ... leaponly``;
            ``(leap second only)``).
        offset: the offset of the smoothed time served to clients, s (positive: clients are
            ahead of true time; ``Offset``).
        freq_ppm: the frequency offset of the smoothing, ppm (``Frequency``).
        wander_ppm: the wander of the smoothing, ppm per second (``Wander``).
        last_update_ago: seconds since the smoothing was last updated (``Last update``).
        remaining_time: seconds until the smoothing ends, 0 when inactive (``Remaining time``).
    """

    active: bool
    leap_only: bool
    offset: float
    freq_ppm: float
    wander_ppm: float
    last_update_ago: float
    remaining_time: float


# --- the clients report (an addition to the contract) ---------------------------------------------


@dataclass(frozen=True)
class Client:
    """One client in chronyd's access log (a line of ``chronyc -n clients``; ``-k`` shows the
    NTS-KE columns instead of the command ones). Intervals are mean intervals in log2 seconds
    (-5 is 1/32 s), None when chronyd has no data (chronyc prints ``-``); "ago" values are whole
    seconds, None for never (chronyc prints ``-``).

    Attributes:
        address: the client's IP address (``Hostname``).
        ntp_hits: NTP packets received (``NTP``).
        nke_hits: NTS-KE connections accepted (``NTS-KE``, with ``-k``).
        cmd_hits: command packets received (``Cmd``).
        ntp_drops: NTP packets dropped by rate limiting (``Drop``).
        nke_drops: NTS-KE connections dropped (``Drop``, with ``-k``).
        cmd_drops: command packets dropped (``Drop`` after ``Cmd``).
        ntp_interval: mean interval between NTP packets (``Int``).
        nke_interval: mean interval between NTS-KE connections (``Int``, with ``-k``).
        cmd_interval: mean interval between command packets (``Int`` after ``Cmd``).
        ntp_timeout_interval: mean interval between NTP packets in rate-limit timeouts
            (``IntL``).
        last_ntp_hit_ago: seconds since the last NTP packet (``Last``).
        last_nke_hit_ago: seconds since the last NTS-KE connection (``Last``, with ``-k``).
        last_cmd_hit_ago: seconds since the last command packet (``Last`` after ``Cmd``).
    """

    address: str
    ntp_hits: int
    nke_hits: int
    cmd_hits: int
    ntp_drops: int
    nke_drops: int
    cmd_drops: int
    ntp_interval: int | None
    nke_interval: int | None
    cmd_interval: int | None
    ntp_timeout_interval: int | None
    last_ntp_hit_ago: int | None
    last_nke_hit_ago: int | None
    last_cmd_hit_ago: int | None


# --- the ntpdata report (an addition to the contract) ---------------------------------------------


class NTPMode(_WireEnum):
    """The NTP mode of a source's last packet (``chronyc ntpdata``'s ``Mode``); unknown values
    as in :class:`SourceState` (``NTPMode(0)``, before any response, is named ``UNKNOWN_0``,
    which chronyc prints as ``Invalid``)."""

    SYMMETRIC_ACTIVE = 1
    SYMMETRIC_PASSIVE = 2
    SERVER = 4

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return {}

    @property
    def text(self) -> str:
        """chronyc's word for the mode (``Invalid`` for an unknown one)."""
        return _NTP_MODE_TEXT.get(int(self), "Invalid")


_NTP_MODE_TEXT = {1: "Symmetric active", 2: "Symmetric passive", 4: "Server"}


@dataclass(frozen=True)
class NTPData:
    """chronyd's NTP measurements of one NTP source (``chronyc ntpdata ADDRESS``); times in
    seconds.

    Attributes:
        remote_address: the source's IP address (``Remote address``).
        local_address: the local address chronyd uses, None before the first response.
        remote_port: ``Remote port``.
        leap_status: the source's leap indicator, as :attr:`TrackingStatus.leap_status` (0
            normal, 1 insert, 2 delete, 3 unsynchronised; text in ``LEAP_STATUS_TEXT``).
        version, mode, stratum: of the last packet (``Version``, ``Mode``, ``Stratum``).
        poll, precision: log2 seconds (``Poll interval``, ``Precision``).
        root_delay, root_dispersion: the source's (``Root delay``, ``Root dispersion``).
        reference_id: the source's reference ID (``Reference ID``).
        ref_time: the source's reference time, seconds since the Unix epoch.
        offset, peer_delay, peer_dispersion, response_time: of the last measurement.
        jitter_asymmetry: ``Jitter asymmetry``.
        tests: chronyd's 10 packet tests in chronyc's order (``NTP tests``), True: passed.
        interleaved, authenticated: ``Interleaved``, ``Authenticated``.
        tx_timestamping, rx_timestamping: chronyc's words (``Daemon``, ``Kernel``,
            ``Hardware``, ``Invalid``).
        total_tx, total_rx, total_valid_rx, total_good_rx: packet counters.
        total_kernel_tx, total_kernel_rx, total_hw_tx, total_hw_rx: the newer counters, None
            where chronyd does not send them.
    """

    remote_address: str
    local_address: str | None
    remote_port: int
    leap_status: int
    version: int
    mode: NTPMode
    stratum: int
    poll: int
    precision: int
    root_delay: float
    root_dispersion: float
    reference_id: int
    ref_time: float
    offset: float
    peer_delay: float
    peer_dispersion: float
    response_time: float
    jitter_asymmetry: float
    tests: tuple[bool, ...]
    interleaved: bool
    authenticated: bool
    tx_timestamping: str
    rx_timestamping: str
    total_tx: int
    total_rx: int
    total_valid_rx: int
    total_good_rx: int
    total_kernel_tx: int | None
    total_kernel_rx: int | None
    total_hw_tx: int | None
    total_hw_rx: int | None

    def test_passed(self, index: int) -> bool:
        """True when chronyd's packet test ``index`` (0-9, chronyc's order) passed."""
        return 0 <= index < len(self.tests) and self.tests[index]

    def tests_text(self) -> str:
        """The tests as chronyc prints them: ``111 111 1111``."""
        bits = "".join("1" if t else "0" for t in self.tests)
        return f"{bits[:3]} {bits[3:6]} {bits[6:]}"


# --- the selectdata report (an addition to the contract) ------------------------------------------


class SelectState(_WireEnum):
    """A source's state in chronyd's last source selection (chronyc's ``S`` column of
    ``selectdata``). Each value is the code of the character chronyd sends, which is also
    ``symbol``; a character a newer chronyd adds is the pseudo-member
    ``SelectState.UNKNOWN_<code>``, its ``symbol`` that character (as chronyc prints it)."""

    IGNORED = ord("N")  #: ``N``: ignored (``noselect``)
    UNSYNCHRONISED = ord("s")  #: ``s``: the source is not synchronised
    MISSING_SAMPLES = ord("M")  #: ``M``: too few measurements
    BAD_DISTANCE = ord("d")  #: ``d``: its distance is larger than ``maxdistance``
    LARGE_DISTANCE = ord("D")  #: ``D``: too far to be combined
    JITTERY = ord("~")  #: ``~``: too variable
    WAITS_FOR_OTHERS = ord("w")  #: ``w``: waits for other sources to get out of ``M``
    MISSING_SELECTABLE = ord("W")  #: ``W``: waits for enough selectable sources
    STALE = ord("S")  #: ``S``: no sample for too long, or unreachable
    ORPHAN = ord("O")  #: ``O``: an orphan (``local orphan``)
    UNTRUSTED = ord("T")  #: ``T``: disagrees with the ``trust`` sources
    NOT_PREFERRED = ord("P")  #: ``P``: another source is preferred
    WAITS_FOR_UPDATE = ord("U")  #: ``U``: waits for a new sample of the source
    FALSETICKER = ord("x")  #: ``x``: a falseticker
    COMBINED = ord("+")  #: ``+``: combined with the selected source
    SELECTED = ord("*")  #: ``*``: the selected source
    BAD_STRATUM = ord("r")  #: ``r``: its stratum is outside ``minstratum``/``maxstratum``
    OUTLIER = ord("L")  #: ``L``: an outlier, not combined

    @property
    def symbol(self) -> str:
        """chronyc's character for this state (the character itself for one this version does
        not know)."""
        return chr(int(self))

    @classmethod
    def _symbols(cls) -> dict[int, str]:
        return {int(s): chr(int(s)) for s in cls}


# chronyc's letter for each selection option, in its column order.
_OPTION_LETTERS = ((0x1, "N"), (0x2, "P"), (0x4, "T"), (0x8, "R"))


class SelectOptions(enum.IntFlag):
    """A source's selection options (``noselect``, ``prefer``, ``trust``, ``require``), as
    configured or in effect; bits this version does not know are kept (``enum.KEEP``)."""

    NOSELECT = 0x1  #: ``N``: never selected
    PREFER = 0x2  #: ``P``: preferred over sources without it
    TRUST = 0x4  #: ``T``: assumed to have the right time
    REQUIRE = 0x8  #: ``R``: must be selectable for chronyd to update the clock

    @property
    def text(self) -> str:
        """chronyc's 5-character column: ``N``, ``P``, ``T``, ``R`` for each option set (else
        ``-``), then a fifth position that is always ``-``."""
        return "".join(c if self & bit else "-" for bit, c in _OPTION_LETTERS) + "-"


@dataclass(frozen=True)
class SelectData:
    """One source in chronyd's last source selection (a line of ``chronyc selectdata -a``).

    Attributes:
        address: the source's IP address, or a reference clock's reference ID as text (as
            :attr:`Source.address`; ``Name/IP Address``).
        reference_id: the source's reference ID.
        state: :class:`SelectState` (``S``).
        authentication: whether its packets are authenticated, NTS or a symmetric key (``Auth``).
        leap_status: the leap status the source announces (0-3, as
            :attr:`TrackingStatus.leap_status`; ``Leap``).
        configured_options: :class:`SelectOptions` as configured (``COpts``).
        effective_options: :class:`SelectOptions` in effect, e.g. ``trust`` dropped by
            ``authselectmode`` (``EOpts``).
        last_sample_ago: seconds since the source's last sample at the last selection, None if
            never (``Last``).
        score: the source's score relative to the selected source (``Score``).
        low_limit: the lower end of the interval that contains the true offset, seconds
            (``Interval``).
        high_limit: its upper end, seconds (``Interval``).
    """

    address: str
    reference_id: int
    state: SelectState
    authentication: bool
    leap_status: int
    configured_options: SelectOptions
    effective_options: SelectOptions
    last_sample_ago: int | None
    score: float
    low_limit: float
    high_limit: float


# --- the snapshot: every report at once (an addition to the contract) -----------------------------

# A snapshot without errors (one shared, read-only empty mapping; dataclasses take only a
# factory for a default that is not hashable).
_NO_ERRORS: Mapping[str, ChronyError] = MappingProxyType({})


def _no_errors() -> Mapping[str, ChronyError]:
    return _NO_ERRORS


@dataclass(frozen=True)
class SourceSnapshot:
    """One source of a :class:`Snapshot` with its records of the other per-source reports.

    A record is None either because the source has none (``ntp``, ``auth`` and ``name`` of a
    reference clock; ``ntp`` of a source whose name is not resolved yet) or because
    reading it failed: then ``errors`` holds, under the field's name, the exception that the
    single report's call would have raised (e.g. :class:`ChronyPermissionError`, code -3, for
    ``select``, ``ntp`` and ``auth`` over UDP).

    Attributes:
        source: its record of the sources report, as :func:`get_sources` gives it.
        stats: its sourcestats record (:func:`get_source_stats`).
        select: its selectdata record (:func:`get_select_data`).
        ntp: its ntpdata record (:func:`get_ntp_data`).
        auth: its authdata record (:func:`get_auth_data`).
        name: the name it was configured with (:func:`get_source_names`).
        errors: why a record is None when it is not the source's lack of one: field name
            (``"stats"``, ``"select"``, ``"ntp"``, ``"auth"``, ``"name"``) to exception; empty
            when every record was read. Read-only.
    """

    source: Source
    stats: SourceStats | None
    select: SelectData | None
    ntp: NTPData | None
    auth: AuthData | None
    name: str | None
    errors: Mapping[str, ChronyError] = field(default_factory=_no_errors)


@dataclass(frozen=True)
class Snapshot:
    """Every report chronyd serves but clients (:func:`get_clients`), read at about the same
    moment in one pipelined round (:func:`get_snapshot`).

    A part is None either because chronyd lacks it (``smoothing`` without ``smoothtime``,
    ``rtc`` without RTC tracking, as :func:`get_smoothing` and :func:`get_rtc_data` return
    None) or because chronyd refused it or reading it failed: then ``errors`` holds, under the
    field's name, the exception that the single report's call would have raised (e.g.
    :class:`ChronyPermissionError`, code -3, for ``server_stats`` over UDP).

    Attributes:
        tracking: :func:`get_tracking`'s report.
        sources: every source in chronyd's order (that of :func:`get_sources`), each with its
            other per-source records; None when the list could not be read.
        activity: :func:`get_activity`'s report.
        server_stats: :func:`get_server_stats`'s report.
        smoothing: :func:`get_smoothing`'s report.
        rtc: :func:`get_rtc_data`'s report.
        errors: why a part is None when chronyd does not simply lack it: field name
            (``"tracking"``, ``"sources"``, ``"activity"``, ``"server_stats"``, ``"smoothing"``,
            ``"rtc"``) to exception; empty when every part was read. Read-only. Each source has
            its own :attr:`SourceSnapshot.errors`.
    """

    tracking: TrackingStatus | None
    sources: list[SourceSnapshot] | None
    activity: Activity | None
    server_stats: ServerStats | None
    smoothing: Smoothing | None
    rtc: RTCData | None
    errors: Mapping[str, ChronyError] = field(default_factory=_no_errors)
