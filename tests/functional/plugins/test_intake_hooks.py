"""Plugins on the real intake path: failure isolation, plaintext allowance, exclusion, triage, outbox."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import api_login, make_channel, make_live_channel, make_staff, sign_directory
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case, CaseGrant, CaseLabel
from whistle.intake_channels.models import TIER_SECOND, Channel, ChannelGuardian
from whistle.notifications.models import Notification

EVERYWHERE = "tests.plugins.raising_everywhere"


def _case(dbsession, ref) -> Case:
    return dbsession.scalars(select(Case).where(Case.ref == ref)).one()


def _events(dbsession, action):
    return list(dbsession.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)))


def _holders(dbsession, case):
    return set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id,
                                                                    CaseGrant.account_id.is_not(None))))


def test_a_plugin_raising_in_every_hook_still_stores_the_disclosure_and_gives_a_receipt(
        plugin_app, dbsession, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "raise.guardian")
    channel = make_channel(dbsession, "raise-everywhere")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=guardian.account.id))
    sign_directory(dbsession, settings, clock)
    app = plugin_app([EVERYWHERE], plaintext=[EVERYWHERE])

    body = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "The night shift is unsafe.",
                                                 "answers": {"ongoing": "yes"}}, status=201).json
    assert body["receipt"]
    case = _case(dbsession, body["case"])
    assert guardian.account.id in _holders(dbsession, case)  # the default recipient still got it
    failed = {event.detail["hook"] for event in _events(dbsession, "plugin.failed")
              if event.detail["plugin"] == EVERYWHERE}
    # Every hook on the intake path was called, raised, and was audited without content.
    assert {"whistle_route_guardians", "whistle_excluded_guardians", "whistle_triage", "whistle_case_opened",
            "whistle_escalate_on_event"} <= failed
    assert all(set(event.detail) == {"plugin", "hook", "error"} for event in _events(dbsession, "plugin.failed"))

    # The guardian can read it: nothing of the request was lost.
    headers = api_login(app, guardian, clock)
    assert app.get(f"/api/v1/cases/{case.ref}", headers=headers).json["text"] == "The night shift is unsafe."


def test_a_plaintext_hook_is_not_called_for_a_plugin_not_allowed_plaintext(plugin_app, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock, "no-plaintext")
    app = plugin_app([EVERYWHERE])  # enabled, but not allowed plaintext
    app.post_json("/api/v1/disclosures", {"channel": "no-plaintext", "text": "child at risk",
                                          "answers": {"ongoing": "yes"}}, status=201)
    failed = {event.detail["hook"] for event in _events(dbsession, "plugin.failed")}
    assert "whistle_route_guardians" in failed  # not plaintext: called (and raised)
    assert "whistle_triage" not in failed and "whistle_excluded_guardians" not in failed


def test_a_plugin_not_named_in_the_settings_is_not_loaded_even_when_installed(plugin_app, dbsession, settings, clock):
    from importlib.metadata import entry_points

    assert {"conflicts", "uk_childrens_complaints"} <= {ep.name for ep in entry_points(group="whistle.plugins")}
    make_live_channel(dbsession, settings, clock, "young-peoples-voice", deadline_profile="uk_childrens_complaints")
    app = plugin_app([])
    body = app.post_json("/api/v1/disclosures", {"channel": "young-peoples-voice", "text": "He hit me",
                                                 "answers": {"ongoing": "yes"}}, status=201).json
    case = _case(dbsession, body["case"])
    assert app.app.registry.hooks.names == []
    assert case.priority == "normal"
    assert list(dbsession.scalars(select(CaseLabel.label).where(CaseLabel.case_id == case.id))) == []


def test_the_conflicts_plugin_excludes_a_guardian_named_in_the_disclosure(plugin_app, dbsession, settings, clock):
    named = make_staff(dbsession, settings, clock, "j.smithers")
    other = make_staff(dbsession, settings, clock, "a.khan")
    channel = make_channel(dbsession, "conflicts-staff")
    for staff in (named, other):
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=staff.account.id))
        sign_directory(dbsession, settings, clock)
    app = plugin_app(["conflicts"], plaintext=["conflicts"])

    body = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "Mr Smithers shouted at a patient.",
                                                 "answers": {"ongoing": "yes"}}, status=201).json
    ref = body["case"]
    assert app.get(f"/api/v1/cases/{ref}", headers=api_login(app, named, clock), status=404)
    assert app.get(f"/api/v1/cases/{ref}", headers=api_login(app, other, clock)).json["text"].startswith("Mr Smithers")
    # The audit says how many were excluded, never who or why.
    routed = [e for e in _events(dbsession, "case.routed") if e.case_id == _case(dbsession, ref).id]
    assert routed[0].detail == {"account_ids": [other.account.id], "tier": 1, "excluded": 1, "standby_ids": []}


def test_when_every_default_recipient_is_excluded_the_second_tier_gets_the_case(plugin_app, dbsession, settings, clock):
    named = make_staff(dbsession, settings, clock, "p.okonkwo")
    second = make_staff(dbsession, settings, clock, "r.tier-two")
    channel = make_channel(dbsession, "second-tier")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=named.account.id))
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
    sign_directory(dbsession, settings, clock)
    app = plugin_app(["conflicts"], plaintext=["conflicts"])

    ref = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "Okonkwo falsified the rota.",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]
    assert _holders(dbsession, _case(dbsession, ref)) == {second.account.id}


def test_urgent_triage_on_the_young_peoples_channel_brings_in_the_safeguarding_lead_at_once(
        plugin_app, dbsession, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "yp.guardian")
    lead = make_staff(dbsession, settings, clock, "safeguarding.lead")
    channel = make_channel(dbsession, "young-peoples-voice")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=guardian.account.id))
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=lead.account.id, tier=TIER_SECOND))
    sign_directory(dbsession, settings, clock)
    app = plugin_app(["uk_childrens_complaints"], plaintext=["uk_childrens_complaints"])
    before = set(dbsession.scalars(select(Notification.id)))

    ref = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "My foster carer hit me again",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]
    case = _case(dbsession, ref)
    assert case.priority == "urgent"
    assert list(dbsession.scalars(select(CaseLabel.label).where(CaseLabel.case_id == case.id))) == ["urgent-risk"]
    # The lead (the channel's second tier) holds the case now and can read it; both are told.
    assert _holders(dbsession, case) == {guardian.account.id, lead.account.id}
    assert app.get(f"/api/v1/cases/{ref}", headers=api_login(app, lead, clock)).json["text"].endswith("hit me again")
    new = [row for row in dbsession.scalars(select(Notification)) if row.id not in before]
    # The guardian: the new report; the lead: given the case; then one per rule action. Delivery
    # batches each guardian's rows into one notice.
    assert sorted((row.account_id, row.kind, row.state) for row in new) == sorted(
        [(guardian.account.id, "attention", "pending"), (lead.account.id, "attention", "pending"),
         (lead.account.id, "attention", "pending"), (guardian.account.id, "attention", "pending"),
         (lead.account.id, "attention", "pending")])
    assert [e.detail for e in _events(dbsession, "case.escalated") if e.case_id == case.id] == [
        {"rule": "uk.safeguarding-lead", "kind": "grant", "audience": "second_tier", "account_ids": [lead.account.id]},
        {"rule": "uk.safeguarding-lead", "kind": "notify", "audience": "second_tier", "recipients": 1},
        {"rule": "uk.safeguarding-lead", "kind": "notify", "recipients": 2}]


def test_the_html_form_still_shows_a_receipt_when_a_plugin_raises_everywhere(plugin_app, dbsession, settings, clock):
    import re

    make_live_channel(dbsession, settings, clock, "raise-html")
    app = plugin_app([EVERYWHERE], plaintext=[EVERYWHERE])
    before = len(_events(dbsession, "plugin.failed"))
    form = app.get("/report/raise-html").forms[0]  # whistle_intake_fields raised: the channel's own form
    form["text"] = "The fire doors are chained shut."
    form["answers.ongoing"] = "yes"
    page = form.submit(status=303).follow()
    assert page.status_int == 200 and re.search(r"[0-9A-Z]{4}(-[0-9A-Z]{4}){4}", page.text)
    stored = dbsession.scalars(select(Case).join(Case.channel).where(Channel.slug == "raise-html")).all()
    assert len(stored) == 1 and stored[0].ref in page.text
    hooks = {event.detail["hook"] for event in _events(dbsession, "plugin.failed")[before:]}
    assert {"whistle_intake_fields", "whistle_triage", "whistle_case_opened"} <= hooks
