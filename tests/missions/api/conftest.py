"""One in-process world per module and backend; every test works on its own missions."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .mission_world import BACKENDS, World, world_for


@pytest.fixture(scope="module", params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with world_for(request.param, tmp_path_factory.mktemp(f"missions-{request.param}")) as built:
        yield built
