"""The `missiond` console script: the client CLI plus `serve`, which runs the server."""

from __future__ import annotations

import sys

import click

from missiond.cli.app import App
from missiond.cli.main import cli


@cli.command("serve")
@click.option("--home", type=click.Path(file_okay=False), default=None, help="data directory")
@click.option("--host", default=None, help="bind address (default 127.0.0.1)")
@click.option("--port", type=int, default=None, help="port (default 8741; 0 picks a free one)")
@click.option("--database-url", default=None, help="sqlite:///... or postgresql+psycopg://...")
@click.option("--log-level", default=None, type=click.Choice(["debug", "info", "warning", "error"]))
@click.pass_context
def serve(
    ctx: click.Context,
    home: str | None,
    host: str | None,
    port: int | None,
    database_url: str | None,
    log_level: str | None,
) -> None:
    """Run the missiond server for this home (foreground)."""
    from missiond import serve as server
    from missiond.settings import Settings

    app = ctx.find_object(App)
    parent_home = str(app.home) if app is not None and getattr(app, "home", None) else None
    settings = Settings.from_env(
        home=home or parent_home,
        database_url=database_url,
        host=host,
        port=port,
        log_level=log_level,
    )
    sys.exit(server.run(settings))


def main() -> None:
    cli(prog_name="missiond")
