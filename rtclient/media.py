"""Synthetic call media (no camera or microphone needed) and a counter of the frames that arrive,
so tests and benchmarks can tell that media flows and when the first frame came."""

from __future__ import annotations

import asyncio
import contextlib
import fractions
import math
import struct
import time
from collections.abc import Iterable

from aiortc import AudioStreamTrack, MediaStreamTrack, VideoStreamTrack
from aiortc.mediastreams import MediaStreamError
from av import AudioFrame, VideoFrame

AUDIO_RATE = 48_000
AUDIO_PTIME = 0.020
AUDIO_SAMPLES = int(AUDIO_RATE * AUDIO_PTIME)
TONE_HZ = 400  # a whole number of periods per 20 ms frame, so frames join without clicks


class PatternVideoTrack(VideoStreamTrack):
    """A small moving gradient at 30 fps: cheap to encode, different every frame."""

    def __init__(self, width: int = 160, height: int = 120) -> None:
        super().__init__()
        self.width, self.height = width, height
        self._frame_no = 0

    async def recv(self) -> VideoFrame:
        pts, time_base = await self.next_timestamp()
        frame = VideoFrame(width=self.width, height=self.height, format="yuv420p")
        shade = self._frame_no % 200
        luma = frame.planes[0]
        luma.update(bytes((shade + x) % 256 for x in range(luma.line_size)) * luma.height)
        for plane in frame.planes[1:]:
            plane.update(bytes([128]) * plane.buffer_size)
        frame.pts, frame.time_base = pts, time_base
        self._frame_no += 1
        return frame


class ToneAudioTrack(AudioStreamTrack):
    """A quiet 400 Hz tone, 20 ms frames of 48 kHz mono s16 (what Opus encodes natively)."""

    _period = struct.pack(
        f"<{AUDIO_SAMPLES}h",
        *(
            int(3000 * math.sin(2 * math.pi * TONE_HZ * n / AUDIO_RATE))
            for n in range(AUDIO_SAMPLES)
        ),
    )

    def __init__(self) -> None:
        super().__init__()
        self._started: float | None = None
        self._sent = 0

    async def recv(self) -> AudioFrame:
        if self.readyState != "live":
            raise MediaStreamError
        if self._started is None:
            self._started = time.monotonic()
        else:
            due = self._started + self._sent * AUDIO_PTIME
            await asyncio.sleep(max(0.0, due - time.monotonic()))
        frame = AudioFrame(format="s16", layout="mono", samples=AUDIO_SAMPLES)
        frame.planes[0].update(self._period)
        frame.pts = self._sent * AUDIO_SAMPLES
        frame.sample_rate = AUDIO_RATE
        frame.time_base = fractions.Fraction(1, AUDIO_RATE)
        self._sent += 1
        return frame


def local_tracks(kinds: Iterable[str]) -> list[MediaStreamTrack]:
    """Fresh tracks for one peer connection (a track feeds exactly one sender)."""
    made: list[MediaStreamTrack] = []
    for kind in kinds:
        made.append(ToneAudioTrack() if kind == "audio" else PatternVideoTrack())
    return made


class FrameCounter:
    """Decoded frames received per kind, across every peer connection of a call."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {"audio": 0, "video": 0}
        self.first_frame_at: dict[str, float] = {}
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[None]] = set()

    def count(self, kind: str) -> int:
        return self.counts.get(kind, 0)

    def consume(self, track: MediaStreamTrack) -> None:
        """Read `track` until it ends, counting its frames."""
        task = asyncio.ensure_future(self._read(track))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, track: MediaStreamTrack) -> None:
        kind = track.kind
        while True:
            try:
                await track.recv()
            except MediaStreamError:
                return
            self.counts[kind] = self.counts.get(kind, 0) + 1
            self.first_frame_at.setdefault(kind, time.perf_counter())
            async with self._changed:
                self._changed.notify_all()

    async def wait_for(self, kind: str, at_least: int, timeout: float = 10.0) -> int:
        """Wait until `at_least` frames of `kind` arrived in total; returns the count."""
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: self.count(kind) >= at_least)
        return self.count(kind)

    async def wait_more(self, kind: str, more: int, timeout: float = 10.0) -> int:
        """Wait for `more` frames of `kind` beyond those counted so far."""
        return await self.wait_for(kind, self.count(kind) + more, timeout)

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError):
                await task
