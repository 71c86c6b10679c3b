"""Where the server is and which token to show it.

Resolution order (first hit wins):

- URL: argument, `MISSIOND_URL`, the `url` in `$MISSIOND_HOME/server.json`
  (written by a running server), then `http://{MISSIOND_HOST}:{MISSIOND_PORT}`
  (default `http://127.0.0.1:8741`).
- token: argument, `MISSIOND_TOKEN`, then the file `$MISSIOND_HOME/token`.
- home: argument, `MISSIOND_HOME`, then `./.missiond`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8741
DEFAULT_HOME = ".missiond"

UrlSource = Literal["argument", "environment", "server.json", "default"]


def server_file(home: Path) -> Path:
    return home / "server.json"


def token_file(home: Path) -> Path:
    return home / "token"


@dataclass(frozen=True, slots=True)
class ServerInfo:
    """What a running server wrote to `server.json` after binding."""

    url: str
    pid: int | None = None
    version: str | None = None
    started_at: str | None = None


def read_server_info(home: Path) -> ServerInfo | None:
    """The server's `server.json`, or None when it is absent or unreadable."""
    try:
        raw = json.loads(server_file(home).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(raw, dict) or not isinstance(raw.get("url"), str) or not raw["url"]:
        return None
    pid = raw.get("pid")
    return ServerInfo(
        url=raw["url"].rstrip("/"),
        pid=pid if isinstance(pid, int) else None,
        version=raw.get("version") if isinstance(raw.get("version"), str) else None,
        started_at=raw.get("started_at") if isinstance(raw.get("started_at"), str) else None,
    )


def read_token(home: Path) -> str | None:
    """The admin token the server wrote to `home/token`, stripped, or None."""
    try:
        token = token_file(home).read_text(encoding="utf-8").strip()
    except OSError:
        return None
    return token or None


def _get(environ: Mapping[str, str], name: str) -> str | None:
    value = environ.get(name, "").strip()
    return value or None


@dataclass(frozen=True, slots=True)
class ClientConfig:
    base_url: str
    token: str | None
    home: Path
    url_source: UrlSource

    @property
    def url_is_explicit(self) -> bool:
        """True when the user named the server (argument or `MISSIOND_URL`)."""
        return self.url_source in ("argument", "environment")

    @classmethod
    def from_env(
        cls,
        base_url: str | None = None,
        token: str | None = None,
        *,
        home: str | os.PathLike[str] | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> ClientConfig:
        env = os.environ if environ is None else environ
        home_path = Path(home or _get(env, "MISSIOND_HOME") or DEFAULT_HOME)
        home_path = home_path.expanduser().resolve()

        url: str | None
        source: UrlSource
        if base_url:
            url, source = base_url, "argument"
        elif url := _get(env, "MISSIOND_URL"):
            source = "environment"
        elif info := read_server_info(home_path):
            url, source = info.url, "server.json"
        else:
            host = _get(env, "MISSIOND_HOST") or DEFAULT_HOST
            port = _get(env, "MISSIOND_PORT") or str(DEFAULT_PORT)
            url, source = f"http://{_host_for_url(host)}:{port}", "default"

        resolved_token = token or _get(env, "MISSIOND_TOKEN") or read_token(home_path)
        return cls(base_url=url.rstrip("/"), token=resolved_token, home=home_path, url_source=source)


def _host_for_url(host: str) -> str:
    # A server bound to every interface is reached on loopback; IPv6 needs brackets.
    if host in ("0.0.0.0", ""):
        return DEFAULT_HOST
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host
