"""Every view on a lived-in server: what it shows, that it is live, and how it looks (screenshots)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import ConsoleMessage, expect

from .webkit import Dashboard, wait_for

VIEWS = ("missions", "approvals", "routines", "tasks", "resources", "events")


def _mission(api: Any, spec: dict[str, Any], start: bool = True) -> str:
    answer = api.post("/v1/missions", params={"start": str(start).lower()}, json=spec)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["id"])


def seed(dashboard: Dashboard, workspace: Path) -> dict[str, str]:
    api = dashboard.api
    ids: dict[str, str] = {}
    scripted = {
        "title": "Harden the HTTP client",
        "goal": "Retries with backoff on 5xx and timeouts",
        "workspace": str(workspace),
        "roles": {
            "executor": {"adapter": "scripted", "script": {"fail_test": 1}},
            "reviewer": {"adapter": "scripted"},
        },
        "gates": {
            "test": {
                "command": "grep -q pass .missiond-scripted/$MISSIOND_ITEM_ID.status || "
                "{ echo 'FAILED test_retry_on_503 - AssertionError: 1 != 3'; exit 1; }"
            }
        },
        "work_items": [
            {"id": "retries", "title": "Add retries"},
            {"id": "backoff", "title": "Exponential backoff", "depends_on": ["retries"]},
            {"id": "docs", "title": "Document retries", "depends_on": ["backoff"]},
        ],
    }
    ids["scripted"] = _mission(api, scripted)
    pulled = {
        "title": "Ship the release",
        "goal": "Changelog, version bump and tag, reviewed by a person",
        "workspace": str(workspace),
        "roles": {"executor": {"adapter": "pull"}},
        "gates": {"review": {"required": True, "by": "human"}, "test": {"command": "exit 0"}},
        "work_items": [
            {"id": "changelog", "title": "Write the changelog"},
            {"id": "bump", "title": "Bump the version"},
            {"id": "tag", "title": "Tag the release", "depends_on": ["changelog", "bump"]},
        ],
    }
    ids["pulled"] = _mission(api, pulled)
    for n in range(3):
        _mission(api, {**pulled, "title": f"Draft idea {n + 1}"}, start=False)
    agent = dashboard.agent("coder", "executor")
    claim = agent.post("/v1/tasks/claim", json={"role": "executor", "ttl_s": 600})
    item = "changelog" if "changelog" in claim.json()["task"]["intent"] else "bump"
    agent.post(
        f"/v1/missions/{ids['pulled']}/work/{item}/submit", json={"summary": "changelog for 1.4 written"}
    )
    agent.post("/v1/tasks/claim", json={"role": "executor", "ttl_s": 600})

    blocker = api.post(
        "/v1/tasks", json={"title": "Upgrade the CI image", "role": "ops", "priority": 1}
    ).json()
    blocked = api.post("/v1/tasks", json={"title": "Enable the ARM runners", "role": "ops"}).json()
    api.post(f"/v1/tasks/{blocked['id']}/links", json={"kind": "blocked_by", "other_id": blocker["id"]})
    api.post("/v1/tasks", json={"title": "Triage flaky test_login", "role": "executor", "priority": 0})
    ids["blocker"], ids["blocked"] = blocker["id"], blocked["id"]

    api.post(
        "/v1/routines",
        json={
            "name": "nightly dependency audit",
            "schedule": {"cron": "0 2 * * *", "timezone": "Europe/Berlin"},
            "action": {"kind": "command", "shell": "echo 0 vulnerabilities"},
        },
    )
    api.post(
        "/v1/routines",
        json={
            "name": "weekly triage",
            "schedule": {"cron": "0 9 * * 1", "timezone": "America/New_York"},
            "action": {"kind": "task", "task": {"title": "Triage new issues", "role": "executor"}},
        },
    )
    api.post(
        "/v1/routines",
        json={
            "name": "post the digest",
            "schedule": {"interval_s": 3600},
            "action": {
                "kind": "connector",
                "connector": "http.post",
                "params": {"url": "https://chat.example/hook"},
            },
            "requires_approval": True,
            "external_allowed": True,
        },
    )
    for key, value in {
        "project/conventions": {"tests": "pytest -q", "lint": "ruff"},
        "project/ci/status": {"main": "green", "duration_s": 312},
        "project/ci/flaky": ["test_login", "test_upload"],
        "project/owners": {"api": "ana", "web": "li"},
    }.items():
        api.put(f"/v1/resources/{key}", json={"value": value})
    wait_for(
        lambda: api.get(f"/v1/missions/{ids['scripted']}").json()["status"] == "succeeded",
        what="scripted mission",
    )
    return ids


def test_every_view_is_live_and_renders_without_errors(dashboard: Dashboard, tmp_path: Path) -> None:
    page, api = dashboard.page, dashboard.api
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if _bad(m) else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    ids = seed(dashboard, tmp_path)

    for view in VIEWS:
        dashboard.open(view)
        expect(page.locator("#nav a.active")).to_have_attribute("data-view", view)
    assert problems == []

    dashboard.open("missions")
    expect(page.locator("#missions-total")).to_have_text("5 in all")
    expect(page.locator(f"tr[data-id='{ids['scripted']}']")).to_contain_text("3/3")
    page.get_by_role("link", name="draft 3").click()
    expect(page.locator("tbody tr")).to_have_count(3)
    page.locator("tbody tr").first.get_by_role("link").click()
    page.get_by_label("cancel reason").fill("not this quarter")
    page.get_by_role("button", name="Cancel").click()
    expect(page.locator(".mission-head .badge").first).to_have_text("cancelled")
    expect(page.locator(".mission-head")).to_contain_text("not this quarter")
    dashboard.open("missions")
    dashboard.shot("missions")

    dashboard.open(f"missions/{ids['scripted']}")
    retries = page.locator("[data-column='done'] [data-item='retries']")
    expect(retries).to_contain_text("test failed (exit 1)")
    expect(retries).to_contain_text("test passed (exit 0)")
    expect(retries.locator("details.feedback")).to_contain_text("feedback (1)")
    dashboard.shot("mission-board-done")

    dashboard.open(f"missions/{ids['pulled']}")
    expect(page.locator("[data-column='review'] .review-box")).to_contain_text("Waiting for your review")
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".mission-head .badge").first).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".mission-head .badge").first).to_have_text("running")
    dashboard.shot("mission")

    dashboard.open("tasks")
    working = page.locator("[data-list='in_progress']")
    expect(working).to_contain_text("held by agent:agt_")
    expect(working.locator("time.expires").first).to_contain_text("in ")
    expect(page.locator("[data-list='blocked']")).to_contain_text("blocked by Upgrade the CI image (open)")
    expect(page.locator("[data-list='ready']")).to_contain_text("Triage flaky test_login")
    dashboard.shot("tasks")
    api.post(f"/v1/tasks/{ids['blocker']}/complete", json={"outcome": "image upgraded"})
    expect(page.locator("[data-list='ready']")).to_contain_text("Enable the ARM runners")  # live

    dashboard.open("resources?prefix=project/")
    expect(page.locator("tr[data-key='project/conventions']")).to_contain_text("pytest -q")
    expect(page.locator(".folders")).to_contain_text("ci/")
    api.patch("/v1/resources/project/conventions", json={"format": "ruff format"})
    row = page.locator("tr[data-key='project/conventions']")
    expect(row).to_contain_text("ruff format")  # live
    current = api.get("/v1/resources/project/conventions").json()
    expect(row).to_contain_text(str(current["mod_rev"]))
    row.click()
    expect(page.locator(".detail")).to_contain_text("version 2")
    dashboard.shot("resources")

    dashboard.open("routines")
    expect(page.locator(".routines")).to_contain_text("every day at 02:00 (Europe/Berlin)")
    expect(page.locator(".routines")).to_contain_text("every Monday at 09:00 (America/New_York)")
    expect(page.locator(".badge-external")).to_have_count(1)
    dashboard.shot("routines")
    dashboard.open("events?type=mission. work. review. test.")
    expect(page.locator("#feed-stats")).to_contain_text("(filtered)")
    page.locator(".vrow", has_text="test.failed").first.click()
    expect(page.locator(".detail pre")).to_contain_text('"exit_code": 1')
    dashboard.shot("events")
    # A tab holds one stream (its view's): views close theirs when left.
    wait_for(lambda: api.get("/v1/admin/stats").json()["subscribers"] == 1, what="one subscriber")
    assert problems == []


def _bad(message: ConsoleMessage) -> bool:
    return message.type == "error" and "status of 4" not in message.text
