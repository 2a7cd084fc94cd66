"""The mailbox says what changed since the reporter's last visit and when to come back."""
from __future__ import annotations

from datetime import date, datetime, timedelta

import jsonschema
from sqlalchemy import select

from tests.factories import api_login, holder_keys, make_channel, make_live_channel, make_staff, submit_api
from tests.functional.reporters.helpers import come_back
from whistle.attachments.services import limits_for, store_attachment
from whistle.cases.models import Case
from whistle.openapi.document import REPORTER_NEWS
from whistle.protection.models import CheckIn
from whistle.deadlines import add_months
from whistle.reporters.news import ANY_TIME
from whistle.words import day_words


def reporter_headers(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def case_of(dbsession, sent) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()


def news_box(page) -> str:
    """The "What is new" box as text, with its whitespace squeezed."""
    box = page.html.find(id="news")
    assert box is not None, "the mailbox page shows the news box"
    return " ".join(box.get_text(" ").split())


def guardian_file(app, dbsession, settings, tm, case, clock, name="plan.pdf"):
    """A file from the guardians, stored by the real attachment service (they have no upload page yet)."""
    store_attachment(dbsession, app.registry.blob_store, tm.get(), case, holder_keys(dbsession, case), name=name,
                     content_type="application/pdf",
                     chunks=[b"%PDF- the plan"], limits=limits_for(settings), author="guardian", today=clock.today())
    dbsession.flush()


def test_a_reply_a_file_and_a_new_status_are_news_once(app, testapp, dbsession, settings, clock, tm):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    case = case_of(dbsession, sent)
    sent_on = clock.today()

    first = come_back(testapp, sent["receipt"])
    assert first.status_int == 200
    assert f"Nothing new since you sent your report on {day_words(sent_on)}." in news_box(first)
    assert (case.reporter_seen_status, case.reporter_seen_on) == ("received", sent_on)
    assert type(case.reporter_seen_on) is date, "a day, never a time (promise 3)"

    clock.advance(timedelta(days=2))  # the reporter's session runs out; the guardian gets to work
    staff = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": "acknowledged"}, headers=staff)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "Thank you, we are on it."}, headers=staff,
                      status=201)
    guardian_file(app, dbsession, settings, tm, case, clock)

    clock.advance(timedelta(days=1))
    page = come_back(testapp, sent["receipt"])
    news = news_box(page)
    assert f"Since you sent your report on {day_words(sent_on)}:" not in news, "this is not the first visit"
    assert f"Since your last visit on {day_words(sent_on)}:" in news
    assert "1 new message from the people handling your report." in news
    assert "1 new file from the people handling your report." in news
    assert "Where things are has changed. Your report has been read and acknowledged" in news
    assert "plan.pdf" in page.html.find(id="files").get_text() and "(new)" in page.html.find(id="files").get_text()
    # Works without JavaScript: the one module only warns before the idle limit.
    assert [tag.get("src") for tag in page.html.find_all("script")] == ["/static/js/session-timeout.js"]
    assert (case.reporter_seen_status, case.reporter_seen_on) == ("acknowledged", clock.today())

    again = testapp.get("/mailbox/case")
    news = news_box(again)
    assert "Nothing new since your last visit earlier today." in news
    assert "new message" not in news and "new file" not in news and "has changed" not in news
    assert "(new)" not in again.html.find(id="files").get_text()


def test_a_rejected_post_does_not_use_up_the_news(testapp, dbsession, settings, clock):
    """A form sent back with an error keeps saying what is new: nothing was marked seen."""
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    reporter = reporter_headers(testapp, sent["receipt"])
    testapp.get("/api/v1/reporter/case", headers=reporter)  # the first visit, through the API
    staff = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "Can you tell us more?"}, headers=staff,
                      status=201)
    page = come_back(testapp, sent["receipt"])
    assert "1 new message" in news_box(page)
    # The next request made on that page is a rejected post: the news is still there on the re-rendered page.
    form = page.forms["message-form"]
    form["text"] = "   "
    refused = form.submit(status=422)
    assert "1 new message" not in news_box(refused), "the page load before it already showed the message"
    case = case_of(dbsession, sent)
    seen = case.reporter_seen_item_id
    testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "And when?"}, headers=staff, status=201)
    refused = page.forms["message-form"].submit(status=422)
    assert "1 new message" in news_box(refused)
    assert case.reporter_seen_item_id == seen, "a rejected post marks nothing seen"
    assert "1 new message" in news_box(testapp.get("/mailbox/case"))


def test_when_to_check_back_follows_the_status_and_the_clock(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    case = case_of(dbsession, sent)

    def check_back() -> dict:
        return testapp.get("/api/v1/reporter/case", headers=reporter_headers(testapp, sent["receipt"])).json[
            "news"]["check_back"]

    # Received: come back when the acknowledgement is due.
    answer = check_back()
    assert answer["on"] == case.ack_due.isoformat() and case.ack_due > clock.today()
    assert answer["text"] == (f"The people handling your report should reply by {day_words(case.ack_due)}. "
                              "Please check back then.")
    # Still received after the acknowledgement was due: tomorrow, and an apology.
    clock.advance(case.ack_due - clock.today() + timedelta(days=1))
    answer = check_back()
    assert answer["on"] == (clock.today() + timedelta(days=1)).isoformat()
    assert f"should have replied by {day_words(case.ack_due)}" in answer["text"]

    # Acknowledged (and assessing, investigating): a week from today...
    staff = api_login(testapp, guardian, clock)  # after days, the guardian's session has run out too
    testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": "acknowledged"}, headers=staff)
    answer = check_back()
    assert answer["on"] == (clock.today() + timedelta(days=7)).isoformat()
    assert f"Please check back on {day_words(clock.today() + timedelta(days=7))}." in answer["text"]
    assert f"by {day_words(case.feedback_due)}" in answer["text"]
    # ...but not later than the feedback is due.
    for status in ("assessing", "investigating"):
        testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": status}, headers=staff)
        case.feedback_due = clock.today() + timedelta(days=3)
        dbsession.flush()
        answer = check_back()
        assert answer["on"] == case.feedback_due.isoformat(), status
        assert answer["text"].endswith("Please check back then.")

    # Feedback given or closed: the next check-in question's day, if one is still to come.
    testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": "feedback_given"}, headers=staff)
    answer = check_back()
    assert answer["on"] == add_months(case.opened_on, 3).isoformat()
    assert f"On {day_words(add_months(case.opened_on, 3))} there will be a short question" in answer["text"]
    case.status = "closed"
    case.opened_on = add_months(clock.today(), -7)  # as if sent seven months ago; 3 and 6 were answered
    dbsession.add_all([CheckIn(case_id=case.id, due_month=m, answered_on=clock.today(), detriment=False)
                       for m in (3, 6)])
    dbsession.flush()
    assert check_back()["on"] == add_months(case.opened_on, 12).isoformat()
    dbsession.add(CheckIn(case_id=case.id, due_month=12, answered_on=clock.today(), detriment=False))
    dbsession.flush()
    assert check_back() == {"on": None, "text": ANY_TIME}


def test_a_check_in_that_came_due_is_a_new_question(testapp, dbsession, clock, settings):
    make_live_channel(dbsession, settings, clock)
    sent = submit_api(testapp)
    case = case_of(dbsession, sent)
    case.opened_on = add_months(clock.today(), -3) + timedelta(days=1)  # the 3-month question is due tomorrow
    dbsession.flush()

    page = come_back(testapp, sent["receipt"])
    assert "new question" not in news_box(page) and "checkin-form" not in page.forms

    clock.advance(timedelta(days=1))
    page = come_back(testapp, sent["receipt"])
    news = news_box(page)
    assert "There is a new question for you below." in news
    assert page.html.find(id="news").find("a")["href"] == "#retaliation-watch"
    assert "checkin-form" in page.forms, "the question itself is on the page, answerable without JavaScript"
    assert [tag.get("src") for tag in page.html.find_all("script")] == ["/static/js/session-timeout.js"]

    again = testapp.get("/mailbox/case")
    assert "new question" not in news_box(again)
    assert "A question is still waiting for your answer" in news_box(again)
    news = testapp.get("/api/v1/reporter/case", headers=reporter_headers(testapp, sent["receipt"])).json["news"]
    assert news["new_questions"] == [] and news["summary"][0] == "Nothing new since your last visit earlier today."


def test_the_api_gives_news_in_the_documented_shape(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    reporter = reporter_headers(testapp, sent["receipt"])
    opened = clock.today()

    first = testapp.get("/api/v1/reporter/case", headers=reporter).json["news"]
    jsonschema.validate(first, REPORTER_NEWS)
    assert first["first_visit"] is True and first["since"] == opened.isoformat()
    assert (first["new_messages"], first["new_files"], first["status_changed"], first["new_questions"]) == (0, 0, False, [])
    assert first["status"] == "received"
    assert first["summary"] == [f"Nothing new since you sent your report on {day_words(opened)}."]

    staff = api_login(testapp, guardian, clock)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/transitions", {"to": "acknowledged"}, headers=staff)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "One."}, headers=staff, status=201)
    testapp.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "Two."}, headers=staff, status=201)
    testapp.post_json("/api/v1/reporter/messages", {"text": "My own message is not news."}, headers=reporter,
                      status=201)
    clock.advance(timedelta(days=1))
    body = testapp.get("/api/v1/reporter/case", headers=reporter_headers(testapp, sent["receipt"])).json
    news = body["news"]
    jsonschema.validate(news, REPORTER_NEWS)
    assert news["first_visit"] is False and news["since"] == opened.isoformat()
    assert (news["new_messages"], news["new_files"], news["status_changed"]) == (2, 0, True)
    assert news["status"] == body["status"] == "acknowledged" and news["status_text"] == body["status_text"]
    assert news["summary"][:3] == [f"Since your last visit on {day_words(opened)}:",
                                   "2 new messages from the people handling your report.",
                                   f"Where things are has changed. {body['status_text']}"]
    assert datetime.strptime(news["check_back"]["on"], "%Y-%m-%d"), "a day only"

    after = testapp.get("/api/v1/reporter/case", headers=reporter_headers(testapp, sent["receipt"])).json["news"]
    assert (after["new_messages"], after["status_changed"], after["since"]) == (0, False, clock.today().isoformat())


def test_the_api_case_schema_documents_news(testapp):
    document = testapp.get("/api/v1/openapi.json").json
    schema = document["paths"]["/api/v1/reporter/case"]["get"]["responses"]["200"]["content"]["application/json"][
        "schema"]
    assert schema["properties"]["news"] == REPORTER_NEWS
