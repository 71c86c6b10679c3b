"""`missiond status`, output modes and exit codes."""

from __future__ import annotations

import json

import httpx
from cli_fakes import HEALTH, WHOAMI, FakeServer, Invoke, problem

from missiond import __version__


def test_status_prints_url_health_and_whoami_as_one_json_document_when_piped(invoke: Invoke) -> None:
    result = invoke(FakeServer(), "status")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"url": "http://test", "health": HEALTH, "whoami": WHOAMI}


def test_status_shows_a_table_for_people(invoke: Invoke) -> None:
    result = invoke(FakeServer(), "--no-json", "status")
    assert result.exit_code == 0, result.output
    for expected in ("http://test", "ok", "sqlite", "user:admin", "*", "0.1.0"):
        assert expected in result.stdout
    assert not result.stdout.lstrip().startswith("{")


def test_the_token_option_is_sent_as_a_bearer_token(invoke: Invoke) -> None:
    server = FakeServer()
    invoke(server, "--token", "tok_cli", "status")
    assert server.sent("GET /v1/whoami")[0].headers["Authorization"] == "Bearer tok_cli"


def test_a_problem_answer_exits_1_with_its_code_on_stderr(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/whoami", problem(401, "UNAUTHORIZED", "missing bearer token"))
    result = invoke(server, "--no-json", "status")
    assert result.exit_code == 1
    assert result.stderr.strip() == "error: UNAUTHORIZED: missing bearer token"
    assert result.stdout == ""


def test_in_json_mode_the_problem_document_follows_the_error_line(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/whoami", problem(401, "UNAUTHORIZED", "missing bearer token"))
    result = invoke(server, "--json", "status")
    first, second = result.stderr.strip().splitlines()
    assert result.exit_code == 1
    assert first == "error: UNAUTHORIZED: missing bearer token"
    assert json.loads(second)["code"] == "UNAUTHORIZED"


def test_an_unreachable_named_server_exits_3(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/health", httpx.ConnectError("connection refused"))
    result = invoke(server, "status")
    assert result.exit_code == 3
    assert result.stderr.startswith("error: UNREACHABLE: cannot reach missiond at http://test")


def test_an_error_answer_without_problem_json_still_exits_1(invoke: Invoke) -> None:
    server = FakeServer().on("GET /v1/health", httpx.Response(418, text="teapot"))
    result = invoke(server, "status")
    assert result.exit_code == 1
    assert result.stderr.startswith("error: HTTP_418: teapot")


def test_version_prints_the_package_version(invoke: Invoke) -> None:
    result = invoke(None, "--version")
    assert result.exit_code == 0
    assert __version__ in result.stdout


def test_an_unknown_command_is_a_usage_error(invoke: Invoke) -> None:
    assert invoke(None, "frobnicate").exit_code == 2
