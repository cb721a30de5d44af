"""Sealing answers at rest: round trip, a fresh nonce each time, and nothing opens under another
key, another purpose or after tampering."""

from __future__ import annotations

import nacl.exceptions
import nacl.utils
import pytest

from rtserver.services.at_rest import AtRestBox

KEY = bytes(range(32))
PLAINTEXT = b'{"answers":{"9":1}}'


def test_round_trip_with_fresh_nonces() -> None:
    box = AtRestBox(KEY, b"screening")
    first, second = box.seal(PLAINTEXT), box.seal(PLAINTEXT)
    assert first != second and first.startswith("v1.")
    assert box.open(first) == box.open(second) == PLAINTEXT
    assert b"answers" not in first.encode()


@pytest.mark.parametrize(
    "other",
    [AtRestBox(nacl.utils.random(32), b"screening"), AtRestBox(KEY, b"session notes")],
    ids=["another key", "another purpose"],
)
def test_other_keys_do_not_open(other: AtRestBox) -> None:
    sealed = AtRestBox(KEY, b"screening").seal(PLAINTEXT)
    with pytest.raises(nacl.exceptions.CryptoError):
        other.open(sealed)


def test_tampering_is_detected() -> None:
    box = AtRestBox(KEY, b"screening")
    sealed = box.seal(PLAINTEXT)
    flipped = sealed[:-3] + ("A" if sealed[-3] != "A" else "B") + sealed[-2:]
    with pytest.raises(nacl.exceptions.CryptoError):
        box.open(flipped)
    with pytest.raises(ValueError, match="version"):
        box.open("v0." + sealed[3:])


def test_key_and_purpose_are_required() -> None:
    with pytest.raises(ValueError):
        AtRestBox(b"short", b"screening")
    with pytest.raises(ValueError):
        AtRestBox(KEY, b"")
    assert "redacted" in repr(AtRestBox(KEY, b"screening"))
