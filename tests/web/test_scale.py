"""1,000 missions and 10,000 events in view: the pages stay responsive (paged and windowed).

The figures are written to the artifacts directory (scale.json) and printed."""

from __future__ import annotations

import json
import time
from pathlib import Path

from playwright.sync_api import expect

from .webkit import Dashboard

MISSIONS = 1_000
EVENTS = 10_000


def _seed(dashboard: Dashboard, workspace: Path) -> None:
    spec = {
        "title": "Mission",
        "goal": "Load",
        "workspace": str(workspace),
        "roles": {"executor": {"adapter": "pull"}},
        "gates": {"review": {"required": False}},
        "work_items": [{"id": f"i{n}", "title": f"Item {n}"} for n in range(5)],
    }
    # One writer: SQLite serializes writes anyway, and parallel writers only wait on each other.
    for n in range(MISSIONS):
        answer = dashboard.api.post("/v1/missions", json={**spec, "title": f"Mission {n:04d}"})
        assert answer.status_code == 201, answer.text
    for start in range(0, EVENTS, 500):
        batch = [
            {"type": "load.tick", "subject": f"load/{n % 50}", "data": {"n": n}}
            for n in range(start, start + 500)
        ]
        assert dashboard.api.post("/v1/events/batch", json={"events": batch}).status_code == 201


def _frame_ms(dashboard: Dashboard, script: str) -> float:
    """Run `script` (it scrolls or clicks) and time it until the next two frames are painted."""
    return float(
        dashboard.page.evaluate(
            """(script) => new Promise((resolve) => {
                const t0 = performance.now();
                (0, eval)(script);
                requestAnimationFrame(() => requestAnimationFrame(() => resolve(performance.now() - t0)));
            })""",
            script,
        )
    )


def test_a_thousand_missions_and_ten_thousand_events_stay_responsive(
    dashboard: Dashboard, tmp_path: Path, artifacts: Path
) -> None:
    page = dashboard.page
    _seed(dashboard, tmp_path)
    figures: dict[str, float] = {}

    t0 = time.perf_counter()
    dashboard.open("missions")
    expect(page.locator("#missions-total")).to_have_text(f"{MISSIONS} in all")
    expect(page.locator("table.missions tbody tr")).to_have_count(50)
    figures["missions_first_page_s"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    for page_no in range(2, 6):
        page.get_by_role("button", name="Older →").click()
        expect(page.locator(".pager")).to_contain_text(f"page {page_no}")
        expect(page.locator("table.missions tbody tr").first).to_contain_text(
            f"Mission {MISSIONS - 1 - 50 * (page_no - 1):04d}"
        )
    figures["missions_next_page_s"] = (time.perf_counter() - t0) / 4
    dashboard.shot("scale-missions")

    t0 = time.perf_counter()
    dashboard.open("events")
    expect(page.locator("#feed-stats")).to_contain_text(f"{EVENTS:,} events", timeout=60_000)
    figures["events_10k_loaded_s"] = time.perf_counter() - t0
    rows_in_dom = page.locator(".vrow").count()
    figures["events_rows_in_dom"] = rows_in_dom
    assert rows_in_dom < 120, "the feed must window its rows"
    figures["events_scroll_to_middle_ms"] = _frame_ms(
        dashboard, "document.querySelector('.vlist').scrollTop = 140000"
    )
    expect(page.locator(".vrow").first).to_be_visible()
    figures["events_scroll_to_end_ms"] = _frame_ms(
        dashboard, "document.querySelector('.vlist').scrollTop = 1e9"
    )
    figures["events_select_row_ms"] = _frame_ms(dashboard, "document.querySelector('.vrow').click()")

    # Live events keep arriving while 10,000 are in view.
    t0 = time.perf_counter()
    more = [{"type": "load.tick", "subject": "load/x", "data": {"n": EVENTS + n}} for n in range(500)]
    dashboard.api.post("/v1/events/batch", json={"events": more})
    expect(page.locator("#feed-stats")).to_contain_text(f"{EVENTS + 500:,} events")
    figures["events_500_live_s"] = time.perf_counter() - t0
    figures["js_heap_mb"] = page.evaluate("performance.memory ? performance.memory.usedJSHeapSize / 1e6 : -1")
    dashboard.shot("scale-events")

    (artifacts / "scale.json").write_text(json.dumps(figures, indent=2))
    print(json.dumps(figures, indent=2))
    assert figures["missions_first_page_s"] < 5
    assert figures["missions_next_page_s"] < 2
    assert figures["events_10k_loaded_s"] < 20
    assert figures["events_scroll_to_middle_ms"] < 250
    assert figures["events_500_live_s"] < 5
