"""Carries out routine runs: queued -> running -> succeeded | failed.

Claiming a queued run (marking it running) is one transaction, the action
runs outside any transaction, and its result is recorded in another. A run
left `running` by a process that died is marked failed on the next start:
it may or may not have had its effect, and saying so beats running it twice.
"""

from __future__ import annotations

from typing import Any

from missiond.core.events import NewEvent
from missiond.services.connectors import REGISTRY, Outcome, run_command
from missiond.services.context import system_context
from missiond.services.missions import MissionService
from missiond.services.routines import run_to_wire
from missiond.services.tasks import TaskBoard, TaskDraft
from missiond.storage.uow import Store

ACTOR = "system.scheduler"


class RoutineRunner:
    def __init__(self, store: Store, missions: MissionService | None = None) -> None:
        self._store = store
        self._missions = missions  # the `mission` action starts a mission from its spec template

    def recover(self) -> int:
        with self._store.write(actor=ACTOR) as uow:
            stuck = uow.routines.runs_with_status("running", 10_000)
            for run in stuck:
                run.status = "failed"
                run.finished_at_us = uow.now_us
                run.detail = {**run.detail, "error": "interrupted: the server stopped while it ran"}
                uow.routines.save(run)
                uow.emit(
                    NewEvent(
                        "routine.run_finished",
                        f"routine/{run.routine_id}",
                        {
                            "routine_id": run.routine_id,
                            "run_id": run.id,
                            "status": "failed",
                            "interrupted": True,
                        },
                    )
                )
            return len(stuck)

    def claim(self, limit: int = 16) -> list[tuple[str, str, dict[str, Any]]]:
        """Mark queued runs running (respecting overlap); returns (run_id, routine_id, action)."""
        claimed: list[tuple[str, str, dict[str, Any]]] = []
        with self._store.write(actor=ACTOR) as uow:
            for run in uow.routines.runs_with_status("queued", limit * 4):
                if len(claimed) >= limit:
                    break
                routine = uow.routines.get(run.routine_id)
                if routine is None:
                    run.status, run.finished_at_us = "failed", uow.now_us
                    run.detail = {**run.detail, "error": "the routine was deleted"}
                    uow.routines.save(run)
                    continue
                running = [r for r in uow.routines.active_runs(run.routine_id) if r.status == "running"]
                if running and routine.overlap != "allow" and run.trigger != "manual":
                    continue  # queue_one: starts when the running one finishes
                run.status, run.started_at_us = "running", uow.now_us
                uow.routines.save(run)
                claimed.append((run.id, routine.id, dict(routine.action)))
        return claimed

    def execute(self, run_id: str, routine_id: str, action: dict[str, Any]) -> dict[str, Any]:
        outcome = self._perform(run_id, routine_id, action)
        with self._store.write(actor=ACTOR) as uow:
            run = uow.routines.get_run(run_id)
            if run is None:
                return {}
            run.status = "succeeded" if outcome.ok else "failed"
            run.finished_at_us = uow.now_us
            run.detail = {**run.detail, **outcome.detail}
            if isinstance(outcome.detail.get("mission_id"), str):
                run.mission_id = outcome.detail["mission_id"]
            uow.routines.save(run)
            uow.emit(
                NewEvent(
                    "routine.run_finished",
                    f"routine/{routine_id}",
                    {
                        "routine_id": routine_id,
                        "run_id": run.id,
                        "status": run.status,
                        "detail": outcome.detail,
                    },
                )
            )
            return run_to_wire(run)

    def _perform(self, run_id: str, routine_id: str, action: dict[str, Any]) -> Outcome:
        kind = action.get("kind")
        try:
            if kind == "command":
                env = {**action.get("env", {}), "MISSIOND_ROUTINE_ID": routine_id, "MISSIOND_RUN_ID": run_id}
                return run_command(list(action["argv"]), action.get("cwd"), env, float(action["timeout_s"]))
            if kind == "connector":
                connector = REGISTRY[action["connector"]]
                return connector.run(action["params"], float(action.get("timeout_s") or 60))
            if kind == "task":
                return self._create_task(run_id, routine_id, action["task"])
            if kind == "mission" and self._missions is not None:
                ctx = system_context(f"routine:{routine_id}")
                created, _ = self._missions.create(ctx, action["spec"], start=bool(action.get("start", True)))
                return Outcome(True, {"mission_id": created["id"], "mission_status": created["status"]})
        except Exception as exc:  # an action's failure is the run's outcome, not the server's
            return Outcome(False, {"error": type(exc).__name__, "message": str(exc)[:500]})
        return Outcome(False, {"error": f"unknown action kind {kind!r}"})

    def _create_task(self, run_id: str, routine_id: str, spec: dict[str, Any]) -> Outcome:
        allowed = {
            "title",
            "type",
            "intent",
            "description",
            "plan",
            "priority",
            "labels",
            "role",
            "mission_id",
        }
        fields = {k: v for k, v in spec.items() if k in allowed}
        fields["labels"] = tuple(fields.get("labels") or ())
        with self._store.write(actor=f"routine:{routine_id}") as uow:
            task = TaskBoard(uow).create(TaskDraft(**fields))
        return Outcome(True, {"task_id": task.id})
