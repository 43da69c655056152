# The contract's "Sync Status Check" example.
from pychrony import get_tracking

status = get_tracking()
if status.is_synchronized():
    print(f"Synced to {status.reference_id_name} (stratum {status.stratum})")
else:
    print("Not synchronized to any time source")

if status.is_leap_pending():
    print("Warning: Leap second adjustment pending")
