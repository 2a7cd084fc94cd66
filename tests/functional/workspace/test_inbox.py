"""The inbox: filters, sort, paging, deadlines, labels and priority, as JSON and as a page."""
from __future__ import annotations

from datetime import timedelta

from tests.factories import api_login, html_login, make_channel, sign_directory, submit_api
from tests.functional.workspace.conftest import last_event
from whistle.intake_channels.models import ChannelGuardian


def cases(testapp, headers, query=""):
    return [row["case"] for row in testapp.get(f"/api/v1/cases{query}", headers=headers).json["cases"]]


def triage(testapp, headers, ref, status=200, **body):
    return testapp.post_json(f"/api/v1/cases/{ref}/triage", body, headers=headers, status=status)


def test_labels_and_priority_are_set_filtered_and_audited(testapp, dbsession, headers, guardian, channel):
    first, second = submit_api(testapp)["case"], submit_api(testapp)["case"]
    summary = triage(testapp, headers, first, priority="urgent", add_labels=["safeguarding", "ward-7"]).json
    assert (summary["priority"], summary["labels"]) == ("urgent", ["safeguarding", "ward-7"])
    assert last_event(dbsession).detail == {"added": ["safeguarding", "ward-7"], "removed": []}
    assert cases(testapp, headers, "?label=ward-7") == [first]
    assert cases(testapp, headers, "?priority=urgent") == [first]
    assert cases(testapp, headers, "?priority=normal") == [second]
    assert cases(testapp, headers, "?sort=priority")[0] == first
    removed = triage(testapp, headers, first, remove_labels=["ward-7"]).json
    assert removed["labels"] == ["safeguarding"]
    assert cases(testapp, headers, "?label=ward-7") == []
    listing = testapp.get("/api/v1/cases?label=safeguarding", headers=headers).json["cases"][0]
    assert listing["labels"] == ["safeguarding"] and listing["priority"] == "urgent"


def test_bad_labels_and_priorities_are_refused(testapp, headers, guardian, channel):
    ref = submit_api(testapp)["case"]
    assert triage(testapp, headers, ref, status=422, add_labels=["Not A Slug!"]).json["errors"][0]["field"] == "labels"
    assert triage(testapp, headers, ref, status=422, priority="asap").json["errors"][0]["field"] == "priority"
    assert testapp.get("/api/v1/cases?priority=asap", headers=headers, status=422)
    assert testapp.get("/api/v1/cases?status=open", headers=headers, status=422)
    assert testapp.get("/api/v1/cases?sort=random", headers=headers, status=422)


def test_status_channel_and_overdue_filters(testapp, dbsession, settings, guardian, clock):
    kids = make_channel(dbsession, "kids", title="Young people's voice")
    dbsession.add(ChannelGuardian(channel_id=kids.id, account_id=guardian.account.id))
    sign_directory(dbsession, settings, clock)
    dbsession.flush()
    old = submit_api(testapp)["case"]
    clock.advance(timedelta(days=8))
    new = submit_api(testapp, channel="kids")["case"]
    headers = api_login(testapp, guardian, clock)
    assert cases(testapp, headers) == [old, new], "deadline first: the older acknowledgement is due sooner"
    assert cases(testapp, headers, "?overdue=true") == [old]
    assert cases(testapp, headers, "?channel=kids") == [new]
    testapp.post_json(f"/api/v1/cases/{old}/transitions", {"to": "acknowledged"}, headers=headers)
    assert cases(testapp, headers, "?overdue=true") == [], "acknowledged late, but the next deadline is months away"
    assert cases(testapp, headers, "?status=acknowledged") == [old]
    row = testapp.get("/api/v1/cases?status=received", headers=headers).json["cases"][0]
    assert row["next_deadline"] == {"kind": "acknowledge", "date": row["ack_due"], "days": 7}
    assert cases(testapp, headers, "?sort=opened") == [new, old]


def test_paging(testapp, headers, guardian, channel):
    refs = [submit_api(testapp)["case"] for _ in range(5)]
    first = testapp.get("/api/v1/cases?per_page=2", headers=headers).json
    assert first["total"] == 5 and len(first["cases"]) == 2 and first["page"] == 1
    pages = [cases(testapp, headers, f"?per_page=2&page={n}") for n in (1, 2, 3)]
    assert sorted(sum(pages, [])) == sorted(refs)
    assert cases(testapp, headers, "?per_page=2&page=4") == []
    # The total comes with a page's rows; past the last page, and with nothing found, it is still right.
    assert [testapp.get(f"/api/v1/cases?per_page=2&page={n}", headers=headers).json["total"] for n in (3, 4)] == [5, 5]
    assert testapp.get("/api/v1/cases?status=closed", headers=headers).json["total"] == 0


def test_the_inbox_page_shows_deadlines_unread_and_filters(testapp, dbsession, guardian, clock, channel):
    ref = submit_api(testapp)["case"]
    inbox = html_login(testapp, guardian, clock)
    assert "Acknowledge: in 7 days" in inbox.text and "1 new" in inbox.text
    assert "0 past a deadline" in inbox.text and "1 with something new" in inbox.text
    inbox.click(ref)
    headers = api_login(testapp, guardian, clock)
    triage(testapp, headers, ref, add_labels=["fraud"])
    page = testapp.get("/staff/cases")
    form = page.forms[1]
    form["label"] = "fraud"
    filtered = form.submit()
    assert ref in filtered.text and "fraud" in filtered.text and "1 new" not in filtered.text
    assert ref not in testapp.get("/staff/cases?label=other").text
    bad = testapp.get("/staff/cases?status=nonsense", status=422)
    assert "Status: choose one of the statuses in the list." in bad.text


def test_triage_through_the_page(testapp, dbsession, guardian, clock, channel):
    ref = submit_api(testapp)["case"]
    html_login(testapp, guardian, clock)
    form = testapp.get(f"/staff/cases/{ref}").forms["triage-form"]
    form["priority"] = "high"
    form["add_labels"] = "bullying night-shift"
    page = form.submit().follow()
    assert "bullying, night-shift" in page.text
    form = page.forms["triage-form"]
    form["add_labels"] = "BAD LABEL!"
    refused = form.submit(status=422)
    assert "BAD LABEL!" in refused.text and "labels are 1-64" in refused.text


def test_the_inbox_page_pages_and_keeps_its_filters(testapp, guardian, clock, channel):
    refs = [submit_api(testapp)["case"] for _ in range(27)]
    first = html_login(testapp, guardian, clock)
    assert "Page 1 of 2" in first.text and "Previous" not in first.text
    second = first.click("Next")
    assert "Page 2 of 2" in second.text and second.text.count('href="/staff/cases/') == 2
    shown = {ref for ref in refs if ref in first.text or ref in second.text}
    assert shown == set(refs)
    filtered = testapp.get("/staff/cases?status=received&per_page=10").click("Next")
    assert "status=received" in filtered.request.url and "Page 2 of 3" in filtered.text
    assert filtered.text.count('href="/staff/cases/') == 10
