"""Who a reporter caller is: the case their receipt opened, loaded from their login session."""
from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from whistle import crypto
from whistle.cases.models import Case
from whistle.security.policy import Identity, SessionIdentity
from whistle.sessions.models import REPORTER, REPORTER_E2E, LoginSession


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


@dataclass
class ReporterE2EIdentity(Identity):
    """A reporter whose device holds the keys (a session opened with a lookup value): it reads the
    case's ciphertext and writes items encrypted on the device. It has no key pair, so it is no
    SessionIdentity: nothing that decrypts or encrypts on the server can be handed it."""

    case: Case
    session: LoginSession | None
    token: str = field(repr=False)

    kind = REPORTER_E2E
    # What a call that needs the reporter's key (the plaintext mailbox API) answers it (403).
    forbidden_detail = ("This session holds no key: use the envelopes API (GET /api/v1/reporter/envelopes, "
                        "POST /api/v1/reporter/messages with an item).")

    @property
    def principals(self) -> list[str]:
        return ["reporter-e2e", f"reporter-case:{self.case.id}"]

    @property
    def userid(self) -> str:
        return "reporter"


def load_reporter_e2e(dbsession: Session, row: LoginSession, keypair: crypto.KeyPair,
                      token: str) -> ReporterE2EIdentity | None:
    """The session's wrap holds no key (32 zero bytes): `keypair` is not passed on."""
    case = dbsession.get(Case, row.case_id)
    return None if case is None else ReporterE2EIdentity(case=case, session=row, token=token)
