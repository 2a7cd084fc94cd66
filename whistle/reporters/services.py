"""Coming back with a receipt: login (with equal timing and a global slow-down), reading the case
as the reporter, sending messages, and revealing identity later."""
from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from whistle import audit, crypto, throttles
from whistle.attachments.services import AttachmentInfo, list_attachments
from whistle.cases import lifecycle
from whistle.cases.events import CaseWithdrawn, ReporterWrote
from whistle.cases.info import case_info
from whistle.cases.models import (
    HOLDER_REPORTER,
    ITEM_ANSWERS,
    ITEM_ATTACHMENT_META,
    ITEM_DISCLOSURE,
    ITEM_IDENTITY,
    ITEM_MESSAGE,
    ITEM_SPEAK_UP_COMMENT,
    Attachment,
    Case,
    CaseGrant,
    CaseItem,
)
from whistle.cases.services import (
    CaseKeys,
    KeyMismatch,
    TeamKeyUnchecked,
    add_item,
    check_grant_binding,
    check_keys,
    read_case,
    record_unverifiable,
)
from whistle.clock import Clock
from whistle.i18n import _
from whistle.sessions.models import REPORTER
from whistle.sessions.services import close_session, open_e2e_reporter_session, open_session
from whistle.settings import Settings
from whistle.throttles import RECEIPT_FAILURES, RECEIPT_FAILURES_WINDOW, Throttle

RECEIPT_THROTTLE = RECEIPT_FAILURES
THROTTLE_WINDOW = RECEIPT_FAILURES_WINDOW
# Derived from a receipt nobody holds, so a malformed receipt costs the same Argon2id work as
# a well-formed unknown one and the two cannot be told apart by timing.
_DECOY_RECEIPT = "0000-0000-0000-0000-0000"

# What each status means to the person who raised the concern.
STATUS_WORDS = {
    "received": _("Your report has arrived. Nobody has confirmed reading it yet."),
    "acknowledged": _("Your report has been read and acknowledged by the people handling it."),
    "assessing": _("The people handling your report are deciding what to do about it."),
    "investigating": _("Your concern is being looked into."),
    "feedback_given": _("You have been told what was done. The case is still open in case you want to reply."),
    "closed": _("This case is closed. You can still read everything here."),
}
# The same in plain words, for a channel that asks for them (wording.plain).
STATUS_WORDS_PLAIN = {
    "received": _("We have got your message. Someone will read it soon."),
    "acknowledged": _("Someone has read your message."),
    "assessing": _("The people helping you are deciding what to do."),
    "investigating": _("The people helping you are looking into it."),
    "feedback_given": _("The people helping you have told you what they did. You can still write back."),
    "closed": _("This is finished. You can still read everything here."),
}


def status_words(case: Case) -> str:
    """Where the case is, in its channel's words; never the raw status name."""
    words = STATUS_WORDS_PLAIN if (case.channel.wording or {}).get("plain") else STATUS_WORDS
    return words.get(case.status, _("The people handling your report are working on it."))


class ReceiptRejected(Exception):
    """Unknown or malformed receipt: one answer for both."""


class TooManyAttempts(Exception):
    """The service is too busy with receipts to try this one now; try again shortly."""


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _window(dbsession: Session, clock: Clock) -> Throttle:
    now = clock.now()
    row = dbsession.get(Throttle, RECEIPT_THROTTLE, with_for_update=True)
    if row is None:
        try:
            with dbsession.begin_nested():
                row = Throttle(key=RECEIPT_THROTTLE, window_start=now, count=0)
                dbsession.add(row)
        except IntegrityError:  # another node made it first
            row = dbsession.get_one(Throttle, RECEIPT_THROTTLE, with_for_update=True)
    if _aware(row.window_start) + THROTTLE_WINDOW <= now:
        row.window_start, row.count = now, 0
    return row


def over_budget(dbsession: Session, settings: Settings, clock: Clock) -> bool:
    """Whether this minute's wrong receipts, across the whole service, passed the threshold.
    A plain read: no lock is held while the receipt's Argon2id runs."""
    row = dbsession.get(Throttle, RECEIPT_THROTTLE)
    return (row is not None and _aware(row.window_start) + THROTTLE_WINDOW > clock.now()
            and row.count >= settings.receipt_failures_per_minute)


def _count_failure(dbsession: Session, clock: Clock) -> None:
    _window(dbsession, clock)
    dbsession.execute(update(Throttle).where(Throttle.key == RECEIPT_THROTTLE).values(count=Throttle.count + 1))


# Once wrong receipts pass the budget, receipts are tried one at a time in this process (the
# "slow lane"), each waiting at most SLOW_LANE_WAIT for its turn: guessing is slowed to one
# Argon2id at a time and its CPU and memory are bounded, while a genuine reporter still gets in,
# only later. Refusing everyone instead would let 30 wrong receipts a minute keep every
# reporter out. Only when the lane stays busy longer than the wait is a receipt turned away.
SLOW_LANE = threading.Lock()
SLOW_LANE_WAIT = timedelta(seconds=10)


# A lookup value costs one keyed BLAKE2b, not an Argon2id: past the budget, its turn in the slow
# lane is held this long, so a flood of lookup values is slowed as one of receipts is.
LOOKUP_VALUE_TURN = timedelta(milliseconds=250)


@contextlib.contextmanager
def _receipt_turn(slow: bool, *, hold: timedelta = timedelta(0)) -> Iterator[None]:
    if not slow:
        yield
        return
    if not SLOW_LANE.acquire(timeout=SLOW_LANE_WAIT.total_seconds()):
        throttles.refused(RECEIPT_THROTTLE)
        raise TooManyAttempts()
    started = time.monotonic()
    try:
        yield
        time.sleep(max(0.0, hold.total_seconds() - (time.monotonic() - started)))
    finally:
        SLOW_LANE.release()


@dataclass(frozen=True)
class ReporterLogin:
    token: str
    case: Case
    keypair: crypto.KeyPair


def _receipt_keys(settings: Settings, receipt: object) -> tuple[bytes, crypto.KeyPair, bool]:
    """(lookup id, reporter key pair, whether the receipt was well formed) for a receipt of either
    version: version 1 with the pepper-salted chain (docs/crypto.md 6.2), version 2 with the chain
    its device would use (6.2.1: the salt the key directory publishes, then the lookup id under
    the pepper). Each is one Argon2id at the same cost; a malformed receipt derives a decoy the
    same way, so timing tells none of them apart."""
    try:
        version = crypto.receipt_version(receipt if isinstance(receipt, str) else "")
    except crypto.InvalidReceipt:
        receipt, version = _DECOY_RECEIPT, 0
    assert isinstance(receipt, str)  # receipt_version takes nothing else
    if version == 2:
        client = crypto.derive_reporter_keys_v2(receipt, crypto.receipt_salt_v2(settings.lookup_pepper),
                                                settings.receipt_kdf)
        return crypto.lookup_id(client.lookup_value, settings.lookup_pepper), client.keypair, True
    keys = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    return keys.lookup_id, keys.keypair, version == 1


def login(dbsession: Session, settings: Settings, clock: Clock, receipt: str) -> ReporterLogin:
    """Open a reporter session for `receipt` (version 1 or 2), or raise ReceiptRejected /
    TooManyAttempts. The session holds the reporter's private key: the server decrypts for them
    (a version 2 receipt typed without JavaScript reads a case its browser built, server-assisted).

    The caller must commit even on ReceiptRejected, so the failure is counted.
    """
    with _receipt_turn(slow=over_budget(dbsession, settings, clock)):
        lookup, keypair, well_formed = _receipt_keys(settings, receipt)
    case = dbsession.scalars(select(Case).where(Case.reporter_lookup_id == lookup)).first()
    if case is None or not well_formed:
        _count_failure(dbsession, clock)
        raise ReceiptRejected()
    token = open_session(dbsession, settings, clock, kind=REPORTER, private_key=keypair.private, case_id=case.id)
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.session_opened", case_id=case.id)
    return ReporterLogin(token=token, case=case, keypair=keypair)


# Hashed in place of a lookup value that is not 32 bytes, so a malformed one costs what an unknown one does.
_DECOY_LOOKUP_VALUE = bytes(32)
@dataclass(frozen=True)
class ReporterE2ELogin:
    token: str
    case: Case


def login_with_lookup_value(dbsession: Session, settings: Settings, clock: Clock,
                            lookup_value: bytes | None) -> ReporterE2ELogin:
    """Open an end-to-end reporter session (docs/crypto.md 6.2.1) for the lookup value a device
    derived from a version 2 receipt, or raise ReceiptRejected / TooManyAttempts, exactly as a
    receipt would: one answer for unknown and malformed values, counted in the same wrong-receipt
    budget, and past it the same slow lane. The session holds no key (REPORTER_E2E): it reads
    ciphertext and writes items the device encrypted.

    The caller must commit even on ReceiptRejected, so the failure is counted."""
    well_formed = isinstance(lookup_value, bytes) and len(lookup_value) == 32
    value = lookup_value if well_formed and lookup_value is not None else _DECOY_LOOKUP_VALUE
    with _receipt_turn(slow=over_budget(dbsession, settings, clock), hold=LOOKUP_VALUE_TURN):
        lookup = crypto.lookup_id(value, settings.lookup_pepper)
    case = dbsession.scalars(select(Case).where(Case.reporter_lookup_id == lookup)).first()
    if case is None or not well_formed:
        _count_failure(dbsession, clock)
        raise ReceiptRejected()
    token = open_e2e_reporter_session(dbsession, settings, clock, case_id=case.id)
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.session_opened", case_id=case.id)
    return ReporterE2ELogin(token=token, case=case)


def logout(dbsession: Session, settings: Settings, token: str) -> None:
    close_session(dbsession, settings, token)


def unlock_for_reporter(dbsession: Session, case: Case, keypair: crypto.KeyPair, *, server_key: bytes) -> CaseKeys:
    """The case key sealed in the reporter's grant, once it is bound to the reporter
    (check_grant_binding): KeyMismatch, before anything is written, if it is not."""
    grant = dbsession.scalars(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_REPORTER)
    ).one()
    try:
        sealed_case_key = grant.sealed_case_key
    except crypto.DecryptionFailed:
        # Changed in the database, or its shred key destroyed: not the case's grant.
        raise KeyMismatch(case, "case", before_any_write=True) from None
    keys = CaseKeys(case=crypto.KeyPair.from_private(crypto.unseal(keypair, sealed_case_key)), team=None)
    check_grant_binding(case, grant, keypair, keys, server_key=server_key)
    return keys


@dataclass
class Mailbox:
    """The case as its reporter sees it: no notes, no identity (only whether they gave one)."""

    case: Case
    status_words: str
    opened: date
    text: str
    answers: dict
    messages: list[dict]
    attachments: list[AttachmentInfo]
    identity_given: bool
    can_reveal_identity: bool
    new_item_ids: set[int] = field(default_factory=set)
    # What the reporter had seen before this visit, for whistle.reporters.news.
    new_file_ids: set[int] = field(default_factory=set)  # guardians' files added since
    first_visit: bool = False  # never seen with the receipt since it was given
    last_seen_status: str | None = None  # None: not known (first visit, or seen before it was kept)
    last_visit_on: date | None = None
    lost: set[str] = field(default_factory=set)  # kinds of item that failed to verify ("disclosure", ...)
    unverified: list[dict] = field(default_factory=list)  # those items: {"id", "kind"}, nothing of their content
    erased_files: list[dict] = field(default_factory=list)  # files a guardian erased (read_case's markers)


def read_mailbox(dbsession: Session, case: Case, keypair: crypto.KeyPair, *, server_key: bytes, mark_seen: bool = False,
                 today: date | None = None, clock: Clock | None = None) -> Mailbox:
    """The reporter's view of `case`. With `mark_seen` (and `today`, the visit's day) everything
    shown counts as seen from now on; what was new is still in this Mailbox. With `clock`, an
    item that fails to verify is audited (dated to the day); it is shown as such either way."""
    if mark_seen and today is None:
        raise TypeError("mark_seen needs today, the day of the visit")
    keys = unlock_for_reporter(dbsession, case, keypair, server_key=server_key)
    content = read_case(case, keys)
    attachments = list_attachments(dbsession, case, keys)
    if clock is not None:
        lost = content.unverified + [{"id": a.meta_item_id, "kind": ITEM_ATTACHMENT_META}
                                     for a in attachments if not a.verified]
        record_unverifiable(dbsession, clock, case, lost, reporter_path=True)
    identity_given = any(item.kind == ITEM_IDENTITY for item in case.items)
    seen = case.reporter_seen_item_id or 0
    # A message that failed to verify is shown as such, but not counted as news from the guardians:
    # who sent it is exactly what cannot be told.
    new_ids = {m["id"] for m in content.messages
               if m["id"] > seen and not m.get("unverified") and not m.get("erased") and m["from"] != "reporter"}
    # Files the guardians sent the reporter since, from the list just read: with the reporter's keys
    # (no team key) it holds only files whose details item is an ITEM_ATTACHMENT_META, never an
    # internal file, verified or not.
    new_file_ids = {a.id for a in attachments
                    if a.meta_item_id is not None and a.meta_item_id > seen and a.author != "reporter"}
    mailbox = Mailbox(
        case=case,
        status_words=status_words(case),
        opened=case.opened_on,
        text=content.text,
        answers=content.answers,
        messages=content.messages,
        attachments=attachments,
        identity_given=identity_given,
        can_reveal_identity=not identity_given and any(m != "anonymous" for m in case.channel.identity_modes),
        new_item_ids=new_ids,
        new_file_ids=new_file_ids,
        first_visit=case.reporter_seen_item_id is None,
        last_seen_status=case.reporter_seen_status,
        last_visit_on=case.reporter_seen_on,
        lost={entry["kind"] for entry in content.unverified},
        unverified=[{"id": entry["id"], "kind": entry["kind"]} for entry in content.unverified],
        erased_files=content.erased_files,
    )
    if mark_seen and case.items:
        seen_now = (max(item.id for item in case.items), case.status, today)
        # Written only when it changed: assigning even an equal value marks the case dirty, and
        # every later query of the request would flush it first.
        if (case.reporter_seen_item_id, case.reporter_seen_status, case.reporter_seen_on) != seen_now:
            case.reporter_seen_item_id, case.reporter_seen_status, case.reporter_seen_on = seen_now
    return mailbox


def send_message(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys, text: str, *, call_hook,
                 with_files: bool = False) -> int:
    """Add the reporter's message; the plugins hear of it (`whistle_reporter_message`, never its
    content), and ReporterWrote is published for the post (`with_files`: files came with it): the
    case's guardians get one notice for both, and the escalation rules for "reporter_message" run."""
    check_keys(case, keys, kinds=[ITEM_MESSAGE])
    item = add_item(case, keys, kind=ITEM_MESSAGE, author="reporter", plaintext=text.encode("utf-8"),
                    today=clock.today())
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.message_sent", case_id=case.id)
    call_hook("whistle_reporter_message", case=case_info(dbsession, case))
    call_hook.publish(ReporterWrote(case=case, message=True, files=with_files))
    return item.id


def send_files(case: Case, *, call_hook) -> None:
    """The reporter sent files, without a message (they are stored already): ReporterWrote is
    published for the post, so the case's guardians get one notice, however many files."""
    call_hook.publish(ReporterWrote(case=case, message=False, files=True))


def reveal_identity(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys, mode: str,
                    identity: dict[str, str]) -> None:
    """Encrypt who the reporter is to the team key: guardians read it, the reporter's own
    session cannot (it holds the case key only). The team key is checked first against the case's
    team key MAC with the reporter's case key: KeyMismatch, or TeamKeyUnchecked on a case no
    guardian has opened since MACs existed."""
    check_keys(case, keys, kinds=[ITEM_IDENTITY])
    plaintext = json.dumps(dict(identity, mode=mode), ensure_ascii=False).encode("utf-8")
    add_item(case, keys, kind=ITEM_IDENTITY, author="reporter", plaintext=plaintext, today=clock.today())
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.identity_revealed", case_id=case.id,
                 detail={"identity_mode": mode})


# --- the mailbox, end to end: ciphertext for the reporter's device, items it encrypted ---------

# The kinds of item the reporter's device may read: never a team-key kind.
REPORTER_READABLE = (ITEM_DISCLOSURE, ITEM_ANSWERS, ITEM_MESSAGE, ITEM_ATTACHMENT_META)


@dataclass
class Envelopes:
    """The case as the reporter's device reads it: ciphertext and metadata, nothing decrypted.
    `mailbox` holds the metadata the visit's news needs (whistle.reporters.news), no content."""

    case: Case
    grant: CaseGrant
    items: list[CaseItem]
    attachments: list[Attachment]
    mailbox: Mailbox


def read_envelopes(dbsession: Session, case: Case, *, mark_seen: bool = False,
                   today: date | None = None) -> Envelopes:
    """The reporter's grant, the items of the kinds a reporter reads, and the files a reporter may
    download (not internal ones), as stored. With `mark_seen` (and `today`), everything listed
    counts as seen, as read_mailbox marks it."""
    if mark_seen and today is None:
        raise TypeError("mark_seen needs today, the day of the visit")
    grant = dbsession.scalars(
        select(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_REPORTER)).one()
    items = [item for item in case.items if item.kind in REPORTER_READABLE]
    attachments = list(dbsession.scalars(
        select(Attachment).join(CaseItem, CaseItem.id == Attachment.meta_item_id)
        .where(Attachment.case_id == case.id, CaseItem.kind == ITEM_ATTACHMENT_META).order_by(Attachment.id)))
    seen = case.reporter_seen_item_id or 0
    identity_given = any(item.kind == ITEM_IDENTITY for item in case.items)
    mailbox = Mailbox(
        case=case, status_words=status_words(case), opened=case.opened_on, text="", answers={}, messages=[],
        attachments=[], identity_given=identity_given,
        can_reveal_identity=not identity_given and any(m != "anonymous" for m in case.channel.identity_modes),
        # Counted from metadata: who wrote an item is bound into its encryption, which the device checks.
        new_item_ids={item.id for item in items
                      if item.kind == ITEM_MESSAGE and item.id > seen and item.author != "reporter"
                      and item.erased_on is None},
        new_file_ids={attachment.id for attachment in attachments
                      if attachment.meta_item_id > seen and attachment.author != "reporter"},
        first_visit=case.reporter_seen_item_id is None, last_seen_status=case.reporter_seen_status,
        last_visit_on=case.reporter_seen_on,
    )
    if mark_seen and case.items:
        case.reporter_seen_item_id = max(item.id for item in case.items)
        case.reporter_seen_status = case.status
        case.reporter_seen_on = today
    return Envelopes(case=case, grant=grant, items=items, attachments=attachments, mailbox=mailbox)


def send_client_message(dbsession: Session, clock: Clock, case: Case, ciphertext: bytes, *, call_hook) -> int:
    """Store a message the reporter's device encrypted (an item of version 2 by "reporter"), with
    the same audit, hook and event as send_message. The server cannot check what it is encrypted
    to: the device derived the case public key from the case private key it opened."""
    item = CaseItem(kind=ITEM_MESSAGE, author="reporter", ciphertext=ciphertext, created_on=clock.today())
    case.items.append(item)
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.message_sent", case_id=case.id)
    call_hook("whistle_reporter_message", case=case_info(dbsession, case))
    call_hook.publish(ReporterWrote(case=case, message=True, files=False))
    return item.id


class IdentityGiven(Exception):
    """The reporter has already said who they are: an identity is given once."""


def give_client_identity(dbsession: Session, clock: Clock, case: Case, mode: str, ciphertext: bytes) -> int:
    """Store who the reporter is, as their device encrypted it to the team key it checked with the
    case's team key MAC (an identity item of version 2 by "reporter"). IdentityGiven if they have
    already said; TeamKeyUnchecked on a case without a MAC yet (its device could not check the key),
    audited by the caller."""
    # The case row locked first, so two posts at once cannot both find no identity and both store one.
    dbsession.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    given = dbsession.scalar(select(CaseItem.id).where(CaseItem.case_id == case.id, CaseItem.kind == ITEM_IDENTITY))
    if given is not None:
        raise IdentityGiven()
    if case.team_key_mac is None:
        raise TeamKeyUnchecked(case)
    item = CaseItem(kind=ITEM_IDENTITY, author="reporter", ciphertext=ciphertext, created_on=clock.today())
    case.items.append(item)
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.identity_revealed", case_id=case.id,
                 detail={"identity_mode": mode})
    return item.id


# --- withdrawing the report ----------------------------------------------------------------------

class Withdrawn(Exception):
    """The reporter withdrew this report: nothing more can be sent to it."""


def refuse_if_withdrawn(case: Case) -> None:
    """Raise Withdrawn for a case its reporter withdrew (before anything of a post is stored)."""
    if case.withdrawn_on is not None:
        raise Withdrawn(case.ref)


def withdraw_report(dbsession: Session, clock: Clock, case: Case, *, call_hook) -> None:
    """Close the case because its reporter withdrew it (whistle.cases.lifecycle.withdraw:
    lifecycle.AlreadyClosed, nothing changed, if it is closed), audited without content; the
    plugins hear of the move and CaseMoved is published (the retention rules follow it), then
    CaseWithdrawn (its guardians are told, content-free)."""
    dbsession.execute(select(Case.id).where(Case.id == case.id).with_for_update())
    before = lifecycle.withdraw(case, clock.today())
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.withdrew", case_id=case.id,
                 detail={"from": before})
    lifecycle.announce_move(dbsession, case, before, lifecycle.CLOSED, call_hook=call_hook)
    call_hook.publish(CaseWithdrawn(case=case))


# --- "would you speak up again?", asked at closure -------------------------------------------------

SPEAK_UP_ANSWERS = ("yes", "no", "not_sure")


class NotAsked(Exception):
    """The question is asked only once the case is closed, and never after a withdrawal."""


def speak_up_asked(case: Case) -> bool:
    """Whether the mailbox asks "would you speak up again?": the case is closed, neither withdrawn nor
    closed as junk."""
    return case.status == lifecycle.CLOSED and case.withdrawn_on is None and case.junk_reason is None


def answer_speak_up(dbsession: Session, clock: Clock, case: Case, answer: str, *, keys: CaseKeys | None = None,
                    comment: str = "", item: bytes | None = None) -> int | None:
    """Record the reporter's answer (case.speak_up_again: metadata) and, if they wrote one, their
    comment as an item of kind "speak-up-comment" to the case key: `comment` encrypted here with
    the reporter's `keys`, or `item`, as their device encrypted it. An answer may be changed; each
    comment is kept (the guardians read them all, dated). NotAsked (nothing changed) unless
    speak_up_asked. Returns the comment item's id, if any."""
    if not speak_up_asked(case):
        raise NotAsked(case.ref)
    if answer not in SPEAK_UP_ANSWERS:
        raise ValueError(f"answer must be one of {', '.join(SPEAK_UP_ANSWERS)}")
    comment_item: CaseItem | None = None
    if item is not None:
        comment_item = CaseItem(kind=ITEM_SPEAK_UP_COMMENT, author="reporter", ciphertext=item,
                                created_on=clock.today())
        case.items.append(comment_item)
    elif comment:
        if keys is None:
            raise TypeError("a comment in the clear needs the reporter's keys")
        check_keys(case, keys, kinds=[ITEM_SPEAK_UP_COMMENT])
        comment_item = add_item(case, keys, kind=ITEM_SPEAK_UP_COMMENT, author="reporter",
                                plaintext=comment.encode("utf-8"), today=clock.today())
    changed = case.speak_up_again is not None
    case.speak_up_again = answer
    dbsession.flush()
    # The answer itself stays out of the audit log: it is counted, suppressed under 5, in the
    # statistics, never tied to a case where an admin reads it.
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.speak_up_answered",
                 case_id=case.id, detail={"changed": changed, "comment": comment_item is not None})
    return comment_item.id if comment_item is not None else None
