"""What every screen shares: the connection bar, the navigation line, the footer, and the
reload loop that keeps a screen current as events arrive.

A screen names the event types it cares about (`TOPICS`). When a batch of events arrives
the app hands it down (`spine_arrived`); a relevant one asks for a reload. Reloads run in a
worker (all IO happens there), one at a time: a request during a reload marks the screen
dirty and one more reload follows, at most every `RELOAD_GAP_S`. So a burst of events costs a
few page fetches, never one per event.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.coordinate import Coordinate
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from missiond.sdk import Event, TransportError
from missiond.tui.messages import Problem
from missiond.tui.widgets import ConnectionBar

if TYPE_CHECKING:
    from missiond.tui.app import MissiondTUI

RELOAD_GAP_S = 0.25

NAV = (
    ("1", "missions", "Missions"),
    ("2", "approvals", "Approvals"),
    ("3", "routines", "Routines"),
    ("4", "tasks", "Tasks"),
    ("5", "resources", "Resources"),
    ("6", "events", "Events"),
    ("7", "signals", "Signals"),
)


def cell(value: Any) -> Any:
    """A table cell: server text is shown as it is, never parsed as markup (`[/]` in a value
    would otherwise be styling, or an error)."""
    return Text(value) if isinstance(value, str) else value


class NavBar(Static):
    """The screens by number; the current one is highlighted; each name is clickable."""

    DEFAULT_CSS = "NavBar { height: 1; padding: 0 1; background: $boost; }"

    def __init__(self, current: str) -> None:
        super().__init__(id="nav")
        self.current = current

    def on_mount(self) -> None:
        parts = []
        for key, mode, title in NAV:
            style = "reverse bold " if mode == self.current else ""
            parts.append(f"[{style}@click=app.go('{mode}')] {key} {title} [/]")
        self.update(" ".join(parts))


class LiveScreen(Screen[None]):
    """A screen that loads through the SDK and reloads when relevant events arrive."""

    MODE: ClassVar[str] = ""
    TOPICS: ClassVar[tuple[str, ...]] = ()

    def __init__(self) -> None:
        super().__init__()
        self.loads = 0  # finished reloads: tests wait on it
        self.pending_focus: str | None = None  # a row key to put the cursor on after the next load
        self._reloading = False
        self._dirty = False

    @property
    def tui(self) -> MissiondTUI:
        return self.app  # type: ignore[return-value]

    def compose(self) -> ComposeResult:
        yield ConnectionBar(id="connection")
        yield NavBar(self.MODE)
        yield from self.compose_body()
        yield Footer(compact=True)

    def compose_body(self) -> ComposeResult:
        """The screen's own widgets, between the bars and the footer (each screen defines it)."""
        raise NotImplementedError(f"{type(self).__name__} must define compose_body")

    # -- keeping current -------------------------------------------------------------

    async def load(self) -> None:
        """Fetch through the SDK and render. Runs in the reload worker (each screen defines it)."""
        raise NotImplementedError(f"{type(self).__name__} must define load")

    def relevant(self, event: Event) -> bool:
        return event.type.startswith(self.TOPICS) if self.TOPICS else False

    def spine_arrived(self, events: list[Event]) -> None:
        """Called by the app with each batch of new events while this screen is shown."""
        if any(self.relevant(e) for e in events):
            self.request_reload()

    def on_screen_resume(self) -> None:
        self.request_reload()

    def request_reload(self) -> None:
        if self._reloading:
            self._dirty = True
            return
        self._reloading = True
        self._reload()

    @work(group="reload")
    async def _reload(self) -> None:
        try:
            await self.load()
            self._apply_focus()
        except TransportError as error:  # the connection bar already says the server is away
            self.post_message(Problem(error, quiet=True))
        except Exception as error:  # every failure becomes a notification, never a traceback
            self.post_message(Problem(error))
        finally:
            self.loads += 1
            self._reloading = False
            if self._dirty:
                self._dirty = False
                self.set_timer(RELOAD_GAP_S, self.request_reload)

    def focus_row(self, key: str) -> None:
        """Put the cursor on the row with `key` once it is loaded (signals lead here)."""
        self.pending_focus = key
        if self.is_mounted:
            self.request_reload()

    def _apply_focus(self) -> None:
        key = self.pending_focus
        if key is None:
            return
        for table in self.query(DataTable):
            if key in table.rows:
                table.move_cursor(row=table.get_row_index(key), animate=False)
                table.focus()
                self.pending_focus = None
                return

    # -- acting --------------------------------------------------------------------

    def call(
        self,
        done: str,
        make: Callable[[], Awaitable[Any]],
        after: Callable[[Any], None] | None = None,
    ) -> None:
        """Run one SDK call in a worker; notify `done` (or the problem), then reload."""
        self._call(done, make, after)

    @work(group="calls")
    async def _call(
        self, done: str, make: Callable[[], Awaitable[Any]], after: Callable[[Any], None] | None
    ) -> None:
        try:
            result = await make()
        except Exception as error:
            self.post_message(Problem(error))
            return
        if done:
            self.notify(done, title="done", severity="information")
        if after is not None:
            after(result)
        self.request_reload()

    # -- helpers ---------------------------------------------------------------------

    @staticmethod
    def selected_key(table: DataTable[Any]) -> str | None:
        """The row key under the cursor, or None for an empty table."""
        if table.row_count == 0:
            return None
        row_key, _ = table.coordinate_to_cell_key(table.cursor_coordinate)
        return None if row_key.value is None else str(row_key.value)

    @staticmethod
    def fill(table: DataTable[Any], rows: list[tuple[str, tuple[Any, ...]]]) -> None:
        """Show `rows`. When the same keys are shown in the same order (a reload of a live
        page, the usual case) only the cells that changed are updated, so the table keeps
        its render caches; otherwise the rows are replaced, keeping the cursor's key."""
        if [str(k.value) for k in table.rows] == [key for key, _ in rows]:
            for index, (key, cells) in enumerate(rows):
                current = table.get_row(key)
                for column, value in enumerate(cells):
                    value = cell(value)
                    if column < len(current) and current[column] != value:
                        table.update_cell_at(Coordinate(index, column), value)
            return
        keep = LiveScreen.selected_key(table)
        table.clear()
        for key, cells in rows:
            table.add_row(*(cell(c) for c in cells), key=key)
        if keep is not None:
            for index, (key, _) in enumerate(rows):
                if key == keep:
                    table.move_cursor(row=index, animate=False)
                    break

    def require(self, value: str | None, what: str) -> str | None:
        if value is None:
            self.notify(f"Select {what} first.", title="nothing selected", severity="warning")
        return value
