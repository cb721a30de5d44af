"""Optional probe that logs the server's garbage-collection pauses, without touching its code.

A `sitecustomize` module put first on the nodes' PYTHONPATH registers a `gc.callbacks` hook
that writes one line per collection longer than 20 ms to stderr (the node's log). The cost is
one Python call per collection. Full (generation 2) collections over a heap holding thousands
of connections stop the event loop long enough to dominate tail latency, so a benchmark run
can show them next to the latencies they cause.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

MARK = "bench-gc-pause"
THRESHOLD_MS = 20
SITECUSTOMIZE = f'''"""Installed by bench/gcprobe.py for a benchmark run only."""
import gc
import sys
import time

_started = [0.0]


def _on_collection(phase, info):
    if phase == "start":
        _started[0] = time.perf_counter()
        return
    ms = (time.perf_counter() - _started[0]) * 1000
    if ms >= {THRESHOLD_MS}:
        sys.stderr.write(
            f"{MARK} t=%.3f gen=%d ms=%.1f collected=%d\\n"
            % (time.time(), info["generation"], ms, info["collected"])
        )


gc.callbacks.append(_on_collection)
'''
_LINE = re.compile(MARK + r" t=(?P<t>[\d.]+) gen=(?P<gen>\d) ms=(?P<ms>[\d.]+) collected=(\d+)")


def install(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    """`env` with the probe first on PYTHONPATH."""
    probe_dir = workdir / "gcprobe"
    probe_dir.mkdir(exist_ok=True)
    (probe_dir / "sitecustomize.py").write_text(SITECUSTOMIZE)
    paths = [str(probe_dir), *filter(None, [env.get("PYTHONPATH", "")])]
    return {**env, "PYTHONPATH": os.pathsep.join(paths)}


def pauses(log: str, since: float = 0.0) -> list[dict[str, Any]]:
    """Collections of at least THRESHOLD_MS found in a node's log, from `since` (epoch s)."""
    found = []
    for match in _LINE.finditer(log):
        if float(match["t"]) >= since:
            found.append(
                {"at": float(match["t"]), "generation": int(match["gen"]), "ms": float(match["ms"])}
            )
    return found
