"""`missiond agent ...`: register agents (admin) and list them.

An agent's token is shown once, when it is created: `agent add` prints it
(with `--json`, as `{agent, token}`); the server keeps only its hash.
"""

from __future__ import annotations

import click

from missiond.cli.app import App, CliGroup, pass_app


@click.group(cls=CliGroup)
def agent() -> None:
    """Register agents and list them."""


@agent.command()
@click.argument("name")
@click.option("--role", "roles", multiple=True, metavar="ROLE", help="A role it plays (repeatable).")
@click.option(
    "--cap",
    "caps",
    multiple=True,
    metavar="CAPABILITY",
    help="A capability, like tasks:claim (repeatable; default: the tasks, events and resources ones).",
)
@click.option(
    "--idempotency-key", help="Make a retry of this exact call safe (the token is not shown again)."
)
@pass_app
def add(
    app: App, name: str, roles: tuple[str, ...], caps: tuple[str, ...], idempotency_key: str | None
) -> None:
    """Register the agent NAME and print its token (shown only this once)."""
    created, token = app.client().create_agent(
        name, roles, list(caps) if caps else None, idempotency_key=idempotency_key
    )
    if app.out.json:
        app.out.document({"agent": created.raw, "token": token})
        return
    app.out.key_values(
        created.name,
        [
            ("id", created.id),
            ("subject", created.subject),
            ("roles", ", ".join(created.roles)),
            ("capabilities", " ".join(created.capabilities)),
        ],
    )
    if token is None:
        app.out.note("the token is not shown again (this answer is a replay of an earlier request)")
    else:
        app.out.note("token (shown only this once; keep it):")
        click.echo(token)


@agent.command("list")
@pass_app
def list_(app: App) -> None:
    """List the registered agents."""
    agents = app.client().list_agents()
    if app.out.json:
        app.out.document({"items": [a.raw for a in agents]})
    else:
        app.out.agents(agents)
