"""development.ini and production.ini: known settings only (whistle's and each plugin's), no secrets,
waitress set to forget clients; development.ini runs every bundled plugin and mails the debugging
mail server on loopback; config/whistle.ini.sample names every setting."""
from __future__ import annotations

import configparser
import importlib
import re
from pathlib import Path

import pytest
from waitress.adjustments import Adjustments

from whistle.settings import loopback_address
from whistle.server import response_buffering
from whistle.settings import FILE_SUFFIX, SPECS

ROOT = Path(__file__).resolve().parents[2]
names = SPECS["whistle.plugins"].parse  # a list of names, as whistle reads whistle.plugins


def sections(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(defaults={"here": str(ROOT)})
    parser.read(ROOT / name)
    return parser


@pytest.mark.parametrize("name", ["development.ini", "production.ini"])
def test_every_whistle_setting_is_known(name):
    app = sections(name)["app:main"]
    for key in app:
        if key.startswith("whistle."):
            assert key in SPECS or key.removesuffix(FILE_SUFFIX) in SPECS, key


def test_production_ini_holds_no_secret():
    app = sections("production.ini")["app:main"]
    for key, spec in SPECS.items():
        if spec.secret:
            assert key not in app, f"{key} must come from a file"
            assert (key + FILE_SUFFIX) in app


@pytest.mark.parametrize("name", ["development.ini", "production.ini", "config/whistle.ini.sample"])
def test_waitress_sends_no_banner_and_takes_a_client_address_only_from_the_local_proxy(name):
    """The client's address reaches the app only as the proxy on this host sets it (one hop), for the
    limits per client (whistle.throttles.client_hash); no other forwarding header is believed."""
    server = dict(sections(name)["server:main"])
    assert server["use"] == "egg:whistle#main"
    assert server["ident"] == ""
    server = {k: v for k, v in server.items() if k not in ("use", "here")}
    adjustments = Adjustments(**response_buffering(server))
    assert adjustments.ident is None
    assert adjustments.clear_untrusted_proxy_headers is True
    assert not {"forwarded", "x-forwarded-host", "x-forwarded-by"} & set(adjustments.trusted_proxy_headers)
    if "x-forwarded-for" in adjustments.trusted_proxy_headers:
        assert adjustments.trusted_proxy == "127.0.0.1" and adjustments.trusted_proxy_count == 1


@pytest.mark.parametrize("name", ["development.ini", "production.ini", "config/whistle.ini.sample"])
def test_waitress_takes_no_more_header_than_a_browser_sends(name):
    server = {k: v for k, v in dict(sections(name)["server:main"]).items() if k not in ("use", "here")}
    assert Adjustments(**response_buffering(server)).max_request_header_size <= 16384


def bundled_plugins() -> set[str]:
    """The entry point names of plugins/whistle_*, from their setup.cfg files."""
    names = set()
    for setup_cfg in ROOT.glob("plugins/whistle_*/setup.cfg"):
        parser = configparser.ConfigParser()
        parser.read(setup_cfg)
        names |= {line.split("=")[0].strip() for line in parser["options.entry_points"]["whistle.plugins"].splitlines()
                  if line.strip()}
    return names


@pytest.mark.parametrize("name", ["development.ini", "production.ini"])
def test_every_plugin_setting_is_known_to_an_enabled_plugin(name):
    app = dict(sections(name)["app:main"])
    enabled = set(names(app.get("whistle.plugins", "")))
    prefixes = {key.split(".")[0] for key in app if key.startswith("whistle_")}
    for prefix in prefixes:
        plugin = importlib.import_module(prefix)
        assert prefix.removeprefix("whistle_") in enabled, f"{prefix}.* keys, but the plugin is not enabled"
        assert plugin.config_from_settings(app), prefix  # raises, naming the key, for one it does not know


def test_development_ini_runs_every_bundled_plugin_and_mails_the_debugging_mail_server():
    app = sections("development.ini")["app:main"]
    assert set(names(app["whistle.plugins"])) == bundled_plugins() and len(bundled_plugins()) == 8
    assert set(names(app["whistle.plugins.plaintext"])) == {"uk_childrens_complaints", "conflicts", "metadata_removal"}
    host, port = loopback_address(app["whistle.dev.mail_server"])
    assert (app["whistle_smtp.host"], int(app["whistle_smtp.port"])) == (host, port)
    assert app["whistle_smtp.starttls"] == "false"


def test_production_ini_runs_no_debugging_mail_server():
    app = sections("production.ini")["app:main"]
    assert not app.get("whistle.dev.mail_server", "").strip()


def test_the_annotated_sample_names_every_setting():
    text = (ROOT / "config" / "whistle.ini.sample").read_text()
    for key in SPECS:
        assert re.search(rf"^(# ?)?{re.escape(key)}({FILE_SUFFIX})? =", text, re.MULTILINE), key
