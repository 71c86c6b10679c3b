"""The composition root: builds the running system from settings. Nothing runs at import."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from missiond.core.events import EventFilter
from missiond.services.agents import AgentService
from missiond.services.approvals import ApprovalService
from missiond.services.auth import AuthService
from missiond.services.batch import BatchService
from missiond.services.events import EventService
from missiond.services.hub import EventHub
from missiond.services.leases import LeaseService
from missiond.services.memory import MemoryService
from missiond.services.mission_engine import MissionEngine
from missiond.services.mission_runtime import MissionRuntime
from missiond.services.missions import MissionService
from missiond.services.resources import ResourceService
from missiond.services.routine_runner import RoutineRunner
from missiond.services.routines import RoutineService
from missiond.services.status_indexer import StatusIndexer
from missiond.services.tasks import TaskService
from missiond.settings import Settings
from missiond.storage import migrate
from missiond.storage.engine import make_engine
from missiond.storage.uow import Store


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class System:
    settings: Settings
    store: Store
    auth: AuthService
    events: EventService
    hub: EventHub
    resources: ResourceService
    status_indexer: StatusIndexer
    tasks: TaskService
    leases: LeaseService
    agents: AgentService
    batch: BatchService
    approvals: ApprovalService
    routines: RoutineService
    runner: RoutineRunner
    memory: MemoryService
    missions: MissionService
    mission_runtime: MissionRuntime
    schema_version: str
    admin_token: str

    def close(self) -> None:
        self.store.close()


def build(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> System:
    settings.home.mkdir(parents=True, exist_ok=True)
    engine = make_engine(settings.database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms)
    try:
        schema_version = migrate.upgrade(engine)
    except BaseException:
        engine.dispose()
        raise
    store = Store(engine, clock=clock, busy_timeout_s=settings.sqlite_busy_timeout_ms / 1000)
    auth = AuthService(store)
    admin_token = auth.ensure_admin_token(settings.token_path)
    events = EventService(store)
    hub = EventHub(
        lambda after, limit: events.read_after(EventFilter(), after, limit),
        poll_s=settings.hub_poll_s,
        queue_size=settings.sse_queue,
    )
    store.on_commit(hub.notify)
    approvals = ApprovalService(store)
    mission_engine = MissionEngine()
    missions = MissionService(store, mission_engine)
    memory = MemoryService(store, approvals)
    system = System(
        settings=settings,
        store=store,
        auth=auth,
        events=events,
        hub=hub,
        resources=ResourceService(store),
        status_indexer=StatusIndexer(store),
        tasks=TaskService(store),
        leases=LeaseService(store),
        agents=AgentService(store),
        batch=BatchService(store),
        approvals=approvals,
        routines=RoutineService(store, approvals),
        runner=RoutineRunner(store, missions),
        memory=memory,
        missions=missions,
        mission_runtime=MissionRuntime(store, mission_engine, approvals, settings.home, memory),
        schema_version=schema_version,
        admin_token=admin_token,
    )
    mission_engine.on_queued = system.mission_runtime.kick
    return system
