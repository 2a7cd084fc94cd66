"""A guardian reading a case in device mode, in a real Chromium against a real server: a report
built and sent in the reporter's browser (a file, a message, who they are) is opened on the
guardian's device — the server holds no key for the sign-in — with the team key the reporter's
client made replaced on this first open; the page shows the disclosure, the answers, the identity
and the message, a file downloads decrypted and equal to the original, and the inbox's search finds
a marker inside a message. Screenshots at a phone's and a desktop's width."""
from __future__ import annotations

import base64
import secrets

import pytest
from sqlalchemy import select

from tests.browser.test_e2e_reporter import open_on_device, write_report
from whistle import crypto
from whistle.accounts.services import private_key_with_password
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case, CaseGrant
from whistle.cli import env
from whistle.security.cookies import cookie_name
from whistle.sessions.services import open_staff_device_session

pytestmark = pytest.mark.browser


def marker(name: str) -> str:
    return f"{name}-{secrets.token_hex(6)}"


def send_report(open_page, tmp_path, text: str, where: str, message: str, name: str, contents: bytes) -> str:
    """The reporter's journey with JavaScript: report with a file, then a message and who they are."""
    (tmp_path / "rota.txt").write_bytes(contents)
    page = open_page(1280, javascript=True)
    write_report(page, text, where, [str(tmp_path / "rota.txt")])
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_url("**/receipt")
    receipt = page.locator(".receipt-code code").inner_text()
    ref = page.locator("[data-slot='case-ref']").inner_text()
    open_on_device(page, receipt)
    page.fill("#text", message)
    page.get_by_role("button", name="Send securely").click()
    page.wait_for_selector("#reply-status:text('Sent.')")
    page.check("#identity-form input[name='identity_mode'][value='confidential']")
    page.fill("[id='identity.name']", name)
    page.fill("[id='identity.personnel_id']", "E-4471")
    page.get_by_role("button", name="Tell them who I am").click()
    page.locator("#identity").get_by_text("You told us who you are.").wait_for()
    return ref


class Guardian:
    """The demo guardian on this server, signed in in device mode: a session that holds no key,
    opened in the server's own database, and the guardian's private key, which the test's browser
    keeps in the tab as the sign-in with JavaScript does."""

    def __init__(self, site, monkeypatch) -> None:
        credentials = site.demo_credentials()
        monkeypatch.chdir(site.directory)  # the .ini's paths are the server's, relative to its directory
        self.environment = env.load(str(site.ini))
        with env.dbsession(self.environment) as dbsession:
            account = dbsession.scalars(select(Account).where(Account.username == credentials["username"])).one()
            self.account_id = account.id
            self.private_key = private_key_with_password(account, credentials["password"])
            self.token = open_staff_device_session(dbsession, self.environment.settings, self.environment.clock,
                                                   account_id=account.id)

    def sign_in(self, page, site) -> None:
        settings = self.environment.settings
        page.context.add_cookies([{"name": cookie_name("whistle_staff", settings.cookies_secure), "value": self.token,
                                   "url": f"http://127.0.0.1:{site.port}"}])
        page.goto("/staff/cases")
        assert page.locator("meta[name='whistle-mode']").get_attribute("content") == "device"
        stored = page.evaluate("""async ([key, account]) => {
            const keyring = await import("/static/js/keyring.js");
            const crypto = await import("/static/js/crypto.js");
            return keyring.storeKey(crypto.fromBase64(key), account);
        }""", [base64.b64encode(self.private_key).decode("ascii"), self.account_id])
        assert stored

    def case(self, ref: str):
        with env.dbsession(self.environment) as dbsession:
            case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
            grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                              CaseGrant.account_id == self.account_id)).one()
            replaced = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                                  AuditEvent.action == "case.team_key_replaced")).all()
            return (case.team_public_key, case.team_key_replaced, grant.case_key_binding, len(replaced))


def test_a_report_sent_from_a_browser_is_read_on_the_guardians_device(open_page, site, screenshots, tmp_path,
                                                                       monkeypatch):
    text, where, message, name = marker("TEXT-rota"), marker("WHERE-ward"), marker("MESSAGE-still"), marker("NAME-Sam")
    contents = (marker("FILE") + "\n").encode() * 5000  # more than one stream chunk
    ref = send_report(open_page, tmp_path, text, where, message, name, contents)
    guardian = Guardian(site, monkeypatch)
    team_key_before, replaced, binding, _ = guardian.case(ref)
    assert not replaced and binding is None

    page = open_page(390, javascript=True, accept_downloads=True)
    guardian.sign_in(page, site)
    page.goto(f"/staff/cases/{ref}")
    assert text not in page.content().split("<main", 1)[0]
    page.wait_for_selector("html[data-case-opened='true']")
    main = page.inner_text("main")
    assert text in page.inner_text(".disclosure")
    assert where in page.inner_text("dl.answers")
    assert name in page.inner_text("dl.identity") and "E-4471" in main
    assert "Confidential: only guardians know who they are" in main
    assert message in page.inner_text("article.message.from-reporter")
    assert "needs JavaScript" not in main
    # First open: the binding is the device's, and the reporter's client's team key is replaced.
    team_key_after, replaced, binding, events = guardian.case(ref)
    assert replaced and team_key_after != team_key_before and binding is not None and events == 1
    page.wait_for_load_state("load")  # measured before the stylesheet applies, anything may overflow
    assert page.evaluate("document.documentElement.scrollWidth") <= 390, "nothing wider than the screen"
    # What people wrote takes its own direction (an Arabic reply reads right to left on an English
    # page); a file's name reads left to right inside a right-to-left page.
    assert page.get_attribute(".disclosure", "dir") == "auto"
    assert page.get_attribute("article.message.from-reporter p", "dir") == "auto"
    assert page.locator("dl.answers dd").first.get_attribute("dir") == "auto"
    assert page.locator("dl.identity dd", has_text=name).get_attribute("dir") == "auto"
    assert page.locator("#files-from-reporter").get_by_role("link", name="rota.txt").get_attribute("dir") == "ltr"
    screenshots(page, "device-01-case")

    with page.expect_download() as download:
        page.locator("#files-from-reporter").get_by_role("link", name="rota.txt").click()
    assert download.value.suggested_filename == "rota.txt"
    assert open(download.value.path(), "rb").read() == contents

    # Opened again: the device checks its own binding and the new team key; nothing is replaced again.
    page.reload()
    page.wait_for_selector("html[data-case-opened='true']")
    assert name in page.inner_text("dl.identity")
    assert guardian.case(ref)[3] == 1

    page.goto("/staff/cases")
    page.fill("#device-search-query", message[-12:].upper())
    page.get_by_role("button", name="Search").click()
    page.locator("[data-search-status]").get_by_text("1 match in 1 case.").wait_for()
    results = page.inner_text("[data-search-results]")
    assert ref in results and "in a message" in results and message in results
    assert page.locator("[data-search-results] q").first.get_attribute("dir") == "auto"
    screenshots(page, "device-02-search")


def test_a_case_page_opened_wide_and_without_the_key_says_to_sign_in_again(open_page, site, screenshots, tmp_path,
                                                                           monkeypatch):
    ref = send_report(open_page, tmp_path, marker("TEXT"), marker("WHERE"), marker("MESSAGE"), marker("NAME"), b"x")
    guardian = Guardian(site, monkeypatch)
    page = open_page(1280, javascript=True)
    guardian.sign_in(page, site)
    page.goto(f"/staff/cases/{ref}")
    page.wait_for_selector("html[data-case-opened='true']")
    screenshots(page, "device-03-case")
    page.evaluate("sessionStorage.clear()")
    page.reload()
    page.locator(".disclosure, [data-case-content='disclosure']").get_by_text(
        "Sign in again to open cases on this device.").wait_for()
    # Without JavaScript the page says why it is empty.
    plain = open_page(390)
    plain.context.add_cookies([{"name": "whistle_staff", "value": guardian.token, "url": f"http://127.0.0.1:{site.port}"}])
    plain.goto(f"/staff/cases/{ref}")
    assert "needs JavaScript" in plain.inner_text("[data-case-content='disclosure']")
    assert plain.locator("#device-search").count() == 0 or not plain.locator("#device-search").is_visible()
