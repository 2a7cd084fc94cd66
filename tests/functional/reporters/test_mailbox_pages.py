"""The reporter's whole side through the HTML forms, as a browser without JavaScript drives it."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from webtest import Upload

from tests.factories import api_login, holder_keys, html_login, make_channel, make_live_channel, make_staff
from tests.functional.reporters.helpers import come_back, open_channel, receipt_of, submit_disclosure
from whistle.cases.models import ITEM_MESSAGE, Case
from whistle.cases.services import add_item


def test_submit_with_a_file_then_come_back_read_reply_and_answer(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])

    page = open_channel(testapp, "Channel staff")
    assert "encrypted" in page.text and "We keep nothing about your device" in page.text
    assert [tag.get("src") for tag in page.html.find_all("script")] == ["/static/js/intake.js"], "only the module"
    sent = submit_disclosure(testapp, files=[("rota.txt", b"night rota: nobody on the fire exit", "text/plain")])
    assert sent.status_int == 200, sent.text
    receipt = receipt_of(sent)
    assert "shown only this once" in sent.text

    # Forgiving: small letters, spaces instead of hyphens.
    case_page = come_back(testapp, "  " + receipt.lower().replace("-", " ") + " ")
    assert case_page.status_int == 200, case_page.text
    assert "Your report has arrived" in case_page.text
    assert "rota.txt" in case_page.text
    # Nothing runs without JavaScript; with it, only the idle-limit warning.
    assert [tag.get("src") for tag in case_page.html.find_all("script")] == ["/static/js/session-timeout.js"]

    # The reporter downloads their own file back.
    download = case_page.click(description="rota.txt")
    assert download.body == b"night rota: nobody on the fire exit"
    assert download.headers["Content-Disposition"].startswith("attachment;")

    # A guardian's reply shows up.
    case = dbsession.scalars(select(Case)).one()
    add_item(case, holder_keys(dbsession, case),
             kind=ITEM_MESSAGE, author="guardian", plaintext=b"Thank you. Which nights?", today=clock.today())
    dbsession.flush()
    case_page = testapp.get("/mailbox/case")
    assert "Thank you. Which nights?" in case_page.text and "(new)" in case_page.text

    # The reporter answers, with a file, through the multipart form.
    form = case_page.forms["message-form"]
    form["text"] = "Every Friday and Saturday."
    form["files"] = [Upload("photo.jpg", b"\xff\xd8 fake jpeg", "image/jpeg")]
    after = form.submit().follow()
    assert "Every Friday and Saturday." in after.text and "photo.jpg" in after.text
    assert "(new)" not in after.text, "seen replies are no longer new"

    # The guardian reads the message and downloads the file (API).
    headers = api_login(testapp, guardian, clock)
    body = testapp.get(f"/api/v1/cases/{case.ref}", headers=headers).json
    assert [m["text"] for m in body["messages"] if m["from"] == "reporter"] == ["Every Friday and Saturday."]
    reporter_view = testapp.get("/mailbox/case")
    photo_path = reporter_view.html.find("a", string="photo.jpg")["href"]
    photo_id = photo_path.rsplit("/", 1)[-1]
    got = testapp.get(f"/api/v1/cases/{case.ref}/attachments/{photo_id}", headers=headers)
    assert got.body == b"\xff\xd8 fake jpeg"
    assert "photo.jpg" in got.headers["Content-Disposition"]
    # ... and through the staff pages' download route.
    html_login(testapp, guardian, clock)
    got = testapp.get(f"/staff/cases/{case.ref}/attachments/{photo_id}")
    assert got.body == b"\xff\xd8 fake jpeg" and got.content_type == "application/octet-stream"


def test_leave_ends_the_session(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp))
    case_page = come_back(testapp, receipt)
    left = case_page.forms["leave-form"].submit()
    assert "You have left" in left.text
    assert "whistle_reporter" not in {c.name for c in testapp.cookiejar if c.value}
    again = testapp.get("/mailbox/case")
    assert "Enter your receipt" in again.text and "Your report has arrived" not in again.text


def test_an_expired_session_keeps_the_unsent_message(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp))
    case_page = come_back(testapp, receipt)
    form = case_page.forms["message-form"]
    form["text"] = "Something I must not lose"
    clock.advance(settings.reporter_session_idle + timedelta(minutes=1))
    response = form.submit(status=401)
    assert "not sent yet" in response.text
    assert "Something I must not lose" in response.text
    login = response.forms[0]
    assert login["unsent"].value == "Something I must not lose"
    login["receipt"] = receipt
    reopened = login.submit()
    assert reopened.status_int == 200
    assert reopened.forms["message-form"]["text"].value == "Something I must not lose"
    sent = reopened.forms["message-form"].submit().follow()
    assert "Something I must not lose" in sent.html.find(id="conversation").text


def test_wrong_and_malformed_receipts_get_the_same_answer(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp))
    wrong = receipt[:-1] + ("0" if receipt[-1] != "0" else "1")
    unknown = come_back(testapp, wrong, status=401)
    malformed = come_back(testapp, "hello", status=401)
    assert unknown.status_int == malformed.status_int == 401
    assert unknown.html.find(id="error-receipt").text == malformed.html.find(id="error-receipt").text
    assert wrong not in unknown.text and "hello" not in malformed.text, "the typed receipt is never echoed"


def test_repeated_wrong_receipts_slow_the_mailbox_down_but_do_not_lock_reporters_out(
        testapp, dbsession, settings, clock, monkeypatch):
    from whistle.reporters import services

    make_live_channel(dbsession, settings, clock)
    receipt = receipt_of(submit_disclosure(testapp))
    for _ in range(settings.receipt_failures_per_minute):
        assert come_back(testapp, "0000-0000-0000-0000-0000", status=401).status_int == 401
    assert "Your report has arrived" in come_back(testapp, receipt).text
    testapp.reset()  # a new visitor, without the session just opened
    monkeypatch.setattr(services, "SLOW_LANE_WAIT", timedelta(milliseconds=50))
    with services.SLOW_LANE:  # the lane stays busy: the page says so and keeps nothing typed
        refused = come_back(testapp, receipt, status=429)
    assert "wait a minute" in refused.text and receipt not in refused.text


def test_a_double_submit_opens_one_case_and_shows_its_receipt_again(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    form = open_channel(testapp, "Channel staff").forms[0]
    form["text"] = "Sent twice by the back button."
    form["answers.ongoing"] = "yes"
    first = form.submit(status=303).follow()
    receipt = receipt_of(first)
    second = form.submit(status=303).follow()  # the same form again, as a refresh or a double press would
    assert receipt_of(second) == receipt, "the same receipt, derived again from the form's one-time token"
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 1
    assert "Sent twice by the back button." in come_back(testapp, receipt).text, "and it opens the report"


def test_the_same_form_sent_from_another_browser_is_refused_and_shows_no_receipt(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    form = open_channel(testapp, "Channel staff").forms[0]
    form["text"] = "Sent once."
    form["answers.ongoing"] = "yes"
    receipt = receipt_of(form.submit(status=303).follow())
    testapp.reset()  # another browser with a copy of the page: its CSRF token is not this browser's
    again = form.submit(expect_errors=True)
    assert again.status_int == 400 and receipt not in again.text
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 1


def test_errors_keep_everything_typed_and_name_the_field(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    page = submit_disclosure(testapp, text="Kept words", answers={"where": "Kept place"},
                             identity_mode="confidential", identity={"contact": "kept@example.org"})
    assert page.status_int == 422
    assert page.html.find(id="error-answers.ongoing") is not None
    assert page.html.find(id="error-identity.name") is not None
    form = page.forms[0]
    assert form["text"].value == "Kept words"
    assert form["answers.where"].value == "Kept place"
    assert form["identity.contact"].value == "kept@example.org"
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 0


def test_an_expired_form_token_keeps_the_text(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    form = open_channel(testapp, "Channel staff").forms[0]
    form["text"] = "Words from an old tab"
    form["csrf_token"] = "stale"
    page = form.submit(status=400)
    assert page.forms[0]["text"].value == "Words from an old tab"
    assert dbsession.scalar(select(func.count()).select_from(Case)) == 0


def test_confidential_identity_is_for_guardians_only(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    receipt = receipt_of(submit_disclosure(testapp, identity_mode="confidential",
                                           identity={"name": "Ada Lovelace", "personnel_id": "E-1815"}))
    page = come_back(testapp, receipt)
    assert "You told us who you are" in page.text
    assert "Ada Lovelace" not in page.text and "E-1815" not in page.text
    assert "identity-form" not in page.text
    ref = dbsession.scalars(select(Case.ref)).one()
    body = testapp.get(f"/api/v1/cases/{ref}", headers=api_login(testapp, guardian, clock)).json
    assert body["identity"]["name"] == "Ada Lovelace"


def test_an_anonymous_reporter_can_reveal_their_identity_later(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    page = come_back(testapp, receipt_of(submit_disclosure(testapp)))
    form = page.forms["identity-form"]
    form["identity.contact"] = "kept contact"
    invalid = form.submit(status=422)
    assert invalid.html.find(id="error-identity.name") and invalid.html.find(id="error-identity_mode")
    form = invalid.forms["identity-form"]
    assert form["identity.contact"].value == "kept contact"
    form["identity_mode"] = "confidential"
    form["identity.name"] = "Grace Hopper"
    after = form.submit().follow()
    assert "You told us who you are" in after.text and "Grace Hopper" not in after.text
    ref = dbsession.scalars(select(Case.ref)).one()
    body = testapp.get(f"/api/v1/cases/{ref}", headers=api_login(testapp, guardian, clock)).json
    assert body["identity"] == {"name": "Grace Hopper", "contact": "kept contact", "mode": "confidential"}
    events = [e["action"] for e in body["events"]]
    assert "reporter.identity_revealed" in events


def test_a_signed_in_guardian_can_open_their_own_report_in_the_mailbox(testapp, dbsession, settings, clock):
    """Staff may speak up too: on the mailbox's pages a reporter's session counts before the staff one."""
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "also.reporter")
    html_login(testapp, guardian, clock)
    receipt = receipt_of(submit_disclosure(testapp, text="My manager signs off overtime nobody worked."))

    form = testapp.get("/mailbox").forms[0]
    form["receipt"] = receipt
    page = form.submit().maybe_follow()

    assert "My manager signs off overtime nobody worked." in page.text, \
        page.html.find("main").get_text(" ", strip=True)[:200]
    assert testapp.get("/staff/cases").status_int == 200, "and stays signed in to the workspace"

