"""The blocker bookkeeping against a model (Hypothesis stateful test), on SQLite and PostgreSQL.

Rules link and unlink `blocks` relationships (named from either side) and move tasks
between statuses; after every step each task's counters, readiness, relationships and the
number of `task.unblocked` events agree with a model that only knows the edges and the
statuses. Refused steps change nothing.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from missiond.bootstrap import System
from missiond.errors import MissiondError
from missiond.services.context import Principal, RequestContext
from missiond.services.tasks import TaskDraft, WriteGuard

from .board import events_after, spine_head

ADMIN = RequestContext(principal=Principal(subject="user:admin", kind="admin", capabilities=frozenset({"*"})))
SIZE = 4
MOVES = {
    "open": ("blocked", "completed", "cancelled"),
    "blocked": ("open", "cancelled"),
    "completed": ("open",),
    "cancelled": ("open",),
}
index = st.integers(min_value=0, max_value=SIZE - 1)


class BlockerModel(RuleBasedStateMachine):
    system: System

    @initialize()
    def create_tasks(self) -> None:
        self.ids = [self.system.tasks.create(ADMIN, TaskDraft(title=f"t{i}"))[0]["id"] for i in range(SIZE)]
        self.status = ["open"] * SIZE
        self.edges: set[tuple[int, int]] = set()
        self.unblocked = 0  # task.unblocked events the model expects for these tasks
        self.head = spine_head(self.system)

    # -- the model --------------------------------------------------------------------
    def open_blockers(self, task: int) -> int:
        return sum(1 for src, dst in self.edges if dst == task and self.status[src] != "completed")

    def reaches(self, start: int, goal: int) -> bool:
        seen, frontier = {start}, [start]
        while frontier:
            node = frontier.pop()
            for src, dst in self.edges:
                if src == node and dst not in seen:
                    seen.add(dst)
                    frontier.append(dst)
        return goal in seen

    def expect_refusal(self, call: Any, code: str) -> None:
        try:
            call()
        except MissiondError as exc:
            assert exc.code == code, (exc.code, exc.detail)
        else:
            raise AssertionError(f"expected {code}")
        assert spine_head(self.system) == self.head, "a refused step changed nothing"

    def did(self) -> None:
        assert spine_head(self.system) > self.head
        self.head = spine_head(self.system)

    # -- rules ------------------------------------------------------------------------
    @rule(a=index, b=index, named_from_blocker=st.booleans())
    def link(self, a: int, b: int, named_from_blocker: bool) -> None:
        """a blocks b, named as `a blocks b` or `b blocked_by a`."""
        task, kind, other = (a, "blocks", b) if named_from_blocker else (b, "blocked_by", a)

        def call() -> dict[str, Any]:
            return self.system.tasks.link(ADMIN, self.ids[task], kind, self.ids[other], guard=WriteGuard())[0]

        if (a, b) in self.edges:
            assert call()["existed"] is True
            assert spine_head(self.system) == self.head
        elif self.reaches(b, a):  # a task reaches itself: a self-link is a cycle too
            self.expect_refusal(call, "CYCLE_DETECTED")
        else:
            assert call()["existed"] is False
            self.edges.add((a, b))
            self.did()

    @rule(a=index, b=index)
    def unlink(self, a: int, b: int) -> None:
        def call() -> dict[str, Any]:
            return self.system.tasks.link(
                ADMIN, self.ids[a], "blocks", self.ids[b], remove=True, guard=WriteGuard()
            )[0]

        if (a, b) not in self.edges:
            self.expect_refusal(call, "LINK_NOT_FOUND")
            return
        was = self.open_blockers(b)
        call()
        self.edges.discard((a, b))
        if was and self.open_blockers(b) == 0 and self.status[b] == "open":
            self.unblocked += 1
        self.did()

    @rule(task=index, to=st.sampled_from(["open", "blocked", "completed", "cancelled"]))
    def move(self, task: int, to: str) -> None:
        target = to

        def call() -> dict[str, Any]:
            outcome = "done" if target == "completed" else None
            return self.system.tasks.transition(
                ADMIN, self.ids[task], target, outcome=outcome, reason=None, guard=WriteGuard()
            )[0]

        if target not in MOVES[self.status[task]]:
            self.expect_refusal(call, "INVALID_TRANSITION")
            return
        before = {t: self.open_blockers(t) for t in range(SIZE)}
        previous, self.status[task] = self.status[task], target
        call()
        if target == "completed":
            self.unblocked += sum(
                1
                for t in range(SIZE)
                if before[t] and self.open_blockers(t) == 0 and self.status[t] == "open"
            )
        if previous == "blocked" and target == "open" and self.open_blockers(task) == 0:
            self.unblocked += 1
        self.did()

    # -- invariants -------------------------------------------------------------------
    @invariant()
    def the_board_agrees_with_the_model(self) -> None:
        for i, task_id in enumerate(self.ids):
            shown = self.system.tasks.show(ADMIN, task_id)
            blocks = sorted(self.ids[d] for s, d in self.edges if s == i)
            blocked_by = sorted(self.ids[s] for s, d in self.edges if d == i)
            assert shown["status"] == self.status[i]
            assert shown["open_blockers"] == self.open_blockers(i), (i, shown["open_blockers"])
            assert shown["unblocks"] == len(blocks)
            assert shown["ready"] == (self.status[i] == "open" and self.open_blockers(i) == 0)
            assert sorted(shown["relationships"]["blocks"]) == blocks
            assert sorted(shown["relationships"]["blocked_by"]) == blocked_by

    @invariant()
    def each_unblock_is_announced_once(self) -> None:
        mine = {f"task/{task_id}" for task_id in self.ids}
        announced = [e for e in events_after(self.system, 0, "task.unblocked") if e.subject in mine]
        assert len(announced) == self.unblocked


def test_blocker_counts_and_unblock_events_follow_the_model(system: System) -> None:
    machine = type("Blockers", (BlockerModel,), {"system": system})
    run_state_machine_as_test(
        machine,
        settings=settings(
            max_examples=20,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
