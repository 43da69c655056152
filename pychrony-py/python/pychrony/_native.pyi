# Hand-written stub of the pyo3 module pychrony._native (src/*.rs); checked by
# `python -m mypy.stubtest pychrony._native`. Private: use the pychrony package instead.
from typing import Literal, final

__all__ = ["Connection", "get_tracking"]

# (reference_id, reference_id_name, stratum, leap_status, offset, last_offset, rms_offset,
#  frequency, residual_freq, skew, root_delay, root_dispersion, update_interval,
#  reference_ip, ref_time): the field order of pychrony.TrackingStatus.
_Tracking = tuple[
    int, str, int, int, float, float, float, float, float, float, float, float, float, str, float
]

def get_tracking(socket_path: str | None, timeout: float) -> _Tracking: ...

@final
class Connection:
    def __new__(cls, address: str | None, timeout: float) -> Connection: ...
    def open(self) -> None: ...
    def tracking(self) -> _Tracking: ...
    def close(self) -> None: ...
    @property
    def address(self) -> str | None: ...
    @property
    def transport(self) -> Literal["unix", "udp"] | None: ...
    @property
    def closed(self) -> bool: ...
