"""The mission runtime: carries out the reducer's commands and feeds outcomes back as events.

- `drain_spine()` consumes mission events from the spine after a stored cursor
  and applies each once (an event already folded in is skipped by seq), so an
  event appended by any writer, on any replica, reaches its mission.
- `step()` executes due outbox commands. Quick ones (a board task for the pull
  adapter, an approval, a release, a timer) run inside one transaction that
  also marks the command done, so a crash either did all of it or none.
  Slow ones (the test gate, the exec adapter) are marked `running` and handed
  back to the caller to run in a worker thread; their outcome is recorded in
  a later transaction.
- `recover()` on start puts commands a stopped server left `running` back to
  `pending`: an interrupted test gate is re-run, never forgotten.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import subprocess
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from missiond.core.events import EventFilter, NewEvent
from missiond.core.missions.reducer import INPUT_TYPES
from missiond.core.missions.spec import MissionSpec, RoleSpec
from missiond.core.missions.state import artifact_path
from missiond.errors import MissiondError
from missiond.services.approvals import ApprovalService
from missiond.services.context import system_context
from missiond.services.memory import MemoryService
from missiond.services.mission_engine import MissionEngine, subject_of
from missiond.services.tasks import TaskBoard, TaskDraft
from missiond.storage.missions import MissionCommandRow
from missiond.storage.tables import ApprovalRow
from missiond.storage.uow import Store, UnitOfWork

log = logging.getLogger("missiond.missions")
ACTOR = "system.missions"
CURSOR = "mission_runtime"
SLOW = ("run_test", "offer_solution")
KICK_BATCH = 8
TAIL_CHARS = 4000
MISSION_TYPES = ("mission.", "work.", "review.", "test.")


@dataclass(frozen=True, slots=True)
class SlowCommand:
    id: str
    mission_id: str
    kind: str
    payload: dict[str, Any]
    spec: MissionSpec


def _tail(text: str, limit: int = TAIL_CHARS) -> str:
    return text[-limit:]


class MissionRuntime:
    def __init__(
        self,
        store: Store,
        engine: MissionEngine,
        approvals: ApprovalService,
        home: Path,
        memory: MemoryService | None = None,
    ) -> None:
        self._store = store
        self._memory = memory
        self._local = threading.local()
        self._approvals = approvals
        self._engine = engine
        self._home = home
        self._procs: dict[tuple[str, str, int], subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        approvals.on_decision("mission.review", self._review_decided)

    # -- spine consumer ----------------------------------------------------------------------
    def drain_spine(self, batch: int = 500) -> int:
        total = 0
        while True:
            with self._store.write(actor=ACTOR) as uow:
                position = uow.cursors.get(CURSOR)
                head, floor = uow.events.bounds()
                if head <= position:
                    return total
                position = max(position, floor)
                events = uow.events.query(
                    EventFilter(types=MISSION_TYPES, subjects=("mission/",)),
                    after=position,
                    limit=batch,
                    until_seq=head,
                )
                through = events[-1].seq if len(events) == batch else head
                for event in events:
                    if event.type not in INPUT_TYPES:
                        continue
                    mission_id = event.subject.removeprefix("mission/")
                    if uow.missions.get(mission_id) is None:
                        continue
                    self._engine.apply(uow, mission_id, event.type, dict(event.data), seq=event.seq)
                uow.cursors.set(CURSOR, through, uow.now_us)
                total += len(events)
                if through >= head:
                    return total

    # -- commands ------------------------------------------------------------------------------
    def recover(self) -> int:
        with self._store.write(actor=ACTOR) as uow:
            stuck = uow.missions.running_commands()
            for row in stuck:
                row.status, row.tries, row.updated_at_us = "pending", row.tries + 1, uow.now_us
                uow.missions.save(row)
                uow.emit(
                    NewEvent(
                        "mission.notice",
                        subject_of(row.mission_id),
                        {
                            "mission_id": row.mission_id,
                            "level": "warning",
                            "message": f"{row.kind} for {row.payload.get('item_id')} was interrupted "
                            "by a server stop; it runs again",
                        },
                    )
                )
            return len(stuck)

    def kick(self, command_ids: list[str]) -> None:
        """Carry out just-queued quick commands now, after their transaction committed, in the
        committing thread. Slow or delayed ones are left to the driver. Commands queued while
        kicking are taken in a loop, not by recursion; a command another thread took first is
        skipped (it is no longer pending)."""
        local = self._local
        if getattr(local, "kicking", False):
            local.pending.extend(command_ids)
            return
        local.kicking, local.pending = True, list(command_ids)
        try:
            while local.pending:
                batch, local.pending = local.pending[:KICK_BATCH], local.pending[KICK_BATCH:]
                try:
                    self._kick_batch(batch)
                except Exception:
                    log.warning(
                        "carrying out queued mission commands failed; the driver retries", exc_info=True
                    )
        finally:
            local.kicking, local.pending = False, []

    def _kick_batch(self, command_ids: list[str]) -> None:
        with self._store.write(actor=ACTOR) as uow:
            for command_id in command_ids:
                row = uow.missions.get_command(command_id)
                if row is not None and row.status == "pending" and row.not_before_us <= uow.now_us:
                    self._execute_row(uow, row, take_slow=False)

    def next_due_us(self) -> int | None:
        with self._store.read() as uow:
            return uow.missions.next_due_at()

    def step(self, limit: int = 8) -> tuple[int, list[SlowCommand]]:
        """Execute due quick commands; returns (how many ran, slow ones now marked running).

        A batch runs in one transaction (one commit for many commands); if any
        command in it fails, the batch is rolled back and each command runs on its
        own, so one bad command cannot hold the others up."""
        try:
            with self._store.write(actor=ACTOR) as uow:
                due = uow.missions.due_commands(uow.now_us, limit)
                slow = [found for row in due if (found := self._execute_row(uow, row)) is not None]
                return len(due), slow
        except Exception:
            log.warning("a mission command batch failed; running its commands one by one", exc_info=True)
        with self._store.read() as uow:
            ids = [c.id for c in uow.missions.due_commands(uow.now_us, limit)]
        slow = []
        for command_id in ids:
            try:
                with self._store.write(actor=ACTOR) as uow:
                    row = uow.missions.get_command(command_id)
                    pending = row is not None and row.status == "pending"
                    found = self._execute_row(uow, row) if row is not None and pending else None
            except Exception:
                log.exception("mission command %s failed", command_id)
                self._mark_failed(command_id)
                continue
            if found is not None:
                slow.append(found)
        return len(ids), slow

    def _execute_row(
        self, uow: UnitOfWork, row: MissionCommandRow, *, take_slow: bool = True
    ) -> SlowCommand | None:
        """Carry out a quick command inside `uow`. A slow one is marked running and handed back
        for a worker thread (or, with `take_slow=False`, left pending for the driver)."""
        _, state = self._engine.load(uow, row.mission_id)
        spec = state.spec
        if _is_slow(spec, row):
            if not take_slow:
                return None
            row.status, row.tries, row.updated_at_us = "running", row.tries + 1, uow.now_us
            uow.missions.save(row)
            return SlowCommand(row.id, row.mission_id, row.kind, dict(row.payload), spec)
        self._quick[row.kind](self, uow, row, spec)
        self._done(uow, row)
        return None

    def _done(self, uow: UnitOfWork, row: MissionCommandRow, result: dict[str, Any] | None = None) -> None:
        row.status, row.updated_at_us = "done", uow.now_us
        if result:
            row.result = result
        uow.missions.save(row)

    def _mark_failed(self, command_id: str) -> None:
        with self._store.write(actor=ACTOR) as uow:
            row = uow.missions.get_command(command_id)
            if row is not None and row.status in ("pending", "running"):
                row.status, row.updated_at_us = "failed", uow.now_us
                uow.missions.save(row)
                uow.emit(
                    NewEvent(
                        "mission.notice",
                        subject_of(row.mission_id),
                        {
                            "mission_id": row.mission_id,
                            "level": "error",
                            "message": f"{row.kind} could not run",
                        },
                    )
                )

    # quick commands ---------------------------------------------------------------------
    def _dispatch(
        self, uow: UnitOfWork, row: MissionCommandRow, spec: MissionSpec, memory_text: str = ""
    ) -> None:
        p = row.payload
        role = spec.roles[p["role"]]
        probe = self._dispatched(p, "probe" if role.adapter != "scripted" else None, role.adapter)
        if not self._engine.would_apply(uow, row.mission_id, "work.dispatched", probe):
            row.result = {"skipped": "the mission moved on before this dispatch ran"}
            return
        if role.adapter == "scripted":
            self._apply(uow, row.mission_id, "work.dispatched", self._dispatched(p, None, "scripted"))
            self._scripted(uow, row.mission_id, spec, role, p)
            return
        task = TaskBoard(uow).create(
            TaskDraft(
                title=f"{p['role']}: {spec.title} / {p['item_id']} (attempt {p['attempt']})"[:300],
                type="chore" if p["role"] == "reviewer" else "feature",
                description=p["instructions"] + memory_text,
                intent=f"mission {row.mission_id} item {p['item_id']} attempt {p['attempt']} as {p['role']}",
                labels=("mission", p["role"]),
                role=p["role"],
                mission_id=row.mission_id,
                priority=1,
            )
        )
        board = TaskBoard(uow)
        for feedback in p.get("feedback") or ():
            board.add_note(task, "blocker", str(feedback)[:20_000], None)
        self._apply(uow, row.mission_id, "work.dispatched", self._dispatched(p, task.id, "pull"))

    @staticmethod
    def _dispatched(p: dict[str, Any], task_id: str | None, adapter: str) -> dict[str, Any]:
        data = {"item_id": p["item_id"], "attempt": p["attempt"], "role": p["role"], "adapter": adapter}
        if task_id:
            data["task_id"] = task_id
        return data

    def _scripted(
        self, uow: UnitOfWork, mission_id: str, spec: MissionSpec, role: RoleSpec, p: dict[str, Any]
    ) -> None:
        """Built-in deterministic agents: `fail_run`, `fail_review`, `fail_test` count the
        first attempts that go wrong; `plan` is the planner's plan."""
        script, attempt, item_id = role.script, int(p["attempt"]), p["item_id"]
        if p["role"] == "planner":
            items = script.get("plan") or [{"id": "work", "title": spec.goal[:200]}]
            self._apply(uow, mission_id, "mission.plan_submitted", {"items": items})
            return
        base = {"item_id": item_id, "attempt": attempt}
        if p["role"] == "reviewer":
            if attempt <= int(script.get("fail_review", 0)):
                data = {
                    **base,
                    "reviewer": "scripted",
                    "feedback": f"scripted review of attempt {attempt}: needs changes",
                }
                self._apply(uow, mission_id, "review.changes_requested", data)
            else:
                self._apply(uow, mission_id, "review.approved", {**base, "reviewer": "scripted"})
            return
        ok = attempt > int(script.get("fail_run", 0))
        marker = Path(spec.workspace) / ".missiond-scripted" / f"{item_id}.status"
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.write_text("fail\n" if attempt <= int(script.get("fail_test", 0)) else "pass\n")
        summary = f"scripted {p['role']} attempt {attempt}" + ("" if ok else ": the run failed")
        self._apply(uow, mission_id, "work.submitted", {**base, "ok": ok, "summary": summary})

    def _request_approval(self, uow: UnitOfWork, row: MissionCommandRow, spec: MissionSpec) -> None:
        p = row.payload
        probe = {"item_id": p["item_id"], "attempt": p["attempt"], "approval_id": "probe"}
        if not self._engine.would_apply(uow, row.mission_id, "review.requested", probe):
            row.result = {"skipped": "the mission moved on before this review was requested"}
            return
        approval = ApprovalService.request(
            uow,
            kind="mission.review",
            subject=f"mission/{row.mission_id}/work/{p['item_id']}",
            summary=p["summary"],
            requester=ACTOR,
            payload={"mission_id": row.mission_id, "item_id": p["item_id"], "attempt": p["attempt"]},
            expires_in_s=7 * 24 * 3600,
        )
        data = {"item_id": p["item_id"], "attempt": p["attempt"], "approval_id": approval.id}
        self._apply(uow, row.mission_id, "review.requested", data)

    def _review_decided(self, uow: UnitOfWork, approval: ApprovalRow) -> None:
        p = approval.payload
        data: dict[str, Any] = {
            "item_id": p.get("item_id"),
            "attempt": p.get("attempt"),
            "reviewer": approval.decider,
        }
        if approval.status == "approved":
            self._engine.apply(uow, str(p.get("mission_id")), "review.approved", data)
        else:
            data["feedback"] = approval.reason or f"review {approval.status}"
            self._engine.apply(uow, str(p.get("mission_id")), "review.changes_requested", data)

    def _release(self, uow: UnitOfWork, row: MissionCommandRow, spec: MissionSpec) -> None:
        p = row.payload
        _, state = self._engine.load(uow, row.mission_id)
        item = state.item(p["item_id"])
        attempt = next((a for a in (item.attempts if item else ()) if a.n == p["attempt"]), None)
        board = TaskBoard(uow)
        for task_id in (attempt.task_id, attempt.review_task_id) if attempt else ():
            task = uow.tasks.get(task_id) if task_id else None
            if task is not None and task.status in ("open", "in_progress", "blocked"):
                board.transition(task, "cancelled", outcome=None, reason=p["reason"])
        if attempt is not None and attempt.approval_id:
            self._approvals.withdraw(uow, attempt.approval_id, p["reason"])
        with self._lock:
            proc = self._procs.get((row.mission_id, p["item_id"], int(p["attempt"])))
        if proc is not None:
            _kill(proc)
        uow.emit(NewEvent("work.released", subject_of(row.mission_id), {**p, "mission_id": row.mission_id}))

    def _timeout(self, uow: UnitOfWork, row: MissionCommandRow, spec: MissionSpec) -> None:
        self._engine.apply(uow, row.mission_id, row.payload["event_type"], {})

    def _finish(self, uow: UnitOfWork, row: MissionCommandRow, spec: MissionSpec) -> None:
        for other in uow.missions.commands_of(row.mission_id, ("pending",)):
            if other.id != row.id and other.kind != "release_work":
                other.status, other.updated_at_us = "cancelled", uow.now_us
                uow.missions.save(other)

    def _persist(self, uow: UnitOfWork, row: MissionCommandRow, spec: MissionSpec) -> None:
        p = row.payload
        path = self._artifact_path(row.mission_id, p["item_id"], int(p["attempt"]), p["name"])
        path.write_text(p["content"])
        self._artifact_event(uow, row.mission_id, p["item_id"], int(p["attempt"]), path)

    _quick: dict[str, Callable[[MissionRuntime, UnitOfWork, MissionCommandRow, MissionSpec], None]] = {
        "dispatch": _dispatch,
        "request_approval": _request_approval,
        "release_work": _release,
        "schedule_timeout": _timeout,
        "finish": _finish,
        "persist_artifact": _persist,
    }

    def _apply(self, uow: UnitOfWork, mission_id: str, event_type: str, data: dict[str, Any]) -> None:
        result = self._engine.apply(uow, mission_id, event_type, data)
        if not result.applied:
            log.info("mission %s: %s did not apply: %s", mission_id, event_type, result.notice)

    # -- slow commands (worker threads) ------------------------------------------------------
    def run_slow(self, command: SlowCommand) -> None:
        try:
            if command.kind == "run_test":
                self._run_test(command)
            elif command.kind == "offer_solution":
                self._offer_solution(command)
            elif command.spec.roles[command.payload["role"]].adapter == "exec":
                self._run_exec(command)
            else:
                self._dispatch_with_memory(command)
        except Exception:
            log.exception("mission command %s failed", command.id)
            self._mark_failed(command.id)

    # memory: search before a dispatch, a solution capsule after an item is done -----------------
    def _dispatch_with_memory(self, command: SlowCommand) -> None:
        """A pull dispatch whose instructions carry the project memory that matches the item."""
        options, p = command.spec.memory, command.payload
        lines: list[str] = []
        if options is not None and self._memory is not None:
            partition = {"org": options.org, "workspace": options.workspace, "project": options.project}
            query = " ".join(p["instructions"].splitlines()[3:6])[:500]  # role, item title and description
            try:
                found = self._memory.search(
                    system_context("missions"),
                    query,
                    ["project", "team", "curated"],
                    options.limit,
                    partition,
                )
            except MissiondError as exc:  # no usable words, a partition problem: dispatch without memory
                log.info("mission %s: memory search skipped: %s", command.mission_id, exc.detail)
                found = {"items": []}
            for hit in found["items"]:
                record = hit["memory"]
                if record.get("classification") == "restricted":
                    continue  # a board task is read by every agent with tasks:read
                content = " ".join(str(record.get("content") or "").split())[:300]
                lines.append(f"- [{record['partition']['tier']}/{record['kind']}] {content} ({record['id']})")
        memory_text = ("\n\nRelevant project memory:\n" + "\n".join(lines)) if lines else ""
        with self._store.write(actor=ACTOR) as uow:
            row = uow.missions.get_command(command.id)
            if row is None or row.status != "running":
                return
            self._dispatch(uow, row, command.spec, memory_text)
            self._done(uow, row, {"memory_hits": len(lines)})

    def _offer_solution(self, command: SlowCommand) -> None:
        options, p = command.spec.memory, command.payload
        memory_id = None
        if options is not None and self._memory is not None:
            partition = {"org": options.org, "workspace": options.workspace, "project": options.project}
            body = {
                "partition": partition,
                "tier": "session",
                "kind": "solution",
                "content": f"Mission {command.spec.title!r}, item {p['item_id']} (attempt {p['attempt']}): "
                f"{p['summary']}",
                "tags": ["mission", "solution"],
            }
            put, _ = self._memory.put(system_context("missions"), body)
            memory_id = put["memory"]["id"]
        with self._store.write(actor=ACTOR) as uow:
            row = uow.missions.get_command(command.id)
            if row is None or row.status != "running":
                return
            if memory_id:
                uow.emit(
                    NewEvent(
                        "mission.solution_offered",
                        subject_of(command.mission_id),
                        {
                            "mission_id": command.mission_id,
                            "item_id": p["item_id"],
                            "attempt": p["attempt"],
                            "memory_id": memory_id,
                            "promote": f"missiond memory promote {memory_id} --to project",
                        },
                    )
                )
            self._done(uow, row, {"memory_id": memory_id})

    def _finish_slow(
        self, command: SlowCommand, event_type: str, data: dict[str, Any], artifact: Path | None
    ) -> None:
        with self._store.write(actor=ACTOR) as uow:
            row = uow.missions.get_command(command.id)
            if row is None or row.status != "running":
                return  # cancelled meanwhile
            if artifact is not None:
                self._artifact_event(uow, command.mission_id, data["item_id"], data["attempt"], artifact)
            self._apply(uow, command.mission_id, event_type, data)
            self._done(uow, row, {"event": event_type})

    def _run_test(self, command: SlowCommand) -> None:
        gate = command.spec.test
        p = command.payload
        if gate is None:
            self._finish_slow(
                command, "test.passed", {"item_id": p["item_id"], "attempt": p["attempt"]}, None
            )
            return
        log_path = self._artifact_path(command.mission_id, p["item_id"], int(p["attempt"]), "test.log")
        env = {**os.environ, **gate.env, **self._env(command.mission_id, p)}
        cwd = Path(command.spec.workspace) / gate.cwd
        code, timed_out = self._spawn(
            ["/bin/sh", "-c", gate.command], cwd, env, None, log_path, gate.timeout_s, command.mission_id, p
        )
        output = log_path.read_text(errors="replace")
        data = {
            "item_id": p["item_id"],
            "attempt": p["attempt"],
            "exit_code": code,
            "timed_out": timed_out,
            "tail": _tail(output + (f"\n[timed out after {gate.timeout_s:g}s]" if timed_out else "")),
            "artifact": self._relative(log_path),
        }
        self._finish_slow(
            command, "test.passed" if code == 0 and not timed_out else "test.failed", data, log_path
        )

    def _run_exec(self, command: SlowCommand) -> None:
        p = command.payload
        role = command.spec.roles[p["role"]]
        log_path = self._artifact_path(
            command.mission_id, p["item_id"], int(p["attempt"]), f"{p['role']}.log"
        )
        out_path = log_path.with_suffix(".out")
        env = {**os.environ, **self._env(command.mission_id, p), "MISSIOND_INSTRUCTIONS": p["instructions"]}
        code, timed_out = self._spawn(
            list(role.command),
            Path(command.spec.workspace),
            env,
            p["instructions"].encode(),
            out_path,
            role.timeout_s,
            command.mission_id,
            p,
            stderr_path=log_path,
        )
        stdout = out_path.read_text(errors="replace")
        result = _last_json_line(stdout)
        ok = code == 0 and not timed_out
        why = "timed out" if timed_out else f"exit {code}"
        base = {"item_id": p["item_id"], "attempt": p["attempt"]}
        stderr_tail = _tail(log_path.read_text(errors="replace"), 2000)
        if p["role"] == "planner":
            self._finish_slow(command, "mission.plan_submitted", {"items": result.get("items")}, None)
        elif p["role"] == "reviewer":
            verdict = result.get("verdict") or ("approve" if ok else "request_changes")
            if verdict == "approve" and ok:
                self._finish_slow(
                    command, "review.approved", {**base, "reviewer": f"exec:{role.command[0]}"}, None
                )
            else:
                feedback = str(result.get("feedback") or stderr_tail or why)
                data = {**base, "reviewer": f"exec:{role.command[0]}", "feedback": feedback}
                self._finish_slow(command, "review.changes_requested", data, None)
        else:
            summary = str(result.get("summary") or _tail(stdout, 500).strip() or why)
            if not ok:
                summary = f"{why}: {summary} {stderr_tail}".strip()[:TAIL_CHARS]
            self._finish_slow(command, "work.submitted", {**base, "ok": ok, "summary": summary}, None)

    def _spawn(
        self,
        argv: list[str],
        cwd: Path,
        env: dict[str, str],
        stdin: bytes | None,
        out_path: Path,
        timeout_s: float,
        mission_id: str,
        p: dict[str, Any],
        *,
        stderr_path: Path | None = None,
    ) -> tuple[int | None, bool]:
        key = (mission_id, p["item_id"], int(p["attempt"]))
        with out_path.open("wb") as out, (stderr_path or out_path).open("ab") as err:
            try:
                proc = subprocess.Popen(
                    argv,
                    cwd=cwd,
                    env=env,
                    stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                    stdout=out,
                    stderr=err if stderr_path else subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                out.write(f"could not start {argv[0]!r}: {exc}\n".encode())
                return 127, False
            with self._lock:
                self._procs[key] = proc
            try:
                if stdin is not None and proc.stdin is not None:
                    try:
                        proc.stdin.write(stdin)
                        proc.stdin.close()
                    except BrokenPipeError:
                        pass
                try:
                    return proc.wait(timeout=timeout_s), False
                except subprocess.TimeoutExpired:
                    _kill(proc)
                    return None, True
            finally:
                with self._lock:
                    self._procs.pop(key, None)

    @staticmethod
    def _env(mission_id: str, p: dict[str, Any]) -> dict[str, str]:
        return {
            "MISSIOND_MISSION_ID": mission_id,
            "MISSIOND_ITEM_ID": str(p["item_id"]),
            "MISSIOND_ATTEMPT": str(p["attempt"]),
            "MISSIOND_ROLE": str(p.get("role", "tester")),
        }

    def _artifact_path(self, mission_id: str, item_id: str, attempt: int, name: str) -> Path:
        path = self._home / artifact_path(mission_id, item_id, attempt, name)
        path.parent.mkdir(parents=True, exist_ok=True)
        return path

    def _relative(self, path: Path) -> str:
        return str(path.relative_to(self._home))

    def _artifact_event(
        self, uow: UnitOfWork, mission_id: str, item_id: str, attempt: int, path: Path
    ) -> None:
        uow.emit(
            NewEvent(
                "artifact.added",
                subject_of(mission_id),
                {
                    "mission_id": mission_id,
                    "item_id": item_id,
                    "attempt": attempt,
                    "path": self._relative(path),
                    "bytes": path.stat().st_size,
                },
            )
        )

    def kill_all(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            _kill(proc)


def _is_slow(spec: MissionSpec, row: MissionCommandRow) -> bool:
    """Slow commands run outside a transaction, in a worker thread: the test gate, the exec
    adapter, offering a solution to memory, and a pull dispatch that searches memory first
    (the search has its own transactions; the task and `work.dispatched` are still one)."""
    if row.kind in SLOW:
        return True
    if row.kind != "dispatch":
        return False
    role = spec.roles.get(str(row.payload.get("role")))
    if role is None:
        return False
    if role.adapter == "exec":
        return True
    wants_memory = spec.memory is not None and spec.memory.search
    return role.adapter == "pull" and wants_memory and row.payload.get("role") in ("executor", "tester")


def _kill(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _last_json_line(stdout: str) -> dict[str, Any]:
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}
    return {}
