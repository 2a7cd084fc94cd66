"""The app serves the browser's crypto module and libsodium.js itself (never a CDN)."""
from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]
VENDOR = ROOT / "whistle" / "static" / "vendor" / "libsodium"


def test_crypto_module_and_libsodium_are_served_as_javascript(testapp):
    for path in (
        "/static/js/crypto.js",
        "/static/vendor/libsodium/libsodium-wrappers.mjs",
        "/static/vendor/libsodium/libsodium-sumo.mjs",
    ):
        response = testapp.get(path, status=200)
        # Browsers refuse a module script of any other type (the responses are nosniff).
        assert response.content_type in ("text/javascript", "application/javascript"), path


def test_the_vendored_copy_is_the_locked_package_with_its_import_made_relative():
    wrappers = (ROOT / "node_modules/libsodium-wrappers-sumo/dist/modules-sumo-esm/libsodium-wrappers.mjs").read_text()
    assert wrappers.count('from"libsodium-sumo"') == 1
    served = (VENDOR / "libsodium-wrappers.mjs").read_text()
    assert served == wrappers.replace('from"libsodium-sumo"', 'from"./libsodium-sumo.mjs"')
    sumo = ROOT / "node_modules/libsodium-sumo/dist/modules-sumo-esm/libsodium-sumo.mjs"
    assert (VENDOR / "libsodium-sumo.mjs").read_bytes() == sumo.read_bytes()
    # crypto.js imports the served copy by a relative URL, which resolves the same on disk (node).
    assert 'from "../vendor/libsodium/libsodium-wrappers.mjs"' in (ROOT / "whistle/static/js/crypto.js").read_text()
