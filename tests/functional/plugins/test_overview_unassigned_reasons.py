"""The admin overview says, per channel, why nobody can read an open case: nobody could receive it
when it arrived (never saying whether a conflict of interest was why: the admin may be the guardian
left out), or its holders disabled.

Intake refuses such reports now (tests/functional/plugins/test_nobody_can_receive.py); the
overview still accounts for the cases stored before it did."""
from __future__ import annotations

from tests.factories import api_login, html_login, make_channel, make_staff
from whistle import audit, crypto
from whistle.cases.services import open_case


def arrived_unassigned(dbsession, settings, clock, channel, *, excluded: int) -> None:
    """A case sealed to its reporter alone, audited as intake did before it refused such reports."""
    reporter = crypto.derive_reporter_keys(crypto.new_receipt(), settings.lookup_pepper, settings.receipt_kdf)
    case, _ = open_case(dbsession, channel=channel, reporter=reporter, guardians=[], today=clock.today(),
                        server_key=settings.session_key)
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.unassigned", case_id=case.id,
                 detail={"channel": channel.slug, "excluded": excluded})


def test_each_channel_s_unreadable_cases_come_with_a_reason_that_names_no_exclusion(plugin_app, dbsession, settings, clock):
    admin = make_staff(dbsession, settings, clock, "reasons.admin", admin=True, guardian=False)
    conflicted = make_channel(dbsession, "conflicted", title="Raise a concern")
    make_staff(dbsession, settings, clock, "q.lindqvist", channels=["conflicted"])
    make_staff(dbsession, settings, clock, "r.marsh", channels=["conflicted"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])
    for _ in range(2):  # both guardians excluded, before such reports were refused
        arrived_unassigned(dbsession, settings, clock, conflicted, excluded=2)
    # A case that arrived while nobody attended its channel (before channels refused reports).
    unattended = make_channel(dbsession, "youth", title="Young people's voice")
    arrived_unassigned(dbsession, settings, clock, unattended, excluded=0)

    overview = app.get("/api/v1/admin/overview", headers=api_login(app, admin, clock)).json
    assert overview["unassigned"] == 3
    assert [(row["channel"], row["reason"], row["cases"]) for row in overview["unassigned_by_channel"]] == [
        ("conflicted", "nobody_could_receive", 2), ("youth", "nobody_could_receive", 1)]
    assert [row["channel"] for row in overview["unattended_channels"]] == ["youth"]

    html_login(app, admin, clock)
    table = app.get("/admin").html.find("h2", string="Nobody can read").find_next("table").find_next("table").text
    assert "No guardian could receive them when they arrived." in table
    assert "conflict" not in table and "excluded" not in table
    assert "conflict of interest or\nis disabled" not in app.get("/admin").text, "no blanket sentence any more"
