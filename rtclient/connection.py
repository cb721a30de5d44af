"""One RTCPeerConnection of a call: its local tracks, its side of the offer/answer, the remote
candidates it was given, and whether its media path is up.

A call has one at a time, plus a second while it renegotiates (rtclient/renegotiation.py says
why aiortc needs a fresh connection for an ICE restart or a media change).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Iterable
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription

from rtclient.ice import (
    IceConfig,
    IceError,
    RemoteCandidate,
    ice_ufrag,
    local_candidate_types,
    split_candidates,
)
from rtclient.media import FrameCounter, local_tracks

log = logging.getLogger(__name__)

_MEDIA_LINE = re.compile(r"^m=(audio|video) ", re.MULTILINE)


def kinds_in(sdp: str) -> list[str]:
    """The media kinds an SDP offers, in m-line order."""
    return _MEDIA_LINE.findall(sdp.replace("\r\n", "\n"))


class MediaConnection:
    def __init__(
        self,
        ice: IceConfig,
        kinds: Iterable[str],
        frames: FrameCounter,
        on_lost: Callable[[MediaConnection], None],
    ) -> None:
        self.kinds = tuple(kinds)
        self.relay_only = ice.relay_only
        self.pc = RTCPeerConnection(ice.rtc_configuration())
        for track in local_tracks(self.kinds):
            self.pc.addTrack(track)
        self.local_ufrag: str | None = None
        self.remote_ufrag: str | None = None
        self.connected = asyncio.Event()
        self.lost = asyncio.Event()
        self._on_lost = on_lost
        self._closing = False
        self.pc.on("track", frames.consume)
        self.pc.on("connectionstatechange", self._state_changed)

    @property
    def has_remote(self) -> bool:
        return self.remote_ufrag is not None

    def _state_changed(self) -> None:
        state = self.pc.connectionState
        if state == "connected":
            self.connected.set()
        elif state in ("failed", "closed") and not self._closing and not self.lost.is_set():
            # "closed" without close(): the ICE transport died under us (interface gone)
            self.lost.set()
            self._on_lost(self)

    # offer/answer ------------------------------------------------------------------------------

    async def offer(self) -> tuple[str, list[dict[str, Any]]]:
        """Gather and return (SDP to sign, candidates to trickle)."""
        await self.pc.setLocalDescription(await self.pc.createOffer())
        return self._local()

    async def accept_offer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="offer"))
        self.remote_ufrag = ice_ufrag(sdp) or ""

    async def answer(self) -> tuple[str, list[dict[str, Any]]]:
        await self.pc.setLocalDescription(await self.pc.createAnswer())
        return self._local()

    async def accept_answer(self, sdp: str) -> None:
        await self.pc.setRemoteDescription(RTCSessionDescription(sdp=sdp, type="answer"))
        self.remote_ufrag = ice_ufrag(sdp) or ""

    def _local(self) -> tuple[str, list[dict[str, Any]]]:
        types = local_candidate_types(self.pc)
        if self.relay_only and "relay" not in types:
            raise IceError(
                "turn_unavailable",
                "relay-only policy but no relay candidate: the TURN server refused the "
                "credentials or did not answer",
            )
        if not types:
            raise IceError("no_candidates", "no ICE candidate could be gathered")
        sdp = self.pc.localDescription.sdp
        self.local_ufrag = ice_ufrag(sdp)
        return split_candidates(sdp)

    # candidates and state ----------------------------------------------------------------------

    def wants(self, candidate: RemoteCandidate) -> bool:
        """A candidate for this connection's remote side (untagged ones are taken on trust)."""
        return self.has_remote and candidate.ufrag in (None, self.remote_ufrag)

    async def add_candidate(self, candidate: RemoteCandidate) -> None:
        try:
            await self.pc.addIceCandidate(candidate.candidate)
        except ValueError as exc:  # after end-of-candidates or on a closed connection
            log.debug("candidate ignored: %s", exc)

    async def wait_connected(self, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            await self.connected.wait()

    async def close(self) -> None:
        self._closing = True
        with contextlib.suppress(Exception):
            await self.pc.close()
