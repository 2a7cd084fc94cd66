"""A guardian left out of a report for a conflict of interest does not learn of it as admin.

A small organisation's speak-up guardian is often its whistle admin too. When a report names them,
the conflicts plugin keeps the case from them; the admin area, which they can open, must not then
say that a guardian was left out for a conflict of interest (the audit log, page or API), nor that
every guardian was excluded from some cases (the overview): knowing their channel's other guardians,
they would know a report about them exists, and when it came.
"""
from __future__ import annotations

from tests.factories import api_login, html_login, make_channel, make_staff

TOLD = ("conflict of interest", "excluded", "left out")


def test_the_admin_area_does_not_tell_an_excluded_guardian_that_a_report_left_them_out(plugin_app, dbsession,
                                                                                       settings, clock):
    make_channel(dbsession, "concerns", title="Raise a concern")
    okafor = make_staff(dbsession, settings, clock, "p.okafor", channels=["concerns"], admin=True)
    make_staff(dbsession, settings, clock, "q.lindqvist", channels=["concerns"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])
    app.post_json("/api/v1/disclosures", {"channel": "concerns", "answers": {"ongoing": "yes"},
                                          "text": "Okafor is taking money from the petty cash."}, status=201)

    html_login(app, okafor, clock)
    for page in ("/admin", "/admin/audit"):
        text = app.get(page).text.lower()
        said = [words for words in TOLD if words in text]
        assert not said, f"{page} tells p.okafor that a report left them out: {said}"

    events = app.get("/api/v1/admin/audit", headers=api_login(app, okafor, clock)).json["events"]
    routed = [event for event in events if event["action"] == "case.routed"]
    assert routed, "the routing is still in the log"
    assert all("excluded" not in event["detail"] for event in routed), "the API gives the count as stored"


def test_the_case_s_guardians_still_see_that_someone_was_left_out(plugin_app, dbsession, settings, clock):
    make_channel(dbsession, "concerns", title="Raise a concern")
    make_staff(dbsession, settings, clock, "p.okafor", channels=["concerns"])
    lindqvist = make_staff(dbsession, settings, clock, "q.lindqvist", channels=["concerns"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])
    case = app.post_json("/api/v1/disclosures", {"channel": "concerns", "answers": {"ongoing": "yes"},
                                                 "text": "Okafor is taking money from the petty cash."}).json["case"]

    html_login(app, lindqvist, clock)
    assert "1 guardian left out for a conflict of interest" in app.get(f"/staff/cases/{case}").text
