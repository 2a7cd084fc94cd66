"""apply_actions: each action kind, content-free outbox rows, audit, and whistle_case_escalated."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import make_channel, make_staff, sign_directory
from whistle import crypto
from whistle.notifications.preferences import set_notify_events
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_STANDBY, CaseGrant
from whistle.cases.services import grant_to, open_case
from whistle.notifications.preferences import CASE_GIVEN, ESCALATIONS
from whistle.notifications.models import Notification, NotificationRecipient
from whistle.escalations.services import actions_from, apply_actions
from whistle.notifications.services import notify
from whistle.hooks.types import Action


def _case(dbsession, settings, clock, guardians):
    channel = make_channel(dbsession, "escalations")
    reporter = crypto.derive_reporter_keys(crypto.new_receipt(), settings.lookup_pepper, settings.receipt_kdf)
    directory = sign_directory(dbsession, settings, clock)
    case, keys = open_case(dbsession, channel=channel, reporter=reporter, guardians=guardians, today=clock.today(),
                           directory=directory, server_key=settings.session_key)
    dbsession.flush()
    return case, keys


class Calls(list):
    def __call__(self, hook, **kwargs):
        self.append((hook, kwargs))
        return []


def _escalations(dbsession, case):
    return [event.detail for event in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id, AuditEvent.action == "case.escalated")
        .order_by(AuditEvent.seq))]


def test_notify_writes_one_content_free_row_per_current_holder(dbsession, settings, clock):
    first = make_staff(dbsession, settings, clock, "esc.first").account
    second = make_staff(dbsession, settings, clock, "esc.second").account
    case, _ = _case(dbsession, settings, clock, [first, second])
    calls = Calls()

    applied = apply_actions(dbsession, clock, case, [Action(kind="notify", rule="test.rule")], call_hook=calls)

    rows = dbsession.scalars(select(Notification).where(Notification.account_id.in_([first.id, second.id]))).all()
    assert sorted(row.account_id for row in rows) == [first.id, second.id]
    assert {(row.kind, row.state, row.attempts, row.delivered_at) for row in rows} == {("attention", "pending", 0, None)}
    # Content-free by construction: the table has no column that could name a case (last_error
    # holds an exception's type name only, never its message).
    assert set(Notification.__table__.columns.keys()) == {
        "id", "account_id", "kind", "created_at", "state", "attempts", "next_attempt_at", "delivered_at",
        "last_error"}
    assert set(NotificationRecipient.__table__.columns.keys()) == {"account_id", "last_sent_at"}
    assert _escalations(dbsession, case) == [{"rule": "test.rule", "kind": "notify", "recipients": 2}]
    assert [hook for hook, _ in calls] == ["whistle_case_escalated"]
    assert calls[0][1]["action"] == applied[0] and calls[0][1]["case"].ref == case.ref


def test_raise_priority_only_ever_raises(dbsession, settings, clock):
    case, _ = _case(dbsession, settings, clock, [])
    case.priority = "high"
    calls = Calls()
    apply_actions(dbsession, clock, case, [Action(kind="raise_priority", rule="r.low", priority="low")], call_hook=calls)
    assert case.priority == "high" and calls == [] and _escalations(dbsession, case) == []
    apply_actions(dbsession, clock, case, [Action(kind="raise_priority", rule="r.up", priority="urgent")], call_hook=calls)
    assert case.priority == "urgent"
    assert _escalations(dbsession, case) == [{"rule": "r.up", "kind": "raise_priority", "from": "high", "to": "urgent"}]


def test_grant_with_keys_seals_the_case_to_the_guardian_but_never_to_an_excluded_one(dbsession, settings, clock):
    holder = make_staff(dbsession, settings, clock, "esc.holder").account
    second = make_staff(dbsession, settings, clock, "esc.tier2").account
    conflicted = make_staff(dbsession, settings, clock, "esc.conflicted").account
    case, keys = _case(dbsession, settings, clock, [holder])
    apply_actions(dbsession, clock, case, [Action(kind="grant", rule="r.grant", guardian_ids=(second.id, conflicted.id))],
                  call_hook=Calls(), keys=keys, excluded={conflicted.id},
                  directory=sign_directory(dbsession, settings, clock))
    dbsession.flush()
    holders = set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id)))
    assert second.id in holders and conflicted.id not in holders


def test_grant_without_keys_asks_the_holders_instead(dbsession, settings, clock):
    holder = make_staff(dbsession, settings, clock, "esc.keyholder").account
    second = make_staff(dbsession, settings, clock, "esc.wanted").account
    case, _ = _case(dbsession, settings, clock, [holder])
    calls = Calls()
    apply_actions(dbsession, clock, case, [Action(kind="grant", rule="r.grant", guardian_ids=(second.id,))], call_hook=calls)
    holders = set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id)))
    assert second.id not in holders
    requested = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                           AuditEvent.action == "case.grant_requested")).one()
    assert requested.detail == {"rule": "r.grant", "account_ids": [second.id]}
    assert [row.account_id for row in dbsession.scalars(select(Notification).where(
        Notification.account_id.in_([holder.id, second.id])))] == [holder.id]
    assert calls[0][1]["action"].kind == "notify"


def test_malformed_actions_and_rules_are_dropped_or_masked(dbsession, clock):
    results = [("p", [Action(kind="notify", rule="ok"), "nonsense", Action(kind="explode", rule="x")]), ("q", None)]
    assert actions_from(results, hook="whistle_escalate_on_event", dbsession=dbsession, clock=clock) == [
        Action(kind="notify", rule="ok")]


def test_each_dropped_result_is_audited_by_plugin_hook_and_type_only(dbsession, clock):
    results = [("p", [Action(kind="notify", rule="ok"), "nonsense", Action(kind="explode", rule="x")]), ("q", None)]
    actions_from(results, hook="whistle_escalate_on_event", dbsession=dbsession, clock=clock)
    assert [(event.actor, event.case_id, event.detail) for event in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.action == "plugin.action_dropped").order_by(AuditEvent.seq))] == [
        ("system", None, {"plugin": "p", "hook": "whistle_escalate_on_event", "type": "str"}),
        ("system", None, {"plugin": "p", "hook": "whistle_escalate_on_event", "type": "Action"}),
        ("system", None, {"plugin": "q", "hook": "whistle_escalate_on_event", "type": "NoneType"}),
    ]


def _queued(dbsession, *accounts) -> list[int]:
    return sorted(dbsession.scalars(select(Notification.account_id).where(
        Notification.account_id.in_([account.id for account in accounts]))))


def test_a_standby_copy_handed_over_by_a_rule_tells_the_new_holder_only(dbsession, settings, clock):
    holder = make_staff(dbsession, settings, clock, "esc.given.holder").account
    standby = make_staff(dbsession, settings, clock, "esc.given.standby").account
    case, keys = _case(dbsession, settings, clock, [holder])
    grant_to(case, keys, standby, clock.today(), directory=sign_directory(dbsession, settings, clock),
             holder=HOLDER_STANDBY)
    dbsession.flush()
    apply_actions(dbsession, clock, case, [Action(kind="grant", rule="r.breach", to="second_tier")], call_hook=Calls())
    assert _queued(dbsession, holder, standby) == [standby.id]


def test_preferences_filter_what_rules_and_grants_queue(dbsession, settings, clock):
    quiet = make_staff(dbsession, settings, clock, "esc.quiet").account
    keen = make_staff(dbsession, settings, clock, "esc.keen").account
    standby = make_staff(dbsession, settings, clock, "esc.quiet.standby").account
    for account in (quiet, standby):
        set_notify_events(dbsession, clock, account, {ESCALATIONS: False, CASE_GIVEN: False}, actor="system")
    case, keys = _case(dbsession, settings, clock, [quiet, keen])
    grant_to(case, keys, standby, clock.today(), directory=sign_directory(dbsession, settings, clock),
             holder=HOLDER_STANDBY)
    dbsession.flush()
    actions = [Action(kind="notify", rule="r.reminder"), Action(kind="grant", rule="r.breach", to="second_tier")]
    apply_actions(dbsession, clock, case, actions, call_hook=Calls())
    assert _queued(dbsession, quiet, keen, standby) == [keen.id]
    assert _escalations(dbsession, case)[0] == {"rule": "r.reminder", "kind": "notify", "recipients": 1}
    holders = set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id,
                                                                       CaseGrant.holder == "guardian")))
    assert standby.id in holders, "not being told changes nothing about the grant"


def test_a_notice_must_name_known_events(dbsession, clock):
    with pytest.raises(ValueError, match="notice events"):
        notify(dbsession, clock.now(), [1], event="everything")
    with pytest.raises(ValueError, match="notice events"):
        notify(dbsession, clock.now(), [1], event=())
