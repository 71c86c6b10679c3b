"""`missiond status`: is the server up, and who am I to it."""

from __future__ import annotations

import click

from missiond.cli.app import App, pass_app


@click.command()
@pass_app
def status(app: App) -> None:
    """Show the server's health and who the token speaks for."""
    client = app.client()
    health = client.health()
    identity = client.whoami()
    if app.out.json:
        app.out.document({"url": client.base_url, "health": health.raw, "whoami": identity.raw})
        return
    app.out.key_values(
        "missiond",
        [
            ("server", client.base_url),
            ("status", health.status),
            ("version", health.version),
            ("database", health.database),
            ("schema", health.schema_version),
            ("head seq", health.head_seq),
            ("subject", identity.subject),
            ("kind", identity.kind),
            ("capabilities", ", ".join(identity.capabilities)),
        ],
    )
