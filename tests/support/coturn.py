"""A real coturn on loopback with a shared secret, for the TURN and relay-only call tests."""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import IN_CI
from tests.support.server import ROOT, free_port


def _require_binary() -> str:
    binary = shutil.which("turnserver")
    if binary is None:
        if IN_CI:
            pytest.fail("coturn (turnserver) is required in CI")
        pytest.skip("coturn not installed: apt-get install coturn")
    return binary


@contextlib.contextmanager
def running_coturn(tmp_path: Path, secret: str) -> Iterator[int]:
    """The production config with what a loopback test needs changed: no TLS files, loopback
    peers and relay addresses allowed, `secret` as the static auth secret. Yields its port."""
    binary = _require_binary()
    port = free_port()
    production = (ROOT / "config" / "turnserver.conf").read_text()
    lines = [
        line
        for line in production.splitlines()
        if not line.startswith(
            (
                "cert=",
                "pkey=",
                "denied-peer-ip=127.",
                "denied-peer-ip=::1",
                "listening-port",
                "tls-listening-port",
                "log-file",
            )
        )
    ]
    lines += [
        f"listening-port={port}",
        "listening-ip=127.0.0.1",
        "relay-ip=127.0.0.1",
        "allow-loopback-peers",
        "no-tls",
        "no-dtls",
        f"static-auth-secret={secret}",
        "min-port=40000",
        "max-port=40999",
        f"log-file={tmp_path / 'turn.log'}",
    ]
    config = tmp_path / "turnserver.conf"
    config.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen(
        [binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        for _ in range(100):  # until it answers on TCP (a child process: nothing to await)
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        else:
            raise RuntimeError(f"coturn did not start; see {tmp_path / 'turn.log'}")
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
