"""The Textual app: `missiond tui`.

The app owns the one `AsyncClient`, the live link (one SSE stream of the spine, see
`live.py`) and what every screen shares: the link state, the last seq, the events seen, and
the signals count. It hands state down (attributes and method calls on the current screen);
screens and widgets send nothing up but messages. All IO runs in workers.

New events are collected as they arrive and handed to the current screen in batches every
`flush_s` (0.1 s), so a stream of 100 events/s costs ten small updates a second.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from datetime import UTC, datetime
from functools import partial
from time import perf_counter
from typing import ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.reactive import reactive
from textual.screen import Screen

from missiond.sdk import AsyncClient, Event
from missiond.tui import signals as _signals
from missiond.tui.format import Formatter
from missiond.tui.live import EventLog, Link, LinkState, follow_spine
from missiond.tui.messages import GoTo, Problem, SignalsCounted
from missiond.tui.problems import Notice, describe
from missiond.tui.screens.approvals import ApprovalsScreen
from missiond.tui.screens.base import NAV, RELOAD_GAP_S, LiveScreen
from missiond.tui.screens.events import EventsScreen
from missiond.tui.screens.missions import MissionsScreen
from missiond.tui.screens.resources import ResourcesScreen
from missiond.tui.screens.routines import RoutinesScreen
from missiond.tui.screens.signals import SignalsScreen
from missiond.tui.screens.tasks import TasksScreen

SCREENS_GROUP = Binding.Group("screens", compact=True)
BACKFILL = 200


class MissiondTUI(App[None]):
    """The terminal twin of the web dashboard."""

    TITLE = "missiond"
    MODES: ClassVar = {
        "missions": MissionsScreen,
        "approvals": ApprovalsScreen,
        "routines": RoutinesScreen,
        "tasks": TasksScreen,
        "resources": ResourcesScreen,
        "events": EventsScreen,
        "signals": SignalsScreen,
    }
    SIGNALS_POLL_S = 30.0  # besides every relevant event: leases age out of the window
    DEFAULT_MODE = "missions"
    BINDINGS: ClassVar = [
        Binding("q", "quit", "Quit"),
        *(Binding(key, f"go('{mode}')", title, group=SCREENS_GROUP) for key, mode, title in NAV),
    ]

    link: reactive[Link] = reactive(Link(LinkState.CONNECTING, ""), always_update=True)
    last_seq: reactive[int | None] = reactive(None)
    signal_count: reactive[int] = reactive(0)

    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        client: AsyncClient | None = None,
        formatter: Formatter | None = None,
        flush_s: float = 0.1,
        start: str = "missions",
    ) -> None:
        super().__init__()
        self.client = client or AsyncClient(base_url, token, retries=1)
        self.formatter = formatter or Formatter()
        self.flush_s = flush_s
        self.start = start
        self.events = EventLog()
        self.notices: list[Notice] = []
        self.flush_ms: deque[float] = deque(maxlen=10_000)  # how long each batch took to apply
        self._pending: list[Event] = []
        self.signals: list[_signals.Signal] = []
        self._signals_busy = False
        self._signals_dirty = False
        self.set_reactive(MissiondTUI.link, Link(LinkState.CONNECTING, self.client.base_url))

    # -- lifecycle ---------------------------------------------------------------------

    def on_mount(self) -> None:
        self.set_interval(self.flush_s, self._deliver)
        self.set_interval(self.SIGNALS_POLL_S, self.request_signals)
        self._follow()
        self.request_signals()
        if self.start != self.DEFAULT_MODE:
            self.switch_mode(self.start)

    async def on_unmount(self) -> None:
        await self.client.aclose()

    @work(group="spine", exclusive=True)
    async def _follow(self) -> None:
        """Backfill the last events for the feed, then follow the spine for good."""
        try:
            head = (await self.client.health()).head_seq or 0
            page = await self.client.query_events(after=max(0, head - BACKFILL), limit=BACKFILL)
            self.events.extend(page.events)
            self.last_seq = self.events.last_seq
        except Exception as error:  # the link loop below reports the state and retries
            self.report(error, quiet=True)
        await follow_spine(
            self.client, self._on_link, self._on_event, self._on_relist, after=self.events.last_seq
        )

    def _on_event(self, event: Event) -> None:
        self._pending.append(event)

    def _on_link(self, link: Link) -> None:
        self.link = link

    def _on_relist(self) -> None:
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.request_reload()
        self.request_signals()

    def _deliver(self) -> None:
        if not self._pending:
            return
        started = perf_counter()
        batch, self._pending = self._pending, []
        self.events.extend(batch)
        self.last_seq = batch[-1].seq
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.spine_arrived(batch)
        if any(_signals.relevant(e) for e in batch):
            self.request_signals()
        self.flush_ms.append((perf_counter() - started) * 1000)

    # -- signals -------------------------------------------------------------------------

    def request_signals(self) -> None:
        """Recount what needs a person (one request at a time, coalescing bursts)."""
        if self._signals_busy:
            self._signals_dirty = True
            return
        self._signals_busy = True
        self._signals_worker()

    @work(group="signals")
    async def _signals_worker(self) -> None:
        try:
            await self.refresh_signals()
        except Exception as error:
            self.report(error, quiet=True)  # the link state already tells the server is away
        finally:
            self._signals_busy = False
            if self._signals_dirty:
                self._signals_dirty = False
                self.set_timer(RELOAD_GAP_S, self.request_signals)

    async def refresh_signals(self) -> list[_signals.Signal]:
        self._keep_signals(await _signals.collect(self.client, datetime.now(UTC)))
        return self.signals

    def _keep_signals(self, signals: list[_signals.Signal]) -> None:
        self.signals = signals
        self.signal_count = len(signals)

    def on_signals_counted(self, message: SignalsCounted) -> None:
        self._keep_signals(message.signals)

    # -- navigation and the command palette ------------------------------------------------

    def action_go(self, mode: str) -> None:
        if mode in self.MODES and self.current_mode != mode:
            self.switch_mode(mode)

    def on_go_to(self, message: GoTo) -> None:
        self.focus_on(message.mode, message.key)

    def focus_on(self, mode: str, key: str) -> None:
        """Show `mode`'s screen with the cursor on the row `key`."""
        self.action_go(mode)
        screen = self.screen
        if isinstance(screen, LiveScreen):
            screen.focus_row(key)

    def get_system_commands(self, screen: Screen[object]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        for key, mode, title in NAV:
            if mode in self.MODES:
                yield SystemCommand(f"Go to {title}", f"key {key}", partial(self.action_go, mode))
        where = type(screen).__name__.removesuffix("Screen")
        for binding in getattr(screen, "BINDINGS", ()):
            if isinstance(binding, Binding) and binding.show:
                key = self.get_key_display(binding)
                yield SystemCommand(
                    f"{where}: {binding.description}",
                    f"key {key}",
                    partial(screen.run_action, binding.action),
                )

    # -- notifications -------------------------------------------------------------------

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: str = "information",
        timeout: float | None = None,
        markup: bool = False,
    ) -> None:
        """Every notification is also kept in `notices` (tests read them back). Never markup:
        the messages carry the server's text."""
        self.notices.append(Notice(severity, title, message))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]

    def on_problem(self, message: Problem) -> None:
        self.report(message.error, quiet=message.quiet)

    def report(self, error: BaseException, *, quiet: bool = False) -> None:
        """Show an error as a notification with the problem's message (never a traceback)."""
        notice = describe(error)
        if quiet:
            self.notices.append(notice)
            return
        self.notify(notice.message, title=notice.title, severity=notice.severity, timeout=8)
