"""What plugins see of cases and guardians: built here, in one place, from metadata only."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle.accounts.models import Account
from whistle.cases.models import Case, CaseLabel
from whistle.hooks.types import CaseInfo, GuardianInfo


def case_info(dbsession: Session, case: Case) -> CaseInfo:
    """The case as plugins see it: status, dates, priority and labels; no content, no keys."""
    dbsession.flush()  # labels added in this transaction count
    labels = tuple(dbsession.scalars(
        select(CaseLabel.label).where(CaseLabel.case_id == case.id).order_by(CaseLabel.label)
    ))
    return CaseInfo(
        id=case.id, ref=case.ref, channel=case.channel.slug, status=case.status, priority=case.priority or "normal",
        labels=labels, opened_on=case.opened_on, acknowledged_on=case.acknowledged_on, ack_due=case.ack_due,
        feedback_due=case.feedback_due, detriment=bool(case.detriment),
        deadline_profile=case.channel.deadline_profile,
    )


def enabled_guardians(dbsession: Session) -> list[Account]:
    return list(dbsession.scalars(
        select(Account).where(Account.is_guardian.is_(True), Account.disabled.is_(False)).order_by(Account.id)
    ))


def guardian_infos(accounts: list[Account]) -> list[GuardianInfo]:
    return [GuardianInfo(id=account.id, username=account.username) for account in accounts]
