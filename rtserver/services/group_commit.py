"""Group commit of chat messages: concurrent sends, across conversations, share one write
transaction (on SQLite one fsync for the lot), and each sender is answered only after that
transaction has committed.

A worker takes whatever has queued while the previous batch was being written (and, with
`linger`, waits that long for more), so a lone send is written at once and a busy node writes
bigger batches rather than queueing longer. There is one worker on SQLite (one writer anyway)
and a few on PostgreSQL, whose commits then overlap. Inside the transaction the truth is read
again (conversation heads, views, stored client ids) and `plan_batch` decides every send; a send
checked against a view that changed meanwhile is handed back to be checked again. If the batch
transaction fails, each of its sends is retried in a transaction of its own, so one bad send
fails alone and the others are still stored exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from dataclasses import dataclass

from rtserver.domain.chat import Message
from rtserver.domain.chat_send import BatchSend, ConversationView, SameAs, Stale, Stored
from rtserver.errors import AppError
from rtserver.services.conversation_views import ConversationViews
from rtserver.store.chat_batch import BatchConflict, ChatWriter, NewMessage, writer_for
from rtserver.store.database import Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Committed:
    """Stored (or found stored: `duplicate`); fan out to `member_ids` unless a duplicate."""

    message: Message
    member_ids: list[str]
    duplicate: bool


@dataclass(frozen=True)
class Recheck:
    """Not stored: the view changed since the send was checked; check again against `view`
    (None: the conversation no longer exists)."""

    view: ConversationView | None


Outcome = Committed | Recheck


@dataclass
class _Pending:
    item: NewMessage
    future: asyncio.Future[Outcome]


class ShuttingDown(AppError):
    status = 503
    code = "shutting_down"


class GroupCommit:
    def __init__(
        self,
        database: Database,
        views: ConversationViews,
        *,
        max_batch: int = 256,
        linger: float = 0.0,
        writer: ChatWriter | None = None,
    ) -> None:
        self._writer = writer or writer_for(database)
        self._views = views
        self._max_batch = max_batch
        self._linger = linger
        self._queue: deque[_Pending] = deque()
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()  # set while nothing is queued or being written
        self._idle.set()
        self._writing = 0
        self._workers: list[asyncio.Task[None]] = []
        self._closing = False
        self.batches = 0  # counters for tests and metrics
        self.fallbacks = 0

    async def submit(self, send: BatchSend, message: Message, envelope_json: str) -> Outcome:
        """Queue a checked send; returns once its batch has committed (or failed: raises)."""
        if self._closing:
            raise ShuttingDown("the server is shutting down; send again")
        if not self._workers:
            self.start()
        future: asyncio.Future[Outcome] = asyncio.get_running_loop().create_future()
        self._queue.append(_Pending(NewMessage(send, message, envelope_json), future))
        self._idle.clear()
        self._wakeup.set()
        return await future

    def start(self) -> None:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._run(), name=f"chat-group-commit-{n}")
                for n in range(self._writer.concurrency)
            ]

    async def stop(self, grace: float = 5.0) -> None:
        """Refuse new sends, write what is queued (for at most `grace` seconds), then stop."""
        self._closing = True
        workers, self._workers = self._workers, []
        if workers:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._idle.wait(), grace)
            for worker in workers:
                worker.cancel()
            for worker in workers:
                with contextlib.suppress(asyncio.CancelledError):
                    await worker
        while self._queue:
            self._settle(self._queue.popleft(), exc=ShuttingDown("the server is shutting down"))
        await self._writer.close()

    async def _run(self) -> None:
        while True:
            while not self._queue:
                self._wakeup.clear()
                await self._wakeup.wait()
            if self._linger:
                await asyncio.sleep(self._linger)
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), self._max_batch))]
            if not batch:
                continue
            self._writing += 1
            try:
                await self._commit(batch)
            except asyncio.CancelledError:
                for pending in batch:
                    self._settle(pending, exc=ShuttingDown("the server is shutting down"))
                raise
            except Exception as exc:  # never let a worker die; the senders get the error
                log.error("group commit of %d send(s) failed: %s", len(batch), type(exc).__name__)
                for pending in batch:
                    self._settle(pending, exc=exc)
            finally:
                self._writing -= 1
                if not self._queue and not self._writing:
                    self._idle.set()

    async def _commit(self, batch: list[_Pending]) -> None:
        self.batches += 1
        try:
            outcomes = await self._transaction(batch)
        except Exception as exc:
            if len(batch) == 1 and not _is_conflict(exc):
                raise
            # One at a time: a send that broke the batch fails alone. A unique violation on a
            # single send is a concurrent duplicate (another node or worker stored the same
            # client id first); its own transaction then finds that message.
            self.fallbacks += 1
            log.warning(
                "group commit of %d failed (%s); one at a time", len(batch), type(exc).__name__
            )
            for pending in batch:
                await self._alone(pending)
            return
        for pending, outcome in zip(batch, outcomes, strict=True):
            self._settle(pending, outcome)

    async def _alone(self, pending: _Pending) -> None:
        for attempt in range(2):
            try:
                [outcome] = await self._transaction([pending])
            except Exception as exc:
                if attempt == 1 or not _is_conflict(exc):
                    self._settle(pending, exc=exc)
                    return
            else:
                self._settle(pending, outcome)
                return

    async def _transaction(self, batch: list[_Pending]) -> list[Outcome]:
        since = self._views.epoch()
        result = await self._writer.write([pending.item for pending in batch])
        outcomes: list[Outcome] = []
        for pending, decision, message in zip(
            batch, result.decisions, result.messages, strict=True
        ):
            if isinstance(decision, Stale):
                outcomes.append(Recheck(decision.view))
                continue
            members = sorted(result.views[pending.item.send.key[0]].members)
            if isinstance(decision, SameAs):
                first = outcomes[decision.index]
                assert isinstance(first, Committed)
                outcomes.append(Committed(first.message, members, duplicate=True))
            else:
                assert message is not None
                outcomes.append(Committed(message, members, isinstance(decision, Stored)))
        for view in result.views.values():
            self._views.put(view, since)
        return outcomes

    @staticmethod
    def _settle(
        pending: _Pending, outcome: Outcome | None = None, *, exc: BaseException | None = None
    ) -> None:
        if pending.future.done():  # the sender has gone (cancelled)
            return
        if exc is not None:
            pending.future.set_exception(exc)
        else:
            assert outcome is not None
            pending.future.set_result(outcome)


def _is_conflict(exc: BaseException) -> bool:
    """A unique violation (a concurrent duplicate), or a transaction the database gave up on
    (deadlock, serialisation, busy): worth one more try alone."""
    return isinstance(exc, BatchConflict)
