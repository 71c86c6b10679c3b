"""Refused requests on the task board change nothing; agents' requests are attributed to
them; an agent's token is shown once and never stored."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from missiond.api.app import create_app
from missiond.bootstrap import build
from missiond.settings import Settings

from .board import Agent, Board, problem

VF = "VALIDATION_FAILED"


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # {task}: an open task; {leased}/{lease}: a task the worker holds, its lease
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    who: str = "admin"  # admin | worker | reader | nobody | stranger | basic


def row(
    id_: str, call: Call, status: int, code: str | None, fld: str | None = None, marks: Any = (), **extra: Any
) -> Any:
    return pytest.param(call, status, code, fld, extra, id=id_, marks=marks)


def create(body: Any, **kwargs: Any) -> Call:
    return Call("POST", "/v1/tasks", body, **kwargs)


def note(body: Any, **kwargs: Any) -> Call:
    return Call("POST", "/v1/tasks/{leased}/notes", body, **kwargs)


def claim(body: Any, **kwargs: Any) -> Call:
    return Call("POST", "/v1/tasks/claim", body, **{"who": "worker", **kwargs})


NOTE = {"kind": "note", "body": "x"}
BAD_REQUESTS = [
    # task bodies
    row("create-unknown-field", create({"title": "x", "owner": "me"}), 400, VF, "body.owner"),
    row("create-missing-title", create({}), 400, VF, "body.title"),
    row("create-empty-title", create({"title": ""}), 400, VF, "body.title"),
    row("create-title-not-a-string", create({"title": 5}), 400, VF, "body.title"),
    row("create-labels-not-a-list", create({"title": "x", "labels": "a"}), 400, VF, "body.labels"),
    row("create-priority-a-word", create({"title": "x", "priority": "high"}), 400, VF, "body.priority"),
    row("create-priority-9", create({"title": "x", "priority": 9}), 400, VF, "body.priority"),
    row("create-priority-negative", create({"title": "x", "priority": -1}), 400, VF, "body.priority"),
    row("create-priority-numeric-string", create({"title": "x", "priority": "1"}), 400, VF, "body.priority"),
    row("create-priority-true", create({"title": "x", "priority": True}), 400, VF, "body.priority"),
    row("create-bad-type", create({"title": "x", "type": "story"}), 400, VF, "body.type"),
    row("create-finished", create({"title": "x", "status": "completed"}), 400, VF, "body.status"),
    row("create-unknown-parent", create({"title": "x", "parent_id": "tsk_nope"}), 404, "TASK_NOT_FOUND"),
    row("create-body-a-list", create([1]), 400, VF, "body"),
    row("create-not-json", Call("POST", "/v1/tasks", content=b'{"title": '), 400, "MALFORMED_JSON"),
    row(
        "edit-unknown-field",
        Call("PATCH", "/v1/tasks/{task}", {"status": "completed"}),
        400,
        VF,
        "body.status",
    ),
    row("transition-bad-status", Call("POST", "/v1/tasks/{task}/transition", {"status": "done"}), 400, VF),
    # notes and links
    row("note-bad-kind", note({"kind": "gossip", "body": "x"}, who="worker"), 400, VF, "body.kind"),
    row("note-empty-body", note({"kind": "note", "body": ""}, who="worker"), 400, VF, "body.body"),
    row(
        "link-bad-kind",
        Call("POST", "/v1/tasks/{task}/links", {"kind": "depends_on", "other_id": "x"}),
        400,
        VF,
    ),
    row(
        "link-without-other",
        Call("POST", "/v1/tasks/{task}/links", {"kind": "blocks"}),
        400,
        VF,
        "body.other_id",
    ),
    row("unlink-bad-kind", Call("DELETE", "/v1/tasks/{task}/links?kind=parent_of&other_id=x"), 400, VF),
    # leases and sessions
    row("claim-ttl-zero", claim({"ttl_s": 0}), 400, VF, "body.ttl_s"),
    row("claim-ttl-negative", claim({"ttl_s": -5}), 400, VF, "body.ttl_s"),
    row("claim-ttl-below-a-second", claim({"ttl_s": 0.5}), 400, VF, "body.ttl_s"),
    row("claim-ttl-huge", claim({"ttl_s": 1e9}), 400, VF, "body.ttl_s"),
    row("claim-ttl-a-word", claim({"ttl_s": "soon"}), 400, VF, "body.ttl_s"),
    row("claim-unknown-field", claim({"priority": 0}), 400, VF, "body.priority"),
    row("claim-unknown-session", claim({"session_id": "ses_nope"}), 400, VF, "body.session_id"),
    row("session-ttl-zero", Call("POST", "/v1/sessions", {"ttl_s": 0}, who="worker"), 400, VF, "body.ttl_s"),
    row(
        "session-ttl-huge", Call("POST", "/v1/sessions", {"ttl_s": 1e9}, who="worker"), 400, VF, "body.ttl_s"
    ),
    row("renew-ttl-zero", Call("POST", "/v1/leases/{lease}/renew", {"ttl_s": 0}, who="worker"), 400, VF),
    row("renew-ttl-huge", Call("POST", "/v1/leases/{lease}/renew", {"ttl_s": 1e9}, who="worker"), 400, VF),
    row(
        "renew-unknown-lease",
        Call("POST", "/v1/leases/lse_nope/renew", {}, who="worker"),
        404,
        "LEASE_NOT_FOUND",
    ),
    row(
        "heartbeat-unknown-session",
        Call("POST", "/v1/sessions/ses_nope/heartbeat", who="worker"),
        404,
        "SESSION_NOT_FOUND",
        session_id="ses_nope",
    ),
    row(
        "end-unknown-session",
        Call("POST", "/v1/sessions/ses_nope/end", who="worker"),
        404,
        "SESSION_NOT_FOUND",
        session_id="ses_nope",
    ),
    # unknown tasks
    row("show-unknown-task", Call("GET", "/v1/tasks/tsk_nope"), 404, "TASK_NOT_FOUND", task_id="tsk_nope"),
    row("history-unknown-task", Call("GET", "/v1/tasks/tsk_nope/history"), 404, "TASK_NOT_FOUND"),
    row("children-unknown-task", Call("GET", "/v1/tasks/tsk_nope/children"), 404, "TASK_NOT_FOUND"),
    row("note-unknown-task", Call("POST", "/v1/tasks/tsk_nope/notes", NOTE), 404, "TASK_NOT_FOUND"),
    row(
        "complete-unknown-task",
        Call("POST", "/v1/tasks/tsk_nope/complete", {"outcome": "x"}),
        404,
        "TASK_NOT_FOUND",
    ),
    row(
        "claim-unknown-task",
        Call("POST", "/v1/tasks/tsk_nope/claim", {}, who="worker"),
        404,
        "TASK_NOT_FOUND",
    ),
    row(
        "link-unknown-other",
        Call("POST", "/v1/tasks/{task}/links", {"kind": "blocks", "other_id": "tsk_nope"}),
        404,
        "TASK_NOT_FOUND",
    ),
    # reads
    row("related-bad-which", Call("GET", "/v1/tasks/{task}/cousins"), 400, VF, "path.which"),
    row("ready-limit-zero", Call("GET", "/v1/tasks/ready?limit=0"), 400, VF, "query.limit"),
    # fencing and revisions
    row(
        "fence-a-word",
        note(NOTE, who="worker", headers={"X-Fencing-Token": "abc"}),
        400,
        VF,
        "header.X-Fencing-Token",
    ),
    row(
        "fence-negative",
        note(NOTE, who="worker", headers={"X-Fencing-Token": "-1"}),
        400,
        VF,
        "header.X-Fencing-Token",
    ),
    row(
        "fence-fraction",
        note(NOTE, who="worker", headers={"X-Fencing-Token": "1.5"}),
        400,
        VF,
        "header.X-Fencing-Token",
    ),
    row(
        "fence-zero",
        note(NOTE, who="worker", headers={"X-Fencing-Token": "0"}),
        400,
        VF,
        "header.X-Fencing-Token",
    ),
    row("fence-body-zero", note({**NOTE, "fencing_token": 0}, who="worker"), 400, VF, "body.fencing_token"),
    row(
        "fence-header-and-body-differ",
        note({**NOTE, "fencing_token": 2}, who="worker", headers={"X-Fencing-Token": "1"}),
        400,
        VF,
        "body.fencing_token",
    ),
    row(
        "if-match-a-word",
        Call("PATCH", "/v1/tasks/{task}", {"title": "y"}, headers={"If-Match": "abc"}),
        400,
        VF,
        "header.If-Match",
    ),
    row(
        "if-match-stale",
        Call("PATCH", "/v1/tasks/{task}", {"title": "y"}, headers={"If-Match": '"99"'}),
        412,
        "PRECONDITION_FAILED",
    ),
    row(
        "expected-rev-stale",
        Call("PATCH", "/v1/tasks/{task}", {"title": "y", "expected_rev": 99}),
        409,
        "REVISION_CONFLICT",
    ),
    # capabilities
    row("reader-creates", create({"title": "x"}, who="reader"), 403, "FORBIDDEN", capability="tasks:write"),
    row("reader-claims-best", claim({}, who="reader"), 403, "FORBIDDEN", capability="tasks:claim"),
    row(
        "reader-claims-named",
        Call("POST", "/v1/tasks/{task}/claim", {}, who="reader"),
        403,
        "FORBIDDEN",
        capability="tasks:claim",
    ),
    row(
        "reader-notes",
        Call("POST", "/v1/tasks/{task}/notes", NOTE, who="reader"),
        403,
        "FORBIDDEN",
        capability="tasks:write",
    ),
    row(
        "reader-batches",
        Call("POST", "/v1/batch", {"ops": [{"op": "create_task", "task": {"title": "x"}}]}, who="reader"),
        403,
        "FORBIDDEN",
        capability="tasks:write",
    ),
    row(
        "agent-creates-agent",
        Call("POST", "/v1/agents", {"name": "mole"}, who="worker"),
        403,
        "FORBIDDEN",
        capability="admin",
    ),
    row("agent-lists-agents", Call("GET", "/v1/agents", who="worker"), 403, "FORBIDDEN"),
    # tokens
    row("no-token", create({"title": "x"}, who="nobody"), 401, "UNAUTHORIZED"),
    row("wrong-token", create({"title": "x"}, who="stranger"), 401, "UNAUTHORIZED"),
    row("basic-auth", create({"title": "x"}, who="basic"), 401, "UNAUTHORIZED"),
    row("wrong-token-claims", claim({}, who="stranger"), 401, "UNAUTHORIZED"),
    # agents
    row("agent-bad-name", Call("POST", "/v1/agents", {"name": "two words"}), 400, VF, "body.name"),
    row(
        "agent-bad-capability",
        Call("POST", "/v1/agents", {"name": "x", "capabilities": ["Tasks Write"]}),
        400,
        VF,
        "body.capabilities.0",
    ),
    row(
        "agent-unknown-field",
        Call("POST", "/v1/agents", {"name": "x", "token": "mine"}),
        400,
        VF,
        "body.token",
    ),
    row("agent-name-taken", Call("POST", "/v1/agents", {"name": "worker"}), 409, "AGENT_EXISTS"),
    # events
    row(
        "event-data-holding-nul",
        Call(
            "POST",
            "/v1/events",
            {"type": "build.step.finished", "subject": "x/y", "data": {"log": "a\u0000b"}},
        ),
        400,
        VF,
        "body.data",
    ),
    # batches
    row("batch-no-ops", Call("POST", "/v1/batch", {"ops": []}), 400, VF, "body.ops"),
    row(
        "batch-not-atomic",
        Call("POST", "/v1/batch", {"ops": [{"op": "create_task", "task": {"title": "x"}}], "atomic": False}),
        400,
        VF,
        "body.atomic",
    ),
    row(
        "batch-unknown-op",
        Call("POST", "/v1/batch", {"ops": [{"op": "delete", "task": "x"}]}),
        400,
        VF,
        "body.ops.0",
    ),
]


@dataclass(frozen=True)
class Scene:
    board: Board
    worker: Agent
    reader: Agent
    task: str
    leased: str
    lease: str

    def headers(self, who: str) -> dict[str, str]:
        return {
            "admin": {},
            "worker": self.worker.auth,
            "reader": self.reader.auth,
            "nobody": {"Authorization": ""},
            "stranger": {"Authorization": "Bearer mdt_not-a-token-this-server-issued"},
            "basic": {"Authorization": "Basic d29ya2VyOnB3"},
        }[who]

    def state(self) -> tuple[int, dict[str, Any], dict[str, Any], list[str]]:
        """The spine head, both tasks and every agent: equal before and after = nothing changed."""
        agents = [a["id"] for a in self.board.get("/v1/agents").json()["items"]]
        return self.board.head(), self.board.show(self.task), self.board.show(self.leased), agents


@pytest.fixture(scope="module")
def scene(module_board: Board) -> Scene:
    board = module_board
    worker, reader = board.agent("worker"), board.agent("reader", ["tasks:read"])
    task = board.task("open task")["id"]
    leased = board.task("leased task")["id"]
    lease = board.claim(worker, leased, ttl_s=3600)["lease"]["id"]
    return Scene(board, worker, reader, task, leased, lease)


@pytest.mark.parametrize(("call", "status", "code", "fld", "extra"), BAD_REQUESTS)
def test_a_bad_request_is_refused_with_its_problem_and_changes_nothing(
    scene: Scene, call: Call, status: int, code: str | None, fld: str | None, extra: dict[str, Any]
) -> None:
    before = scene.state()
    path = call.path.format(task=scene.task, leased=scene.leased, lease=scene.lease)
    headers = {**scene.headers(call.who), **call.headers}
    if call.content is not None:
        headers["Content-Type"] = "application/json"
    kwargs: dict[str, Any] = {"content": call.content} if call.content is not None else {"json": call.json}
    if call.method == "GET" or (call.method == "DELETE" and call.json is None):
        kwargs = {}
    answer = scene.board.client.request(call.method, path, headers=headers, **kwargs)
    body = problem(answer, status, code)
    if fld is not None:
        assert fld in [e["field"] for e in body["errors"]], body
    for key, value in extra.items():
        assert body[key] == value, body
    if status == 401:
        assert answer.headers["www-authenticate"].startswith("Bearer")
    assert scene.state() == before


def test_reading_a_tasks_history_needs_only_tasks_read(board: Board) -> None:
    reader = board.agent("reader", ["tasks:read"])
    task = board.task("watched")
    board.post(f"/v1/tasks/{task['id']}/notes", NOTE)
    answer = board.get(f"/v1/tasks/{task['id']}/history", headers=reader.auth)
    assert answer.status_code == 200, answer.text
    items = answer.json()["items"]
    assert [e["type"] for e in items] == ["task.created", "task.note_added"]
    assert {e["subject"] for e in items} == {f"task/{task['id']}"}
    problem(board.get("/v1/events", headers=reader.auth), 403, "FORBIDDEN")


def test_events_caused_by_an_agent_token_carry_its_subject_as_actor(board: Board) -> None:
    agent = board.agent("alice")
    head = board.head()
    created = board.post("/v1/tasks", {"title": "mine"}, headers=agent.auth).json()
    assert created["created_by"] == agent.subject
    session = board.post("/v1/sessions", {"ttl_s": 60}, headers=agent.auth).json()
    claimed = board.post(
        f"/v1/tasks/{created['id']}/claim", {"session_id": session["id"]}, headers=agent.auth
    )
    lease = claimed.json()["lease"]
    writes = [
        board.post(f"/v1/tasks/{created['id']}/notes", NOTE, headers=agent.fenced(1)),
        board.post(f"/v1/tasks/{created['id']}/steps", {"title": "s"}, headers=agent.fenced(1)),
        board.post(f"/v1/leases/{lease['id']}/renew", {}, headers=agent.fenced(1)),
        board.post(f"/v1/tasks/{created['id']}/complete", {"outcome": "done"}, headers=agent.fenced(1)),
        board.post("/v1/batch", {"ops": [{"op": "create_task", "task": {"title": "b"}}]}, headers=agent.auth),
        board.post("/v1/events", {"type": "build.step.finished", "subject": "x/y"}, headers=agent.auth),
    ]
    assert [w.status_code for w in writes] == [201, 201, 200, 200, 200, 201]
    events = board.events(after=head)
    assert {e.type for e in events} >= {
        "task.created",
        "agent.session_started",
        "task.claimed",
        "task.note_added",
        "task.step_added",
        "task.lease_renewed",
        "task.status_changed",
        "build.step.finished",
    }
    assert {e.actor for e in events} == {agent.subject}


def test_an_agent_token_is_shown_once_and_a_replay_does_not_show_it(board: Board) -> None:
    key = {"Idempotency-Key": "make-alice"}
    first = board.post("/v1/agents", {"name": "alice"}, headers=key)
    assert first.status_code == 201, first.text
    token = first.json()["token"]
    assert token
    head = board.head()
    replay = board.post("/v1/agents", {"name": "alice"}, headers=key)
    assert replay.status_code == 201, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert replay.json() == {**first.json(), "token": None}
    reused = board.post("/v1/agents", {"name": "bob"}, headers=key)
    problem(reused, 422, "IDEMPOTENCY_KEY_REUSED")
    assert board.head() == head
    whoami = board.get("/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert whoami.json()["subject"] == first.json()["agent"]["subject"]


@pytest.fixture
def sqlite_board(tmp_path: Path) -> Iterator[tuple[Board, Path]]:
    database = tmp_path / "missiond.db"
    built = build(Settings.from_env(home=tmp_path / "home", database_url=f"sqlite:///{database}"))
    with TestClient(create_app(built)) as client:
        yield Board(client, built), database
    built.close()


def test_an_agent_token_appears_nowhere_in_the_database_file(sqlite_board: tuple[Board, Path]) -> None:
    board, database = sqlite_board
    key = {"Idempotency-Key": "make-alice"}
    first = board.post("/v1/agents", {"name": "alice"}, headers=key).json()
    board.post("/v1/agents", {"name": "alice"}, headers=key)
    task = board.post("/v1/tasks", {"title": "t"}, headers={"Authorization": f"Bearer {first['token']}"})
    assert task.status_code == 201, task.text
    files = sorted(database.parent.glob(database.name + "*"))
    stored = b"".join(f.read_bytes() for f in files)
    assert first["agent"]["id"].encode() in stored, "the probe sees what was written"
    assert first["token"].encode() not in stored
    assert first["token"].removeprefix("mdt_").encode() not in stored
