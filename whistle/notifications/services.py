"""Queueing content-free notices in the outbox: one row per guardian to tell, in the caller's transaction.

Every notice names the event it is about (whistle.notifications.preferences), so that a guardian
who turned that event off is not told. The scheduled tick delivers the outbox
(whistle.notifications.delivery).
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from whistle.accounts.events import AccountRecovered
from whistle.accounts.models import Account
from whistle.cases.events import CaseGiven, CaseOpened, CaseWithdrawn, ReporterWrote
from whistle.cases.models import Case
from whistle.cases.services import current_holders
from whistle.clock import Clock
from whistle.notifications.models import ACCOUNT, ATTENTION, PENDING, Notification
from whistle.notifications.preferences import (
    ACCOUNT_RECOVERY,
    ALWAYS_ON,
    CASE_GIVEN,
    CASE_WITHDRAWN,
    EVENTS,
    NEW_REPORT,
    REPORTER_FILE,
    REPORTER_MESSAGE,
)


def notice_events_off(dbsession: Session, account_ids: Iterable[int]) -> dict[int, frozenset[str]]:
    """The notice events each of `account_ids` turned off, in one query: what `notify` reads,
    for a caller that queues notices for many cases at once (`notify(..., events_off=...)`)."""
    ids = list(dict.fromkeys(account_ids))
    if not ids:
        return {}
    return {row.id: frozenset(row.notify_events_off or ()) for row in dbsession.execute(
        select(Account.id, Account.notify_events_off).where(Account.id.in_(ids)))}


def notify(dbsession: Session, now: datetime, account_ids: Iterable[int], kind: str = ATTENTION, *,
           event: str | Iterable[str], events_off: Mapping[int, frozenset[str]] | None = None,
           queue: list[dict] | None = None) -> int:
    """Queue one content-free notice per recipient in the outbox; returns how many.

    `event` is what the notice is about (whistle.notifications.preferences), or several events for one
    notice (a reporter's message that came with files): a recipient who turned off every one of
    them is left out. The event is not stored: the row says only "attention".

    `now` is the row's time and when it falls due: pass `clock.record_time()`, so that a notice a
    reporter's request queues is dated to the day (whistle.clock.ReportersClock). Due at midnight
    is due at once, so that delays nothing; a retry is timed by the delivery, not the reporter.

    Delivery is not done here (it is the scheduled tick's job): the row is written in the same
    transaction as whatever caused it, so a rolled-back request notifies nobody.

    `events_off`: the recipients' choices read beforehand (`notice_events_off`), instead of here.
    `queue`: the rows are appended to it instead of added to the session, for a caller queueing
    notices for many cases at once, which writes them with one statement (`write_queued`)."""
    events = {event} if isinstance(event, str) else set(event)
    if not events or not events <= EVENTS.keys():
        raise ValueError(f"notice events must be some of {', '.join(EVENTS)}")
    recipients = list(dict.fromkeys(account_ids))
    if recipients and not events & ALWAYS_ON:
        turned_off = notice_events_off(dbsession, recipients) if events_off is None else events_off
        recipients = [i for i in recipients if not events <= set(turned_off.get(i) or ())]
    rows = [{"account_id": account_id, "kind": kind, "created_at": now, "state": PENDING, "attempts": 0,
             "next_attempt_at": now} for account_id in recipients]
    if queue is not None:
        queue.extend(rows)
    else:
        dbsession.add_all([Notification(**row) for row in rows])
    return len(recipients)


def write_queued(dbsession: Session, queue: list[dict]) -> None:
    """Write the outbox rows `notify(..., queue=queue)` queued, with one statement."""
    if queue:
        dbsession.execute(insert(Notification), list(queue))
        queue.clear()


def notify_holders(dbsession: Session, clock: Clock, case: Case, event: str | Iterable[str], *,
                   exclude: Iterable[int] = ()) -> int:
    """Queue a content-free notice about `event` to each guardian who holds `case` now; returns how
    many were queued.

    Holders only: never a guardian on standby (their copy opens nothing until an escalation
    hands them the case), never one excluded at intake (they hold no grant). `exclude`: the
    guardian whose own action this is (nobody is told about what they did themselves), or the
    intake's excluded guardians. Preferences apply as in `notify`."""
    left_out = set(exclude)
    return notify(dbsession, clock.record_time(), [i for i in current_holders(dbsession, case) if i not in left_out],
                  event=event)


# --- core's notices, on the case events (whistle.cases.events; subscribed in whistle.notifications) ---


def tell_of_new_report(event: CaseOpened, call_hook) -> None:
    """The holders routing chose are told of a new report (not those excluded at intake)."""
    notify_holders(call_hook.dbsession, call_hook.clock, event.case, NEW_REPORT, exclude=event.excluded)


def tell_of_case_given(event: CaseGiven, call_hook) -> None:
    """Who was given a case is told; nobody else is."""
    notify(call_hook.dbsession, call_hook.clock.record_time(), event.account_ids, event=CASE_GIVEN)


def tell_of_reporter_writing(event: ReporterWrote, call_hook) -> None:
    """The holders are told, once for the post: of the message, the files, or both."""
    events = [name for name, sent in ((REPORTER_MESSAGE, event.message), (REPORTER_FILE, event.files)) if sent]
    notify_holders(call_hook.dbsession, call_hook.clock, event.case, events[0] if len(events) == 1 else events)


def tell_of_withdrawal(event: CaseWithdrawn, call_hook) -> None:
    """The holders are told that the reporter withdrew the report (the notice says only that
    something needs their attention)."""
    notify_holders(call_hook.dbsession, call_hook.clock, event.case, CASE_WITHDRAWN)


# --- the accounts' notices (whistle.accounts.events) ---


def tell_of_account_recovery(event: AccountRecovered, call_hook) -> None:
    """The account's owner is told that its recovery key was used, whatever their choices and
    roles (an admin too): if it was not them, this is how they find out."""
    notify(call_hook.dbsession, call_hook.clock.now(), [event.account.id], ACCOUNT, event=ACCOUNT_RECOVERY)
