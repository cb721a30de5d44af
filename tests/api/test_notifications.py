"""The notifications inbox: pushed live on creation, kept for later, paged, marked read once;
nobody reaches another user's notifications."""

from __future__ import annotations

from rtserver.api.keys import NOTIFICATIONS
from rtserver.timefmt import wire_time
from tests.screening.factories import make_client, make_counselor
from tests.support.clients import Api, connect
from tests.support.server import RunningServer


async def test_created_pushed_listed_and_read(api: Api, server: RunningServer) -> None:
    assert server.app is not None
    counselor = await make_counselor(api, server, "dr.sari")
    console = await connect(server.url, counselor.token)
    try:
        [created] = await server.app[NOTIFICATIONS].notify(
            [counselor.id], "test.notice", {"ref": "r-1"}
        )
        pushed = await console.next("notification")
    finally:
        await console.close()
    assert pushed == {
        "id": created.id,
        "kind": "test.notice",
        "payload": {"ref": "r-1"},
        "created_at": wire_time(created.created_at),
        "read_at": None,
    }

    unread = await api.request("GET", "/api/v1/notifications?unread=true", token=counselor.token)
    assert [n["id"] for n in unread.body["notifications"]] == [created.id]
    assert unread.body["notifications"][0] == pushed

    read = await api.request(
        "POST", f"/api/v1/notifications/{created.id}/read", token=counselor.token
    )
    assert read.status == 200 and read.body["read_at"] is not None
    again = await api.request(
        "POST", f"/api/v1/notifications/{created.id}/read", token=counselor.token
    )
    assert again.body["read_at"] == read.body["read_at"]

    unread = await api.request("GET", "/api/v1/notifications?unread=true", token=counselor.token)
    assert unread.body == {"notifications": [], "has_more": False}
    everything = await api.request("GET", "/api/v1/notifications", token=counselor.token)
    assert [n["id"] for n in everything.body["notifications"]] == [created.id]


async def test_inbox_pages_newest_first(api: Api, server: RunningServer) -> None:
    assert server.app is not None
    client = await make_client(api)
    made = []
    for n in range(5):
        made += await server.app[NOTIFICATIONS].notify([client.id], "test.notice", {"n": n})
    seen: list[str] = []
    path = "/api/v1/notifications?limit=2"
    while True:
        page = await api.request("GET", path, token=client.token)
        assert page.status == 200
        seen += [n["id"] for n in page.body["notifications"]]
        if not page.body["has_more"]:
            break
        path = f"/api/v1/notifications?limit=2&before={seen[-1]}"
    assert sorted(seen) == sorted(n.id for n in made) and len(seen) == 5


async def test_others_notifications_are_out_of_reach(api: Api, server: RunningServer) -> None:
    assert server.app is not None
    owner = await make_client(api)
    other = await make_client(api)
    [created] = await server.app[NOTIFICATIONS].notify([owner.id], "test.notice", {})
    for path in (
        f"/api/v1/notifications/{created.id}/read",
        "/api/v1/notifications/no-such-notification/read",
    ):
        reply = await api.request("POST", path, token=other.token)
        assert (reply.status, reply.code) == (404, "notification_not_found")
    cursor = await api.request(
        "GET", f"/api/v1/notifications?before={created.id}", token=other.token
    )
    assert cursor.code == "notification_not_found"
    assert (await api.request("GET", "/api/v1/notifications", token=other.token)).body[
        "notifications"
    ] == []
    bad = await api.request("GET", "/api/v1/notifications?limit=500", token=owner.token)
    assert bad.code == "invalid_request"
    anonymous = await api.request("GET", "/api/v1/notifications")
    assert anonymous.status == 401
    owned = await api.request("GET", "/api/v1/notifications?unread=true", token=owner.token)
    assert [n["read_at"] for n in owned.body["notifications"]] == [None]
