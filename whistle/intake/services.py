"""Turning a validated disclosure into an encrypted case and a receipt."""
from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.cases.models import ITEM_ANSWERS, ITEM_DISCLOSURE, ITEM_IDENTITY, Case
from whistle.cases.services import add_item, open_case
from whistle.intake_channels.services import default_guardians, second_tier_guardians
from whistle.clock import Clock
from whistle.notifications.preferences import NEW_REPORT
from whistle.routing.services import choose_guardians, no_hooks, triage_new_case
from whistle.notifications.services import notify_holders
from whistle.intake.forms import Submission
from whistle.settings import Settings


@dataclass(frozen=True)
class Receipt:
    """The result of a submission. `receipt` is shown to the reporter once and never stored."""

    receipt: str
    case: Case


SUBMISSION_PURPOSE = "submission-token"


def new_submission_token() -> str:
    """A one-time token for one disclosure form, so sending it twice opens one case."""
    return crypto.random_token(32)


def submission_token_id(settings: Settings, token: str) -> bytes:
    return crypto.blind_index(token, settings.lookup_pepper, purpose=SUBMISSION_PURPOSE)


def acknowledgement_due(dbsession: Session, case_ref: str):
    """The day the case's guardians must acknowledge it by (its deadline profile's), or None."""
    return dbsession.scalars(select(Case.ack_due).where(Case.ref == case_ref)).first()


def already_submitted(dbsession: Session, settings: Settings, token: str) -> bool:
    token_id = submission_token_id(settings, token)
    return dbsession.scalars(select(Case.id).where(Case.submission_token_id == token_id)).first() is not None


def submit_disclosure(dbsession: Session, settings: Settings, clock: Clock, submission: Submission,
                      *, submission_token: str | None = None, call_hook=None,
                      deadline_profiles=None) -> Receipt:
    """Open the case. `submission_token` (from the form) is stored as a keyed hash, so a
    second post of the same form is recognised and opens nothing.

    `call_hook` (`request.call_hook`, or `whistle.hooks.hook_caller(...)`) lets the plugins route
    and exclude guardians before any guardian gets the keys, then triage and escalate. A plugin
    that raises is audited and skipped: the disclosure is stored and the receipt given anyway."""
    call_hook = call_hook or no_hooks
    receipt = crypto.new_receipt()
    reporter = crypto.derive_reporter_keys(receipt, settings.lookup_pepper, settings.receipt_kdf)
    today = clock.today()
    # Sealed to the reporter only, for now: who else gets the keys is decided below.
    case, keys = open_case(dbsession, channel=submission.channel, reporter=reporter, guardians=[], today=today,
                           profiles=deadline_profiles)
    if submission_token:
        case.submission_token_id = submission_token_id(settings, submission_token)
    add_item(case, kind=ITEM_DISCLOSURE, author="reporter", plaintext=submission.text.encode("utf-8"), today=today)
    if submission.answers:
        add_item(case, kind=ITEM_ANSWERS, author="reporter", today=today,
                 plaintext=json.dumps(submission.answers, ensure_ascii=False).encode("utf-8"))
    if submission.identity:
        identity = dict(submission.identity, mode=submission.identity_mode)
        add_item(case, kind=ITEM_IDENTITY, author="reporter", today=today,
                 plaintext=json.dumps(identity, ensure_ascii=False).encode("utf-8"))
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="case.opened", case_id=case.id,
                 detail={"channel": submission.channel.slug, "identity_mode": submission.identity_mode})
    excluded = choose_guardians(
        dbsession, clock, case, keys, submission, call_hook=call_hook,
        defaults=default_guardians(dbsession, submission.channel),
        second_tier=second_tier_guardians(dbsession, submission.channel),
    )
    # The holders chosen by routing are told now; anyone an escalation rule hands the case to
    # during triage is told that it was given to them.
    notify_holders(dbsession, clock, case, NEW_REPORT, exclude=excluded)
    triage_new_case(dbsession, clock, case, keys, submission, call_hook=call_hook, excluded=excluded)
    return Receipt(receipt=receipt, case=case)
