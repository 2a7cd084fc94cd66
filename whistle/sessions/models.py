"""Login sessions for staff and reporters; the token itself is never stored."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base

STAFF = "staff"
REPORTER = "reporter"
# A reporter whose device holds the keys (docs/crypto.md 6.2.1): the session was opened with a lookup
# value, carries no private key (its wrap holds 32 zero bytes) and reads and writes ciphertext only.
REPORTER_E2E = "reporter-e2e"


class LoginSession(Base):
    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Keyed hash of the client's token: a database copy cannot be turned back into a token.
    token_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    # The logged-in party's private key, wrapped under a key derived from the token.
    wrapped_key: Mapped[bytes] = mapped_column(LargeBinary)
    # Reporter sessions keep no creation time (it would date a visit); staff ones do, for the
    # session list. Both expire on idle; staff sessions also at an absolute limit.
    created_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idle_expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    absolute_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
