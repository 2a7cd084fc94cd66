"""Who a reporter caller is: the case their receipt opened, loaded from their login session."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from whistle import crypto
from whistle.cases.models import Case
from whistle.security.policy import SessionIdentity
from whistle.sessions.models import REPORTER, LoginSession


@dataclass
class ReporterIdentity(SessionIdentity):
    case: Case

    kind = REPORTER

    @property
    def principals(self) -> list[str]:
        return ["reporter", f"reporter-case:{self.case.id}"]

    @property
    def userid(self) -> str:
        return "reporter"


def load_reporter(dbsession: Session, row: LoginSession, keypair: crypto.KeyPair,
                  token: str) -> ReporterIdentity | None:
    case = dbsession.get(Case, row.case_id)
    return None if case is None else ReporterIdentity(case=case, keypair=keypair, session=row, token=token)
