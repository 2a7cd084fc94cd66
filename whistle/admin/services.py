"""What the admin area shows: counts and metadata, read with queries that touch no ciphertext."""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from whistle import audit, crypto
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
from whistle.admin.models import APPROVED, PROPOSED, REJECTED, StaffingChange, StaffingProposal
from whistle.audit.models import AuditEvent
from whistle.cases.info import case_info
from whistle.cases.lifecycle import CLOSED, RECEIVED, STATUSES
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.crypto.directory import Tiers
from whistle.hooks.types import StatisticsExport
from whistle.i18n import _, localized, plural
from whistle.intake_channels.models import TIER_DEFAULT, TIER_SECOND, Channel, ChannelGuardian
from whistle.intake_channels.services import (
    channels_left_unattended,
    channels_named,
    record_membership,
    set_channels,
)
from whistle.key_directory.services import (
    UNATTENDED_REASONS,
    auto_sign,
    memberships,
    staleness,
    try_current_directory,
    unattended_channels,
)
from whistle.notifications.models import FAILED, PENDING, STATES, Notification
from whistle.notifications.preferences import STAFFING_CHANGE
from whistle.notifications.services import notify


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
    "case.key_mismatch": _("a case's key was not the one its guardians' or its reporter's keys vouch for"),
    "key_directory.rolled_back": _("an older key directory was put back in the database"),
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
    HOLDERS_GONE: _("every guardian who held them is disabled or no longer has the guardian role; "
                    "re-enabling one of them makes them readable again"),
    NOBODY_COULD_RECEIVE: _("no guardian could receive them when they arrived"),
    NO_HOLDER_LEFT: _("no guardian holds them any more"),
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
    for _quarter in range(count):
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
        """In the current request's language (English on the command line)."""
        said = []
        if self.channels:
            titles = ", ".join(f"“{channel.title}”" for channel in self.channels)
            said.append(plural("This channel will stop taking reports, because nobody else attends it: ${titles}.",
                               "These channels will stop taking reports, because nobody else attends them: "
                               "${titles}.", len(self.channels), {"titles": titles}))
        if self.sole_cases:
            said.append(plural("${count} open case that only ${username} holds will become unreadable: nobody else "
                               "has its keys.",
                               "${count} open cases that only ${username} holds will become unreadable: nobody "
                               "else has their keys.", self.sole_cases, {"username": username}))
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
                is_admin: bool = False, channel_slugs: tuple[str, ...] = (), actor: str = "system",
                by: Account | None = None) -> Enrolment:
    """Create a staff account; a guardian becomes a default recipient of each named channel.
    Raises AccountError (nothing is made) for a bad username or password, or an unknown channel.
    With whistle.org.auto_sign, the key directory is signed again, listing the new key pair.

    `by`: the admin doing it in the admin area. Then what it gives is recorded for the channels'
    guardians, who are told (record_staffing_changes); and under the two-admin rule the account
    is made disabled, without its channels, and the rest is a proposal for a second admin."""
    check_new_account(dbsession, username, password)
    channels = channels_named(dbsession, channel_slugs)
    before = staffing(dbsession)
    enrolment = create_account(dbsession, settings, clock, username=username, password=password,
                               is_guardian=is_guardian, is_admin=is_admin)
    if by is not None and settings.two_admin_rule:
        set_disabled(dbsession, clock, enrolment.account, True, actor=actor)
        record_created(dbsession, clock, enrolment.account, actor=actor)
        propose(dbsession, clock, enrolment.account, by=by, guardian=is_guardian, admin=is_admin, disabled=False,
                channels={channel.slug for channel in channels})
        return enrolment
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
    if by is not None:
        record_staffing_changes(dbsession, clock, before, made_by=by.id)
    return enrolment


def update_account(dbsession: Session, settings, clock, account: Account, *, by: Account, guardian: bool,
                   admin: bool, disabled: bool, channels: set[str], confirmed: bool = False,
                   proposed_by: int | None = None) -> None:
    """Change roles, channel memberships and the disabled flag, each audited. Raises AccountError,
    or ConfirmationNeeded (changing nothing) when the change would stop a channel taking reports
    or leave open cases unreadable and is not `confirmed`. With whistle.org.auto_sign, the key
    directory is signed again if who it lists changed. What it gives is recorded for the
    channels' guardians, who are told: made by `by`, or by `proposed_by` and approved by `by`."""
    if account.id == by.id and (disabled or not admin):
        raise AccountError("you cannot disable yourself or remove your own admin role; ask another admin",
                           NOT_YOURSELF)
    if not (guardian or admin):
        raise AccountError("an account needs at least one role", NEEDS_A_ROLE)
    if not confirmed:
        consequences = consequences_of(dbsession, account, guardian=guardian, disabled=disabled, channels=channels)
        if consequences:
            raise ConfirmationNeeded(consequences)
    actor = f"account:{by.id}"
    before = staffing(dbsession)
    set_roles(dbsession, clock, account, guardian=guardian, admin=admin, actor=actor)
    set_channels(dbsession, clock, account, channels if guardian else set(), actor=actor)
    set_disabled(dbsession, clock, account, disabled, actor=actor)
    dbsession.flush()
    auto_sign(dbsession, settings, clock, actor=actor)
    if proposed_by is None:
        record_staffing_changes(dbsession, clock, before, made_by=by.id)
    else:
        record_staffing_changes(dbsession, clock, before, made_by=proposed_by, approved_by=by.id)


def change_account(dbsession: Session, settings, clock, account: Account, *, by: Account, guardian: bool,
                   admin: bool, disabled: bool, channels: set[str],
                   confirmed: bool = False) -> StaffingProposal | None:
    """What the admin area does with a change to an account: under the two-admin rule, a change
    that gives access (gives_access) becomes a proposal, checked as update_account checks it and
    returned; anything else is made at once (update_account), and None returned."""
    if not (settings.two_admin_rule and gives_access(dbsession, account, guardian=guardian, admin=admin,
                                                      disabled=disabled, channels=channels)):
        update_account(dbsession, settings, clock, account, by=by, guardian=guardian, admin=admin,
                       disabled=disabled, channels=channels, confirmed=confirmed)
        return None
    if account.id == by.id and (disabled or not admin):
        raise AccountError("you cannot disable yourself or remove your own admin role; ask another admin",
                           NOT_YOURSELF)
    if not (guardian or admin):
        raise AccountError("an account needs at least one role", NEEDS_A_ROLE)
    if guardian:
        channels_named(dbsession, sorted(channels))
    elif channels:
        raise AccountError("only a guardian can receive a channel's cases",
                           _("Only a guardian can receive a channel's cases."))
    if not confirmed:
        consequences = consequences_of(dbsession, account, guardian=guardian, disabled=disabled, channels=channels)
        if consequences:
            raise ConfirmationNeeded(consequences)
    return propose(dbsession, clock, account, by=by, guardian=guardian, admin=admin, disabled=disabled,
                   channels=channels)


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


# --- who may receive cases: what changed, for the channels' guardians --------------------------
#
# Whoever is given access to cases — the guardian role, a place on a channel or its second tier —
# receives every future case it brings. So each such change is recorded (StaffingChange) and the
# channel's existing guardians are told (a content-free notice, STAFFING_CHANGE, always on): an
# admin cannot quietly give themselves or anyone else a channel's cases.


@dataclass(frozen=True)
class Staffing:
    """Who may receive cases at one moment: the enabled guardians, the enabled admins, and each
    channel membership's tier by (channel id, account id)."""

    guardians: frozenset[int]
    admins: frozenset[int]
    tiers: dict[tuple[int, int], int]

    def members_of(self, channel_id: int) -> set[int]:
        """The enabled guardians of the channel's first or second tier."""
        return {account_id for (member_of, account_id), tier in self.tiers.items()
                if member_of == channel_id and tier in (TIER_DEFAULT, TIER_SECOND)} & self.guardians


def staffing(dbsession: Session) -> Staffing:
    dbsession.flush()
    guardians, admins = set(), set()
    for account_id, is_guardian, is_admin in dbsession.execute(
            select(Account.id, Account.is_guardian, Account.is_admin).where(Account.disabled.is_(False))):
        if is_guardian:
            guardians.add(account_id)
        if is_admin:
            admins.add(account_id)
    tiers = {(channel_id, account_id): tier for channel_id, account_id, tier in dbsession.execute(
        select(ChannelGuardian.channel_id, ChannelGuardian.account_id, ChannelGuardian.tier))}
    return Staffing(frozenset(guardians), frozenset(admins), tiers)


def _gains(before: int | None, after: int) -> bool:
    """Whether moving from tier `before` (None: not a member) to `after` gives more cases: joining
    either tier, or moving up from the second tier to the first."""
    if after not in (TIER_DEFAULT, TIER_SECOND):
        return False
    return before not in (TIER_DEFAULT, TIER_SECOND) or (before == TIER_SECOND and after == TIER_DEFAULT)


def record_staffing_changes(dbsession: Session, clock, before: Staffing, *, made_by: int | None,
                            approved_by: int | None = None) -> list[StaffingChange]:
    """Record what gives access to cases between `before` and now — someone who became an enabled
    guardian, a guardian added to a channel's first or second tier — and queue one content-free
    notice (STAFFING_CHANGE) for each guardian who was already there: every enabled guardian for a
    new guardian (plugins may route any case to any guardian), the channel's guardians for a place
    on it. Not the account itself, nor the admins who made or approved it. `made_by`: the admin,
    or None for the operator on the command line. Returns the changes recorded."""
    after = staffing(dbsession)
    now = clock.now()
    made = [StaffingChange(made_at=now, account_id=account_id, made_by=made_by, approved_by=approved_by)
            for account_id in sorted(after.guardians - before.guardians)]
    made += [StaffingChange(made_at=now, account_id=account_id, channel_id=channel_id, tier=tier, made_by=made_by,
                            approved_by=approved_by)
             for (channel_id, account_id), tier in sorted(after.tiers.items())
             if _gains(before.tiers.get((channel_id, account_id)), tier)]
    if not made:
        return []
    dbsession.add_all(made)
    told: set[int] = set()
    for change in made:
        there = before.guardians if change.channel_id is None else before.members_of(change.channel_id)
        told |= there - {change.account_id}
    told -= {made_by, approved_by}
    notify(dbsession, now, sorted(told), event=STAFFING_CHANGE)
    dbsession.flush()
    return made


# How many changes a guardian's cases page lists (most recent first).
STAFFING_CHANGES_SHOWN = 20


def staffing_changes_for(dbsession: Session, account: Account, limit: int = STAFFING_CHANGES_SHOWN) -> list[dict]:
    """The changes a guardian sees, most recent first: those to the channels they are a member of
    (either tier), every new guardian, and those about themselves. Each: {"at", "what" ("guardian",
    "first_tier" or "second_tier"), "account", "channel" (slug or None), "channel_title",
    "made_by" (username, or None for the operator), "approved_by", "words"}."""
    mine = select(ChannelGuardian.channel_id).where(ChannelGuardian.account_id == account.id)
    rows = list(dbsession.scalars(
        select(StaffingChange)
        .where(or_(StaffingChange.channel_id.is_(None), StaffingChange.channel_id.in_(mine),
                   StaffingChange.account_id == account.id))
        .order_by(StaffingChange.made_at.desc(), StaffingChange.id.desc()).limit(limit)))
    ids = {i for row in rows for i in (row.account_id, row.made_by, row.approved_by) if i is not None}
    names = _usernames(dbsession, ids)
    channel_ids = {row.channel_id for row in rows if row.channel_id is not None}
    titles = {channel.id: channel for channel in dbsession.scalars(
        select(Channel).where(Channel.id.in_(channel_ids)))} if channel_ids else {}
    changes = []
    for row in rows:
        channel = titles.get(row.channel_id) if row.channel_id is not None else None
        what = "guardian" if channel is None else ("first_tier" if row.tier == TIER_DEFAULT else "second_tier")
        entry = {"at": row.made_at, "what": what, "account": names.get(row.account_id),
                 "channel": channel.slug if channel else None, "channel_title": channel.title if channel else None,
                 "made_by": names.get(row.made_by) if row.made_by is not None else None,
                 "approved_by": names.get(row.approved_by) if row.approved_by is not None else None}
        entry["words"] = staffing_change_words(entry)
        changes.append(entry)
    return changes


def _usernames(dbsession: Session, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    return dict(dbsession.execute(select(Account.id, Account.username).where(Account.id.in_(ids))).all())


def staffing_change_words(entry: dict) -> str:
    """One change in a sentence: who did it, to whom, where; in the current request's language
    (English outside a request)."""
    names = {"who": entry["made_by"] or localized(_("The operator (on the server's command line)")),
             "account": entry["account"], "channel": entry["channel_title"], "approver": entry["approved_by"]}
    approved = bool(entry["approved_by"])
    if entry["what"] == "guardian":
        done = (_("${who} made ${account} a guardian (approved by ${approver}).", mapping=names) if approved
                else _("${who} made ${account} a guardian.", mapping=names))
    elif entry["what"] == "first_tier":
        done = (_("${who} added ${account} to “${channel}”: they receive its new cases (approved by ${approver}).",
                  mapping=names) if approved
                else _("${who} added ${account} to “${channel}”: they receive its new cases.", mapping=names))
    else:
        done = (_("${who} added ${account} to the second tier of “${channel}”: they receive its new cases when "
                  "nobody of the first tier may (approved by ${approver}).", mapping=names) if approved
                else _("${who} added ${account} to the second tier of “${channel}”: they receive its new cases "
                       "when nobody of the first tier may.", mapping=names))
    return localized(done)


# --- where the signed key directory is in use: what waits for the organisation's signature ----

def waiting_for_signature(dbsession: Session, settings, clock) -> set[tuple[str, int]]:
    """(channel slug, account id) of each place an enabled guardian has on an active channel that
    the current signed key directory does not give them (not listed there at that tier, or not
    listed at all): until the organisation signs a directory that does, they receive no case
    through it (routing takes recipients from the directory). No valid directory: every place."""
    directory = try_current_directory(dbsession, settings, clock)
    waiting = set()
    for slug, tiers in memberships(dbsession).items():
        listed = directory.listed_for(slug) if directory is not None else Tiers((), ())
        for account_id in tiers.first_tier:
            if account_id not in listed.first_tier or directory is None or directory.key_of(account_id) is None:
                waiting.add((slug, account_id))
        for account_id in tiers.second_tier:
            if account_id not in listed.second_tier or directory is None or directory.key_of(account_id) is None:
                waiting.add((slug, account_id))
    return waiting


# --- the two-admin rule: what gives access waits for a second admin -----------------------------

NOT_YOURSELF = _("You cannot disable yourself or remove your own admin role; ask another admin.")
NEEDS_A_ROLE = _("An account needs at least one role.")


class ProposalError(AccountError):
    """A proposal that cannot be decided (by this admin, or any more); the message says why."""


def gives_access(dbsession: Session, account: Account, *, guardian: bool, admin: bool, disabled: bool,
                 channels: set[str]) -> bool:
    """Whether making `account` so would give it something it has not now: the guardian or the
    admin role while enabled, or a channel. Taking access away gives nothing, and is never held:
    a leaver or a stolen account must be shut out at once."""
    if disabled:
        return False
    enabled = not account.disabled
    if guardian and not (enabled and account.is_guardian):
        return True
    if admin and not (enabled and account.is_admin):
        return True
    return guardian and bool(channels - set(channel_slugs_of(dbsession, account)))


def propose(dbsession: Session, clock, account: Account, *, by: Account, guardian: bool, admin: bool,
            disabled: bool, channels: set[str]) -> StaffingProposal:
    """Hold a change to `account` for a second admin; audited (metadata: who, which account)."""
    proposal = StaffingProposal(proposed_at=clock.now(), proposed_by=by.id, account_id=account.id, state=PROPOSED,
                                change={"guardian": guardian, "admin": admin, "disabled": disabled,
                                        "channels": sorted(channels) if guardian else []})
    dbsession.add(proposal)
    dbsession.flush()
    audit.record(dbsession, clock, actor=f"account:{by.id}", action="account.change_proposed",
                 detail={"proposal_id": proposal.id, "account_id": account.id})
    return proposal


def proposals(dbsession: Session, *, decided: int = 20) -> dict:
    """The proposals waiting (oldest first) and the last `decided` ones decided (newest first),
    each {"id", "proposal", "account", "proposed_by", "decided_by", "change_words"}."""
    waiting = list(dbsession.scalars(select(StaffingProposal).where(StaffingProposal.state == PROPOSED)
                                     .order_by(StaffingProposal.id)))
    done = list(dbsession.scalars(select(StaffingProposal).where(StaffingProposal.state != PROPOSED)
                                  .order_by(StaffingProposal.decided_at.desc(), StaffingProposal.id.desc())
                                  .limit(decided)))
    ids = {i for row in waiting + done for i in (row.account_id, row.proposed_by, row.decided_by) if i is not None}
    names = _usernames(dbsession, ids)

    def described(row: StaffingProposal) -> dict:
        return {"id": row.id, "proposal": row, "account": names.get(row.account_id),
                "proposed_by": names.get(row.proposed_by),
                "decided_by": names.get(row.decided_by) if row.decided_by is not None else None,
                "change_words": proposal_words(row.change)}

    return {"waiting": [described(row) for row in waiting], "decided": [described(row) for row in done]}


def proposal_words(change: dict) -> str:
    """What a proposal would make the account, in words, in the current request's language."""
    guardian, admin = change.get("guardian"), change.get("admin")
    if guardian and admin:
        roles = _("roles: guardian and admin")
    elif guardian or admin:
        roles = _("roles: guardian") if guardian else _("roles: admin")
    else:
        roles = _("no role")
    state = _("disabled") if change.get("disabled") else _("enabled")
    channels = change.get("channels") or []
    where = _("channels: ${slugs}", mapping={"slugs": ", ".join(channels)}) if channels else _("no channel")
    return localized(_("${roles}; ${state}; ${channels}", mapping={"roles": roles, "state": state, "channels": where}))


def approve(dbsession: Session, settings, clock, proposal: StaffingProposal, *, by: Account) -> None:
    """Make the proposed change, as `by`. Refused (ProposalError, nothing changed) when it was
    decided already, when `by` proposed it (a second pair of eyes is the point), or when it is
    about `by`'s own account (nobody approves access for themselves: an admin who proposed
    adding a colleague cannot have that colleague approve their own access either)."""
    if proposal.state != PROPOSED:
        raise ProposalError("this proposal was decided already", _("This proposal was decided already."))
    if proposal.proposed_by == by.id:
        raise ProposalError("you proposed this change: another admin must approve it",
                            _("You proposed this change: another admin must approve it."))
    if proposal.account_id == by.id:
        raise ProposalError("this change is to your own account: another admin must approve it",
                            _("This change is to your own account: another admin must approve it."))
    account = dbsession.get(Account, proposal.account_id)
    assert account is not None  # the proposal goes with its account (ON DELETE CASCADE)
    change = proposal.change
    update_account(dbsession, settings, clock, account, by=by, guardian=bool(change.get("guardian")),
                   admin=bool(change.get("admin")), disabled=bool(change.get("disabled")),
                   channels=set(change.get("channels") or ()), confirmed=True, proposed_by=proposal.proposed_by)
    _decide(dbsession, clock, proposal, by=by, state=APPROVED)


def reject(dbsession: Session, clock, proposal: StaffingProposal, *, by: Account) -> None:
    """Drop a proposal unmade; any admin may, its proposer too (withdrawing it)."""
    if proposal.state != PROPOSED:
        raise ProposalError("this proposal was decided already", _("This proposal was decided already."))
    _decide(dbsession, clock, proposal, by=by, state=REJECTED)


def _decide(dbsession: Session, clock, proposal: StaffingProposal, *, by: Account, state: str) -> None:
    proposal.state, proposal.decided_by, proposal.decided_at = state, by.id, clock.now()
    dbsession.flush()
    audit.record(dbsession, clock, actor=f"account:{by.id}",
                 action="account.change_approved" if state == APPROVED else "account.change_rejected",
                 detail={"proposal_id": proposal.id, "account_id": proposal.account_id,
                         "proposed_by": proposal.proposed_by})
