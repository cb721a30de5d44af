"""The machine a benchmark runs on: what to record about it and how its cores are split."""

from __future__ import annotations

import os
import platform
import subprocess
from pathlib import Path
from typing import Any

from bench.procstat import usable_cpus

ROOT = Path(__file__).resolve().parent.parent


def split_cores() -> tuple[set[int] | None, set[int] | None]:
    """Server(s) on the first core, load generator on the second; no pinning on one core.
    On this project's 2-core machines two server nodes therefore share one core."""
    cpus = usable_cpus()
    if len(cpus) < 2:
        return None, None
    return {cpus[0]}, {cpus[1]}


def describe() -> dict[str, Any]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        "unknown",
    )
    node = subprocess.run(["node", "--version"], capture_output=True, text=True, check=False)
    commit = subprocess.run(
        ["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return {
        "nproc": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "node": node.stdout.strip(),
        "kernel": platform.release(),
        "git_commit": commit.stdout.strip() or None,
    }
