# The contract's "Custom Socket Path" example.
from pychrony import get_tracking

status = get_tracking(socket_path="/custom/path/chronyd.sock")
