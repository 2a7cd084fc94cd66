"""A case as a security context, for every route about one case (`factory=CaseContext`)."""
from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow
from pyramid.httpexceptions import HTTPForbidden, HTTPNotFound
from sqlalchemy import select

from whistle.accounts.models import Account
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.security.acl import NotFoundWhenForbidden
from whistle.security.permissions import Permission


class CaseContext(NotFoundWhenForbidden):
    """A case as a security context: readable by the guardians it is granted to, nobody else.

    Admins are not on the list, whatever else they may do."""

    def __init__(self, request) -> None:
        if request.identity is None:
            # Nobody signed in: refused as such (401 under /api/, the sign-in page for staff pages)
            # before any case is looked up, so the answer is the same for every reference.
            raise HTTPForbidden()
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
