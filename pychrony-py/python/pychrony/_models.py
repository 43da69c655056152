"""The contract's data model, :class:`TrackingStatus`, with chronyd's leap status values.

Only what ``import pychrony`` and :func:`pychrony.get_tracking` need: every other report's
classes are in :mod:`pychrony._reports`, imported on first use (it costs more than the rest of
``import pychrony``).
"""

from dataclasses import dataclass

__all__ = ["TrackingStatus"]

# Leap status values (chronyd's, also in the contract's field table).
LEAP_NORMAL = 0
LEAP_INSERT_SECOND = 1
LEAP_DELETE_SECOND = 2
LEAP_UNSYNCHRONISED = 3

# chronyc's wording (British spelling), not libchrony's constant names.
LEAP_STATUS_TEXT = {
    LEAP_NORMAL: "Normal",
    LEAP_INSERT_SECOND: "Insert second",
    LEAP_DELETE_SECOND: "Delete second",
    LEAP_UNSYNCHRONISED: "Not synchronised",
}


@dataclass(frozen=True)
class TrackingStatus:
    """chronyd's tracking report: how the system clock relates to its reference.

    The first 13 fields are the contract's, in its order. ``reference_ip`` and ``ref_time`` are
    additions with defaults, so code that builds an instance from the 13 fields keeps working.

    Attributes:
        reference_id: NTP reference identifier (0 when unsynchronised).
        reference_id_name: the reference's name as ``chronyc -n tracking`` shows it: the IP address,
            ``ID#NNNNNNNNNN``, or the printable refid characters (e.g. ``"GPS"``) for refclocks.
        stratum: NTP stratum (0 when unsynchronised).
        leap_status: 0 normal, 1 insert second, 2 delete second, 3 not synchronised.
        offset: chronyd's current correction in seconds (positive: the clock is slow of NTP time).
        last_offset: offset of the last clock update, seconds.
        rms_offset: long-term RMS of the offsets, seconds.
        frequency: clock frequency error in ppm (positive: the clock runs fast).
        residual_freq: residual frequency of the reference, ppm.
        skew: estimated frequency error bound, ppm.
        root_delay: total network path delay to the stratum-1 source, seconds.
        root_dispersion: total dispersion accumulated to the stratum-1 source, seconds.
        update_interval: interval between the last two clock updates, seconds.
        reference_ip: the reference's address ("" for refclocks, local and unsynchronised).
        ref_time: time of the last update, seconds since the Unix epoch (0.0 if never).
    """

    reference_id: int
    reference_id_name: str
    stratum: int
    leap_status: int
    offset: float
    last_offset: float
    rms_offset: float
    frequency: float
    residual_freq: float
    skew: float
    root_delay: float
    root_dispersion: float
    update_interval: float
    reference_ip: str = ""
    ref_time: float = 0.0

    def is_synchronized(self) -> bool:
        """Check if chronyd is synchronized to a time source.

        Returns:
            True if synchronized (reference_id != 0 and stratum < 16), False otherwise.
        """
        return self.reference_id != 0 and self.stratum < 16

    def is_leap_pending(self) -> bool:
        """Check if a leap second adjustment is pending.

        Returns:
            True if leap_status is 1 (insert) or 2 (delete), False otherwise.
        """
        return self.leap_status in (LEAP_INSERT_SECOND, LEAP_DELETE_SECOND)
