"""Litestar application factory."""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from litestar import Litestar
from litestar.di import Provide
from litestar.exceptions.base_exceptions import LitestarDeprecationWarning
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.pydantic import PydanticInitPlugin

from missiond import __version__
from missiond.api.controllers.agents import AgentsController
from missiond.api.controllers.events import EventsController
from missiond.api.controllers.memory import MemoryController
from missiond.api.controllers.missions import MissionsController
from missiond.api.controllers.resources import ResourcesController
from missiond.api.controllers.routines import RoutinesController
from missiond.api.controllers.system import PublicController, SystemController
from missiond.api.controllers.tasks import TasksController
from missiond.api.controllers.ui import ui_route_handlers
from missiond.api.deps import provide_ctx, provide_system, require_token
from missiond.api.middleware import CorrelationMiddleware
from missiond.api.openapi import StrictModelSchemaPlugin
from missiond.api.problems import EXCEPTION_HANDLERS
from missiond.api.reactors import start_reactors
from missiond.bootstrap import System

log = logging.getLogger("missiond.api")


def create_app(system: System) -> Litestar:
    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        head, _ = system.events.bounds()
        await system.hub.start(head)
        tasks = start_reactors(system)
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await system.hub.stop()

    openapi = OpenAPIConfig(
        title="missiond",
        version=__version__,
        description="Control plane for teams of AI coding agents. Errors are RFC 9457 problem details.",
        path="/v1/schema",
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
    )
    # Litestar 2.25 deprecates inferred dependencies and unmarked `data` bodies in
    # favour of explicit markers; the migration is on the workboard. Until then the
    # build is kept quiet so `-W error` (and pytest's filterwarnings=error) hold.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=LitestarDeprecationWarning)
        app = _build(system, openapi, lifespan)
    app.state.system = system
    # Outermost, so routing errors (404, 405) get a correlation id too; Litestar
    # keeps the scope state we set.
    app.asgi_handler = CorrelationMiddleware(app.asgi_handler)  # type: ignore[method-assign]
    return app


def _build(system: System, openapi: OpenAPIConfig, lifespan: Any) -> Litestar:
    return Litestar(
        route_handlers=[
            PublicController,
            SystemController,
            EventsController,
            ResourcesController,
            TasksController,
            AgentsController,
            RoutinesController,
            MemoryController,
            MissionsController,
            *ui_route_handlers(),
        ],
        dependencies={"system": Provide(provide_system), "ctx": Provide(provide_ctx)},
        guards=[require_token],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=openapi,
        request_max_body_size=system.settings.max_body_bytes,
        lifespan=[lifespan],
        debug=False,
        plugins=[PydanticInitPlugin(validate_strict=True), StrictModelSchemaPlugin()],
    )
