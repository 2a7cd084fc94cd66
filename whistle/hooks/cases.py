"""What plugins see of cases and guardians: built here, in one place, from metadata only."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle.accounts.models import Account
from whistle.cases.models import Case, CaseLabel
from whistle.hooks.types import CaseInfo, GuardianInfo


def case_info(dbsession: Session, case: Case) -> CaseInfo:
    """The case as plugins see it: status, dates, priority and labels; no content, no keys."""
    return case_infos(dbsession, [case])[case.id]


def case_infos(dbsession: Session, cases: list[Case]) -> dict[int, CaseInfo]:
    """`case_info` for many cases with one query for all their labels (the tick's batches)."""
    dbsession.flush()  # labels added in this transaction count
    labels: dict[int, list[str]] = {case.id: [] for case in cases}
    for case_id, label in dbsession.execute(
        select(CaseLabel.case_id, CaseLabel.label).where(CaseLabel.case_id.in_(list(labels)))
        .order_by(CaseLabel.case_id, CaseLabel.label)
    ):
        labels[case_id].append(label)
    return {case.id: CaseInfo(
        id=case.id, ref=case.ref, channel=case.channel.slug, status=case.status, priority=case.priority or "normal",
        labels=tuple(labels[case.id]), opened_on=case.opened_on, acknowledged_on=case.acknowledged_on,
        ack_due=case.ack_due, feedback_due=case.feedback_due, detriment=bool(case.detriment),
        deadline_profile=case.channel.deadline_profile,
    ) for case in cases}


def enabled_guardians(dbsession: Session) -> list[Account]:
    return list(dbsession.scalars(
        select(Account).where(Account.is_guardian.is_(True), Account.disabled.is_(False)).order_by(Account.id)
    ))


def guardian_infos(accounts: list[Account]) -> list[GuardianInfo]:
    return [GuardianInfo(id=account.id, username=account.username) for account in accounts]
