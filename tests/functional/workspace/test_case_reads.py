"""Reading a case is audited once a day per guardian, and its timeline lists only the latest readings,
so that reading a case costs the same however often it was read before."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import event, select

from tests.factories import api_login, html_login, make_staff
from tests.functional.workspace.conftest import events
from whistle import audit
from whistle.cases.actions import record_view
from whistle.cases.models import Case
from whistle.workspace.views import TIMELINE_READS


def readings(dbsession, actor: str) -> int:
    return sum(1 for e in events(dbsession, "case.viewed") if e.actor == actor)


def test_a_guardian_reading_a_case_again_the_same_day_adds_no_event(testapp, dbsession, settings, clock, guardian,
                                                                   submitted):
    ref = submitted["case"]
    actor = f"account:{guardian.account.id}"
    headers = api_login(testapp, guardian, clock)
    for _ in range(3):
        testapp.get(f"/api/v1/cases/{ref}", headers=headers)
    testapp.get(f"/api/v1/cases/{ref}/envelopes", headers=headers)
    html_login(testapp, guardian, clock)
    testapp.get(f"/staff/cases/{ref}")
    assert readings(dbsession, actor) == 1

    colleague = make_staff(dbsession, settings, clock, "second", channels=["staff"])
    case = dbsession.scalar(select(Case).where(Case.ref == ref))
    assert record_view(dbsession, clock, case, colleague.account.id), "another guardian's reading is their own"
    assert not record_view(dbsession, clock, case, colleague.account.id)
    assert readings(dbsession, f"account:{colleague.account.id}") == 1

    clock.advance(timedelta(days=1))
    headers = api_login(testapp, guardian, clock)
    body = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    testapp.get(f"/api/v1/cases/{ref}", headers=headers)
    assert readings(dbsession, actor) == 2, "the next day's first reading is recorded"
    assert [e["action"] for e in body["events"]].count("case.viewed") == 3


def test_a_repeated_reading_writes_nothing(testapp, dbsession, app, clock, guardian, submitted):
    ref = submitted["case"]
    headers = api_login(testapp, guardian, clock)
    testapp.get(f"/api/v1/cases/{ref}", headers=headers)
    writes: list[str] = []

    def count(conn, cursor, statement, params, context, executemany):
        if not statement.lstrip().upper().startswith("SELECT"):
            writes.append(statement)

    engine = app.registry["db_engine"]
    event.listen(engine, "before_cursor_execute", count)
    try:
        testapp.get(f"/api/v1/cases/{ref}", headers=headers)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert writes == [], "a second reading the same day takes no write lock"


def test_the_timeline_lists_the_latest_readings_and_says_more_were_left_out(testapp, dbsession, clock, guardian,
                                                                          submitted):
    ref = submitted["case"]
    case = dbsession.scalar(select(Case).where(Case.ref == ref))
    actor = f"account:{guardian.account.id}"
    for _ in range(TIMELINE_READS + 5):  # readings of earlier days
        audit.record(dbsession, clock, actor=actor, action="case.viewed", case_id=case.id)
    audit.record(dbsession, clock, actor="system", action="case.priority_changed", case_id=case.id,
                 detail={"from": "normal", "to": "high"})
    headers = api_login(testapp, guardian, clock)
    body = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    actions = [e["action"] for e in body["events"]]
    assert actions.count("case.viewed") == TIMELINE_READS
    assert actions[0] == "case.opened" and "case.priority_changed" in actions, "every other event stays"
    assert body["earlier_reads_left_out"] is True
    seqs = [e.seq for e in events(dbsession) if e.case_id == case.id]
    assert len(seqs) == TIMELINE_READS + 5 + 3, "the audit log keeps every reading (and today's)"

    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    assert page.html.select_one("#timeline-earlier-reads") is not None
    assert page.text.split('id="timeline"')[1].count("guardian read the case") == TIMELINE_READS


def test_a_case_read_only_a_few_times_lists_every_reading(testapp, clock, guardian, submitted):
    headers = api_login(testapp, guardian, clock)
    body = testapp.get(f"/api/v1/cases/{submitted['case']}", headers=headers).json
    assert [e["action"] for e in body["events"]] == ["case.opened", "case.viewed"]
    assert body["earlier_reads_left_out"] is False
