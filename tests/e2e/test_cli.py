"""The `whistle` console script, run as a process against a real .ini."""
from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import create_engine, text

from alembic.script import ScriptDirectory

from tests.e2e.server import BIN, Server
from whistle.cli.database import alembic_config


@pytest.fixture
def server(tmp_path):
    return Server(tmp_path)  # not started: only its .ini and directory are used


def run(server, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), *args], input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_db_upgrade_creates_the_database_and_can_run_again(server):
    assert run(server, "db", "upgrade").returncode == 0
    assert run(server, "db", "upgrade").returncode == 0
    url = f"sqlite:///{server.directory / 'var' / 'whistle.sqlite'}"
    engine = create_engine(url)
    with engine.connect() as connection:
        versions = set(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())
    engine.dispose()
    assert versions == set(ScriptDirectory.from_config(alembic_config(url)).get_heads())


def test_keys_init_creates_key_files_once(server):
    first = run(server, "keys", "init")
    assert first.returncode == 0 and first.stdout.count("(created)") == 2
    pepper = (server.directory / "var" / "keys" / "lookup_pepper").read_text()
    second = run(server, "keys", "init")
    assert second.stdout.count("exists, left as it is") == 2
    assert (server.directory / "var" / "keys" / "lookup_pepper").read_text() == pepper


def test_guardian_add_prints_the_recovery_key_and_totp_uri_once(server):
    run(server, "db", "upgrade")
    run(server, "demo")
    result = run(server, "guardian", "add", "alex", "--channel", "raise-a-concern", "--password-stdin",
                 stdin="a long enough password\n")
    assert result.returncode == 0, result.stderr
    assert "recovery key: " in result.stdout
    assert "otpauth://totp/whistle:alex?secret=" in result.stdout
    duplicate = run(server, "guardian", "add", "alex", "--password-stdin", stdin="a long enough password\n")
    assert duplicate.returncode == 1 and "taken" in duplicate.stderr


def test_guardian_reset_authenticator_prints_a_new_secret_once(server):
    run(server, "db", "upgrade")
    added = run(server, "guardian", "add", "robin", "--password-stdin", stdin="a long enough password\n")
    recovery_key = re.search(r"recovery key: (\S+)", added.stdout).group(1)
    old_uri = re.search(r"TOTP URI: +(\S+)", added.stdout).group(1)
    wrong = run(server, "guardian", "reset-authenticator", "robin", "--recovery-key-stdin",
                stdin="AAAA-AAAA-AAAA-AAAA-AAAA-AAAA-AAAA\n")
    assert wrong.returncode == 1 and "do not match" in wrong.stderr
    result = run(server, "guardian", "reset-authenticator", "robin", "--recovery-key-stdin", stdin=recovery_key + "\n")
    assert result.returncode == 0, result.stderr
    new_uri = re.search(r"TOTP URI: +(\S+)", result.stdout).group(1)
    assert new_uri.startswith("otpauth://totp/whistle:robin?secret=") and new_uri != old_uri


def test_guardian_add_refuses_a_short_password(server):
    run(server, "db", "upgrade")
    result = run(server, "guardian", "add", "sam", "--admin", "--password-stdin", stdin="short\n")
    assert result.returncode == 1
    assert "at least 12 characters" in result.stderr and "Traceback" not in result.stderr


def test_an_unknown_setting_stops_the_command_with_its_name(server):
    server.ini.write_text(server.ini.read_text().replace("[app:main]", "[app:main]\nwhistle.db.ulr = x"))
    result = run(server, "db", "upgrade")
    assert result.returncode == 2
    assert "whistle.db.ulr" in result.stderr and "Traceback" not in result.stderr


def test_demo_reuses_what_exists(server):
    run(server, "db", "upgrade")
    first = run(server, "demo")
    second = run(server, "demo")
    assert "Created the demo guardian" in first.stdout
    assert "Created" not in second.stdout
    password = server.demo_credentials()["password"]
    assert f"password: {password}" in first.stdout and f"password: {password}" in second.stdout


def test_db_upgrade_needs_no_key_files(server):
    assert run(server, "db", "upgrade").returncode == 0
    assert not (server.directory / "var" / "keys").exists()


def test_demo_refuses_a_production_database(server):
    server.ini.write_text(server.ini.read_text().replace(
        "whistle.db.url = sqlite:///%(here)s/var/whistle.sqlite", "whistle.db.url = postgresql+psycopg://nobody@127.0.0.1:1/x"))
    result = run(server, "demo")
    assert result.returncode == 1 and "development installs" in result.stderr
