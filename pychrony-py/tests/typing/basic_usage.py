# The contract's "Basic Usage" example, checked with mypy --strict against the installed package.
from pychrony import ChronyError, get_tracking

try:
    status = get_tracking()
    print(f"Stratum: {status.stratum}")
    print(f"Offset: {status.offset:.9f} seconds")
    print(f"Frequency: {status.frequency:.3f} ppm")
    print(f"Reference: {status.reference_id_name}")
except ChronyError as e:
    print(f"Error: {e}")
