"""Missions in the SDK (ORCHESTRATOR.md): create, steer, watch, and the pull protocol.

    mission = client.create_mission(spec, start=True)
    for event in client.watch_missions(mission.id, after=0):
        ...
    # an agent that claimed a board task for (mission, item):
    client.submit_work(mission_id, item_id, summary="done: added retries")
    client.review_work(mission_id, item_id, "request_changes", feedback="add a test")

`MissionMethods` and `AsyncMissionMethods` are mixed into `Client` and
`AsyncClient`; they only build requests and parse answers.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from missiond.sdk.base import id_segment, idempotency_headers
from missiond.sdk.errors import ProtocolError
from missiond.sdk.streams import StreamCursor, aiter_stream, iter_stream

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from missiond.sdk.models import Event

MISSIONS_PATH = "/v1/missions"
STREAM_PATH = "/v1/streams/missions"
MISSION_STATUSES = ("draft", "running", "paused", "halted", "succeeded", "failed", "cancelled")
ITEM_STATUSES = ("todo", "blocked", "ready", "in_progress", "review", "test", "rework", "done", "failed",
                 "cancelled")  # fmt: skip


def mission_path(mission_id: str, *rest: str) -> str:
    return "/".join((MISSIONS_PATH, id_segment(mission_id), *(id_segment(r) for r in rest)))


@dataclass(frozen=True)
class Mission:
    """A mission (`GET /v1/missions/{id}`); list answers carry no `items`."""

    id: str
    title: str
    status: str
    reason: str | None
    progress: Mapping[str, Any]
    rev: int
    items: tuple[Mapping[str, Any], ...] = ()
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Mission:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("id"), str):
            raise ProtocolError(f"expected a mission, got {obj!r:.200}")
        return cls(
            id=obj["id"],
            title=str(obj.get("title", "")),
            status=str(obj.get("status", "")),
            reason=obj.get("reason"),
            progress=dict(obj.get("progress") or {}),
            rev=int(obj.get("rev", 0)),
            items=tuple(obj.get("items") or ()),
            raw=dict(obj),
        )

    def item(self, item_id: str) -> Mapping[str, Any] | None:
        return next((i for i in self.items if i.get("id") == item_id), None)


@dataclass(frozen=True)
class MissionPage:
    items: tuple[Mission, ...]
    next_cursor: str | None
    counts: Mapping[str, int]

    @classmethod
    def from_json(cls, obj: Any) -> MissionPage:
        if not isinstance(obj, Mapping) or not isinstance(obj.get("items"), list):
            raise ProtocolError(f"expected a page of missions, got {obj!r:.200}")
        return cls(
            items=tuple(Mission.from_json(m) for m in obj["items"]),
            next_cursor=obj.get("next_cursor"),
            counts=dict(obj.get("counts") or {}),
        )


def _submit_body(
    summary: str | None, ok: bool, attempt: int | None, output: str | None = None
) -> dict[str, Any]:
    body: dict[str, Any] = {"ok": ok}
    if summary is not None:
        body["summary"] = summary
    if output is not None:
        body["output"] = output
    if attempt is not None:
        body["attempt"] = attempt
    return body


def _review_body(verdict: str, feedback: str | None, attempt: int | None) -> dict[str, Any]:
    if verdict not in ("approve", "request_changes"):
        raise ValueError("verdict is 'approve' or 'request_changes'")
    body: dict[str, Any] = {"verdict": verdict}
    if feedback is not None:
        body["feedback"] = feedback
    if attempt is not None:
        body["attempt"] = attempt
    return body


def _list_params(status: str | None, after: str | None, limit: int | None) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if status:
        params["status"] = status
    if after:
        params["after"] = after
    if limit:
        params["limit"] = limit
    return params


class MissionMethods:
    """Mission calls of the blocking `Client`."""

    if TYPE_CHECKING:  # provided by `Client`; declared here for the type checker only

        def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    def create_mission(
        self, spec: Mapping[str, Any], *, start: bool = False, idempotency_key: str | None = None
    ) -> Mission:
        """Create a mission from its spec (ORCHESTRATOR.md); `InvalidMissionSpec`-coded
        `ValidationError` names every bad field. `start=True` starts it at once."""
        answer = self._json(
            "POST",
            MISSIONS_PATH,
            json=dict(spec),
            params={"start": "true"} if start else None,
            headers=idempotency_headers(idempotency_key),
        )
        return Mission.from_json(answer)

    def list_missions(
        self, status: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> MissionPage:
        return MissionPage.from_json(
            self._json("GET", MISSIONS_PATH, params=_list_params(status, after, limit))
        )

    def get_mission(self, id: str) -> Mission:
        return Mission.from_json(self._json("GET", mission_path(id)))

    def mission_action(self, id: str, action: str, reason: str | None = None) -> Mission:
        """`start`, `pause`, `resume` or `cancel`; a state that does not allow it is `Conflict`."""
        if action not in ("start", "pause", "resume", "cancel"):
            raise ValueError("action is start, pause, resume or cancel")
        body = {"reason": reason} if reason and action == "cancel" else None
        return Mission.from_json(self._json("POST", mission_path(id, action), json=body))

    def post_mission_event(self, id: str, type: str, data: Mapping[str, Any] | None = None) -> Mission:
        body = {"type": type, "mission_id": id, "data": dict(data or {})}
        return Mission.from_json(self._json("POST", mission_path(id, "events"), json=body))

    def mission_events(self, id: str, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after}
        if limit:
            params["limit"] = limit
        return list(self._json("GET", mission_path(id, "events"), params=params)["items"])

    def submit_work(
        self,
        mission_id: str,
        item_id: str,
        summary: str | None = None,
        *,
        ok: bool = True,
        attempt: int | None = None,
        output: str | None = None,
    ) -> Mission:
        """Answer a dispatched item; `output` (a diff, a log; at most 64 KiB) is kept as the
        attempt's artifact."""
        body = _submit_body(summary, ok, attempt, output)
        return Mission.from_json(
            self._json("POST", mission_path(mission_id, "work", item_id, "submit"), json=body)
        )

    def review_work(
        self,
        mission_id: str,
        item_id: str,
        verdict: str,
        feedback: str | None = None,
        *,
        attempt: int | None = None,
    ) -> Mission:
        body = _review_body(verdict, feedback, attempt)
        return Mission.from_json(
            self._json("POST", mission_path(mission_id, "work", item_id, "review"), json=body)
        )

    def watch_missions(
        self,
        mission_id: str | None = None,
        after: int | None = None,
        reconnect: bool = True,
        idle_timeout: float | None = 60.0,
    ) -> Iterator[Event]:
        path = STREAM_PATH + (f"?mission_id={quote(mission_id, safe='')}" if mission_id else "")
        cursor = StreamCursor(path=path, after=after, reconnect=reconnect, max_retries=None)
        return iter_stream(self, cursor, idle_timeout=idle_timeout)  # type: ignore[arg-type]


class AsyncMissionMethods:
    """Mission calls of the `AsyncClient`."""

    if TYPE_CHECKING:  # provided by `AsyncClient`; declared here for the type checker only

        async def _json(self, method: str, path: str, **kwargs: Any) -> Any: ...

    async def create_mission(
        self, spec: Mapping[str, Any], *, start: bool = False, idempotency_key: str | None = None
    ) -> Mission:
        answer = await self._json(
            "POST",
            MISSIONS_PATH,
            json=dict(spec),
            params={"start": "true"} if start else None,
            headers=idempotency_headers(idempotency_key),
        )
        return Mission.from_json(answer)

    async def list_missions(
        self, status: str | None = None, *, after: str | None = None, limit: int | None = None
    ) -> MissionPage:
        answer = await self._json("GET", MISSIONS_PATH, params=_list_params(status, after, limit))
        return MissionPage.from_json(answer)

    async def get_mission(self, id: str) -> Mission:
        return Mission.from_json(await self._json("GET", mission_path(id)))

    async def mission_action(self, id: str, action: str, reason: str | None = None) -> Mission:
        if action not in ("start", "pause", "resume", "cancel"):
            raise ValueError("action is start, pause, resume or cancel")
        body = {"reason": reason} if reason and action == "cancel" else None
        return Mission.from_json(await self._json("POST", mission_path(id, action), json=body))

    async def post_mission_event(self, id: str, type: str, data: Mapping[str, Any] | None = None) -> Mission:
        body = {"type": type, "mission_id": id, "data": dict(data or {})}
        return Mission.from_json(await self._json("POST", mission_path(id, "events"), json=body))

    async def mission_events(self, id: str, after: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"after": after}
        if limit:
            params["limit"] = limit
        return list((await self._json("GET", mission_path(id, "events"), params=params))["items"])

    async def submit_work(
        self,
        mission_id: str,
        item_id: str,
        summary: str | None = None,
        *,
        ok: bool = True,
        attempt: int | None = None,
        output: str | None = None,
    ) -> Mission:
        """Answer a dispatched item; `output` (a diff, a log; at most 64 KiB) is kept as the
        attempt's artifact."""
        body = _submit_body(summary, ok, attempt, output)
        path = mission_path(mission_id, "work", item_id, "submit")
        return Mission.from_json(await self._json("POST", path, json=body))

    async def review_work(
        self,
        mission_id: str,
        item_id: str,
        verdict: str,
        feedback: str | None = None,
        *,
        attempt: int | None = None,
    ) -> Mission:
        body = _review_body(verdict, feedback, attempt)
        path = mission_path(mission_id, "work", item_id, "review")
        return Mission.from_json(await self._json("POST", path, json=body))

    def watch_missions(
        self,
        mission_id: str | None = None,
        after: int | None = None,
        reconnect: bool = True,
        idle_timeout: float | None = 60.0,
    ) -> AsyncIterator[Event]:
        path = STREAM_PATH + (f"?mission_id={quote(mission_id, safe='')}" if mission_id else "")
        cursor = StreamCursor(path=path, after=after, reconnect=reconnect, max_retries=None)
        return aiter_stream(self, cursor, idle_timeout=idle_timeout)  # type: ignore[arg-type]
