from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import unquote

import anyio.to_thread
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import HeaderParameter, Parameter
from litestar.response import Stream
from pydantic import Field

from missiond.api.controllers.events import stream_response
from missiond.api.openapi import problems
from missiond.api.wire import WireModel
from missiond.bootstrap import System
from missiond.core.events import EventFilter
from missiond.errors import MalformedJson, MissiondError, ValidationFailed
from missiond.services.context import RequestContext
from missiond.services.resources import (
    Compare,
    Delete,
    Op,
    Patch,
    Precondition,
    Put,
    check_key,
    check_prefix,
)

T = TypeVar("T")


class PutIn(WireModel):
    value: Any
    expected_rev: int | None = Field(default=None, ge=0, description="0 = must not exist")
    ttl_s: float | None = Field(default=None, gt=0)


class CompareIn(WireModel):
    key: str
    mod_rev: int = Field(ge=0, description="0 = the key must be absent")


class PutOpIn(WireModel):
    op: Literal["put"]
    key: str
    value: Any
    ttl_s: float | None = Field(default=None, gt=0)


class PatchOpIn(WireModel):
    op: Literal["patch"]
    key: str
    patch: Any


class DeleteOpIn(WireModel):
    op: Literal["delete"]
    key: str


class TxnIn(WireModel):
    compares: list[CompareIn] = Field(default_factory=list, max_length=128)
    ops: list[Annotated[PutOpIn | PatchOpIn | DeleteOpIn, Field(discriminator="op")]] = Field(
        default_factory=list, max_length=128
    )


class UnsupportedMediaType(MissiondError):
    status = 415
    code = "UNSUPPORTED_MEDIA_TYPE"
    title = "Unsupported media type"


def _etag_rev(raw: str, header: str) -> int:
    value = raw.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit():
        raise ValidationFailed.field(f"header.{header}", 'must be "<revision>" or *')
    return int(value)


def precondition(request: Request[Any, Any, Any], expected_rev: int | None) -> Precondition:
    if_match = request.headers.get("if-match")
    if_none = request.headers.get("if-none-match")
    if if_none is not None and if_none.strip() != "*":
        raise ValidationFailed.field("header.If-None-Match", "only * is supported")
    return Precondition(
        if_match=_etag_rev(if_match, "If-Match") if if_match and if_match.strip() != "*" else None,
        if_match_any=bool(if_match and if_match.strip() == "*"),
        if_none_match=if_none is not None,
        expected_rev=expected_rev,
    )


_PREFIX = "/v1/resources/"


def raw_key(request: Request[Any, Any, Any], parsed: str) -> str:
    """The key exactly as sent: routers collapse '//' and '..', which we must refuse instead."""
    raw_path = request.scope.get("raw_path")
    if isinstance(raw_path, bytes):
        path = unquote(raw_path.decode("latin-1").split("?", 1)[0])
        if path.startswith(_PREFIX):
            return path[len(_PREFIX) :]
    return parsed


async def point_read(system: System, read: Callable[[], T]) -> T:
    """A read of one row. On SQLite it is a few tens of microseconds from the page cache (see
    `Store.fetch_one`), less than handing it to a worker thread and back, so it runs on the
    loop; a PostgreSQL read is a network round trip and goes to a worker thread."""
    if system.store.fetches_inline:
        return read()
    return await anyio.to_thread.run_sync(read)


def _answer(body: dict[str, Any], replayed: bool, status: int = 200) -> Response[dict[str, Any]]:
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if "mod_rev" in body:
        headers["ETag"] = f'"{body["mod_rev"]}"'
    return Response(body, status_code=status, headers=headers)


class ResourcesController(Controller):
    path = "/v1"
    security = [{"bearer": []}]
    tags = ["resources"]

    @get(
        "/resources/{key:path}",
        responses=problems(400, 401, 403, 404),
        summary="Read one resource",
    )
    async def get_one(
        self, system: System, ctx: RequestContext, request: Request[Any, Any, Any], key: str
    ) -> Response[dict[str, Any]]:
        record = await point_read(system, lambda: system.resources.get(ctx, raw_key(request, key)))
        return Response(record, headers={"ETag": f'"{record["mod_rev"]}"'})

    @get(
        "/resources",
        responses=problems(400, 401, 403),
        sync_to_thread=True,
        summary="List resources by key prefix",
    )
    def list_many(
        self,
        system: System,
        ctx: RequestContext,
        prefix: str = "",
        after_key: str | None = None,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> dict[str, Any]:
        return system.resources.list(ctx, prefix, after_key=after_key, limit=limit)

    @put(
        "/resources/{key:path}",
        responses=problems(400, 401, 403, 409, 412, 413, 422),
        summary="Create or replace a resource",
    )
    async def put_one(
        self, system: System, ctx: RequestContext, request: Request[Any, Any, Any], key: str, data: PutIn
    ) -> Response[dict[str, Any]]:
        pre = precondition(request, data.expected_rev)
        body, replayed = await system.resources.put_async(
            ctx, raw_key(request, key), data.value, ttl_s=data.ttl_s, pre=pre
        )
        return _answer(body, replayed, 201 if body["version"] == 1 else 200)

    @patch(
        "/resources/{key:path}",
        responses=problems(400, 401, 403, 404, 409, 412, 413, 422),
        summary="JSON Merge Patch (RFC 7386) a resource",
    )
    async def patch_one(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        key: str,
        expected_rev: Annotated[int | None, Parameter(ge=0)] = None,
    ) -> Response[dict[str, Any]]:
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media not in ("application/merge-patch+json", "application/json"):
            raise UnsupportedMediaType("use Content-Type: application/merge-patch+json")
        try:
            document = json.loads(await request.body())
        except (ValueError, UnicodeDecodeError) as exc:
            raise MalformedJson("the body is not valid JSON") from exc
        pre = precondition(request, expected_rev)
        body, replayed = await system.resources.patch_async(ctx, raw_key(request, key), document, pre=pre)
        return _answer(body, replayed)

    @delete(
        "/resources/{key:path}",
        responses=problems(400, 401, 403, 404, 409, 412, 422),
        status_code=200,
        summary="Delete a resource",
    )
    async def delete_one(
        self,
        system: System,
        ctx: RequestContext,
        request: Request[Any, Any, Any],
        key: str,
        expected_rev: Annotated[int | None, Parameter(ge=0)] = None,
    ) -> Response[dict[str, Any]]:
        body, replayed = await system.resources.delete_async(
            ctx, raw_key(request, key), pre=precondition(request, expected_rev)
        )
        return _answer(body, replayed)

    @post(
        "/resources:txn",
        responses=problems(400, 401, 403, 404, 409, 413, 422),
        sync_to_thread=True,
        status_code=200,
        summary="Atomic transaction: compares, then puts/patches/deletes, all or none",
    )
    def txn(self, system: System, ctx: RequestContext, data: TxnIn) -> Response[dict[str, Any]]:
        compares = [
            Compare(check_key(c.key, f"body.compares[{i}].key"), c.mod_rev)
            for i, c in enumerate(data.compares)
        ]
        ops: list[Op] = []
        for i, op in enumerate(data.ops):
            key = check_key(op.key, f"body.ops[{i}].key")
            if isinstance(op, PutOpIn):
                ops.append(Put(key, op.value, op.ttl_s))
            elif isinstance(op, PatchOpIn):
                ops.append(Patch(key, op.patch))
            else:
                ops.append(Delete(key))
        body, replayed = system.resources.txn(ctx, compares, ops)
        return _answer(body, replayed)

    @get(
        "/streams/resources",
        responses=problems(400, 401, 403, 410),
        media_type="text/event-stream",
        summary="Watch resources under a prefix (SSE)",
    )
    async def watch(
        self,
        system: System,
        ctx: RequestContext,
        prefix: str = "",
        after: str | None = None,
        last_event_id: Annotated[str | None, HeaderParameter(name="Last-Event-ID")] = None,
    ) -> Stream:
        ctx.principal.require("resources:read")
        key_prefix = check_prefix(prefix)
        flt = EventFilter(types=("resource.",), subjects=(f"resource/{key_prefix}",))
        return stream_response(system, flt, after, last_event_id)
