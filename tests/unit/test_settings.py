"""Settings: defaults < .ini < WHISTLE_* environment < *_file secrets; unknown keys refused."""
from __future__ import annotations

import base64

import pytest

from whistle.settings import ConfigurationError, create_key_file, env_name, load_settings


@pytest.fixture
def raw(tmp_path):
    pepper, session, audit = tmp_path / "pepper", tmp_path / "session", tmp_path / "keys" / "audit_key"
    create_key_file(pepper)
    create_key_file(session)
    create_key_file(audit)
    return {
        "whistle.audit.key_file": str(audit),
        "whistle.db.url": "sqlite:///ini.sqlite",
        "whistle.storage.dir": str(tmp_path / "blobs"),
        "whistle.secrets.lookup_pepper_file": str(pepper),
        "whistle.secrets.session_key_file": str(session),
        "pyramid.reload_templates": "true",  # other frameworks' keys are not ours to judge
    }


def test_defaults_fill_what_the_ini_leaves_out(raw):
    settings = load_settings(raw, environ={})
    assert settings.db_url == "sqlite:///ini.sqlite"
    assert settings.staff_session_idle.total_seconds() == 30 * 60
    assert settings.staff_session_absolute.total_seconds() == 8 * 3600
    assert (settings.kdf.opslimit, settings.kdf.memlimit) == (2, 64 * 1024 * 1024)
    assert settings.cookies_secure is True
    assert len(settings.lookup_pepper) == len(settings.session_key) == 32


def test_environment_beats_the_ini_and_a_file_beats_both(raw, tmp_path):
    url_file = tmp_path / "url"
    url_file.write_text("sqlite:///from-file.sqlite\n")
    assert load_settings(raw, environ={"WHISTLE_DB_URL": "sqlite:///env.sqlite"}).db_url == "sqlite:///env.sqlite"
    environ = {"WHISTLE_DB_URL": "sqlite:///env.sqlite", "WHISTLE_DB_URL_FILE": str(url_file)}
    assert load_settings(raw, environ=environ).db_url == "sqlite:///from-file.sqlite"
    assert load_settings({**raw, "whistle.db.url_file": str(url_file)}, environ={}).db_url == "sqlite:///from-file.sqlite"


def test_settings_are_frozen(raw):
    settings = load_settings(raw, environ={})
    with pytest.raises(AttributeError):
        settings.db_url = "other"


def test_unknown_keys_are_refused_by_name(raw):
    with pytest.raises(ConfigurationError, match="whistle.db.ulr"):
        load_settings({**raw, "whistle.db.ulr": "x"}, environ={})
    with pytest.raises(ConfigurationError, match="WHISTLE_DB_ULR"):
        load_settings(raw, environ={"WHISTLE_DB_ULR": "x"})


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("whistle.cookies.secure", "perhaps", "whistle.cookies.secure"),
        ("whistle.kdf.opslimit", "many", "whistle.kdf.opslimit"),
        ("whistle.kdf.memlimit", "10", "Argon2id cost"),
    ],
)
def test_bad_values_name_the_key(raw, key, value, message):
    with pytest.raises(ConfigurationError, match=message):
        load_settings({**raw, key: value}, environ={})


def test_a_missing_key_file_says_how_to_make_one(raw, tmp_path):
    raw["whistle.secrets.lookup_pepper_file"] = str(tmp_path / "absent")
    with pytest.raises(ConfigurationError, match="keys init"):
        load_settings(raw, environ={})


def test_the_audit_key_is_required_and_a_missing_or_unreadable_file_is_named(raw, tmp_path):
    without = {key: value for key, value in raw.items() if key != "whistle.audit.key_file"}
    with pytest.raises(ConfigurationError, match=r"missing setting 'whistle.audit.key' \(set whistle.audit.key_file "
                                                 r"and run `whistle -c FILE keys init`\)"):
        load_settings(without, environ={})
    absent = tmp_path / "keys" / "absent"
    with pytest.raises(ConfigurationError, match=f"whistle.audit.key_file: cannot read {absent}: No such file"):
        load_settings({**raw, "whistle.audit.key_file": str(absent)}, environ={})


def test_the_checkpoints_go_beside_the_audit_key_file_unless_set(raw, tmp_path):
    settings = load_settings(raw, environ={})
    assert settings.audit_checkpoint_file == tmp_path / "keys" / "audit-checkpoints"
    assert base64.b64decode((tmp_path / "keys" / "audit_key").read_text()) == settings.audit_key
    elsewhere = tmp_path / "log" / "checkpoints"
    assert load_settings({**raw, "whistle.audit.checkpoint_file": str(elsewhere)}, environ={}) \
        .audit_checkpoint_file == elsewhere
    # A key given without a file (the environment) has nothing to stand beside: say where.
    without = {key: value for key, value in raw.items() if key != "whistle.audit.key_file"}
    key = base64.b64encode(bytes(32)).decode()
    with pytest.raises(ConfigurationError, match="whistle.audit.checkpoint_file"):
        load_settings(without, environ={"WHISTLE_AUDIT_KEY": key})
    assert load_settings(without, environ={"WHISTLE_AUDIT_KEY": key, "WHISTLE_AUDIT_CHECKPOINT_FILE": str(elsewhere)}) \
        .audit_checkpoint_file == elsewhere


def test_autocreate_makes_missing_key_files_private(raw, tmp_path):
    path = tmp_path / "keys" / "new_pepper"
    settings = load_settings({**raw, "whistle.secrets.lookup_pepper_file": str(path),
                              "whistle.secrets.autocreate": "true"}, environ={})
    assert path.stat().st_mode & 0o777 == 0o600
    assert base64.b64decode(path.read_text()) == settings.lookup_pepper


def test_key_files_are_never_overwritten(tmp_path):
    path = tmp_path / "k"
    assert create_key_file(path) is True
    before = path.read_text()
    assert create_key_file(path) is False
    assert path.read_text() == before


def test_a_malformed_key_is_refused(raw, tmp_path):
    bad = tmp_path / "bad"
    bad.write_text("not base64!")
    with pytest.raises(ConfigurationError, match="lookup_pepper"):
        load_settings({**raw, "whistle.secrets.lookup_pepper_file": str(bad)}, environ={})


def test_settings_repr_shows_no_key_material(raw):
    settings = load_settings(raw, environ={})
    assert base64.b64encode(settings.lookup_pepper).decode() not in repr(settings)
    assert repr(settings.lookup_pepper) not in repr(settings)


def test_env_names():
    assert env_name("whistle.db.url") == "WHISTLE_DB_URL"
    assert env_name("whistle.secrets.session_key_file") == "WHISTLE_SECRETS_SESSION_KEY_FILE"


def test_the_debugging_mail_server_is_off_by_default_and_listens_on_loopback_only(raw):
    assert load_settings(raw, environ={}).dev_mail_server is None
    for value, expected in (("127.0.0.1:8025", ("127.0.0.1", 8025)), ("[::1]:2525", ("::1", 2525)),
                            (" 127.0.0.2:25 ", ("127.0.0.2", 25)), ("", None)):
        assert load_settings(dict(raw, **{"whistle.dev.mail_server": value}), environ={}).dev_mail_server == expected
    for value, words in (("0.0.0.0:8025", "not a loopback address"), ("192.168.1.5:25", "not a loopback address"),
                         ("[::]:25", "not a loopback address"), ("localhost:8025", "not an IP address"),
                         ("127.0.0.1", "expected a loopback address and a port"),
                         ("127.0.0.1:0", "expected a loopback address and a port"),
                         ("127.0.0.1:70000", "expected a loopback address and a port")):
        with pytest.raises(ConfigurationError, match=words) as refused:
            load_settings(dict(raw, **{"whistle.dev.mail_server": value}), environ={})
        assert "whistle.dev.mail_server" in str(refused.value)
    with pytest.raises(ConfigurationError, match="not a loopback address"):
        load_settings(raw, environ={"WHISTLE_DEV_MAIL_SERVER": "10.0.0.1:25"})


def test_the_display_time_zone_is_utc_unless_set_and_is_checked_at_start_up(raw):
    from datetime import datetime, timezone

    assert load_settings(raw, environ={}).display_timezone == timezone.utc
    london = load_settings({**raw, "whistle.display.timezone": "Europe/London"}, environ={}).display_timezone
    assert datetime(2026, 7, 1, 12, tzinfo=london).tzname() == "BST"
    environ = {"WHISTLE_DISPLAY_TIMEZONE": "Europe/Paris"}
    assert datetime(2026, 1, 1, tzinfo=load_settings(raw, environ=environ).display_timezone).tzname() == "CET"
    for wrong in ("Europe/Londn", "GMT+25", "../../etc/passwd", ""):
        with pytest.raises(ConfigurationError, match="whistle.display.timezone.*IANA name"):
            load_settings({**raw, "whistle.display.timezone": wrong}, environ={})


def test_argon2id_concurrency_is_bounded_by_cpus_and_memory_unless_set(raw):
    settings = load_settings(raw, environ={})
    # Automatic: the CPUs, but no more than 512 MiB of Argon2id memory at the default 64 MiB.
    assert 1 <= settings.kdf_concurrency <= 8
    assert settings.kdf_wait == 5
    costly = load_settings({**raw, "whistle.kdf.memlimit": str(512 * 1024**2)}, environ={})
    assert costly.kdf_concurrency == 1
    chosen = load_settings({**raw, "whistle.kdf.concurrency": "3", "whistle.kdf.wait_seconds": "0.25"}, environ={})
    assert (chosen.kdf_concurrency, chosen.kdf_wait) == (3, 0.25)
    for key, value in (("whistle.kdf.concurrency", "-1"), ("whistle.kdf.wait_seconds", "-1"),
                       ("whistle.kdf.wait_seconds", "soon")):
        with pytest.raises(ConfigurationError, match=key):
            load_settings({**raw, key: value}, environ={})


def test_proof_of_work_is_on_by_default_and_its_difficulty_checked(raw):
    settings = load_settings(raw, environ={})
    assert (settings.proof_of_work, settings.proof_of_work_bits) == (True, 19)
    assert settings.proof_of_work_lifetime.total_seconds() == 3600
    assert load_settings({**raw, "whistle.intake.proof_of_work": "false"}, environ={}).proof_of_work is False
    for key, value in (("whistle.intake.proof_of_work_bits", "0"), ("whistle.intake.proof_of_work_bits", "33"),
                       ("whistle.intake.proof_of_work_minutes", "0")):
        with pytest.raises(ConfigurationError, match=key):
            load_settings({**raw, key: value}, environ={})
