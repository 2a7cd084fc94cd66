"""Review: a stolen recovery key takes over the account quietly, and for good.

With only the username and the recovery key, anyone can re-enrol the authenticator (and, through
"forgotten password", set a new password): every session of the owner ends. Two things would let
the owner notice and recover:

- the owner is told: nothing is queued for them (their notice address is on file);
- a recovery key that has been used is replaced: the same key keeps working, so whoever holds a
  copy can do it again after the owner has recovered, as often as they like.
"""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_staff
from whistle.accounts.services import set_notify_address
from whistle.escalations.models import Notification


def _reset(testapp, staff, status=200):
    return testapp.post_json("/api/v1/staff/authenticator",
                             {"username": staff.username, "recovery_key": staff.recovery_key}, status=status)


def test_the_owner_is_told_when_their_authenticator_is_replaced(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "reset.owner")
    # The owner gets notices by email; the smtp channel need not be loaded for the row to be queued.
    set_notify_address(dbsession, clock, owner.account, "email", "owner@example.org", available=["email"],
                       actor="system")

    _reset(testapp, owner)

    told = dbsession.scalars(select(Notification).where(Notification.account_id == owner.account.id)).all()
    assert told, "nothing tells the owner that their authenticator was replaced and their sessions ended"


def test_a_used_recovery_key_is_replaced(testapp, dbsession, settings, clock):
    owner = make_staff(dbsession, settings, clock, "reset.again")
    first = _reset(testapp, owner).json
    assert set(first) >= {"totp_secret"}, "the reset worked"

    # Whoever else holds the printed key can do it again, however often the owner recovers.
    again = testapp.post_json("/api/v1/staff/authenticator",
                              {"username": owner.username, "recovery_key": owner.recovery_key}, expect_errors=True)
    assert again.status_int == 422, "a recovery key should work once, and a new one be shown with the new secret"


def test_a_flood_of_wrong_recovery_keys_is_slowed_down(testapp, dbsession, settings, clock):
    """Guessing a 140-bit key is hopeless, but nothing limits trying: each refusal is answered at
    once and appends an event to the permanent, hash-chained audit log (under its one head row,
    which every audited action waits for). A script can grow the log without bound and slow
    every guardian's work; sign-in, by contrast, pauses an account after five failures."""
    from sqlalchemy import func

    from whistle.audit.models import AuditEvent

    owner = make_staff(dbsession, settings, clock, "reset.target")
    before = dbsession.scalar(select(func.count()).select_from(AuditEvent))
    statuses = [testapp.post_json("/api/v1/staff/authenticator",
                                  {"username": owner.username, "recovery_key": "0000-0000-0000-0000-0000-0000-0000"},
                                  expect_errors=True).status_int for _ in range(50)]
    written = dbsession.scalar(select(func.count()).select_from(AuditEvent)) - before
    assert 429 in statuses or written < 50, f"50 refusals in a row, none slowed: {set(statuses)}, {written} events"
