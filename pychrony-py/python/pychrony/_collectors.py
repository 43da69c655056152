"""The collectors of ``pychrony.prometheus`` and the parts of a snapshot each exports.

Here, without prometheus_client, so that ``pychrony exporter`` checks its options without
importing it.
"""

from __future__ import annotations

__all__ = ["COLLECTORS", "SOURCE_PARTS"]

#: Every collector, in the order of the output; all are on by default.
COLLECTORS = (
    "tracking",
    "sources",
    "sourcestats",
    "selectdata",
    "authdata",
    "sourcename",
    "serverstats",
)

#: The per-source parts of a snapshot (``SourceSnapshot``'s field names, the keys of its
#: ``errors``) by the collector that exports each.
SOURCE_PARTS = {
    "stats": "sourcestats",
    "select": "selectdata",
    "auth": "authdata",
    "name": "sourcename",
}
