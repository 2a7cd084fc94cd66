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
    """`case_info` for many cases with one query for all their labels."""
    dbsession.flush()  # labels added in this transaction count
    labels = labels_by_case(dbsession, [case.id for case in cases])
    return {case.id: build_case_info(case, case.channel.slug, case.channel.deadline_profile, labels[case.id])
            for case in cases}


def labels_by_case(dbsession: Session, case_ids: list[int]) -> dict[int, tuple[str, ...]]:
    labels: dict[int, list[str]] = {case_id: [] for case_id in case_ids}
    for case_id, label in dbsession.execute(
        select(CaseLabel.case_id, CaseLabel.label).where(CaseLabel.case_id.in_(case_ids))
        .order_by(CaseLabel.case_id, CaseLabel.label)
    ):
        labels[case_id].append(label)
    return {case_id: tuple(names) for case_id, names in labels.items()}


def build_case_info(case, channel_slug: str, deadline_profile: str, labels: tuple[str, ...]) -> CaseInfo:
    """The one constructor of CaseInfo, from a Case or a row with the same column names (the
    tick reads plain rows: loading 100,000 ORM objects a day would cost more than the rules)."""
    return CaseInfo(
        id=case.id, ref=case.ref, channel=channel_slug, status=case.status, priority=case.priority or "normal",
        labels=labels, opened_on=case.opened_on, acknowledged_on=case.acknowledged_on, ack_due=case.ack_due,
        feedback_due=case.feedback_due, detriment=bool(case.detriment), deadline_profile=deadline_profile,
    )


def enabled_guardians(dbsession: Session) -> list[Account]:
    return list(dbsession.scalars(
        select(Account).where(Account.is_guardian.is_(True), Account.disabled.is_(False)).order_by(Account.id)
    ))


def guardian_infos(accounts: list[Account]) -> list[GuardianInfo]:
    return [GuardianInfo(id=account.id, username=account.username) for account in accounts]
