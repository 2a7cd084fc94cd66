"""Lifecycle hooks fire from the real guardian and reporter paths, after the change, with escalation."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import api_login, make_channel, make_staff, sign_directory
from tests.plugins import recording_plugin
from whistle.audit.models import AuditEvent
from whistle.cases.models import Case
from whistle.intake_channels.models import ChannelGuardian

RECORDING = "tests.plugins.recording_plugin"


def test_guardian_moves_and_reporter_messages_reach_the_plugins(plugin_app, dbsession, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "life.guardian")
    channel = make_channel(dbsession, "lifecycle-hooks")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=guardian.account.id))
    sign_directory(dbsession, settings, clock)
    app = plugin_app([RECORDING])
    recording_plugin.CALLS.clear()

    sent = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "Rotas are falsified.",
                                                 "answers": {"ongoing": "yes"}}, status=201).json
    ref = sent["case"]
    headers = api_login(app, guardian, clock)
    for to in ("acknowledged", "assessing"):
        app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "closed", "substantiated": "no", "changes": ["none"],
                                                      "learned": "Nothing."}, headers=headers)
    app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "assessing", "reason": "New facts."}, headers=headers)
    reporter = {"Authorization": "Bearer " + app.post_json("/api/v1/reporter/session",
                                                            {"receipt": sent["receipt"]}).json["token"]}
    app.post_json("/api/v1/reporter/messages", {"text": "More detail."}, headers=reporter, status=201)

    assert recording_plugin.CALLS == [
        ("opened", ref), ("event", ref, "opened"),
        ("status_changed", ref, "received", "acknowledged"), ("acknowledged", ref, True),
        ("event", ref, "acknowledged"),
        ("status_changed", ref, "acknowledged", "assessing"), ("event", ref, "status_changed"),
        ("status_changed", ref, "assessing", "closed"), ("closed", ref, "closed"), ("event", ref, "closed"),
        ("status_changed", ref, "closed", "assessing"), ("event", ref, "reopened"),
        ("reporter_message", ref), ("event", ref, "reporter_message"),
        ("escalated", ref, "test.reporter-wrote", "high"),
    ]
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    assert case.priority == "high"
    escalated = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case.id,
                                                           AuditEvent.action == "case.escalated")).one()
    assert escalated.detail == {"rule": "test.reporter-wrote", "kind": "raise_priority", "from": "normal", "to": "high"}


def test_a_refused_move_fires_nothing(plugin_app, dbsession, settings, clock):
    guardian = make_staff(dbsession, settings, clock, "life.refused")
    channel = make_channel(dbsession, "lifecycle-refused")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=guardian.account.id))
    sign_directory(dbsession, settings, clock)
    app = plugin_app([RECORDING])
    ref = app.post_json("/api/v1/disclosures", {"channel": channel.slug, "text": "x",
                                                "answers": {"ongoing": "yes"}}, status=201).json["case"]
    recording_plugin.CALLS.clear()
    app.post_json(f"/api/v1/cases/{ref}/transitions", {"to": "closed"}, headers=api_login(app, guardian, clock),
                  status=409)
    assert recording_plugin.CALLS == []
