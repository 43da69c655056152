"""Prints chronyd's tracking report through pychrony: `python tracking.py [ADDRESS]`.

ADDRESS is a unix socket path (the contract's one call, `get_tracking`) or a UDP command address
such as 127.0.0.1:323 (a reusable `ChronyConnection`); without it, the default socket paths.
`cargo xtask demo` runs this file; chrony-core/examples/tracking.rs is the Rust counterpart.
"""

import sys
from datetime import datetime, timezone

from pychrony import ChronyConnection, ChronyError, get_tracking

address = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else None
try:
    if address is None or address.startswith("/"):
        # The contract's one call: a unix socket path, or None for the default paths.
        status = get_tracking(address)
        how = f"get_tracking({address!r})"
    else:
        # A UDP address such as 127.0.0.1:323: a reusable connection.
        with ChronyConnection(address) as conn:
            status = conn.get_tracking()
        how = f"ChronyConnection({address!r}).get_tracking()"
except ChronyError as e:
    print(f"Error: {e}")
    sys.exit(2)

ref_time = datetime.fromtimestamp(status.ref_time, timezone.utc)
print(f"{how} ->")
name, ip = status.reference_id_name, status.reference_ip
print(f"  reference_id      0x{status.reference_id:08X} ({name!r}, ip {ip!r})")
print(f"  stratum           {status.stratum}")
print(f"  leap_status       {status.leap_status}  (0 normal, 1 insert, 2 delete, 3 unsynchronised)")
print(f"  ref_time          {status.ref_time:.6f}  ({ref_time:%Y-%m-%d %H:%M:%S} UTC)")
print(f"  offset            {status.offset:+.9f} s  (positive: the system clock is slow)")
print(f"  last_offset       {status.last_offset:+.9f} s")
print(f"  rms_offset        {status.rms_offset:.9f} s")
print(f"  frequency         {status.frequency:+.3f} ppm  (positive: the clock runs fast)")
print(f"  residual_freq     {status.residual_freq:+.3f} ppm")
print(f"  skew              {status.skew:.3f} ppm")
print(f"  root_delay        {status.root_delay:.9f} s")
print(f"  root_dispersion   {status.root_dispersion:.9f} s")
print(f"  update_interval   {status.update_interval:.1f} s")
print(
    f"  is_synchronized() {status.is_synchronized()}, is_leap_pending() {status.is_leap_pending()}"
)
