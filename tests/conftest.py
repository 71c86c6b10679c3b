"""Shared fixtures: database backends (real SQLite files, real PostgreSQL) and real server processes."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

PG_BASE = os.environ.get("MISSIOND_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _pg_admin_conn():  # type: ignore[no-untyped-def]
    import psycopg

    dsn = PG_BASE.replace("postgresql+psycopg://", "postgresql://")
    return psycopg.connect(dsn, autocommit=True)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a fresh schema, dropped afterwards."""
    schema = f"t_{uuid.uuid4().hex[:12]}"
    with _pg_admin_conn() as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in PG_BASE else "?"
    yield f"{PG_BASE}{sep}options={quote(f'-csearch_path={schema}')}"
    with _pg_admin_conn() as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'missiond.db'}"
    return str(request.getfixturevalue("pg_url"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class ServerProcess:
    """A real `missiond serve` child process."""

    home: Path
    port: int
    database_url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def token(self) -> str:
        return (self.home / "token").read_text().strip()

    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers(), timeout=10.0, **kwargs)  # type: ignore[arg-type]

    def start(self, timeout: float = 30.0) -> ServerProcess:
        log = open(self.home / "server.out", "ab")  # noqa: SIM115 (lives as long as the process)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "missiond",
                "serve",
                "--home",
                str(self.home),
                "--port",
                str(self.port),
                "--database-url",
                self.database_url,
            ],
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited early: {(self.home / 'server.out').read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/v1/health", timeout=1.0).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError("server did not come up in time")

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()

    def server_info(self) -> dict[str, object]:
        return dict(json.loads((self.home / "server.json").read_text()))


@pytest.fixture
def server_factory(tmp_path: Path) -> Iterator[object]:
    servers: list[ServerProcess] = []

    def make(
        database_url: str | None = None, *, env: dict[str, str] | None = None, home: Path | None = None
    ) -> ServerProcess:
        home = home or tmp_path / f"home{len(servers)}"
        home.mkdir(parents=True, exist_ok=True)
        full_env = {**os.environ, "MISSIOND_SSE_PING_S": "15", "MISSIOND_HUB_POLL_S": "0.2", **(env or {})}
        full_env.pop("MISSIOND_URL", None)
        full_env.pop("MISSIOND_TOKEN", None)
        server = ServerProcess(
            home=home,
            port=free_port(),
            database_url=database_url or f"sqlite:///{home / 'missiond.db'}",
            env=full_env,
        )
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


@pytest.fixture
def server(server_factory: object, database_url: str) -> Iterator[ServerProcess]:
    """A running server on each backend."""
    srv = server_factory(database_url)  # type: ignore[operator]
    srv.start()
    yield srv
    srv.stop()
