from __future__ import annotations

from litestar import Controller, get, post

from missiond import __version__
from missiond.api.openapi import problems
from missiond.api.wire import CompactIn, CompactOut, HealthOut, StatsOut, WhoAmIOut
from missiond.bootstrap import System
from missiond.services.context import RequestContext


class PublicController(Controller):
    """Routes that need no token (no security requirement in the OpenAPI document)."""

    path = "/v1"
    tags = ["system"]

    @get(
        "/health",
        responses=problems(400),
        opt={"public": True},
        sync_to_thread=True,
        summary="Liveness and versions",
    )
    def health(self, system: System) -> HealthOut:
        head, _floor = system.events.bounds()
        return HealthOut(
            status="ok",
            version=__version__,
            database=system.store.kind,
            schema_version=system.schema_version,
            head_seq=head,
        )


class SystemController(Controller):
    path = "/v1"
    tags = ["system"]
    security = [{"bearer": []}]

    @get(
        "/whoami",
        responses=problems(401),
        sync_to_thread=False,
        summary="The caller's identity and capabilities",
    )
    def whoami(self, ctx: RequestContext) -> WhoAmIOut:
        p = ctx.principal
        return WhoAmIOut(subject=p.subject, kind=p.kind, capabilities=sorted(p.capabilities))

    @get("/admin/stats", responses=problems(401, 403), sync_to_thread=False, summary="Live server counters")
    def stats(self, system: System, ctx: RequestContext) -> StatsOut:
        ctx.principal.require("admin")
        return StatsOut(subscribers=system.hub.subscriber_count, hub_position=system.hub.position)

    @post(
        "/admin/compact",
        responses=problems(400, 401, 403),
        sync_to_thread=True,
        status_code=200,
        summary="Drop events up to a seq",
    )
    def compact(self, system: System, ctx: RequestContext, data: CompactIn) -> CompactOut:
        return CompactOut(**system.events.compact(ctx, data.through_seq))
