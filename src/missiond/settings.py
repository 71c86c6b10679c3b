"""One settings object, read from the environment (and CLI flags) on demand.

Nothing is read at import time: `Settings.from_env()` is called by the
composition root or the CLI.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path

DEFAULT_PORT = 8741


def _env_int(env: dict[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be an integer, got {raw!r}") from exc


def _env_float(env: dict[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ValueError(f"{name} must be a number, got {raw!r}") from exc


@dataclass(frozen=True, slots=True)
class Settings:
    home: Path
    database_url: str
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    log_level: str = "info"
    max_body_bytes: int = 1024 * 1024
    sse_ping_s: float = 15.0
    sse_queue: int = 10_000
    sse_retry_ms: int = 2000
    hub_poll_s: float = 0.5
    lease_sweep_s: float = 1.0
    sqlite_busy_timeout_ms: int = 30_000
    extra: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: object) -> Settings:
        env = dict(os.environ if env is None else env)
        home = Path(str(overrides.pop("home", None) or env.get("MISSIOND_HOME") or ".missiond"))
        home = home.expanduser().resolve()
        url = str(overrides.pop("database_url", None) or env.get("MISSIOND_DATABASE_URL") or "")
        if not url:
            url = f"sqlite:///{home / 'missiond.db'}"
        settings = cls(
            home=home,
            database_url=url,
            host=env.get("MISSIOND_HOST", "127.0.0.1"),
            port=_env_int(env, "MISSIOND_PORT", DEFAULT_PORT),
            log_level=env.get("MISSIOND_LOG_LEVEL", "info").lower(),
            max_body_bytes=_env_int(env, "MISSIOND_MAX_BODY_BYTES", 1024 * 1024),
            sse_ping_s=_env_float(env, "MISSIOND_SSE_PING_S", 15.0),
            sse_queue=_env_int(env, "MISSIOND_SSE_QUEUE", 10_000),
            hub_poll_s=_env_float(env, "MISSIOND_HUB_POLL_S", 0.5),
            lease_sweep_s=_env_float(env, "MISSIOND_LEASE_SWEEP_S", 1.0),
        )
        clean = {k: v for k, v in overrides.items() if v is not None}
        return replace(settings, **clean) if clean else settings  # type: ignore[arg-type]

    @property
    def database_kind(self) -> str:
        return "postgresql" if self.database_url.startswith("postgresql") else "sqlite"

    @property
    def token_path(self) -> Path:
        return self.home / "token"

    @property
    def server_file(self) -> Path:
        return self.home / "server.json"

    @property
    def log_dir(self) -> Path:
        return self.home / "logs"
