"""Requests for the shared resources (SHARED_RESOURCES.md), shared by `Client` and `AsyncClient`.

No IO happens here: paths, precondition headers, bodies and the transaction
op helpers::

    client.txn(
        compares=[("project/a", 40), ("project/lock", 0)],      # 0 = must be absent
        ops=[put_op("project/a", 1, ttl_s=60), patch_op("project/b", {"n": 2}), delete_op("project/c")],
    )
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

RESOURCES_PATH = "/v1/resources"
TXN_PATH = "/v1/resources:txn"
WATCH_PATH = "/v1/streams/resources"
MERGE_PATCH = "application/merge-patch+json"

Compares = Iterable[tuple[str, int] | Mapping[str, Any]]
Ops = Iterable[Mapping[str, Any]]


def _segment(segment: str) -> str:
    # httpx (like any URL library) removes '.' and '..' segments; the server must
    # see them to refuse the key, so they travel percent-encoded.
    if segment in (".", ".."):
        return segment.replace(".", "%2E")
    return quote(segment, safe="")


def resource_path(key: str) -> str:
    """`/v1/resources/{key}` with each segment percent-encoded and every '/' kept."""
    return f"{RESOURCES_PATH}/" + "/".join(_segment(s) for s in key.split("/"))


def precondition_headers(if_rev: int | None = None, create_only: bool = False) -> dict[str, str]:
    """`If-Match: "<rev>"` (412 unless the key is at that revision) or `If-None-Match: *` (create only)."""
    if if_rev is not None and create_only:
        raise ValueError("give if_rev or create_only, not both")
    if if_rev is not None:
        return {"If-Match": f'"{_revision(if_rev, "if_rev")}"'}
    if create_only:
        return {"If-None-Match": "*"}
    return {}


def _revision(value: Any, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name} must be a revision (an int >= 0), got {value!r}")
    return value


def expected_rev_params(expected_rev: int | None) -> dict[str, Any]:
    if expected_rev is None:
        return {}
    return {"expected_rev": _revision(expected_rev, "expected_rev")}


def put_body(value: Any, expected_rev: int | None = None, ttl_s: float | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"value": value}
    if expected_rev is not None:
        body["expected_rev"] = _revision(expected_rev, "expected_rev")
    if ttl_s is not None:
        body["ttl_s"] = ttl_s
    return body


def list_params(prefix: str = "", after_key: str | None = None, limit: int | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if prefix:
        params["prefix"] = prefix
    if after_key is not None:
        params["after_key"] = after_key
    if limit is not None:
        params["limit"] = limit
    return params


def watch_params(prefix: str = "") -> dict[str, Any]:
    return {"prefix": prefix} if prefix else {}


# -- transactions ----------------------------------------------------------------------


def put_op(key: str, value: Any, *, ttl_s: float | None = None) -> dict[str, Any]:
    """A transaction op that creates or replaces `key`."""
    op: dict[str, Any] = {"op": "put", "key": key, "value": value}
    if ttl_s is not None:
        op["ttl_s"] = ttl_s
    return op


def patch_op(key: str, patch: Any) -> dict[str, Any]:
    """A transaction op that merge-patches `key` (RFC 7386); the key must exist."""
    return {"op": "patch", "key": key, "patch": patch}


def delete_op(key: str) -> dict[str, Any]:
    """A transaction op that deletes `key`; the key must exist."""
    return {"op": "delete", "key": key}


def _compare(item: tuple[str, int] | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(item, Mapping):
        key, mod_rev = item.get("key"), item.get("mod_rev")
    else:
        key, mod_rev = item
    if not isinstance(key, str):
        raise ValueError(f"a compare needs a key, got {item!r}")
    return {"key": key, "mod_rev": _revision(mod_rev, "mod_rev")}


def txn_body(compares: Compares = (), ops: Ops = ()) -> dict[str, Any]:
    """`{compares, ops}`: compares as `(key, mod_rev)` pairs or dicts; ops as dicts (see `put_op`)."""
    op_list = [dict(op) for op in ops]
    for index, op in enumerate(op_list):
        if op.get("op") not in ("put", "patch", "delete"):
            raise ValueError(f"ops[{index}]: 'op' must be put, patch or delete, got {op.get('op')!r}")
    return {"compares": [_compare(c) for c in compares], "ops": op_list}
