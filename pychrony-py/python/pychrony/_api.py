"""The functions and the connection object: argument checks here, I/O in the native module."""

import math
import os
from collections.abc import Iterable
from types import TracebackType

from ._build import field_names
from ._models import TrackingStatus
from ._native_loader import native

# typing takes milliseconds to import and only type checkers need it here (mypy reads this
# name as True).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Literal

    from . import _convert
    from ._native import AsyncConnection as _NativeAsyncConnection
    from ._native import Connection as _NativeConnection
    from ._reports import (
        Activity,
        AuthData,
        Client,
        NTPData,
        RTCData,
        SelectData,
        ServerStats,
        Smoothing,
        Snapshot,
        Source,
        SourceName,
        SourceStats,
    )
else:

    class _Lazy:
        """Stands for the module :mod:`pychrony._convert` (and so :mod:`pychrony._reports`)
        until a function that returns a report other than tracking is first called: it imports
        it then and puts it in its place, so later calls pay nothing for it."""

        def __getattr__(self, name):
            from . import _convert as module

            globals()["_convert"] = module
            return getattr(module, name)

    _convert = _Lazy()

__all__ = [
    "DEFAULT_TIMEOUT",
    "ChronyConnection",
    "get_activity",
    "get_auth_data",
    "get_all_ntp_data",
    "get_clients",
    "get_ntp_data",
    "get_rtc_data",
    "get_select_data",
    "get_smoothing",
    "get_snapshot",
    "get_server_stats",
    "get_source_names",
    "get_source_stats",
    "get_sources",
    "get_tracking",
]

#: Seconds to wait for chronyd's reply before raising ChronyConnectionError (code -6).
DEFAULT_TIMEOUT = 3.0
# The native side keeps time in whole seconds of 64 bits (Rust's Duration).
_MAX_TIMEOUT = 2.0**64


# The hot paths (a poller's reused get_tracking(), get_sources()): see _build.
# The native module builds TrackingStatus itself, with these names.
_TRACKING_FIELDS = field_names(TrackingStatus)


def _check_timeout(timeout: float) -> float:
    # bool is an int subclass; `timeout=True` is a mistake, not one second.
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds, not {type(timeout).__name__}")
    value = float(timeout)
    if not math.isfinite(value) or value <= 0.0:
        raise ValueError(f"timeout must be a finite number of seconds > 0, got {timeout!r}")
    if value >= _MAX_TIMEOUT:
        raise ValueError(f"timeout must be under 2**64 seconds, got {timeout!r}")
    return value


def _check_socket_path(socket_path: str | os.PathLike[str] | None) -> str | None:
    if socket_path is None:
        return None
    if not isinstance(socket_path, (str, os.PathLike)):
        raise TypeError(
            f"socket_path must be a str, an os.PathLike or None, not {type(socket_path).__name__}"
        )
    path = os.fspath(socket_path)
    if not isinstance(path, str):
        raise TypeError(f"socket_path must be a text path, not {type(path).__name__}")
    return path


def _checked(
    socket_path: str | os.PathLike[str] | None, timeout: float
) -> tuple[str | None, float]:
    # The arguments every one-call function takes, checked before anything is sent.
    return _check_socket_path(socket_path), _check_timeout(timeout)


def get_tracking(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> TrackingStatus:
    """Retrieve current chrony tracking status.

    Connects to chronyd and retrieves the current time synchronization
    tracking information.

    Args:
        socket_path: Path to chronyd Unix socket. Defaults to
            '/run/chrony/chronyd.sock' or '/var/run/chrony/chronyd.sock'.
        timeout: Seconds to wait for chronyd's reply (keyword only; default 3.0).

    Returns:
        TrackingStatus: Current tracking information from chronyd.

    Raises:
        ChronyLibraryError: If libchrony is not installed or cannot be loaded.
        ChronyConnectionError: If chronyd is not running or unreachable
            (error_code -6: no reply within ``timeout``).
        ChronyPermissionError: If insufficient permissions to access chronyd.
        ChronyDataError: If tracking data is invalid or incomplete.
        TypeError, ValueError: If an argument has the wrong type or value.

    Example:
        >>> from pychrony import get_tracking
        >>> status = get_tracking()
        >>> print(f"Offset: {status.offset:.6f} seconds")
        Offset: 0.000123 seconds
    """
    path, seconds = _checked(socket_path, timeout)
    status: TrackingStatus = native().get_tracking(path, seconds, TrackingStatus, _TRACKING_FIELDS)
    return status


def get_sources(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[Source]":
    """Retrieve chronyd's time sources (what ``chronyc -n sources -a`` lists).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole list is read within ``timeout``.

    Args:
        socket_path: Path to chronyd Unix socket. Defaults to
            '/run/chrony/chronyd.sock' or '/var/run/chrony/chronyd.sock'.
        timeout: Seconds to wait for chronyd's replies (keyword only; default 3.0).

    Returns:
        list[Source]: one per source, in chronyd's order (reference clocks first); empty when
        chronyd has none. Unresolved sources are included.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`; a list that kept changing while it was
            read is ChronyDataError -5.

    Example:
        >>> from pychrony import get_sources
        >>> for source in get_sources():
        ...     print(source.mode.symbol + source.state.symbol, source.address)
        ^* 192.0.2.1
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.sources(native().get_sources(path, seconds))


def get_activity(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "Activity":
    """Retrieve how many sources are online, offline, in a burst or unresolved (``chronyc
    activity``).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.activity(native().get_activity(path, seconds))


def get_server_stats(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "ServerStats":
    """Retrieve chronyd's counters as an NTP and command server (``chronyc serverstats``).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`. Over UDP chronyd refuses this report (ChronyPermissionError, -3)
    unless its ``opencommands`` allow it.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.server_stats(native().get_server_stats(path, seconds))


def get_rtc_data(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "RTCData | None":
    """Retrieve chronyd's tracking of the real-time clock (``chronyc rtcdata``).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`.

    Returns:
        RTCData, or None when chronyd tracks no RTC (no ``rtcfile``, or ``rtcsync``; chronyc
        prints "513 RTC driver not running").

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.rtc_data(native().get_rtc_data(path, seconds))


def get_smoothing(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "Smoothing | None":
    """Retrieve the state of chronyd's server time smoothing (``chronyc smoothing``).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`.

    Returns:
        Smoothing, or None when chronyd has no ``smoothtime`` (chronyc prints "505 Facility not
        enabled in daemon").

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.smoothing(native().get_smoothing(path, seconds))


def _check_address(address: object) -> str:
    # The native side parses it: a ValueError there too comes before anything is sent.
    if not isinstance(address, str):
        raise TypeError(
            f"address must be a str holding an IP address such as '192.0.2.1', "
            f"not {type(address).__name__}"
        )
    return address


def get_ntp_data(
    address: str,
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "NTPData | None":
    """Retrieve chronyd's NTP measurements of the NTP source at ``address``
    (``chronyc ntpdata ADDRESS``).

    An addition to the contract. ``socket_path``, errors and timeouts are those of
    :func:`get_tracking`; chronyd refuses the report over UDP (error_code -3) unless its
    ``opencommands`` allow it.

    Args:
        address: the source's IP address, e.g. ``"192.0.2.1"`` (not a name).

    Returns:
        NTPData, or None when chronyd has no NTP source at that address.

    Raises:
        TypeError: If ``address`` is not a str (nothing is sent).
        ValueError: If ``address`` is not an IP address (nothing is sent).
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError: as
            :func:`get_tracking`.
    """
    checked = _check_address(address)
    path, seconds = _checked(socket_path, timeout)
    return _convert.ntp_data(native().get_ntp_data(path, seconds, checked))


def get_all_ntp_data(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[NTPData]":
    """Retrieve the ntpdata report of every NTP source that has an address (``chronyc
    ntpdata``), in chronyd's order; sources whose name is not resolved are left out, as chronyc
    leaves them out. Arguments and errors as :func:`get_ntp_data`."""
    path, seconds = _checked(socket_path, timeout)
    return [_convert.ntp_record(r) for r in native().get_all_ntp_data(path, seconds)]


def get_source_stats(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[SourceStats]":
    """Retrieve chronyd's statistics of each source's samples (what ``chronyc -n sourcestats -a``
    lists).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole list is read within ``timeout``.

    Returns:
        list[SourceStats]: one per source, in chronyd's order (that of :func:`get_sources`);
        empty when chronyd has none. Unresolved sources are included.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`; a list that kept changing while it was
            read is ChronyDataError -5.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.source_stats(native().get_source_stats(path, seconds))


def get_source_names(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[SourceName]":
    """Retrieve the name each NTP source was configured with (what ``chronyc -N sources -a``
    shows in place of addresses).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole list is read within ``timeout``.

    Returns:
        list[SourceName]: one per NTP source, in chronyd's order (that of :func:`get_sources`,
        without reference clocks, which have no name); empty when chronyd has none.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`; a list that kept changing while it was
            read is ChronyDataError -5; a linked libchrony that lacks the report (a system
            libchrony 0.2) is ChronyDataError -4, before anything is sent.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.source_names(native().get_source_names(path, seconds))


def get_auth_data(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[AuthData]":
    """Retrieve how each NTP source is authenticated (what ``chronyc -n authdata -a`` lists).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole list is read within ``timeout``. chronyd serves the report
    only over its Unix socket: over UDP it refuses it (ChronyPermissionError, -3).

    Returns:
        list[AuthData]: one per NTP source with an IP address, in chronyd's order (reference
        clocks and unresolved sources have no authentication data).

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`; a list that kept changing while it was
            read is ChronyDataError -5.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.auth_data(native().get_auth_data(path, seconds))


def get_select_data(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[SelectData]":
    """Retrieve why each source is or is not selected (what ``chronyc -n selectdata -a`` lists).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole list is read within ``timeout``. chronyd serves the report
    only over its Unix socket: over UDP it refuses it (ChronyPermissionError, -3).

    Returns:
        list[SelectData]: one per source (reference clocks and unresolved sources included), in
        chronyd's order, as of chronyd's last source selection.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`; a list that kept changing while it was
            read is ChronyDataError -5.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.select_data(native().get_select_data(path, seconds))


def get_clients(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> "list[Client] | None":
    """Retrieve chronyd's client access log (what ``chronyc -n clients`` lists).

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole list is read within ``timeout``. chronyd serves the report
    only over its Unix socket: over UDP it refuses it (ChronyPermissionError, -3).

    Returns:
        list[Client]: one per client address, in chronyd's order; or None when chronyd runs
        with ``noclientlog`` (chronyc prints "519 Client logging is not active in the daemon").

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, ChronyDataError,
            TypeError, ValueError: as :func:`get_tracking`.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.clients(native().get_clients(path, seconds))


def _check_parts(parts: Iterable[str] | None) -> list[str] | None:
    # Checked before anything is sent; a string is refused (it would be read as its letters).
    if parts is None:
        return None
    if isinstance(parts, str) or not isinstance(parts, Iterable):
        raise TypeError(f"parts must be a list of part names such as ['tracking'], not {parts!r}")
    names, known = list(parts), _convert.PART_NAMES
    for name in names:
        if name not in known:
            raise ValueError(
                f"unknown snapshot part {name!r}: choose among {', '.join(sorted(known))}"
            )
    return names


def get_snapshot(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    parts: Iterable[str] | None = None,
) -> "Snapshot":
    """Retrieve every report at once: tracking, each source with its sourcestats, selectdata,
    ntpdata, authdata and configured name, activity, serverstats, smoothing and rtcdata.

    An addition to the contract. Arguments, errors and timeouts are those of
    :func:`get_tracking`; the whole snapshot is read within ``timeout``. The requests are sent
    without waiting for each reply (with the bundled libchrony), so a snapshot waits about two
    round trips (three for the chained per-source records), not one per record; chronyd's own
    work for each request remains (about 10 µs each, some 60 requests for 8 sources).

    A part chronyd refuses (over UDP: serverstats, and each source's selectdata, ntpdata and
    authdata) or that fails on its own is None, with the exception its single call would raise
    in :attr:`Snapshot.errors` (per source: :attr:`SourceSnapshot.errors`); a part chronyd lacks
    (no ``smoothtime``, no RTC) is None without an error.

    ``parts`` (None: every part) names the parts to read, as the fields of :class:`Snapshot`
    and :class:`SourceSnapshot` are named (``"tracking"``, ``"sources"``, ``"activity"``,
    ``"server_stats"``, ``"smoothing"``, ``"rtc"``, ``"stats"``, ``"select"``, ``"ntp"``,
    ``"auth"``, ``"name"``): nothing is sent for the others, which are None without an error.
    A per-source part reads the sources too. Fewer parts, fewer requests: e.g. tracking and the
    sources cost about a tenth of the whole with eight sources.

    Raises:
        ChronyLibraryError, ChronyConnectionError, ChronyPermissionError, TypeError, ValueError:
            as :func:`get_tracking`, for what ends every request (no socket, no reply within
            ``timeout``); a part's own failure is in ``errors`` instead. ValueError too for an
            unknown part name and TypeError for ``parts`` that is not a list of names, before
            anything is sent.
    """
    path, seconds = _checked(socket_path, timeout)
    return _convert.snapshot(native().get_snapshot(path, seconds, _check_parts(parts)))


def _checked_address(
    address: str | os.PathLike[str] | None, timeout: float
) -> tuple[str | None, float]:
    # A connection's arguments: a str is a socket path or a UDP address, a path object always a
    # path (made absolute so it is never read as a host).
    if address is not None and not isinstance(address, str):
        given = _check_socket_path(address)
        address = os.path.abspath(given) if given is not None else None
    return address, _check_timeout(timeout)


class _Connected:
    """What both connection classes (this one's and :mod:`pychrony.aio`'s) say about their
    socket: ``_requested`` and ``_timeout`` as given, ``_conn`` the native connection."""

    _requested: str | None
    _timeout: float
    _conn: "_NativeConnection | _NativeAsyncConnection"

    @property
    def address(self) -> str | None:
        """The address in use once connected; before that, the address given (None: discovery)."""
        if self._conn.closed:
            return self._requested
        return self._conn.address

    @property
    def transport(self) -> "Literal['unix', 'udp'] | None":
        """``"unix"`` or ``"udp"`` once connected, None before."""
        if self._conn.closed:
            return None
        return self._conn.transport

    @property
    def timeout(self) -> float:
        """Seconds to wait for each reply."""
        return self._timeout

    @property
    def closed(self) -> bool:
        """True when no socket is open."""
        return bool(self._conn.closed)

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"open, {self.transport}"
        return f"<{type(self).__name__} address={self.address!r} ({state})>"


class ChronyConnection(_Connected):
    """A reusable connection to chronyd, for programs that poll.

    ``get_tracking()`` on one connection reuses one socket, which is several times cheaper than the
    module-level :func:`get_tracking`. Use it as a context manager, or call ``close()`` yourself::

        with ChronyConnection() as conn:
            status = conn.get_tracking()

    Args:
        address: a Unix socket path (``/run/chrony/chronyd.sock``, or any ``os.PathLike``), or a UDP
            command port address (``127.0.0.1``, ``127.0.0.1:323``, ``::1``, ``[::1]:323``).
            None: the default Unix socket paths, as :func:`get_tracking` does.
        timeout: Seconds to wait for each reply (keyword only; default 3.0).

    The socket is opened by ``__enter__`` or by the first call (``get_tracking()``,
    ``get_sources()``); ``close()`` releases it (calling it again does nothing) and a later call
    opens a new one. One connection may be shared by threads: calls on it take turns.
    """

    def __init__(
        self,
        address: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._requested, self._timeout = _checked_address(address, timeout)
        # Opens nothing yet. The native object takes care of threads, signal handlers that use
        # or close this connection during a call, and fork(): no Python lock is held here.
        self._conn: _NativeConnection = native().Connection(self._requested, self._timeout)

    def open(self) -> None:
        """Open the socket now (``get_tracking()`` and ``get_sources()`` do it when needed)."""
        self._conn.open()

    def get_tracking(self) -> TrackingStatus:
        """Retrieve current chrony tracking status over this connection.
        See :func:`get_tracking`."""
        return self._conn.tracking(TrackingStatus, _TRACKING_FIELDS)

    def get_sources(self) -> "list[Source]":
        """Retrieve chronyd's time sources over this connection. See :func:`get_sources`."""
        return _convert.sources(self._conn.sources())

    def get_activity(self) -> "Activity":
        """Retrieve the activity report over this connection. See :func:`get_activity`."""
        return _convert.activity(self._conn.activity())

    def get_server_stats(self) -> "ServerStats":
        """Retrieve the serverstats report over this connection. See :func:`get_server_stats`."""
        return _convert.server_stats(self._conn.server_stats())

    def get_source_stats(self) -> "list[SourceStats]":
        """Retrieve the sourcestats report over this connection. See :func:`get_source_stats`."""
        return _convert.source_stats(self._conn.source_stats())

    def get_source_names(self) -> "list[SourceName]":
        """Retrieve the sourcename report over this connection. See :func:`get_source_names`."""
        return _convert.source_names(self._conn.source_names())

    def get_select_data(self) -> "list[SelectData]":
        """Retrieve the selectdata report over this connection (over UDP chronyd refuses it: -3).
        See :func:`get_select_data`."""
        return _convert.select_data(self._conn.select_data())

    def get_auth_data(self) -> "list[AuthData]":
        """Retrieve the authdata report over this connection (over UDP chronyd refuses it: -3).
        See :func:`get_auth_data`."""
        return _convert.auth_data(self._conn.auth_data())

    def get_rtc_data(self) -> "RTCData | None":
        """Retrieve the rtcdata report over this connection (None: chronyd tracks no RTC).
        See :func:`get_rtc_data`."""
        return _convert.rtc_data(self._conn.rtc_data())

    def get_smoothing(self) -> "Smoothing | None":
        """Retrieve the smoothing report over this connection (None: no ``smoothtime``).
        See :func:`get_smoothing`."""
        return _convert.smoothing(self._conn.smoothing())

    def get_clients(self) -> "list[Client] | None":
        """Retrieve the clients report over this connection (None: ``noclientlog``; over UDP
        chronyd refuses it: -3). See :func:`get_clients`."""
        return _convert.clients(self._conn.clients())

    def get_ntp_data(self, address: str) -> "NTPData | None":
        """Retrieve the ntpdata report of the NTP source at ``address`` over this connection
        (None: no such source). See :func:`get_ntp_data`."""
        return _convert.ntp_data(self._conn.ntp_data(_check_address(address)))

    def get_all_ntp_data(self) -> "list[NTPData]":
        """Retrieve the ntpdata report of every NTP source with an address over this connection.
        See :func:`get_all_ntp_data`."""
        return [_convert.ntp_record(r) for r in self._conn.all_ntp_data()]

    def get_snapshot(self, *, parts: Iterable[str] | None = None) -> "Snapshot":
        """Retrieve every report at once (or the ``parts`` named) over this connection (over
        UDP chronyd refuses some parts: None, with their -3 error in ``errors``). See
        :func:`get_snapshot`."""
        return _convert.snapshot(self._conn.snapshot(_check_parts(parts)))

    def close(self) -> None:
        """Close the socket and remove the files it created; does nothing if it is not open.

        A call waiting for chronyd in another thread (or interrupted by the signal
        handler that calls ``close()``) stops with ``ChronyConnectionError``; a later call opens a
        new socket.
        """
        self._conn.close()

    def __enter__(self) -> "ChronyConnection":
        self.open()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
