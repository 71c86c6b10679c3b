"""Steering from the page: approve a review and watch the mission go on; routines end to end;
failed actions show the problem's detail, never a trace."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect

from .webkit import Dashboard, wait_for


def _human_review_spec(workspace: Path) -> dict[str, object]:
    return {
        "title": "Reviewed by a person",
        "goal": "Nothing is done until a person said so",
        "workspace": str(workspace),
        "roles": {"executor": {"adapter": "pull"}},
        "gates": {"review": {"required": True, "by": "human"}, "test": {"command": "exit 0"}},
        "work_items": [{"id": "patch", "title": "Patch the parser"}],
    }


def test_approving_on_the_page_lets_the_mission_continue(dashboard: Dashboard, tmp_path: Path) -> None:
    page, api = dashboard.page, dashboard.api
    mission_id = api.post("/v1/missions", params={"start": "true"}, json=_human_review_spec(tmp_path)).json()[
        "id"
    ]
    agent = dashboard.agent("coder", "executor")
    assert agent.post("/v1/tasks/claim", json={"role": "executor", "ttl_s": 60}).status_code == 200
    submit = agent.post(f"/v1/missions/{mission_id}/work/patch/submit", json={"summary": "parser patched"})
    assert submit.status_code == 200, submit.text

    dashboard.open("approvals")
    card = page.locator(".approval[data-kind='mission.review']")
    expect(card).to_contain_text(f"mission/{mission_id}/work/patch")
    expect(card).to_contain_text("Executor says: parser patched")  # context from the mission
    expect(page.locator("#approvals-count")).to_have_text("1")
    dashboard.shot("approvals")

    # Denying needs a reason: the page shows the server's problem detail, not a trace.
    card.get_by_role("button", name="Deny").click()
    toast = page.locator(".toast-error")
    expect(toast).to_contain_text("a denial needs a reason")
    assert "Traceback" not in page.content()

    card.get_by_role("textbox").fill("looks right")
    card.get_by_role("button", name="Approve").click()
    expect(page.locator(".approvals")).to_contain_text("Nothing waits for a decision.")
    expect(page.locator("#approvals-count")).to_be_hidden()

    dashboard.open(f"missions/{mission_id}")
    expect(page.locator("[data-column='done'] [data-item='patch']")).to_contain_text("review approved")
    expect(page.locator(".mission-head")).to_contain_text("succeeded")
    approval = api.get("/v1/approvals", params={"status": "approved"}).json()["items"][0]
    assert approval["decider"] == "user:admin" and approval["reason"] == "looks right"


def test_a_routine_is_created_run_and_its_history_shown_from_the_page(dashboard: Dashboard) -> None:
    page = dashboard.page
    dashboard.open("routines")
    page.locator("#new-routine").click()
    form = page.locator("form.routine-form")
    form.locator("input[name='name']").fill("nightly audit")
    form.locator("input[name='cron']").fill("61 2 * * *")
    form.locator("input[name='timezone']").fill("Europe/Berlin")
    form.locator("textarea[name='action']").fill("echo audited; echo done >&2")
    form.get_by_role("button", name="Create").click()
    # A bad schedule: the problem's detail names the field.
    expect(page.locator(".toast-error")).to_contain_text("cron")
    assert dashboard.api.get("/v1/routines").json()["items"] == []

    form.locator("input[name='cron']").fill("30 2 * * 1-5")
    expect(form.locator(".words")).to_have_text("every weekday at 02:30 (Europe/Berlin)")
    form.get_by_role("button", name="Create").click()
    expect(page.locator(".mission-head h1")).to_have_text("nightly audit")
    expect(page.locator(".mission-head")).to_contain_text("every weekday at 02:30 (Europe/Berlin)")
    expect(page.locator(".mission-head")).to_contain_text("next fire")
    routine_id = page.url.rsplit("/", 1)[-1]

    page.get_by_role("button", name="Run now").click()
    run = page.locator(".history tbody tr").first
    expect(run).to_contain_text("manual")
    expect(run).to_contain_text("succeeded")
    expect(run).to_contain_text("audited")
    dashboard.shot("routine-history")

    # Pause from the page; the list shows it, with the schedule in words and the last result.
    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".mission-head .badge").first).to_have_text("paused")
    dashboard.open("routines")
    row = page.locator(f"tr[data-id='{routine_id}']")
    expect(row).to_contain_text("paused")
    expect(row.locator(".last")).to_contain_text("succeeded")
    wait_for(lambda: dashboard.api.get(f"/v1/routines/{routine_id}").json()["status"] == "paused")


def test_an_external_routine_wears_the_badge_and_a_blocked_run_says_why(dashboard: Dashboard) -> None:
    page, api = dashboard.page, dashboard.api
    created = api.post(
        "/v1/routines",
        json={
            "name": "post the digest",
            "schedule": {"interval_s": 3600},
            "action": {
                "kind": "connector",
                "connector": "http.post",
                "params": {"url": "https://example.com/h"},
            },
        },
    )
    assert created.status_code == 201, created.text
    dashboard.open("routines")
    row = page.locator(f"tr[data-id='{created.json()['id']}']")
    expect(row.locator(".badge-external")).to_have_text("⚠ EXTERNAL")
    expect(row.locator(".schedule")).to_have_text("every 1 h")
    row.get_by_role("button", name="Run now").click()
    expect(page.locator(".toast-error")).to_contain_text("POLICY_BLOCKED")
    dashboard.shot("routines")


def test_a_routine_is_edited_resumed_activated_and_deleted_from_the_page(dashboard: Dashboard) -> None:
    page, api = dashboard.page, dashboard.api
    routine = api.post(
        "/v1/routines",
        json={
            "name": "hourly digest",
            "schedule": {"interval_s": 3600},
            "action": {"kind": "task", "task": {"title": "digest"}},
        },
    ).json()
    dashboard.open(f"routines/{routine['id']}")
    page.get_by_role("button", name="Edit").click()
    form = page.locator("form.routine-form")
    expect(form.locator("textarea[name='action']")).to_have_value("digest")
    form.locator("select[name='schedule-kind']").select_option("cron")
    form.locator("input[name='cron']").fill("*/15 * * * *")
    expect(form.locator(".words")).to_have_text("every 15 minutes")
    form.get_by_role("button", name="Save").click()
    expect(page.locator(".mission-head")).to_contain_text("every 15 minutes")
    expect(page.locator(".mission-head")).to_contain_text("rev 2")
    assert api.get(f"/v1/routines/{routine['id']}").json()["schedule"]["cron"] == "*/15 * * * *"

    page.get_by_role("button", name="Pause").click()
    expect(page.locator(".mission-head .badge").first).to_have_text("paused")
    page.get_by_role("button", name="Resume").click()
    expect(page.locator(".mission-head .badge").first).to_have_text("active")

    # An agent's routine is a draft until a person activates it.
    agent = dashboard.agent("planner", "planner", capabilities=["routines:read", "routines:write"])
    draft = agent.post(
        "/v1/routines",
        json={
            "name": "agent's idea",
            "schedule": {"interval_s": 600},
            "action": {"kind": "task", "task": {"title": "x"}},
        },
    )
    assert draft.status_code == 201, draft.text
    dashboard.open("routines")
    row = page.locator(f"tr[data-id='{draft.json()['id']}']")
    expect(row).to_contain_text("draft")
    row.get_by_role("button", name="Activate").click()
    expect(row).to_contain_text("active")

    dashboard.open(f"routines/{routine['id']}")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Delete").click()
    expect(page).to_have_url(f"{dashboard.server.url}/ui/#/routines")
    expect(page.locator(f"tr[data-id='{routine['id']}']")).to_have_count(0)
    assert api.get(f"/v1/routines/{routine['id']}").status_code == 404
