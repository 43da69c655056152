"""After fork(), a child never shares its parent's pooled connection."""

from __future__ import annotations

import os

from conftest import Daemon
from pychrony import ChronyConnection, get_tracking


def test_get_tracking_in_a_forked_child(synced: Daemon) -> None:
    assert get_tracking(synced.socket).stratum == 2  # leaves a pooled connection behind
    with ChronyConnection(synced.udp_v4) as conn:
        conn.get_tracking()
        pid = os.fork()
        if pid == 0:  # the child: exit status says what happened
            try:
                ok = all(get_tracking(synced.socket).stratum == 2 for _ in range(20))
                os._exit(0 if ok else 1)
            except BaseException:
                os._exit(2)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        # The parent's connections still work.
        assert conn.get_tracking().stratum == 2
    assert get_tracking(synced.socket).stratum == 2
