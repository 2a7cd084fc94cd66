"""The desk in Chromium: the staff sign-in page and a page that encrypts in the browser, loaded through
`whistle desk` from a server whose cookies are `__Host-` and Secure, run under the desk's CSP without
a single violation, and Chromium keeps the server's cookies on http://127.0.0.1."""
from __future__ import annotations

import pytest

from tests.e2e.desk import DeskProcess, fingerprint_of
from tests.e2e.server import ROOT, Server

CHANNEL = "raise-a-concern"
# Runs before the page's own scripts (Playwright injects it, outside the page's CSP) and keeps every
# CSP violation the page reports.
WATCH_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (event) => window.__violations.push(`${event.violatedDirective} ${event.blockedURI}`));
"""


@pytest.fixture
def desk(tmp_path):
    server = Server(tmp_path)
    server.ini.write_text(server.ini.read_text().replace("whistle.cookies.secure = false",
                                                         "whistle.cookies.secure = true"))
    server.start()
    desk = None
    try:
        server.whistle("channels", "load", str(ROOT / "config" / "channels.toml"))
        desk = DeskProcess(f"http://127.0.0.1:{server.port}", tmp_path, "--fingerprint", fingerprint_of(server))
        assert desk.wait_serving(), desk.output()
        yield desk
    finally:
        if desk is not None:
            desk.stop()
        server.stop()


def test_pages_through_the_desk_run_without_a_csp_violation_and_keep_their_cookies(chromium, desk):
    context = chromium.new_context(base_url=f"http://127.0.0.1:{desk.port}", java_script_enabled=True)
    try:
        context.add_init_script(WATCH_VIOLATIONS)
        page = context.new_page()
        console = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))

        answer = page.goto("/staff/login")
        assert answer is not None and answer.status == 200
        assert "script-src 'self' 'wasm-unsafe-eval'" in answer.headers["content-security-policy"]
        assert page.evaluate("window.__violations") == []
        cookies = {cookie["name"]: cookie for cookie in context.cookies()}
        assert any(name.startswith("desk-host-whistle_") for name in cookies), cookies
        assert not any(cookie["secure"] for cookie in cookies.values())

        # A page that loads the app's module scripts and libsodium's WebAssembly from the desk, and
        # fetches the key directory through it (checked by the desk against the pin).
        page.goto(f"/report/{CHANNEL}")
        page.wait_for_selector("#key-fingerprint")
        assert fingerprint_of_page(page).endswith(fingerprint_of_desk(page))
        assert page.evaluate("window.__violations") == []
        assert not [line for line in console if "Content Security Policy" in line], console
    finally:
        context.close()


def fingerprint_of_page(page) -> str:
    return page.locator("#key-fingerprint").inner_text().strip()


def fingerprint_of_desk(page) -> str:
    return page.evaluate("fetch('/desk/organisation.json').then((answer) => answer.json())")["fingerprint"]
