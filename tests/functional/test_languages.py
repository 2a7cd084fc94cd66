"""Choosing a language by address: /cy/… is Welsh, /ar/… Arabic right to left, with no cookie and
nothing from the client deciding it; every link a page makes stays in its language; the browser
modules get their catalogue from the same prefix."""
from __future__ import annotations

import re

import pytest

from whistle.i18n import LANGUAGES, language_of_path, link_in_language


@pytest.mark.parametrize(("path", "expected"), [
    ("/cy/report/x", ("cy", "/report/x")), ("/cy", ("cy", "/")), ("/cy/", ("cy", "/")),
    ("/report/x", ("en", "/report/x")), ("/cyx/report", ("en", "/cyx/report")), ("/", ("en", "/")),
    ("/ar/api/v1/channels", ("ar", "/api/v1/channels")), ("/en/report", ("en", "/en/report")),
])
def test_the_language_is_the_first_segment_of_the_address(path, expected):
    assert language_of_path(path) == expected


@pytest.mark.parametrize(("link", "code", "expected"), [
    ("https://x.org/staff/login", "cy", "https://x.org/cy/staff/login"),
    ("https://x.org/staff/login", "en", "https://x.org/staff/login"),
    ("https://x.org/staff/login", None, "https://x.org/staff/login"),
    ("https://x.org/speakup/staff/login?next=1", "ar", "https://x.org/speakup/ar/staff/login?next=1"),
    ("https://x.org/cy/staff/login", "pl", "https://x.org/pl/staff/login"),
    ("https://x.org/cy/staff/login", "en", "https://x.org/staff/login"),
    ("https://x.org/cy/staff/login", None, "https://x.org/cy/staff/login"),
    ("https://x.org/login", "cy", "https://x.org/login"),
    ("https://x.org/staffroom/login", "cy", "https://x.org/staffroom/login"),
    ("https://x.org/staff/login", "x/../y", "https://x.org/staff/login"),
])
def test_a_staff_link_in_a_language_gets_its_prefix_in_front_of_staff(link, code, expected):
    assert link_in_language(link, code) == expected


@pytest.mark.parametrize("code", ["cy", "pl", "ar"])
def test_a_prefixed_home_page_is_in_that_language_and_its_links_keep_the_prefix(testapp, code):
    page = testapp.get(f"/{code}/", status=200)
    assert f'<html lang="{code}" dir="{LANGUAGES[code].direction}">' in page.text
    assert "Set-Cookie" not in page.headers
    assert f'href="/{code}/staff/login"' in page.text
    assert f'href="/{code}/static/whistle.css"' in page.text or f'/{code}/static/whistle.css' in page.text


def test_a_trans_block_over_several_lines_is_one_message_and_is_translated(testapp):
    """The home page's lead paragraph spans two lines of its template: the app and the extractor both
    trim the block to one line of words, so the catalogue has it and the page shows it."""
    english = " ".join(testapp.get("/").html.select_one("p.lead").text.split())
    assert english.startswith("If you have seen something") and "\n" not in testapp.get("/").html.select_one(
        "p.lead").text, "one line of words, not the template's layout"
    welsh = testapp.get("/cy/").html.select_one("p.lead").text
    assert welsh.startswith("Os ydych chi wedi gweld rhywbeth") and "Only the people" not in welsh


def test_the_home_page_offers_every_language_in_its_own_name(testapp):
    page = testapp.get("/", status=200)
    choice = page.html.select_one("nav.language-choice")
    links = {a["lang"]: (a["href"], a.get_text(strip=True)) for a in choice.select("a")}
    assert links == {"en": ("/", "English"), "cy": ("/cy/", "Cymraeg"), "pl": ("/pl/", "Polski"),
                     "ar": ("/ar/", "العربية")}
    assert choice.select_one('a[aria-current="page"]')["lang"] == "en"


def test_the_same_page_in_another_language_is_linked_from_every_page(testapp):
    page = testapp.get("/cy/mailbox", status=200)
    links = {a["lang"]: a["href"] for a in page.html.select("nav.languages a")}
    assert links == {"en": "/mailbox", "pl": "/pl/mailbox", "ar": "/ar/mailbox"}


def test_an_unknown_prefix_is_an_unknown_page(testapp):
    testapp.get("/xx/mailbox", status=404)


def test_the_browser_catalogue_is_served_per_language_as_a_module(testapp):
    english = testapp.get("/i18n/catalogue.js", status=200)
    assert english.content_type == "text/javascript"
    assert english.text == "export default {};\n"
    welsh = testapp.get("/cy/i18n/catalogue.js", status=200)
    assert re.fullmatch(r"export default \{.*\};\n", welsh.text, re.DOTALL)


def test_the_page_names_its_catalogue_under_its_prefix(testapp):
    page = testapp.get("/pl/", status=200)
    assert page.html.select_one('meta[name="whistle-catalogue"]')["content"] == "/pl/i18n/catalogue.js"


def test_an_error_page_offers_the_home_page_in_each_language_not_the_address(testapp):
    page = testapp.get("/cy/no-such-page", status=404)
    links = {a["lang"]: a["href"] for a in page.html.select("nav.languages a")}
    assert links == {"en": "/", "pl": "/pl/", "ar": "/ar/"}


def test_the_json_api_answers_marked_text_in_english_with_its_markers_filled(testapp):
    from pyramid.renderers import RendererHelper

    from whistle.i18n import _

    json = RendererHelper(name="json", registry=testapp.app.registry)
    answer = {"said": _("Sent on ${day}.", mapping={"day": "4 March 2027"}), "labels": [_("Received")]}
    assert json.render(answer, None) == '{"said": "Sent on 4 March 2027.", "labels": ["Received"]}'

