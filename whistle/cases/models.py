"""Cases, who holds their keys, and their encrypted content items."""
from __future__ import annotations

import re
from datetime import date

from sqlalchemy import JSON, BigInteger, Boolean, Date, ForeignKey, Index, LargeBinary, String, UniqueConstraint, false
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from whistle.cases import shredded
from whistle.db import Base
from whistle.intake_channels.models import Channel

# Who a key grant is for.
HOLDER_REPORTER = "reporter"
HOLDER_GUARDIAN = "guardian"
HOLDER_ESCROW = "escrow"
# A second-tier guardian's sealed copy, made at intake while the case key is in memory, that
# gives no access until an escalation rule activates it (it becomes HOLDER_GUARDIAN). Access is
# refused by the ACL, not by cryptography: see docs/crypto.md, "Second tier on standby".
HOLDER_STANDBY = "standby"

# What a content item is. The kind is bound into the item's associated data, so an item
# cannot be moved to another kind (or case) without failing to decrypt.
ITEM_DISCLOSURE = "disclosure"  # the reporter's free text (case key)
ITEM_ANSWERS = "answers"  # questionnaire answers as JSON (case key)
ITEM_IDENTITY = "identity"  # who the reporter is, if they said (team key: never the reporter's)
ITEM_MESSAGE = "message"  # reporter <-> guardians (case key)
ITEM_NOTE = "note"  # guardians only (team key)
ITEM_OUTCOME = "outcome"  # what was learned, written at closure (team key)
ITEM_REASON = "reason"  # why a case was reopened, transferred or excluded (team key)
ITEM_ATTACHMENT_META = "attachment-meta"  # an attachment's name, size and type as JSON (case key)
# The reporter's comment with their answer to "would you speak up again?" at closure (case key,
# like a message; the answer itself is the case's speak_up_again, metadata).
ITEM_SPEAK_UP_COMMENT = "speak-up-comment"
# An internal file's name, size and type as JSON (team key): a file only guardians see. Its kind
# is what makes a file internal, so relabelling the row breaks its decryption rather than
# showing it to the reporter.
ITEM_INTERNAL_ATTACHMENT_META = "internal-file"
TEAM_KEY_ITEMS = frozenset({ITEM_IDENTITY, ITEM_NOTE, ITEM_OUTCOME, ITEM_REASON, ITEM_INTERNAL_ATTACHMENT_META})


class Case(Base):
    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_status_ack_due", "status", "ack_due"),
        Index("ix_cases_schedule_checked_on", "schedule_checked_on"),
        # The tick finds the cases whose date rules can fire on a day by these dates
        # (whistle.escalations.schedule), instead of reading every case every day.
        Index("ix_cases_ack_due", "ack_due"),
        Index("ix_cases_feedback_due", "feedback_due"),
        Index("ix_cases_opened_on", "opened_on"),
        Index("ix_cases_acknowledged_on", "acknowledged_on"),
        Index("ix_cases_schedule_retry", "schedule_retry"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The public reference: random, never sequential, and unrelated to the receipt.
    ref: Mapped[str] = mapped_column(String(32), unique=True)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channels.id"), index=True)
    status: Mapped[str] = mapped_column(String(32), default="received")
    priority: Mapped[str] = mapped_column(String(16), default="normal")

    # Content is encrypted to the case key; notes and identity to the team key.
    public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    team_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))
    # BLAKE2b MAC of team_public_key under a key derived from the case private key
    # (docs/crypto.md, "The team key MAC"): whoever holds the case key but not the team key (the
    # reporter) checks it before sealing anything to the team key. None on cases opened before it
    # existed, until a guardian who holds both keys opens the case.
    team_key_mac: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # The case public key bound to the server's key (whistle.secrets.session_key, never stored):
    # what a grant without a holder's binding yet is checked against (docs/crypto.md 6.12). None on
    # cases opened before it existed, until someone who holds the case key opens the case.
    key_binding: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    # Built on the reporter's device (docs/crypto.md 7.1): the client made the team key pair, so
    # the first guardian to unlock the case replaces it (team_key_replaced) with one the reporter's
    # side never held (whistle.cases.services.replace_client_team_key).
    built_on_client: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    team_key_replaced: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # What the receipt derives: the server can find the case but cannot recompute the receipt.
    reporter_lookup_id: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    reporter_public_key: Mapped[bytes] = mapped_column(LargeBinary(32))

    # Dates only: nothing about a reporter's records is finer than a day.
    opened_on: Mapped[date] = mapped_column(Date)
    acknowledged_on: Mapped[date | None] = mapped_column(Date)
    ack_due: Mapped[date] = mapped_column(Date)
    feedback_due: Mapped[date] = mapped_column(Date)
    # The last day the scheduled tick ran the case's date rules for (None: never). Most days a
    # case is not looked at: the day the tick has done for all cases is its schedule mark
    # (whistle.escalations.models.ScheduleMark), and this day counts only when it is later, or
    # when `schedule_retry` is set: the case's rules failed, and are run again from the day after
    # this one by every tick until they succeed.
    schedule_checked_on: Mapped[date | None] = mapped_column(Date)
    schedule_retry: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    feedback_given_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)

    # Set when the reporter says they suffered detriment (retaliation) for speaking up.
    detriment: Mapped[bool] = mapped_column(Boolean, default=False)
    # The reporter asked the guardians to watch for retaliation against them (whistle.protection).
    protection_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # The closing record's structured half (metadata, for statistics); the free text is an
    # ITEM_OUTCOME. substantiated: "yes", "partly", "no", "not_determined".
    substantiated: Mapped[str | None] = mapped_column(String(16))
    changes: Mapped[list] = mapped_column(JSON, default=list)  # e.g. ["policy", "training"]

    # The newest item the reporter has seen, so their mailbox can say what is new.
    reporter_seen_item_id: Mapped[int | None] = mapped_column()
    # --- what the reporter has seen (whistle.reporters.news) ---
    # The status the reporter last saw, and the day (never the time) of that visit, so their
    # mailbox can say what changed since.
    reporter_seen_status: Mapped[str | None] = mapped_column(String(32))
    reporter_seen_on: Mapped[date | None] = mapped_column(Date)
    # --- end reporter news ---
    # --- records: retention, hold, withdrawal, shredding, learning, the reporter's view ---
    # The day the case is due to be purged by the retention rules (None: not while open, or on
    # hold); the due day a guardian notice was sent for (30 days before); the day a legal hold
    # was placed (None: no hold; a hold suspends deletion until lifted).
    delete_on: Mapped[date | None] = mapped_column(Date, index=True)
    deletion_notice_for: Mapped[date | None] = mapped_column(Date)
    hold_since: Mapped[date | None] = mapped_column(Date)
    # The day the reporter withdrew the report (it closes with that outcome).
    withdrawn_on: Mapped[date | None] = mapped_column(Date)
    # Why guardians closed the case as junk (whistle.cases.lifecycle.JUNK_REASONS: "flood", "spam",
    # "test"), without an acknowledgement or an outcome: it was no concern. None: not junk.
    junk_reason: Mapped[str | None] = mapped_column(String(16))
    # The handle of the case's shred key in the shred key store (docs/crypto.md, shredding): every
    # grant of the case is wrapped under it. None on cases written before shredding existed.
    shred_handle: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # Contributory factors named at closure (metadata, for learning and statistics), e.g.
    # ["staffing", "communication"].
    factors: Mapped[list] = mapped_column(JSON, default=list, server_default="[]")
    # The reporter's answer at closure to "would you speak up again?": "yes", "no", "not_sure".
    speak_up_again: Mapped[str | None] = mapped_column(String(16))
    # The reporter agreed that a "you said, we did" entry may quote their words.
    board_consent: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    # Keyed hash of the submit form's one-time token: a resubmitted form opens no second case.
    submission_token_id: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    # The day the case came in while reports were arriving faster than the service's surge mark
    # (whistle.intake.limits): guardians can look at, and clear, such cases together. None: an
    # ordinary day. Reporter-dated, like every reporter record.
    surge_day: Mapped[date | None] = mapped_column(Date, index=True)

    channel: Mapped[Channel] = relationship()
    grants: Mapped[list[CaseGrant]] = relationship(back_populates="case", cascade="all, delete-orphan")
    items: Mapped[list[CaseItem]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CaseItem.id"
    )

    def give_shred_handle(self, session: Session) -> bytes | None:
        """A new case gets its shred key at its first flush (whistle.cases.shredded). An older case
        keeps none until the "shred wraps" job wraps its grants (wrap_case_grants): its grants are
        stored as they are until then."""
        if self.shred_handle is None and self.id is None:
            self.shred_handle = shredded.new_handle(session)
        return self.shred_handle


class CaseGrant(Base):
    """The case's private key (and, for guardians and escrow, the team key) sealed to one holder."""

    __tablename__ = "case_grants"
    __table_args__ = (
        UniqueConstraint("case_id", "account_id"),
        Index("ix_case_grants_account_case", "account_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    holder: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), index=True)
    # Stored under the case's shred key (docs/crypto.md 5.10): read and write sealed_case_key and
    # sealed_team_key (below), which show the sealed keys unwrapped.
    wrapped_case_key: Mapped[bytes] = mapped_column("sealed_case_key", LargeBinary)
    wrapped_team_key: Mapped[bytes | None] = mapped_column("sealed_team_key", LargeBinary)
    # The case public key bound to this holder's private key (docs/crypto.md 6.12): the reporter's
    # is made at intake; a guardian's when they first open the case. None until then.
    case_key_binding: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    granted_on: Mapped[date] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="grants")

    # The case's private key sealed to the holder; and the team key (None for the reporter).
    sealed_case_key = shredded.shredded("wrapped_case_key", "grant.case_key")
    sealed_team_key = shredded.shredded("wrapped_team_key", "grant.team_key")


class CaseItem(Base):
    __tablename__ = "case_items"
    __table_args__ = (
        Index("ix_case_items_case_id_kind", "case_id", "kind"),
        Index("ix_case_items_case_id_id", "case_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    author: Mapped[str] = mapped_column(String(16))  # "reporter" or "guardian"
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    # Stored under the item's shred key (docs/crypto.md 5.10): read and write `ciphertext` (below).
    wrapped_ciphertext: Mapped[bytes] = mapped_column("ciphertext", LargeBinary)
    created_on: Mapped[date] = mapped_column(Date)
    # The handle of this item's own shred key (its ciphertext is wrapped under it), so one item
    # can be erased from every copy; None on items written before shredding existed.
    shred_handle: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # Set when a guardian erased the item: the ciphertext is gone, the row stays so the timeline
    # shows that something was erased, when and why (a reason from a fixed list, never free text).
    erased_on: Mapped[date | None] = mapped_column(Date)
    erased_reason: Mapped[str | None] = mapped_column(String(32))

    case: Mapped[Case] = relationship(back_populates="items")

    # The item envelope (docs/crypto.md 5.2), unwrapped; b"" once erased.
    ciphertext = shredded.shredded("wrapped_ciphertext", "item")

    def give_shred_handle(self, session: Session) -> bytes | None:
        """The item's own shred key, made when it is first written (or rewritten, for an item
        stored before shredding existed)."""
        if self.shred_handle is None and self.erased_on is None:
            self.shred_handle = shredded.new_handle(session)
        return self.shred_handle


# What a label may be: 1 to 64 lower-case letters, digits or "-" (guardians' and plugins' alike).
LABEL_PATTERN = re.compile(r"^[a-z0-9-]{1,64}$")


class CaseLabel(Base):
    """A triage label on a case: a short tag chosen by guardians or plugins, never content (LABEL_PATTERN)."""

    __tablename__ = "case_labels"
    __table_args__ = (Index("ix_case_labels_label_case", "label", "case_id"),)

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    label: Mapped[str] = mapped_column(String(64), primary_key=True)


class CaseRead(Base):
    """How far a guardian has read a case: items with a higher id are unread for them."""

    __tablename__ = "case_reads"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True)
    last_read_item_id: Mapped[int] = mapped_column(default=0)
    # The day the guardian's reading was last audited as "case.viewed": a read is recorded once a
    # day, so reading a case costs the same however often it was read before.
    viewed_on: Mapped[date | None] = mapped_column(Date)


class Attachment(Base):
    """A stream-encrypted file in the blob store. Its name, size and type are an encrypted
    ITEM_ATTACHMENT_META item (case key), or an ITEM_INTERNAL_ATTACHMENT_META item (team key) for a
    file only guardians see; `stored_bytes` is the ciphertext's size, which the blob store
    shows anyway, kept here to enforce the per-case limit."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    blob_name: Mapped[str] = mapped_column(String(64), unique=True)  # random, unrelated to the file
    meta_item_id: Mapped[int] = mapped_column(ForeignKey("case_items.id", ondelete="CASCADE"))
    stored_bytes: Mapped[int] = mapped_column(BigInteger)
    author: Mapped[str] = mapped_column(String(16))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    created_on: Mapped[date] = mapped_column(Date)
    # The handle of the file's shred key, and the blob's first bytes (its header and sealed file
    # key) wrapped under it: the blob store keeps only the rest, so erasing the key makes every
    # copy of the blob unreadable. None on files stored before shredding existed.
    shred_handle: Mapped[bytes | None] = mapped_column(LargeBinary(16))
    # What became of the file's hidden information (EXIF, document properties) when the reporter
    # asked for it to be removed before the file was encrypted (whistle_clean_file): one of
    # attachments.services.METADATA_OUTCOMES; None when nobody asked, or the file was encrypted on a
    # device. Only the outcome is kept, never what was removed.
    metadata_removal: Mapped[str | None] = mapped_column(String(16))
    wrapped_header: Mapped[bytes | None] = mapped_column("sealed_header", LargeBinary)

    # The blob's first HEADER_BYTES (the stream envelope's header and sealed file key), unwrapped:
    # the blob store holds zeros in their place (whistle.attachments.services.open_blob puts them
    # back). None on a file stored before shredding existed: its blob holds them.
    header = shredded.shredded("wrapped_header", "file.header")
    HEADER_BYTES = 82

    def give_shred_handle(self, session: Session) -> bytes | None:
        if self.shred_handle is None:
            self.shred_handle = shredded.new_handle(session)
        return self.shred_handle


def _grant_handle(grant: CaseGrant, session: Session) -> bytes | None:
    case = grant.case if grant.case is not None else session.get(Case, grant.case_id)
    return case.shred_handle if case is not None else None


shredded.register(CaseGrant, _grant_handle, [("wrapped_case_key", "grant.case_key"),
                                              ("wrapped_team_key", "grant.team_key")])
shredded.register(CaseItem, lambda item, _session: item.shred_handle, [("wrapped_ciphertext", "item")])
shredded.register(Attachment, lambda row, _session: row.shred_handle, [("wrapped_header", "file.header")])
