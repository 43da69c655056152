"""Turns the native module's tuples into the reports' classes (all but tracking, which the
native module builds itself). Imported by :mod:`pychrony._api` on the first call that needs it,
with :mod:`pychrony._reports`, so that ``import pychrony`` defines neither."""

from collections.abc import Callable, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from ._build import builder, member_of
from ._errors import ChronyError
from ._models import TrackingStatus
from ._reports import (
    Activity,
    AuthData,
    AuthMode,
    Client,
    NTPData,
    NTPMode,
    RTCData,
    SelectData,
    SelectOptions,
    SelectState,
    ServerStats,
    Smoothing,
    Snapshot,
    Source,
    SourceMode,
    SourceName,
    SourceSnapshot,
    SourceState,
    SourceStats,
)

if TYPE_CHECKING:
    from ._native import _AuthData as _NativeAuthData
    from ._native import _Client as _NativeClient
    from ._native import _NTPData as _NativeNTPData
    from ._native import _RTCData as _NativeRTCData
    from ._native import _SelectData as _NativeSelectData
    from ._native import _Smoothing as _NativeSmoothing
    from ._native import _Snapshot as _NativeSnapshot
    from ._native import _Source as _NativeSource
    from ._native import _SourceName as _NativeSourceName
    from ._native import _SourceStats as _NativeSourceStats


def activity(record: Sequence[Any]) -> Activity:
    # The native tuple is in Activity field order.
    return Activity(*record)


def server_stats(record: Sequence[Any]) -> ServerStats:
    # The native tuple is in ServerStats field order.
    return ServerStats(*record)


# The native tuples are in Source field order, with state and mode as their wire values.
source = builder(Source, state=member_of(SourceState), mode=member_of(SourceMode))


def sources(records: "list[_NativeSource]") -> list[Source]:
    return [source(record) for record in records]


def rtc_data(record: "_NativeRTCData | None") -> RTCData | None:
    return None if record is None else RTCData(*record)


def smoothing(record: "_NativeSmoothing | None") -> Smoothing | None:
    return None if record is None else Smoothing(*record)


def ntp_record(record: "_NativeNTPData") -> NTPData:
    # The native tuples are in NTPData field order; the mode is its wire value.
    # (mypy cannot follow two unpacked slices into 31 positional fields; the stub checks them.)
    values: tuple[Any, ...] = (*record[:5], NTPMode(record[5]), *record[6:])
    return NTPData(*values)


def ntp_data(record: "_NativeNTPData | None") -> NTPData | None:
    return None if record is None else ntp_record(record)


def source_stats_record(record: "_NativeSourceStats") -> SourceStats:
    # The native tuple is in SourceStats field order.
    return SourceStats(*record)


def source_stats(records: "list[_NativeSourceStats]") -> list[SourceStats]:
    return [source_stats_record(record) for record in records]


def source_names(records: "list[_NativeSourceName]") -> list[SourceName]:
    return [SourceName(*record) for record in records]


def auth_record(r: "_NativeAuthData") -> AuthData:
    # The native tuple is in AuthData field order, the mode as chronyd's number.
    return AuthData(r[0], AuthMode(r[1]), *r[2:])


def auth_data(records: "list[_NativeAuthData]") -> list[AuthData]:
    return [auth_record(r) for r in records]


def select_record(r: "_NativeSelectData") -> SelectData:
    # The native tuple is in SelectData field order: the state as its character's code, the
    # options as chronyd's bits.
    return SelectData(
        r[0],
        r[1],
        SelectState(r[2]),
        r[3],
        r[4],
        SelectOptions(r[5]),
        SelectOptions(r[6]),
        *r[7:],
    )


def select_data(records: "list[_NativeSelectData]") -> list[SelectData]:
    return [select_record(r) for r in records]


def clients(records: "list[_NativeClient] | None") -> list[Client] | None:
    # The native tuples are in Client field order.
    return None if records is None else [Client(*r) for r in records]


def optional(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    # A part a source or chronyd may lack without an error: None stays None.
    return lambda record: None if record is None else convert(record)


# The parts of a snapshot in the native tuple's order: (Snapshot's field, the single report's
# conversion of what the native module sends for it).
SNAPSHOT_PARTS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("tracking", lambda record: TrackingStatus(*record)),
    ("activity", activity),
    ("server_stats", server_stats),
    ("smoothing", smoothing),
    ("rtc", rtc_data),
    ("sources", lambda records: [source_snapshot(r) for r in records]),
)


# The parts of a source after its Source record, in the native tuple's order, as above.
SOURCE_PARTS: tuple[tuple[str, Callable[[Any], Any]], ...] = (
    ("stats", source_stats_record),
    ("select", select_record),
    ("ntp", ntp_data),
    ("auth", optional(auth_record)),
    ("name", lambda name: name),
)


def parts(
    table: tuple[tuple[str, Callable[[Any], Any]], ...], record: Sequence[object]
) -> dict[str, Any]:
    # A part is its report's native value, or the exception its single call would have raised
    # (built, not raised, by the native module): that part is None and the exception goes into
    # "errors" under its name.
    values: dict[str, Any] = {}
    errors: dict[str, ChronyError] = {}
    for (name, convert), value in zip(table, record, strict=True):
        if value is None:  # lacked, or not asked for
            values[name] = None
        elif isinstance(value, ChronyError):
            values[name] = None
            errors[name] = value
        elif isinstance(value, BaseException):
            raise value  # not chronyd's answer (pychrony._errors unusable): no part to keep
        else:
            values[name] = convert(value)
    values["errors"] = MappingProxyType(errors)
    return values


def source_snapshot(record: Sequence[Any]) -> SourceSnapshot:
    return SourceSnapshot(source(record[0]), **parts(SOURCE_PARTS, record[1:]))


def snapshot(record: "_NativeSnapshot") -> Snapshot:
    return Snapshot(**parts(SNAPSHOT_PARTS, record))


# The names ``parts`` may list: the fields of Snapshot and SourceSnapshot that hold a report.
PART_NAMES = frozenset(name for name, _ in SNAPSHOT_PARTS + SOURCE_PARTS)
