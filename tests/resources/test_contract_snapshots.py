"""The JSON shape of every answer and event of the resources API, pinned by committed snapshots.

A shape keeps keys, value types and the values the contract fixes (codes, titles, event
types, keys, booleans); timestamps, ids, revisions and prose are reduced to placeholders.
Both backends must produce the same snapshot. `UPDATE_SNAPSHOTS=1` rewrites the files;
otherwise a missing or different snapshot fails.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar.testing import TestClient

from missiond.api.app import create_app
from missiond.bootstrap import System

from .harness import Api, ManualClock

SNAPSHOTS = Path(__file__).parent / "snapshots"
LITERAL_STRINGS = {"code", "title", "type", "updated_by", "actor", "key", "subject", "field", "instance"}
LITERAL_NUMBERS = {"status", "v"}
PLACEHOLDERS = [
    (re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$"), "<timestamp>"),
    (re.compile(r"^evt_[0-9A-HJKMNP-TV-Z]{26}$"), "<event id>"),
    (re.compile(r"^cor_[0-9A-HJKMNP-TV-Z]{26}$"), "<correlation id>"),
    (re.compile(r'^"\d+"$'), '"<revision>"'),
]


def shape(value: Any, name: str | None = None) -> Any:
    if isinstance(value, dict):
        return {k: shape(v, k) for k, v in sorted(value.items())}
    if isinstance(value, list):
        return [shape(item) for item in value]
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if name in LITERAL_NUMBERS else f"<{type(value).__name__}>"
    for pattern, placeholder in PLACEHOLDERS:
        if pattern.match(value):
            return placeholder
    return value if name in LITERAL_STRINGS else "<str>"


def answer_shape(answer: httpx.Response) -> dict[str, Any]:
    headers = {"content-type": answer.headers["content-type"]}
    if "etag" in answer.headers:
        headers["etag"] = shape(answer.headers["etag"])
    return {"status": answer.status_code, "headers": headers, "body": shape(answer.json())}


def assert_matches_snapshot(name: str, document: Any, directory: Path = SNAPSHOTS) -> None:
    path = directory / f"{name}.json"
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(text)
        return
    if not path.exists():
        pytest.fail(f"no snapshot {path}; run with UPDATE_SNAPSHOTS=1 to write it, then review and commit it")
    assert text == path.read_text(), f"{path.name} differs; if the change is intended, UPDATE_SNAPSHOTS=1"


@pytest.fixture
def api(clocked_system: System) -> Iterator[Api]:
    with TestClient(create_app(clocked_system)) as client:
        yield Api(client, clocked_system)


# -- answers ------------------------------------------------------------------------------------
def seeded(api: Api) -> None:
    assert api.put("project/a", {"value": {"n": 1, "tags": ["x"]}}).status_code == 201
    assert api.put("project/b", {"value": "text", "ttl_s": 60}).status_code == 201


Scenario = Callable[[Api], httpx.Response]
ANSWERS: list[tuple[str, Scenario]] = [
    ("record-created", lambda api: api.put("project/new", {"value": {"n": 1}, "ttl_s": 30})),
    ("record-replaced", lambda api: api.put("project/a", {"value": [1, None, True]})),
    ("record-read", lambda api: api.client.get("/v1/resources/project/a")),
    ("record-patched", lambda api: api.patch("project/b", {"more": 1.5})),
    ("list", lambda api: api.client.get("/v1/resources", params={"prefix": "project/", "limit": 1})),
    (
        "txn",
        lambda api: api.client.post(
            "/v1/resources:txn",
            json={
                "compares": [{"key": "project/a", "mod_rev": 1}],
                "ops": [
                    {"op": "put", "key": "project/c", "value": 1},
                    {"op": "patch", "key": "project/a", "patch": {"n": 2}},
                    {"op": "delete", "key": "project/b"},
                ],
            },
        ),
    ),
    ("delete", lambda api: api.client.delete("/v1/resources/project/a")),
    ("problem-resource-not-found", lambda api: api.client.get("/v1/resources/project/absent")),
    (
        "problem-precondition-failed",
        lambda api: api.put("project/a", {"value": 2}, headers={"If-Match": '"99"'}),
    ),
    ("problem-revision-conflict", lambda api: api.put("project/a", {"value": 2, "expected_rev": 0})),
    (
        "problem-txn-compare-failed",
        lambda api: api.client.post(
            "/v1/resources:txn",
            json={
                "compares": [{"key": "project/a", "mod_rev": 1}, {"key": "project/b", "mod_rev": 0}],
                "ops": [{"op": "delete", "key": "project/a"}],
            },
        ),
    ),
    ("problem-invalid-resource-key", lambda api: api.client.get("/v1/resources/project/a/")),
    ("problem-value-too-large", lambda api: api.put("project/a", {"value": "x" * (256 * 1024)})),
]


@pytest.mark.parametrize(("name", "scenario"), ANSWERS, ids=[name for name, _ in ANSWERS])
def test_the_answer_keeps_its_snapshot_shape(api: Api, name: str, scenario: Scenario) -> None:
    seeded(api)
    assert_matches_snapshot(name, answer_shape(scenario(api)))


# -- events -------------------------------------------------------------------------------------
def test_the_resource_events_keep_their_snapshot_shapes(api: Api, clock: ManualClock) -> None:
    seeded(api)
    assert api.client.delete("/v1/resources/project/a").status_code == 200
    clock.advance(seconds=61)
    assert api.client.get("/v1/resources/project/b").status_code == 404

    events = api.client.get("/v1/events", params={"type": "resource."}).json()["events"]
    firsts = {event["type"]: event for event in reversed(events)}

    assert sorted(firsts) == ["resource.deleted", "resource.expired", "resource.updated"]
    for event_type, event in sorted(firsts.items()):
        assert_matches_snapshot(f"event-{event_type.replace('.', '-')}", shape(event))


# -- the snapshot helper itself -----------------------------------------------------------------------
def test_a_missing_snapshot_fails_unless_snapshots_are_being_updated(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("UPDATE_SNAPSHOTS", raising=False)
    with pytest.raises(pytest.fail.Exception, match="no snapshot"):
        assert_matches_snapshot("missing", {"a": 1}, tmp_path)

    monkeypatch.setenv("UPDATE_SNAPSHOTS", "1")
    assert_matches_snapshot("missing", {"a": 1}, tmp_path)
    monkeypatch.delenv("UPDATE_SNAPSHOTS")
    assert_matches_snapshot("missing", {"a": 1}, tmp_path)
    with pytest.raises(AssertionError, match="differs"):
        assert_matches_snapshot("missing", {"a": 2}, tmp_path)
