"""Health, readiness and the generated OpenAPI document."""

from __future__ import annotations

from openapi_spec_validator import validate

from rtserver.app import ROUTE_TABLES, SOCKETS
from tests.conftest import SettingsFactory
from tests.support.clients import Api
from tests.support.server import serve_in_process


async def test_health_and_ready(api: Api) -> None:
    assert (await api.request("GET", "/healthz")).body == {"status": "ok"}
    ready = await api.request("GET", "/readyz")
    assert ready.status == 200 and ready.body["checks"] == {"database": "ok"}


async def test_ready_reports_redis(
    make_settings: SettingsFactory, redis_url: str, http: object
) -> None:
    import aiohttp

    assert isinstance(http, aiohttp.ClientSession)
    async with serve_in_process(make_settings(redis_url=redis_url)) as server:
        ready = await Api(server.url, http).request("GET", "/readyz")
        assert ready.status == 200
        assert ready.body["checks"] == {"database": "ok", "redis": "ok", "fanout": "ok"}


async def test_not_ready_while_the_fanout_is_not_subscribed(
    make_settings: SettingsFactory, redis_url: str, http: object
) -> None:
    import aiohttp

    from signaling.fanout import ResyncingRedisManager

    assert isinstance(http, aiohttp.ClientSession)
    async with serve_in_process(make_settings(redis_url=redis_url)) as server:
        assert server.app is not None
        manager = server.app[SOCKETS].manager
        assert isinstance(manager, ResyncingRedisManager)
        await manager.close()  # as while it is subscribing again: nothing reaches this node
        ready = await Api(server.url, http).request("GET", "/readyz")
        assert ready.status == 503
        assert ready.body["checks"] == {
            "database": "ok",
            "redis": "ok",
            "fanout": "error: no answer within 2 s",
        }


async def test_openapi_document_is_valid_and_complete(api: Api) -> None:
    reply = await api.request("GET", "/api/v1/openapi.json")
    assert reply.status == 200
    document = reply.body
    validate(document)
    declared = {(r.method.lower(), r.path) for t in ROUTE_TABLES for r in t.routes}
    documented = {(m, p) for p, ops in document["paths"].items() for m in ops}
    assert declared == documented
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert "invalid_credentials" in login["responses"]["401"]["description"]
    assert login["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "LoginBody"
    )
    devices = document["paths"]["/api/v1/devices"]["get"]
    assert devices["security"] == [{"bearer": []}]


async def test_not_ready_when_redis_is_unreachable(
    make_settings: SettingsFactory, http: object
) -> None:
    import aiohttp

    from tests.support.server import free_port

    assert isinstance(http, aiohttp.ClientSession)
    dead = f"redis://127.0.0.1:{free_port()}/0"
    async with serve_in_process(make_settings(redis_url=dead)) as server:
        api = Api(server.url, http)
        ready = await api.request("GET", "/readyz")
        assert ready.status == 503
        assert ready.body["status"] == "not_ready"
        assert ready.body["checks"]["database"] == "ok"
        assert ready.body["checks"]["redis"].startswith("error")
        assert (await api.request("GET", "/healthz")).status == 200


async def test_throttle_uses_forwarded_address_only_behind_trusted_proxy(
    make_settings: SettingsFactory, http: object
) -> None:
    import aiohttp

    assert isinstance(http, aiohttp.ClientSession)
    settings = make_settings(trusted_proxies=["127.0.0.1"], login_max_attempts_per_ip=2)
    async with serve_in_process(settings) as server:
        api = Api(server.url, http)
        body = {"login": "nobody.here", "password": "wrong pw 123", "device_name": "x"}

        async def attempt(forwarded: str) -> int:
            reply = await api.request(
                "POST", "/api/v1/auth/login", body, headers={"X-Forwarded-For": forwarded}
            )
            return reply.status

        # two different clients behind the proxy each get their own budget
        assert [await attempt("203.0.113.5"), await attempt("203.0.113.5")] == [401, 401]
        assert await attempt("203.0.113.5") == 429
        assert await attempt("198.51.100.7") == 401
        # a client cannot dodge the limit by prepending addresses of its own
        assert await attempt("1.2.3.4, 203.0.113.5") == 429
