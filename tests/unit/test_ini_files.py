"""development.ini and production.ini: known settings only, no secrets, waitress set to forget clients;
config/whistle.ini.sample names every setting."""
from __future__ import annotations

import configparser
import re
from pathlib import Path

import pytest
from waitress.adjustments import Adjustments

from whistle.server import response_buffering
from whistle.settings import FILE_SUFFIX, SPECS

ROOT = Path(__file__).resolve().parents[2]


def sections(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(defaults={"here": str(ROOT)})
    parser.read(ROOT / name)
    return parser


@pytest.mark.parametrize("name", ["development.ini", "production.ini"])
def test_every_whistle_setting_is_known(name):
    app = sections(name)["app:main"]
    for key in app:
        if key.startswith("whistle."):
            assert key.removesuffix(FILE_SUFFIX) in SPECS, key


def test_production_ini_holds_no_secret():
    app = sections("production.ini")["app:main"]
    for key, spec in SPECS.items():
        if spec.secret:
            assert key not in app, f"{key} must come from a file"
            assert (key + FILE_SUFFIX) in app


@pytest.mark.parametrize("name", ["development.ini", "production.ini"])
def test_waitress_sends_no_banner_and_trusts_no_client_address(name):
    server = dict(sections(name)["server:main"])
    assert server["use"] == "egg:whistle#main"
    assert server["ident"] == ""
    server = {k: v for k, v in server.items() if k not in ("use", "here")}
    adjustments = Adjustments(**response_buffering(server))
    assert adjustments.ident is None
    assert adjustments.clear_untrusted_proxy_headers is True
    assert not {"x-forwarded-for", "forwarded", "x-forwarded-host"} & set(adjustments.trusted_proxy_headers)


def test_the_annotated_sample_names_every_setting():
    text = (ROOT / "config" / "whistle.ini.sample").read_text()
    for key in SPECS:
        assert re.search(rf"^(# ?)?{re.escape(key)}({FILE_SUFFIX})? =", text, re.MULTILINE), key
