"""The policy gate and the approval queue over HTTP, on SQLite and PostgreSQL.

The app runs in-process on the test's clock (only expiry moves it). Its background
scheduler is replaced by a quiet stand-in: the test carries out queued runs itself
(`drain`, what the scheduler does), so nothing races the assertions, and the app's
shutdown cannot hang on the scheduler's swallowed cancellation (see
test_routine_scheduler_loop.py). The routines here are hourly and the clock does not reach
their first occurrence, so every run is a manual one unless a test ticks on purpose.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from missiond.api import reactors
from missiond.bootstrap import System, build
from missiond.settings import Settings

from .routine_harness import ManualClock, QuietScheduler, drain, events_after, make_app, problem, spine_head

AGENT_CAPABILITIES = [
    "routines:read",
    "routines:write",
    "routines:run",
    "approvals:read",
    "approvals:decide",
    "tasks:read",
]
INTERNAL = {"kind": "command", "argv": ["true"]}
EXTERNAL_COMMAND = {"kind": "command", "argv": ["true"], "external": True}
EXTERNAL_CONNECTOR = {"kind": "connector", "connector": "shell.run", "params": {"argv": ["true"]}}
TASK = {"kind": "task", "task": {"title": "weekly triage", "type": "chore", "labels": ["triage"]}}


@dataclass
class Api:
    client: TestClient[Any]
    system: System
    clock: ManualClock

    def post(self, path: str, body: Any = None, **kwargs: Any) -> httpx.Response:
        return self.client.post(path, json={} if body is None else body, **kwargs)

    def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return self.client.get(path, **kwargs)

    def routine(self, action: dict[str, Any], headers: dict[str, str] | None = None, **fields: Any) -> Any:
        body = {"name": "hourly digest", "schedule": {"interval_s": 3600}, "action": action, **fields}
        answer = self.post("/v1/routines", body, headers=headers)
        assert answer.status_code == 201, answer.text
        return answer.json()

    def history(self, routine_id: str) -> list[dict[str, Any]]:
        answer = self.get(f"/v1/routines/{routine_id}/history")
        assert answer.status_code == 200, answer.text
        return list(answer.json()["items"])

    def run(self, routine_id: str, run_id: str) -> dict[str, Any]:
        [found] = [r for r in self.history(routine_id) if r["id"] == run_id]
        return found

    def settled(self, routine_id: str, run_id: str) -> dict[str, Any]:
        """The run after the runner carried out whatever was queued."""
        drain(self.system)
        return self.run(routine_id, run_id)

    def agent(self, name: str) -> dict[str, str]:
        answer = self.post("/v1/agents", {"name": name, "capabilities": AGENT_CAPABILITIES})
        assert answer.status_code == 201, answer.text
        return {"Authorization": f"Bearer {answer.json()['token']}"}


@pytest.fixture
def api(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setattr(reactors, "SchedulerDriver", QuietScheduler)
    clock = ManualClock()
    system = build(Settings.from_env(home=tmp_path / "home", database_url=database_url), clock=clock)
    with TestClient(make_app(system), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {system.admin_token}"
        yield Api(client, system, clock)
    system.close()


# -- the matrix ----------------------------------------------------------------------------------
BLOCKED = "the action has external side effects and external_allowed is false"
MATRIX = [
    # action, external_allowed, requires_approval -> run-now status, run status at once, run status at last,
    # action_class, policy, reason
    (INTERNAL, False, False, 202, "queued", "succeeded", "internal", "allowed", "internal action"),
    (INTERNAL, True, False, 202, "queued", "succeeded", "internal", "allowed", "internal action"),
    (INTERNAL, False, True, 202, "pending_approval", "pending_approval", "internal", "pending_approval",
     "the routine requires approval"),
    (INTERNAL, True, True, 202, "pending_approval", "pending_approval", "internal", "pending_approval",
     "the routine requires approval"),
    (EXTERNAL_COMMAND, False, False, 403, "blocked_policy", "blocked_policy", "external", "blocked_policy",
     BLOCKED),
    (EXTERNAL_COMMAND, False, True, 403, "blocked_policy", "blocked_policy", "external", "blocked_policy",
     BLOCKED),
    (EXTERNAL_COMMAND, True, False, 202, "queued", "succeeded", "external", "allowed",
     "external effects are allowed"),
    (EXTERNAL_COMMAND, True, True, 202, "pending_approval", "pending_approval", "external",
     "pending_approval", "the routine requires approval"),
    (EXTERNAL_CONNECTOR, False, False, 403, "blocked_policy", "blocked_policy", "external", "blocked_policy",
     BLOCKED),
    (EXTERNAL_CONNECTOR, True, False, 202, "queued", "succeeded", "external", "allowed",
     "external effects are allowed"),
]  # fmt: skip
MATRIX_IDS = [
    "internal-runs",
    "internal-with-external-allowed-runs",
    "internal-needing-approval-waits",
    "internal-needing-approval-with-external-allowed-waits",
    "external-command-not-allowed-is-blocked",
    "external-command-not-allowed-is-blocked-before-approval",
    "external-command-allowed-runs",
    "external-command-allowed-needing-approval-waits",
    "connector-not-allowed-is-blocked",
    "connector-allowed-runs",
]


@pytest.mark.parametrize(
    (
        "action",
        "external_allowed",
        "requires_approval",
        "http_status",
        "status",
        "final",
        "action_class",
        "policy",
        "reason",
    ),
    MATRIX,
    ids=MATRIX_IDS,
)
def test_run_now_passes_the_policy_gate(
    api: Api,
    action: dict[str, Any],
    external_allowed: bool,
    requires_approval: bool,
    http_status: int,
    status: str,
    final: str,
    action_class: str,
    policy: str,
    reason: str,
) -> None:
    routine = api.routine(action, external_allowed=external_allowed, requires_approval=requires_approval)
    assert routine["action_class"] == action_class
    head = spine_head(api.system)
    answer = api.post(f"/v1/routines/{routine['id']}/run-now")
    assert answer.status_code == http_status, answer.text
    run = problem(answer, 403, "POLICY_BLOCKED")["run"] if http_status == 403 else answer.json()
    assert (run["status"], run["trigger"]) == (status, "manual")
    assert run["detail"] == {"policy": policy, "action_class": action_class, "reason": reason}
    stored = api.settled(routine["id"], run["id"])
    assert stored["status"] == final, "the run is in the history whatever the decision"
    assert {k: stored["detail"][k] for k in ("policy", "action_class", "reason")} == run["detail"]
    kinds = {e.type for e in events_after(api.system, head, "routine.", "approval.")}
    assert {
        "blocked_policy": {"routine.blocked"},
        "pending_approval": {"routine.approval_required", "approval.requested"},
        "queued": {"routine.fired", "routine.run_finished"},
    }[status] <= kinds
    pending = api.get("/v1/approvals", params={"status": "pending"}).json()["items"]
    assert [a["id"] for a in pending] == ([run["approval_id"]] if status == "pending_approval" else [])


@pytest.mark.parametrize(
    ("fields", "policy", "status"),
    [
        ({"action": EXTERNAL_COMMAND}, "blocked_policy", "blocked_policy"),
        ({"action": INTERNAL, "requires_approval": True}, "pending_approval", "pending_approval"),
        ({"action": INTERNAL}, "allowed", "queued"),
    ],
    ids=["blocked", "needs-approval", "allowed"],
)
def test_a_scheduled_occurrence_passes_the_same_gate(
    api: Api, fields: dict[str, Any], policy: str, status: str
) -> None:
    routine = api.routine(**fields)
    api.clock.advance(3600)
    assert api.system.routines.tick() == 1
    [run] = api.history(routine["id"])
    assert (run["trigger"], run["status"], run["detail"]["policy"]) == ("scheduled", status, policy)


def test_run_now_of_a_blocked_routine_is_403_and_the_blocked_run_is_kept_with_its_reason(api: Api) -> None:
    routine = api.routine(EXTERNAL_COMMAND)
    body = problem(api.post(f"/v1/routines/{routine['id']}/run-now"), 403, "POLICY_BLOCKED")
    assert "external_allowed is false" in body["detail"]
    [kept] = api.history(routine["id"])
    assert kept["id"] == body["run"]["id"]
    assert kept["status"] == "blocked_policy"
    assert kept["detail"]["reason"] == BLOCKED
    assert api.get(f"/v1/routines/{routine['id']}").json()["last_run"]["id"] == kept["id"]


def test_a_replayed_run_now_of_a_blocked_routine_answers_403_again(api: Api) -> None:
    routine = api.routine(EXTERNAL_COMMAND)
    key = {"Idempotency-Key": "blocked-once"}
    first = api.post(f"/v1/routines/{routine['id']}/run-now", headers=key)
    problem(first, 403, "POLICY_BLOCKED")
    again = api.post(f"/v1/routines/{routine['id']}/run-now", headers=key)
    assert again.status_code == 403, again.text
    assert len(api.history(routine["id"])) == 1


# -- approvals -----------------------------------------------------------------------------------
def pending_run(api: Api, action: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    routine = api.routine(action, requires_approval=True)
    run = api.post(f"/v1/routines/{routine['id']}/run-now").json()
    assert run["status"] == "pending_approval"
    return routine, run


def test_approving_a_pending_task_run_queues_it_and_the_task_lands_on_the_board(api: Api) -> None:
    routine, run = pending_run(api, TASK)
    approval = api.get(f"/v1/approvals/{run['approval_id']}").json()
    assert {k: approval[k] for k in ("kind", "subject", "requester", "status")} == {
        "kind": "routine_run",
        "subject": f"routine/{routine['id']}/run/{run['id']}",
        "requester": f"routine:{routine['id']}",
        "status": "pending",
    }
    assert approval["payload"]["run_id"] == run["id"]
    decided = api.post(f"/v1/approvals/{run['approval_id']}/approve", {"reason": "looks fine"})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["decider"]) == ("approved", "user:admin")
    done = api.settled(routine["id"], run["id"])
    assert done["status"] == "succeeded", done
    assert done["detail"]["approved_by"] == "user:admin"
    task = api.get(f"/v1/tasks/{done['detail']['task_id']}")
    assert task.status_code == 200, task.text
    assert (task.json()["title"], task.json()["labels"]) == ("weekly triage", ["triage"])


def test_denying_a_pending_run_records_it_denied_with_the_reason(api: Api) -> None:
    routine, run = pending_run(api, TASK)
    decided = api.post(f"/v1/approvals/{run['approval_id']}/deny", {"reason": "not this week"})
    assert decided.status_code == 200, decided.text
    assert (decided.json()["status"], decided.json()["reason"]) == ("denied", "not this week")
    denied = api.run(routine["id"], run["id"])
    assert denied["status"] == "denied"
    assert (denied["detail"]["decision"], denied["detail"]["reason"]) == ("denied", "not this week")
    assert denied["finished_at"] is not None
    assert api.get("/v1/approvals", params={"status": "pending"}).json()["items"] == []
    assert api.settled(routine["id"], run["id"])["status"] == "denied", "a denied run never runs"


@pytest.mark.parametrize(
    ("first", "second"),
    [("approve", "approve"), ("deny", "approve"), ("approve", "deny")],
    ids=["approve-twice", "approve-after-deny", "deny-after-approve"],
)
def test_deciding_an_approval_twice_is_409_approval_decided(api: Api, first: str, second: str) -> None:
    _, run = pending_run(api, INTERNAL)
    reason = {"reason": "because"}
    assert api.post(f"/v1/approvals/{run['approval_id']}/{first}", reason).status_code == 200
    problem(api.post(f"/v1/approvals/{run['approval_id']}/{second}", reason), 409, "APPROVAL_DECIDED")


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}], ids=["no-reason", "empty", "blank"])
def test_a_denial_without_a_reason_is_400_and_the_approval_stays_pending(
    api: Api, body: dict[str, Any]
) -> None:
    routine, run = pending_run(api, INTERNAL)
    head = spine_head(api.system)
    refused = problem(api.post(f"/v1/approvals/{run['approval_id']}/deny", body), 400, "VALIDATION_FAILED")
    assert [e["field"] for e in refused["errors"]] == ["body.reason"]
    assert api.get(f"/v1/approvals/{run['approval_id']}").json()["status"] == "pending"
    assert api.run(routine["id"], run["id"])["status"] == "pending_approval"
    assert spine_head(api.system) == head


def test_an_approval_nobody_decides_expires_after_a_day_and_the_run_is_denied(api: Api) -> None:
    routine, run = pending_run(api, TASK)
    api.clock.advance(24 * 3600 - 1)
    assert api.system.approvals.sweep() == 0
    assert api.get(f"/v1/approvals/{run['approval_id']}").json()["status"] == "pending"
    api.clock.advance(2)
    api.system.approvals.sweep()  # the app's own sweeper may have been first: the same outcome
    approval = api.get(f"/v1/approvals/{run['approval_id']}").json()
    assert (approval["status"], approval["decider"]) == ("expired", "system.approvals")
    expired = api.settled(routine["id"], run["id"])
    assert (expired["status"], expired["detail"]["decision"]) == ("denied", "expired")


def test_approving_after_the_deadline_but_before_the_sweep_records_the_approval_expired(api: Api) -> None:
    routine, run = pending_run(api, TASK)
    api.clock.advance(24 * 3600 + 1)
    late = api.post(f"/v1/approvals/{run['approval_id']}/approve")
    if late.status_code == 409:
        # The app's own sweeper (every 5 s) ran between the clock's move and the request: the
        # approval was already expired, and the late decision is refused as a decided one.
        assert late.json()["code"] == "APPROVAL_DECIDED", late.text
        late = api.get(f"/v1/approvals/{run['approval_id']}")
    assert late.status_code == 200, late.text
    assert late.json()["status"] == "expired"
    assert api.settled(routine["id"], run["id"])["status"] == "denied", "an expired approval never runs"


# -- agents --------------------------------------------------------------------------------------
def test_an_agents_routine_is_a_draft_that_never_fires_until_a_person_activates_it(api: Api) -> None:
    agent = api.agent("planner")
    routine = api.routine(INTERNAL, headers=agent, status="active")
    assert (routine["status"], routine["next_fire_at"]) == ("draft", None)
    assert routine["created_by"]["type"] == "agent"
    api.clock.advance(3 * 3600)
    api.system.routines.tick()
    assert api.history(routine["id"]) == [], "a draft does not fire"
    problem(api.post(f"/v1/routines/{routine['id']}/run-now", headers=agent), 409, "ROUTINE_DRAFT")
    problem(api.post(f"/v1/routines/{routine['id']}/activate", headers=agent), 403, "FORBIDDEN")
    assert api.get(f"/v1/routines/{routine['id']}").json()["status"] == "draft"
    activated = api.post(f"/v1/routines/{routine['id']}/activate")
    assert activated.status_code == 200, activated.text
    assert activated.json()["status"] == "active"
    assert activated.json()["next_fire_at"] is not None


def test_an_agents_edit_of_an_active_routine_sends_it_back_to_draft(api: Api) -> None:
    agent = api.agent("planner")
    routine = api.routine(INTERNAL, headers=agent)
    assert api.post(f"/v1/routines/{routine['id']}/activate").status_code == 200
    edited = api.client.patch(f"/v1/routines/{routine['id']}", json={"name": "renamed"}, headers=agent)
    assert edited.status_code == 200, edited.text
    assert edited.json()["status"] == "draft"


def test_an_agent_cannot_decide_approvals(api: Api) -> None:
    agent = api.agent("reviewer")
    routine, run = pending_run(api, INTERNAL)
    approval = run["approval_id"]
    assert api.get(f"/v1/approvals/{approval}", headers=agent).status_code == 200, "agents may look"
    problem(api.post(f"/v1/approvals/{approval}/approve", headers=agent), 403, "FORBIDDEN")
    problem(api.post(f"/v1/approvals/{approval}/deny", {"reason": "mine"}, headers=agent), 403, "FORBIDDEN")
    assert api.get(f"/v1/approvals/{approval}").json()["status"] == "pending"
    assert api.run(routine["id"], run["id"])["status"] == "pending_approval"
