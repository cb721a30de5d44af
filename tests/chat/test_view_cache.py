"""The node's conversation-view cache: fresh entries only, and a read that raced an invalidation
never stores what it read."""

from __future__ import annotations

import asyncio
from typing import Any

from rtserver.domain.chat_send import ConversationView
from rtserver.services.conversation_views import ConversationViews


class _NoDatabase:
    """These tests never read the store; the cache must not either."""

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the store was used: {name}")


class _Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def _view(conversation_id: str, *members: str) -> ConversationView:
    return ConversationView(conversation_id, frozenset(members), {})


def _cache(clock: _Clock, **options: Any) -> ConversationViews:
    return ConversationViews(_NoDatabase(), ttl=5, monotonic=clock, **options)  # type: ignore[arg-type]


async def test_entries_serve_until_their_ttl() -> None:
    clock = _Clock()
    views = _cache(clock)
    views.put(_view("c1", "a", "b"), views.epoch())
    assert await views.get("c1") == _view("c1", "a", "b")
    clock.now += 4.9
    assert await views.get("c1") == _view("c1", "a", "b")
    clock.now += 0.2
    try:
        await views.get("c1")
    except AssertionError as exc:  # expired: it went to the store
        assert "the store was used" in str(exc)
    else:
        raise AssertionError("an expired entry was served")


def test_a_read_that_started_before_an_invalidation_is_not_kept() -> None:
    clock = _Clock()
    views = _cache(clock)
    before = views.epoch()  # a read of c1 starts...
    views.invalidate("c1")  # ...a membership change commits and is announced...
    views.put(_view("c1", "a", "b", "removed"), before)  # ...the old read must not be kept
    assert "c1" not in views._entries
    after = views.epoch()
    views.put(_view("c1", "a", "b"), after)
    assert views._entries["c1"][0] == _view("c1", "a", "b")
    other = views.epoch()
    views.invalidate_all()
    views.put(_view("c2", "a"), other)
    assert views._entries == {}


def test_the_cache_is_bounded() -> None:
    clock = _Clock()
    views = _cache(clock, max_entries=3)
    for i in range(5):
        views.put(_view(f"c{i}", "a"), views.epoch())
    assert sorted(views._entries) == ["c2", "c3", "c4"]
    for i in range(20_000):  # invalidation marks are bounded too
        views.invalidate(f"x{i}")
    assert len(views._marks) <= 10_000


class _CountingViews(ConversationViews):
    """Reads from a dict instead of the store, counting statements; `gate` holds reads."""

    def __init__(self, clock: _Clock, stored: dict[str, ConversationView]) -> None:
        super().__init__(_NoDatabase(), ttl=5, monotonic=clock)  # type: ignore[arg-type]
        self.stored = stored
        self.reads: list[list[str]] = []
        self.gate = asyncio.Event()
        self.gate.set()
        self.failure: Exception | None = None

    async def _read(self, conversation_ids: list[str]) -> dict[str, ConversationView]:
        self.reads.append(sorted(conversation_ids))
        found = {c: self.stored[c] for c in conversation_ids if c in self.stored}  # its snapshot
        await self.gate.wait()
        if self.failure is not None:
            raise self.failure
        return found


def _stored(*ids: str) -> dict[str, ConversationView]:
    return {c: _view(c, "a", "b") for c in ids}


async def test_concurrent_misses_share_one_read() -> None:
    views = _CountingViews(_Clock(), _stored("c1", "c2", "c3"))
    wanted = ["c1", "c2", "c3", "missing"] * 5
    got = await asyncio.gather(*(views.get(c) for c in wanted))
    assert got == [views.stored.get(c) for c in wanted]
    assert views.reads == [["c1", "c2", "c3", "missing"]]
    assert await views.get("c2") == _view("c2", "a", "b") and len(views.reads) == 1  # kept
    await views.close()


async def test_a_used_entry_is_refreshed_before_it_expires() -> None:
    clock = _Clock()
    views = _CountingViews(clock, _stored("c1"))
    await views.get("c1")
    clock.now += 3.0  # 2 s of 5 left: not yet in the last quarter
    await views.get("c1")
    await asyncio.sleep(0.01)
    assert len(views.reads) == 1
    clock.now += 1.0  # 1 s left: served at once, re-read behind the caller's back
    views.gate.clear()
    views.stored["c1"] = _view("c1", "a", "b", "new")
    assert await views.get("c1") == _view("c1", "a", "b")
    assert await views.get("c1") == _view("c1", "a", "b")  # one refresh in flight, not two
    views.gate.set()
    await asyncio.sleep(0.01)
    assert len(views.reads) == 2
    clock.now += 4.0  # past the first fill's expiry, within the refreshed one's
    assert await views.get("c1") == _view("c1", "a", "b", "new") and len(views.reads) == 2
    await views.close()


async def test_fresh_never_joins_a_read_that_already_started() -> None:
    views = _CountingViews(_Clock(), _stored("c1"))
    views.gate.clear()
    first = asyncio.create_task(views.get("c1"))
    await asyncio.sleep(0.01)  # the read has started (and waits at the gate)
    views.stored["c1"] = _view("c1", "a", "b", "joined")
    second = asyncio.create_task(views.fresh("c1"))
    views.gate.set()
    assert await first == _view("c1", "a", "b")
    assert await second == _view("c1", "a", "b", "joined")
    assert views.reads == [["c1"], ["c1"]]
    await views.close()


async def test_a_failed_read_fails_its_waiters_and_the_next_get_reads_again() -> None:
    views = _CountingViews(_Clock(), _stored("c1"))
    views.failure = ConnectionError("store away")
    results = await asyncio.gather(views.get("c1"), views.get("c1"), return_exceptions=True)
    assert [type(r) for r in results] == [ConnectionError, ConnectionError]
    views.failure = None
    assert await views.get("c1") == _view("c1", "a", "b")
    assert views.reads == [["c1"], ["c1"]]
    await views.close()


async def test_closing_cancels_waiting_reads() -> None:
    views = _CountingViews(_Clock(), _stored("c1"))
    views.gate.clear()
    waiting = asyncio.create_task(views.get("c1"))
    await asyncio.sleep(0.01)
    await views.close()
    try:
        await waiting
    except asyncio.CancelledError:
        pass
    else:
        raise AssertionError("a read outlived close()")
