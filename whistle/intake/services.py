"""Turning a validated disclosure into an encrypted case and a receipt."""
from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.cases.events import CaseOpened
from whistle.cases.info import case_info
from whistle.cases.models import ITEM_ANSWERS, ITEM_DISCLOSURE, ITEM_IDENTITY, Case
from whistle.cases.services import CaseKeys, add_item, open_case
from whistle.clock import Clock
from whistle.hooks.types import Disclosure
from whistle.intake.forms import Submission
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import default_guardians, second_tier_guardians
from whistle.key_directory.services import try_current_directory
from whistle.routing.services import NobodyCanReceive, choose_guardians, triage_new_case
from whistle.settings import Settings


@dataclass(frozen=True)
class Receipt:
    """The result of a submission. `receipt` is shown to the reporter once and never stored."""

    receipt: str
    case: Case
    keys: CaseKeys = field(repr=False)  # in memory for this request only: files sent with the report


SUBMISSION_PURPOSE = "submission-token"


def new_submission_token() -> str:
    """A one-time token for one disclosure form, so sending it twice opens one case."""
    return crypto.random_token(32)


def submission_token_id(settings: Settings, token: str) -> bytes:
    return crypto.blind_index(token, settings.lookup_pepper, purpose=SUBMISSION_PURPOSE)


def acknowledgement_due(dbsession: Session, case_ref: str):
    """The day the case's guardians must acknowledge it by (its deadline profile's), or None."""
    return dbsession.scalars(select(Case.ack_due).where(Case.ref == case_ref)).first()


@dataclass(frozen=True)
class Readers:
    """Who will read a report on a channel, as the current signed key directory lists them (what a
    reporter's device seals to): the first tier, and the second tier, who read it if none of the
    first can. Each (account id, username)."""

    first_tier: tuple[tuple[int, str], ...]
    second_tier: tuple[tuple[int, str], ...]

    @property
    def ids(self) -> frozenset[int]:
        return frozenset(account_id for account_id, _ in self.first_tier + self.second_tier)


def readers_of(dbsession: Session, settings: Settings, clock: Clock, channel: Channel) -> Readers:
    """The channel's readers in the current directory; nobody without a usable one."""
    directory = try_current_directory(dbsession, settings, clock)
    if directory is None:
        return Readers((), ())
    listed = directory.listed_for(channel.slug)

    def named(ids) -> tuple[tuple[int, str], ...]:
        return tuple((i, directory.guardians[i].username) for i in ids if i in directory.guardians)

    return Readers(named(listed.first_tier), named(listed.second_tier))


@dataclass(frozen=True)
class SentBefore:
    """The case a submission token already opened, and its receipt (None if that receipt was not
    derived from the token: a report sent before receipts were)."""

    case: Case
    receipt: str | None


def already_submitted(dbsession: Session, settings: Settings, token: str) -> SentBefore | None:
    """The report already sent with submission `token`, or None. Its receipt is derived again
    and checked against the case (one Argon2id derivation, only on a repeated post)."""
    token_id = submission_token_id(settings, token)
    case = dbsession.scalars(select(Case).where(Case.submission_token_id == token_id)).first()
    if case is None:
        return None
    receipt = crypto.receipt_for_submission(token, settings.lookup_pepper)
    derived = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    return SentBefore(case=case, receipt=receipt if derived.lookup_id == case.reporter_lookup_id else None)


def submit_disclosure(dbsession: Session, settings: Settings, clock: Clock, submission: Submission,
                      *, call_hook, submission_token: str | None = None,
                      deadline_profiles=None, left_out: frozenset[int] = frozenset(), surge: bool = False) -> Receipt:
    """Open the case. `submission_token` (from the form) is stored as a keyed hash, so a
    second post of the same form is recognised and opens nothing; the receipt is derived from
    it (crypto.receipt_for_submission), so that second post can be shown the receipt again.

    In order: the case is stored, sealed to the reporter only; the plugins route and exclude
    guardians before any guardian gets the keys (whistle.routing); they triage it; then
    `whistle_case_opened`, and CaseOpened is published: the holders routing chose are told
    (whistle.notifications), then the plugins' escalation rules for "opened" run, with the keys
    still at hand (whistle.escalations). Anyone an escalation rule hands the case to is told that
    it was given to them, not of a new report. `call_hook` is `request.call_hook`, or
    `whistle.hooks.hook_caller(...)`. A plugin that raises is audited and skipped: the disclosure
    is stored and the receipt given anyway. `left_out`: guardians the reporter chose to leave out
    (Readers.ids), excluded as a conflict of interest is. `surge`: reports are arriving past the
    service's surge mark (whistle.intake.limits), so the case is marked with the day.

    Raises NobodyCanReceive when nobody could receive the case: no enabled guardian in the
    channel's tiers any more (disabled while the reporter wrote), no usable signed key directory,
    none of them listed in it for the channel, or every one of them excluded by the plugins. The
    case may be flushed by then: the caller dooms the transaction, so nothing of the report is
    kept (not even an audit event: that a report was refused because it left out every guardian
    would tell an excluded guardian who is also an admin that a report about them was tried)."""
    defaults = default_guardians(dbsession, submission.channel)
    second_tier = second_tier_guardians(dbsession, submission.channel)
    # Guardians get the keys sealed to what the signed key directory lists for them, never to the
    # keys stored with their accounts: without a usable directory nobody could receive the case.
    directory = try_current_directory(dbsession, settings, clock)
    if directory is None or (not defaults and not second_tier):  # before the case exists: nothing to throw away
        raise NobodyCanReceive(submission.channel.slug)
    receipt = (crypto.receipt_for_submission(submission_token, settings.lookup_pepper) if submission_token
               else crypto.new_receipt())
    reporter = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    today = clock.today()
    # Sealed to the reporter only, for now: who else gets the keys is decided below.
    case, keys = open_case(dbsession, channel=submission.channel, reporter=reporter, guardians=[], today=today,
                           profiles=deadline_profiles, server_key=settings.session_key)
    if surge:
        case.surge_day = today
    if submission_token:
        case.submission_token_id = submission_token_id(settings, submission_token)
    add_item(case, keys, kind=ITEM_DISCLOSURE, author="reporter", plaintext=submission.text.encode("utf-8"),
             today=today)
    if submission.answers:
        add_item(case, keys, kind=ITEM_ANSWERS, author="reporter", today=today,
                 plaintext=json.dumps(submission.answers, ensure_ascii=False).encode("utf-8"))
    if submission.identity:
        identity = dict(submission.identity, mode=submission.identity_mode)
        add_item(case, keys, kind=ITEM_IDENTITY, author="reporter", today=today,
                 plaintext=json.dumps(identity, ensure_ascii=False).encode("utf-8"))
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="case.opened", case_id=case.id,
                 detail={"channel": submission.channel.slug, "identity_mode": submission.identity_mode})
    disclosure = Disclosure(channel=submission.channel.slug, text=submission.text, answers=dict(submission.answers),
                            identity=dict(submission.identity) if submission.identity else None)
    excluded = choose_guardians(
        dbsession, clock, case, keys, disclosure, call_hook=call_hook, directory=directory,
        defaults=defaults, second_tier=second_tier, left_out=left_out,
    )
    triage_new_case(dbsession, clock, case, disclosure, call_hook=call_hook)
    call_hook("whistle_case_opened", case=case_info(dbsession, case))
    call_hook.publish(CaseOpened(case=case, keys=keys, excluded=excluded, directory=directory))
    return Receipt(receipt=receipt, case=case, keys=keys)
