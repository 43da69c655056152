# The contract's field types and the documented additions, as a type checker sees them.
import os
from collections.abc import Mapping
from pathlib import Path

import pychrony
from pychrony import (
    ChronyConnection,
    ChronyDataError,
    ChronyError,
    ChronyLibraryError,
    TrackingStatus,
    get_tracking,
)

status: TrackingStatus = get_tracking(Path("/run/chrony/chronyd.sock"), timeout=1.5)
reference_id: int = status.reference_id
name: str = status.reference_id_name
stratum: int = status.stratum
leap: int = status.leap_status
floats: list[float] = [
    status.offset,
    status.last_offset,
    status.rms_offset,
    status.frequency,
    status.residual_freq,
    status.skew,
    status.root_delay,
    status.root_dispersion,
    status.update_interval,
    status.ref_time,
]
ip: str = status.reference_ip
synced: bool = status.is_synchronized()
pending: bool = status.is_leap_pending()

built = TrackingStatus(1, "x", 2, 0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)

err: ChronyError = ChronyDataError("bad reply", -4)
code: int | None = err.error_code
message: str = err.message
library_error = ChronyLibraryError("missing")

with ChronyConnection("127.0.0.1:323", timeout=0.5) as conn:
    again: TrackingStatus = conn.get_tracking()
    address: str | None = conn.address
    transport: str | None = conn.transport

path: os.PathLike[str] = Path("/run/chrony/chronyd.sock")
get_tracking(path)

# The snapshot: each part typed as its report's result, or None; why in `errors`.
snapshot: pychrony.Snapshot = pychrony.get_snapshot(path, timeout=2.0)
snap_tracking: TrackingStatus | None = snapshot.tracking
snap_stats: pychrony.ServerStats | None = snapshot.server_stats
snap_rtc: pychrony.RTCData | None = snapshot.rtc
snap_errors: Mapping[str, ChronyError] = snapshot.errors
for each in snapshot.sources or []:
    each_source: pychrony.Source = each.source
    each_select: pychrony.SelectData | None = each.select
    each_ntp: pychrony.NTPData | None = each.ntp
    each_name: str | None = each.name
    each_errors: Mapping[str, ChronyError] = each.errors
with ChronyConnection() as conn:
    conn_snapshot: pychrony.Snapshot = conn.get_snapshot()
