"""Signals: a live count and list of what needs a person now, each leading to where it is handled."""

from __future__ import annotations

from typing import Any

import pytest

from missiond.sdk import Client, PolicyBlocked

from .harness import row_keys, screen_text, scripted_spec, select_row, show, table_rows, wait_for, wait_sync

pytestmark = pytest.mark.anyio


async def test_signals_list_approvals_failed_missions_blocked_routines_and_expired_leases(
    sdk: Client, make_app: Any, workspace: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "7")
        assert "all clear" in screen_text(app, "#summary")
        assert "⚑ 0 signals" in screen_text(app, "#connection")

        waiting = sdk.create_mission(scripted_spec("Signal review", workspace, human_review=True), start=True)
        failing_spec = scripted_spec("Signal failing", workspace, test_command="echo boom; exit 1")
        failing_spec["budgets"] = {"max_rework": 0}
        failing = sdk.create_mission(failing_spec, start=True)
        slow_spec = scripted_spec("Signal deadline", workspace)
        slow_spec["roles"] = {"executor": {"adapter": "pull", "agents": []}}  # nobody will pull it
        slow_spec["budgets"] = {"max_rework": 2, "max_duration_s": 1}
        halted = sdk.create_mission(slow_spec, start=True)  # halts when its second is spent
        routine = sdk.create_routine(
            "signal push", interval_s=3600, action={"kind": "command", "argv": ["true"], "external": True}
        )
        with pytest.raises(PolicyBlocked):
            sdk.run_routine_now(routine.id)
        task = sdk.create_task("signal orphan", role="signal-role")
        _agent, token = sdk.create_agent("signal-agent", roles=["signal-role"])
        with Client(sdk.base_url, token) as agent_client:
            agent_client.claim_task_id(task.id, ttl_s=1)  # and the agent "dies"

        approval = wait_sync(
            lambda: next(
                (a for a in sdk.list_approvals() if a.payload.get("mission_id") == waiting.id), None
            ),
            what="the approval",
        )
        expected = {
            f"approval:{approval.id}",
            f"mission:{failing.id}",
            f"mission:{halted.id}",
            f"routine:{routine.id}",
            f"lease:{task.id}",
        }
        await wait_for(
            pilot,
            lambda: set(row_keys(app, "#signals")) == expected,
            timeout=20,
            what="all five signals live",
        )
        assert "⚑ 5 need you" in screen_text(app, "#connection")
        assert "5 need a person now: 1 approval, 2 missions, 1 routine, 1 lease" in screen_text(
            app, "#summary"
        )
        halted_row = table_rows(app, "#signals")[row_keys(app, "#signals").index(f"mission:{halted.id}")]
        assert halted_row[1] == "Signal deadline halted"

        sdk.approve(approval.id, reason="ok")
        await wait_for(pilot, lambda: app.signal_count == 4, what="the count drops live")
        await wait_for(pilot, lambda: f"approval:{approval.id}" not in row_keys(app, "#signals"), what="gone")

        select_row(app, "#signals", f"routine:{routine.id}")
        await pilot.press("o")
        await wait_for(pilot, lambda: app.current_mode == "routines", what="the routines screen")
        table = app.screen.query_one("#routines")
        await wait_for(
            pilot, lambda: row_keys(app, "#routines")[table.cursor_row] == routine.id, what="cursor"
        )

        await pilot.press("7")
        await wait_for(
            pilot, lambda: app.current_mode == "signals" and app.screen.loads, what="signals again"
        )
        select_row(app, "#signals", f"mission:{failing.id}")
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: getattr(app.screen, "mission_id", None) == failing.id, what="the mission page"
        )
        await wait_for(pilot, lambda: "failed" in screen_text(app, "#header"), what="its status")
