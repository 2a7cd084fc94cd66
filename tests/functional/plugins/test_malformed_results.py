"""One rule for what plugins return that core cannot use, on every path that carries out their
actions (intake's triage and rules, the rules on events, HR events, check-ins; the schedule's in
tests/functional/scheduler/test_tick.py): dropped, logged by its type, and audited as
"plugin.action_dropped" with the plugin, the hook and the type's name, never the value."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.factories import make_channel, make_staff, submit_api
from tests.functional.protection.test_retaliation_watch import event, protected_case, reporter_login
from tests.plugins.sloppy_plugin import WORDS
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case
from whistle.deadlines import add_months
from whistle.hooks import Hooks
from whistle.protection.models import ProtectionAlert
from whistle.protection.services import add_integration

SLOPPY = "tests.plugins.sloppy_plugin"


@pytest.fixture
def sloppy(app, monkeypatch):
    monkeypatch.setattr(app.registry, "hooks", Hooks.from_names([SLOPPY], plaintext_allowed=[SLOPPY]))


def dropped(dbsession, after: int = 0) -> list[dict]:
    return [e.detail for e in dbsession.scalars(select(AuditEvent).where(
        AuditEvent.action == "plugin.action_dropped", AuditEvent.seq > after).order_by(AuditEvent.seq))]


def last_seq(dbsession) -> int:
    return dbsession.scalar(select(func.max(AuditEvent.seq))) or 0


def test_at_intake_what_triage_and_the_rules_cannot_use_is_dropped_and_the_rest_done(
        testapp, dbsession, settings, clock, sloppy, caplog):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    ref = submit_api(testapp)["case"]
    assert dropped(dbsession) == [{"plugin": SLOPPY, "hook": "whistle_triage", "type": "str"},
                                  {"plugin": SLOPPY, "hook": "whistle_escalate_on_event", "type": "dict"}]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    escalated = [e.detail["rule"] for e in dbsession.scalars(select(AuditEvent).where(
        AuditEvent.case_id == case.id, AuditEvent.action == "case.escalated"))]
    assert escalated == ["sloppy.opened"], "the well-formed action beside it is carried out"
    assert "returned a str from whistle_triage" in caplog.text and WORDS not in caplog.text


def test_an_hr_event_s_single_action_is_carried_out_and_writes_nothing_about_the_case(
        testapp, dbsession, settings, clock, sloppy):
    case, _, _ = protected_case(testapp, dbsession, settings, clock)
    hr = {"Authorization": f"Bearer {add_integration(dbsession, settings, clock, 'hr-system')}"}
    before = last_seq(dbsession)
    testapp.post_json("/api/v1/personnel-events", event(effective=clock.today()), headers=hr, status=202)
    assert [a.rule for a in dbsession.scalars(select(ProtectionAlert).where(ProtectionAlert.case_id == case.id))] == [
        "sloppy.bare"]
    written = dbsession.scalars(select(AuditEvent).where(AuditEvent.seq > before)).all()
    assert [(e.action, e.case_id) for e in written] == [("personnel_event.received", None)]


def test_a_check_in_s_unusable_answer_is_dropped_and_its_priority_raised_unaudited(
        testapp, dbsession, settings, clock, sloppy):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    sent = submit_api(testapp)
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    case.opened_on = add_months(clock.today(), -3)
    dbsession.flush()
    before = last_seq(dbsession)
    testapp.post_json("/api/v1/reporter/checkins", {"month": 3, "detriment": True},
                      headers=reporter_login(testapp, sent["receipt"]))
    assert case.priority == "high"
    assert dropped(dbsession, before) == [{"plugin": SLOPPY, "hook": "whistle_checkin_answer", "type": "str"}]
    actions = [e.action for e in dbsession.scalars(select(AuditEvent).where(AuditEvent.seq > before))]
    assert "case.escalated" not in actions
    assert not any(WORDS in str(e.detail) for e in dbsession.scalars(select(AuditEvent)))
