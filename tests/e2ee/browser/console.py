"""The test console for the browser tests: Chromium's flags, the page's origin, and how Python
devices cross into page.evaluate and back."""

from __future__ import annotations

from pathlib import Path

import pytest

from rtclient import crypto
from tests.support.server import ROOT

E2EE_DIR = ROOT / "web" / "e2ee"
PAGE = Path(__file__).with_name("page.html")
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# The console's origin, served by the test itself (nothing listens there). A loopback name, so
# the page is a secure context that may be granted Chromium's local-network-access permission to
# reach the server on 127.0.0.1.
ORIGIN = "http://localhost:8400"
OPSLIMIT, MEMLIMIT = 2, 8 * 1024 * 1024  # the smallest argon2id limits the server accepts
KDF_LIMITS = {"opslimit": OPSLIMIT, "memlimit": MEMLIMIT}
# Every browser test on one xdist worker, so the bundle is built once per run.
BROWSER_GROUP = pytest.mark.xdist_group("browser")


def peer_json(device: crypto.DeviceIdentity) -> dict[str, str]:
    """A Python device as the page's `peer()` takes it."""
    return {
        "userId": device.user_id,
        "deviceId": device.device_id,
        "signingKey": device.public_signing_key,
        "encryptionKey": device.public_encryption_key,
    }


def as_peer(keys: dict[str, str]) -> crypto.PeerDevice:
    """A page device's `peer` as the Python SDK's PeerDevice."""
    return crypto.PeerDevice(
        keys["userId"], keys["deviceId"], keys["signingKey"], keys["encryptionKey"]
    )
