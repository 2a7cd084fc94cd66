"""What the language tests share: a report sent through the pages in a language, a guardian's reply
through the API, the mailbox opened with the receipt, and what a page's h1 should say in a language
(looked up in the compiled catalogue, so the tests hold no translations of their own)."""
from __future__ import annotations

import html
import os
import re
import time
import tomllib
from functools import cache
from pathlib import Path

import pyotp
from babel.support import Translations

from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import ROOT

# Where the journeys save their screenshots, if anywhere: the browser suite's one directory for them
# (tests/browser/conftest.py). The test servers inherit it, and whistle leaves WHISTLE_TEST_* alone.
SCREENSHOTS = os.environ.get("WHISTLE_TEST_SCREENSHOTS")

CHANNEL = "raise-a-concern"
LOCALE_DIR = Path(ROOT) / "whistle" / "locale"
RECEIPT = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")


@cache
def catalogue(code: str) -> Translations:
    return Translations.load(str(LOCALE_DIR), [code], "whistle")


@cache
def channel_titles(code: str) -> dict[str, str]:
    """The demo channels' titles in language `code`, by their English title (config/channels.toml)."""
    with open(Path(ROOT) / "config" / "channels.toml", "rb") as handle:
        channels = tomllib.load(handle)["channel"]
    return {channel["title"]: channel["translations"][code]["title"]
            for channel in channels if code in channel.get("translations", {})}


def prefixed(code: str, path: str) -> str:
    return path if code == "en" else f"/{code}{path}"


def words(text: str) -> str:
    """Text as a person reads it: tags gone, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", text)).split())


def english_h1_of(page, path: str) -> str:
    """The h1 of the same address in English, fetched with the page's cookies (the same session)."""
    answer = page.context.request.get(path)
    found = re.search(r"<h1[^>]*>(.*?)</h1>", answer.text(), re.DOTALL)
    assert found, f"no h1 at {path}"
    return words(found.group(1))


def assert_in_language(page, code: str, english_h1: str) -> None:
    """The page's address keeps the language's prefix, <html lang> is the language, and its h1 is the
    catalogue's translation of `english_h1`, which must differ from the English."""
    path = re.sub(r"^https?://[^/]+", "", page.url)
    assert path.startswith(f"/{code}/"), path
    assert page.get_attribute("html", "lang") == code
    shown = " ".join(page.inner_text("h1").split())
    translated = catalogue(code).gettext(english_h1)
    if translated == english_h1:  # a channel's own title: the organisation's words, in channels.toml
        translated = channel_titles(code).get(english_h1, english_h1)
    assert translated != english_h1, f"{code}: no translation of the h1 {english_h1!r}"
    assert shown == " ".join(translated.split()) and shown != english_h1, (code, path, shown)


def send_report(page, code: str, text: str) -> str:
    """From the language's home page: the channel, the form filled and sent; the receipt shown."""
    page.goto(prefixed(code, "/"))
    page.click(f"ul.channels a[href$='/report/{CHANNEL}']")
    page.wait_for_url(f"**/report/{CHANNEL}")
    fill_and_send(page, text)
    return page.locator(".receipt-code code").inner_text()


def fill_and_send(page, text: str) -> None:
    page.fill("#text", text)
    page.check("input[name='answers.ongoing'][value='yes']")
    page.click("#disclosure-form button[type=submit]")
    page.wait_for_url(f"**/report/{CHANNEL}/receipt")


def open_mailbox(page, code: str, receipt: str) -> None:
    page.goto(prefixed(code, "/mailbox"))
    page.fill("#receipt", receipt)
    page.click("#receipt-form button[type=submit]")
    page.wait_for_url("**/mailbox/case")


def api(site, method: str, path: str, data=None, headers=None, expect=(200, 201, 204)):
    status, body = call_json(site.port, method, path, data, headers)
    assert status in expect, (path, status, body)
    return body


def guardian_headers(site) -> dict:
    """A bearer session of the demo guardian. A TOTP code is good once, and other tests sign the same
    account in: a refused code is tried again with the next period's."""
    text = (site.directory / "var" / "demo-guardian.txt").read_text()
    who = {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}
    totp = pyotp.TOTP(who["TOTP secret"])
    for attempt in range(4):
        status, body = call_json(site.port, "POST", "/api/v1/staff/session", {
            "username": who["username"], "password": who["password"], "otp": totp.at(time.time() + 30 * (attempt % 2))})
        if status in (200, 201):
            return {"Authorization": f"Bearer {body['token']}"}
        time.sleep(30 - time.time() % 30 + 1)
    raise AssertionError(f"the demo guardian could not sign in: {status} {body}")


def case_of(site, receipt: str) -> str:
    """The case reference a receipt opens (through the reporter's API, as the mailbox would)."""
    token = api(site, "POST", "/api/v1/reporter/session", {"receipt": receipt})["token"]
    return api(site, "GET", "/api/v1/reporter/case", headers={"Authorization": f"Bearer {token}"})["case"]


def guardian_replies(site, headers: dict, receipt: str, text: str) -> str:
    ref = case_of(site, receipt)
    api(site, "POST", f"/api/v1/cases/{ref}/messages", {"text": text}, headers)
    return ref
