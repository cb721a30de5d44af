"""The node's conversation-view cache: fresh entries only, and a read that raced an invalidation
never stores what it read."""

from __future__ import annotations

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
