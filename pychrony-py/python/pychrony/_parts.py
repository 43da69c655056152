"""One read of the reports the Prometheus collector exports, through one connection.

The result has the shape of ``get_snapshot()``'s (``Snapshot``, ``SourceSnapshot``): each part a
value, or None with the exception that prevented it under the part's name in ``errors``. The
collector reads only these attributes, so it can move to ``conn.get_snapshot()`` by replacing
:func:`read_parts`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import TypeVar

from ._api import ChronyConnection
from ._errors import ChronyConnectionError, ChronyError
from ._models import AuthData, SelectData, ServerStats, Source, SourceStats, TrackingStatus

__all__ = ["COLLECTORS", "Parts", "SourceParts", "read_parts"]

T = TypeVar("T")

#: Every collector of ``pychrony.prometheus``, in the order of its output; all are on by default.
#: (Here, so that ``pychrony exporter`` checks its options without importing prometheus_client.)
COLLECTORS = (
    "tracking",
    "sources",
    "sourcestats",
    "selectdata",
    "authdata",
    "sourcename",
    "serverstats",
)

#: The per-source parts, by the name ``SourceSnapshot`` gives them, with the collector that
#: wants each (``read_parts``'s ``wanted``).
SOURCE_PARTS = {
    "stats": "sourcestats",
    "select": "selectdata",
    "auth": "authdata",
    "name": "sourcename",
}


@dataclass(frozen=True)
class SourceParts:
    """One source and its records of the other per-source reports (``SourceSnapshot``'s
    fields that the collector reads). A record is None when the source has none (a reference
    clock's ``auth`` and ``name``) or when its report was not read or failed (then ``errors``
    holds the exception under the field's name)."""

    source: Source
    stats: SourceStats | None
    select: SelectData | None
    auth: AuthData | None
    name: str | None
    errors: Mapping[str, ChronyError] = field(default_factory=dict)


@dataclass(frozen=True)
class Parts:
    """The reports of one scrape (``Snapshot``'s fields that the collector reads); a part is
    None when it was not wanted, or when reading it failed (then ``errors`` holds why)."""

    tracking: TrackingStatus | None
    sources: list[SourceParts] | None
    server_stats: ServerStats | None
    errors: Mapping[str, ChronyError] = field(default_factory=dict)
    #: Seconds spent reading each collector's reports (the snapshot reads them in one round).
    seconds: Mapping[str, float] = field(default_factory=dict)


class _Reader:
    """Reads one report at a time, keeping the error of each that fails on its own; a
    ChronyConnectionError (no reply, chronyd gone) ends the whole read, as it ends a snapshot."""

    def __init__(self) -> None:
        self.errors: dict[str, ChronyError] = {}
        self.seconds: dict[str, float] = {}

    def read(self, part: str, collector: str, call: Callable[[], T]) -> T | None:
        start = time.perf_counter()
        try:
            return call()
        except ChronyConnectionError:
            raise
        except ChronyError as exc:
            self.errors[part] = exc
            return None
        finally:
            self.seconds[collector] = self.seconds.get(collector, 0.0) + (
                time.perf_counter() - start
            )


def read_parts(conn: ChronyConnection, wanted: Collection[str]) -> Parts:
    """Reads tracking (always: it says whether chronyd answers), and the reports of the
    ``wanted`` collectors (``"sources"``, ``"sourcestats"``, ``"selectdata"``, ``"authdata"``,
    ``"sourcename"``, ``"serverstats"``) through ``conn``.

    Raises:
        ChronyConnectionError: when chronyd does not answer (what ends every request ends the
            read), and what opening ``conn`` raises.
    """
    reader = _Reader()
    tracking = reader.read("tracking", "tracking", conn.get_tracking)
    per_source = {part for part, collector in SOURCE_PARTS.items() if collector in wanted}
    sources = None
    if per_source or "sources" in wanted:
        listed = reader.read("sources", "sources", conn.get_sources)
        if listed is not None:
            sources = _join(reader, conn, listed, per_source)
    server_stats = None
    if "serverstats" in wanted:
        server_stats = reader.read("server_stats", "serverstats", conn.get_server_stats)
    return Parts(tracking, sources, server_stats, reader.errors, reader.seconds)


def _join(
    reader: _Reader, conn: ChronyConnection, sources: list[Source], parts: set[str]
) -> list[SourceParts]:
    """Each source with its records of the per-source reports. Records are matched by address
    (every report names a source as chronyc -n does): a source that came or went between two
    walks has no record of the other one, rather than another source's."""
    failed: dict[str, ChronyError] = {}

    def walk(part: str, call: Callable[[], dict[str, T]]) -> dict[str, T]:
        if part not in parts:
            return {}
        got = reader.read(part, SOURCE_PARTS[part], call)
        if got is None:
            failed[part] = reader.errors.pop(part)
            return {}
        return got

    stats = walk("stats", lambda: {s.address: s for s in conn.get_source_stats()})
    select = walk("select", lambda: {s.address: s for s in conn.get_select_data()})
    auth = walk("auth", lambda: {a.address: a for a in conn.get_auth_data()})
    names = walk("name", lambda: {n.address: n.name for n in conn.get_source_names()})
    return [
        SourceParts(
            source,
            stats.get(source.address),
            select.get(source.address),
            auth.get(source.address),
            names.get(source.address),
            dict(failed),
        )
        for source in sources
    ]
