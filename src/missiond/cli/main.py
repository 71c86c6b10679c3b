"""The `missiond` command line.

Exit codes: 0 ok; 1 the server answered with an error (its code on stderr);
2 usage error; 3 the server could not be reached (or started).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from missiond import __version__
from missiond.cli.agents import agent
from missiond.cli.app import JSON_HELP, App, CliDeps, CliGroup
from missiond.cli.autostart import AutostartFailed
from missiond.cli.demo import demo
from missiond.cli.events import events
from missiond.cli.memory import memory
from missiond.cli.missions import mission, review, work
from missiond.cli.output import Output
from missiond.cli.resources import resource
from missiond.cli.routines import approval, routine
from missiond.cli.status import status
from missiond.cli.tasks import task
from missiond.cli.tui import tui
from missiond.cli.ui import ui
from missiond.sdk import ProblemError, ProtocolError, TransportError

EXIT_PROBLEM = 1
EXIT_UNREACHABLE = 3


class MissiondGroup(CliGroup):
    """Turns SDK errors into messages on stderr and the documented exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ProblemError as error:
            _output(ctx).problem(error)
            ctx.exit(EXIT_PROBLEM)
        except ProtocolError as error:
            _output(ctx).failure("PROTOCOL_ERROR", str(error))
            ctx.exit(EXIT_PROBLEM)
        except TransportError as error:
            _output(ctx).failure("UNREACHABLE", str(error), url=error.url)
            ctx.exit(EXIT_UNREACHABLE)
        except AutostartFailed as error:
            _output(ctx).failure("UNREACHABLE", str(error))
            ctx.exit(EXIT_UNREACHABLE)


def _output(ctx: click.Context) -> Output:
    app = ctx.find_object(App)
    return app.out if app is not None else Output(json_mode=not sys.stdout.isatty())


@click.group(cls=MissiondGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--url", metavar="URL", help="Server URL (default: MISSIOND_URL, server.json).")
@click.option("--token", metavar="TOKEN", help="API token (default: MISSIOND_TOKEN, HOME/token).")
@click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory (default: MISSIOND_HOME or ./.missiond).",
)
@click.option(
    "--json/--no-json",
    "json_mode",
    default=None,
    help=JSON_HELP,
)
@click.option(
    "--no-autostart",
    is_flag=True,
    help="Fail (exit 3) instead of starting a local server when none answers.",
)
@click.version_option(__version__, prog_name="missiond")
@click.pass_context
def cli(
    ctx: click.Context,
    url: str | None,
    token: str | None,
    home: Path | None,
    json_mode: bool | None,
    no_autostart: bool,
) -> None:
    """missiond: a local-first control plane for teams of AI coding agents."""
    deps = ctx.obj if isinstance(ctx.obj, CliDeps) else CliDeps()
    output = Output(
        json_mode if json_mode is not None else not sys.stdout.isatty(), local_zone=deps.local_zone
    )
    app = App(deps, output, url=url, token=token, home=home, autostart=not no_autostart)
    ctx.obj = app
    ctx.call_on_close(app.close)


cli.add_command(status)
cli.add_command(events)
cli.add_command(resource)
cli.add_command(task)
cli.add_command(agent)
cli.add_command(routine)
cli.add_command(approval)
cli.add_command(memory)
cli.add_command(mission)
cli.add_command(work)
cli.add_command(review)
cli.add_command(ui)
cli.add_command(demo)
cli.add_command(tui)
