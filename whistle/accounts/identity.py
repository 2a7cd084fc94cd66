"""Who a staff caller is: their account, loaded from their login session (see whistle.security.policy)."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from whistle import crypto
from whistle.accounts.models import Account
from whistle.security.policy import SessionIdentity
from whistle.sessions.models import STAFF, LoginSession


@dataclass
class StaffIdentity(SessionIdentity):
    account: Account

    kind = STAFF

    @property
    def principals(self) -> list[str]:
        principals = ["staff", f"account:{self.account.id}"]
        if self.account.is_guardian:
            principals.append("role:guardian")
        if self.account.is_admin:
            principals.append("role:admin")
        return principals

    @property
    def userid(self) -> str:
        return f"account:{self.account.id}"


def load_staff(dbsession: Session, row: LoginSession, keypair: crypto.KeyPair, token: str) -> StaffIdentity | None:
    """The staff caller of a session; None once their account is gone or disabled."""
    account = dbsession.get(Account, row.account_id)
    if account is None or account.disabled:
        return None
    return StaffIdentity(account=account, keypair=keypair, session=row, token=token)
