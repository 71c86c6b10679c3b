"""Resource keys and JSON Merge Patch (RFC 7386): pure rules of the blackboard."""

from __future__ import annotations

from typing import Any

ROOTS = ("run", "mission", "project", "team")
MAX_KEY_BYTES = 512


def key_problem(raw: str) -> str | None:
    """Why `raw` (already stripped of one leading '/') is not a valid key, or None."""
    if not raw:
        return "must not be empty"
    if len(raw.encode("utf-8")) > MAX_KEY_BYTES:
        return f"must be at most {MAX_KEY_BYTES} bytes"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in raw):
        return "must not contain control characters"
    segments = raw.split("/")
    if segments[0] not in ROOTS:
        return f"must start with one of {', '.join(r + '/' for r in ROOTS)}"
    if len(segments) < 2:
        return "needs at least one segment under its root"
    for segment in segments:
        if segment == "":
            return "must not contain an empty segment"
        if segment in (".", ".."):
            return "must not contain '.' or '..' segments"
    return None


def normalize_key(raw: str) -> str:
    return raw[1:] if raw.startswith("/") else raw


def prefix_problem(raw: str) -> str | None:
    """A list/watch prefix: '' (everything) or a key-like prefix; a trailing '/' is allowed."""
    if raw == "":
        return None
    trimmed = raw[:-1] if raw.endswith("/") else raw
    if "/" not in trimmed:
        return (
            None
            if any(r.startswith(trimmed) for r in ROOTS)
            else (f"must start with one of {', '.join(r + '/' for r in ROOTS)}")
        )
    return key_problem(trimmed)


def merge_patch(target: Any, patch: Any) -> Any:
    """Apply an RFC 7386 merge patch; returns a new value, never mutates its inputs."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for name, value in patch.items():
        if value is None:
            result.pop(name, None)
        else:
            result[name] = merge_patch(result.get(name), value)
    return result


def has_nul(value: Any) -> bool:
    """True when a JSON value holds U+0000 in any string or key (PostgreSQL jsonb cannot)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_nul(v) for v in value)
    return False
