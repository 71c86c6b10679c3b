"""PATCH /v1/routines/{id} changes only what it names, on SQLite and PostgreSQL: a partial
misfire merges, a new cron keeps the zone, a new schedule re-anchors and moves
next_fire_at, and expected_rev guards against concurrent edits.

In-process app on the test's clock; its scheduler is the quiet stand-in (nothing fires).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from missiond.api import reactors
from missiond.bootstrap import build
from missiond.settings import Settings

from .routine_harness import ManualClock, QuietScheduler, make_app, offset, problem

TRUE = {"kind": "command", "argv": ["true"]}


class Api:
    def __init__(self, client: TestClient[Any], clock: ManualClock) -> None:
        self.client = client
        self.clock = clock

    def create(self, **fields: Any) -> dict[str, Any]:
        body = {"name": "audit", "schedule": {"interval_s": 60}, "action": TRUE, **fields}
        answer = self.client.post("/v1/routines", json=body)
        assert answer.status_code == 201, answer.text
        return dict(answer.json())

    def edit(self, routine_id: str, changes: dict[str, Any]) -> dict[str, Any]:
        answer = self.client.patch(f"/v1/routines/{routine_id}", json=changes)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


@pytest.fixture
def api(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Api]:
    monkeypatch.setattr(reactors, "SchedulerDriver", QuietScheduler)
    clock = ManualClock()
    system = build(Settings.from_env(home=tmp_path / "home", database_url=database_url), clock=clock)
    with TestClient(make_app(system), raise_server_exceptions=False) as client:
        client.headers["Authorization"] = f"Bearer {system.admin_token}"
        yield Api(client, clock)
    system.close()


def test_a_partial_misfire_edit_merges_into_the_current_one(api: Api) -> None:
    routine = api.create(misfire={"policy": "catch_up", "max_runs": 5, "grace_s": 30})
    edited = api.edit(routine["id"], {"misfire": {"grace_s": 10}})
    assert edited["misfire"] == {"policy": "catch_up", "max_runs": 5, "grace_s": 10}
    assert edited["rev"] == routine["rev"] + 1


def test_a_new_cron_without_a_timezone_keeps_the_routines_zone_and_moves_next_fire_at(api: Api) -> None:
    routine = api.create(schedule={"cron": "0 2 * * *", "timezone": "Europe/Berlin"})
    assert offset(routine["next_fire_at"]) == 16 * 3600  # 02:00 CET is 01:00 UTC, START is 09:00 UTC
    edited = api.edit(routine["id"], {"schedule": {"cron": "0 3 * * *"}})
    assert edited["schedule"] == {"cron": "0 3 * * *", "timezone": "Europe/Berlin"}
    assert edited["schedule_text"] == "cron '0 3 * * *' in Europe/Berlin"
    assert offset(edited["next_fire_at"]) == 17 * 3600


def test_a_new_interval_is_anchored_at_the_edit(api: Api) -> None:
    routine = api.create(schedule={"interval_s": 60})
    api.clock.set(90)
    edited = api.edit(routine["id"], {"schedule": {"interval_s": 100}})
    assert offset(edited["next_fire_at"]) == 190


def test_an_edit_that_names_no_schedule_leaves_the_schedule_and_its_timing_alone(api: Api) -> None:
    routine = api.create(schedule={"interval_s": 60}, overlap="allow")
    api.clock.set(30)
    edited = api.edit(routine["id"], {"name": "renamed", "overlap": "queue_one"})
    assert (edited["name"], edited["overlap"]) == ("renamed", "queue_one")
    assert {k: edited[k] for k in ("schedule", "misfire", "action", "next_fire_at")} == {
        k: routine[k] for k in ("schedule", "misfire", "action", "next_fire_at")
    }


def test_an_edit_at_a_stale_revision_is_409_and_changes_nothing(api: Api) -> None:
    routine = api.create()
    api.edit(routine["id"], {"name": "first edit"})
    stale = api.client.patch(
        f"/v1/routines/{routine['id']}", json={"name": "second edit", "expected_rev": routine["rev"]}
    )
    refused = problem(stale, 409, "REVISION_CONFLICT")
    assert (refused["expected_rev"], refused["current_rev"]) == (routine["rev"], routine["rev"] + 1)
    assert api.client.get(f"/v1/routines/{routine['id']}").json()["name"] == "first edit"
