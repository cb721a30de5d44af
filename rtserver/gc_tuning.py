"""Garbage-collector settings for `rtserver serve`, where collection pauses are tail latency.

CPython's cyclic collector runs every `threshold0` net allocations of container objects and,
every so often, walks every tracked object (a full, generation-2 collection). With thousands
of connections alive that walk stopped the event loop for 400 ms and more (docs/performance.md).
Two changes, both measured there:

- Everything alive once the app has started (modules, SQLAlchemy and pydantic machinery,
  compiled schemas) is moved out of the collector's sight with `gc.freeze()`: it lives as long
  as the process, so walking it again and again found nothing.
- The young generation is collected far less often: most per-message objects are freed by
  reference counting anyway, and each young collection also promotes survivors towards the
  expensive full collections.
"""

from __future__ import annotations

import gc

from aiohttp import web

YOUNG_THRESHOLD = 10_000  # CPython's default is 700
MIDDLE_THRESHOLD = 10  # young collections per middle one (the default)
OLD_THRESHOLD = 10  # middle collections per full one (the default; also needs 25% new objects)


def tune() -> None:
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)


async def freeze_after_startup(_: web.Application) -> None:
    """An on_startup hook, appended after the app's own: collect once, then freeze."""
    gc.collect()
    gc.freeze()
