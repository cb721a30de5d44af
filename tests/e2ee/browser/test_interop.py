"""Browser <-> Python interop in real Chromium: the console's bundle (web/e2ee) and rtclient give
the same known answers, open each other's envelopes and verify each other's signatures."""

from __future__ import annotations

import binascii

import nacl.pwhash
import pytest
from playwright.async_api import Page

from rtclient import crypto, signed
from tests.e2ee.browser.console import (
    BROWSER_GROUP,
    KDF_LIMITS,
    MEMLIMIT,
    OPSLIMIT,
    as_peer,
    peer_json,
)

pytestmark = BROWSER_GROUP


async def test_primitives_give_the_known_answers(page: Page) -> None:
    """RFC 8032 and RFC 7748 vectors, and pynacl's argon2id and canonical bytes, in the page."""
    salt = bytes(range(16))
    tricky = {
        "b": 1,
        "a": ["x", "é", "\x7f", "\u2028", "😀", '"\\\n\t\x01/'],
        "10": True,
        "9": None,
    }
    answers = await page.evaluate(
        """async ({seed, x25519, salt, tricky, kdf}) => {
          const { e2ee } = window;
          const master = e2ee.MasterIdentity.restore(seed);
          const device = e2ee.DeviceIdentity.restore("u", "d", {signing: seed, encryption: x25519});
          const key = await e2ee.backupKey("kata sandi rahasia", {alg: "argon2id13", salt, ...kdf});
          return {
            publicKey: hex(e2ee.unb64(master.publicKey)),
            signature: hex(e2ee.unb64(master.sign(new Uint8Array()))),
            x25519Public: hex(e2ee.unb64(device.publicEncryptionKey)),
            argon2id: hex(key),
            canonical: hex(e2ee.canonical("purpose", tricky)),
          };
        }""",
        {
            "seed": crypto.b64(
                binascii.unhexlify(
                    "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
                )
            ),
            "x25519": crypto.b64(
                binascii.unhexlify(
                    "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
                )
            ),
            "salt": crypto.b64(salt),
            "tricky": tricky,
            "kdf": KDF_LIMITS,
        },
    )
    assert answers == {
        "publicKey": "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "signature": "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
        "x25519Public": "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        "argon2id": nacl.pwhash.argon2id.kdf(
            32, b"kata sandi rahasia", salt, opslimit=OPSLIMIT, memlimit=MEMLIMIT
        ).hex(),
        "canonical": signed.canonical("purpose", tricky).hex(),
    }


# envelopes ------------------------------------------------------------------------------------


async def test_envelopes_open_both_ways_and_the_page_refuses_tampering(page: Page) -> None:
    bob = crypto.DeviceIdentity.generate("bob", "b1")
    members = ["alice", "bob"]
    alice = as_peer(
        await page.evaluate("""() => {
          state.alice = e2ee.generateDevice("alice", "a1");
          return state.alice.peer;
        }""")
    )
    bob_peer = crypto.PeerDevice("bob", "b1", bob.public_signing_key, bob.public_encryption_key)
    text = "halo dari python: saya cemas ✓"
    envelope = crypto.seal(bob, "conv", members, "m1", text.encode(), [alice, bob_peer])

    got = await page.evaluate(
        """({envelope, bob, members}) => {
          const sender = peer(bob);
          const openAs = (me, env, conversation, msgId) => () =>
            e2ee.open(me, env, conversation, members, sender, msgId);
          const tampered = structuredClone(envelope);
          const bytes = e2ee.unb64(tampered.ciphertext);
          bytes[40] ^= 1;
          tampered.ciphertext = e2ee.b64(bytes);
          const stranger = e2ee.generateDevice("alice", "a2");
          return Promise.all([
            new TextDecoder().decode(openAs(state.alice, envelope, "conv", "m1")()),
            refusal(openAs(state.alice, envelope, "other-conv", "m1")),
            refusal(openAs(state.alice, envelope, "conv", "m2")),
            refusal(openAs(state.alice, tampered, "conv", "m1")),
            refusal(openAs(stranger, envelope, "conv", "m1")),
          ]);
        }""",
        {"envelope": envelope, "bob": peer_json(bob), "members": ["bob", "alice"]},
    )
    signature_refused = "CryptoError: envelope signature does not verify for this conversation"
    assert got == [
        text,
        signature_refused,  # re-addressed to another conversation
        signature_refused,  # replayed under another client_msg_id
        signature_refused,  # ciphertext tampered with
        "CryptoError: this device is not a recipient",
    ]

    long_text = "panjang " * 5000  # past the largest bucket: padded to a multiple of 16384
    for content in ("halo dari browser ✓", long_text):
        sealed = await page.evaluate(
            """({bob, members, content}) => e2ee.seal(
              state.alice, "conv", members, "m2", content,
              [peer(bob), state.alice.peer],
            )""",
            {"bob": peer_json(bob), "members": members, "content": content},
        )
        assert [r["device_id"] for r in sealed["recipients"]] == ["a1", "b1"]
        opened = crypto.open_envelope(bob, sealed, "conv", members, alice, "m2")
        assert opened.decode() == content
        with pytest.raises(crypto.CryptoError):
            crypto.open_envelope(bob, sealed, "other-conv", members, alice, "m2")


# signatures -----------------------------------------------------------------------------------


SDP = "v=0\r\na=fingerprint:sha-256 AB:CD:EF\r\na=setup:actpass\r\n"


async def test_device_keys_device_lists_and_sdp_signatures_verify_both_ways(page: Page) -> None:
    made = await page.evaluate(
        """(sdp) => {
          const master = e2ee.generateMaster();
          const device = e2ee.generateDevice("u-web", "d-web");
          return {
            master: master.publicKey,
            device: device.peer,
            keys: e2ee.signDeviceKeys(device, master),
            list: e2ee.signDeviceList(master, "u-web", 2, ["d-web", "d-old", "d-web"]),
            sdp: e2ee.signSdp(device, "call-1", "offer", sdp),
          };
        }""",
        SDP,
    )
    keys, device = made["keys"], made["device"]
    assert (keys["signing_key"], keys["encryption_key"]) == (
        device["signingKey"],
        device["encryptionKey"],
    )
    body = signed.device_keys_body("u-web", "d-web", keys["signing_key"], keys["encryption_key"])
    assert crypto.verify(made["master"], body, keys["signature"])
    listing = made["list"]
    assert (listing["version"], listing["devices"]) == (2, ["d-old", "d-web"])
    list_body = signed.device_list_body("u-web", 2, ["d-web", "d-old"])
    assert crypto.verify(made["master"], list_body, listing["signature"])
    crypto.verify_sdp(as_peer(device), "call-1", "offer", SDP, made["sdp"])
    with pytest.raises(crypto.CryptoError):
        crypto.verify_sdp(as_peer(device), "call-1", "offer", SDP.replace("AB", "00"), made["sdp"])

    master = crypto.MasterIdentity.generate()
    py_device = crypto.DeviceIdentity.generate("u-py", "d-py")
    checks = await page.evaluate(
        """({master, keys, list, device, sdp, sdpSignature}) => {
          const keysBody = e2ee.deviceKeysBody(
            "u-py", "d-py", keys.signing_key, keys.encryption_key);
          const listBody = e2ee.deviceListBody("u-py", list.version, list.devices);
          const swapped = sdp.replace("AB", "00");
          return Promise.all([
            e2ee.verify(master, keysBody, keys.signature),
            e2ee.verify(master, listBody, list.signature),
            e2ee.verify(master, e2ee.deviceListBody("u-py", 4, list.devices), list.signature),
            refusal(() => e2ee.verifySdp(peer(device), "call-1", "answer", sdp, sdpSignature)),
            refusal(() => e2ee.verifySdp(peer(device), "call-1", "answer", swapped, sdpSignature)),
          ]);
        }""",
        {
            "master": master.public_key,
            "keys": py_device.keys_signed_by(master),
            "list": crypto.sign_device_list(master, "u-py", 3, ["d-py", "d-a"]),
            "device": peer_json(py_device),
            "sdp": SDP,
            "sdpSignature": crypto.sign_sdp(py_device, "call-1", "answer", SDP),
        },
    )
    assert checks == [
        True,
        True,
        False,  # a replayed signature does not cover another list version
        None,
        "CryptoError: SDP signature does not verify: the call may be intercepted",
    ]


async def test_safety_numbers_agree(page: Page) -> None:
    ana, budi = crypto.MasterIdentity.generate(), crypto.MasterIdentity.generate()
    expected = crypto.safety_number("user-ana", ana.public_key, "user-budi", budi.public_key)
    numbers = await page.evaluate(
        """({ana, budi}) => [
          e2ee.safetyNumber("user-ana", ana, "user-budi", budi),
          e2ee.safetyNumber("user-budi", budi, "user-ana", ana),
        ]""",
        {"ana": ana.public_key, "budi": budi.public_key},
    )
    assert numbers == [expected, expected]
    assert len(expected) == 60 and expected.isdigit()
