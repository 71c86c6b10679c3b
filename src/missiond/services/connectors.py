"""Connectors: named actions with side effects outside missiond.

A connector validates its parameters up front (so a bad routine is refused
when it is saved) and runs them with a timeout. Adding one is a small class
and a line in `REGISTRY`.
"""

from __future__ import annotations

import subprocess
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

from missiond.errors import ValidationFailed

OUTPUT_TAIL = 4000


@dataclass(frozen=True, slots=True)
class Outcome:
    ok: bool
    detail: dict[str, Any]


class Connector(ABC):
    name: str
    external: bool = True

    @abstractmethod
    def validate(self, params: dict[str, Any], where: str) -> dict[str, Any]: ...

    @abstractmethod
    def run(self, params: dict[str, Any], timeout_s: float) -> Outcome: ...


class HttpPost(Connector):
    name = "http.post"

    def validate(self, params: dict[str, Any], where: str) -> dict[str, Any]:
        url = params.get("url")
        if (
            not isinstance(url, str)
            or urlsplit(url).scheme not in ("http", "https")
            or not urlsplit(url).netloc
        ):
            raise ValidationFailed.field(f"{where}.url", "an http(s) URL is required")
        headers = params.get("headers") or {}
        if not isinstance(headers, dict) or not all(isinstance(v, str) for v in headers.values()):
            raise ValidationFailed.field(f"{where}.headers", "must map header names to strings")
        return {"url": url, "json": params.get("json"), "headers": headers}

    def run(self, params: dict[str, Any], timeout_s: float) -> Outcome:
        try:
            response = httpx.post(
                params["url"], json=params.get("json"), headers=params.get("headers") or {}, timeout=timeout_s
            )
        except httpx.HTTPError as exc:
            return Outcome(False, {"error": type(exc).__name__, "message": str(exc)[:500]})
        return Outcome(
            response.is_success,
            {"status_code": response.status_code, "body_tail": response.text[-OUTPUT_TAIL:]},
        )


class ShellRun(Connector):
    name = "shell.run"

    def validate(self, params: dict[str, Any], where: str) -> dict[str, Any]:
        argv = params.get("argv")
        if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
            raise ValidationFailed.field(f"{where}.argv", "a non-empty list of strings is required")
        cwd = params.get("cwd")
        if cwd is not None and not isinstance(cwd, str):
            raise ValidationFailed.field(f"{where}.cwd", "must be a path")
        return {"argv": argv, "cwd": cwd}

    def run(self, params: dict[str, Any], timeout_s: float) -> Outcome:
        return run_command(params["argv"], params.get("cwd"), None, timeout_s)


def run_command(argv: list[str], cwd: str | None, env: dict[str, str] | None, timeout_s: float) -> Outcome:
    import os

    full_env = {**os.environ, **(env or {})}
    try:
        done = subprocess.run(
            argv,
            cwd=cwd,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        tail = (exc.stdout or "") if isinstance(exc.stdout, str) else ""
        return Outcome(
            False, {"error": "timeout", "timeout_s": timeout_s, "output_tail": tail[-OUTPUT_TAIL:]}
        )
    except OSError as exc:
        return Outcome(False, {"error": type(exc).__name__, "message": str(exc)})
    output = (done.stdout or "") + (done.stderr or "")
    return Outcome(done.returncode == 0, {"exit_code": done.returncode, "output_tail": output[-OUTPUT_TAIL:]})


REGISTRY: dict[str, Connector] = {c.name: c for c in (HttpPost(), ShellRun())}
EXTERNAL_CONNECTORS = frozenset(name for name, c in REGISTRY.items() if c.external)
