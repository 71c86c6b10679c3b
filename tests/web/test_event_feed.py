"""The event feed follows the spine live and resumes across a server restart: no gap, no duplicate."""

from __future__ import annotations

from playwright.sync_api import expect

from .webkit import Dashboard, wait_for


def _ingest(dashboard: Dashboard, start: int, count: int) -> None:
    events = [
        {"type": "feed.tick", "subject": "feed/test", "data": {"n": n}} for n in range(start, start + count)
    ]
    answer = dashboard.api.post("/v1/events/batch", json={"events": events})
    assert answer.status_code == 201, answer.text


def _server_seqs(dashboard: Dashboard) -> list[int]:
    page = dashboard.api.get("/v1/events", params={"type": "feed.", "limit": 1000}).json()
    return [e["seq"] for e in page["events"]]


def _page_ns(dashboard: Dashboard) -> list[int]:
    return list(dashboard.page.evaluate("window.missiond.view.state.items.map(e => e.data.n)"))


def test_the_feed_resumes_after_a_server_restart_without_gap_or_duplicate(dashboard: Dashboard) -> None:
    page, server = dashboard.page, dashboard.server
    _ingest(dashboard, 0, 40)
    dashboard.open("events?type=feed.")
    expect(page.locator("#feed-stats")).to_contain_text("40 events")
    _ingest(dashboard, 40, 10)  # live, while the page watches
    expect(page.locator("#feed-stats")).to_contain_text("50 events")
    expect(page.locator(".vrow").first).to_contain_text('{"n":49}')  # newest first

    server.stop()
    expect(page.locator("#live")).not_to_have_attribute("data-state", "live")
    expect(page.locator("#live")).to_have_attribute("data-state", "reconnecting")
    server.start()
    _ingest(dashboard, 50, 25)  # committed before the page is back: it must catch up from its seq
    dashboard.expect_live()
    expect(page.locator("#feed-stats")).to_contain_text("75 events")
    _ingest(dashboard, 75, 5)
    expect(page.locator("#feed-stats")).to_contain_text("80 events")

    assert _page_ns(dashboard) == list(range(80))
    seqs = page.evaluate("window.missiond.view.seqs()")
    assert seqs == _server_seqs(dashboard)
    assert len(set(seqs)) == len(seqs) == 80
    dashboard.shot("events")


def test_filters_narrow_the_feed_by_type_and_subject(dashboard: Dashboard) -> None:
    page = dashboard.page
    api = dashboard.api
    api.post(
        "/v1/events/batch",
        json={
            "events": [
                {"type": "feed.tick", "subject": "feed/a", "data": {"n": 1}},
                {"type": "feed.tock", "subject": "feed/b", "data": {"n": 2}},
                {"type": "other.tick", "subject": "feed/a", "data": {"n": 3}},
            ]
        },
    )
    dashboard.open("events")
    page.get_by_label("type filter").fill("feed.")
    page.get_by_label("subject filter").fill("feed/a")
    page.get_by_role("button", name="Filter").click()
    expect(page.locator("#feed-stats")).to_contain_text("1 event ")
    wait_for(lambda: _page_ns(dashboard) == [1])
    page.locator(".vrow").first.click()
    expect(page.locator(".detail pre")).to_contain_text('"subject": "feed/a"')
