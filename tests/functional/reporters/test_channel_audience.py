"""What a channel's reporters see, from the form to the mailbox: plain words where the channel asks
for them, a "get help now" panel and a quick exit, and nothing for staff (staff number,
retaliation watch) where its reporters are not staff."""
from __future__ import annotations

import re
import tomllib
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from webtest import TestApp

from tests.factories import holder_keys, make_channel, make_staff, shipped_profiles, submit_api
from tests.functional.reporters.helpers import RECEIPT, come_back, receipt_of
from whistle.cases.models import ITEM_MESSAGE, Case
from whistle.cases.services import add_item
from whistle.intake_channels.services import load_channels
from whistle.config import make_configurator
from whistle.words import day_words

SHIPPED = Path(__file__).resolve().parents[3] / "config" / "channels.toml"
YOUNG, STAFF = "young-peoples-voice", "raise-a-concern"
CHILDLINE = "Talk to Childline: call 0800 1111. It is free, any time, day or night."
STAFF_WORDS = ("Staff number", "staff number", "employer", "demotion", "retaliation", "MiB")


@pytest.fixture
def shipped(dbsession, settings, clock):
    load_channels(dbsession, tomllib.loads(SHIPPED.read_text())["channel"], known_profiles=shipped_profiles())
    make_staff(dbsession, settings, clock, channels=[YOUNG, STAFF])


def send(testapp, slug, text="Someone at the home shouts at us at night.", answers=None):
    """The form sent as a browser without JavaScript sends it: returns (the POST's answer, the receipt page)."""
    form = testapp.get(f"/report/{slug}").forms[0]
    form["text"] = text
    for name, value in (answers or {}).items():
        form[f"answers.{name}"] = value
    sent = form.submit(status=303)
    return sent, sent.follow(status=200)


def assert_young_peoples_page(page):
    """The quick exit first in the page, the help panel, and nothing meant for staff."""
    first = page.html.body.find(True)
    assert "quick-exit" in first["class"], "the quick exit comes before everything else"
    exit_link = first.find("a")
    # Through /exit, which forgets the visit and sends the browser on to the neutral page.
    assert exit_link["href"] == f"/exit/{YOUNG}" and exit_link["rel"] == ["noreferrer"]
    assert exit_link.get_text(strip=True) == "Exit this page"
    panel = page.html.find("aside", class_="help-now")
    assert panel is not None and panel.find("h2").get_text(strip=True) == "Need help now?"
    assert panel.find("a", href="tel:08001111").get_text(strip=True) == CHILDLINE
    assert panel.find("a", href="tel:999") is not None
    for words in STAFF_WORDS:
        assert words not in page.text, words
    assert all(tag.get("src") in ("/static/js/intake.js", "/static/js/session-timeout.js")
               for tag in page.html.find_all("script")), "the form's module and the idle-limit warning only"


def test_the_young_peoples_form_is_plain_has_help_and_a_quick_exit_and_asks_nothing_of_staff(testapp, shipped):
    page = testapp.get(f"/report/{YOUNG}")
    assert_young_peoples_page(page)
    assert "Each file can be up to 1 GB." in page.text, "decimal units, rounded down"
    asked = [i["name"] for i in page.html.find_all("input", type="text") if not i.find_parent(class_="leave-empty")]
    assert asked == ["identity.name", "identity.contact"], "nothing else (beside the field people never see)"
    assert "No, I don&#39;t want to say who I am" in page.text


def test_a_staff_channel_keeps_its_staff_number_and_has_no_quick_exit_or_help_panel(testapp, shipped):
    page = testapp.get(f"/report/{STAFF}")
    assert "Staff number (optional)" in page.text and 'name="identity.personnel_id"' in page.text
    assert "quick-exit" not in page.text and "help-now" not in page.text
    assert "Up to 1 GB per file." in page.text and "MiB" not in page.text


def test_the_form_and_its_text_fields_ask_the_browser_not_to_keep_them(testapp, shipped):
    page = testapp.get(f"/report/{YOUNG}")
    form = page.html.find("form", method="post")
    assert form["autocomplete"] == "off"
    for field in form.find_all(["textarea", "input"]):
        if field.name == "textarea" or field.get("type") in ("text", "date"):
            assert field.get("autocomplete") == "off", field


def test_errors_on_a_plain_channel_are_in_plain_words_and_keep_the_help(testapp, shipped):
    form = testapp.get(f"/report/{YOUNG}").forms[0]
    form["text"] = "   "
    form["identity_mode"] = "confidential"
    page = form.submit(status=422)
    assert_young_peoples_page(page)
    assert "Please write something in this box before you send it." in page.text
    assert "Please write your name, or choose not to say who you are." in page.text
    assert "Please look at the form again" in page.text
    assert "Tell us what happened: this box cannot be empty." not in page.text

    form = testapp.get(f"/report/{STAFF}").forms[0]
    form["text"] = "   "
    assert "Tell us what happened: this box cannot be empty." in form.submit(status=422).text


def test_a_staff_number_is_refused_where_reporters_are_not_staff(testapp, dbsession, shipped):
    answer = testapp.post_json("/api/v1/disclosures", {
        "channel": YOUNG, "text": "Help", "identity_mode": "confidential",
        "identity": {"name": "Sam", "personnel_id": "E1234"}}, status=422).json
    assert answer["errors"] == [{"field": "identity.personnel_id", "message": "This form does not ask for a staff number."}]
    assert dbsession.scalars(select(Case)).all() == []
    # The same on a staff channel is fine.
    testapp.post_json("/api/v1/disclosures", {
        "channel": STAFF, "text": "Help", "answers": {"ongoing": "yes"}, "identity_mode": "confidential",
        "identity": {"name": "Sam", "personnel_id": "E1234"}}, status=201)


def test_the_receipt_page_is_plain_has_help_and_a_quick_exit(testapp, dbsession, shipped):
    sent, page = send(testapp, YOUNG)
    assert sent.location.endswith(f"/report/{YOUNG}/receipt")
    assert not RECEIPT.search(sent.text), "the POST's answer carries no receipt itself"
    assert_young_peoples_page(page)
    assert "Your secret code is:" in page.text and receipt_of(page)
    case = dbsession.scalars(select(Case)).one()
    assert case.ref in page.text
    assert page.html.find("form", action=f"/report/{YOUNG}/receipt/leave").find("button").get_text() == "Leave"


def test_the_receipt_travels_in_a_sealed_cookie_that_ends_with_the_browser(testapp, shipped):
    sent, page = send(testapp, YOUNG)
    (cookie,) = [value for name, value in sent.headerlist if name == "Set-Cookie" and value.startswith("whistle_receipt=")]
    attributes = {part.strip().split("=")[0].lower(): part.strip() for part in cookie.split(";")[1:]}
    assert attributes["path"] == "Path=/", "what __Host- needs, and the mailbox's sign-in and Leave can clear it"
    assert not attributes.keys() & {"max-age", "expires"}, "a session cookie: the sealed value keeps its 15 minutes"
    assert "httponly" in attributes and attributes["samesite"].lower() == "samesite=strict"
    assert "secure" not in attributes, "the tests run with whistle.cookies.secure = false"
    value = cookie.split(";")[0].split("=", 1)[1]
    receipt = receipt_of(page)
    assert receipt not in value and receipt.replace("-", "") not in value, "sealed, not readable"


def test_the_receipt_page_forgets_after_leave_and_after_15_minutes(testapp, shipped, clock):
    _, page = send(testapp, YOUNG)
    receipt = receipt_of(page)
    assert receipt in testapp.get(f"/report/{YOUNG}/receipt").text, "a reload still shows it, until Leave"

    left = page.forms[0].submit(status=200)
    assert "Your secret code is not shown on this device any more." in left.text
    assert_young_peoples_page(left)
    (cookie,) = [value for name, value in left.headerlist if name == "Set-Cookie"]
    assert cookie.startswith("whistle_receipt=;") and "Max-Age=0" in cookie and "Path=/;" in cookie
    again = testapp.get(f"/report/{YOUNG}/receipt", status=200)
    assert not RECEIPT.search(again.text)
    assert "We showed your secret code once" in again.text
    assert again.html.find("a", href="/mailbox").get_text() == "Go back to my message"

    _, page = send(testapp, STAFF, answers={"ongoing": "yes"})
    receipt = receipt_of(page)
    clock.advance(timedelta(minutes=14, seconds=59))
    assert receipt in testapp.get(f"/report/{STAFF}/receipt").text
    clock.advance(timedelta(seconds=1))
    gone = testapp.get(f"/report/{STAFF}/receipt")
    assert receipt not in gone.text and "Your receipt was shown once" in gone.text


def test_a_receipt_cookie_for_another_channel_or_changed_shows_nothing(testapp, shipped):
    _, page = send(testapp, YOUNG)
    receipt = receipt_of(page)
    (value,) = [c.value for c in testapp.cookiejar if c.name == "whistle_receipt"]
    other = TestApp(testapp.app, extra_environ=testapp.extra_environ)
    other.set_cookie("whistle_receipt", value)
    assert receipt not in other.get(f"/report/{STAFF}/receipt").text, "sealed for one channel's page only"
    changed = value[:20] + ("A" if value[20] != "A" else "B") + value[21:]
    other.set_cookie("whistle_receipt", changed)
    assert receipt not in other.get(f"/report/{YOUNG}/receipt", status=200).text
    other.set_cookie("whistle_receipt", "not a sealed value")
    assert other.get(f"/report/{YOUNG}/receipt", status=200)


def test_with_secure_cookies_the_receipt_cookie_is_secure_and_prefixed(raw_settings, settings, clock, tm, dbsession,
                                                                         shipped):
    app = make_configurator(raw_settings, settings=replace(settings, cookies_secure=True), clock=clock).make_wsgi_app()
    browser = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "wsgi.url_scheme": "https", "tm.active": True,
                                          "tm.manager": tm, "app.dbsession": dbsession})
    form = browser.get(f"/report/{YOUNG}").forms[0]
    form["text"] = "Help"
    sent = form.submit(status=303)
    (cookie,) = [value for name, value in sent.headerlist if name == "Set-Cookie" and "receipt" in value]
    assert cookie.startswith("__Host-whistle_receipt=") and "; secure" in cookie.lower()
    assert "Path=/;" in cookie
    page = sent.follow()
    assert receipt_of(page)
    left = page.forms[0].submit()
    (gone,) = [value for name, value in left.headerlist if name == "Set-Cookie" and "receipt" in value]
    assert gone.startswith("__Host-whistle_receipt=;") and "Max-Age=0" in gone and "; secure" in gone.lower(), \
        "a browser ignores a __Host- cookie set without Secure, so it is cleared with Secure too"


def test_the_mailbox_of_a_young_peoples_case_is_plain_with_help_and_no_staff_things(testapp, dbsession, shipped, clock):
    _, page = send(testapp, YOUNG, answers={"happening_now": "yes", "about": ["Me", "A grown-up"]})
    receipt = receipt_of(page)
    case = dbsession.scalars(select(Case)).one()
    case.opened_on = clock.today() - timedelta(days=400)  # every check-in month has passed
    add_item(case, holder_keys(dbsession, case),
             kind=ITEM_MESSAGE, author="guardian", plaintext=b"Thank you for telling us.", today=clock.today())
    dbsession.flush()

    sign_in = testapp.get("/mailbox")
    assert "Your receipt or secret code" in sign_in.text, "the words the receipt page used, before any channel is known"
    mailbox = come_back(testapp, receipt)
    assert_young_peoples_page(mailbox)
    assert "We have got your message. Someone will read it soon." in mailbox.text
    assert "1 new message from the people helping you." in mailbox.text
    assert "The people helping you" in mailbox.text and "handling your report" not in mailbox.text
    assert "retaliation-watch" not in mailbox.text and "question" not in mailbox.text, \
        "no check-in question on a channel for non-staff, though every check-in month has passed"
    assert "If you are treated badly" not in mailbox.text
    # What was sent, with the questions' own words.
    sent = mailbox.html.find(id="what-you-sent")
    assert "Someone at the home shouts at us at night." in sent.text
    answers = [dd.get_text() for dd in sent.find_all("dd")]
    assert answers == ["Yes", "Me, A grown-up"]
    assert [dt.get_text() for dt in sent.find_all("dt")] == ["Is it still happening?", "Who is it about?"]
    assert mailbox.html.find("form", id="message-form")["autocomplete"] == "off"
    assert mailbox.html.find("form", id="identity-form")["autocomplete"] == "off"
    assert "Each file can be up to 1 GB." in mailbox.text

    # Errors stay plain and keep the help.
    empty = mailbox.forms["message-form"].submit(status=422)
    assert "Please write your message before you press Send." in empty.text
    assert_young_peoples_page(empty)

    # A staff number sent anyway is refused, in plain words; a name alone is fine.
    identity = testapp.get("/mailbox/case").forms["identity-form"]
    identity["identity_mode"] = "confidential"
    identity["identity.name"] = "Sam"
    fields = dict(identity.submit_fields())
    fields["identity.personnel_id"] = "E1234"
    refused = testapp.post("/mailbox/case/identity", fields, status=422)
    assert "This form does not ask for a staff number." in refused.text
    assert identity.submit(status=303)

    # And no retaliation watch, even asked for directly.
    token = testapp.get("/mailbox/case").forms["message-form"]["csrf_token"].value
    assert testapp.post("/mailbox/case/protection-consent", {"csrf_token": token, "consent": "yes"},
                        status=409).status_int == 409
    assert case.protection_consent is False

    left = testapp.get("/mailbox/case").forms["leave-form"].submit()
    assert_young_peoples_page(left)
    assert "Your message is closed on this device." in left.text


def test_the_mailbox_of_a_staff_case_keeps_the_staff_number_and_retaliation_watch(testapp, dbsession, shipped, clock):
    _, page = send(testapp, STAFF, answers={"ongoing": "yes"})
    case = dbsession.scalars(select(Case)).one()
    case.opened_on = clock.today() - timedelta(days=100)
    dbsession.flush()
    mailbox = come_back(testapp, receipt_of(page))
    assert "Staff number (optional)" in mailbox.text and 'id="retaliation-watch"' in mailbox.text
    assert "Your report has arrived. Nobody has confirmed reading it yet." in mailbox.text
    assert "quick-exit" not in mailbox.text and "help-now" not in mailbox.text
    assert "There is a new question for you below." in mailbox.text
    sent = mailbox.html.find(id="what-you-sent")
    assert [(dt.get_text(), dt.find_next("dd").get_text()) for dt in sent.find_all("dt")] == [
        ("Is it still happening?", "Yes")], "the answers, under the questions' own words"
    assert mailbox.html.find("dt", string="Sent on").find_next("dd").get_text() == day_words(case.opened_on), \
        "a day in words, not an ISO date"


def test_the_reporter_api_of_a_non_staff_case_has_no_check_ins_and_refuses_consent(testapp, dbsession, shipped, clock):
    sent = submit_api(testapp, YOUNG, answers={"about": ["Me"]})
    case = dbsession.scalars(select(Case)).one()
    case.opened_on = clock.today() - timedelta(days=400)
    dbsession.flush()
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    body = testapp.get("/api/v1/reporter/case", headers=headers).json
    assert body["checkins_due"] == [] and body["news"]["new_questions"] == []
    assert body["status_text"] == "We have got your message. Someone will read it soon."
    assert body["text"] == "Something is wrong on ward 7." and body["answers"] == {"about": ["Me"]}
    assert "question" not in " ".join(body["news"]["summary"]) + body["news"]["check_back"]["text"]
    problem = testapp.post_json("/api/v1/reporter/protection-consent", {"consent": True}, headers=headers, status=409)
    assert "not for staff" in problem.json["detail"]
    assert case.protection_consent is False
