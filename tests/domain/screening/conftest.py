from __future__ import annotations

import pytest

from rtserver.domain.screening import Instrument, load_instruments


@pytest.fixture(scope="session")
def instruments() -> dict[str, Instrument]:
    return load_instruments()
