"""Every sample in config/ read by the program that will read it in production: nginx, HAProxy, tor
and systemd check theirs here (`nginx -t`, `haproxy -c`, `tor --verify-config`, `systemd-analyze
verify`), with the sample's certificates, directories and binaries swapped for throwaway ones and
nothing else changed. Each checker must be installed (`.ci/run` installs them): without it a test
fails, saying what to install. Each test also shows that its checker does refuse a broken sample, so
a checker that accepted anything would not pass unnoticed.
"""
from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

CONFIG = Path(__file__).resolve().parents[2] / "config"
# The samples checked elsewhere: the settings by tests/unit/test_ini_files.py, the channels by loading them.
CHECKED_ELSEWHERE = {"whistle.ini.sample": "tests/unit/test_ini_files.py",
                     "channels.toml": "tests/functional/reporters/test_channels.py"}
CHECKED_HERE = {"nginx.conf.sample", "nginx-onion.conf.sample", "haproxy.cfg.sample", "onion-service.sample",
                "whistle.service.sample", "whistle-tick.service.sample", "whistle-tick.timer.sample"}
TIMEOUT = 60


def checker(name: str, package: str) -> str:
    path = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin:/sbin:/bin")
    if path is None:
        pytest.fail(f"{name} is missing: install it (apt-get install {package}); .ci/run does so in CI")
    return path


def run(*command: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(part) for part in command], capture_output=True, text=True, timeout=TIMEOUT,
                          check=False)


def substituted(sample: str, replacements: dict[str, str], target: Path) -> Path:
    """The sample with each of `replacements` made (each must be found: a sample that moved on
    fails here rather than being checked with production paths in it)."""
    text = (CONFIG / sample).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{sample} no longer has {old!r}: update this test"
        text = text.replace(old, new)
    target.write_text(text, encoding="utf-8")
    return target


def refuses_a_broken_copy(path: Path, broken_line: str, check: Callable[[], subprocess.CompletedProcess]) -> None:
    good = path.read_text(encoding="utf-8")
    path.write_text(good + "\n" + broken_line + "\n", encoding="utf-8")
    try:
        assert check().returncode != 0, f"the checker took {broken_line!r}"
    finally:
        path.write_text(good, encoding="utf-8")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate and its key, for the samples' TLS."""
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "fullchain.pem", directory / "privkey.pem"
    made = run(checker("openssl", "openssl"), "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
               "-subj", "/CN=whistle.example.org", "-keyout", key, "-out", cert)
    assert made.returncode == 0, made.stderr
    return cert, key


def test_every_sample_is_checked():
    assert {path.name for path in CONFIG.iterdir()} == CHECKED_HERE | set(CHECKED_ELSEWHERE)


@pytest.mark.parametrize("sample", ["nginx.conf.sample", "nginx-onion.conf.sample"])
def test_nginx_takes_the_site(sample, tmp_path, certificate):
    nginx = checker("nginx", "nginx")
    cert, key = certificate
    replacements = {"/etc/ssl/whistle/fullchain.pem": str(cert), "/etc/ssl/whistle/privkey.pem": str(key)}
    site = substituted(sample, replacements if sample == "nginx.conf.sample" else {}, tmp_path / "site.conf")
    # The samples are sites (server blocks), included in nginx.conf's http block as Debian's does.
    main = tmp_path / "nginx.conf"
    main.write_text(f"pid {tmp_path}/nginx.pid;\nerror_log stderr;\nevents {{}}\nhttp {{\n    include {site};\n}}\n")

    def check():
        return run(nginx, "-t", "-q", "-p", tmp_path, "-c", main)

    checked = check()
    assert checked.returncode == 0, checked.stderr
    assert "[warn]" not in checked.stderr, checked.stderr
    refuses_a_broken_copy(site, "server { listen 127.0.0.1:8081; no_such_directive on; }", check)


def test_haproxy_takes_its_configuration(tmp_path, certificate):
    haproxy = checker("haproxy", "haproxy")
    cert, key = certificate
    combined = tmp_path / "whistle.pem"  # HAProxy wants the certificate and its key in one file
    combined.write_text(cert.read_text() + key.read_text())
    config = substituted("haproxy.cfg.sample", {"/etc/ssl/whistle/whistle.pem": str(combined)},
                         tmp_path / "haproxy.cfg")

    def check():
        return run(haproxy, "-c", "-f", config)

    checked = check()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "WARNING" not in checked.stdout + checked.stderr, checked.stdout + checked.stderr
    refuses_a_broken_copy(config, "    no-such-keyword here", check)


def test_haproxy_checks_every_node_on_readyz_and_sets_the_client_address_itself():
    text = (CONFIG / "haproxy.cfg.sample").read_text(encoding="utf-8")
    servers = [line.split() for line in text.splitlines() if line.strip().startswith("server ")]
    assert len(servers) >= 2 and all("check" in server for server in servers)
    assert "uri /readyz" in text and "http-check expect status 200" in text
    assert "http-request set-header X-Forwarded-For %[src]" in text
    assert "\n    log " not in text and "option httplog" not in text  # nothing logs a client's address


def test_tor_takes_the_onion_service(tmp_path):
    tor = checker("tor", "tor")
    service, data = tmp_path / "service", tmp_path / "data"
    service.mkdir(mode=0o700)
    data.mkdir(mode=0o700)
    torrc = substituted("onion-service.sample", {"/var/lib/tor/whistle/": f"{service}/"}, tmp_path / "torrc")

    def check():
        return run(tor, "--verify-config", "-f", torrc, "--defaults-torrc", "/dev/null", "--DataDirectory", data)

    checked = check()
    assert checked.returncode == 0, checked.stdout
    assert "Configuration was valid" in checked.stdout
    refuses_a_broken_copy(torrc, "HiddenServicePort not-a-port", check)


def test_systemd_takes_the_units(tmp_path):
    analyze = checker("systemd-analyze", "systemd")
    # The units start binaries of the virtualenv: stand-ins that exist, at a temporary path.
    binaries = tmp_path / "bin"
    binaries.mkdir()
    for name in ("pserve", "whistle"):
        (binaries / name).write_text("#!/bin/sh\n")
        (binaries / name).chmod(0o755)
    venv = {"/opt/whistle/venv/bin/": f"{binaries}/"}
    units = [substituted(f"{unit}.sample", venv if unit.endswith(".service") else {}, tmp_path / unit)
             for unit in ("whistle.service", "whistle-tick.service", "whistle-tick.timer")]

    def check():
        checked = run(analyze, "verify", "--man=no", *units)
        # systemd warns of an unknown key or a bad value and carries on (exit 0): a warning about our units fails too.
        said = [line for line in (checked.stdout + checked.stderr).splitlines() if str(tmp_path) in line
                or line.startswith(("whistle.service", "whistle-tick"))]
        return subprocess.CompletedProcess(checked.args, checked.returncode or (1 if said else 0),
                                           checked.stdout, checked.stderr)

    checked = check()
    assert checked.returncode == 0, checked.stdout + checked.stderr
    refuses_a_broken_copy(units[0], "[Service]\nNoSuchSetting=yes", check)
