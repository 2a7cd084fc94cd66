"""What the admin area shows: counts and metadata, read with queries that touch no ciphertext."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, select
from sqlalchemy.orm import Session, aliased

from whistle import crypto
from whistle.accounts.models import Account
from whistle.accounts.services import (
    AccountError,
    Enrolment,
    check_new_account,
    create_account,
    record_created,
    set_disabled,
    set_roles,
)
from whistle.audit.models import AuditEvent
from whistle.cases.info import case_info
from whistle.cases.lifecycle import CLOSED, RECEIVED, STATUSES
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.hooks.types import StatisticsExport
from whistle.intake_channels.models import TIER_DEFAULT, Channel, ChannelGuardian
from whistle.intake_channels.services import (
    channels_left_unattended,
    channels_named,
    record_membership,
    set_channels,
)
from whistle.key_directory.services import UNATTENDED_REASONS, auto_sign, staleness, unattended_channels
from whistle.notifications.models import FAILED, PENDING, STATES, Notification


def overview(dbsession: Session, settings, clock) -> dict:
    """Case counts by status and by channel, how many are past a deadline, the channels that take
    no reports, and the signed key directory against the database (key_directory_state)."""
    today = clock.today()
    by_status = dict.fromkeys(STATUSES, 0)
    by_status.update(dict(dbsession.execute(select(Case.status, func.count()).group_by(Case.status)).all()))
    by_channel = [
        {"channel": slug, "title": title, "cases": count}
        for slug, title, count in dbsession.execute(
            select(Channel.slug, Channel.title, func.count(Case.id))
            .outerjoin(Case, Case.channel_id == Channel.id).group_by(Channel.id, Channel.slug, Channel.title)
            .order_by(Channel.title)
        ).all()
    ]
    ack_overdue = dbsession.scalar(select(func.count()).where(Case.status == RECEIVED, Case.ack_due < today)) or 0
    feedback_overdue = dbsession.scalar(
        select(func.count()).where(Case.status != CLOSED, Case.status != RECEIVED, Case.feedback_given_on.is_(None),
                                   Case.feedback_due < today)
    ) or 0
    unassigned = unassigned_by_channel(dbsession)
    return {"by_status": by_status, "by_channel": by_channel, "total": sum(by_status.values()),
            "overdue": {"acknowledgement": ack_overdue, "feedback": feedback_overdue},
            "unassigned": sum(row["cases"] for row in unassigned),
            "unassigned_by_channel": unassigned,
            "unattended_channels": [
                {"channel": channel.slug, "title": channel.title, "reason": reason,
                 "explanation": UNATTENDED_REASONS[reason]}
                for channel, reason in unattended_channels(dbsession, settings, clock)],
            "key_directory": key_directory_state(dbsession, settings, clock)}


def key_directory_state(dbsession: Session, settings, clock) -> dict:
    """The organisation key's fingerprint, the published directory, and each difference between it
    and the database in plain words (a key that differs is reported as the key swap it looks like)."""
    state = staleness(dbsession, settings, clock)
    directory = state.directory
    return {"fingerprint": crypto.fingerprint(settings.org_public_key) if settings.org_public_key else None,
            "version": directory.version if directory else None,
            "expires": directory.expires_at if directory else None,
            "problem": state.problem, "stale": state.stale, "differences": state.differences,
            "swapped": state.swapped, "auto_sign": settings.org_auto_sign,
            "refusals": key_refusals(dbsession, clock)}


# How far back the overview looks for refusals because a key was not the one it should be.
REFUSALS_SHOWN_FOR = timedelta(days=90)
KEY_REFUSALS = {
    "case.key_mismatch": "a case's key was not the one its guardians' or its reporter's keys vouch for",
    "key_directory.rolled_back": "an older key directory was put back in the database",
}


def key_refusals(dbsession: Session, clock) -> list[dict]:
    """The refusals because a key was not the one it should be (someone changed the database), from
    the audit log of the last REFUSALS_SHOWN_FOR: per kind, how many and the last day. No case is
    named: the admin area opens none."""
    since = clock.now() - REFUSALS_SHOWN_FOR
    rows = dbsession.execute(
        select(AuditEvent.action, func.count(), func.max(AuditEvent.at))
        .where(AuditEvent.action.in_(list(KEY_REFUSALS)), AuditEvent.at >= since)
        .group_by(AuditEvent.action).order_by(AuditEvent.action))
    return [{"what": KEY_REFUSALS[action], "count": count, "last": last.date()} for action, count, last in rows]


def _held_by_an_enabled_guardian():
    return (select(CaseGrant.case_id).join(Account, Account.id == CaseGrant.account_id)
            .where(CaseGrant.holder == HOLDER_GUARDIAN, Account.disabled.is_(False), Account.is_guardian.is_(True)))


# Why nobody can read an open case, per case, from its grants and its "case.unassigned" event.
# A case nobody received on arrival has one reason, whatever kept it from its guardians: an admin
# is often a guardian too, and a reason naming a conflict of interest would tell a guardian left
# out of a report that it exists, and when it came.
HOLDERS_GONE, NOBODY_COULD_RECEIVE, NO_HOLDER_LEFT = ("holders_disabled", "nobody_could_receive", "no_holder_left")
UNASSIGNED_REASONS = {
    HOLDERS_GONE: "every guardian who held them is disabled or no longer has the guardian role; "
                  "re-enabling one of them makes them readable again",
    NOBODY_COULD_RECEIVE: "no guardian could receive them when they arrived",
    NO_HOLDER_LEFT: "no guardian holds them any more",
}

# What the admin area leaves out of audit events: how many guardians a report left out for a
# conflict of interest (the guardians who hold the case see it on the case page), and a purged
# case's reference (an admin never sees one).
_NOT_FOR_ADMINS = {"case.routed": ("excluded",), "case.unassigned": ("excluded",), "case.purged": ("ref",)}


def detail_for_admins(action: str, detail: dict | None) -> dict | None:
    """An audit event's detail as the admin area shows it (see _NOT_FOR_ADMINS); a copy, never
    the stored row's own dictionary."""
    hidden = _NOT_FOR_ADMINS.get(action)
    if not hidden or detail is None:
        return detail
    return {key: value for key, value in detail.items() if key not in hidden}


def unassigned_by_channel(dbsession: Session) -> list[dict]:
    """Open cases no enabled guardian holds, counted by channel and by why: [{"channel", "title",
    "reason" (a key of UNASSIGNED_REASONS), "explanation", "cases"}]. Three queries."""
    had_a_holder = exists(select(CaseGrant.case_id).where(CaseGrant.case_id == Case.id,
                                                          CaseGrant.holder == HOLDER_GUARDIAN))
    unheld = (Case.status != CLOSED, Case.id.not_in(_held_by_an_enabled_guardian()))
    rows = dbsession.execute(
        select(Case.id, Case.channel_id, had_a_holder).where(*unheld)).all()
    if not rows:
        return []
    never_held = select(Case.id).where(*unheld, ~had_a_holder)
    unassigned_on_arrival = set(dbsession.scalars(
        select(AuditEvent.case_id)
        .where(AuditEvent.action == "case.unassigned", AuditEvent.case_id.in_(never_held))))
    counts: Counter = Counter()
    for case_id, channel_id, held_once in rows:
        if held_once:
            reason = HOLDERS_GONE
        elif case_id in unassigned_on_arrival:
            reason = NOBODY_COULD_RECEIVE
        else:
            reason = NO_HOLDER_LEFT
        counts[channel_id, reason] += 1
    channels = {channel.id: channel for channel in dbsession.scalars(
        select(Channel).where(Channel.id.in_({channel_id for channel_id, _ in counts})))}
    return sorted(({"channel": channels[channel_id].slug, "title": channels[channel_id].title, "reason": reason,
                    "explanation": UNASSIGNED_REASONS[reason], "cases": count}
                   for (channel_id, reason), count in counts.items()),
                  key=lambda row: (row["title"], row["reason"]))


# --- statistics exports offered by plugins ---


def statistics_exports(call_hook) -> dict:
    """The exports enabled plugins offer, by name (the last plugin to offer a name wins)."""
    exports = {}
    for offered in call_hook("whistle_statistics_exports"):
        for export in offered if isinstance(offered, (list, tuple)) else ():
            if isinstance(export, StatisticsExport) and callable(export.build):
                exports[export.name] = export
    return exports


def recent_quarters(today: date, count: int = 8) -> list[tuple[date, date]]:
    """The current calendar quarter and the ones before it, newest first. Quarters start in
    January, April, July and October, so they are also the NHS financial year's quarters."""
    year, month = today.year, (today.month - 1) // 3 * 3 + 1
    quarters = []
    for _ in range(count):
        start = date(year, month, 1)
        end_year, end_month = (year, month + 3) if month < 10 else (year + 1, 1)
        quarters.append((start, date(end_year, end_month, 1) - timedelta(days=1)))
        year, month = (year, month - 3) if month > 1 else (year - 1, 10)
    return quarters


def build_export(dbsession: Session, export: StatisticsExport, start: date, end: date) -> bytes:
    """Run the export over every case's metadata (CaseInfo): no content, no keys."""
    infos = [case_info(dbsession, case) for case in dbsession.scalars(select(Case).order_by(Case.id))]
    return export.build(infos, start, end)


def accounts(dbsession: Session) -> list[Account]:
    return list(dbsession.scalars(select(Account).order_by(Account.username)))


def channels_with_members(dbsession: Session) -> list[tuple[Channel, list[str]]]:
    channels = list(dbsession.scalars(select(Channel).order_by(Channel.title)))
    members: dict[int, list[str]] = {c.id: [] for c in channels}
    for channel_id, username in dbsession.execute(
        select(ChannelGuardian.channel_id, Account.username).join(Account, Account.id == ChannelGuardian.account_id)
        .order_by(Account.username)
    ).all():
        members.setdefault(channel_id, []).append(username)
    return [(c, members[c.id]) for c in channels]


def channel_slugs_of(dbsession: Session, account: Account) -> list[str]:
    return list(dbsession.scalars(
        select(Channel.slug).join(ChannelGuardian, and_(ChannelGuardian.channel_id == Channel.id,
                                                        ChannelGuardian.account_id == account.id))
        .order_by(Channel.slug)
    ))


def audit_page(dbsession: Session, page: int, per_page: int) -> tuple[list[AuditEvent], int]:
    total = dbsession.scalar(select(func.count()).select_from(AuditEvent)) or 0
    events = list(dbsession.scalars(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(per_page).offset((page - 1) * per_page)
    ))
    return events, total


@dataclass(frozen=True)
class Consequences:
    """What a change to an account would leave behind: the channels that would stop taking
    reports (nobody else attends them) and the open cases only this account can read."""

    channels: list[Channel] = field(default_factory=list)
    sole_cases: int = 0

    def __bool__(self) -> bool:
        return bool(self.channels or self.sole_cases)

    def sentences(self, username: str) -> list[str]:
        said = []
        if self.channels:
            titles = ", ".join(f"“{channel.title}”" for channel in self.channels)
            said.append(f"{'This channel' if len(self.channels) == 1 else 'These channels'} will stop taking "
                        f"reports, because nobody else attends {'it' if len(self.channels) == 1 else 'them'}: "
                        f"{titles}.")
        if self.sole_cases:
            cases = "1 open case" if self.sole_cases == 1 else f"{self.sole_cases} open cases"
            said.append(f"{cases} that only {username} holds will become unreadable: nobody else has "
                        f"{'its' if self.sole_cases == 1 else 'their'} keys.")
        return said


class ConfirmationNeeded(Exception):
    """The change would leave channels unattended or cases unreadable; ask before making it."""

    def __init__(self, consequences: Consequences) -> None:
        super().__init__("confirmation needed")
        self.consequences = consequences


def sole_holder_cases(dbsession: Session, account: Account) -> int:
    """Open cases `account` holds as a guardian that no other enabled guardian holds."""
    other, other_account = aliased(CaseGrant), aliased(Account)
    someone_else = exists(
        select(other.case_id).join(other_account, other_account.id == other.account_id)
        .where(other.case_id == CaseGrant.case_id, other.account_id != account.id, other.holder == HOLDER_GUARDIAN,
               other_account.disabled.is_(False), other_account.is_guardian.is_(True)))
    return dbsession.scalar(
        select(func.count()).select_from(CaseGrant).join(Case, Case.id == CaseGrant.case_id)
        .where(CaseGrant.account_id == account.id, CaseGrant.holder == HOLDER_GUARDIAN, Case.status != CLOSED,
               ~someone_else)) or 0


def consequences_of(dbsession: Session, account: Account, *, guardian: bool, disabled: bool,
                    channels: set[str]) -> Consequences:
    """What giving `account` these roles, disabled flag and channels would leave behind."""
    if account.disabled or not account.is_guardian:
        return Consequences()  # it attends nothing and reads nothing now
    if disabled or not guardian:
        return Consequences(channels_left_unattended(dbsession, account, set()),
                            sole_holder_cases(dbsession, account))
    keeps = set(dbsession.scalars(select(Channel.id).where(Channel.slug.in_(channels)))) if channels else set()
    return Consequences(channels_left_unattended(dbsession, account, keeps))


def add_account(dbsession: Session, settings, clock, *, username: str, password: str, is_guardian: bool = True,
                is_admin: bool = False, channel_slugs: tuple[str, ...] = (), actor: str = "system") -> Enrolment:
    """Create a staff account; a guardian becomes a default recipient of each named channel.
    Raises AccountError (nothing is made) for a bad username or password, or an unknown channel.
    With whistle.org.auto_sign, the key directory is signed again, listing the new key pair."""
    check_new_account(dbsession, username, password)
    channels = channels_named(dbsession, channel_slugs)
    enrolment = create_account(dbsession, settings, clock, username=username, password=password,
                               is_guardian=is_guardian, is_admin=is_admin)
    # An admin who is not also a guardian receives no cases: the admin role opens nothing.
    if is_guardian:
        for channel in channels:
            dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=enrolment.account.id))
            record_membership(dbsession, channel.slug, enrolment.account.id, TIER_DEFAULT)
    if is_guardian:
        dbsession.flush()
        # The key pair was made just now, in this transaction: it is vouched for, not read back.
        auto_sign(dbsession, settings, clock, vouched={enrolment.account.id: enrolment.account.public_key}, actor=actor)
    record_created(dbsession, clock, enrolment.account, actor=actor, channel_slugs=tuple(c.slug for c in channels))
    return enrolment


def update_account(dbsession: Session, settings, clock, account: Account, *, by: Account, guardian: bool,
                   admin: bool, disabled: bool, channels: set[str], confirmed: bool = False) -> None:
    """Change roles, channel memberships and the disabled flag, each audited. Raises AccountError,
    or ConfirmationNeeded (changing nothing) when the change would stop a channel taking reports
    or leave open cases unreadable and is not `confirmed`. With whistle.org.auto_sign, the key
    directory is signed again if who it lists changed."""
    if account.id == by.id and (disabled or not admin):
        raise AccountError("you cannot disable yourself or remove your own admin role; ask another admin")
    if not (guardian or admin):
        raise AccountError("an account needs at least one role")
    if not confirmed:
        consequences = consequences_of(dbsession, account, guardian=guardian, disabled=disabled, channels=channels)
        if consequences:
            raise ConfirmationNeeded(consequences)
    actor = f"account:{by.id}"
    set_roles(dbsession, clock, account, guardian=guardian, admin=admin, actor=actor)
    set_channels(dbsession, clock, account, channels if guardian else set(), actor=actor)
    set_disabled(dbsession, clock, account, disabled, actor=actor)
    dbsession.flush()
    auto_sign(dbsession, settings, clock, actor=actor)


def describe_account(dbsession: Session, account: Account) -> dict:
    return {"id": account.id, "username": account.username, "guardian": account.is_guardian, "admin": account.is_admin,
            "disabled": account.disabled, "channels": channel_slugs_of(dbsession, account),
            "created": account.created_at}


# --- the notification outbox ---

DEAD_LETTERS_SHOWN = 200


def notification_overview(dbsession: Session, available_channels) -> dict:
    """Outbox counts by state, the dead-lettered notices (newest first, metadata only) and the
    enabled guardians who cannot be notified (no address, or a channel that is not loaded)."""
    by_state = dict.fromkeys(STATES, 0)
    by_state.update(dict(dbsession.execute(
        select(Notification.state, func.count()).group_by(Notification.state)).all()))
    dead = [
        {"id": row.id, "username": username, "created": row.created_at.date(), "attempts": row.attempts,
         "error": row.last_error or "unknown"}
        for row, username in dbsession.execute(
            select(Notification, Account.username).join(Account, Account.id == Notification.account_id)
            .where(Notification.state == FAILED).order_by(Notification.id.desc()).limit(DEAD_LETTERS_SHOWN)
        ).all()
    ]
    waiting = dict(dbsession.execute(
        select(Notification.account_id, func.count()).where(Notification.state == PENDING)
        .group_by(Notification.account_id)).all())
    available = set(available_channels)
    unreachable = []
    for account in dbsession.scalars(select(Account).where(Account.is_guardian.is_(True), Account.disabled.is_(False))
                                     .order_by(Account.username)):
        if not account.notify_channel or not account.notify_address:
            reason = "no-address"
        elif account.notify_channel not in available:
            reason = "channel-not-enabled"
        else:
            continue
        unreachable.append({"id": account.id, "username": account.username, "reason": reason,
                            "channel": account.notify_channel, "pending": waiting.get(account.id, 0)})
    return {"by_state": by_state, "dead_letters": dead, "dead_letters_total": by_state[FAILED],
            "unreachable": unreachable}


def retry_notifications(dbsession: Session, now, ids: list[int] | None) -> list[int]:
    """Put dead-lettered notices (those in `ids`, or all of them) back to pending, due now, with
    their attempts reset. Returns the ids retried."""
    query = select(Notification).where(Notification.state == FAILED).order_by(Notification.id)
    if ids is not None:
        query = query.where(Notification.id.in_(ids))
    retried = []
    for row in dbsession.scalars(query):
        row.state, row.attempts, row.next_attempt_at = PENDING, 0, now
        retried.append(row.id)
    return retried
