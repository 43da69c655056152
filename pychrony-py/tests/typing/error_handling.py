# The contract's "Error Handling" example.
from pychrony import (
    ChronyConnectionError,
    ChronyLibraryError,
    ChronyPermissionError,
    get_tracking,
)

try:
    status = get_tracking()
except ChronyLibraryError:
    print("Install libchrony: apt-get install libchrony-dev")
except ChronyConnectionError:
    print("chronyd is not running: systemctl start chronyd")
except ChronyPermissionError:
    print("Run as root or add user to chrony group")
