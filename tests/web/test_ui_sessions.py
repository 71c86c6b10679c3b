"""Login codes and browser sessions on both backends, with a clock the test moves (no browser)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlmodel import select

from missiond.bootstrap import System, build
from missiond.cli.ui import can_open_browser
from missiond.core.events import EventFilter
from missiond.errors import Forbidden, Unauthorized
from missiond.services.context import Principal, RequestContext
from missiond.services.ui_sessions import (
    CODE_TTL_S,
    SESSION_TTL_S,
    UiSessionService,
    csrf_matches,
    csrf_token,
)
from missiond.settings import Settings
from missiond.storage.tables import UiSessionRow


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 21, 18, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def system(tmp_path: Path, database_url: str, clock: Clock) -> Iterator[System]:
    built = build(Settings.from_env(home=tmp_path / "home", database_url=database_url), clock=clock)
    yield built
    built.close()


def _admin() -> RequestContext:
    return RequestContext(Principal("user:admin", "admin", frozenset({"*"})))


def test_a_code_signs_in_once_and_only_hashes_are_stored(system: System) -> None:
    service = UiSessionService(system.store)
    code = service.create_code(_admin())
    session = service.redeem(code.code)
    assert session is not None
    assert session.principal.subject == "user:admin" and "*" in session.principal.capabilities
    assert service.redeem(code.code) is None  # used
    assert service.authenticate(session.secret).id == session.id
    with system.store.read() as uow:
        stored = " ".join(str(row) for row in uow.session.exec(select(UiSessionRow)).all())
    assert code.code not in stored and session.secret not in stored
    events = system.events.read_after(EventFilter(types=("ui.",)), 0, 100)
    assert [e.type for e in events] == ["ui.login_link_created", "ui.session_started"]
    assert all(code.code not in str(e.data) and session.secret not in str(e.data) for e in events)


def test_codes_and_sessions_expire(system: System, clock: Clock) -> None:
    service = UiSessionService(system.store)
    late = service.create_code(_admin())
    clock.advance(CODE_TTL_S + 1)
    assert service.redeem(late.code) is None
    session = service.redeem(service.create_code(_admin()).code)
    assert session is not None
    clock.advance(SESSION_TTL_S - 5)
    assert service.authenticate(session.secret).id == session.id
    clock.advance(10)
    with pytest.raises(Unauthorized):
        service.authenticate(session.secret)


def test_an_ended_session_and_an_unknown_secret_are_refused(system: System) -> None:
    service = UiSessionService(system.store)
    session = service.redeem(service.create_code(_admin()).code)
    assert session is not None
    service.end(session)
    with pytest.raises(Unauthorized):
        service.authenticate(session.secret)
    with pytest.raises(Unauthorized):
        service.authenticate("not-a-session")
    assert service.redeem("") is None and service.redeem("x" * 500) is None


def test_only_admins_make_login_links(system: System) -> None:
    agent = RequestContext(Principal("agent:agt_1", "agent", frozenset({"tasks:read", "missions:read"})))
    with pytest.raises(Forbidden):
        UiSessionService(system.store).create_code(agent)


def test_the_csrf_token_belongs_to_its_session() -> None:
    assert csrf_matches("secret-a", csrf_token("secret-a"))
    assert not csrf_matches("secret-a", csrf_token("secret-b"))
    assert not csrf_matches("secret-a", None) and not csrf_matches("secret-a", "")


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({"CI": "true", "DISPLAY": ":0"}, False),
        ({"DISPLAY": ":0"}, True),
        ({"WAYLAND_DISPLAY": "wayland-0"}, True),
        ({}, False),
        ({"DISPLAY": ":0", "MISSIOND_NO_BROWSER": "1"}, False),
    ],
    ids=["ci", "x11", "wayland", "no-display", "told-not-to"],
)
def test_missiond_ui_opens_a_browser_only_where_one_can_be(
    environ: dict[str, str], expected: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.platform", "linux")
    assert can_open_browser(environ) is expected
