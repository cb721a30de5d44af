"""A client nobody here wrote: Node's official socket.io-client sends and receives a message."""

from __future__ import annotations

import asyncio
import json
import shutil
from pathlib import Path

import pytest

from tests.chat.conftest import Devices, Pair, chat
from tests.conftest import IN_CI
from tests.support.server import RunningServer

NODE_DIR = Path(__file__).resolve().parents[1] / "node"


@pytest.fixture
def node() -> str:
    executable = shutil.which("node")
    if executable is None or not (NODE_DIR / "node_modules" / "socket.io-client").is_dir():
        if IN_CI:
            pytest.fail("node and tests/node/node_modules are required in CI (npm ci)")
        pytest.skip("Node.js or tests/node/node_modules missing: run `npm ci --prefix tests/node`")
    return executable


async def test_node_socket_io_client_sends_and_receives(
    node: str, server: RunningServer, pair: Pair, clients: Devices
) -> None:
    console = await chat(clients, server.url, pair.counselor)
    process = await asyncio.create_subprocess_exec(
        node,
        str(NODE_DIR / "chat_client.mjs"),
        server.url,
        pair.client.token,
        pair.conversation_id,
        json.dumps(
            await clients.sealed(
                server.url, pair.client, pair.conversation_id, "dari node", "node-1"
            )
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None and process.stdout is not None
    line = await asyncio.wait_for(process.stderr.readline(), 15)
    assert line.strip() == b"acked", line
    got = await asyncio.wait_for(console.inbox.get(), 5)
    assert (got.seq, got.client_msg_id, got.sender_user_id) == (1, "node-1", pair.client.id)
    assert await console.read(got) == "dari node"  # sealed by the client's device keys
    await console.send_text(pair.conversation_id, "dari python")
    out = await asyncio.wait_for(process.stdout.read(), 15)
    assert await process.wait() == 0, out
    result = json.loads(out)
    assert result["ack"]["ok"] is True and result["ack"]["seq"] == 1
    assert result["received"]["seq"] == 2
    assert result["received"]["sender"]["user_id"] == pair.counselor.id
