"""Everything recorded while serving a reporter's request is dated to the day, not only the
reporter's own audit events: the system's events at intake (case.routed for a channel with a
second tier, case.triaged, case.escalated) and the outbox rows of the notices it queues. A
finer time on any of them would say when the report was written or the message sent (a night
shift, a lunch break, the ten minutes one person was alone in the office)."""
from __future__ import annotations

from datetime import time, timedelta

from sqlalchemy import select

from tests.factories import make_channel, make_staff, submit_api
from tests.functional.plugins.conftest import plugin_app  # noqa: F401  (fixture)
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.notifications.models import Notification

MIDNIGHT = time(0, 0)


def _not_midnight(clock) -> None:
    """Make sure the (shared, real-time) clock is not in the first minutes of a day; only forward."""
    if clock.now().time() < time(0, 5):
        clock.advance(timedelta(hours=1))


def _events_of(dbsession, ref: str) -> list[AuditEvent]:
    case_id = dbsession.scalars(select(Case.id).where(Case.ref == ref)).one()
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id).order_by(AuditEvent.seq)))


def _timed(events) -> list[str]:
    return [f"{event.action} at {event.at.time()}" for event in events if event.at.time() != MIDNIGHT]


def test_every_audit_event_a_report_causes_is_dated_to_the_day(testapp, dbsession, settings, clock):
    _not_midnight(clock)
    channel = make_channel(dbsession, "ward")
    make_staff(dbsession, settings, clock, "ward.lead", channels=["ward"])
    lead = make_staff(dbsession, settings, clock, "ward.safeguarding")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=lead.account.id, tier=TIER_SECOND))
    dbsession.flush()

    sent = submit_api(testapp, channel="ward")

    events = _events_of(dbsession, sent["case"])
    assert "case.opened" in {event.action for event in events}
    assert not _timed(events), f"written in the reporter's request, yet timed to the second: {_timed(events)}"


def test_an_urgent_young_persons_report_is_not_timed_by_its_triage_and_escalation(plugin_app, dbsession, settings,
                                                                                 clock):
    _not_midnight(clock)
    channel = make_channel(dbsession, "young-peoples-voice", deadline_profile="uk_childrens_complaints",
                           questionnaire=[])
    make_staff(dbsession, settings, clock, "youth.worker", channels=["young-peoples-voice"])
    lead = make_staff(dbsession, settings, clock, "youth.safeguarding")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=lead.account.id, tier=TIER_SECOND))
    dbsession.flush()
    app = plugin_app(["uk_childrens_complaints"], plaintext=["uk_childrens_complaints"])

    sent = app.post_json("/api/v1/disclosures", {"channel": "young-peoples-voice", "answers": {},
                                                 "text": "He hits me when mum is at work."}, status=201).json

    events = _events_of(dbsession, sent["case"])
    assert {"case.triaged", "case.escalated"} <= {event.action for event in events}, "the plugin did its work"
    assert not _timed(events), f"written in the child's request, yet timed to the second: {_timed(events)}"


def test_the_notices_a_reporters_message_queues_are_dated_to_the_day(testapp, dbsession, settings, clock):
    make_channel(dbsession, "office")
    guardian = make_staff(dbsession, settings, clock, "office.guardian", channels=["office"])
    receipt = submit_api(testapp, channel="office")["receipt"]
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    _not_midnight(clock)

    testapp.post_json("/api/v1/reporter/messages", {"text": "One more thing."},
                      headers={"Authorization": f"Bearer {token}"}, status=201)

    queued = dbsession.scalars(select(Notification).where(Notification.account_id == guardian.account.id)
                               .order_by(Notification.id.desc())).first()
    assert queued is not None, "the guardian is told"
    assert queued.created_at.time() == MIDNIGHT, (
        f"the outbox row dates the reporter's message to {queued.created_at.time()}, though the audit log "
        "dates it to the day")
