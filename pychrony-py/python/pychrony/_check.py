"""``pychrony check``: chronyd's state as a Nagios, Icinga or health-script plugin reports it.

It follows the monitoring-plugins conventions: the exit status is the verdict (0 OK, 1 WARNING,
2 CRITICAL, 3 UNKNOWN), stdout has one line, ``CHRONY STATE: text | perfdata``, and thresholds
use the plugins' range syntax (:class:`Range`). The options are check_ntp_peer's where it has
one (``-w/-c`` offset, ``-W/-C`` stratum, ``-m/-n`` usable sources, ``-q``, ``-t``).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ._api import ChronyConnection
from ._errors import ChronyError
from ._models import LEAP_STATUS_TEXT, TrackingStatus
from ._reports import AuthData, AuthMode, Source, SourceState

__all__ = [
    "CRITICAL",
    "OK",
    "UNKNOWN",
    "WARNING",
    "Range",
    "Result",
    "Thresholds",
    "Verdict",
    "add_arguments",
    "check",
    "evaluate",
    "max_error",
    "run",
    "thresholds_of",
    "unknown_line",
]

OK = 0
WARNING = 1
CRITICAL = 2
UNKNOWN = 3
STATE_NAMES = {OK: "OK", WARNING: "WARNING", CRITICAL: "CRITICAL", UNKNOWN: "UNKNOWN"}
# Which state wins when several checks disagree: a threshold crossed says more than a value the
# check could not judge.
_SEVERITY = {OK: 0, UNKNOWN: 1, WARNING: 2, CRITICAL: 3}
_STATE_BY_NAME = {"warning": WARNING, "critical": CRITICAL}

SERVICE = "CHRONY"

# check_ntp_time's defaults for the offset, in seconds.
DEFAULT_OFFSET_WARNING = "60"
DEFAULT_OFFSET_CRITICAL = "120"
# check_ntp_peer's range of strata in its perfdata.
_STRATUM_MIN, _STRATUM_MAX = 0, 16

# Sources chronyd may select: chronyc's `*`, `+` and `-` (selected, combined, not combined).
_SELECTABLE = frozenset({SourceState.SELECTED, SourceState.UNSELECTED, SourceState.SELECTABLE})

_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _decimal(x: float) -> str:
    """A number as perfdata allows it: digits, `-` and `.` (no exponent), no trailing `.0`."""
    x = float(x)
    if x.is_integer():
        return str(int(x))
    return format(Decimal(repr(x)), "f")


_FORMS = "write it as 10, 10:, ~:10, 10:20 or @10:20"


def _bad(whole: str, why: str) -> ValueError:
    return ValueError(f"bad threshold range {whole!r}: {why}; {_FORMS}")


def _number(text: str, whole: str) -> float:
    if not _NUMBER.fullmatch(text):
        raise _bad(whole, f"{text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise _bad(whole, f"{text!r} is too large")
    return value


@dataclass(frozen=True)
class Range:
    """A threshold in the monitoring-plugins syntax ``[@]start:end``, inclusive.

    ``10`` is 0 to 10; ``10:`` 10 to infinity; ``~:10`` minus infinity to 10; ``10:20``. The
    check alerts when the value is outside the range, or inside it with a leading ``@``.
    """

    start: float
    end: float
    inside: bool = False

    @classmethod
    def parse(cls, text: str) -> Range:
        """The range ``text`` stands for; ValueError (with what is wrong) for anything else."""
        inside = text.startswith("@")
        body = text[1:] if inside else text
        if body == "":
            raise _bad(text, "it is empty")
        if ":" in body:
            start_text, _, end_text = body.partition(":")
        else:
            start_text, end_text = "", body
        if start_text == "~":
            start = -math.inf
        elif start_text == "":
            start = 0.0
        else:
            start = _number(start_text, text)
        end = math.inf if end_text == "" else _number(end_text, text)
        if start > end:
            raise _bad(text, "its start is above its end")
        return cls(start, end, inside)

    def alerts(self, value: float) -> bool:
        """Whether ``value`` crosses this threshold."""
        within = self.start <= value <= self.end
        return within if self.inside else not within

    def __str__(self) -> str:
        """The range in the plugins' syntax (its shortest form), as perfdata carries it."""
        start = "~" if self.start == -math.inf else _decimal(self.start)
        end = "" if self.end == math.inf else _decimal(self.end)
        if self.start == 0.0 and end:
            body = end
        else:
            body = f"{start}:{end}"
        return ("@" if self.inside else "") + body


_OFFSET_WARNING = Range.parse(DEFAULT_OFFSET_WARNING)
_OFFSET_CRITICAL = Range.parse(DEFAULT_OFFSET_CRITICAL)


@dataclass(frozen=True)
class Thresholds:
    """What the check alerts on; None: that value is reported, never judged."""

    offset_warning: Range | None = _OFFSET_WARNING
    offset_critical: Range | None = _OFFSET_CRITICAL
    max_error_warning: Range | None = None
    max_error_critical: Range | None = None
    stratum_warning: Range | None = None
    stratum_critical: Range | None = None
    reachable_warning: Range | None = None
    reachable_critical: Range | None = None
    selectable_warning: Range | None = None
    selectable_critical: Range | None = None
    #: The state of a pending leap second (None: OK).
    leap_pending: int | None = None
    #: The state when the selected source is not authenticated with NTS (None: not checked).
    require_nts: int | None = None
    #: UNKNOWN instead of CRITICAL when chronyd is not synchronised (check_ntp_peer's -q).
    unsynchronised_unknown: bool = False


@dataclass(frozen=True)
class Result:
    """One thing the check judged: a value (with perfdata when ``unit`` is not None) or a
    condition."""

    name: str
    state: int
    #: How the status line says it.
    text: str
    value: Any
    unit: str | None = None
    warning: Range | None = None
    critical: Range | None = None
    minimum: float | None = None
    maximum: float | None = None

    def perfdata(self) -> str | None:
        """``label=value[UOM];[warn];[crit];[min];[max]``, trailing empty fields dropped; ``U``
        for a value that could not be determined."""
        if self.unit is None:
            return None
        if self.value is None:
            value = "U"
        elif self.unit == "s":
            value = f"{self.value:.9f}s"  # nanoseconds, chronyc's precision
        else:
            value = _decimal(self.value) + self.unit
        fields = [
            f"{self.name}={value}",
            "" if self.warning is None else str(self.warning),
            "" if self.critical is None else str(self.critical),
            "" if self.minimum is None else _decimal(self.minimum),
            "" if self.maximum is None else _decimal(self.maximum),
        ]
        return ";".join(fields).rstrip(";")

    def record(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "state": STATE_NAMES[self.state],
            "value": self.value,
            "unit": self.unit,
            "warning": None if self.warning is None else str(self.warning),
            "critical": None if self.critical is None else str(self.critical),
            "text": self.text,
        }


@dataclass(frozen=True)
class Verdict:
    """The check's outcome: its state (the exit status), what it says, and each result."""

    state: int
    text: str
    results: tuple[Result, ...] = ()
    tracking: TrackingStatus | None = None
    #: chronyd's error when it could not be asked (state UNKNOWN).
    error: ChronyError | None = None

    def line(self) -> str:
        """The plugin's output line: ``CHRONY STATE: text | perfdata``."""
        perf = " ".join(p for r in self.results if (p := r.perfdata()) is not None)
        head = f"{SERVICE} {STATE_NAMES[self.state]}: {self.text}"
        return f"{head} | {perf}" if perf else head

    def record(self) -> dict[str, Any]:
        """The verdict as ``--json`` prints it."""
        return {
            "state": STATE_NAMES[self.state],
            "exit_status": self.state,
            "text": self.text,
            "output": self.line(),
            "error": None if self.error is None else str(self.error),
            "checks": [r.record() for r in self.results],
            "tracking": None if self.tracking is None else dataclasses.asdict(self.tracking),
        }


def _judge(value: float, warning: Range | None, critical: Range | None) -> int:
    if critical is not None and critical.alerts(value):
        return CRITICAL
    if warning is not None and warning.alerts(value):
        return WARNING
    return OK


def _crossed(text: str, state: int, warning: Range | None, critical: Range | None) -> str:
    """The status line's words for a value, with the range it crossed."""
    crossed = {CRITICAL: critical, WARNING: warning}.get(state)
    if crossed is None:
        return text
    where = "inside" if crossed.inside else "outside"
    return f"{text} ({where} {STATE_NAMES[state].lower()} range {crossed})"


def _measure(
    name: str,
    value: float | None,
    text: str,
    warning: Range | None,
    critical: Range | None,
    *,
    unit: str = "",
    minimum: float | None = None,
    maximum: float | None = None,
) -> Result:
    state = OK if value is None else _judge(value, warning, critical)
    return Result(
        name,
        state,
        _crossed(text, state, warning, critical),
        value,
        unit,
        warning,
        critical,
        minimum,
        maximum,
    )


def max_error(status: TrackingStatus) -> float:
    """The most the clock can be off: |offset| + root dispersion + root delay / 2 (seconds)."""
    return abs(status.offset) + status.root_dispersion + status.root_delay / 2.0


def _nts_result(
    state_if_not: int, sources: Sequence[Source], auth: Sequence[AuthData] | None
) -> Result:
    selected = next((s for s in sources if s.is_selected()), None)
    if selected is None:
        return Result("nts", state_if_not, "no source selected (NTS required)", None)
    modes = {a.address: a.mode for a in auth or ()}
    uses_nts = modes.get(selected.address) == AuthMode.NTS
    if uses_nts:
        return Result("nts", OK, f"{selected.address} uses NTS", selected.address)
    return Result("nts", state_if_not, f"{selected.address} does not use NTS", selected.address)


def evaluate(
    thresholds: Thresholds,
    status: TrackingStatus,
    sources: Sequence[Source],
    auth: Sequence[AuthData] | None = None,
) -> Verdict:
    """Judge what chronyd reported (``auth``: its authdata, needed for ``require_nts``)."""
    t = thresholds
    synchronised = status.is_synchronized()
    # Without a reference chronyd's offset to true time is unknown: perfdata says `U`.
    offset = abs(status.offset) if synchronised else None
    error = max_error(status) if synchronised else None
    reachable = sum(1 for s in sources if s.is_reachable())
    selectable = sum(1 for s in sources if s.state in _SELECTABLE)
    total = float(len(sources))
    results = [
        _measure(
            "offset",
            offset,
            "offset unknown" if offset is None else f"offset {status.offset:+.9f} s",
            t.offset_warning,
            t.offset_critical,
            unit="s",
        ),
        _measure(
            "max_error",
            error,
            "maximum error unknown" if error is None else f"maximum error {error:.9f} s",
            t.max_error_warning,
            t.max_error_critical,
            unit="s",
        ),
        _measure(
            "stratum",
            status.stratum,
            f"stratum {status.stratum}",
            t.stratum_warning,
            t.stratum_critical,
            minimum=_STRATUM_MIN,
            maximum=_STRATUM_MAX,
        ),
        _measure(
            "sources_reachable",
            reachable,
            f"{reachable} of {len(sources)} sources reachable",
            t.reachable_warning,
            t.reachable_critical,
            minimum=0,
            maximum=total,
        ),
        _measure(
            "sources_selectable",
            selectable,
            f"{selectable} of {len(sources)} sources selectable",
            t.selectable_warning,
            t.selectable_critical,
            minimum=0,
            maximum=total,
        ),
    ]
    pending = status.is_leap_pending()
    leap_text = LEAP_STATUS_TEXT.get(status.leap_status, "Invalid").lower()
    results.append(
        Result(
            "leap_pending",
            t.leap_pending if pending and t.leap_pending is not None else OK,
            f"leap second pending ({leap_text})" if pending else "no leap second pending",
            pending,
        )
    )
    if t.require_nts is not None:
        results.append(_nts_result(t.require_nts, sources, auth))
    if not synchronised:
        # check_ntp_peer's rule: an unsynchronised server is CRITICAL (-q: UNKNOWN), whatever
        # the thresholds say.
        state = UNKNOWN if t.unsynchronised_unknown else CRITICAL
        return Verdict(state, "not synchronised", tuple(results), status)
    state = max((r.state for r in results), key=_SEVERITY.__getitem__)
    failed = [r.text for r in results if r.state != OK]
    if failed:
        text = ", ".join(failed)
    else:
        reference = status.reference_id_name or f"{status.reference_id:08X}"
        shown = [f"synchronised to {reference}", f"stratum {status.stratum}", results[0].text]
        shown += [r.text for r in results if r.name == "leap_pending" and r.value]
        text = ", ".join(shown)
    return Verdict(state, text, tuple(results), status)


def unknown_line(reason: str) -> str:
    """The output line of a check that could not judge (a usage error, chronyd not asked)."""
    return f"{SERVICE} UNKNOWN: {reason}"


# --- the command ----------------------------------------------------------------------------------


def _range(text: str) -> Range:
    try:
        return Range.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


#: ``pychrony check --help``'s description and epilog.
DESCRIPTION = (
    "Judge chronyd's state as a Nagios or Icinga plugin (monitoring-plugins conventions): one "
    "line `CHRONY STATE: text | perfdata` on stdout, the state as the exit status. Each RANGE "
    "is the plugins' threshold syntax: 10 alerts outside 0..10, 10: below 10, ~:10 above 10, "
    "10:20 outside 10..20, @10:20 inside 10..20 (ends included)."
)
EPILOG = (
    "Exit status: 0 OK, 1 WARNING, 2 CRITICAL (also: chronyd is not synchronised), 3 UNKNOWN "
    "(chronyd could not be asked, or a usage error; --help and --version too)."
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The check's own options (the connection options and --version are the caller's)."""
    parser.add_argument(
        "-w",
        "--warning",
        type=_range,
        default=_OFFSET_WARNING,
        metavar="RANGE",
        help="WARNING when |offset| (seconds) is outside RANGE "
        f"(default {DEFAULT_OFFSET_WARNING}, as check_ntp_time)",
    )
    parser.add_argument(
        "-c",
        "--critical",
        type=_range,
        default=_OFFSET_CRITICAL,
        metavar="RANGE",
        help=f"CRITICAL when |offset| is outside RANGE (default {DEFAULT_OFFSET_CRITICAL})",
    )
    parser.add_argument(
        "--max-error-warning",
        type=_range,
        metavar="RANGE",
        help="WARNING when the maximum error, |offset| + root dispersion + root delay / 2 "
        "(seconds), is outside RANGE",
    )
    parser.add_argument(
        "--max-error-critical",
        type=_range,
        metavar="RANGE",
        help="CRITICAL when the maximum error is outside RANGE",
    )
    parser.add_argument(
        "-W",
        "--swarn",
        type=_range,
        metavar="RANGE",
        help="WARNING when the stratum is outside RANGE",
    )
    parser.add_argument(
        "-C",
        "--scrit",
        type=_range,
        metavar="RANGE",
        help="CRITICAL when the stratum is outside RANGE",
    )
    parser.add_argument(
        "--reachable-warning",
        type=_range,
        metavar="RANGE",
        help="WARNING when the number of reachable sources is outside RANGE (e.g. 2:)",
    )
    parser.add_argument(
        "--reachable-critical",
        type=_range,
        metavar="RANGE",
        help="CRITICAL when the number of reachable sources is outside RANGE",
    )
    parser.add_argument(
        "-m",
        "--twarn",
        type=_range,
        metavar="RANGE",
        help="WARNING when the number of selectable sources (chronyc's *, + and -) is outside "
        "RANGE (e.g. 2:)",
    )
    parser.add_argument(
        "-n",
        "--tcrit",
        type=_range,
        metavar="RANGE",
        help="CRITICAL when the number of selectable sources is outside RANGE",
    )
    parser.add_argument(
        "--leap-pending",
        nargs="?",
        const="warning",
        choices=sorted(_STATE_BY_NAME),
        metavar="STATE",
        help="WARNING (or STATE: warning, critical) when a leap second is pending",
    )
    parser.add_argument(
        "--require-nts",
        nargs="?",
        const="critical",
        choices=sorted(_STATE_BY_NAME),
        metavar="STATE",
        help="CRITICAL (or STATE: warning, critical) unless the selected source is "
        "authenticated with NTS (reads authdata, which chronyd serves over its Unix socket only)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="UNKNOWN instead of CRITICAL when chronyd is not synchronised (check_ntp_peer's -q)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the verdict as one JSON object instead (same state, exit status and values)",
    )


def thresholds_of(args: argparse.Namespace) -> Thresholds:
    """The thresholds ``add_arguments``'s options gave."""
    return Thresholds(
        offset_warning=args.warning,
        offset_critical=args.critical,
        max_error_warning=args.max_error_warning,
        max_error_critical=args.max_error_critical,
        stratum_warning=args.swarn,
        stratum_critical=args.scrit,
        reachable_warning=args.reachable_warning,
        reachable_critical=args.reachable_critical,
        selectable_warning=args.twarn,
        selectable_critical=args.tcrit,
        leap_pending=None if args.leap_pending is None else _STATE_BY_NAME[args.leap_pending],
        require_nts=None if args.require_nts is None else _STATE_BY_NAME[args.require_nts],
        unsynchronised_unknown=args.quiet,
    )


def check(address: str | None, timeout: float, thresholds: Thresholds) -> Verdict:
    """Ask chronyd (one connection) and judge; UNKNOWN with chronyd's error when it cannot be
    asked."""
    try:
        with ChronyConnection(address, timeout=timeout) as conn:
            status = conn.get_tracking()
            sources = conn.get_sources()
            auth = conn.get_auth_data() if thresholds.require_nts is not None else None
    except ChronyError as exc:
        return Verdict(UNKNOWN, str(exc), error=exc)
    return evaluate(thresholds, status, sources, auth)


def run(args: argparse.Namespace) -> int:
    """``pychrony check``: print the verdict; returns its exit status."""
    verdict = check(args.socket, args.timeout, thresholds_of(args))
    print(json.dumps(verdict.record(), indent=2) if args.json else verdict.line())
    return verdict.state
