# pychrony.aio as a type checker sees it: the coroutines give what the blocking calls give.
import asyncio
from pathlib import Path
from typing import assert_type

import pychrony
import pychrony.aio as aio
from pychrony import TrackingStatus
from pychrony.aio import AsyncChronyConnection


async def poll(addresses: list[str]) -> list[TrackingStatus | BaseException]:
    async def one(address: str) -> TrackingStatus:
        async with AsyncChronyConnection(address, timeout=1.0) as conn:
            assert_type(conn, AsyncChronyConnection)
            assert_type(await conn.get_sources(), list[pychrony.Source])
            assert_type(await conn.get_rtc_data(), pychrony.RTCData | None)
            assert_type(await conn.get_ntp_data("192.0.2.1"), pychrony.NTPData | None)
            assert_type(await conn.get_snapshot(parts=["tracking"]), pychrony.Snapshot)
            transport: str | None = conn.transport
            assert transport in ("unix", "udp")
            return await conn.get_tracking()

    return await asyncio.gather(*(one(a) for a in addresses), return_exceptions=True)


async def once() -> None:
    status = await aio.get_tracking(Path("/run/chrony/chronyd.sock"), timeout=1.5)
    assert_type(status, TrackingStatus)
    assert_type(await aio.get_clients(), list[pychrony.Client] | None)
    assert_type(await aio.get_snapshot(parts=["sources"]), pychrony.Snapshot)
    conn = AsyncChronyConnection()
    await conn.aclose()


results = asyncio.run(poll(["127.0.0.1", "/run/chrony/chronyd.sock"]))
