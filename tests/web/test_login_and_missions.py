"""Signing in by link, and watching a mission move as its events arrive."""

from __future__ import annotations

from playwright.sync_api import Browser, expect

from .webkit import Dashboard, login_link, wait_for


def test_a_login_link_signs_the_browser_in_once_with_an_httponly_cookie(
    dashboard: Dashboard, browser: Browser
) -> None:
    page, server = dashboard.page, dashboard.server
    expect(page.locator("#who")).to_have_text("user:admin")
    cookies = page.context.cookies()
    session = [c for c in cookies if c["name"].startswith("missiond_session")]
    assert len(session) == 1
    assert session[0]["httpOnly"] is True
    assert session[0]["sameSite"] == "Strict"
    # The page's script can see neither the session secret nor the admin token.
    assert page.evaluate("document.cookie") == ""
    assert server.token not in page.content()
    assert "code=" not in page.url

    # The same link does not work twice, and a fresh browser without a cookie is asked to sign in.
    link = login_link(server)
    other = browser.new_context()
    try:
        fresh = other.new_page()
        fresh.goto(f"{server.url}/ui/")
        expect(fresh.locator(".signin")).to_contain_text("missiond ui")
        first = fresh.goto(link)
        assert first is not None and first.url == f"{server.url}/ui/"
        again = fresh.context.new_page().goto(link)
        assert again is not None and again.status == 401
        assert "cannot be used" in again.text()
    finally:
        other.close()
    # Nothing secret reaches the server's log: not the codes, not the session, not the token.
    log = (server.home / "server.out").read_text()
    code = link.split("code=", 1)[1]
    assert code not in log and session[0]["value"] not in log and server.token not in log


def test_a_cookie_mutation_without_the_csrf_header_is_refused(dashboard: Dashboard) -> None:
    page = dashboard.page
    answer = page.evaluate(
        """async () => {
            const r = await fetch('/v1/missions/msn_x/pause',
                {method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'});
            return {status: r.status, body: await r.json()};
        }"""
    )
    assert answer["status"] == 403
    assert answer["body"]["code"] == "CSRF_FAILED"


def _pull_spec(workspace: str) -> dict[str, object]:
    return {
        "title": "Ship the greeting",
        "goal": "A greeting that passes its test",
        "workspace": workspace,
        "roles": {"executor": {"adapter": "pull"}},
        "gates": {"review": {"required": False}, "test": {"command": "exit 0"}},
        "work_items": [
            {"id": "greet", "title": "Write greet()"},
            {"id": "docs", "title": "Document greet()", "depends_on": ["greet"]},
        ],
    }


def test_a_mission_page_follows_the_mission_live(dashboard: Dashboard, tmp_path: object) -> None:
    page, api = dashboard.page, dashboard.api
    created = api.post("/v1/missions", params={"start": "true"}, json=_pull_spec(str(tmp_path)))
    assert created.status_code == 201, created.text
    mission_id = created.json()["id"]

    dashboard.open("missions")
    row = page.locator(f"tr[data-id='{mission_id}']")
    expect(row).to_contain_text("Ship the greeting")
    expect(row).to_contain_text("running")
    row.get_by_role("link").click()
    board = page.locator(".board")
    expect(board.locator("[data-column='in_progress'] [data-item='greet']")).to_be_visible()
    expect(board.locator("[data-column='ready'] [data-item='docs']")).to_be_visible()
    page.evaluate("window.__sameDocument = true")

    agent = dashboard.agent("coder", "executor")
    claim = agent.post("/v1/tasks/claim", json={"role": "executor", "ttl_s": 60})
    assert claim.status_code == 200, claim.text
    submitted = agent.post(f"/v1/missions/{mission_id}/work/greet/submit", json={"summary": "added greet()"})
    assert submitted.status_code == 200, submitted.text

    # The test gate runs; greet is done and docs is dispatched, without a reload.
    expect(board.locator("[data-column='done'] [data-item='greet']")).to_be_visible()
    expect(board.locator("[data-column='in_progress'] [data-item='docs']")).to_be_visible()
    expect(board.locator("[data-item='greet']")).to_contain_text("test passed")
    expect(page.locator(".log")).to_contain_text("work.submitted")
    assert page.evaluate("window.__sameDocument") is True
    dashboard.shot("mission-live")

    claim = agent.post("/v1/tasks/claim", json={"role": "executor", "ttl_s": 60})
    assert claim.status_code == 200, claim.text
    agent.post(f"/v1/missions/{mission_id}/work/docs/submit", json={"summary": "documented"})
    expect(page.locator(".mission-head")).to_contain_text("succeeded")
    wait_for(lambda: api.get(f"/v1/missions/{mission_id}").json()["status"] == "succeeded")
    dashboard.open("missions")
    expect(page.locator(f"tr[data-id='{mission_id}']")).to_contain_text("2/2")
    dashboard.shot("missions")
