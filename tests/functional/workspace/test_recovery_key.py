"""Using a recovery key: the owner is told, the key is replaced, and wrong keys are slowed down.

With only the username and the recovery key, anyone can set up the authenticator again (and,
through "forgotten password", set a new password), and every session of the owner ends. So:

- the owner is sent a (content-free) notice they cannot turn off, whatever their roles;
- the key that was used stops working, and a new one is shown once with the new secret or
  password: a copy of the old key, however it was taken, is worthless from then on;
- wrong keys are counted per client and across the service, per hour: a client past its own
  budget, or past the service's after a wrong key of its own, is refused untried (429), while a
  client that has tried no wrong key is still tried; each hour is one audit event with its
  count, not one event per wrong key.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.factories import api_login, html_login, make_staff
from whistle.accounts.services import RECOVERY_FAILURES_PER_CLIENT, RECOVERY_THROTTLE, close_recovery_hour
from whistle.audit.models import AuditEvent
from whistle.notifications.models import ACCOUNT, Notification
from whistle.notifications.preferences import ACCOUNT_RECOVERY, EVENTS
from whistle.throttles import Throttle

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


WRONG = "0000-0000-0000-0000-0000-0000-0000"
NEW_PASSWORD = "a new and long enough password"


def _reset(testapp, username: str, recovery_key: str, **kwargs):
    return testapp.post_json("/api/v1/staff/authenticator", {"username": username, "recovery_key": recovery_key},
                             **kwargs)


def _forgot(testapp, username: str, recovery_key: str, **kwargs):
    form = testapp.get("/staff/forgot-password").forms[0]
    form["username"], form["recovery_key"] = username, recovery_key
    form["new"] = form["again"] = NEW_PASSWORD
    return form.submit(**kwargs)


def _told(dbsession, account) -> list[Notification]:
    return list(dbsession.scalars(select(Notification).where(Notification.account_id == account.id)))


def _audited(dbsession) -> int:
    return dbsession.scalar(select(func.count()).select_from(AuditEvent))


# --- the owner is told ---

def test_the_owner_is_told_when_their_authenticator_is_replaced_even_with_every_notice_off(testapp, dbsession,
                                                                                            settings, clock):
    owner = make_staff(dbsession, settings, clock, "reset.owner")
    owner.account.notify_channel, owner.account.notify_address = "email", "owner@example.org"
    # Every event stored as off, this one too (as no form or call can store it): it goes all the same.
    owner.account.notify_events_off = list(EVENTS)

    _reset(testapp, owner.username, owner.recovery_key)

    told = _told(dbsession, owner.account)
    assert [row.kind for row in told] == [ACCOUNT], "one notice, about the account, queued for the owner"


def test_the_owner_is_told_when_their_password_is_reset(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "forgot.owner")
    _forgot(testapp, owner.username, owner.recovery_key)
    assert [row.kind for row in _told(dbsession, owner.account)] == [ACCOUNT]


def test_the_notice_cannot_be_turned_off(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "reset.prefs")
    headers = api_login(testapp, owner, clock)
    refused = testapp.put_json("/api/v1/staff/notifications", {"events": {ACCOUNT_RECOVERY: False}},
                               headers=headers, status=422)
    assert "cannot be turned off" in refused.json["errors"][0]["message"]
    assert testapp.get("/api/v1/staff/notifications", headers=headers).json["events"][ACCOUNT_RECOVERY] is True

    html_login(testapp, owner, clock)
    page = testapp.get("/staff/notifications")
    assert EVENTS[ACCOUNT_RECOVERY] in page.html.find(id="always-on").text
    form = page.forms[1]
    for box in form.fields["events"]:
        box.checked = False
    form.submit(status=200)
    assert ACCOUNT_RECOVERY not in owner.account.notify_events_off, "unticking every box leaves it on"


# --- the key that was used is replaced ---

def test_a_used_recovery_key_is_replaced_by_one_shown_with_the_new_secret(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "reset.again")
    first = _reset(testapp, owner.username, owner.recovery_key).json
    assert first["recovery_key"] and first["recovery_key"] != owner.recovery_key

    # Whoever else holds the old key can do nothing with it any more.
    _reset(testapp, owner.username, owner.recovery_key, status=422)
    # The new one works, once.
    second = _reset(testapp, owner.username, first["recovery_key"]).json
    _reset(testapp, owner.username, first["recovery_key"], status=422)
    assert second["recovery_key"] not in (owner.recovery_key, first["recovery_key"])


def test_the_pages_show_the_new_recovery_key_once(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "pages.again")
    form = testapp.get("/staff/reset-authenticator").forms[0]
    form["username"], form["recovery_key"] = owner.username, owner.recovery_key
    shown = form.submit().html.find(id="recovery-key").text
    assert shown and shown != owner.recovery_key

    done = _forgot(testapp, owner.username, shown)
    newer = done.html.find(id="recovery-key").text
    assert newer and newer != shown
    assert "no longer works" in done.text
    _forgot(testapp, owner.username, shown, status=422)


def test_the_cases_stay_readable_with_the_new_recovery_key(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "reset.cases")
    new_key = _reset(testapp, owner.username, owner.recovery_key).json["recovery_key"]
    # The new key unwraps the same private key: a password reset with it keeps the account's key pair.
    public = owner.account.public_key
    _forgot(testapp, owner.username, new_key, status=200)
    owner.password = NEW_PASSWORD
    assert owner.account.public_key == public


# --- wrong keys are slowed down, and counted ---

ATTACKER, OTHER, OWNER = ({"REMOTE_ADDR": address} for address in ("203.0.113.66", "203.0.113.67", "198.51.100.7"))


def test_a_flood_of_wrong_recovery_keys_is_slowed_down_and_counted(testapp, dbsession, settings, clock):
    """Guessing a 140-bit key is hopeless, but each refusal used to be answered at once and to append
    an event to the permanent, hash-chained audit log (under its one head row, which every audited
    action waits for): a script could grow the log without bound and slow every guardian's work."""
    owner = make_staff(dbsession, settings, clock, "reset.target")
    before = _audited(dbsession)
    statuses = [_reset(testapp, owner.username, WRONG, expect_errors=True, extra_environ=ATTACKER).status_int
                for _ in range(50)]
    assert statuses == [422] * RECOVERY_FAILURES_PER_CLIENT + [429] * (50 - RECOVERY_FAILURES_PER_CLIENT)
    assert _audited(dbsession) == before, "counted, not one audit event each"
    assert dbsession.get(Throttle, RECOVERY_THROTTLE).count == 50 > settings.recovery_failures_per_hour

    # From that client even the right key is not tried, on either form, until its hour is over.
    paused = _reset(testapp, owner.username, owner.recovery_key, status=429, extra_environ=ATTACKER)
    assert 0 < int(paused.headers["Retry-After"]) <= 3601 and "Try again after" in paused.json["detail"]
    refused = _forgot(testapp, owner.username, owner.recovery_key, status=429, extra_environ=ATTACKER)
    assert refused.html.find(id="recovery_key-error")
    # The service's budget is spent: a client with a wrong key of its own this hour is refused untried…
    _reset(testapp, owner.username, WRONG, status=422, extra_environ=OTHER)
    _reset(testapp, owner.username, owner.recovery_key, status=429, extra_environ=OTHER)
    # …but the owner, on a device that has tried no wrong key, is tried, and gets in.
    new_key = _reset(testapp, owner.username, owner.recovery_key, status=200, extra_environ=OWNER).json["recovery_key"]

    clock.advance(timedelta(hours=1, seconds=1))
    _reset(testapp, owner.username, WRONG, status=422, extra_environ=ATTACKER)  # records the hour before
    recorded = list(dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "account.recovery_failures")))
    assert [(event.actor, event.detail["count"]) for event in recorded] == [("anonymous", 54)]
    assert owner.username not in str(recorded[0].detail)
    _reset(testapp, owner.username, new_key, status=200, extra_environ=ATTACKER)


def test_an_hour_of_wrong_keys_is_recorded_when_it_ends_even_with_no_try_after_it(testapp, dbsession, settings,
                                                                                  clock):
    owner = make_staff(dbsession, settings, clock, "reset.quiet")
    for _ in range(3):
        _reset(testapp, owner.username, WRONG, status=422)
    assert close_recovery_hour(dbsession, clock) == 0, "the hour is not over"
    clock.advance(timedelta(hours=1, seconds=1))
    assert close_recovery_hour(dbsession, clock) == 3
    assert close_recovery_hour(dbsession, clock) == 0, "recorded once"
    html_login(testapp, make_staff(dbsession, settings, clock, "reset.auditor", admin=True, guardian=False), clock)
    assert "3 wrong recovery keys tried in the hour from" in testapp.get("/admin/audit").text
