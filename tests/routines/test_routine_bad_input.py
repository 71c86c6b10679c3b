"""Refused routine requests, as a table: the right status and code, the field named, and
nothing stored (the routine list and the spine head are unchanged).

One in-process app per backend serves the whole table: each row proves on its own that it
changed nothing, so the rows can share it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from litestar.testing import TestClient

from missiond.api import reactors
from missiond.bootstrap import build
from missiond.settings import Settings

from .routine_harness import QuietScheduler, fresh_database, make_app, problem

IS = "INVALID_SCHEDULE"
UC = "UNKNOWN_CONNECTOR"
VF = "VALIDATION_FAILED"
NF = "ROUTINE_NOT_FOUND"
TRUE = {"kind": "command", "argv": ["true"]}
EXISTING = "<existing>"


@dataclass
class Shared:
    client: TestClient[Any]
    existing_id: str

    def snapshot(self) -> tuple[int, list[dict[str, Any]]]:
        head = self.client.get("/v1/health").json()["head_seq"]
        return head, self.client.get("/v1/routines", params={"limit": 1000}).json()["items"]


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def shared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shared]:
    home = tmp_path_factory.mktemp("bad-input")
    with pytest.MonkeyPatch.context() as patch, fresh_database(request.param, home) as url:
        patch.setattr(reactors, "SchedulerDriver", QuietScheduler)
        system = build(Settings.from_env(home=home / "home", database_url=url))
        with TestClient(make_app(system), raise_server_exceptions=False) as client:
            client.headers["Authorization"] = f"Bearer {system.admin_token}"
            created = client.post(
                "/v1/routines", json={"name": "kept", "schedule": {"interval_s": 3600}, "action": TRUE}
            )
            assert created.status_code == 201, created.text
            yield Shared(client, created.json()["id"])
        system.close()


def body(**changes: Any) -> dict[str, Any]:
    return {"name": "audit", "schedule": {"cron": "0 2 * * *"}, "action": TRUE, **changes}


def schedule(**raw: Any) -> dict[str, Any]:
    return body(schedule=raw)


def connector(name: str, **params: Any) -> dict[str, Any]:
    return body(action={"kind": "connector", "connector": name, "params": params})


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = field(default=None)


def create(payload: dict[str, Any]) -> Call:
    return Call("POST", "/v1/routines", payload)


def edit(payload: dict[str, Any]) -> Call:
    return Call("PATCH", f"/v1/routines/{EXISTING}", payload)


ROWS = [
    # call, status, code, field
    ("cron-not-an-expression", create(schedule(cron="every night")), 400, IS, "body.schedule.cron"),
    ("cron-minute-61", create(schedule(cron="61 2 * * *")), 400, IS, "body.schedule.cron"),
    ("cron-six-fields", create(schedule(cron="0 0 2 * * *")), 400, IS, "body.schedule.cron"),
    ("cron-four-fields", create(schedule(cron="0 2 * *")), 400, IS, "body.schedule.cron"),
    ("cron-with-cron-tz-prefix", create(schedule(cron="CRON_TZ=Europe/Berlin 0 2 * * *")), 400, IS,
     "body.schedule.cron"),
    ("cron-with-tz-prefix", create(schedule(cron="TZ=UTC 0 2 * * *")), 400, IS, "body.schedule.cron"),
    ("unknown-zone", create(schedule(cron="0 2 * * *", timezone="Mars/Olympus_Mons")), 400, IS,
     "body.schedule.timezone"),
    ("zone-that-is-a-path", create(schedule(cron="0 2 * * *", timezone="../../etc/passwd")), 400, IS,
     "body.schedule.timezone"),
    pytest.param(create(schedule(interval_s=0)), 400, IS, "body.schedule.interval_s",
                 id="interval-zero"),
    pytest.param(create(schedule(interval_s=0.5)), 400, IS, "body.schedule.interval_s",
                 id="interval-under-a-second"),
    ("cron-and-interval", create(schedule(cron="0 2 * * *", interval_s=60)), 400, VF, "body.schedule"),
    ("neither-cron-nor-interval", create(schedule()), 400, VF, "body.schedule"),
    ("edit-to-a-bad-cron", edit({"schedule": {"cron": "0 25 * * *"}}), 400, IS, "body.schedule.cron"),
    ("edit-to-an-unknown-zone", edit({"schedule": {"cron": "0 2 * * *", "timezone": "Nowhere/Town"}}),
     400, IS, "body.schedule.timezone"),
    ("unknown-connector", create(connector("ftp.put", url="ftp://example.org/x")), 400, UC,
     "body.action.connector"),
    ("edit-to-an-unknown-connector", edit({"action": {"kind": "connector", "connector": "mail.send"}}), 400,
     UC, "body.action.connector"),
    ("http-post-without-url", create(connector("http.post", json={"a": 1})), 400, VF,
     "body.action.params.url"),
    ("http-post-with-ftp-url", create(connector("http.post", url="ftp://example.org/drop")), 400, VF,
     "body.action.params.url"),
    ("http-post-url-without-host", create(connector("http.post", url="https://")), 400, VF,
     "body.action.params.url"),
    ("http-post-header-not-a-string", create(connector("http.post", url="https://example.org",
                                                       headers={"X-N": 1})), 400, VF,
     "body.action.params.headers"),
    ("shell-run-without-argv", create(connector("shell.run", cwd="/tmp")), 400, VF,
     "body.action.params.argv"),
    ("action-kind-unknown", create(body(action={"kind": "ftp", "url": "ftp://example.org"})), 400, VF,
     "body.action.kind"),
    ("mission-action-without-a-spec", create(body(action={"kind": "mission", "mission": "m1"})), 400, VF,
     "body.action.spec"),
    ("mission-action-with-a-bad-spec", create(body(action={"kind": "mission", "spec": {"title": "t"}})), 400,
     VF, "body.action.spec.goal"),
    ("action-kind-missing", create(body(action={"argv": ["true"]})), 400, VF, "body.action.kind"),
    ("command-with-argv-and-shell", create(body(action={"kind": "command", "argv": ["true"],
                                                        "shell": "true"})), 400, VF, "body.action"),
    ("command-with-empty-argv", create(body(action={"kind": "command", "argv": []})), 400, VF,
     "body.action.argv"),
    ("task-without-title", create(body(action={"kind": "task", "task": {"type": "chore"}})), 400, VF,
     "body.action.task.title"),
    ("misfire-policy-unknown", create(body(misfire={"policy": "x"})), 400, VF, "body.misfire.policy"),
    ("misfire-max-runs-zero", create(body(misfire={"policy": "catch_up", "max_runs": 0})), 400, VF,
     "body.misfire.max_runs"),
    ("misfire-max-runs-101", create(body(misfire={"policy": "catch_up", "max_runs": 101})), 400, VF,
     "body.misfire.max_runs"),
    ("misfire-grace-negative", create(body(misfire={"grace_s": -1})), 400, VF, "body.misfire.grace_s"),
    ("overlap-unknown", create(body(overlap="sometimes")), 400, VF, "body.overlap"),
    ("get-unknown", Call("GET", "/v1/routines/rtn_nope"), 404, NF, None),
    ("edit-unknown", Call("PATCH", "/v1/routines/rtn_nope", {"name": "x"}), 404, NF, None),
    ("delete-unknown", Call("DELETE", "/v1/routines/rtn_nope"), 404, NF, None),
    ("activate-unknown", Call("POST", "/v1/routines/rtn_nope/activate", {}), 404, NF, None),
    ("pause-unknown", Call("POST", "/v1/routines/rtn_nope/pause", {}), 404, NF, None),
    ("resume-unknown", Call("POST", "/v1/routines/rtn_nope/resume", {}), 404, NF, None),
    ("run-now-unknown", Call("POST", "/v1/routines/rtn_nope/run-now", {}), 404, NF, None),
    ("history-unknown", Call("GET", "/v1/routines/rtn_nope/history"), 404, NF, None),
]  # fmt: skip


def as_params(rows: list[Any]) -> list[Any]:
    """Plain rows are (id, *values); rows that need marks are already pytest.param."""
    return [pytest.param(*r[1:], id=r[0]) if isinstance(r[0], str) else r for r in rows]


@pytest.mark.parametrize(("call", "status", "code", "field_name"), as_params(ROWS))
def test_a_refused_routine_request_names_the_problem_and_stores_nothing(
    shared: Shared, call: Call, status: int, code: str, field_name: str | None
) -> None:
    before = shared.snapshot()
    answer = shared.client.request(
        call.method, call.path.replace(EXISTING, shared.existing_id), json=call.json
    )
    refused = problem(answer, status, code)
    if field_name is None:
        assert refused["routine_id"] == "rtn_nope"
    else:
        assert field_name in [e["field"] for e in refused["errors"]], refused
        assert field_name in refused["detail"]
    assert shared.snapshot() == before, "a refused request changes nothing"
