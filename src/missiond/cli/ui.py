"""`missiond ui`: a one-time login link for the web dashboard (opened in a browser when one can be)."""

from __future__ import annotations

import os
import sys
import webbrowser

import click

from missiond.cli.app import App, pass_app

LOGIN_LINKS_PATH = "/v1/ui/login-links"


def can_open_browser(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Never in CI or without a display; a terminal on a desktop can."""
    if environ.get("CI") or environ.get("MISSIOND_NO_BROWSER"):
        return False
    if sys.platform == "darwin" or sys.platform.startswith("win"):
        return True
    return bool(environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"))


@click.command()
@click.option(
    "--open/--no-open",
    "open_browser",
    default=None,
    help="Open the link in a browser (default: when a display is there and not in CI).",
)
@pass_app
def ui(app: App, open_browser: bool | None) -> None:
    """Print a one-time login link for the dashboard (it works once, within two minutes)."""
    client = app.client()
    link = client.request("POST", LOGIN_LINKS_PATH, json={}).json()
    opened = False
    if open_browser if open_browser is not None else can_open_browser():
        opened = webbrowser.open(link["url"], new=2)
    if app.out.json:
        app.out.document({**link, "opened": opened})
        return
    app.out.say(f"Dashboard login link (works once, expires in {link['ttl_s']} s):")
    click.echo(link["url"])
    if opened:
        app.out.say("Opened in your browser.")
