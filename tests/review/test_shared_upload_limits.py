"""Review: the guardians' internal files use up the reporter's room for files.

The per-case limit (whistle.attachments.max_case_bytes) is summed over every attachment of the
case, the guardians' internal files included, which the reporter cannot see. A guardian who
keeps the investigation's evidence in the case (CCTV, a spreadsheet) leaves the reporter unable
to send a single further file, and the reporter is told "all the files of one report together
can be at most ..." although they sent none.
"""
from __future__ import annotations

from webtest import TestApp

from tests.factories import api_login, make_channel, make_staff, submit_api
from whistle.config import make_configurator
from whistle.settings import load_settings


def _app(raw_settings, clock, tm, dbsession, **limits):
    raw = dict(raw_settings, **{f"whistle.attachments.{key}": str(value) for key, value in limits.items()})
    app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()
    return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                       "app.dbsession": dbsession})


def test_internal_files_do_not_take_the_reporters_room_for_files(raw_settings, clock, tm, dbsession, settings):
    testapp = _app(raw_settings, clock, tm, dbsession, max_file_bytes=1000, max_case_bytes=1500)
    make_channel(dbsession, "staff")
    guardian = make_staff(dbsession, settings, clock, "limits.guardian", channels=["staff"])
    sent = submit_api(testapp)
    staff = api_login(testapp, guardian, clock)

    # The guardian keeps 900 bytes of evidence for the team only.
    testapp.post(f"/api/v1/cases/{sent['case']}/attachments?internal=true", b"e" * 900,
                 headers=dict(staff, **{"Content-Type": "application/octet-stream", "X-Filename": "cctv.bin"}),
                 status=201)

    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    reporter = {"Authorization": f"Bearer {token}", "Content-Type": "application/octet-stream",
                "X-Filename": "photo.jpg"}
    # The reporter has sent nothing yet: a 600-byte photo is well within both limits for them.
    response = testapp.post("/api/v1/reporter/attachments", b"p" * 600, headers=reporter, expect_errors=True)
    assert response.status_int == 201, (
        f"the reporter's upload was refused ({response.status_int}: {response.json.get('detail')}) because of "
        "files only the guardians can see")
