"""Where the test PostgreSQL and Redis live (loopback only), and whether they answer."""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

POSTGRES_ADMIN_URL = os.environ.get(
    "RTSERVER_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("RTSERVER_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(url)
    host = parts.hostname or ""
    if host not in LOOPBACK:
        raise RuntimeError(f"tests only talk to loopback; {url!r} is not")
    return host, parts.port or default_port


def answers(url: str, default_port: int) -> bool:
    host, port = _host_port(url, default_port)
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def postgres_up() -> bool:
    return answers(POSTGRES_ADMIN_URL, 5432)


def redis_up() -> bool:
    return answers(REDIS_URL, 6379)


def database_url(name: str) -> str:
    base, _, _ = POSTGRES_ADMIN_URL.rpartition("/")
    return f"{base}/{name}"
