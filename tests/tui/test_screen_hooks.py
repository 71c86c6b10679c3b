"""LiveScreen's two hooks (`compose_body`, `load`) raise NotImplementedError in the base: each
concrete screen must define both, or opening it would fail at run time. This checks every screen
the app ships does, so a new screen that forgets one fails here rather than in a person's terminal."""

from __future__ import annotations

import importlib
import pkgutil

import missiond.tui.screens as screens
from missiond.tui.screens.base import LiveScreen


def _all_subclasses(cls: type) -> set[type]:
    found = set(cls.__subclasses__())
    for sub in list(found):
        found |= _all_subclasses(sub)
    return found


def test_every_live_screen_defines_its_body_and_its_load() -> None:
    for module in pkgutil.iter_modules(screens.__path__):
        importlib.import_module(f"{screens.__name__}.{module.name}")
    concrete = {c for c in _all_subclasses(LiveScreen) if c.__module__.startswith("missiond.tui.screens.")}
    assert len(concrete) >= 9, sorted(c.__name__ for c in concrete)
    missing = [
        (c.__name__, hook)
        for c in concrete
        for hook in ("compose_body", "load")
        if getattr(c, hook) is getattr(LiveScreen, hook)
    ]
    assert missing == []
