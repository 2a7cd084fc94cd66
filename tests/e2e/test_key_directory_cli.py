"""The organisation key and the offline signing flow, as processes: `keys org-init`, then
`directory-draft` on the server, `sign-directory --draft` anywhere (no .ini, no database), and
`publish-directory` on the server; the running server then serves what was signed and seals to it."""
from __future__ import annotations

import base64
import json
import re
import stat
import subprocess

from tests.e2e.server import BIN, Browser, Server
from whistle import crypto


def run(*args: str, stdin: str | None = None, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([str(BIN / "whistle"), *args], input=stdin, capture_output=True, text=True, timeout=120,
                          cwd=cwd, check=False)


def test_org_init_makes_the_key_pair_once_and_prints_the_fingerprint(tmp_path):
    server = Server(tmp_path)
    keys = tmp_path
    for made in ("org_signing_key", "org_public_key"):
        (keys / made).unlink()
    offline = tmp_path / "usb" / "org.key"
    first = run("-c", str(server.ini), "keys", "org-init", "--out", str(offline))
    assert first.returncode == 0, first.stderr
    public_key = crypto.read_public_key_text((keys / "org_public_key").read_text())
    assert f"fingerprint:         {crypto.fingerprint(public_key)}" in first.stdout
    assert "Move the private key offline" in first.stdout
    assert stat.S_IMODE(offline.stat().st_mode) == 0o600
    assert crypto.SigningKey.read(offline).public_key == public_key
    again = run("-c", str(server.ini), "keys", "org-init", "--out", str(offline))
    assert again.returncode == 1 and "already made" in again.stderr
    assert crypto.SigningKey.read(offline).public_key == public_key, "never replaced"


def test_the_offline_flow_round_trip_and_the_server_serves_and_seals_to_what_was_signed(tmp_path):
    server = Server(tmp_path)
    # As in production: no auto_sign, and the private key on removable media, not named by the .ini.
    ini = server.ini.read_text()
    ini = re.sub(r"^whistle\.org\.signing_key_file = .*\n", "", ini, flags=re.MULTILINE)
    server.ini.write_text(ini.replace("whistle.org.auto_sign = true", "whistle.org.auto_sign = false"))
    offline = tmp_path / "usb" / "org.key"
    offline.parent.mkdir()
    (tmp_path / "org_signing_key").rename(offline)
    config = ("-c", str(server.ini))
    assert run(*config, "db", "upgrade").returncode == 0
    demo = run(*config, "demo")
    assert demo.returncode == 0 and "Still taking no reports" in demo.stdout, "nothing is signed yet"

    draft = run(*config, "keys", "directory-draft")
    assert draft.returncode == 0 and "No key directory has been signed yet" in draft.stderr
    (tmp_path / "draft.json").write_text(draft.stdout)
    # Anywhere, with no .ini and no database: the signing machine.
    signed = run("-c", "/nonexistent.ini", "keys", "sign-directory", "--draft", str(tmp_path / "draft.json"),
                 "--key", str(offline), cwd=tmp_path / "usb")
    assert signed.returncode == 0, signed.stderr
    (tmp_path / "signed.json").write_text(signed.stdout)
    published = run(*config, "keys", "publish-directory", str(tmp_path / "signed.json"))
    assert published.returncode == 0 and "published version 1" in published.stdout, published.stderr
    again = run(*config, "keys", "publish-directory", str(tmp_path / "signed.json"))
    assert again.returncode == 1 and "versions only go up" in again.stderr

    # Signed by any other key, the next version is refused.
    intruder = tmp_path / "intruder.key"
    crypto.SigningKey.generate().write(intruder)
    draft = run(*config, "keys", "directory-draft").stdout
    (tmp_path / "draft2.json").write_text(draft)
    forged = run("keys", "sign-directory", "--draft", str(tmp_path / "draft2.json"), "--key", str(intruder)).stdout
    (tmp_path / "forged.json").write_text(forged)
    refused = run(*config, "keys", "publish-directory", str(tmp_path / "forged.json"))
    assert refused.returncode == 1 and "not the organisation key's" in refused.stderr

    server.start()
    try:
        browser = Browser(server.port)
        served = json.loads(browser.request("GET", "/api/v1/channels/raise-a-concern/keys").body)
        document = served["document"].encode("utf-8")
        crypto.verify_directory(document, base64.b64decode(served["signature"]), server.org_key.public_key)
        listed = json.loads(document)
        assert listed["version"] == 1 and served["key"] == crypto.fingerprint(server.org_key.public_key)
        username = server.demo_credentials()["username"]
        assert username in {entry["username"] for entry in listed["guardians"].values()}
        report = {"channel": "raise-a-concern", "text": "The fire door is chained.", "answers": {"ongoing": "yes"}}
        sent = browser.request("POST", "/api/v1/disclosures", json.dumps(report).encode(),
                               {"Content-Type": "application/json"})
        assert sent.status == 201, sent.text
    finally:
        server.stop()
