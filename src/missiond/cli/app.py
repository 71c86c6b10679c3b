"""What every command shares: global options, the output, and one client.

The client is made on first use, so commands that never talk to a server
(`serve`, `--help`) never probe or autostart one.

Tests (and embedders) hand the group a `CliDeps` as `obj`, e.g.
`CliRunner().invoke(cli, [...], obj=CliDeps(transport=httpx.MockTransport(h)))`.

`--json/--no-json` is accepted before the subcommand (`missiond --json events
query`) and after it (`missiond events query --json`): every command added to
a `CliGroup` gets the option, and the last one given wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import tzinfo
from pathlib import Path
from typing import Any

import click
import httpx

from missiond.cli import autostart
from missiond.cli.output import Output
from missiond.cli.process import Clock, RealClock, Spawn, spawn_process
from missiond.sdk import Client, ClientConfig, ConnectionFailed, MissiondError

StartServer = Callable[[Path, autostart.Probe], autostart.StartedServer]

PROBE_TIMEOUT_S = 2.0


def _start_server(home: Path, probe: autostart.Probe) -> autostart.StartedServer:
    return autostart.start_server(home, probe=probe)


@dataclass(frozen=True, slots=True)
class CliDeps:
    """The seams of the CLI: the HTTP transport, how a server gets started, (for
    `task work`) how a command is run and the clock that paces lease renewals, and the
    zone times are shown in for people (None: the machine's own, from TZ)."""

    transport: httpx.BaseTransport | None = None
    start_server: StartServer = _start_server
    spawn: Spawn = spawn_process
    clock: Clock = field(default_factory=RealClock)
    local_zone: tzinfo | None = None


class App:
    def __init__(
        self,
        deps: CliDeps,
        output: Output,
        *,
        url: str | None,
        token: str | None,
        home: Path | None,
        autostart: bool,
    ) -> None:
        self.deps = deps
        self.out = output
        self.url = url
        self.token = token
        self.home = home
        self.autostart = autostart
        self._client: Client | None = None

    def config(self) -> ClientConfig:
        return ClientConfig.from_env(self.url, self.token, home=self.home)

    def client(self) -> Client:
        """The client for this invocation; starts a local server when needed."""
        if self._client is None:
            config = self._reachable_config()
            self._client = self._make_client(config)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _make_client(self, config: ClientConfig) -> Client:
        return Client(config.base_url, config.token, home=config.home, transport=self.deps.transport)

    def _reachable_config(self) -> ClientConfig:
        config = self.config()
        if config.url_is_explicit or self._listening(config):
            return config
        if not self.autostart:
            raise autostart.AutostartFailed(
                f"no missiond server answers at {config.base_url} and --no-autostart was given; "
                f"start one with: missiond serve --home {config.home}"
            )
        started = self.deps.start_server(config.home, self._healthy)
        if started.spawned:
            self.out.note(
                f"missiond: started a server for {config.home} at {started.url} (pid {started.pid})"
            )
        # The token file appears once the server has started: read it now.
        return ClientConfig.from_env(started.url, self.token, home=config.home)

    def _probe_client(self, url: str) -> Client:
        config = self.config()
        return Client(
            url,
            config.token,
            home=config.home,
            transport=self.deps.transport,
            retries=0,
            timeout=PROBE_TIMEOUT_S,
        )

    def _listening(self, config: ClientConfig) -> bool:
        """False only when no connection could be opened at the resolved address."""
        with self._probe_client(config.base_url) as probe:
            try:
                probe.health()
            except ConnectionFailed:
                return False
            except MissiondError:
                return True
        return True

    def _healthy(self, url: str) -> bool:
        with self._probe_client(url) as probe:
            try:
                probe.health()
            except MissiondError:
                return False
        return True


pass_app = click.make_pass_decorator(App)


JSON_HELP = "JSON output (default when stdout is not a terminal)."


def _json_mode_given_late(ctx: click.Context, _param: click.Parameter, value: bool | None) -> None:
    """`--json/--no-json` after a subcommand: same meaning as before it."""
    if value is None:
        return
    app = ctx.find_object(App)
    if app is not None:
        app.out.json = value


def _late_json_option() -> click.Option:
    return click.Option(
        ["--json/--no-json", "json_mode"],
        default=None,
        expose_value=False,
        callback=_json_mode_given_late,
        help=JSON_HELP,
    )


def accept_json_option(command: click.Command) -> click.Command:
    """Give `command` (and, for a group, every command in it) the `--json/--no-json` option."""
    if not any(param.name == "json_mode" for param in command.params):
        command.params.append(_late_json_option())
    if isinstance(command, click.Group):
        for sub in command.commands.values():
            accept_json_option(sub)
    return command


class CliGroup(click.Group):
    """A group whose commands accept `--json/--no-json` after their name too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for command in self.commands.values():
            accept_json_option(command)

    def add_command(self, cmd: click.Command, name: str | None = None) -> None:
        accept_json_option(cmd)
        super().add_command(cmd, name)
