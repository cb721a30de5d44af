"""Primitives against published known answers, and the signed bytes of SDK and server agree."""

from __future__ import annotations

import binascii

import nacl.bindings
import nacl.public
import nacl.signing
from hypothesis import given
from hypothesis import strategies as st

from rtclient import crypto, signed
from rtserver.domain import keys as server_keys


def test_ed25519_rfc8032_test_1() -> None:
    seed = binascii.unhexlify("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60")
    key = nacl.signing.SigningKey(seed)
    assert bytes(key.verify_key).hex() == (
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
    )
    assert key.sign(b"").signature.hex() == (
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
        "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"
    )


def test_x25519_rfc7748_section_6_1() -> None:
    alice = nacl.public.PrivateKey(
        binascii.unhexlify("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a")
    )
    bob = nacl.public.PrivateKey(
        binascii.unhexlify("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb")
    )
    assert bytes(alice.public_key).hex() == (
        "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
    )
    shared = nacl.bindings.crypto_scalarmult(bytes(alice), bytes(bob.public_key))
    assert shared.hex() == "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"


def test_signed_bytes_are_identical_in_sdk_and_server() -> None:
    assert signed.device_keys_body("u", "d", "s", "e") == server_keys.device_keys_body(
        "u", "d", "s", "e"
    )
    assert signed.device_list_body("u", 3, ["b", "a"]) == server_keys.device_list_body(
        "u", 3, ["a", "b"]
    )
    sender = crypto.DeviceIdentity.generate("u1", "d1")
    peer = crypto.PeerDevice(
        "u2", "d2", "x", crypto.b64(bytes(nacl.public.PrivateKey.generate().public_key))
    )
    envelope = crypto.seal(sender, "c1", ["u1", "u2"], "m1", b"hi", [peer])
    assert signed.envelope_body(envelope, "c1", ["u2", "u1"], "u1", "m1") == (
        server_keys.envelope_body(envelope, "c1", ["u1", "u2"], "u1", "m1")
    )


@given(st.binary(max_size=40_000))
def test_padding_round_trips_and_hides_length_within_buckets(content: bytes) -> None:
    padded = crypto.pad(content)
    assert crypto.unpad(padded) == content
    assert len(padded) in crypto.PAD_BUCKETS or len(padded) % 16384 == 0


def test_seal_open_round_trip_and_context_binding() -> None:
    alice = crypto.DeviceIdentity.generate("alice", "a1")
    bob = crypto.DeviceIdentity.generate("bob", "b1")
    as_peer = crypto.PeerDevice(
        "alice", "a1", alice.public_signing_key, alice.public_encryption_key
    )
    bob_peer = crypto.PeerDevice("bob", "b1", bob.public_signing_key, bob.public_encryption_key)
    envelope = crypto.seal(alice, "conv", ["alice", "bob"], "m1", b"saya cemas", [bob_peer])
    assert b"saya" not in str(envelope).encode()
    assert crypto.open_envelope(bob, envelope, "conv", ["alice", "bob"], as_peer, "m1") == (
        b"saya cemas"
    )
    for conversation, members, client_id in (
        ("other", ["alice", "bob"], "m1"),  # re-addressed to another conversation
        ("conv", ["alice", "bob", "eve"], "m1"),  # someone added to the members
        ("conv", ["alice", "bob"], "m2"),  # replayed under another id
    ):
        try:
            crypto.open_envelope(bob, envelope, conversation, members, as_peer, client_id)
            raise AssertionError("must refuse")
        except crypto.CryptoError:
            pass


def test_safety_number_is_symmetric_and_key_dependent() -> None:
    a, b = crypto.MasterIdentity.generate(), crypto.MasterIdentity.generate()
    number = crypto.safety_number("u1", a.public_key, "u2", b.public_key)
    assert number == crypto.safety_number("u2", b.public_key, "u1", a.public_key)
    assert len(number) == 60 and number.isdigit()
    other = crypto.MasterIdentity.generate()
    assert number != crypto.safety_number("u1", a.public_key, "u2", other.public_key)


def test_backup_round_trip_and_wrong_passphrase() -> None:
    secrets = {"master": "c2VjcmV0", "device": "ZGV2aWNl"}
    backup = crypto.encrypt_backup(
        secrets, "kata sandi panjang", opslimit=2, memlimit=8 * 1024 * 1024
    )
    assert "c2VjcmV0" not in str(backup)
    assert crypto.decrypt_backup(backup, "kata sandi panjang") == secrets
    try:
        crypto.decrypt_backup(backup, "salah")
        raise AssertionError("wrong passphrase must fail")
    except crypto.CryptoError:
        pass
