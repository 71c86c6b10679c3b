"""Atomic batches: a plan created in one go, all or nothing.

Ops may give a `ref`; later ops name that task as `$ref`. Any failing op
fails the batch, names the op's index, and nothing is written.
"""

from __future__ import annotations

from typing import Any

from missiond.errors import MissiondError, ValidationFailed
from missiond.services.context import RequestContext
from missiond.services.mutations import Mutation
from missiond.services.task_model import note_to_wire, step_to_wire
from missiond.services.tasks import TaskBoard, TaskDraft
from missiond.storage.uow import Store, UnitOfWork

MAX_OPS = 1000


class BatchService:
    def __init__(self, store: Store) -> None:
        self._mutation = Mutation(store)

    def run(self, ctx: RequestContext, ops: list[dict[str, Any]]) -> tuple[dict[str, Any], bool]:
        ctx.principal.require("tasks:write")
        if not 1 <= len(ops) <= MAX_OPS:
            raise ValidationFailed.field("body.ops", f"must hold 1 to {MAX_OPS} ops")

        def change(uow: UnitOfWork) -> dict[str, Any]:
            board = TaskBoard(uow)
            refs: dict[str, str] = {}
            results: list[dict[str, Any]] = []

            def resolve(value: str, where: str) -> str:
                if value.startswith("$"):
                    if value[1:] not in refs:
                        raise ValidationFailed.field(
                            where, f"unknown ref {value!r} (refs must be defined earlier)"
                        )
                    return refs[value[1:]]
                return value

            for i, op in enumerate(ops):
                where = f"body.ops.{i}"
                try:
                    results.append(self._apply(board, op, where, refs, resolve))
                except MissiondError as exc:
                    exc.extra.setdefault("op_index", i)
                    raise
            return {"refs": refs, "results": results}

        return self._mutation.run(ctx, change)

    def _apply(
        self, board: TaskBoard, op: dict[str, Any], where: str, refs: dict[str, str], resolve: Any
    ) -> dict[str, Any]:
        kind = op["op"]
        if kind == "create_task":
            fields = dict(op["task"])
            if fields.get("parent_id"):
                fields["parent_id"] = resolve(fields["parent_id"], f"{where}.task.parent_id")
            fields["labels"] = tuple(fields.get("labels") or ())
            task = board.create(TaskDraft(**fields))
            ref = op.get("ref")
            if ref:
                if ref in refs:
                    raise ValidationFailed.field(f"{where}.ref", f"ref {ref!r} is used twice")
                refs[ref] = task.id
            return {"op": kind, "ref": ref, "id": task.id}
        task = board.load(resolve(op["task"], f"{where}.task"))
        if kind == "link":
            other = resolve(op["other"], f"{where}.other")
            return {"op": kind, **board.link(task, op["kind"], other)}
        if kind == "note":
            note = board.add_note(task, op["kind"], op["body"], op.get("supersedes"))
            return {"op": kind, "note": note_to_wire(note)}
        if kind == "step":
            return {"op": kind, "step": step_to_wire(board.add_step(task, op["title"]))}
        raise ValidationFailed.field(f"{where}.op", "must be create_task, link, note or step")
