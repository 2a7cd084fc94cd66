"""A surge of reports: the inbox marks its cases and lists them together, and guardians close the
junk among them in one go (HTML with a confirm step, and the API), only what they ticked, audited
per case, only their own cases, CSRF required."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from tests.functional.workspace.conftest import events
from whistle.cases.models import Case
from whistle.words import day_words


def surge(dbsession, clock, refs: list[str]):
    """Mark the cases `refs` as having come in during today's surge (as intake does past the surge mark)."""
    day = clock.today()
    for case in dbsession.scalars(select(Case).where(Case.ref.in_(refs))):
        case.surge_day = day
    dbsession.flush()
    return day


def case(dbsession, ref) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def test_the_inbox_marks_a_surges_cases_and_lists_them_together(testapp, dbsession, clock, guardian):
    junk = [submit_api(testapp, text=f"junk {i}")["case"] for i in range(3)]
    ordinary = submit_api(testapp)["case"]
    day = surge(dbsession, clock, junk)
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/cases")
    assert page.text.count(f"Arrived during a surge of reports on {day_words(day)}") == 3
    listed = testapp.get(f"/staff/cases?surge={day.isoformat()}")
    assert all(ref in listed.text for ref in junk) and ordinary not in listed.text
    assert "close them as junk together" in listed.text
    headers = api_login(testapp, guardian, clock)
    rows = testapp.get(f"/api/v1/cases?surge={day.isoformat()}", headers=headers).json["cases"]
    assert sorted(row["case"] for row in rows) == sorted(junk)
    assert {row["surge_day"] for row in rows} == {day.isoformat()}
    testapp.get("/api/v1/cases?surge=yesterday", headers=headers, status=422)


def test_only_the_ticked_cases_are_closed_as_junk_after_the_confirm_step(testapp, dbsession, clock, guardian):
    refs = [submit_api(testapp, text=f"junk {i}")["case"] for i in range(3)]
    day = surge(dbsession, clock, refs)
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/surges/{day.isoformat()}")
    form = page.forms["surge-form"]
    boxes = form.fields["cases"]
    assert [box.value for box in boxes] == refs and all(box.checked for box in boxes)  # all ticked to begin with
    genuine = refs[1]
    next(box for box in boxes if box._value == genuine).checked = False  # this one looks like a real concern
    confirm = form.submit(status=200)
    assert "Close 2 cases as junk?" in confirm.text
    assert genuine not in confirm.text
    assert all(case(dbsession, ref).status != "closed" for ref in refs)  # nothing closed before the confirm
    done = confirm.forms["surge-confirm"].submit(status=303).follow()
    assert "2 cases closed as junk." in done.text
    closed = [ref for ref in refs if ref != genuine]
    for ref in closed:
        row = case(dbsession, ref)
        assert (row.status, row.junk_reason, row.closed_on) == ("closed", "flood", clock.today())
        # No acknowledgement and no outcome: nothing is promised to whoever sent it.
        assert (row.acknowledged_on, row.substantiated, row.changes) == (None, None, [])
    assert case(dbsession, genuine).status == "received"
    audited = events(dbsession, "case.closed_as_junk")
    assert sorted(e.case_id for e in audited) == sorted(case(dbsession, ref).id for ref in closed)
    assert all(e.detail == {"from": "received", "reason": "flood", "surge_day": day.isoformat()} for e in audited)
    timeline = testapp.get(f"/staff/cases/{closed[0]}")
    assert "closed the case as junk (sent in a flood of junk reports)" in timeline.text
    # The closed ones leave the surge's list; the genuine one stays.
    again = testapp.get(f"/staff/surges/{day.isoformat()}")
    assert genuine in again.text and closed[0] not in again.text


def test_no_case_ticked_or_no_reason_is_named_and_nothing_closes(testapp, dbsession, clock, guardian):
    ref = submit_api(testapp)["case"]
    day = surge(dbsession, clock, [ref])
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/surges/{day.isoformat()}").forms["surge-form"]
    form.fields["cases"][0].checked = False
    page = form.submit(status=422)
    assert "Cases to close: tick at least one case to close." in page.text
    assert case(dbsession, ref).status == "received"


def test_another_guardians_case_cannot_be_closed_that_way(testapp, dbsession, settings, clock, guardian):
    make_channel(dbsession, "other", title="Another channel")
    outsider = make_staff(dbsession, settings, clock, "outsider", channels=["other"])
    mine = submit_api(testapp)["case"]
    theirs = submit_api(testapp, channel="other")["case"]
    day = surge(dbsession, clock, [mine, theirs])
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/surges/{day.isoformat()}")
    assert mine in page.text and theirs not in page.text
    csrf = page.forms["surge-form"]["csrf_token"].value
    for confirm in ("", "yes"):
        testapp.post(f"/staff/surges/{day.isoformat()}/junk",
                     {"csrf_token": csrf, "cases": [mine, theirs], "reason": "flood", "confirm": confirm}, status=404)
    assert case(dbsession, mine).status == case(dbsession, theirs).status == "received"
    headers = api_login(testapp, guardian, clock)
    problem = testapp.post_json(f"/api/v1/surges/{day.isoformat()}/junk", {"cases": [theirs], "reason": "spam"},
                                headers=headers, status=404).json
    assert theirs in problem["detail"]
    # Not part of the surge of that day: the same.
    testapp.post_json("/api/v1/surges/2001-01-01/junk", {"cases": [mine], "reason": "spam"}, headers=headers,
                      status=404)
    assert not events(dbsession, "case.closed_as_junk")
    assert outsider  # their case stayed theirs


def test_the_form_needs_its_csrf_token(testapp, dbsession, clock, guardian):
    ref = submit_api(testapp)["case"]
    day = surge(dbsession, clock, [ref])
    html_login(testapp, guardian, clock)
    testapp.post(f"/staff/surges/{day.isoformat()}/junk", {"cases": [ref], "reason": "flood", "confirm": "yes"},
                 status=400)
    assert case(dbsession, ref).status == "received"


def test_the_api_closes_junk_and_says_what_was_closed_already(testapp, dbsession, clock, guardian):
    refs = [submit_api(testapp, text=f"junk {i}")["case"] for i in range(2)]
    day = surge(dbsession, clock, refs)
    headers = api_login(testapp, guardian, clock)
    url = f"/api/v1/surges/{day.isoformat()}/junk"
    answer = testapp.post_json(url, {"cases": refs[:1], "reason": "test"}, headers=headers).json
    assert answer == {"closed": refs[:1], "already_closed": []}
    answer = testapp.post_json(url, {"cases": refs, "reason": "test"}, headers=headers).json
    assert answer == {"closed": refs[1:], "already_closed": refs[:1]}
    assert len(events(dbsession, "case.closed_as_junk")) == 2
    problem = testapp.post_json(url, {"cases": [], "reason": "nonsense", "extra": 1}, headers=headers, status=422)
    assert {e["field"] for e in problem.json["errors"]} == {"extra"}
    problem = testapp.post_json(url, {"cases": [], "reason": "nonsense"}, headers=headers, status=422)
    assert {e["field"] for e in problem.json["errors"]} == {"cases", "reason"}
    testapp.post_json(url, {"cases": refs, "reason": "test"}, status=401)
    # Reopened with a reason, a junk case is an ordinary open case again.
    testapp.post_json(f"/api/v1/cases/{refs[0]}/transitions", {"to": "assessing", "reason": "A real concern after all."},
                      headers=headers)
    assert (case(dbsession, refs[0]).status, case(dbsession, refs[0]).junk_reason) == ("assessing", None)
