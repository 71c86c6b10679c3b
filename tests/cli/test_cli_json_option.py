"""`--json/--no-json` means the same before the subcommand and after it; the last one given wins."""

from __future__ import annotations

import json

import click
import httpx
from cli_fakes import WHOAMI, FakeServer, Invoke, page, problem, record

from missiond.cli.main import cli


def ok(body: object) -> httpx.Response:
    return httpx.Response(200, json=body)


def listing() -> dict[str, object]:
    return {"items": [record("project/a")], "revision": 57, "next_after_key": None}


def test_json_after_the_subcommand_overrides_no_json_before_it(invoke: Invoke) -> None:
    body = page(1, 2)
    server = FakeServer().on("GET /v1/events", ok(body))
    result = invoke(server, "--no-json", "events", "query", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == body


def test_no_json_after_the_subcommand_gives_the_people_view_even_when_piped(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/resources", ok(listing()))
    result = invoke(server, "resource", "list", "--no-json")
    assert result.exit_code == 0, result.output
    assert result.stdout.split()[:5] == ["key", "rev", "version", "updated_by", "value"]


def test_json_after_a_nested_subcommand_prints_the_servers_document(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/resources", ok(listing()))
    result = invoke(server, "--no-json", "resource", "list", "project/", "--json")
    assert json.loads(result.stdout) == listing()


def test_the_last_of_several_wins(invoke: Invoke) -> None:
    server = FakeServer()
    result = invoke(server, "--json", "status", "--json", "--no-json")
    assert result.exit_code == 0, result.output
    assert not result.stdout.lstrip().startswith("{")
    assert WHOAMI["subject"] in result.stdout


def test_json_after_the_subcommand_also_shapes_the_error_output(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/whoami", problem(401, "UNAUTHORIZED", "missing bearer token"))
    result = invoke(server, "--no-json", "status", "--json")
    assert result.exit_code == 1
    first, second = result.stderr.strip().splitlines()
    assert first == "error: UNAUTHORIZED: missing bearer token"
    assert json.loads(second)["code"] == "UNAUTHORIZED"


def test_json_between_a_group_and_its_command_works_too(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/resources", ok(listing()))
    result = invoke(server, "--no-json", "resource", "--json", "list")
    assert json.loads(result.stdout) == listing()


def _commands(command: click.Command, path: str = "missiond") -> list[tuple[str, click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            found += _commands(sub, f"{path} {name}")
    return found


def test_every_subcommand_accepts_json_and_no_json() -> None:
    for path, command in _commands(cli):
        options = {opt for param in command.params for opt in (*param.opts, *param.secondary_opts)}
        assert {"--json", "--no-json"} <= options, path


def test_the_option_is_listed_in_a_subcommands_help(invoke: Invoke) -> None:
    result = invoke(None, "resource", "put", "--help")
    assert result.exit_code == 0
    assert "--json / --no-json" in result.stdout
