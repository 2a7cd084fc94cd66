"""Review: the audit log's order dates a reporter's action to the minute anyway.

A reporter's events carry only the day (00:00). But the log is one sequence, shown to admins in
order, and its other events carry the exact time: a reporter's message sits between a
guardian's sign-in at 14:05:00 and an admin's at 14:07:00, so it was sent between them. On a
working day the neighbours are minutes apart; "dated to the day" is dated to the minute. (The
same holds for the global ids of case items and outbox rows, which guardians' timed events name.)
"""
from __future__ import annotations

from datetime import datetime, time, timedelta

from tests.factories import api_login, make_live_channel, make_staff, submit_api

HOUR = timedelta(hours=1)


def _at(value: str) -> datetime:
    return datetime.fromisoformat(value)


def test_the_audit_log_does_not_place_a_reporters_message_between_two_timed_events(testapp, dbsession, settings,
                                                                                   clock):
    if clock.now().time() < time(0, 10):
        clock.advance(HOUR)
    make_live_channel(dbsession, settings, clock)
    guardian = make_staff(dbsession, settings, clock, "order.guardian", channels=["staff"])
    admin = make_staff(dbsession, settings, clock, "order.admin", admin=True, guardian=False)
    receipt = submit_api(testapp)["receipt"]
    token = testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]

    api_login(testapp, guardian, clock)  # a guardian signs in ...
    clock.advance(timedelta(minutes=1))
    testapp.post_json("/api/v1/reporter/messages", {"text": "I saw it again tonight."},
                      headers={"Authorization": f"Bearer {token}"}, status=201)  # ... the reporter writes ...
    staff = api_login(testapp, admin, clock)  # ... an admin signs in a minute later

    events = testapp.get("/api/v1/admin/audit?per_page=500", headers=staff).json["events"]
    events.sort(key=lambda event: event["seq"])
    index = next(i for i, event in enumerate(events) if event["action"] == "reporter.message_sent")
    before = [e for e in events[:index] if e["actor"] != "reporter"][-1]
    after = [e for e in events[index + 1:] if e["actor"] != "reporter"][0]
    window = _at(after["at"]) - _at(before["at"])
    assert window >= HOUR, (f"the log puts the reporter's message between {before['action']} at {before['at']} and "
                            f"{after['action']} at {after['at']}: within {window}")
