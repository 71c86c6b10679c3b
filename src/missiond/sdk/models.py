"""Typed views of the server's answers.

Each value keeps the JSON it was built from in `raw`, so fields the server
adds later are not lost (and the CLI can print exactly what the server said).
Unknown fields are ignored by the typed view, never rejected.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from missiond.sdk.errors import ProtocolError


def parse_time(value: Any) -> datetime:
    """RFC 3339 to an aware datetime (UTC assumed when the offset is missing)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ProtocolError(f"not an RFC 3339 time: {value!r}") from exc
    else:
        raise ProtocolError(f"not an RFC 3339 time: {value!r}")
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def format_time(value: datetime | str) -> str:
    """A datetime as the wire wants it: RFC 3339 UTC with `Z`; strings pass through."""
    if isinstance(value, str):
        return value
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _require(obj: Mapping[str, Any], name: str, kind: type | tuple[type, ...]) -> Any:
    value = obj.get(name)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is int):
        raise ProtocolError(f"expected {name!r} in the server's answer, got {value!r}")
    return value


def _mapping(obj: Any, what: str) -> Mapping[str, Any]:
    if not isinstance(obj, Mapping):
        raise ProtocolError(f"expected a JSON object for {what}, got {type(obj).__name__}")
    return obj


def _optional_str(obj: Mapping[str, Any], name: str) -> str | None:
    value = obj.get(name)
    return value if isinstance(value, str) else None


@dataclass(frozen=True, slots=True)
class Event:
    """One entry of the event spine (envelope v1)."""

    seq: int
    id: str
    type: str
    subject: str
    ts: datetime
    actor: str | None
    correlation_id: str | None
    causation_id: str | None
    data: Mapping[str, Any]
    v: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Event:
        obj = _mapping(obj, "an event")
        data = obj.get("data")
        v = obj.get("v", 1)
        return cls(
            seq=_require(obj, "seq", int),
            id=_require(obj, "id", str),
            type=_require(obj, "type", str),
            subject=_require(obj, "subject", str),
            ts=parse_time(obj.get("ts")),
            actor=_optional_str(obj, "actor"),
            correlation_id=_optional_str(obj, "correlation_id"),
            causation_id=_optional_str(obj, "causation_id"),
            data=data if isinstance(data, Mapping) else {},
            v=v if isinstance(v, int) else 1,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of `GET /v1/events`."""

    events: tuple[Event, ...]
    next_cursor: str | None
    head: int | None
    floor: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> EventPage:
        obj = _mapping(obj, "an event page")
        events = obj.get("events")
        if not isinstance(events, list):
            raise ProtocolError("expected 'events' to be a list in the server's answer")
        head, floor = obj.get("head"), obj.get("floor")
        return cls(
            events=tuple(Event.from_json(e) for e in events),
            next_cursor=_optional_str(obj, "next_cursor") or None,
            head=head if isinstance(head, int) else None,
            floor=floor if isinstance(floor, int) else None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Health:
    """`GET /v1/health`."""

    status: str
    version: str | None
    database: str | None
    schema_version: str | int | None
    head_seq: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Health:
        obj = _mapping(obj, "health")
        schema_version = obj.get("schema_version")
        head_seq = obj.get("head_seq")
        return cls(
            status=str(obj.get("status", "unknown")),
            version=_optional_str(obj, "version"),
            database=_optional_str(obj, "database"),
            schema_version=schema_version if isinstance(schema_version, str | int) else None,
            head_seq=head_seq if isinstance(head_seq, int) else None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Identity:
    """`GET /v1/whoami`: who the token speaks for and what it may do."""

    subject: str
    kind: str | None
    capabilities: tuple[str, ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Identity:
        obj = _mapping(obj, "whoami")
        caps = obj.get("capabilities")
        return cls(
            subject=_require(obj, "subject", str),
            kind=_optional_str(obj, "kind"),
            capabilities=tuple(str(c) for c in caps) if isinstance(caps, list) else (),
            raw=dict(obj),
        )


def _optional_time(obj: Mapping[str, Any], name: str) -> datetime | None:
    value = obj.get(name)
    return None if value is None else parse_time(value)


def _int_or(obj: Mapping[str, Any], name: str, default: int) -> int:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


@dataclass(frozen=True, slots=True)
class Resource:
    """One record of the blackboard (`GET /v1/resources/{key}`).

    `mod_rev` is the revision to hand back as `if_rev` / `expected_rev` for a
    checked write; `version` counts the writes since the key was created.
    """

    key: str
    value: Any
    create_rev: int
    mod_rev: int
    version: int
    updated_by: str
    updated_at: datetime
    expires_at: datetime | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Resource:
        obj = _mapping(obj, "a resource")
        if "value" not in obj:
            raise ProtocolError("expected 'value' in the server's answer")
        return cls(
            key=_require(obj, "key", str),
            value=obj["value"],
            create_rev=_require(obj, "create_rev", int),
            mod_rev=_require(obj, "mod_rev", int),
            version=_require(obj, "version", int),
            updated_by=_require(obj, "updated_by", str),
            updated_at=parse_time(obj.get("updated_at")),
            expires_at=_optional_time(obj, "expires_at"),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class ResourcePage:
    """One page of `GET /v1/resources`: records sorted by key, as of `revision`.

    Watching with `after=revision` delivers exactly the changes after this
    snapshot. `next_after_key` is set when there may be more.
    """

    items: tuple[Resource, ...]
    revision: int
    next_after_key: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> ResourcePage:
        obj = _mapping(obj, "a resource page")
        items = obj.get("items")
        if not isinstance(items, list):
            raise ProtocolError("expected 'items' to be a list in the server's answer")
        return cls(
            items=tuple(Resource.from_json(item) for item in items),
            revision=_require(obj, "revision", int),
            next_after_key=_optional_str(obj, "next_after_key") or None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class DeletedResource:
    """The answer to `DELETE /v1/resources/{key}`: the key and the revision that removed it."""

    key: str
    rev: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> DeletedResource:
        obj = _mapping(obj, "a deletion")
        return cls(key=_require(obj, "key", str), rev=_require(obj, "rev", int), raw=dict(obj))


@dataclass(frozen=True, slots=True)
class TxnResult:
    """The answer to `POST /v1/resources:txn`: one revision for the whole transaction.

    `results` holds one `{key, deleted, mod_rev}` per key the ops touched.
    """

    revision: int
    succeeded: bool
    results: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> TxnResult:
        obj = _mapping(obj, "a transaction result")
        results = obj.get("results")
        return cls(
            revision=_require(obj, "revision", int),
            succeeded=bool(obj.get("succeeded", True)),
            results=tuple(dict(r) for r in results if isinstance(r, Mapping))
            if isinstance(results, list)
            else (),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class ResourceEvent:
    """One change seen by a resource watch (`GET /v1/streams/resources`).

    `type` is `resource.updated`, `resource.deleted` or `resource.expired`;
    `value` is None unless the key was updated. `rev` is the revision of the
    write transaction (shared by every event of one transaction); `seq` is
    the event's own position on the spine (the stream's resume cursor).
    `raw` is the event envelope exactly as streamed.
    """

    type: str
    key: str
    rev: int
    prev_rev: int
    value: Any | None
    seq: int
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def deleted(self) -> bool:
        """True when the key is gone after this change (deleted or expired)."""
        return self.type != "resource.updated"

    @classmethod
    def from_event(cls, event: Event) -> ResourceEvent:
        data = event.data
        key = data.get("key")
        if not isinstance(key, str):
            key = event.subject.removeprefix("resource/")
        return cls(
            type=event.type,
            key=key,
            rev=_int_or(data, "rev", event.seq),
            prev_rev=_int_or(data, "prev_rev", 0),
            value=data.get("value") if event.type == "resource.updated" else None,
            seq=event.seq,
            raw=event.raw,
        )

    @classmethod
    def from_json(cls, obj: Any) -> ResourceEvent:
        return cls.from_event(Event.from_json(obj))


# -- the task board (TASK_BOARD.md) ---------------------------------------------------------


def _optional_int(obj: Mapping[str, Any], name: str) -> int | None:
    value = obj.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _optional_float(obj: Mapping[str, Any], name: str) -> float | None:
    value = obj.get(name)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _str_tuple(obj: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = obj.get(name)
    return tuple(str(item) for item in value) if isinstance(value, list) else ()


def _mappings(value: Any) -> tuple[Mapping[str, Any], ...]:
    return tuple(dict(item) for item in value if isinstance(item, Mapping)) if isinstance(value, list) else ()


@dataclass(frozen=True, slots=True)
class Lease:
    """A claim on a task: who holds it, until when, and the fencing token its writes must carry.

    The full record comes with a claim, a renewal or a release. A task's own
    view embeds a short form (`id`, `holder`, `fencing_token`, `expires_at`):
    there `session_id`, `ttl_s` and `acquired_at` are None and `task_id` is
    the task's.
    """

    id: str
    task_id: str
    holder: str
    fencing_token: int
    expires_at: datetime
    session_id: str | None
    ttl_s: float | None
    acquired_at: datetime | None
    ended_at: datetime | None
    end_reason: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def live(self) -> bool:
        """False once the server ended the lease (released, reclaimed, the task left in_progress)."""
        return self.ended_at is None

    @classmethod
    def from_json(cls, obj: Any, *, task_id: str | None = None) -> Lease:
        obj = _mapping(obj, "a lease")
        owner = obj.get("task_id", task_id)
        if not isinstance(owner, str):
            raise ProtocolError(f"expected 'task_id' in the server's answer, got {owner!r}")
        return cls(
            id=_require(obj, "id", str),
            task_id=owner,
            holder=_require(obj, "holder", str),
            fencing_token=_require(obj, "fencing_token", int),
            expires_at=parse_time(obj.get("expires_at")),
            session_id=_optional_str(obj, "session_id"),
            ttl_s=_optional_float(obj, "ttl_s"),
            acquired_at=_optional_time(obj, "acquired_at"),
            ended_at=_optional_time(obj, "ended_at"),
            end_reason=_optional_str(obj, "end_reason"),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Task:
    """One task of the board (`GET /v1/tasks/{id}` and every list of tasks).

    `lease` is the live lease, if any. `relationships`, `notes` and `steps`
    come only with the single-task view (`get_task`, and the answers to
    create, edit and transitions); lists leave them empty. Notes and steps
    are the server's JSON objects; `steps` holds the step items (`raw["steps"]`
    also has the done/skipped/total counts).
    """

    id: str
    title: str
    type: str
    status: str
    priority: int
    labels: tuple[str, ...]
    role: str | None
    intent: str
    description: str
    plan: str
    parent_id: str | None
    mission_id: str | None
    outcome: str | None
    rev: int
    open_blockers: int
    unblocks: int
    ready: bool
    lease: Lease | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    completed_at: datetime | None
    relationships: Mapping[str, tuple[str, ...]]
    notes: tuple[Mapping[str, Any], ...]
    steps: tuple[Mapping[str, Any], ...]
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Task:
        obj = _mapping(obj, "a task")
        task_id = _require(obj, "id", str)
        lease = obj.get("lease")
        links = obj.get("relationships")
        steps = obj.get("steps")
        return cls(
            id=task_id,
            title=_require(obj, "title", str),
            type=str(obj.get("type") or ""),
            status=_require(obj, "status", str),
            priority=_int_or(obj, "priority", 2),
            labels=_str_tuple(obj, "labels"),
            role=_optional_str(obj, "role"),
            intent=str(obj.get("intent") or ""),
            description=str(obj.get("description") or ""),
            plan=str(obj.get("plan") or ""),
            parent_id=_optional_str(obj, "parent_id"),
            mission_id=_optional_str(obj, "mission_id"),
            outcome=_optional_str(obj, "outcome"),
            rev=_require(obj, "rev", int),
            open_blockers=_int_or(obj, "open_blockers", 0),
            unblocks=_int_or(obj, "unblocks", 0),
            ready=bool(obj.get("ready", False)),
            lease=None if lease is None else Lease.from_json(lease, task_id=task_id),
            created_by=_optional_str(obj, "created_by"),
            created_at=parse_time(obj.get("created_at")),
            updated_at=parse_time(obj.get("updated_at")),
            completed_at=_optional_time(obj, "completed_at"),
            relationships=(
                {str(k): _str_tuple(links, k) for k in links} if isinstance(links, Mapping) else {}
            ),
            notes=_mappings(obj.get("notes")),
            steps=_mappings(steps.get("items")) if isinstance(steps, Mapping) else (),
            raw=dict(obj),
        )


def parse_tasks(obj: Any) -> list[Task]:
    """The tasks of a `{"items": [...]}` answer (ready queue, children, descendants, ancestors)."""
    items = _mapping(obj, "a list of tasks").get("items")
    if not isinstance(items, list):
        raise ProtocolError("expected 'items' to be a list in the server's answer")
    return [Task.from_json(item) for item in items]


@dataclass(frozen=True, slots=True)
class TaskPage:
    """One page of `GET /v1/tasks`, in id order; `next_after_id` is set when there may be more."""

    items: tuple[Task, ...]
    next_after_id: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> TaskPage:
        obj = _mapping(obj, "a task page")
        return cls(
            items=tuple(parse_tasks(obj)),
            next_after_id=_optional_str(obj, "next_after_id") or None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Claim:
    """A task and its lease: the answer to a claim (and to a release, with the ended lease)."""

    task: Task
    lease: Lease
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def fencing_token(self) -> int:
        return self.lease.fencing_token

    @classmethod
    def from_json(cls, obj: Any) -> Claim:
        obj = _mapping(obj, "a claim")
        task = Task.from_json(obj.get("task"))
        return cls(task=task, lease=Lease.from_json(obj.get("lease"), task_id=task.id), raw=dict(obj))


@dataclass(frozen=True, slots=True)
class Agent:
    """A registered agent; its requests are attributed to `subject` (`agent:<id>`)."""

    id: str
    subject: str
    name: str
    roles: tuple[str, ...]
    capabilities: tuple[str, ...]
    created_at: datetime
    created_by: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Agent:
        obj = _mapping(obj, "an agent")
        agent_id = _require(obj, "id", str)
        return cls(
            id=agent_id,
            subject=_optional_str(obj, "subject") or f"agent:{agent_id}",
            name=_require(obj, "name", str),
            roles=_str_tuple(obj, "roles"),
            capabilities=_str_tuple(obj, "capabilities"),
            created_at=parse_time(obj.get("created_at")),
            created_by=_optional_str(obj, "created_by"),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class AgentSession:
    """An agent's session: heartbeat it within `ttl_s`, or it closes and its leases are reclaimed.

    `leases_renewed` is set on a heartbeat's answer only.
    """

    id: str
    agent: str
    ttl_s: float
    started_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    end_reason: str | None
    leases_renewed: int | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> AgentSession:
        obj = _mapping(obj, "a session")
        ttl_s = _optional_float(obj, "ttl_s")
        if ttl_s is None:
            raise ProtocolError(f"expected 'ttl_s' in the server's answer, got {obj.get('ttl_s')!r}")
        return cls(
            id=_require(obj, "id", str),
            agent=_require(obj, "agent", str),
            ttl_s=ttl_s,
            started_at=parse_time(obj.get("started_at")),
            expires_at=parse_time(obj.get("expires_at")),
            ended_at=_optional_time(obj, "ended_at"),
            end_reason=_optional_str(obj, "end_reason"),
            leases_renewed=_optional_int(obj, "leases_renewed"),
            raw=dict(obj),
        )


# -- routines and approvals (ROUTINES_CRON.md) ------------------------------------------------


def _dict(obj: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = obj.get(name)
    return dict(value) if isinstance(value, Mapping) else {}


def _items(obj: Any, what: str) -> list[Any]:
    items = _mapping(obj, what).get("items")
    if not isinstance(items, list):
        raise ProtocolError("expected 'items' to be a list in the server's answer")
    return items


@dataclass(frozen=True, slots=True)
class RoutineRun:
    """One occurrence of a routine and what became of it (`GET /v1/routines/{id}/history`).

    `status` is queued, pending_approval, running, succeeded, failed,
    blocked_policy, denied, missed or skipped_overlap; `trigger` is scheduled,
    manual or catch_up. `detail` holds the policy decision (`policy`,
    `action_class`, `reason`) and the outcome (`exit_code`, `output_tail`,
    `task_id`, `error`; for a missed row `count` and `last_missed`).
    """

    id: str
    routine_id: str
    scheduled_for: datetime
    trigger: str
    status: str
    approval_id: str | None
    mission_id: str | None
    started_at: datetime | None
    finished_at: datetime | None
    detail: Mapping[str, Any]
    created_at: datetime | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def task_id(self) -> str | None:
        """The task a `task` action filed on the board."""
        value = self.detail.get("task_id")
        return value if isinstance(value, str) else None

    @classmethod
    def from_json(cls, obj: Any) -> RoutineRun:
        obj = _mapping(obj, "a routine run")
        return cls(
            id=_require(obj, "id", str),
            routine_id=_require(obj, "routine_id", str),
            scheduled_for=parse_time(obj.get("scheduled_for")),
            trigger=str(obj.get("trigger") or ""),
            status=_require(obj, "status", str),
            approval_id=_optional_str(obj, "approval_id"),
            mission_id=_optional_str(obj, "mission_id"),
            started_at=_optional_time(obj, "started_at"),
            finished_at=_optional_time(obj, "finished_at"),
            detail=_dict(obj, "detail"),
            created_at=_optional_time(obj, "created_at"),
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class RoutineRunPage:
    """One page of a routine's history, newest first; `next_before_id` is set when there may be more."""

    items: tuple[RoutineRun, ...]
    next_before_id: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> RoutineRunPage:
        items = _items(obj, "a routine history")
        return cls(
            items=tuple(RoutineRun.from_json(item) for item in items),
            next_before_id=_optional_str(obj, "next_before_id") or None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Routine:
    """A recurring action (`GET /v1/routines/{id}`).

    `schedule` is `{cron, timezone}` or `{interval_s}`, `schedule_text` says it
    in words. `next_fire_at` is None unless the routine is active. `last_run`
    comes with `get_routine` and `list_routines` only. `action_class` is
    `external` when the action leaves the machine: such a routine runs only
    with `external_allowed` (otherwise its runs are `blocked_policy`).
    """

    id: str
    name: str
    schedule: Mapping[str, Any]
    schedule_text: str
    misfire: Mapping[str, Any]
    overlap: str
    action: Mapping[str, Any]
    action_class: str
    requires_approval: bool
    external_allowed: bool
    created_by: Mapping[str, Any]
    status: str
    next_fire_at: datetime | None
    last_fired_at: datetime | None
    rev: int
    created_at: datetime | None
    updated_at: datetime | None
    last_run: RoutineRun | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def external(self) -> bool:
        return self.action_class == "external"

    @property
    def cron(self) -> str | None:
        value = self.schedule.get("cron")
        return value if isinstance(value, str) else None

    @property
    def timezone(self) -> str | None:
        """The IANA zone of a cron schedule (None for an interval)."""
        value = self.schedule.get("timezone")
        if isinstance(value, str):
            return value
        return "UTC" if self.cron is not None else None

    @property
    def interval_s(self) -> float | None:
        return _optional_float(self.schedule, "interval_s")

    @classmethod
    def from_json(cls, obj: Any) -> Routine:
        obj = _mapping(obj, "a routine")
        last_run = obj.get("last_run")
        return cls(
            id=_require(obj, "id", str),
            name=_require(obj, "name", str),
            schedule=_dict(obj, "schedule"),
            schedule_text=str(obj.get("schedule_text") or ""),
            misfire=_dict(obj, "misfire"),
            overlap=str(obj.get("overlap") or "skip"),
            action=_dict(obj, "action"),
            action_class=str(obj.get("action_class") or "internal"),
            requires_approval=bool(obj.get("requires_approval", False)),
            external_allowed=bool(obj.get("external_allowed", False)),
            created_by=_dict(obj, "created_by"),
            status=_require(obj, "status", str),
            next_fire_at=_optional_time(obj, "next_fire_at"),
            last_fired_at=_optional_time(obj, "last_fired_at"),
            rev=_require(obj, "rev", int),
            created_at=_optional_time(obj, "created_at"),
            updated_at=_optional_time(obj, "updated_at"),
            last_run=RoutineRun.from_json(last_run) if isinstance(last_run, Mapping) else None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class RoutinePage:
    """One page of `GET /v1/routines`, in id order; `next_after_id` is set when there may be more."""

    items: tuple[Routine, ...]
    next_after_id: str | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> RoutinePage:
        items = _items(obj, "a routine page")
        return cls(
            items=tuple(Routine.from_json(item) for item in items),
            next_after_id=_optional_str(obj, "next_after_id") or None,
            raw=dict(obj),
        )


@dataclass(frozen=True, slots=True)
class Approval:
    """A request waiting for a person (`GET /v1/approvals/{id}`).

    `status` is pending, approved, denied or expired; `payload` says what is
    asked (for a routine run: `routine_id`, `run_id`, `action`).
    """

    id: str
    kind: str
    subject: str
    summary: str
    requester: str | None
    status: str
    decider: str | None
    reason: str | None
    payload: Mapping[str, Any]
    created_at: datetime | None
    expires_at: datetime | None
    decided_at: datetime | None
    raw: Mapping[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_json(cls, obj: Any) -> Approval:
        obj = _mapping(obj, "an approval")
        return cls(
            id=_require(obj, "id", str),
            kind=str(obj.get("kind") or ""),
            subject=str(obj.get("subject") or ""),
            summary=str(obj.get("summary") or ""),
            requester=_optional_str(obj, "requester"),
            status=_require(obj, "status", str),
            decider=_optional_str(obj, "decider"),
            reason=_optional_str(obj, "reason"),
            payload=_dict(obj, "payload"),
            created_at=_optional_time(obj, "created_at"),
            expires_at=_optional_time(obj, "expires_at"),
            decided_at=_optional_time(obj, "decided_at"),
            raw=dict(obj),
        )


def parse_approvals(obj: Any) -> list[Approval]:
    """The approvals of a `{"items": [...]}` answer."""
    return [Approval.from_json(item) for item in _items(obj, "a list of approvals")]
