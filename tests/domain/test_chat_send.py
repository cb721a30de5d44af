"""Pure rules of the send path: envelope checks against a view, and batch planning."""

from __future__ import annotations

from collections import defaultdict

from hypothesis import given
from hypothesis import strategies as st

from rtclient.crypto import DeviceIdentity, PeerDevice, seal
from rtserver.domain.chat_send import (
    NOT_MEMBER,
    BatchSend,
    ConversationView,
    SameAs,
    SendKey,
    Stale,
    Store,
    Stored,
    check_send,
    plan_batch,
)


def _peer(identity: DeviceIdentity, user_id: str) -> PeerDevice:
    return PeerDevice(
        user_id,
        identity.device_id,
        identity.public_signing_key,
        identity.public_encryption_key,
    )


def _view(
    *devices: tuple[str, DeviceIdentity], members: frozenset[str] | None = None
) -> ConversationView:
    keys: dict[str, dict[str, str]] = defaultdict(dict)
    for user, identity in devices:
        keys[user][identity.device_id] = identity.public_signing_key
    return ConversationView("c1", members or frozenset(keys), dict(keys))


def test_check_send_accepts_a_sealed_envelope_and_names_each_refusal() -> None:
    alice = DeviceIdentity.generate("alice", "a-phone")
    bob = DeviceIdentity.generate("bob", "b-phone")
    bob_laptop = DeviceIdentity.generate("bob", "b-laptop")
    view = _view(("alice", alice), ("bob", bob))
    members = sorted(view.members)
    envelope = seal(
        alice, "c1", members, "m1", b"hello", [_peer(alice, "alice"), _peer(bob, "bob")]
    )
    assert check_send(view, "alice", "a-phone", "m1", envelope) is None
    assert check_send(view, "carol", "c-phone", "m1", envelope) is NOT_MEMBER
    refusal = check_send(view, "alice", "a-tablet", "m1", envelope)
    assert refusal is not None and refusal.code == "device_keys_missing"
    replayed = check_send(view, "alice", "a-phone", "m2", envelope)  # signature binds the id
    assert replayed is not None and replayed.code == "bad_signature"
    grown = _view(("alice", alice), ("bob", bob), ("bob", bob_laptop))
    missing = check_send(grown, "alice", "a-phone", "m1", envelope)
    assert missing is not None and missing.code == "missing_devices"
    assert missing.details == {"missing": [{"user_id": "bob", "device_id": "b-laptop"}]}
    shrunk = _view(("alice", alice), members=frozenset({"alice", "bob"}))
    unknown = check_send(shrunk, "alice", "a-phone", "m1", envelope)
    assert unknown is not None and unknown.code == "unknown_devices"


def _send(conversation: str, sender: str, client_id: str, view: ConversationView) -> BatchSend:
    return BatchSend((conversation, sender, client_id), view)


def _views(*conversations: str) -> dict[str, ConversationView]:
    return {c: ConversationView(c, frozenset({"u1", "u2"}), {}) for c in conversations}


def test_plan_batch_decides_each_kind_of_send() -> None:
    views = _views("a", "b")
    stale = ConversationView("b", frozenset({"u1", "u2", "u3"}), {})
    sends = [
        _send("a", "u1", "m1", views["a"]),
        _send("b", "u2", "m1", views["b"]),
        _send("a", "u1", "m1", views["a"]),  # a retry of the first, in the same batch
        _send("a", "u2", "old", views["a"]),  # stored by an earlier batch
        _send("b", "u1", "m2", stale),  # checked against a view that has changed
        _send("gone", "u1", "m3", views["a"]),  # the conversation no longer exists
        _send("b", "u9", "m4", views["b"]),  # not (or no longer) a member
        _send("a", "u2", "m5", views["a"]),
    ]
    decisions, heads = plan_batch(sends, {"a": 7, "b": 0}, views, {("a", "u2", "old"): 3})
    assert decisions == [
        Store(8),
        Store(1),
        SameAs(0),
        Stored(3),
        Stale(views["b"]),
        Stale(None),
        Stale(views["b"]),
        Store(9),
    ]
    assert heads == {"a": 9, "b": 1}


def test_a_former_member_learns_nothing_from_a_retry() -> None:
    views = _views("a")
    decisions, heads = plan_batch(
        [_send("a", "u3", "old", views["a"])], {"a": 5}, views, {("a", "u3", "old"): 2}
    )
    assert decisions == [Stale(views["a"])] and heads == {}


sends_strategy = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "gone"]),
        st.sampled_from(["u1", "u2", "u3"]),
        st.sampled_from([f"m{i}" for i in range(6)]),
        st.booleans(),  # checked against a stale view
    ),
    max_size=40,
)


@given(
    sends=sends_strategy,
    heads=st.fixed_dictionaries({c: st.integers(0, 1000) for c in "abc"}),
    stored_keys=st.sets(
        st.tuples(
            st.sampled_from("abc"), st.sampled_from(["u1", "u2"]), st.sampled_from(["m0", "m1"])
        )
    ),
)
def test_plan_batch_keeps_every_conversation_gapless_and_stores_a_key_once(
    sends: list[tuple[str, str, str, bool]],
    heads: dict[str, int],
    stored_keys: set[SendKey],
) -> None:
    views = _views("a", "b", "c")
    old = ConversationView("x", frozenset(), {})
    batch = [_send(c, u, m, old if stale else views.get(c, old)) for c, u, m, stale in sends]
    stored = {key: 1 for key in stored_keys}
    decisions, advanced = plan_batch(batch, heads, views, stored)
    assert len(decisions) == len(batch)
    given_seqs: dict[str, list[int]] = defaultdict(list)
    first_store: dict[SendKey, int] = {}
    for index, (send, decision) in enumerate(zip(batch, decisions, strict=True)):
        conversation, sender, _ = send.key
        if isinstance(decision, Store):
            assert send.key not in stored and send.key not in first_store
            assert send.view == views[conversation] and sender in views[conversation].members
            first_store[send.key] = index
            given_seqs[conversation].append(decision.seq)
        elif isinstance(decision, SameAs):
            assert first_store.get(send.key) == decision.index < index
        elif isinstance(decision, Stored):
            assert send.key in stored and sender in views[conversation].members
        else:
            assert isinstance(decision, Stale)
            assert decision.view == views.get(conversation)
    for conversation, seqs in given_seqs.items():
        start = heads[conversation]
        assert seqs == list(range(start + 1, start + 1 + len(seqs)))
        assert advanced[conversation] == seqs[-1]
    assert set(advanced) == set(given_seqs)
