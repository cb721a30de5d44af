"""Pure presence aggregation and token bucket rules."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from rtserver.domain.presence import PresenceState, aggregate
from rtserver.domain.rate import TokenBucket


def test_aggregate_prefers_the_strongest_state() -> None:
    assert aggregate([]) is PresenceState.OFFLINE
    assert aggregate([PresenceState.AWAY]) is PresenceState.AWAY
    assert aggregate([PresenceState.AWAY, PresenceState.ONLINE]) is PresenceState.ONLINE
    assert (
        aggregate([PresenceState.ONLINE, PresenceState.IN_SESSION, PresenceState.AWAY])
        is PresenceState.IN_SESSION
    )


@given(st.lists(st.sampled_from(list(PresenceState)), max_size=6))
def test_aggregate_is_one_of_the_inputs(states: list[PresenceState]) -> None:
    result = aggregate(states)
    assert result in states or (result is PresenceState.OFFLINE and not states)


def test_bucket_allows_burst_then_rate() -> None:
    bucket = TokenBucket.full(rate=2.0, burst=3, now=0.0)
    assert [bucket.take(0.0) for _ in range(4)] == [True, True, True, False]
    assert bucket.retry_after() > 0
    assert bucket.take(0.5)  # one token back after half a second at 2/s
    assert not bucket.take(0.5)


@given(st.lists(st.floats(0, 0.2), max_size=200))
def test_bucket_never_exceeds_rate_plus_burst(gaps: list[float]) -> None:
    bucket = TokenBucket.full(rate=5.0, burst=4, now=0.0)
    now, taken = 0.0, 0
    for gap in gaps:
        now += gap
        taken += bucket.take(now)
    assert taken <= 4 + 5.0 * now + 1e-6
