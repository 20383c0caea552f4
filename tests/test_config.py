"""Configuration: defaults for the embedded mode, KUTUBXONA_* variables, clear errors."""

from __future__ import annotations

from pathlib import Path

import pytest

from repository import config


def test_embedded_defaults(tmp_path: Path):
    conf = config.load(environ={"KUTUBXONA_VAR_DIR": str(tmp_path / "var")})
    assert conf.database_url == f"sqlite:///{tmp_path / 'var' / 'kutubxona.sqlite3'}"
    assert conf.storage_url == (tmp_path / "var" / "objects").as_uri()
    assert conf.base_url == "http://127.0.0.1:5000"
    assert conf.repository_id == "demo.kutubxona.uz"
    assert conf.oai_page_size == 100 and conf.oai_token_ttl_hours == 48


def test_secret_key_is_generated_once_and_kept(tmp_path: Path):
    env = {"KUTUBXONA_VAR_DIR": str(tmp_path)}
    first = config.load(environ=env).secret_key
    assert len(first) > 40
    assert config.load(environ=env).secret_key == first
    assert config.load(environ={**env, "KUTUBXONA_SECRET_KEY": "given"}).secret_key == "given"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("REPOSITORY_ID", "agora", "DNS-style"),
        ("ADMIN_EMAIL", "root@localhost", "not @localhost"),
        ("ADMIN_EMAIL", "nobody", "valid address"),
        ("OAI_PAGE_SIZE", "ten", "whole number"),
        ("OAI_PAGE_SIZE", "0", "at least 1"),
        ("HARVEST_ALLOW_PRIVATE", "maybe", "no, yes or networks such as 10.20.0.0/16"),
        ("HARVEST_ALLOW_PRIVATE", "10.20.0.0/33", "no, yes or networks"),
        ("REQUEST_READ_SECONDS", "0", "at least 1"),
        ("RESPONSE_SEND_SECONDS", "0", "at least 1"),
        ("REQUEST_LINE_BYTES", "100", "from 1024 to 1048576"),
        ("REQUEST_LINE_BYTES", "2000000", "from 1024 to 1048576"),
        ("MARC_ORG_CODE", "Uzbek National Library", "MARC organization code"),
    ],
)
def test_bad_values_are_refused_in_one_line(tmp_path: Path, name: str, value: str, message: str):
    with pytest.raises(config.ConfigError, match=message):
        config.load(environ={"KUTUBXONA_VAR_DIR": str(tmp_path), f"KUTUBXONA_{name}": value})


def test_environment_values_are_read(tmp_path: Path):
    conf = config.load(
        environ={
            "KUTUBXONA_VAR_DIR": str(tmp_path),
            "KUTUBXONA_BASE_URL": "https://lib.example.uz/",
            "KUTUBXONA_OAI_PAGE_SIZE": "7",
        }
    )
    assert conf.base_url == "https://lib.example.uz" and conf.oai_page_size == 7


def test_harvests_reach_public_addresses_only_unless_allowed(tmp_path: Path):
    def private(value: str | None) -> tuple:
        env = {"KUTUBXONA_VAR_DIR": str(tmp_path)} | ({"KUTUBXONA_HARVEST_ALLOW_PRIVATE": value} if value else {})
        conf = config.load(environ=env)
        return conf.harvest_allow_private, [str(n) for n in conf.harvest_private_networks]

    assert private(None) == (False, []) and private("no") == (False, [])
    assert private("yes") == (True, []) and private("TRUE") == (True, [])
    assert private("10.20.0.0/16, fd00:1::/48 192.168.5.7") == (False, ["10.20.0.0/16", "fd00:1::/48",
                                                                         "192.168.5.7/32"])  # fmt: skip


def cli_with_env(tmp_path: Path, monkeypatch, **env: str):  # noqa: ANN001, ANN201
    """``kutubxona sets list`` in a fresh process state, with these KUTUBXONA_* variables."""
    from click.testing import CliRunner

    from repository import cli

    monkeypatch.setenv("KUTUBXONA_VAR_DIR", str(tmp_path))
    for name, value in env.items():
        monkeypatch.setenv(f"KUTUBXONA_{name}", value)
    monkeypatch.setattr(cli, "_SERVICES", None)
    result = CliRunner().invoke(cli.main, ["sets", "list"])
    monkeypatch.setattr(cli, "_SERVICES", None)
    return result


def test_cli_reports_bad_configuration_without_a_traceback(tmp_path: Path, monkeypatch):
    result = cli_with_env(tmp_path, monkeypatch, REPOSITORY_ID="nodot")
    assert result.exit_code == 2
    assert "DNS-style" in result.output and "Traceback" not in result.output


def test_embedded_database_is_migrated_on_start(tmp_path: Path, monkeypatch):
    from repository import create_app

    app = create_app({"VAR_DIR": str(tmp_path)})
    db = app.extensions["kutubxona"].db
    assert not db.pending_migrations()
    db.dispose()


def test_an_unreachable_database_is_one_line_and_exit_2(tmp_path: Path, monkeypatch):
    result = cli_with_env(tmp_path, monkeypatch, DATABASE_URL="postgresql+psycopg://nobody@127.0.0.1:9/none")
    assert result.exit_code == 2
    assert "database cannot be reached" in result.output and "Traceback" not in result.output
