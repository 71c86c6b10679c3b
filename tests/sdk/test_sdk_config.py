"""Where the SDK finds the server and the token."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from missiond.sdk import Client, ClientConfig
from missiond.sdk.config import read_server_info


def write_home(home: Path, *, url: str | None = None, token: str | None = None) -> Path:
    home.mkdir(parents=True, exist_ok=True)
    if url is not None:
        (home / "server.json").write_text(json.dumps({"pid": 42, "url": url, "version": "0.1.0"}))
    if token is not None:
        (home / "token").write_text(token)
    return home


def test_an_explicit_url_wins_over_the_environment_and_server_json(tmp_path: Path) -> None:
    home = write_home(tmp_path / "h", url="http://127.0.0.1:9001")
    config = ClientConfig.from_env("http://arg:1", home=home, environ={"MISSIOND_URL": "http://env:2"})
    assert (config.base_url, config.url_source) == ("http://arg:1", "argument")
    assert config.url_is_explicit


def test_missiond_url_wins_over_server_json(tmp_path: Path) -> None:
    home = write_home(tmp_path / "h", url="http://127.0.0.1:9001")
    config = ClientConfig.from_env(home=home, environ={"MISSIOND_URL": "http://env:2/"})
    assert (config.base_url, config.url_source) == ("http://env:2", "environment")
    assert config.url_is_explicit


def test_a_running_servers_url_comes_from_server_json(tmp_path: Path) -> None:
    home = write_home(tmp_path / "h", url="http://127.0.0.1:9001")
    config = ClientConfig.from_env(home=home, environ={"MISSIOND_PORT": "1"})
    assert (config.base_url, config.url_source) == ("http://127.0.0.1:9001", "server.json")
    assert not config.url_is_explicit


def test_without_any_hint_the_url_is_built_from_host_and_port(tmp_path: Path) -> None:
    environ = {"MISSIOND_HOME": str(tmp_path), "MISSIOND_HOST": "10.0.0.5", "MISSIOND_PORT": "99"}
    config = ClientConfig.from_env(environ=environ)
    assert (config.base_url, config.url_source) == ("http://10.0.0.5:99", "default")


def test_the_default_url_is_loopback_8741(tmp_path: Path) -> None:
    assert ClientConfig.from_env(home=tmp_path, environ={}).base_url == "http://127.0.0.1:8741"


def test_a_wildcard_bind_host_is_reached_on_loopback(tmp_path: Path) -> None:
    config = ClientConfig.from_env(home=tmp_path, environ={"MISSIOND_HOST": "0.0.0.0"})
    assert config.base_url == "http://127.0.0.1:8741"


def test_the_home_defaults_to_dot_missiond_in_the_working_directory(tmp_path: Path) -> None:
    assert ClientConfig.from_env(environ={}).home == (tmp_path / ".missiond").resolve()


def test_missiond_home_names_the_home(tmp_path: Path) -> None:
    home = tmp_path / "elsewhere"
    assert ClientConfig.from_env(environ={"MISSIOND_HOME": str(home)}).home == home.resolve()


def test_the_token_comes_from_the_argument_first(tmp_path: Path) -> None:
    home = write_home(tmp_path, token="from-file")
    config = ClientConfig.from_env(token="from-arg", home=home, environ={"MISSIOND_TOKEN": "env"})
    assert config.token == "from-arg"


def test_the_token_comes_from_missiond_token_before_the_file(tmp_path: Path) -> None:
    home = write_home(tmp_path, token="from-file")
    assert ClientConfig.from_env(home=home, environ={"MISSIOND_TOKEN": "env"}).token == "env"


def test_the_token_file_is_read_with_whitespace_stripped(tmp_path: Path) -> None:
    home = write_home(tmp_path, token="  tok_secret\n")
    assert ClientConfig.from_env(home=home, environ={}).token == "tok_secret"


def test_no_token_anywhere_leaves_the_token_unset(tmp_path: Path) -> None:
    assert ClientConfig.from_env(home=tmp_path, environ={}).token is None


def test_empty_environment_values_count_as_unset(tmp_path: Path) -> None:
    environ = {"MISSIOND_URL": "", "MISSIOND_TOKEN": " ", "MISSIOND_HOME": ""}
    config = ClientConfig.from_env(home=tmp_path, environ=environ)
    assert (config.url_source, config.token) == ("default", None)


@pytest.mark.parametrize(
    "content",
    ["not json", "[]", '{"pid": 1}', '{"url": ""}'],
    ids=["garbage", "not-an-object", "no-url", "empty-url"],
)
def test_an_unusable_server_json_is_ignored(tmp_path: Path, content: str) -> None:
    (tmp_path / "server.json").write_text(content)
    assert read_server_info(tmp_path) is None
    assert ClientConfig.from_env(home=tmp_path, environ={}).url_source == "default"


def test_the_client_resolves_its_config_from_the_process_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_home(tmp_path / "h", token="tok_file")
    monkeypatch.setenv("MISSIOND_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("MISSIOND_URL", "http://example.test:1234")
    with Client() as client:
        assert client.base_url == "http://example.test:1234"
        assert client.config.token == "tok_file"
