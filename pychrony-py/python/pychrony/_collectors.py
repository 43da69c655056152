"""The collectors of ``pychrony.prometheus`` and the parts of a snapshot each exports.

Here, without prometheus_client, so that ``pychrony exporter`` checks its options without
importing it.
"""

from __future__ import annotations

__all__ = ["COLLECTORS", "COLLECTOR_PARTS", "DEFAULT_COLLECTORS", "SOURCE_PARTS"]

#: Every collector, in the order of the output.
COLLECTORS = (
    "tracking",
    "sources",
    "ntpdata",
    "sourcestats",
    "selectdata",
    "authdata",
    "sourcename",
    "serverstats",
)

#: The collectors on by default: all but ntpdata (as chrony_exporter's
#: ``--collector.sources.with-ntpdata``), which adds each NTP source's ntpdata request (and the
#: C library's lookup of its address) to every scrape.
DEFAULT_COLLECTORS = tuple(c for c in COLLECTORS if c != "ntpdata")

#: The per-source parts of a snapshot (``SourceSnapshot``'s field names, the keys of its
#: ``errors``) by the collector that exports each.
SOURCE_PARTS = {
    "ntp": "ntpdata",
    "stats": "sourcestats",
    "select": "selectdata",
    "auth": "authdata",
    "name": "sourcename",
}

#: The snapshot parts (``get_snapshot(parts=...)``) each collector needs, so that a scrape reads
#: only those of the enabled collectors. Every per-source metric, and tracking's info metric,
#: is labelled with the source's configured name: each of them needs ``name`` too.
COLLECTOR_PARTS = {
    "tracking": ("tracking", "name"),
    "sources": ("sources", "name"),
    "ntpdata": ("ntp", "name"),
    "sourcestats": ("stats", "name"),
    "selectdata": ("select", "name"),
    "authdata": ("auth", "name"),
    "sourcename": ("name",),
    "serverstats": ("server_stats",),
}
