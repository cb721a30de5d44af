"""Chat fixtures: a server whose rate limits do not get in the way of bursts."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.conftest import SettingsFactory
from tests.support.people import Devices, Pair, Person, chat, make_counselor, open_direct
from tests.support.server import RunningServer, serve_in_process

__all__ = ["Devices", "Pair", "Person", "chat", "make_counselor", "open_direct"]


@pytest.fixture
async def server(make_settings: SettingsFactory) -> AsyncIterator[RunningServer]:
    settings = make_settings(chat_rate_per_connection=10_000, chat_burst_per_connection=10_000)
    async with serve_in_process(settings) as running:
        yield running
