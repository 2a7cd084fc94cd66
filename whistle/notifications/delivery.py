"""Delivering the notification outbox through the notification channel plugins.

`deliver_due(ctx)` is one of the scheduled tick's jobs. For each guardian with a due notice
(state pending, next_attempt_at <= now):

- **Claim.** The guardian's `notification_recipients` row is locked with FOR UPDATE SKIP LOCKED,
  then their pending rows: a second tick on PostgreSQL skips a guardian the first one is
  working on, so nobody is sent the same notice twice. (SQLite has no row locks; there the
  tick holds a single-writer lease around all its jobs.)
- **Batch.** All of a guardian's pending rows are answered by ONE notice ("something needs your
  attention" and the sign-in link), at most one per `whistle.notifications.batch_minutes`:
  within that interval of the last notice, the rows are postponed to its end.
- **Retry.** A channel that raises counts an attempt on each row (its error's *type* is kept,
  never the message); the next try is after base * 2**(attempts-1), at most 6 hours, and after
  `whistle.notifications.max_attempts` the row is dead-lettered (state "failed"), which admins
  see and can retry at /admin/notifications.
- **Skip.** A guardian without an address, or whose channel is not loaded, keeps their rows
  pending ("skipped": delivered as soon as they have a usable address); admins see who.
- **Cancel.** Rows of a disabled account (or, except those about the account itself, of one
  that is no longer a guardian) are set to "cancelled", not deleted, so the counts still add up.

Each guardian is handled in a transaction of its own (`ctx.session()`), so one guardian's
failure — a channel raising, or anything unexpected — neither stops nor undoes the others, and
the locks are held only while that one guardian's notice is sent. Due guardians are listed in
batches of BATCH. Delivery is at least once: a crash between sending and committing sends that
guardian's notice again at the next tick; nothing is ever lost.
"""
from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import overload

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from whistle.accounts.models import Account
from whistle.hooks.types import Notice
from whistle.i18n import link_in_language
from whistle.jobs import TickContext
from whistle.notifications.models import (
    ACCOUNT,
    ATTENTION,
    CANCELLED,
    DELIVERED,
    FAILED,
    PENDING,
    Notification,
    NotificationRecipient,
)
from whistle.notifications.preferences import shipped_notice_language
from whistle.settings import Settings

log = logging.getLogger(__name__)

BATCH = 100  # guardians listed per query
MAX_BACKOFF = timedelta(hours=6)


@dataclass(frozen=True)
class DeliveryReport:
    """What one `deliver_due` did. Counts are outbox rows, except `notices` (one per guardian)."""

    delivered: int = 0  # rows answered by a notice that was sent
    notices: int = 0  # notices sent
    retried: int = 0  # rows whose delivery failed and will be tried again
    dead_lettered: int = 0  # rows that failed for the last time (state "failed")
    postponed: int = 0  # rows held back: a notice went to that guardian less than batch_minutes ago
    skipped: int = 0  # rows of guardians with no usable address: still pending
    cancelled: int = 0  # rows of disabled accounts, dropped
    errors: int = 0  # guardians whose handling failed unexpectedly (rolled back; tried again next tick)

    def summary(self) -> str:
        line = (f"notifications: {self.delivered} delivered ({self.notices} sent), {self.retried} retrying, "
                f"{self.dead_lettered} dead-lettered, {self.postponed} postponed, {self.skipped} skipped")
        if self.cancelled:
            line += f", {self.cancelled} cancelled"
        if self.errors:
            line += f", {self.errors} errors"
        return line


def delivery_job(ctx: TickContext) -> str:
    """The tick's "notifications" job: deliver what is due, and say what was done."""
    return deliver_due(ctx).summary()


def backoff(attempts: int, base: timedelta) -> timedelta:
    """How long to wait after the `attempts`-th failed attempt: base, 2*base, 4*base, ... (≤ 6 h)."""
    return min(base * 2 ** min(max(attempts - 1, 0), 20), MAX_BACKOFF)


@overload
def _aware(moment: datetime) -> datetime: ...
@overload
def _aware(moment: None) -> None: ...
def _aware(moment: datetime | None) -> datetime | None:
    # SQLite hands back naive datetimes; everything stored is UTC.
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


def deliver_due(ctx: TickContext) -> DeliveryReport:
    """Send what is due (see the module docstring). Never raises for one guardian's trouble."""
    now = ctx.clock.now()
    tally: Counter = Counter()
    after = 0
    while True:
        try:
            with ctx.session() as dbsession:
                account_ids = _due_recipients(dbsession, now, after)
                _ensure_recipient_rows(dbsession, account_ids)
        except Exception as error:  # noqa: BLE001 - the database is unwell: leave everything for the next tick
            log.error("notification delivery stopped: listing due notices failed (%s)", type(error).__name__)
            tally["errors"] += 1
            break
        if not account_ids:
            break
        after = account_ids[-1]
        for account_id in account_ids:
            ctx.heartbeat()  # outside the try: a lost SQLite lease must stop this job, not be counted
            try:
                with ctx.session() as dbsession:
                    outcome = _deliver_to(ctx, dbsession, account_id, now)
            except Exception as error:  # noqa: BLE001 - one guardian's trouble must not stop the others' notices
                log.error("notification delivery to account %s failed unexpectedly (%s); it is tried again "
                          "at the next tick", account_id, type(error).__name__)
                tally["errors"] += 1
                continue
            tally.update(outcome)
    report = DeliveryReport(**{f.name: tally[f.name] for f in fields(DeliveryReport)})
    if report != DeliveryReport():
        log.info("%s", report.summary())
    return report


def _due_recipients(dbsession: Session, now: datetime, after: int) -> list[int]:
    return list(dbsession.scalars(
        select(Notification.account_id).where(Notification.state == PENDING, Notification.next_attempt_at <= now,
                                              Notification.account_id > after)
        .group_by(Notification.account_id).order_by(Notification.account_id).limit(BATCH)
    ))


def _ensure_recipient_rows(dbsession: Session, account_ids: list[int]) -> None:
    """Give each guardian the row that is locked while they are sent a notice."""
    if not account_ids:
        return
    existing = set(dbsession.scalars(
        select(NotificationRecipient.account_id).where(NotificationRecipient.account_id.in_(account_ids))))
    missing = [{"account_id": account_id} for account_id in account_ids if account_id not in existing]
    if not missing:
        return
    insert = postgresql_insert if dbsession.get_bind().dialect.name == "postgresql" else sqlite_insert
    # Another tick may insert the same rows at the same moment: theirs are as good as ours.
    dbsession.execute(insert(NotificationRecipient).values(missing).on_conflict_do_nothing(
        index_elements=["account_id"]))


def _deliver_to(ctx: TickContext, dbsession: Session, account_id: int, now: datetime) -> dict[str, int]:
    """Claim, then send one notice for, all of one guardian's pending rows (or hold them)."""
    recipient = dbsession.scalars(
        select(NotificationRecipient).where(NotificationRecipient.account_id == account_id)
        .with_for_update(skip_locked=True)
    ).first()
    if recipient is None:  # another tick is sending to this guardian right now
        return {}
    rows = list(dbsession.scalars(
        select(Notification).where(Notification.account_id == account_id, Notification.state == PENDING)
        .order_by(Notification.id).with_for_update()
    ))
    due = [row for row in rows if _aware(row.next_attempt_at) <= now]
    if not due:  # another tick answered them before we got the lock
        return {}

    account = dbsession.get(Account, account_id)
    if account is None or account.disabled:
        for row in rows:
            row.state = CANCELLED
        return {"cancelled": len(rows)}
    cancelled: dict[str, int] = {}
    if not account.is_guardian:  # nothing about cases for them; what is about their account still goes
        about_cases = [row for row in rows if row.kind != ACCOUNT]
        for row in about_cases:
            row.state = CANCELLED
        rows, due = [row for row in rows if row.kind == ACCOUNT], [row for row in due if row.kind == ACCOUNT]
        cancelled = {"cancelled": len(about_cases)} if about_cases else {}
        if not due:
            return cancelled
    return {**cancelled, **_deliver_rows(ctx, account, recipient, rows, due, now)}


def _deliver_rows(ctx: TickContext, account: Account, recipient: NotificationRecipient, rows: list[Notification],
                  due: list[Notification], now: datetime) -> dict[str, int]:
    """Send one notice for `rows` (of which `due` are due), or hold or skip them."""
    channel = ctx.notification_channels.get(account.notify_channel or "")
    if channel is None or not account.notify_address:
        return {"skipped": len(due)}

    hold = _held_until(rows, recipient, ctx.settings, now)
    if hold is not None:
        for row in due:
            row.next_attempt_at = hold
        return {"postponed": len(due)}

    language = shipped_notice_language(account)
    notice = Notice(recipient_id=account.id, kind=ATTENTION, language=language,
                    link=link_in_language(ctx.settings.notification_link, language))
    try:
        channel.deliver(notice, account.notify_address)
    # Whatever the channel raised: retry later (never log the message: it may hold the address).
    except Exception as error:  # noqa: BLE001
        return _failed(rows, type(error).__name__, ctx.settings, now, channel_name=channel.name)
    for row in rows:
        row.state, row.delivered_at = DELIVERED, now
    recipient.last_sent_at = now
    return {"delivered": len(rows), "notices": 1}


def _held_until(rows: list[Notification], recipient: NotificationRecipient, settings: Settings,
                now: datetime) -> datetime | None:
    """When this guardian may next be sent a notice, if not now: the end of the batching interval
    after their last notice, or a retry already scheduled after a failure (a new row must not
    cut a backoff short)."""
    holds = []
    last_sent = _aware(recipient.last_sent_at)
    if last_sent is not None and last_sent + settings.notification_batch > now:
        holds.append(last_sent + settings.notification_batch)
    retries = [_aware(row.next_attempt_at) for row in rows if row.attempts and _aware(row.next_attempt_at) > now]
    if retries:
        holds.append(min(retries))
    return max(holds) if holds else None


def _failed(rows: list[Notification], error_type: str, settings: Settings, now: datetime, *,
            channel_name: str) -> dict[str, int]:
    """Count an attempt on each row; dead-letter those out of attempts; schedule the others."""
    remaining, dead = [], 0
    for row in rows:
        row.attempts = (row.attempts or 0) + 1
        row.last_error = error_type[:64]
        if row.attempts >= settings.notification_max_attempts:
            row.state = FAILED
            dead += 1
        else:
            remaining.append(row)
    if remaining:
        retry_at = now + backoff(max(row.attempts for row in remaining), settings.notification_retry_base)
        for row in remaining:
            row.next_attempt_at = retry_at
    log.warning("notification channel %s failed with %s: %d notices to retry, %d dead-lettered",
                channel_name, error_type, len(remaining), dead)
    return {"retried": len(remaining), "dead_lettered": dead}
