"""Fixtures shared by the aiortc call tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.calls.media_devices import CallDevices, call_devices, loopback_only
from tests.support.people import Devices
from tests.support.server import RunningServer


@pytest.fixture
async def lines(
    server: RunningServer, clients: Devices, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[CallDevices]:
    """Call devices on `server` (a module may override it), media kept on loopback."""
    loopback_only(monkeypatch)
    async with call_devices(server.url, clients) as made:
        yield made
