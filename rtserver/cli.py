"""The `rtserver` command: serve, migrate, create-user, demo."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import multiprocessing
import os
import secrets
import signal
import sys
import threading
from collections.abc import Sequence

from aiohttp import web
from sqlalchemy.exc import SQLAlchemyError

from rtserver import gc_tuning
from rtserver.api.keys import ACCOUNTS, AVAILABILITY, CONVERSATIONS
from rtserver.app import build_app
from rtserver.demo import seed_demo
from rtserver.domain.accounts import Role
from rtserver.errors import AppError
from rtserver.logs import configure_logging
from rtserver.secret_keys import load_secret_keys
from rtserver.settings import ConfigError, Settings, load_settings
from rtserver.store.migrate import migrate


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rtserver", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the server")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--demo", action="store_true", help="seed demo users first, print logins")
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes sharing the port (SO_REUSEPORT); more than one needs redis_url",
    )
    sub.add_parser("migrate", help="apply database migrations")
    create = sub.add_parser("create-user", help="create an account of any role")
    create.add_argument("--role", required=True, choices=[r.value for r in Role])
    create.add_argument("--login", required=True)
    create.add_argument("--display-name", required=True)
    create.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from stdin (else prompt; empty prompt generates one)",
    )
    sub.add_parser("demo", help="seed demo users and print their logins")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None) is not None:
        overrides["port"] = args.port
    try:
        settings = load_settings(**overrides)
    except ConfigError as exc:
        print(f"rtserver: {exc}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level)
    try:
        if args.command == "serve":
            return _serve(settings, demo=args.demo, workers=args.workers)
        if args.command == "migrate":
            return asyncio.run(_migrate(settings))
        if args.command == "create-user":
            return asyncio.run(_create_user(settings, args))
        return asyncio.run(_with_app(settings, _print_demo))
    except ConfigError as exc:
        print(f"rtserver: {exc}", file=sys.stderr)
        return 2
    except AppError as exc:
        print(f"rtserver: {exc.code}: {exc.message}", file=sys.stderr)
        return 1


async def _with_app(settings: Settings, action) -> int:  # type: ignore[no-untyped-def]
    """Run a one-off action with the app's services started (store migrated on SQLite)."""
    app = build_app(settings)
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()
    try:
        return int(await action(app, settings))
    finally:
        await runner.cleanup()


async def _print_demo(app: web.Application, settings: Settings) -> int:
    logins = await seed_demo(
        app[ACCOUNTS], settings.data_dir, app[AVAILABILITY], app[CONVERSATIONS]
    )
    print("Demo logins (stored in", settings.data_dir / "demo-logins.json", "):")
    for entry in logins:
        print(f"  {entry.role:<10} login={entry.login:<16} password={entry.password}")
    print(f"Server: {settings.public_url}  API: {settings.public_url}/api/v1/openapi.json")
    return 0


async def _migrate(settings: Settings) -> int:
    from rtserver.store.database import Database

    if settings.uses_sqlite:
        settings.data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    database = Database(settings.effective_database_url)
    try:
        await migrate(database)
    except (OSError, SQLAlchemyError) as exc:
        raise ConfigError(f"database_url: cannot migrate: {type(exc).__name__}: {exc}") from exc
    finally:
        await database.close()
    print("database is at the latest migration")
    return 0


async def _create_user(settings: Settings, args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        generated = False
    else:
        password = getpass.getpass("password (empty to generate): ")
        generated = not password
        password = password or secrets.token_urlsafe(12)

    async def create(app: web.Application, _: Settings) -> int:
        user = await app[ACCOUNTS].create_user(
            args.login, password, args.display_name, Role(args.role)
        )
        print(f"created {user.role.value} {user.login} id={user.id}")
        if generated:
            print(f"password: {password}")
        return 0

    return await _with_app(settings, create)


def _serve(settings: Settings, *, demo: bool, workers: int = 1) -> int:
    if workers < 1:
        raise ConfigError("serve --workers: at least 1")
    if workers > 1 and not settings.redis_url:
        raise ConfigError(
            "serve --workers needs redis_url: the workers share fan-out, presence, counters "
            "and cache invalidation through Redis"
        )
    if workers > 1 and settings.socketio_polling:
        raise ConfigError("serve --workers needs socketio_polling = false (polling is sticky)")
    load_secret_keys(settings)  # fail on missing secrets before touching anything else
    if demo:
        _install_uvloop()
        asyncio.run(_with_app(settings, _print_demo))
    if not settings.uses_sqlite:
        asyncio.run(_check_migrated(settings))
    elif workers > 1:
        asyncio.run(_migrate(settings))  # once, before the workers race to do it
    if workers == 1:
        return _run_node(settings, reuse_port=False)
    return workers_supervised(settings, workers)


def _install_uvloop() -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass


def _run_node(settings: Settings, *, reuse_port: bool) -> int:
    """One server process: uvloop, tuned GC, the app until SIGTERM or SIGINT."""
    _install_uvloop()
    gc_tuning.tune()
    app = build_app(settings)
    app.on_startup.append(gc_tuning.freeze_after_startup)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        reuse_port=reuse_port or None,
        shutdown_timeout=settings.shutdown_grace_seconds,
        access_log=None,
        print=lambda msg: print(msg, flush=True),
    )
    return 0


def _worker(settings: Settings) -> None:
    configure_logging(settings.log_level)
    raise SystemExit(_run_node(settings, reuse_port=True))


def workers_supervised(settings: Settings, workers: int) -> int:
    """Run `workers` server processes on one port (the kernel spreads connections over them);
    SIGTERM or SIGINT stops them all, and so does the exit of any one (a supervisor such as
    systemd then restarts the whole)."""
    context = multiprocessing.get_context("spawn")
    processes = [
        context.Process(target=_worker, args=(settings,), name=f"rtserver-worker-{n}")
        for n in range(workers)
    ]
    stopping = threading.Event()

    def stop(signum: int, _frame: object) -> None:
        stopping.set()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        for process in processes:
            process.start()
        while not stopping.is_set() and all(p.is_alive() for p in processes):
            stopping.wait(0.2)
    finally:
        for process in processes:
            if process.is_alive() and process.pid is not None:
                os.kill(process.pid, signal.SIGTERM)
        for process in processes:
            process.join(settings.shutdown_grace_seconds + 10)
            if process.is_alive():
                process.kill()
                process.join()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    codes = [p.exitcode or 0 for p in processes]
    return 0 if stopping.is_set() and not any(codes) else max(1, *codes)


async def _check_migrated(settings: Settings) -> None:
    from rtserver.store.database import Database
    from rtserver.store.migrate import current_revisions, head_revisions

    database = Database(settings.effective_database_url)
    try:
        current = await current_revisions(database)
    except (OSError, SQLAlchemyError) as exc:
        raise ConfigError(f"database_url: cannot connect: {type(exc).__name__}") from exc
    finally:
        await database.close()
    if current != head_revisions():
        raise ConfigError(
            f"database_url: database is at {sorted(current) or 'no'} migration, expected "
            f"{sorted(head_revisions())}; run `rtserver migrate` first"
        )
