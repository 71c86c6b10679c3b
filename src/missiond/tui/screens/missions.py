"""Missions: the list (paged, filtered by status) and one mission's page.

The list shows one page of `GET /v1/missions` at a time (newest first), so a
thousand missions cost the same as fifty. A mission's page shows its work
items by status, and for the highlighted item its attempts, gate results,
feedback and the tail of its test output. Pause, resume and cancel work from
both.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.widgets import DataTable, Static

from missiond.sdk import Event
from missiond.sdk.missions import MISSION_STATUSES, Mission
from missiond.sdk.models import parse_time
from missiond.tui.format import Formatter
from missiond.tui.messages import Problem
from missiond.tui.screens.base import LiveScreen
from missiond.tui.widgets import ReasonModal

PAGE_SIZE = 50
MISSION_TOPICS = ("mission.", "work.", "review.", "test.", "artifact.")
LANES = ("todo", "blocked", "ready", "in_progress", "review", "test", "rework", "done", "failed", "cancelled")
ALWAYS_SHOWN = ("ready", "in_progress", "review", "test", "rework", "done", "failed")
TAIL_LINES = 12
STATUS_STYLE = {
    "running": "bold green",
    "paused": "yellow",
    "halted": "bold red",
    "failed": "bold red",
    "succeeded": "green",
    "cancelled": "dim",
    "draft": "cyan",
    "done": "green",
    "rework": "yellow",
    "review": "magenta",
    "test": "blue",
    "in_progress": "bold",
}


def status_text(status: str) -> Text:
    return Text(status, style=STATUS_STYLE.get(status, ""))


def progress_text(progress: Mapping[str, Any], width: int = 10) -> Text:
    total = int(progress.get("total") or 0)
    done = int(progress.get("done") or 0)
    filled = round(width * done / total) if total else 0
    return Text.assemble(("█" * filled, "green"), ("░" * (width - filled), "dim"), f" {done}/{total}")


class MissionActions:
    """Pause, resume and cancel, shared by the list and the mission page."""

    def mission_action(self: Any, mission_id: str | None, action: str) -> None:
        if mission_id is None:
            self.require(None, "a mission")
            return
        client = self.tui.client
        if action == "cancel":

            def cancel(reason: str | None) -> None:
                if reason is None:
                    return
                self.call(
                    f"Cancelled {mission_id}",
                    lambda: client.mission_action(mission_id, "cancel", reason or None),
                )

            self.app.push_screen(
                ReasonModal(f"Cancel mission {mission_id}? Reason (optional):", required=False), cancel
            )
            return
        past = {"pause": "Paused", "resume": "Resumed", "start": "Started"}[action]
        self.call(f"{past} {mission_id}", lambda: client.mission_action(mission_id, action))


class MissionsScreen(MissionActions, LiveScreen):
    MODE = "missions"
    TOPICS = MISSION_TOPICS
    BINDINGS: ClassVar = [
        Binding("o", "open", "Open"),
        Binding("s", "start", "Start"),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("c", "cancel", "Cancel"),
        Binding("f", "filter", "Filter"),
        Binding("right_square_bracket", "next_page", "Next page"),
        Binding("left_square_bracket", "prev_page", "Prev page"),
    ]
    DEFAULT_CSS = """
    MissionsScreen #summary { height: 1; padding: 0 1; color: $text-muted; }
    MissionsScreen DataTable { height: 1fr; }
    """

    def __init__(self) -> None:
        super().__init__()
        self.status_filter: str | None = None
        self.cursors: list[str | None] = [None]  # the cursor of each page seen, page i at [i]
        self.next_cursor: str | None = None
        self.missions: list[Mission] = []

    def compose_body(self) -> ComposeResult:
        yield Static("", id="summary", markup=False)
        table: DataTable[Any] = DataTable(id="missions", cursor_type="row", zebra_stripes=True)
        table.add_columns("id", "title", "status", "progress", "updated")
        yield table

    async def load(self) -> None:
        page = await self.tui.client.list_missions(
            self.status_filter, after=self.cursors[-1], limit=PAGE_SIZE
        )
        self.missions = list(page.items)
        self.next_cursor = page.next_cursor
        fmt = self.tui.formatter
        rows = [
            (
                m.id,
                (
                    fmt.id(m.id),
                    m.title,
                    status_text(m.status),
                    progress_text(m.progress),
                    fmt.time(parse_time(m.raw["updated_at"]) if m.raw.get("updated_at") else None),
                ),
            )
            for m in self.missions
        ]
        self.fill(self.query_one("#missions", DataTable), rows)
        counts = " ".join(f"{s} {page.counts[s]}" for s in MISSION_STATUSES if page.counts.get(s))
        total = page.counts.get(self.status_filter, 0) if self.status_filter else sum(page.counts.values())
        first = (len(self.cursors) - 1) * PAGE_SIZE
        shown = f"{first + 1}-{first + len(rows)}" if rows else "none"
        self.query_one("#summary", Static).update(
            f"filter: {self.status_filter or 'all'}  │  page {len(self.cursors)} ({shown} of {total})"
            f"  │  {counts or 'no missions yet'}",
            layout=False,
        )

    # -- actions -----------------------------------------------------------------------

    @property
    def selected(self) -> str | None:
        return self.selected_key(self.query_one("#missions", DataTable))

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.app.push_screen(MissionDetailScreen(str(event.row_key.value)))

    def action_open(self) -> None:
        mission_id = self.require(self.selected, "a mission")
        if mission_id is not None:
            self.app.push_screen(MissionDetailScreen(mission_id))

    def action_start(self) -> None:
        self.mission_action(self.selected, "start")

    def action_pause(self) -> None:
        self.mission_action(self.selected, "pause")

    def action_resume(self) -> None:
        self.mission_action(self.selected, "resume")

    def action_cancel(self) -> None:
        self.mission_action(self.selected, "cancel")

    def action_filter(self) -> None:
        """Cycle the status filter: all, then each mission status."""
        order: list[str | None] = [None, *MISSION_STATUSES]
        self.status_filter = order[(order.index(self.status_filter) + 1) % len(order)]
        self.cursors = [None]
        self.request_reload()

    def action_next_page(self) -> None:
        if self.next_cursor:
            self.cursors.append(self.next_cursor)
            self.request_reload()

    def action_prev_page(self) -> None:
        if len(self.cursors) > 1:
            self.cursors.pop()
            self.request_reload()


class MissionDetailScreen(MissionActions, LiveScreen):
    """One mission: items by status, and the highlighted item's attempts, gates and feedback."""

    MODE = "missions"
    BINDINGS: ClassVar = [
        Binding("escape", "back", "Back"),
        Binding("s", "start", "Start"),
        Binding("p", "pause", "Pause"),
        Binding("r", "resume", "Resume"),
        Binding("c", "cancel", "Cancel"),
        Binding("a", "approve_review", "Approve review"),
        Binding("d", "request_changes", "Request changes"),
    ]
    DEFAULT_CSS = """
    MissionDetailScreen #header { height: auto; padding: 0 1; }
    MissionDetailScreen #lanes { height: auto; padding: 0 1; }
    MissionDetailScreen #body { height: 1fr; }
    MissionDetailScreen #items { width: 46; height: 1fr; }
    MissionDetailScreen #item-pane { width: 1fr; height: 1fr; padding: 0 1; border-left: solid $primary; }
    """

    def __init__(self, mission_id: str) -> None:
        super().__init__()
        self.mission_id = mission_id
        self.mission: Mission | None = None

    def compose_body(self) -> ComposeResult:
        yield Static("", id="header", markup=False)
        yield Static("", id="lanes", markup=False)
        with Horizontal(id="body"):
            table: DataTable[Any] = DataTable(id="items", cursor_type="row")
            table.add_columns("item", "status", "tries", "reworks")
            yield table
            with VerticalScroll(id="item-pane"):
                yield Static("", id="item", markup=False)

    def relevant(self, event: Event) -> bool:
        return event.subject == f"mission/{self.mission_id}" or (
            event.data.get("mission_id") == self.mission_id if isinstance(event.data, Mapping) else False
        )

    async def load(self) -> None:
        mission = await self.tui.client.get_mission(self.mission_id)
        self.mission = mission
        self.query_one("#header", Static).update(self._header(mission))
        self.query_one("#lanes", Static).update(self._lanes(mission))
        order = {status: i for i, status in enumerate(LANES)}
        items = sorted(mission.items, key=lambda i: (order.get(str(i.get("status")), 99), str(i.get("id"))))
        rows = [
            (
                str(item["id"]),
                (
                    str(item["id"]),
                    status_text(str(item.get("status", ""))),
                    str(len(item.get("attempts") or ())),
                    str(item.get("reworks", 0)),
                ),
            )
            for item in items
        ]
        table = self.query_one("#items", DataTable)
        self.fill(table, rows)
        self._show_item(self.selected_key(table))

    def _header(self, mission: Mission) -> Text:
        fmt = self.tui.formatter
        text = Text.assemble(
            (mission.title, "bold"),
            "  ",
            (fmt.id(mission.id), "dim"),
            "  ",
            status_text(mission.status),
            "  ",
            progress_text(mission.progress, 20),
        )
        if mission.reason:
            text.append(f"\nreason: {self.tui.formatter.text(mission.reason)}", style="red")
        goal = (
            mission.raw.get("spec", {}).get("goal") if isinstance(mission.raw.get("spec"), Mapping) else None
        )
        if goal:
            text.append(f"\ngoal: {goal}", style="dim")
        return text

    def _lanes(self, mission: Mission) -> Text:
        by_lane: dict[str, list[str]] = {}
        for item in mission.items:
            by_lane.setdefault(str(item.get("status")), []).append(str(item.get("id")))
        text = Text()
        for lane in LANES:
            ids = by_lane.get(lane, [])
            if not ids and lane not in ALWAYS_SHOWN:
                continue
            if text:
                text.append(" │ ", style="dim")
            text.append(f"{lane.replace('_', ' ')} {len(ids)}", style=STATUS_STYLE.get(lane, "bold"))
            if ids:
                shown = ", ".join(ids[:4]) + (f" +{len(ids) - 4}" if len(ids) > 4 else "")
                text.append(f": {shown}")
        return text

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_item(None if event.row_key.value is None else str(event.row_key.value))

    def _show_item(self, item_id: str | None) -> None:
        pane = self.query_one("#item", Static)
        item = self.mission.item(item_id) if self.mission and item_id else None
        pane.update(item_text(item, self.tui.formatter) if item else Text("No work items yet.", style="dim"))

    def action_back(self) -> None:
        self.app.pop_screen()

    def action_start(self) -> None:
        self.mission_action(self.mission_id, "start")

    def action_pause(self) -> None:
        self.mission_action(self.mission_id, "pause")

    def action_approve_review(self) -> None:
        self._decide_review(approve=True)

    def action_request_changes(self) -> None:
        self._decide_review(approve=False)

    def _decide_review(self, *, approve: bool) -> None:
        """Decide the human review waiting on the highlighted item (or the only one waiting)."""
        item_id = self.selected_key(self.query_one("#items", DataTable))
        self._find_review(item_id, approve)

    @work(group="calls")
    async def _find_review(self, item_id: str | None, approve: bool) -> None:
        client = self.tui.client
        try:
            pending = [
                a
                for a in await client.list_approvals("pending", limit=200)
                if a.kind == "mission.review" and a.payload.get("mission_id") == self.mission_id
            ]
        except Exception as error:
            self.post_message(Problem(error))
            return
        mine = [a for a in pending if a.payload.get("item_id") == item_id] or (
            pending if len(pending) == 1 else []
        )
        if not mine:
            self.notify(
                "No human review is waiting on this item.", title="nothing to review", severity="warning"
            )
            return
        approval = mine[0]
        item = approval.payload.get("item_id")

        def decided(reason: str | None) -> None:
            if reason is None:
                return
            if approve:
                self.call(f"Approved review of {item}", lambda: client.approve(approval.id, reason or None))
            elif reason:
                self.call(f"Requested changes on {item}", lambda: client.deny(approval.id, reason))

        prompt = (
            ReasonModal(f"Approve the review of {item}? Reason (optional):", required=False)
            if approve
            else ReasonModal(f"Request changes on {item}: what should change? (required)", required=True)
        )
        self.app.push_screen(prompt, decided)

    def action_resume(self) -> None:
        self.mission_action(self.mission_id, "resume")

    def action_cancel(self) -> None:
        self.mission_action(self.mission_id, "cancel")


def item_text(item: Mapping[str, Any], fmt: Formatter) -> Text:
    """An item's attempts, gate results, feedback and the tail of its latest test output."""
    text = Text.assemble(
        (str(item.get("id")), "bold"),
        " — ",
        str(item.get("title", "")),
        "  ",
        status_text(str(item.get("status", ""))),
        f"  reworks {item.get('reworks', 0)}",
    )
    if item.get("depends_on"):
        text.append(f"\ndepends on: {', '.join(item['depends_on'])}", style="dim")
    if item.get("reason"):
        text.append(f"\nreason: {item['reason']}", style="red")
    attempts = list(item.get("attempts") or ())
    text.append("\n\nAttempts\n", style="bold underline")
    if not attempts:
        text.append("  none yet\n", style="dim")
    for attempt in attempts:
        text.append_text(_attempt_line(attempt, fmt))
    feedback = list(item.get("feedback") or ())
    text.append("\nFeedback\n", style="bold underline")
    if not feedback:
        text.append("  none\n", style="dim")
    for entry in feedback:
        text.append("  • " + str(entry).rstrip("\n").replace("\n", "\n    ") + "\n")
    tail_attempt = next((a for a in reversed(attempts) if a.get("test_tail")), None)
    if tail_attempt is not None:
        lines = str(tail_attempt["test_tail"]).rstrip("\n").splitlines()[-TAIL_LINES:]
        text.append(
            f"\nTest output (attempt {tail_attempt.get('n')}, last {len(lines)} lines)\n",
            style="bold underline",
        )
        for line in lines:
            text.append(f"  {line}\n", style="dim")
    return text


def _attempt_line(attempt: Mapping[str, Any], fmt: Formatter) -> Text:
    run_ok = attempt.get("run_ok")
    run = "running" if run_ok is None else "run ok" if run_ok else "run failed"
    review = attempt.get("review") or ("requested" if attempt.get("review_requested") else "-")
    reviewer = f" by {attempt['reviewer']}" if attempt.get("reviewer") else ""
    test = attempt.get("test") or ("running" if attempt.get("test_started") else "-")
    exit_code = f" (exit {attempt['exit_code']})" if attempt.get("exit_code") is not None else ""
    style = {"passed": "green", "failed": "red"}.get(str(attempt.get("test")), "")
    line = Text(f"  #{attempt.get('n')} {attempt.get('role', '')}  {run}  review {review}{reviewer}  ")
    line.append(f"test {test}{exit_code}", style=style)
    if attempt.get("summary"):
        line.append(f"\n     {attempt['summary']}", style="dim")
    if attempt.get("review_feedback"):
        line.append(f"\n     feedback: {attempt['review_feedback']}", style="yellow")
    for path in attempt.get("artifacts") or ():
        line.append(f"\n     artifact: {fmt.text(str(path))}", style="dim")
    line.append("\n")
    return line
