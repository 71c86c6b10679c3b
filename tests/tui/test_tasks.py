"""Tasks in the TUI: ready, in progress with the lease holder and expiry, blocked with blockers;
the board follows claims live."""

from __future__ import annotations

from typing import Any

import pytest

from missiond.sdk import Client

from .harness import row_keys, show, table_rows, wait_for

pytestmark = pytest.mark.anyio


async def test_ready_in_progress_and_blocked_with_lease_holder_expiry_and_blockers(
    sdk: Client, make_app: Any
) -> None:
    first = sdk.create_task("tui write docs", role="tui-writer", priority=1)
    second = sdk.create_task("tui ship it", role="tui-writer")
    sdk.link_tasks(first.id, "blocks", second.id)
    held = sdk.create_task("tui fix bug", role="tui-fixer")
    agent, token = sdk.create_agent("tui-agent", roles=["tui-fixer"])
    with Client(sdk.base_url, token) as agent_client:
        agent_client.claim_task_id(held.id, ttl_s=600)

    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "4")
        ready = {r[0]: r for r in table_rows(app, "#ready")}
        assert ready[first.id][1:4] == ["tui write docs", "1", "tui-writer"]
        assert second.id not in ready and held.id not in ready

        working = {r[0]: r for r in table_rows(app, "#in-progress")}
        assert working[held.id][2] == f"agent:{agent.id}"
        assert "(in 9m)" in working[held.id][3] or "(in 10m)" in working[held.id][3]

        blocked = {r[0]: r for r in table_rows(app, "#blocked")}
        assert blocked[second.id][2:] == ["open", "1", "tui write docs (open)"]

        loads = app.screen.loads
        await pilot.press("g")
        await wait_for(pilot, lambda: app.screen.loads > loads, what="a refresh on g")

        # live: an agent claims the ready task; the board moves it without a key press
        with Client(sdk.base_url, token) as agent_client:
            sdk.update_task(first.id, role="tui-fixer")
            agent_client.claim_task_id(first.id, ttl_s=60)
        await wait_for(pilot, lambda: first.id in row_keys(app, "#in-progress"), what="claimed task moves")
        assert first.id not in row_keys(app, "#ready")
