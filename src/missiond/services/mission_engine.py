"""Folds one mission event into a mission inside a unit of work.

`MissionEngine.apply(uow, mission_id, type, data)` loads the state, calls the
pure reducer, and in the same transaction appends the event (unless it is
already on the spine), the facts the reducer decided, the new state and the
outbox rows for its commands. The runtime carries the commands out after
commit. An event that does not apply changes nothing and is reported back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from missiond.core.events import EventFilter, NewEvent, format_ts
from missiond.core.missions.reducer import INPUT_TYPES, MissionEvent, applied, on_event
from missiond.core.missions.state import (
    Command,
    MissionState,
    Notice,
    RecordFact,
    ScheduleTimeout,
    command_to_dict,
    state_from_dict,
    state_to_dict,
)
from missiond.errors import NotFound
from missiond.identifiers import new_id
from missiond.storage.missions import MissionCommandRow, MissionRow
from missiond.storage.uow import UnitOfWork


class MissionNotFound(NotFound):
    code = "MISSION_NOT_FOUND"
    title = "Mission not found"


def subject_of(mission_id: str) -> str:
    return f"mission/{mission_id}"


@dataclass(frozen=True, slots=True)
class Applied:
    state: MissionState
    commands: list[Command]
    applied: bool
    notice: str | None
    seq: int | None  # the event's seq on the spine


class MissionEngine:
    def __init__(self) -> None:
        self._cache: dict[tuple[str, int], MissionState] = {}
        # Called after commit with the ids of the commands a transaction queued (the runtime
        # carries quick ones out at once, so a submission's follow-up does not wait a pass).
        self.on_queued: Callable[[list[str]], None] | None = None

    def load(self, uow: UnitOfWork, mission_id: str) -> tuple[MissionRow, MissionState]:
        row = uow.missions.get(mission_id)
        if row is None:
            raise MissionNotFound(f"no mission {mission_id!r}", mission_id=mission_id)
        key = (row.id, row.rev)
        state = uow.scratch.get(key) or self._cache.get(key)
        if not isinstance(state, MissionState):
            state = state_from_dict(row.state)
            self._remember(uow, key, state)
        return row, state

    def _remember(self, uow: UnitOfWork, key: tuple[str, int], state: MissionState) -> None:
        """Parsed states are memoized per revision; the shared memo learns a revision
        only once its transaction committed (a rolled-back one never reaches it)."""
        uow.scratch[key] = state

        def publish() -> None:
            if len(self._cache) > 2000:
                self._cache.clear()
            self._cache[key] = state

        uow.committed.append(publish)

    def create(
        self, uow: UnitOfWork, state: MissionState, commands: list[Command], created_by: str
    ) -> MissionRow:
        row = MissionRow(
            id=state.id,
            title=state.spec.title,
            status=state.status,
            state=state_to_dict(state),
            applied_seq=0,
            rev=1,
            created_by=created_by,
            created_at_us=uow.now_us,
            updated_at_us=uow.now_us,
        )
        uow.missions.save(row)
        last = self._carry_out(uow, row, commands)
        row.applied_seq = last or 0
        uow.missions.save(row)
        self._remember(uow, (row.id, row.rev), state)
        return row

    def would_apply(self, uow: UnitOfWork, mission_id: str, event_type: str, data: dict[str, Any]) -> bool:
        """Whether the event would apply now (nothing is written): a command queued before the
        mission moved on (finished, cancelled, item sent back) must not create work."""
        _, state = self.load(uow, mission_id)
        new_state, _ = on_event(state, MissionEvent(event_type, data, format_ts(uow.now)))
        return applied(state, new_state)

    def apply(
        self,
        uow: UnitOfWork,
        mission_id: str,
        event_type: str,
        data: dict[str, Any],
        *,
        seq: int | None = None,
        actor: str | None = None,
    ) -> Applied:
        """Apply one event. `seq` is given when the event is already on the spine."""
        if seq is None:
            self._catch_up(uow, mission_id)
        row, state = self.load(uow, mission_id)
        if seq is not None and seq <= row.applied_seq:
            return Applied(state, [], False, "already applied", seq)
        new_state, commands = on_event(state, MissionEvent(event_type, data, format_ts(uow.now)))
        if not applied(state, new_state):
            notice = next((c.message for c in commands if isinstance(c, Notice)), "the event does not apply")
            return Applied(state, commands, False, notice, seq)
        if seq is None:
            [stored] = uow.emit(
                NewEvent(event_type, subject_of(mission_id), {**data, "mission_id": mission_id}), actor=actor
            )
            seq = stored.seq
        last = self._carry_out(uow, row, commands)
        row.state = state_to_dict(new_state)
        row.status = new_state.status
        row.applied_seq = max(seq, last or 0)
        row.rev += 1
        row.updated_at_us = uow.now_us
        uow.missions.save(row)
        self._remember(uow, (row.id, row.rev), new_state)
        return Applied(new_state, commands, True, None, seq)

    def _catch_up(self, uow: UnitOfWork, mission_id: str) -> None:
        """Fold in, in seq order, the mission's input events that other writers appended and
        the spine consumer has not reached yet, so an event applied now never overtakes them
        (and `applied_seq` stays an honest high-water mark)."""
        memo = ("caught_up", mission_id)
        if uow.scratch.get(memo):
            return  # writes are serialized: nobody else appended since, in this transaction
        uow.scratch[memo] = True
        row = uow.missions.get(mission_id)
        if row is None:
            return
        subject = subject_of(mission_id)
        pending = uow.events.query(EventFilter(subjects=(subject,)), after=row.applied_seq, limit=1000)
        for event in pending:
            if event.subject == subject and event.type in INPUT_TYPES:
                self.apply(uow, mission_id, event.type, dict(event.data), seq=event.seq)

    def _carry_out(self, uow: UnitOfWork, row: MissionRow, commands: list[Command]) -> int | None:
        """Record facts and notices on the spine now; queue the rest in the outbox."""
        events: list[NewEvent] = []
        outbox: list[MissionCommandRow] = []
        subject = subject_of(row.id)
        for command in commands:
            if isinstance(command, RecordFact):
                events.append(NewEvent(command.type, subject, {**command.data, "mission_id": row.id}))
            elif isinstance(command, Notice):
                events.append(
                    NewEvent(
                        "mission.notice",
                        subject,
                        {"mission_id": row.id, "level": command.level, "message": command.message},
                    )
                )
            else:
                delay_us = int(command.after_s * 1_000_000) if isinstance(command, ScheduleTimeout) else 0
                outbox.append(
                    MissionCommandRow(
                        id=new_id("cmd"),
                        mission_id=row.id,
                        kind=command.kind,
                        payload=command_to_dict(command),
                        status="pending",
                        tries=0,
                        not_before_us=uow.now_us + delay_us,
                        created_at_us=uow.now_us,
                        updated_at_us=uow.now_us,
                        result={},
                    )
                )
        if outbox:
            uow.missions.add_commands(outbox)
            if self.on_queued is not None:
                ids, hook = [c.id for c in outbox], self.on_queued
                uow.committed.append(lambda: hook(ids))
            events.append(
                NewEvent(
                    "mission.commands_queued",
                    subject,
                    {
                        "mission_id": row.id,
                        "commands": [c.kind for c in outbox],
                        "ids": [c.id for c in outbox],
                    },
                )
            )
        stored = uow.emit_many(events) if events else []
        return stored[-1].seq if stored else None
