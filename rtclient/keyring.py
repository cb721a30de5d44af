"""Fetching and checking peers' keys: trust on first use of a master key, then pin it.

A changed master key raises KeyChanged until the user re-verifies (safety number); a new device
signed by the pinned master key is only a notice; a device the master key did not sign, or
that is missing from the signed device list, is never encrypted to.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import aiohttp

from rtclient import signed
from rtclient.crypto import CryptoError, PeerDevice, verify


class KeyChanged(CryptoError):
    """Blocking warning: this person's master key is not the one pinned at first contact."""

    def __init__(self, user_id: str, pinned: str, offered: str) -> None:
        super().__init__(f"master key of {user_id} changed: verify before continuing")
        self.user_id, self.pinned, self.offered = user_id, pinned, offered


@dataclass
class Keyring:
    base_url: str
    token: str
    http: aiohttp.ClientSession
    pins: dict[str, str] = field(default_factory=dict)
    known_devices: dict[str, set[str]] = field(default_factory=dict)
    notices: list[str] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)
    _cache: dict[str, list[PeerDevice]] = field(default_factory=dict)

    async def fetch(self, user_id: str) -> dict[str, Any]:
        async with self.http.get(
            f"{self.base_url}/api/v1/keys/users/{user_id}",
            headers={"Authorization": f"Bearer {self.token}"},
        ) as response:
            body = await response.json()
            if response.status != 200:
                raise CryptoError(f"cannot fetch keys of {user_id}: {body}")
            return dict(body)

    def forget(self, user_id: str | None = None) -> None:
        if user_id is None:
            self._cache.clear()
        else:
            self._cache.pop(user_id, None)

    def accept_master(self, user_id: str, master_key: str) -> None:
        """The user compared safety numbers and accepts the new master key."""
        self.pins[user_id] = master_key
        self.forget(user_id)

    async def devices_of(self, user_id: str) -> list[PeerDevice]:
        if user_id in self._cache:
            return self._cache[user_id]
        published = await self.fetch(user_id)
        master = (published.get("master_key") or {}).get("public_key")
        if not master:
            return []
        pinned = self.pins.setdefault(user_id, master)
        if pinned != master:
            raise KeyChanged(user_id, pinned, master)
        listing = published.get("device_list") or {}
        listed: set[str] = set()
        if listing and verify(
            master,
            signed.device_list_body(user_id, listing["version"], listing["devices"]),
            listing["signature"],
        ):
            listed = set(listing["devices"])
        elif listing:
            self.rejected.append(f"{user_id}: device list not signed by the master key")
        devices = []
        for entry in published.get("devices", []):
            body = signed.device_keys_body(
                user_id, entry["device_id"], entry["signing_key"], entry["encryption_key"]
            )
            if entry["device_id"] not in listed or not verify(master, body, entry["signature"]):
                self.rejected.append(f"{user_id}/{entry['device_id']}: not signed by master")
                continue
            devices.append(
                PeerDevice(
                    user_id, entry["device_id"], entry["signing_key"], entry["encryption_key"]
                )
            )
        seen = self.known_devices.setdefault(user_id, set())
        first_contact = not seen
        for device in devices:
            if not first_contact and device.device_id not in seen:
                self.notices.append(f"{user_id} signed in on a new device {device.device_id}")
            seen.add(device.device_id)
        self._cache[user_id] = devices
        return devices
