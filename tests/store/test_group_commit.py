"""Group commit of chat messages on SQLite and PostgreSQL: concurrent sends across many
conversations share transactions and still get gapless seqs, each client id is stored once, and
one failing send does not take its batch down with it."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, func, insert, select, update

from rtserver.domain.chat import Message
from rtserver.domain.chat_send import BatchSend, ConversationView
from rtserver.services.conversation_views import ConversationViews
from rtserver.services.group_commit import Committed, GroupCommit, Recheck
from rtserver.store import chat_batch
from rtserver.store.chat_batch import BatchResult, ChatWriter, NewMessage
from rtserver.store.database import Database
from rtserver.store.keys_tables import DeviceKeysRow, DeviceListRow, MasterKeyRow
from rtserver.store.tables import ConversationRow, DeviceRow, MemberRow, MessageRow, UserRow
from rtserver.store.view_reads import view_reader_for

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
CONVERSATIONS = 20


@pytest.fixture
async def database(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    await _populate(database)
    yield database
    await database.close()


async def _populate(database: Database) -> None:
    """CONVERSATIONS direct conversations c0.. of users u<2i> and u<2i+1>, one keyed device each."""
    users = range(2 * CONVERSATIONS)
    async with database.write_connection() as connection:
        for table, rows in [
            (
                UserRow,
                [
                    {
                        "id": f"u{i}",
                        "login": f"user{i}",
                        "display_name": "x",
                        "role": "client",
                        "password_hash": "x",
                        "created_at": NOW,
                    }
                    for i in users
                ],
            ),
            (
                DeviceRow,
                [
                    {"id": f"d{i}", "user_id": f"u{i}", "name": "x", "created_at": NOW}
                    | {"last_seen_at": NOW}
                    for i in users
                ],
            ),
            (
                MasterKeyRow,
                [
                    {"user_id": f"u{i}", "public_key": "k", "version": 1, "updated_at": NOW}
                    for i in users
                ],
            ),
            (
                DeviceKeysRow,
                [
                    {"device_id": f"d{i}", "user_id": f"u{i}", "signing_key": f"s{i}"}
                    | {"encryption_key": "e", "signature": "g", "master_version": 1}
                    | {"created_at": NOW}
                    for i in users
                ],
            ),
            (
                DeviceListRow,
                [
                    {"user_id": f"u{i}", "version": 1, "devices": json.dumps([f"d{i}"])}
                    | {"signature": "g", "master_version": 1, "updated_at": NOW}
                    for i in users
                ],
            ),
            (
                ConversationRow,
                [
                    {"id": f"c{i}", "kind": "direct", "created_by": f"u{2 * i}"}
                    | {"created_at": NOW, "last_seq": 0}
                    for i in range(CONVERSATIONS)
                ],
            ),
            (
                MemberRow,
                [
                    {"conversation_id": f"c{i}", "user_id": f"u{2 * i + k}", "role": "member"}
                    | {"joined_at": NOW, "joined_seq": 0, "read_seq": 0}
                    for i in range(CONVERSATIONS)
                    for k in (0, 1)
                ],
            ),
        ]:
            await connection.execute(insert(table), rows)


def _view(conversation: int, *users: int) -> ConversationView:
    """A view of what _populate wrote: each user has one current device d<n> with key s<n>."""
    members = frozenset(f"u{u}" for u in users)
    return ConversationView(
        f"c{conversation}", members, {f"u{u}": {f"d{u}": f"s{u}"} for u in users}
    )


def _populated_views() -> dict[str, ConversationView]:
    return {f"c{i}": _view(i, 2 * i, 2 * i + 1) for i in range(CONVERSATIONS)}


def _message(conversation: str, sender: str, client_msg_id: str) -> Message:
    envelope = {"v": 1, "ciphertext": f"{conversation}/{sender}/{client_msg_id}"}
    return Message(conversation, 0, sender, f"d{sender[1:]}", client_msg_id, envelope, NOW)


async def _submit(
    committer: GroupCommit, view: ConversationView, sender: str, client_msg_id: str
) -> Committed | Recheck:
    message = _message(view.conversation_id, sender, client_msg_id)
    key = (view.conversation_id, sender, client_msg_id)
    return await committer.submit(BatchSend(key, view), message, json.dumps(message.envelope))


async def _stored_seqs(database: Database) -> dict[str, list[tuple[int, str, str]]]:
    async with database.read_connection() as connection:
        rows = await connection.execute(
            select(
                MessageRow.conversation_id,
                MessageRow.seq,
                MessageRow.sender_id,
                MessageRow.client_msg_id,
            ).order_by(MessageRow.conversation_id, MessageRow.seq)
        )
        found: dict[str, list[tuple[int, str, str]]] = {}
        for conversation, seq, sender, client_msg_id in rows:
            found.setdefault(conversation, []).append((seq, sender, client_msg_id))
        return found


async def _heads(database: Database) -> dict[str, int]:
    async with database.read_connection() as connection:
        rows = await connection.execute(select(ConversationRow.id, ConversationRow.last_seq))
        return {conversation: int(seq) for conversation, seq in rows}


async def test_concurrent_senders_across_conversations_stay_gapless(database: Database) -> None:
    views = _populated_views()
    committer = GroupCommit(database, ConversationViews(database, ttl=60))
    per_conversation = 12
    sends = [
        (views[f"c{c}"], f"u{2 * c + i % 2}", f"m{i}")
        for i in range(per_conversation)
        for c in range(CONVERSATIONS)
    ]
    retries = sends[::7]  # the same client ids again, while the first sends are in flight
    try:
        outcomes = await asyncio.gather(*(_submit(committer, *send) for send in sends + retries))
    finally:
        await committer.stop()
    assert all(isinstance(o, Committed) for o in outcomes)
    by_key: dict[tuple[str, str, str], list[Committed]] = {}
    for outcome in outcomes:
        assert isinstance(outcome, Committed)
        m = outcome.message
        by_key.setdefault((m.conversation_id, m.sender_id, m.client_msg_id), []).append(outcome)
        assert set(outcome.member_ids) == views[m.conversation_id].members
    assert len(by_key) == len(sends)
    for answers in by_key.values():  # one store per client id; every answer names its seq
        assert len({a.message.seq for a in answers}) == 1
        assert sum(not a.duplicate for a in answers) == 1
    stored = await _stored_seqs(database)
    assert sorted(stored) == sorted(views)
    for conversation, rows in stored.items():
        assert [seq for seq, _, _ in rows] == list(range(1, per_conversation + 1)), conversation
        assert len({(sender, cid) for _, sender, cid in rows}) == per_conversation
    assert await _heads(database) == {c: per_conversation for c in views}
    assert committer.batches < len(sends) // 4  # the sends really shared transactions


async def test_one_batch_decides_retries_stale_checks_and_stored_ids(database: Database) -> None:
    views = _populated_views()
    committer = GroupCommit(database, ConversationViews(database, ttl=60), linger=0.05)
    stale = ConversationView("c1", frozenset({"u2", "u3", "u99"}), {})
    try:
        stored_before = await _submit(committer, views["c0"], "u0", "earlier")
        outcomes = await asyncio.gather(
            _submit(committer, views["c0"], "u0", "m1"),
            _submit(committer, views["c0"], "u0", "m1"),  # a retry in the same batch
            _submit(committer, views["c0"], "u1", "earlier"),  # another sender's id: new
            _submit(committer, views["c0"], "u0", "earlier"),  # stored by an earlier batch
            _submit(committer, stale, "u2", "m2"),  # checked against an outdated view
            _submit(committer, views["c1"], "u3", "m3"),
            _submit(committer, views["c1"], "u40", "m4"),  # not a member of c1
        )
    finally:
        await committer.stop()
    assert isinstance(stored_before, Committed) and stored_before.message.seq == 1
    first, retry, other, old, recheck, fine, stranger = outcomes
    assert isinstance(first, Committed) and first.message.seq == 2 and not first.duplicate
    assert isinstance(retry, Committed) and retry.duplicate and retry.message.seq == 2
    assert isinstance(other, Committed) and other.message.seq == 3 and not other.duplicate
    assert isinstance(old, Committed) and old.duplicate and old.message.seq == 1
    assert isinstance(recheck, Recheck) and recheck.view == views["c1"]
    assert isinstance(fine, Committed) and fine.message.seq == 1
    assert isinstance(stranger, Recheck) and stranger.view == views["c1"]
    assert committer.batches == 2 and committer.fallbacks == 0
    stored = await _stored_seqs(database)
    assert stored["c0"] == [(1, "u0", "earlier"), (2, "u0", "m1"), (3, "u1", "earlier")]
    assert stored["c1"] == [(1, "u3", "m3")]
    assert (await _heads(database))["c1"] == 1
    # the retry lookup outside a batch matches whole keys, not client ids of any sender
    async with database.read_connection() as connection:
        found = await chat_batch.stored(
            connection, [("c0", "u1", "earlier"), ("c0", "u0", "earlier"), ("c0", "u1", "m1")]
        )
    assert {key: message.seq for key, message in found.items()} == {
        ("c0", "u1", "earlier"): 3,
        ("c0", "u0", "earlier"): 1,
    }


class _PoisonedWriter:
    """The real writer, except that a transaction containing the poisoned client id fails."""

    def __init__(self, inner: ChatWriter, poison: str) -> None:
        self._inner = inner
        self._poison = poison
        self.concurrency = inner.concurrency
        self.failed_batches: list[int] = []

    async def write(self, batch: Sequence[NewMessage]) -> BatchResult:
        if any(item.send.key[2] == self._poison for item in batch):
            self.failed_batches.append(len(batch))
            raise RuntimeError("this transaction failed")
        return await self._inner.write(batch)

    async def close(self) -> None:
        await self._inner.close()


async def test_a_failing_send_fails_alone(database: Database) -> None:
    views = _populated_views()
    writer = _PoisonedWriter(chat_batch.writer_for(database), "poison")
    committer = GroupCommit(
        database, ConversationViews(database, ttl=60), linger=0.05, writer=writer
    )
    try:
        outcomes = await asyncio.gather(
            *(_submit(committer, views[f"c{c}"], f"u{2 * c}", "a") for c in range(3)),
            _submit(committer, views["c1"], "u2", "poison"),
            *(_submit(committer, views[f"c{c}"], f"u{2 * c + 1}", "b") for c in range(3)),
            return_exceptions=True,
        )
        after = await _submit(committer, views["c1"], "u3", "after")
    finally:
        await committer.stop()
    assert isinstance(outcomes[3], RuntimeError)
    good = [o for i, o in enumerate(outcomes) if i != 3]
    assert all(isinstance(o, Committed) and not o.duplicate for o in good)
    assert writer.failed_batches == [7, 1]  # the batch, then the poisoned send on its own
    assert committer.fallbacks == 1
    stored = await _stored_seqs(database)
    for c in range(3):  # the failed send took no seq: still gapless
        assert [seq for seq, _, _ in stored[f"c{c}"]][:2] == [1, 2]
    assert isinstance(after, Committed) and after.message.seq == 3
    assert all(cid != "poison" for rows in stored.values() for _, _, cid in rows)


async def test_stop_answers_what_is_queued(database: Database) -> None:
    views = _populated_views()
    committer = GroupCommit(database, ConversationViews(database, ttl=60))
    sends = [
        asyncio.ensure_future(_submit(committer, views["c2"], "u4", f"m{i}")) for i in range(5)
    ]
    await asyncio.sleep(0)
    await committer.stop()
    results = await asyncio.gather(*sends, return_exceptions=True)
    assert all(isinstance(r, Committed) for r in results)
    async with database.read_connection() as connection:
        count = (
            await connection.execute(select(func.count()).select_from(MessageRow))
        ).scalar_one()
    assert count == 5


async def test_the_cache_reads_current_views_through_the_driver(database: Database) -> None:
    async with database.write_connection() as connection:
        await connection.execute(
            update(DeviceRow).where(DeviceRow.id == "d1").values(revoked_at=NOW)
        )
        await connection.execute(delete(MemberRow).where(MemberRow.user_id == "u2"))
    expected = _populated_views()
    # d1 signed out: u1 stays a member with no current device; u2 left c1
    expected["c0"] = ConversationView("c0", frozenset({"u0", "u1"}), {"u0": {"d0": "s0"}})
    expected["c1"] = _view(1, 3)
    reader = view_reader_for(database)
    try:
        wanted = [f"c{i}" for i in range(CONVERSATIONS)] + ["nope"]
        assert await reader.read(wanted) == expected
        assert await reader.read(["c5"]) == {"c5": expected["c5"]}
        assert await reader.read([]) == {}
    finally:
        await reader.close()
