"""Review: a guardian left out of a report for a conflict of interest learns of it as admin.

A small organisation's speak-up guardian is often its whistle admin too (the roles combine).
When a report names them, the conflicts plugin keeps the case from them — and then the admin
area, which they can open, says that a guardian was "left out for a conflict of interest" on
their own channel (the audit log), or that every guardian who would have received some cases
was excluded for one (the overview). Knowing their channel's other guardians, they know a report
about them exists, and when it came: exactly what the exclusion is for.
"""
from __future__ import annotations

from tests.factories import html_login, make_channel, make_staff
from tests.functional.plugins.conftest import plugin_app  # noqa: F401  (fixture)

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
