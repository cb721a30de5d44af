"""engine.io's per-socket outgoing queue: FIFO, one reader, task accounting for join()."""

from __future__ import annotations

import asyncio

import pytest

from signaling.socket_queue import SocketQueue


async def test_items_come_out_in_order_whether_queued_before_or_after_the_read() -> None:
    queue = SocketQueue()
    queue.put_nowait("a")
    await queue.put("b")
    assert queue.qsize() == 2 and not queue.empty()
    assert await queue.get() == "a"
    assert queue.get_nowait() == "b"
    assert queue.empty() and queue._items is None  # the buffer is freed when drained
    with pytest.raises(asyncio.QueueEmpty):
        queue.get_nowait()
    waiting = queue.get()
    assert not waiting.done()
    queue.put_nowait("c")
    assert await waiting == "c"


async def test_a_read_that_timed_out_loses_nothing() -> None:
    queue = SocketQueue()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(queue.get(), 0.01)
    queue.put_nowait("late")
    assert await asyncio.wait_for(queue.get(), 1) == "late"


async def test_one_reader_at_a_time() -> None:
    queue = SocketQueue()
    first = queue.get()
    with pytest.raises(RuntimeError):
        queue.get()
    queue.put_nowait(1)
    assert await first == 1


async def test_join_waits_for_every_item_to_be_done() -> None:
    queue = SocketQueue()
    await queue.join()  # nothing queued: returns at once
    queue.put_nowait(1)
    queue.put_nowait(2)
    joined = asyncio.create_task(queue.join())
    queue.get_nowait()
    queue.task_done()
    await asyncio.sleep(0)
    assert not joined.done()
    queue.get_nowait()
    queue.task_done()
    await asyncio.wait_for(joined, 1)
    with pytest.raises(ValueError):
        queue.task_done()


async def test_write_through_only_while_the_reader_waits_on_an_empty_queue() -> None:
    queue = SocketQueue()
    written: list[object] = []

    def write_now(item: object) -> bool:
        if item == "refused":
            return False
        written.append(item)
        return True

    queue.write_through = write_now
    queue.put_nowait("queued")  # no reader waiting: queued, even though it could be written
    assert await queue.get() == "queued" and written == []
    queue.task_done()
    waiting = queue.get()
    queue.put_nowait("direct")  # the reader is idle and nothing is ahead: written at once
    assert written == ["direct"] and not waiting.done() and queue._unfinished == 0
    queue.put_nowait("refused")  # the writer declined (e.g. unsent bytes): the reader gets it
    assert await waiting == "refused"
    queue.put_nowait("behind")  # the reader has not come back yet: order is kept
    assert written == ["direct"] and queue.get_nowait() == "behind"
