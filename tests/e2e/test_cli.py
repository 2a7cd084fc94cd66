"""The `whistle` console script, run as a process against a real .ini."""
from __future__ import annotations

import re
import subprocess

import pytest
from sqlalchemy import create_engine, text

from alembic.script import ScriptDirectory

from tests.e2e.server import BIN, ROOT, Server
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
    # The lookup pepper, the session key, the audit key and the metrics token.
    assert first.returncode == 0 and first.stdout.count("(created)") == 4
    assert "whistle.metrics.token:" in first.stdout
    pepper = (server.directory / "var" / "keys" / "lookup_pepper").read_text()
    second = run(server, "keys", "init")
    assert second.stdout.count("exists, left as it is") == 4
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
    # The key used is replaced by a new one, printed once; the old one opens nothing any more.
    new_key = re.search(r"recovery key: (\S+)", result.stdout).group(1)
    assert new_key != recovery_key
    again = run(server, "guardian", "reset-authenticator", "robin", "--recovery-key-stdin", stdin=recovery_key + "\n")
    assert again.returncode == 1 and "do not match" in again.stderr
    password = run(server, "guardian", "reset-password", "robin", "--recovery-key-stdin",
                   stdin=f"{new_key}\nanother long enough password\n")
    assert password.returncode == 0, password.stderr
    assert re.search(r"recovery key: (\S+)", password.stdout).group(1) not in (new_key, recovery_key)


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


def test_channels_load_warns_about_each_channel_nobody_attends(server):
    run(server, "db", "upgrade")
    loaded = run(server, "channels", "load", str(ROOT / "config" / "channels.toml"))
    assert loaded.returncode == 0, loaded.stderr
    warnings = loaded.stderr.strip().splitlines()
    assert len(warnings) == 3, loaded.stderr
    youth = next(line for line in warnings if "'young-peoples-voice'" in line)
    assert "takes no reports: no guardian is assigned to it" in youth
    assert 'guardians = ["USERNAME"]' in youth and "guardian add USERNAME --channel young-peoples-voice" in youth

    enrol = run(server, "guardian", "add", "yp.guardian", "--channel", "young-peoples-voice", "--password-stdin",
                stdin="a long enough password\n")
    assert enrol.returncode == 0, enrol.stderr
    assert run(server, "guardian", "disable", "yp.guardian", "--yes").returncode == 0
    again = run(server, "channels", "load", str(ROOT / "config" / "channels.toml"))
    assert again.returncode == 0
    youth = next(line for line in again.stderr.splitlines() if "'young-peoples-voice'" in line)
    assert "every guardian of it is disabled" in youth and "guardian disable USERNAME --enable" in youth


def test_guardian_add_without_a_terminal_names_password_stdin_in_one_line(server):
    run(server, "db", "upgrade")
    result = subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), "guardian", "add", "sam"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                            start_new_session=True)  # no controlling terminal either
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "whistle: no terminal to type the password on: pipe it in, one line on stdin, with --password-stdin"]
    reset = subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), "guardian", "reset-password", "sam"],
                           stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=120,
                           start_new_session=True)
    assert reset.returncode == 1 and len(reset.stderr.strip().splitlines()) == 1
    assert "--recovery-key-stdin" in reset.stderr


def test_guardian_disable_asks_for_yes_when_a_channel_would_stop_taking_reports(server):
    run(server, "db", "upgrade")
    run(server, "channels", "load", str(ROOT / "config" / "channels.toml"))
    for name in ("alex", "blair"):
        run(server, "guardian", "add", name, "--channel", "raise-a-concern", "--password-stdin",
            stdin="a long enough password\n")
    assert run(server, "guardian", "disable", "alex").returncode == 0, "blair still attends the channel"
    refused = run(server, "guardian", "disable", "blair")
    assert refused.returncode == 1
    assert "will stop taking reports" in refused.stderr and "“Raise a concern”" in refused.stderr
    assert "--yes" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    listed = run(server, "channels", "load", str(ROOT / "config" / "channels.toml"))
    assert "'raise-a-concern'" not in listed.stderr, "blair was not disabled"
    done = run(server, "guardian", "disable", "blair", "--yes")
    assert done.returncode == 0 and "disabled" in done.stdout
    assert "will stop taking reports" in done.stderr


def test_demo_gives_every_shipped_channel_a_guardian_and_prints_the_configured_address(server):
    run(server, "db", "upgrade")
    channels = str(ROOT / "config" / "channels.toml")
    assert run(server, "channels", "load", channels).stderr.count("takes no reports") == 3
    first = run(server, "demo")
    assert first.returncode == 0, first.stderr
    usernames = ("demo.guardian", "demo.youth", "demo.safeguarding", "demo.admin")
    for username in usernames:
        assert f"username: {username}" in first.stdout
    assert first.stdout.count("current code: ") == 4 and first.stdout.count("recovery key: ") == 4
    assert f"Serving on http://127.0.0.1:{server.port} " in first.stdout, "the .ini's listen address"
    assert "6543" not in first.stdout
    assert "Every channel has a guardian and takes reports." in first.stdout
    assert run(server, "channels", "load", channels).stderr == "", "no channel left without a guardian"

    engine = create_engine(f"sqlite:///{server.directory / 'var' / 'whistle.sqlite'}")
    with engine.connect() as connection:
        members = set(connection.execute(text(
            "SELECT c.slug, a.username, m.tier FROM channel_guardians m JOIN channels c ON c.id = m.channel_id "
            "JOIN accounts a ON a.id = m.account_id")).all())
        accounts = {row[0]: row[1:] for row in connection.execute(text(
            "SELECT username, is_guardian, is_admin, notify_channel, notify_address FROM accounts")).all()}
    engine.dispose()
    assert members == {("raise-a-concern", "demo.guardian", 1), ("ideas-for-improvement", "demo.guardian", 1),
                       ("young-peoples-voice", "demo.youth", 1), ("young-peoples-voice", "demo.safeguarding", 2),
                       ("raise-a-concern", "demo.safeguarding", 2)}
    assert accounts["demo.admin"][:2] == (0, 1)
    assert accounts["demo.youth"] == (1, 0, "email", "demo.youth@localhost.localdomain")

    second = run(server, "demo")
    assert "Created" not in second.stdout
    for username in usernames:
        path = server.directory / "var" / f"demo-{username.removeprefix('demo.')}.txt"
        password = next(line for line in path.read_text().splitlines() if line.startswith("password: "))
        assert password in first.stdout and password in second.stdout
    code = run(server, "demo", "code", "demo.youth")
    assert code.returncode == 0 and code.stdout.strip().isdigit()


def test_demo_without_the_channels_file_names_what_it_skipped(server):
    run(server, "db", "upgrade")
    result = run(server, "demo")
    assert result.returncode == 0, result.stderr
    assert "No channel 'young-peoples-voice' (load config/channels.toml first)" in result.stdout
    assert "No channel 'ideas-for-improvement'" in result.stdout
    assert server.demo_credentials()["username"] == "demo.guardian"


def test_channels_load_tells_a_channels_guardians_of_each_one_the_file_adds(server):
    run(server, "db", "upgrade")
    run(server, "channels", "load", str(ROOT / "config" / "channels.toml"))
    for name, channel in (("alex", "raise-a-concern"), ("blair", None)):
        run(server, "guardian", "add", name, *(("--channel", channel) if channel else ()), "--password-stdin",
            stdin="a long enough password\n")
    engine = create_engine(f"sqlite:///{server.directory / 'var' / 'whistle.sqlite'}")

    def query(sql: str) -> list:
        with engine.connect() as connection:
            return connection.execute(text(sql)).all()

    ids = dict(query("SELECT username, id FROM accounts"))
    told_before = query(f"SELECT id FROM notifications WHERE account_id = {ids['alex']}")
    staffed = server.directory / "staffed.toml"
    staffed.write_text('[[channel]]\nslug = "raise-a-concern"\ntitle = "Raise a concern"\n'
                       'guardians = ["alex"]\nsecond_tier_guardians = ["blair"]\n')
    assert run(server, "channels", "load", str(staffed)).returncode == 0
    changes = query("SELECT account_id, tier, made_by FROM staffing_changes WHERE channel_id IS NOT NULL")
    told = query(f"SELECT id FROM notifications WHERE account_id = {ids['alex']}")
    engine.dispose()
    assert (ids["blair"], 2, None) in changes, "the second-tier place, made by the operator"
    assert len(told) == len(told_before) + 1, "the guardian already on the channel is told"
