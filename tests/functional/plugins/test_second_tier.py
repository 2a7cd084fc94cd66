"""The second tier on standby: sealed at intake, no access until an escalation activates it."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import api_login, html_login, make_channel, make_staff, sign_directory
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_STANDBY, Case, CaseGrant
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.notifications.models import Notification
from whistle.escalations.services import apply_actions
from whistle.hooks.types import Action


def _grants(dbsession, case) -> dict[int, str]:
    dbsession.flush()
    return dict(dbsession.execute(select(CaseGrant.account_id, CaseGrant.holder).where(
        CaseGrant.case_id == case.id, CaseGrant.account_id.is_not(None))).all())


def _no_hooks(hook, **kwargs):
    return []


@pytest.fixture
def ladder(dbsession, settings, clock):
    """A channel with one guardian and one second-tier guardian (the escalation ladder)."""
    first = make_staff(dbsession, settings, clock, "m.osei")
    second = make_staff(dbsession, settings, clock, "t.brennan")
    channel = make_channel(dbsession, "ladder")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=first.account.id))
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
    sign_directory(dbsession, settings, clock)
    dbsession.flush()
    return first, second


def _submit(testapp, dbsession, text="The medicines cupboard is never locked."):
    ref = testapp.post_json("/api/v1/disclosures", {"channel": "ladder", "text": text, "answers": {"ongoing": "yes"}},
                            status=201).json["case"]
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def test_the_second_tier_is_on_standby_and_cannot_see_the_case_until_escalated(testapp, dbsession, clock, ladder):
    first, second = ladder
    case = _submit(testapp, dbsession)
    assert _grants(dbsession, case) == {first.account.id: HOLDER_GUARDIAN, second.account.id: HOLDER_STANDBY}

    headers = api_login(testapp, second, clock)
    assert testapp.get("/api/v1/cases", headers=headers).json["cases"] == []  # not in their inbox
    testapp.get(f"/api/v1/cases/{case.ref}", headers=headers, status=404)  # and not readable
    testapp.post_json(f"/api/v1/cases/{case.ref}/replies", {"text": "hello"}, headers=headers, status=404)

    # The first tier sees who is on standby for the case.
    html_login(testapp, first, clock)
    page = testapp.get(f"/staff/cases/{case.ref}")
    assert f"On standby as the channel's second tier: {second.username}" in page.text

    # A deadline breach, on the schedule: no guardian is logged in, so there are no case keys.
    applied = apply_actions(dbsession, clock, case, [Action(kind="grant", rule="eu.ack-breach", to="second_tier")],
                            call_hook=_no_hooks)
    assert [action.kind for action in applied] == ["grant"]
    assert _grants(dbsession, case)[second.account.id] == HOLDER_GUARDIAN
    assert testapp.get(f"/api/v1/cases/{case.ref}", headers=headers).json["text"].startswith("The medicines")
    assert [row["case"] for row in testapp.get("/api/v1/cases", headers=headers).json["cases"]] == [case.ref]
    event = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                       AuditEvent.action == "case.escalated")).one()
    assert event.detail == {"rule": "eu.ack-breach", "kind": "grant", "audience": "second_tier",
                            "account_ids": [second.account.id]}


def test_notify_to_the_second_tier_reaches_those_on_standby_only(testapp, dbsession, settings, clock, ladder):
    first, second = ladder
    make_staff(dbsession, settings, clock, "ladder.bystander")  # an enabled guardian outside the ladder
    case = _submit(testapp, dbsession)
    before = set(dbsession.scalars(select(Notification.id)))
    apply_actions(dbsession, clock, case, [Action(kind="notify", rule="eu.ack-reminder", to="second_tier")],
                  call_hook=_no_hooks)
    dbsession.flush()
    new = [row.account_id for row in dbsession.scalars(select(Notification)) if row.id not in before]
    assert new == [second.account.id]


def test_a_holder_granting_someone_on_standby_activates_their_copy(testapp, dbsession, clock, ladder):
    first, second = ladder
    case = _submit(testapp, dbsession)
    testapp.post_json(f"/api/v1/cases/{case.ref}/grants", {"guardian": second.username},
                      headers=api_login(testapp, first, clock), status=201)
    assert _grants(dbsession, case) == {first.account.id: HOLDER_GUARDIAN, second.account.id: HOLDER_GUARDIAN}


def test_a_second_tier_guardian_excluded_for_a_conflict_gets_no_standby_and_no_escalation(
        plugin_app, dbsession, clock, ladder):
    first, second = ladder
    app = plugin_app(["conflicts"], plaintext=["conflicts"])
    case = _submit(app, dbsession, text="Brennan and his team hide the incident forms.")
    assert _grants(dbsession, case) == {first.account.id: HOLDER_GUARDIAN}  # no standby for the named one

    before = set(dbsession.scalars(select(Notification.id)))
    applied = apply_actions(dbsession, clock, case, [Action(kind="grant", rule="eu.ack-breach", to="second_tier"),
                                                     Action(kind="notify", rule="eu.ack-breach", to="second_tier")],
                            call_hook=_no_hooks)
    dbsession.flush()
    assert second.account.id not in _grants(dbsession, case)
    # Nobody is left on the second tier for this case: the notice falls back to the holders.
    assert [action.kind for action in applied] == ["notify"]
    assert [row.account_id for row in dbsession.scalars(select(Notification)) if row.id not in before] == [first.account.id]
