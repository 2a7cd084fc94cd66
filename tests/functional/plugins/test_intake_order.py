"""The order of effects at intake: routing, triage, `whistle_case_opened`, the new-report notice to
the holders routing chose, then the escalation rules for "opened" (with the keys at hand)."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_channel, make_staff, sign_directory
from tests.plugins import intake_order_plugin
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.notifications.models import Notification
from whistle.notifications.preferences import CASE_GIVEN, set_notify_events

PLUGIN = "tests.plugins.intake_order_plugin"


def test_a_new_case_is_routed_triaged_announced_and_its_holders_told_before_the_rules_run(
        plugin_app, dbsession, settings, clock):
    first = make_staff(dbsession, settings, clock, "order.first")
    second = make_staff(dbsession, settings, clock, "order.second")
    channel = make_channel(dbsession, "order-line")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=first.account.id))
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
    sign_directory(dbsession, settings, clock)
    # The second tier is given the case by the rule for "opened": told that it was given to them,
    # which they turned off. Were the new-report notice sent after the rules ran, they would get it.
    set_notify_events(dbsession, clock, second.account, {CASE_GIVEN: False}, actor="system")
    intake_order_plugin.CALLS.clear()
    app = plugin_app([PLUGIN], plaintext=[PLUGIN])

    ref = app.post_json("/api/v1/disclosures", {"channel": "order-line", "text": "The order of things.",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]

    assert intake_order_plugin.CALLS == [
        "whistle_route_guardians", "whistle_excluded_guardians", "whistle_triage",
        "whistle_case_opened:high:ordered", "whistle_escalate_on_event:opened", "whistle_case_escalated:grant",
    ]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    holders = set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id,
                                                                       CaseGrant.holder == HOLDER_GUARDIAN)))
    assert holders == {first.account.id, second.account.id}
    actions = [event.action for event in dbsession.scalars(
        select(AuditEvent).where(AuditEvent.case_id == case.id).order_by(AuditEvent.seq))]
    assert actions == ["case.opened", "case.routed", "case.triaged", "case.escalated"]
    told = list(dbsession.scalars(select(Notification.account_id).order_by(Notification.id)))
    assert told == [first.account.id], "the new report reaches the holder routing chose, and only them"
