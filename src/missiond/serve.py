"""`missiond serve`: run the API server for one home until told to stop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import uvicorn

from missiond import __version__
from missiond.api.app import create_app
from missiond.bootstrap import build
from missiond.errors import MissiondError
from missiond.settings import Settings

log = logging.getLogger("missiond.serve")


def _configure_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


def _write_server_file(settings: Settings, url: str) -> None:
    info = {
        "pid": os.getpid(),
        "url": url,
        "version": __version__,
        "started_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "database": settings.database_kind,
    }
    tmp = settings.server_file.with_suffix(".tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, settings.server_file)


def _remove_server_file(settings: Settings) -> None:
    with contextlib.suppress(OSError, ValueError):
        info = json.loads(settings.server_file.read_text())
        if info.get("pid") == os.getpid():
            settings.server_file.unlink()


class _Server(uvicorn.Server):
    """uvicorn re-raises the signal that stopped it once `serve()` ends, which would
    kill the process before our cleanup runs; we stop on it and exit normally."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        stop = (signal.SIGINT, signal.SIGTERM)
        original = {sig: signal.signal(sig, self.handle_exit) for sig in stop}
        try:
            yield
        finally:
            for sig, handler in original.items():
                signal.signal(sig, handler)


async def _serve(settings: Settings) -> None:
    system = build(settings)
    app = create_app(system)
    config = uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        access_log=settings.log_level == "debug",
        lifespan="on",
        timeout_graceful_shutdown=3,
    )
    server = _Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started and not task.done():
        await asyncio.sleep(0.02)
    if server.started:
        port = server.servers[0].sockets[0].getsockname()[1]
        url = f"http://{settings.host}:{port}"
        _write_server_file(settings, url)
        log.info(
            "missiond %s serving %s for %s (%s)", __version__, url, settings.home, settings.database_kind
        )
        print(f"missiond: serving {url} (home {settings.home})", file=sys.stderr, flush=True)
    try:
        await task
    finally:
        _remove_server_file(settings)
        system.close()


def run(settings: Settings) -> int:
    _configure_logging(settings.log_level)
    try:
        asyncio.run(_serve(settings))
    except MissiondError as exc:
        print(f"missiond: {exc.code}: {exc.detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0
