"""The events feed: live, filtered by type and subject prefix, frozen and followed again."""

from __future__ import annotations

from typing import Any

import pytest
from textual.widgets import Input

from missiond.sdk import Client

from .harness import screen_text, show, wait_for

pytestmark = pytest.mark.anyio


def _rows(app: Any) -> list[list[str]]:
    return [line.split(maxsplit=5) for line in app.screen.lines]


def _types(app: Any) -> list[str]:
    return [r[2] for r in _rows(app)]


async def test_the_feed_shows_new_events_live_and_filters_them(sdk: Client, make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "6")
        sent = [
            sdk.ingest_event("tuifeed.build.started", "repo/alpha", {"n": 1}),
            sdk.ingest_event("tuifeed.build.finished", "repo/alpha", {"n": 2}),
            sdk.ingest_event("tuifeed.deploy.started", "repo/beta", {"n": 3}),
        ]
        await wait_for(pilot, lambda: _types(app)[-3:] == [e.type for e in sent], what="live rows")
        last = _rows(app)[-1]
        assert last[0] == str(sent[-1].seq) and last[3] == "repo/beta" and last[4] == "user:admin"
        assert last[5] == '{"n":3}'

        await pilot.press("t")
        app.screen.query_one("#type-filter", Input).value = "tuifeed.build."
        await wait_for(
            pilot,
            lambda: _types(app) == ["tuifeed.build.started", "tuifeed.build.finished"],
            what="type filter",
        )
        app.screen.query_one("#subject-filter", Input).value = "repo/beta"
        await wait_for(pilot, lambda: _types(app) == [], what="both filters")
        app.screen.query_one("#type-filter", Input).value = "tuifeed."
        await wait_for(pilot, lambda: _types(app) == ["tuifeed.deploy.started"], what="subject filter")

        sdk.ingest_event("tuifeed.deploy.finished", "repo/beta")
        sdk.ingest_event("tuifeed.deploy.finished", "repo/alpha")  # filtered out
        await wait_for(
            pilot,
            lambda: _types(app) == ["tuifeed.deploy.started", "tuifeed.deploy.finished"],
            what="live rows through the filters",
        )
        assert "type tuifeed.  subject repo/beta" in screen_text(app, "#summary")


async def test_freeze_holds_the_feed_and_follow_catches_up(sdk: Client, make_app: Any) -> None:
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "6")
        app.screen.query_one("#type-filter", Input).value = "tuifreeze."
        await pilot.pause(0.3)
        app.screen.query_one("#events").focus()
        await pilot.press("space")
        assert "frozen" in screen_text(app, "#summary")
        sdk.ingest_event("tuifreeze.one", "repo/x")
        await wait_for(pilot, lambda: any(e.type == "tuifreeze.one" for e in app.events), what="received")
        await pilot.pause(0.3)
        assert _types(app) == []  # held while frozen
        await pilot.press("space")
        await wait_for(pilot, lambda: _types(app) == ["tuifreeze.one"], what="caught up")

        await pilot.press("ctrl+l")  # clear the filters: everything received shows again
        await wait_for(pilot, lambda: len(set(_types(app))) > 1, what="unfiltered feed")
        assert app.screen.query_one("#type-filter", Input).value == ""


async def test_server_text_that_looks_like_markup_is_shown_as_it_is(sdk: Client, make_app: Any) -> None:
    task = sdk.create_task("[/] odd [bold]title", role="tui-markup")
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "6")
        sdk.ingest_event("tuimarkup.seen", "repo/[red]x", {"s": "[/]"})
        await wait_for(pilot, lambda: "tuimarkup.seen" in _types(app), what="the odd event")
        row = next(r for r in _rows(app) if r[2] == "tuimarkup.seen")
        assert row[3] == "repo/[red]x" and row[5] == '{"s":"[/]"}'
        await show(pilot, app, "4")
        from .harness import table_rows

        rows = {r[0]: r for r in table_rows(app, "#ready")}
        assert rows[task.id][1] == "[/] odd [bold]title"
        assert not [n for n in app.notices if n.severity == "error"]


async def test_the_envelope_of_an_event_is_shown_whole(sdk: Client, make_app: Any) -> None:
    first = sdk.ingest_event("tuienvelope.first", "repo/env", {"k": "v"})
    app = make_app()
    async with app.run_test(size=(120, 36)) as pilot:
        await show(pilot, app, "6")
        app.screen.query_one("#type-filter", Input).value = "tuienvelope."
        last = sdk.ingest_event("tuienvelope.last", "repo/env", {"n": 2})
        await wait_for(pilot, lambda: "tuienvelope.last" in _types(app), what="the event in the feed")
        app.screen.query_one("#events").focus()
        await pilot.press("e")
        await wait_for(pilot, lambda: f'"seq": {last.seq}' in screen_text(app, "#envelope"), what="envelope")
        envelope = screen_text(app, "#envelope")
        assert '"type": "tuienvelope.last"' in envelope and '"correlation_id"' in envelope
        assert '"n": 2' in envelope

        app.screen.query_one("#seq", Input).value = str(first.seq)
        await pilot.press("enter")
        await wait_for(pilot, lambda: '"tuienvelope.first"' in screen_text(app, "#envelope"), what="by seq")
        app.screen.query_one("#seq", Input).value = "99999999"
        await pilot.press("enter")
        await wait_for(
            pilot, lambda: "no event with seq 99999999" in screen_text(app, "#envelope"), what="none"
        )
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen.query("#events"), what="back on the feed")
