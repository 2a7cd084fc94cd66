"""Every staff and admin page, as a guardian and an admin see it, with cases in several states and
forms refused: ids are unique, a refused form names each field in words and marks it for screen
readers, and no page shows a developer's word (event names, "account:7", Python lists or dicts,
None, enum values, ISO dates, times without a zone)."""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from bs4 import BeautifulSoup
from webtest import TestApp

from tests.factories import api_login, html_login, submit_api
from whistle.accounts.models import Account

# What a page must never show a person.
DEVELOPER_WORDS = {
    "an account id": re.compile(r"\baccount:\d"),
    "an event name": re.compile(r"\b(?:case|account|login|logout|reporter|protection|attachment|plugin|notification)\.[a-z_]+"),
    "a Python list": re.compile(r"\['"),
    "a Python dict": re.compile(r"\{'"),
    "None": re.compile(r"\bNone\b"),
    "a name with underscores": re.compile(r"\b[a-z]+_[a-z_]+\b"),
    "an ISO date": re.compile(r"\b\d{4}-\d\d-\d\d\b"),
    "a time without its zone": re.compile(r"\b\d\d:\d\d(?::\d\d)?\b(?! ?(?:UTC|GMT|BST|[A-Z]{3,4}\b))"),
}


@dataclass
class World:
    guardian: TestApp
    admin: TestApp
    reporter: TestApp  # signed in to the mailbox of the case in progress
    in_progress: str  # acknowledged, assessed: messages, notes, files, labels, shared identity
    feedback: str  # feedback given
    closed: str  # closed, substantiated "not determined"
    colleague_id: int


def browser(app, tm, dbsession) -> TestApp:
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                       "app.dbsession": dbsession})


def upload(testapp, path: str, headers: dict, name: str) -> None:
    testapp.post(path, b"%PDF- a file", status=201,
                 headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": quote(name)}))


@pytest.fixture
def world(app, tm, dbsession, testapp, guardian, colleague, admin, clock) -> World:
    in_progress = submit_api(testapp, text="Medication is signed for but not given.", identity_mode="confidential",
                             identity={"name": "Sam Carter", "contact": "sam@example.org"},
                             answers={"ongoing": "yes", "who": ["Patients", "Staff"], "where": "Ward 7"})
    feedback = submit_api(testapp, text="The fire door is propped open.")["case"]
    closed = submit_api(testapp, text="Agency staff miss the handover.")["case"]
    reporter = {"Authorization": "Bearer " + testapp.post_json(
        "/api/v1/reporter/session", {"receipt": in_progress["receipt"]}).json["token"]}
    testapp.post_json("/api/v1/reporter/messages", {"text": "Last week too."}, headers=reporter, status=201)
    upload(testapp, "/api/v1/reporter/attachments", reporter, "rota.pdf")

    staff = api_login(testapp, guardian, clock)
    ref = in_progress["case"]

    def move(case: str, *steps) -> None:
        for step in steps:
            testapp.post_json(f"/api/v1/cases/{case}/transitions", step, headers=staff)

    move(ref, {"to": "acknowledged"}, {"to": "assessing"})
    testapp.post_json(f"/api/v1/cases/{ref}/messages", {"text": "Which nights?"}, headers=staff, status=201)
    testapp.post_json(f"/api/v1/cases/{ref}/notes", {"text": "Check the drug round."}, headers=staff, status=201)
    testapp.post_json(f"/api/v1/cases/{ref}/triage", {"priority": "urgent", "add_labels": ["night-shift"]}, headers=staff)
    upload(testapp, f"/api/v1/cases/{ref}/attachments", staff, "next-steps.pdf")
    upload(testapp, f"/api/v1/cases/{ref}/attachments?internal=true", staff, "audit.pdf")
    testapp.post_json(f"/api/v1/cases/{ref}/grants", {"guardian": colleague.username}, headers=staff, status=201)
    move(feedback, {"to": "acknowledged"}, {"to": "assessing"}, {"to": "feedback_given"})
    move(closed, {"to": "acknowledged"}, {"to": "assessing", "reason": "Needs a second look."},
         {"to": "closed", "substantiated": "not_determined", "changes": ["none"], "learned": "Nothing to learn yet."})
    # A failed sign-in and a signed-in guardian and admin, each in a browser of their own.
    testapp.post("/staff/login", {"username": guardian.username, "password": "wrong", "otp": "000000",
                                  "csrf_token": testapp.get("/staff/login").forms[0]["csrf_token"].value}, status=401)
    as_guardian, as_admin, as_reporter = browser(app, tm, dbsession), browser(app, tm, dbsession), browser(app, tm, dbsession)
    html_login(as_guardian, guardian, clock)
    html_login(as_admin, admin, clock)
    mailbox = as_reporter.get("/mailbox").forms[0]
    mailbox["receipt"] = in_progress["receipt"]
    mailbox.submit(status=303)
    return World(as_guardian, as_admin, as_reporter, ref, feedback, closed, colleague.account.id)


def pages_of(world: World, dbsession) -> dict[str, object]:
    """Every staff and admin page, by name: as they are, and with a form refused."""
    g, a = world.guardian, world.admin
    pages = {
        "sign-in": TestApp(g.app, extra_environ=g.extra_environ).get("/staff/login"),
        "forgotten password": g.get("/staff/forgot-password"),
        "lost authenticator": g.get("/staff/reset-authenticator"),
        "password": g.get("/staff/password"),
        "sessions": g.get("/staff/sessions"),
        "notifications": g.get("/staff/notifications"),
        "statistics": g.get("/staff/statistics"),
        "statistics, refused": g.get("/staff/statistics?from=2026-13&to=soon&channel=nowhere", status=400),
        "inbox": g.get("/staff/cases"),
        "inbox, filtered": g.get("/staff/cases?label=night-shift&sort=priority&overdue=false"),
        "inbox, refused": g.get("/staff/cases?status=nonsense&priority=loud&sort=sideways&page=0", status=422),
        "case in progress": g.get(f"/staff/cases/{world.in_progress}"),
        "case with feedback given": g.get(f"/staff/cases/{world.feedback}"),
        "case closed": g.get(f"/staff/cases/{world.closed}"),
        "not found": g.get("/staff/cases/NO-SUCH-CASE", status=404),
        "admin overview": a.get("/admin"),
        "admin accounts": a.get("/admin/guardians"),
        "admin channels": a.get("/admin/channels"),
        "admin audit": a.get("/admin/audit?per_page=500"),
        "admin statistics": a.get("/admin/statistics"),
        "admin notifications": a.get("/admin/notifications"),
    }
    for account_id, username in dbsession.query(Account.id, Account.username):
        pages[f"admin account {username}"] = a.get(f"/admin/guardians/{account_id}")
    return {**pages, **refused_pages(world)}


def form_to(page, path: str):
    """The page's form that posts to `path` (the staff pages have a sign-out form first)."""
    return next(form for form in page.forms.values() if form.action.split("?")[0].endswith(path))


def refused(form, status: int, **values):
    for name, value in values.items():
        form[name].force_value(value)  # what an old page, or a hand-made post, may send
    return form.submit(status=status)


def refused_pages(world: World) -> dict[str, object]:
    g, a = world.guardian, world.admin
    case = lambda: g.get(f"/staff/cases/{world.in_progress}")  # noqa: E731
    account = form_to(a.get(f"/admin/guardians/{world.colleague_id}"), f"/admin/guardians/{world.colleague_id}")
    account["guardian"], account["admin"] = False, False
    return {
        "sign-in, refused": refused(form_to(TestApp(g.app, extra_environ=g.extra_environ).get("/staff/login"), "/staff/login"), 401,
                                    username="nobody", password="nothing at all", otp="123456"),
        "forgotten password, refused": refused(form_to(g.get("/staff/forgot-password"), "/staff/forgot-password"), 422, username="nobody",
                                               recovery_key="WRONG", new="a long enough passphrase",
                                               again="a long enough passphrase"),
        "lost authenticator, refused": refused(form_to(g.get("/staff/reset-authenticator"), "/staff/reset-authenticator"), 422, username="nobody",
                                               recovery_key="WRONG"),
        "password, refused": refused(form_to(g.get("/staff/password"), "/staff/password"), 422, current="whatever",
                                     new="a long enough passphrase", again="a different passphrase"),
        "notifications, refused": refused(form_to(g.get("/staff/notifications"), "/staff/notifications"), 422, channel="email",
                                          address="two words"),
        "reply, refused": refused(case().forms["reply-form"], 422, text="   "),
        "note, refused": refused(case().forms["note-form"], 422, text=""),
        "file, refused": refused(case().forms["send-file-form"], 422),
        "close, refused": refused(case().forms["move-closed"], 422, learned="Typed, and kept."),
        "labels, refused": refused(case().forms["triage-form"], 422, add_labels="Not A Label!"),
        "admin add account, refused": refused(form_to(a.get("/admin/guardians"), "/admin/guardians"), 422, username="new.person",
                                              password="a long enough passphrase", again="another passphrase"),
        "admin account, refused": account.submit(status=422),
    }


def visible_text(page) -> str:
    soup = BeautifulSoup(page.text, "html.parser")
    for hidden in soup(["script", "style", "title"]):
        hidden.decompose()
    return soup.get_text(" ")


def test_every_staff_and_admin_page_has_unique_ids(world, dbsession):
    duplicates = {}
    for name, page in pages_of(world, dbsession).items():
        counts = Counter(element["id"] for element in BeautifulSoup(page.text, "html.parser").find_all(id=True))
        repeated = sorted(element_id for element_id, count in counts.items() if count > 1)
        if repeated:
            duplicates[name] = repeated
    assert not duplicates


def test_no_page_shows_a_developers_word(world, dbsession, testapp):
    found = {}
    pages = pages_of(world, dbsession)
    # The reporter's side too: one way of writing a date there as well.
    pages["report form"] = testapp.get("/report/staff")
    pages["reporter's mailbox"] = world.reporter.get("/mailbox/case")
    assert "Last week too." in pages["reporter's mailbox"].text
    for name, page in pages.items():
        text = visible_text(page)
        hits = [f"{what}: {match.group(0)!r}" for what, pattern in DEVELOPER_WORDS.items()
                for match in pattern.finditer(text)]
        if hits:
            found[name] = sorted(set(hits))
    assert not found


def test_the_timeline_and_the_audit_log_say_what_happened(world, dbsession):
    timeline = BeautifulSoup(world.guardian.get(f"/staff/cases/{world.in_progress}").text, "html.parser")
    said = [" ".join(li.get_text(" ").split()) for li in timeline.select("#timeline li")]
    expected = ["The reporter opened the case on the Raise a concern channel, sharing who they are with guardians only.",
                "The reporter sent a message.", "The reporter sent 1 file.", "guardian acknowledged receipt.",
                "guardian moved the case from acknowledged to assessing.", "guardian replied to the reporter.",
                "guardian added an internal note.", "guardian changed the priority from normal to urgent.",
                "guardian added the label “night-shift”.", "guardian sent the reporter 1 file.",
                "guardian added 1 file for guardians only.", "guardian gave colleague access to the case."]
    for sentence in expected:
        assert any(line.endswith(sentence) for line in said), sentence
    assert re.match(r"\d{1,2} [A-Z][a-z]+ \d{4} The reporter", said[0]), "the reporter's events are dated to the day"
    acknowledged = next(line for line in said if line.endswith("guardian acknowledged receipt."))
    assert re.match(r"\d{1,2} [A-Z][a-z]{2} \d{4}, \d\d:\d\d UTC guardian", acknowledged), "staff events to the minute, in UTC"

    log = BeautifulSoup(world.admin.get("/admin/audit?per_page=500").text, "html.parser")
    rows = [" ".join(td.get_text(" ").split()) for td in log.select("table.audit td.full")]
    for sentence in ("Sign-in failed for guardian (wrong password)", "guardian signed in", "admin signed in",
                     "guardian closed the case (substantiated: not determined; what changed: nothing changed)",
                     "guardian recorded that feedback was given", "guardian gave colleague access to the case"):
        assert sentence in rows, sentence


def test_a_refused_form_names_each_field_in_words_and_marks_it(world, dbsession):
    pages = refused_pages(world)
    expected = {
        "reply, refused": {"reply-text": "Reply to the reporter: write something first."},
        "note, refused": {"note-text": "Add a note: write something first."},
        "file, refused": {"send-files": "Send the reporter a file: choose a file first."},
        "close, refused": {"close-substantiated": "Was the concern substantiated? Choose an answer from the list.",
                           "close-changes-1": "What changed: tick at least one."},
        "labels, refused": {"add-labels": "Add labels: "},
        "password, refused": {"again": "New password again: the two new passwords differ."},
        "forgotten password, refused": {"recovery_key": "Recovery key: that username and recovery key do not match."},
        "lost authenticator, refused": {"recovery_key": "Recovery key: that username and recovery key do not match."},
        "notifications, refused": {"channel": "Send notices by: "},
        "admin add account, refused": {"again": "Password again: the two passwords differ."},
        "admin account, refused": {"roles-1": "Roles: an account needs at least one role."},
    }
    for name, fields in expected.items():
        soup = BeautifulSoup(pages[name].text, "html.parser")
        summary = soup.select_one(".error-summary")
        assert summary is not None and summary.get("role") == "alert" and summary.find("h2"), name
        links = {a["href"].removeprefix("#"): " ".join(a.get_text(" ").split()) for a in summary.select("a[href^='#']")}
        assert set(links) == set(fields), (name, links)
        for field_id, words in fields.items():
            assert links[field_id].startswith(words), (name, links[field_id])
            control = soup.find(id=field_id)
            assert control is not None and control.get("aria-invalid") == "true", (name, field_id)
            # The control, or the group of boxes it is the first of, points at its message.
            described = control.get("aria-describedby") or control.find_parent("fieldset").get("aria-describedby")
            message = soup.find(id=described.split()[0])
            assert message is not None and " ".join(message.get_text(" ").split()) == links[field_id], (name, field_id)
    kept = BeautifulSoup(pages["close, refused"].text, "html.parser").find(id="close-learned")
    assert kept.text == "Typed, and kept."
    sign_in = BeautifulSoup(pages["sign-in, refused"].text, "html.parser").select_one(".error-summary")
    assert sign_in.get("role") == "alert" and sign_in.select_one("a[href='#username']"), "what to fix, named no field"


def test_the_error_page_as_staff_see_it(world):
    page = BeautifulSoup(world.guardian.get("/staff/cases/NO-SUCH-CASE", status=404).text, "html.parser")
    assert page.find("h1").text == "Page not found"
    assert page.select_one("nav.staff a[href='/staff/cases']"), "the staff navigation, to find the way back"
    assert page.select_one("main a[href='/staff/cases']").text == "Go to your cases"
