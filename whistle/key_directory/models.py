"""Signed key directories: what the organisation key vouched for, version by version."""
from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, LargeBinary
from sqlalchemy.orm import Mapped, mapped_column

from whistle.db import Base


class KeyDirectory(Base):
    """One published directory (docs/crypto.md, "The signed key directory").

    `document` is the canonical JSON exactly as signed, `signature` the organisation key's
    Ed25519 signature over it. Nothing here is trusted as stored: every reader checks the
    signature against the public key file the .ini names, and the expiry inside the document."""

    __tablename__ = "key_directories"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Copied out of the document for ordering; the document's own version is what counts.
    version: Mapped[int] = mapped_column(Integer, unique=True)
    document: Mapped[bytes] = mapped_column(LargeBinary)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    published_on: Mapped[date] = mapped_column(Date)
