"""`missiond tui`: open the terminal UI against this project's server or a remote one."""

from __future__ import annotations

import click

from missiond.cli.app import App, pass_app

SCREENS = ("missions", "approvals", "routines", "tasks", "resources", "events", "signals")


@click.command()
@click.option(
    "--screen",
    type=click.Choice(SCREENS),
    default="missions",
    show_default=True,
    help="The screen to open first.",
)
@pass_app
def tui(app: App, screen: str) -> None:
    """The terminal dashboard: missions, approvals, routines, tasks, resources, events and
    signals, live. Give the global --url/--token to watch a remote server."""
    from missiond.tui import MissiondTUI  # Textual loads only for this command

    client = app.client()  # reachable (a local server is started when needed), token resolved
    config = client.config
    MissiondTUI(config.base_url, config.token, start=screen).run()
