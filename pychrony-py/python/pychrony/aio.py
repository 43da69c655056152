"""pychrony for asyncio: the reports of :mod:`pychrony` as coroutines, driven by the event loop.

Every name mirrors one of :mod:`pychrony` (``AsyncChronyConnection`` for ``ChronyConnection``,
``get_tracking`` for ``get_tracking``…): the same arguments, checks, results, exceptions, deadlines
and resends (it is the same native code). A call never waits in a thread and never holds the
interpreter while chronyd is silent: the native call is stepped by the loop itself, from a reader
callback on its socket (``loop.add_reader``) and a timer at its next resend or deadline
(``loop.call_later``). So many daemons are polled concurrently with :func:`asyncio.gather`, and a
frozen one costs its own timeout only. An answer that is in already when a step looks (chronyd on
the caller's core often answers before the send returns) is taken at once, as ``loop.sock_recv``
takes data that is waiting: such a call returns without a trip through the loop. Works with any
loop that has ``add_reader`` (asyncio's default loop on Linux, uvloop).

Calls on one :class:`AsyncChronyConnection` take turns (an :class:`asyncio.Lock` per connection):
they share one socket and each gets the whole timeout once its turn comes. For concurrency, use one
connection per daemon. A cancelled call sends nothing more; the connection stays usable and the
late reply to the cancelled request is never taken as the answer to a later call.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterable
from types import TracebackType

from . import _convert
from ._api import (
    _TRACKING_FIELDS,
    DEFAULT_TIMEOUT,
    _check_address,
    _check_parts,
    _checked,
    _checked_address,
    _Connected,
)
from ._models import TrackingStatus
from ._native_loader import native

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable
    from typing import Any, TypeVar

    from ._native import AsyncConnection as _NativeConnection
    from ._native import Call as _Call
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

    _T = TypeVar("_T")

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncChronyConnection",
    "get_activity",
    "get_all_ntp_data",
    "get_auth_data",
    "get_clients",
    "get_ntp_data",
    "get_rtc_data",
    "get_select_data",
    "get_server_stats",
    "get_smoothing",
    "get_snapshot",
    "get_source_names",
    "get_source_stats",
    "get_sources",
    "get_tracking",
]


class _Driver:
    """Steps one native call from the loop's callbacks until it is over: a reader on the socket
    it waits on, and a timer at its wake-up (the end of the current attempt, or the deadline)."""

    __slots__ = ("_call", "_done", "_fd", "_loop", "_replaced", "_timer")

    def __init__(self, loop: asyncio.AbstractEventLoop, call: _Call) -> None:
        self._loop = loop
        self._call = call
        # Made when the call first waits: a call whose answer is in at its first step (chronyd
        # on this core) never goes through the loop.
        self._done: asyncio.Future[None] | None = None
        self._fd: int | None = None
        self._replaced = 0
        self._timer: asyncio.TimerHandle | None = None

    def _arm(self) -> None:
        call, loop = self._call, self._loop
        fd, replaced = call.fd(), call.replaced_sockets()
        # A socket replaced (chronyd restarted) may reuse the old one's number: watch it anew.
        if fd != self._fd or replaced != self._replaced:
            if self._fd is not None:
                loop.remove_reader(self._fd)
            self._fd, self._replaced = fd, replaced
            if fd is not None:
                loop.add_reader(fd, self._step)
        if self._timer is not None:
            self._timer.cancel()
        delay = call.delay()
        self._timer = None if delay is None else loop.call_later(delay, self._step)

    def _step(self) -> None:
        done = self._done
        if done is None or done.done():
            return
        try:
            finished = self._call.step()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a bug (pyo3's PanicException is one): the task gets it
            done.set_exception(exc)
            return
        if finished:
            done.set_result(None)
        else:
            self._arm()

    def _disarm(self) -> None:
        if self._fd is not None:
            self._loop.remove_reader(self._fd)
            self._fd = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    async def run(self) -> Any:
        try:
            if not self._call.step():
                self._done = self._loop.create_future()
                self._arm()
                await self._done
            return self._call.result()
        finally:
            self._disarm()
            # Cancelled (or failed) before the end: stop now, so the connection gets its socket
            # back at once; nothing more is sent.
            self._call.cancel()


async def _drive(call: _Call) -> Any:
    return await _Driver(asyncio.get_running_loop(), call).run()


class AsyncChronyConnection(_Connected):
    """A reusable connection to chronyd for asyncio; the coroutines of
    :class:`pychrony.ChronyConnection`'s methods, with the same names and results.

    Use it with ``async with``, or call ``aclose()`` yourself::

        async with AsyncChronyConnection("127.0.0.1") as conn:
            status = await conn.get_tracking()

    Args:
        address: a Unix socket path (or any ``os.PathLike``), or a UDP command port address
            (``127.0.0.1``, ``127.0.0.1:323``, ``::1``, ``[::1]:323``); None: the default Unix
            socket paths.
        timeout: Seconds to wait for each call (keyword only; default 3.0).

    The socket is opened by ``__aenter__`` (or ``open()``) or by the first call, and kept until
    ``aclose()``; a later call opens a new one. Calls on one connection take turns, each within
    its own timeout counted from its turn. Use it from one event loop.
    """

    def __init__(
        self,
        address: str | os.PathLike[str] | None = None,
        *,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self._requested, self._timeout = _checked_address(address, timeout)
        self._conn: _NativeConnection = native().AsyncConnection(self._requested, self._timeout)
        self._turns = asyncio.Lock()

    async def _run(self, start: Callable[[], _Call]) -> Any:
        # The call is started in its turn: it takes the socket when it is created.
        async with self._turns:
            return await _drive(start())

    async def open(self) -> None:
        """Open the socket now (the first call does it when needed); does not wait for chronyd."""
        self._conn.open()

    async def get_tracking(self) -> TrackingStatus:
        """Retrieve current chrony tracking status. See :func:`pychrony.get_tracking`."""
        status: TrackingStatus = await self._run(
            lambda: self._conn.tracking(TrackingStatus, _TRACKING_FIELDS)
        )
        return status

    async def get_sources(self) -> list[Source]:
        """Retrieve chronyd's time sources. See :func:`pychrony.get_sources`."""
        return _convert.sources(await self._run(self._conn.sources))

    async def get_activity(self) -> Activity:
        """Retrieve the activity report. See :func:`pychrony.get_activity`."""
        return _convert.activity(await self._run(self._conn.activity))

    async def get_server_stats(self) -> ServerStats:
        """Retrieve the serverstats report. See :func:`pychrony.get_server_stats`."""
        return _convert.server_stats(await self._run(self._conn.server_stats))

    async def get_source_stats(self) -> list[SourceStats]:
        """Retrieve the sourcestats report. See :func:`pychrony.get_source_stats`."""
        return _convert.source_stats(await self._run(self._conn.source_stats))

    async def get_source_names(self) -> list[SourceName]:
        """Retrieve the sourcename report. See :func:`pychrony.get_source_names`."""
        return _convert.source_names(await self._run(self._conn.source_names))

    async def get_select_data(self) -> list[SelectData]:
        """Retrieve the selectdata report (over UDP chronyd refuses it: -3)."""
        return _convert.select_data(await self._run(self._conn.select_data))

    async def get_auth_data(self) -> list[AuthData]:
        """Retrieve the authdata report (over UDP chronyd refuses it: -3)."""
        return _convert.auth_data(await self._run(self._conn.auth_data))

    async def get_rtc_data(self) -> RTCData | None:
        """Retrieve the rtcdata report (None: chronyd tracks no RTC)."""
        return _convert.rtc_data(await self._run(self._conn.rtc_data))

    async def get_smoothing(self) -> Smoothing | None:
        """Retrieve the smoothing report (None: no ``smoothtime``)."""
        return _convert.smoothing(await self._run(self._conn.smoothing))

    async def get_clients(self) -> list[Client] | None:
        """Retrieve the clients report (None: ``noclientlog``; over UDP chronyd refuses it: -3)."""
        return _convert.clients(await self._run(self._conn.clients))

    async def get_ntp_data(self, address: str) -> NTPData | None:
        """Retrieve the ntpdata report of the NTP source at ``address`` (None: no such source).
        See :func:`pychrony.get_ntp_data`."""
        checked = _check_address(address)
        return _convert.ntp_data(await self._run(lambda: self._conn.ntp_data(checked)))

    async def get_all_ntp_data(self) -> list[NTPData]:
        """Retrieve the ntpdata report of every NTP source with an address."""
        return [_convert.ntp_record(r) for r in await self._run(self._conn.all_ntp_data)]

    async def get_snapshot(self, *, parts: Iterable[str] | None = None) -> Snapshot:
        """Retrieve every report at once (or the ``parts`` named). See
        :func:`pychrony.get_snapshot`."""
        names = _check_parts(parts)
        return _convert.snapshot(await self._run(lambda: self._conn.snapshot(names)))

    async def aclose(self) -> None:
        """Close the socket and remove the files it created; does nothing if it is not open. A
        call in flight goes on with its socket and closes it when it ends."""
        self._conn.close()

    async def __aenter__(self) -> AsyncChronyConnection:
        await self.open()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


async def _once(
    checked: tuple[str | None, float], read: Callable[[AsyncChronyConnection], Awaitable[_T]]
) -> _T:
    # As the blocking one-call functions: chronyd's Unix socket only (a path is never read as
    # a UDP address), the arguments checked (`_checked`) before anything is sent; the socket is
    # removed afterwards.
    path, seconds = checked
    conn = AsyncChronyConnection(None if path is None else os.path.abspath(path), timeout=seconds)
    try:
        return await read(conn)
    finally:
        await conn.aclose()


async def get_tracking(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> TrackingStatus:
    """:func:`pychrony.get_tracking` as a coroutine (a connection of its own, closed after)."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_tracking)


async def get_sources(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[Source]:
    """:func:`pychrony.get_sources` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_sources)


async def get_activity(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> Activity:
    """:func:`pychrony.get_activity` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_activity)


async def get_server_stats(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> ServerStats:
    """:func:`pychrony.get_server_stats` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_server_stats)


async def get_rtc_data(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> RTCData | None:
    """:func:`pychrony.get_rtc_data` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_rtc_data)


async def get_smoothing(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> Smoothing | None:
    """:func:`pychrony.get_smoothing` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_smoothing)


async def get_ntp_data(
    address: str,
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> NTPData | None:
    """:func:`pychrony.get_ntp_data` as a coroutine."""
    checked = _check_address(address)
    return await _once(_checked(socket_path, timeout), lambda c: c.get_ntp_data(checked))


async def get_all_ntp_data(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[NTPData]:
    """:func:`pychrony.get_all_ntp_data` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_all_ntp_data)


async def get_source_stats(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[SourceStats]:
    """:func:`pychrony.get_source_stats` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_source_stats)


async def get_source_names(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[SourceName]:
    """:func:`pychrony.get_source_names` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_source_names)


async def get_auth_data(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[AuthData]:
    """:func:`pychrony.get_auth_data` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_auth_data)


async def get_select_data(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[SelectData]:
    """:func:`pychrony.get_select_data` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_select_data)


async def get_clients(
    socket_path: str | os.PathLike[str] | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> list[Client] | None:
    """:func:`pychrony.get_clients` as a coroutine."""
    return await _once(_checked(socket_path, timeout), AsyncChronyConnection.get_clients)


async def get_snapshot(
    socket_path: str | os.PathLike[str] | None = None,
    *,
    timeout: float = DEFAULT_TIMEOUT,
    parts: Iterable[str] | None = None,
) -> Snapshot:
    """:func:`pychrony.get_snapshot` as a coroutine."""
    checked = _checked(socket_path, timeout)
    names = _check_parts(parts)
    return await _once(checked, lambda c: c.get_snapshot(parts=names))
