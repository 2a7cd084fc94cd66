"""The admin overview says, per channel, why nobody can read an open case: nobody could receive it
when it arrived (never saying whether a conflict of interest was why: the admin may be the guardian
left out), or its holders disabled."""
from __future__ import annotations

from tests.factories import api_login, html_login, make_channel, make_staff
from whistle.intake.forms import Submission
from whistle.intake.services import submit_disclosure


def test_each_channel_s_unreadable_cases_come_with_a_reason_that_names_no_exclusion(plugin_app, dbsession, settings, clock, call_hook):
    admin = make_staff(dbsession, settings, clock, "reasons.admin", admin=True, guardian=False)
    make_channel(dbsession, "conflicted", title="Raise a concern")
    make_staff(dbsession, settings, clock, "q.lindqvist", channels=["conflicted"])
    make_staff(dbsession, settings, clock, "r.marsh", channels=["conflicted"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])
    for _ in range(2):
        app.post_json("/api/v1/disclosures", {"channel": "conflicted", "text": "Lindqvist and Marsh took the keys.",
                                              "answers": {"ongoing": "yes"}}, status=201)
    # A case that arrived while nobody attended its channel (before channels refused reports).
    unattended = make_channel(dbsession, "youth", title="Young people's voice")
    submit_disclosure(dbsession, settings, clock, Submission(unattended, "Nobody listens.", {}, "anonymous", None),
                      call_hook=call_hook)

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
