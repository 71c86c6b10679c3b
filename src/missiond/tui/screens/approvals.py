"""Approvals: the pending queue with its context; approve (reason optional) or deny (reason
required). `s` shows decided ones too."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from missiond.sdk import Approval
from missiond.tui.screens.base import LiveScreen
from missiond.tui.widgets import ReasonModal

LIMIT = 200


class ApprovalsScreen(LiveScreen):
    MODE = "approvals"
    TOPICS = ("approval.", "review.requested", "routine.approval_required")
    BINDINGS: ClassVar = [
        Binding("a", "approve", "Approve"),
        Binding("d", "deny", "Deny"),
        Binding("s", "toggle_status", "Pending/all"),
    ]
    DEFAULT_CSS = """
    ApprovalsScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    ApprovalsScreen #approvals { height: 1fr; }
    ApprovalsScreen #context { height: 9; padding: 0 1; border-top: solid $primary; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.show_all = False
        self.approvals: dict[str, Approval] = {}

    def compose_body(self) -> ComposeResult:
        yield Static("", id="summary", markup=False)
        table: DataTable[Any] = DataTable(id="approvals", cursor_type="row", zebra_stripes=True)
        table.add_columns("id", "kind", "subject", "summary", "status", "requested")
        yield table
        with Vertical(id="context"):
            yield Static("", id="approval", markup=False)

    async def load(self) -> None:
        status = "any" if self.show_all else "pending"
        approvals = await self.tui.client.list_approvals(status, limit=LIMIT)
        self.approvals = {a.id: a for a in approvals}
        fmt = self.tui.formatter
        rows = [
            (
                a.id,
                (
                    fmt.id(a.id),
                    a.kind,
                    fmt.text(a.subject),
                    fmt.text(a.summary),
                    a.status,
                    fmt.time(a.created_at),
                ),
            )
            for a in approvals
        ]
        table = self.query_one("#approvals", DataTable)
        self.fill(table, rows)
        pending = sum(1 for a in approvals if a.status == "pending")
        self.query_one("#summary", Static).update(
            f"showing: {'all' if self.show_all else 'pending'}  │  {pending} pending"
            + (f" of {len(approvals)}" if self.show_all else ""),
            layout=False,
        )
        self._show(self.selected_key(table))

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show(None if event.row_key.value is None else str(event.row_key.value))

    def _show(self, approval_id: str | None) -> None:
        approval = self.approvals.get(approval_id or "")
        pane = self.query_one("#approval", Static)
        if approval is None:
            pane.update(Text("Nothing is waiting for a decision.", style="dim"))
            return
        fmt = self.tui.formatter
        text = Text.assemble((fmt.text(approval.summary), "bold"), "\n")
        asked = fmt.text(f"{approval.kind} on {approval.subject}, asked by {approval.requester or '-'}")
        text.append(asked + "\n")
        text.append(f"expires {fmt.when(approval.expires_at)}\n", style="dim")
        if approval.status != "pending":
            text.append(
                fmt.text(f"{approval.status} by {approval.decider or '-'}: {approval.reason or ''}\n")
            )
        text.append(f"payload {fmt.json(dict(approval.payload), 100)}", style="dim")
        pane.update(text)

    # -- actions -----------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        return self.selected_key(self.query_one("#approvals", DataTable))

    def action_approve(self) -> None:
        approval_id = self.require(self.selected, "an approval")
        if approval_id is None:
            return
        client = self.tui.client

        def decided(reason: str | None) -> None:
            if reason is not None:
                self.call(f"Approved {approval_id}", lambda: client.approve(approval_id, reason or None))

        self.app.push_screen(
            ReasonModal(f"Approve {approval_id}? Reason (optional):", required=False), decided
        )

    def action_deny(self) -> None:
        approval_id = self.require(self.selected, "an approval")
        if approval_id is None:
            return
        client = self.tui.client

        def decided(reason: str | None) -> None:
            if reason:
                self.call(f"Denied {approval_id}", lambda: client.deny(approval_id, reason))

        self.app.push_screen(ReasonModal(f"Deny {approval_id}? Reason (required):", required=True), decided)

    def action_toggle_status(self) -> None:
        self.show_all = not self.show_all
        self.request_reload()
