"""The case page shows everything a guardian needs: attachments to download, identity, timeline."""
from __future__ import annotations

from urllib.parse import quote

from tests.factories import html_login, submit_api


def reporter_headers(testapp, receipt: str) -> dict:
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def test_attachments_are_listed_with_a_download_link_and_count_as_unread(testapp, guardian, headers, submitted, clock):
    ref = submitted["case"]
    testapp.get(f"/api/v1/cases/{ref}", headers=headers)  # read the disclosure
    reporter = reporter_headers(testapp, submitted["receipt"])
    upload = testapp.post("/api/v1/reporter/attachments", b"%PDF- rota", status=201,
                          headers=dict(reporter, **{"Content-Type": "application/pdf", "X-Filename": quote("rota.pdf")})).json
    testapp.post_json("/api/v1/reporter/messages", {"text": "The rota is attached."}, headers=reporter, status=201)
    assert testapp.get("/api/v1/cases", headers=headers).json["cases"][0]["unread"] == 2
    body = testapp.get(f"/api/v1/cases/{ref}", headers=headers).json
    assert [(a["id"], a["name"], a["size"]) for a in body["attachments"]] == [(upload["id"], "rota.pdf", 10)]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    link = f'href="/staff/cases/{ref}/attachments/{upload["id"]}"'
    assert link in page.text and "rota.pdf" in page.text
    assert page.click("rota.pdf").body == b"%PDF- rota"


def test_identity_and_timeline_on_the_page(testapp, guardian, channel, clock):
    ref = submit_api(testapp, identity={"name": "Sam Carter", "contact": "sam@example.org"},
                     identity_mode="confidential")["case"]
    html_login(testapp, guardian, clock)
    page = testapp.get(f"/staff/cases/{ref}")
    assert "Sam Carter" in page.text and "sam@example.org" in page.text
    assert "Confidential: only guardians know who they are" in page.text
    timeline = page.text.split('id="timeline"')[1]
    assert "The reporter opened the case on the" in timeline and "guardian read the case" in timeline
