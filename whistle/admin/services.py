"""What the admin area shows: counts and metadata, read with queries that touch no ciphertext."""
from __future__ import annotations

from datetime import date

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cases.lifecycle import CLOSED, RECEIVED, STATUSES
from whistle.cases.models import Case
from whistle.channels.models import Channel, ChannelGuardian


def overview(dbsession: Session, today: date) -> dict:
    """Case counts by status and by channel, and how many are past a deadline."""
    by_status = {status: 0 for status in STATUSES}
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
    return {"by_status": by_status, "by_channel": by_channel, "total": sum(by_status.values()),
            "overdue": {"acknowledgement": ack_overdue, "feedback": feedback_overdue}}


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
                                                        ChannelGuardian.account_id == account.id)).order_by(Channel.slug)
    ))


def audit_page(dbsession: Session, page: int, per_page: int) -> tuple[list[AuditEvent], int]:
    total = dbsession.scalar(select(func.count()).select_from(AuditEvent)) or 0
    events = list(dbsession.scalars(
        select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(per_page).offset((page - 1) * per_page)
    ))
    return events, total


def update_account(dbsession: Session, clock, account: Account, *, by: Account, guardian: bool, admin: bool,
                   disabled: bool, channels: set[str]) -> None:
    """Change roles, channel memberships and the disabled flag, each audited. Raises AccountError."""
    from whistle.accounts.services import AccountError, set_channels, set_disabled, set_roles

    if account.id == by.id and (disabled or not admin):
        raise AccountError("you cannot disable yourself or remove your own admin role; ask another admin")
    actor = f"account:{by.id}"
    set_roles(dbsession, clock, account, guardian=guardian, admin=admin, actor=actor)
    set_channels(dbsession, clock, account, channels if guardian else set(), actor=actor)
    set_disabled(dbsession, clock, account, disabled, actor=actor)


def describe_account(dbsession: Session, account: Account) -> dict:
    return {"id": account.id, "username": account.username, "guardian": account.is_guardian, "admin": account.is_admin,
            "disabled": account.disabled, "channels": channel_slugs_of(dbsession, account),
            "created": account.created_at}
