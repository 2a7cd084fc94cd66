"""`whistle channels load`, run as a process: the shipped file loads; a bad one is refused whole."""
from __future__ import annotations

import subprocess

from tests.e2e.server import BIN, ROOT, Server


def run(server, *args) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), "-c", str(server.ini), *args], capture_output=True, text=True,
                          timeout=120)


def test_channels_load_creates_updates_and_names_errors(tmp_path):
    server = Server(tmp_path)
    assert run(server, "db", "upgrade").returncode == 0
    shipped = ROOT / "config" / "channels.toml"
    first = run(server, "channels", "load", str(shipped))
    assert first.returncode == 0, first.stderr
    assert first.stdout.splitlines() == ["created channel 'raise-a-concern'", "created channel 'young-peoples-voice'",
                                         "created channel 'ideas-for-improvement'"]

    bad = tmp_path / "bad.toml"
    bad.write_text(shipped.read_text().replace('type = "yes_no"', 'type = "yes_or_no"', 1))
    refused = run(server, "channels", "load", str(bad))
    assert refused.returncode == 1
    assert "channel 'raise-a-concern', field 'ongoing': type must be one of" in refused.stderr
    assert "nothing was changed" in refused.stderr

    unknown = tmp_path / "guardians.toml"
    unknown.write_text(shipped.read_text().replace('retention_days = 730', 'retention_days = 730\nguardians = ["ghost"]'))
    refused = run(server, "channels", "load", str(unknown))
    assert refused.returncode == 1 and "no account named 'ghost'" in refused.stderr
