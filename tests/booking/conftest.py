"""Booking fixtures: a real server on a frozen clock, a bookable counselor and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from rtserver.clock import FrozenClock
from tests.booking.factories import NOW, Counselor, Person, make_client, make_counselor
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.server import RunningServer, serve_in_process


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
async def server(
    make_settings: SettingsFactory, clock: FrozenClock
) -> AsyncIterator[RunningServer]:
    settings = make_settings(login_max_attempts_per_ip=1000, password_hash_concurrency=8)
    async with serve_in_process(settings, clock=clock) as running:
        yield running


@pytest.fixture
async def counselor(api: Api, server: RunningServer) -> Counselor:
    """Dr. Sari in Jakarta, Mon-Fri 09-12 and 13-17, 50-minute sessions every hour."""
    return await make_counselor(api, server, "dr.sari")


@pytest.fixture
async def client(api: Api) -> Person:
    return await make_client(api, "bintang")
