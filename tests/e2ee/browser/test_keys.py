"""The browser's keyring and key backup against the Python SDK's: trust on first use with pinned
master keys, refused unsigned devices, and backups that decrypt on either side."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.async_api import Page

from rtclient import crypto
from tests.e2ee.browser.console import BROWSER_GROUP, KDF_LIMITS, MEMLIMIT, OPSLIMIT, peer_json

pytestmark = BROWSER_GROUP


def published(
    user_id: str, master: crypto.MasterIdentity, listed: list[str], *devices: dict[str, str]
) -> dict[str, Any]:
    """What GET /api/v1/keys/users/{id} answers, built by a (possibly lying) server."""
    return {
        "user_id": user_id,
        "master_key": {"public_key": master.public_key, "version": 1},
        "device_list": crypto.sign_device_list(master, user_id, 1, listed),
        "devices": [{"user_id": user_id, **d} for d in devices],
    }


def signed_keys(device: crypto.DeviceIdentity, master: crypto.MasterIdentity) -> dict[str, str]:
    return {"device_id": device.device_id, **device.keys_signed_by(master)}


async def test_browser_keyring_pins_the_master_key_and_refuses_unsigned_devices(
    page: Page,
) -> None:
    master, intruder = crypto.MasterIdentity.generate(), crypto.MasterIdentity.generate()
    d1, d2, d3, d4 = (crypto.DeviceIdentity.generate("u1", f"d{i}") for i in range(1, 5))
    answers = [
        # d2 is not in the signed list; d3's keys were signed by another key
        published(
            "u1",
            master,
            ["d1", "d3"],
            *(signed_keys(d, master) for d in (d1, d2)),
            signed_keys(d3, intruder),
        ),
        published("u1", master, ["d1", "d4"], signed_keys(d1, master), signed_keys(d4, master)),
        published("u1", intruder, ["d1"], signed_keys(d1, intruder)),
    ]
    seen = await page.evaluate(
        """async (answers) => {
          const fetch = async () => new Response(JSON.stringify(answers.shift()));
          const keyring = new e2ee.Keyring({ token: "t", fetch });
          const ids = async () => (await keyring.devicesOf("u1")).map((d) => d.deviceId);
          const first = await ids();
          keyring.forget("u1");
          const second = await ids();
          keyring.forget("u1");
          let changed = null;
          try { await ids(); } catch (e) { changed = [e.name, e.pinned, e.offered]; }
          return { first, second, changed, rejected: keyring.rejected, notices: keyring.notices };
        }""",
        answers,
    )
    assert seen == {
        "first": ["d1"],
        "second": ["d1", "d4"],
        "changed": ["KeyChanged", master.public_key, intruder.public_key],
        "rejected": ["u1/d2: not signed by master", "u1/d3: not signed by master"],
        "notices": ["u1 signed in on a new device d4"],
    }


# key backup -----------------------------------------------------------------------------------


async def test_key_backups_decrypt_both_ways(page: Page) -> None:
    python_device = crypto.DeviceIdentity.generate("u1", "d-py")
    secrets = {"master": crypto.MasterIdentity.generate().export()}
    secrets.update({f"device:d-py:{k}": v for k, v in python_device.export().items()})
    backup = crypto.encrypt_backup(
        secrets, "kata sandi panjang ✓", opslimit=OPSLIMIT, memlimit=MEMLIMIT
    )
    got = await page.evaluate(
        """async ({backup, kdf}) => {
          const restored = await e2ee.decryptBackup(backup, "kata sandi panjang ✓");
          const wrong = await refusal(() => e2ee.decryptBackup(backup, "salah"));
          const master = e2ee.generateMaster();
          state.device = e2ee.generateDevice("u1", "d-web");
          const mine = { master: master.export() };
          for (const [part, value] of Object.entries(state.device.export())) {
            mine[`device:d-web:${part}`] = value;
          }
          return {
            restored,
            wrong,
            backup: await e2ee.encryptBackup(mine, "sandi dari browser", kdf),
            master: master.publicKey,
            device: state.device.peer,
          };
        }""",
        {"backup": backup, "kdf": KDF_LIMITS},
    )
    assert got["restored"] == secrets
    assert got["wrong"] == "CryptoError: wrong passphrase or damaged backup"
    assert got["backup"]["kdf"]["alg"] == "argon2id13"
    restored = crypto.decrypt_backup(got["backup"], "sandi dari browser")
    # The exported keys are the Python SDK's format: the same public keys come back.
    assert crypto.MasterIdentity.restore(restored["master"]).public_key == got["master"]
    device = crypto.DeviceIdentity.restore(
        "u1",
        "d-web",
        {
            "signing": restored["device:d-web:signing"],
            "encryption": restored["device:d-web:encryption"],
        },
    )
    assert peer_json(device) == got["device"]
    with pytest.raises(crypto.CryptoError):
        crypto.decrypt_backup(got["backup"], "salah")
