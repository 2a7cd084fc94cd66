"""Contexts and their ACLs: the root for everything, and a case for case routes."""
from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow, Everyone
from pyramid.httpexceptions import HTTPNotFound
from sqlalchemy import select

from whistle.accounts.models import Account
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.security.permissions import Permission


class Root:
    __acl__ = [
        (Allow, Everyone, (Permission.PUBLIC.value, Permission.DISCLOSURE_SUBMIT.value, Permission.STAFF_LOGIN.value)),
        (Allow, "staff", Permission.STAFF_LOGOUT.value),
        (Allow, "role:guardian", Permission.CASES_LIST.value),
        # --- the reporter's mailbox (issue 3) ---
        (Allow, Everyone, (Permission.REPORTER_LOGIN.value, Permission.MAILBOX_VISIT.value)),
        (Allow, "reporter", Permission.MAILBOX_USE.value),
        # --- the guardian's workspace and admin area (issue 4) ---
        (Allow, "staff", Permission.STAFF_ACCOUNT.value),
        (Allow, "role:admin", (Permission.ADMIN_VIEW.value, Permission.ADMIN_MANAGE.value)),
        # --- plugins: hooks wired into core, retaliation watch (issue 5) ---
        (Allow, "integration", Permission.PERSONNEL_EVENTS_POST.value),  # part Y: retaliation watch
        DENY_ALL,
    ]

    def __init__(self, request) -> None:
        self.request = request


class CaseContext:
    """A case as a security context: readable by the guardians it is granted to, nobody else.

    Admins are not on the list, whatever else they may do."""

    def __init__(self, request) -> None:
        dbsession = request.dbsession
        case = dbsession.scalars(select(Case).where(Case.ref == request.matchdict["ref"])).first()
        if case is None:
            raise HTTPNotFound()
        self.case = case
        # Only holders who are (still) guardians: an account left with the admin role alone
        # opens nothing, even if it once held the case.
        holders = dbsession.scalars(
            select(CaseGrant.account_id).join(Account, Account.id == CaseGrant.account_id)
            .where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN, Account.is_guardian.is_(True))
        )
        self.__acl__ = [
            (Allow, f"account:{account_id}", (Permission.CASE_READ.value, Permission.CASE_WRITE.value))
            for account_id in holders
        ]
        self.__acl__.append(DENY_ALL)
