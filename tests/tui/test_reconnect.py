"""The connection state is always visible, and after the server restarts the TUI resumes the
spine from its last seq: no gap, no repeat."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from missiond.sdk import Client
from missiond.tui import MissiondTUI
from missiond.tui.live import LinkState

from .harness import screen_text, start_server, wait_for

pytestmark = pytest.mark.anyio


@pytest.fixture
def own_server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    home = tmp_path / "home"
    home.mkdir()
    srv = start_server(request.config, home)
    yield srv
    srv.stop()


async def test_restart_shows_reconnecting_then_resumes_without_gap_or_repeat(own_server: Any) -> None:
    token = own_server.token
    app = MissiondTUI(own_server.url, token)
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.link.state is LinkState.LIVE, what="live")
        assert "● live" in screen_text(app, "#connection")
        with Client(own_server.url, token) as sdk:
            before = [sdk.ingest_event("tuirestart.before", "repo/r", {"i": i}) for i in range(5)]
        await wait_for(pilot, lambda: app.last_seq == before[-1].seq, what="events before the restart")

        own_server.stop()
        await wait_for(pilot, lambda: app.link.state is LinkState.RECONNECTING, what="reconnecting shown")
        assert "reconnecting" in screen_text(app, "#connection")

        own_server.start()
        with Client(own_server.url, token) as sdk:
            # written right after the restart, before the TUI is back: it must still get them
            after = [sdk.ingest_event("tuirestart.after", "repo/r", {"i": i}) for i in range(5)]
        await wait_for(pilot, lambda: app.last_seq == after[-1].seq, timeout=30, what="events after")
        await wait_for(pilot, lambda: app.link.state is LinkState.LIVE, what="live again")

        seqs = [e.seq for e in app.events]
        assert seqs == list(range(seqs[0], seqs[-1] + 1))  # no gap, no repeat
        mine = [e.data["i"] for e in app.events if e.type.startswith("tuirestart.")]
        assert mine == [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]


async def test_an_unknown_token_is_shown_as_refused_with_the_problem_message(own_server: Any) -> None:
    app = MissiondTUI(own_server.url, "not-a-token")
    states: list[LinkState] = []
    keep = app._on_link
    app._on_link = lambda link: (states.append(link.state), keep(link))[-1]  # type: ignore[method-assign]
    async with app.run_test(size=(120, 36)) as pilot:
        await wait_for(pilot, lambda: app.link.state is LinkState.REFUSED, what="refused")
        assert LinkState.LIVE not in states  # never claimed to be live with a refused token
        assert "token refused" in screen_text(app, "#connection")
        notice = await wait_for(
            pilot, lambda: next((n for n in app.notices if n.title == "UNAUTHORIZED"), None), what="notice"
        )
        assert notice.severity == "error" and notice.message and "Traceback" not in notice.message
