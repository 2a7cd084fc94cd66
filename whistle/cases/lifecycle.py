"""The case lifecycle: which status may follow which, and what each move records — in one place.

    received ──► acknowledged ──► assessing ──► investigating ──► feedback_given ──► closed
                                     │  ▲            ▲   │               │   ▲         │
                                     │  └────────────┼───┘ (back)        │   │         │
                                     └──► feedback_given / closed        └───┘ (more)  │
                                     ▲                                                 │
                                     └──────────────── reopen (with a reason) ◄────────┘

Shortcuts allowed, and why:
- assessing → feedback_given / closed: many concerns are resolved or referred elsewhere at
  triage, without an investigation; the reporter must still hear back, and the case still closes
  with its outcome record.
- acknowledged → closed: a disclosure outside the scheme (a grievance, a duplicate) is referred
  after acknowledgement. A case cannot close unacknowledged: the law requires the acknowledgement.
- investigating → assessing and feedback_given → investigating: new information reopens work
  without closing the case.
- closed → assessing is the only way back, and needs a reason (an encrypted team-key item).
- any open status → closed by the reporter withdrawing their report (withdraw): no outcome is
  recorded, `withdrawn_on` says why it closed. Guardians may still reopen it with a reason, which
  takes the withdrawal back (the reporter can write again).
- any open status → closed as junk by guardians (close_as_junk: reports sent in a flood, spam, a
  test): no acknowledgement and no outcome are recorded, so no deadline reaches the reporter;
  `junk_reason` says why it closed. Reopening (with a reason) takes it back.
A forbidden move raises a 409 problem and, because raising aborts the transaction, changes nothing.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

from pyramid.i18n import TranslationString

from whistle.cases.events import CaseMoved
from whistle.cases.info import case_info
from whistle.cases.models import ITEM_OUTCOME, ITEM_REASON, Case
from whistle.cases.services import CaseKeys, DeviceItem, check_keys, write_item
from whistle.deadlines import profile_named
from whistle.errors import Problem, validation_problem
from whistle.i18n import _
from whistle.words import JUNK_REASON_LABELS, STATUS_LABELS

RECEIVED, ACKNOWLEDGED, ASSESSING, INVESTIGATING, FEEDBACK_GIVEN, CLOSED = STATUSES = (
    "received", "acknowledged", "assessing", "investigating", "feedback_given", "closed",
)
OPEN_STATUSES = STATUSES[:-1]

ALLOWED: dict[str, frozenset[str]] = {
    RECEIVED: frozenset({ACKNOWLEDGED}),
    ACKNOWLEDGED: frozenset({ASSESSING, CLOSED}),
    ASSESSING: frozenset({INVESTIGATING, FEEDBACK_GIVEN, CLOSED}),
    INVESTIGATING: frozenset({ASSESSING, FEEDBACK_GIVEN, CLOSED}),
    FEEDBACK_GIVEN: frozenset({INVESTIGATING, CLOSED}),
    CLOSED: frozenset({ASSESSING}),  # reopening
}

# The closing record's structured half (statistics, never content).
SUBSTANTIATED = ("yes", "partly", "no", "not_determined")
CHANGES = ("none", "policy", "process", "training", "staffing", "disciplinary", "referral", "other")
# What contributed to what went wrong, named at closure (metadata, case.factors: for the learning
# search and report, and statistics): (slug, words). None is required: a concern that was not
# substantiated may have none.
FACTORS: tuple[tuple[str, TranslationString], ...] = (
    ("staffing_workload", _("Staffing and workload")),
    ("communication", _("Communication")),
    ("training_skills", _("Training and skills")),
    ("supervision_leadership", _("Supervision and leadership")),
    ("policy_procedure", _("Policy or procedure")),
    ("equipment_premises", _("Equipment and premises")),
    ("culture_behaviour", _("Culture and behaviour")),
    ("record_keeping", _("Record keeping")),
    ("partnership_working", _("Partnership working")),
    ("other", _("Something else")),
)
FACTOR_SLUGS = tuple(slug for slug, _ in FACTORS)
FACTOR_WORDS = dict(FACTORS)
TRANSITION_PROBLEM = "/api/v1/problems/transition"
MAX_TEXT = 20_000


@dataclass(frozen=True)
class Outcome:
    """What closing a case records: was it substantiated, what changed, the contributory factors,
    and in words what was learned and what changed in practice (the texts, or in device mode the
    outcome item the guardian's device encrypted, which holds them all as JSON: {"substantiated",
    "changes", "factors", "learned", "changed"}; `changed` is then None)."""

    substantiated: str
    changes: tuple[str, ...]
    learned: str | DeviceItem
    factors: tuple[str, ...] = ()
    changed: str | None = None


def given(text) -> bool:
    """Whether a reason (or what was learned) was given: some text, or an item a device encrypted."""
    return isinstance(text, DeviceItem) or (isinstance(text, str) and bool(text.strip()))


def allowed_moves(status: str) -> list[str]:
    return [s for s in STATUSES if s in ALLOWED.get(status, ())]


def check_outcome(substantiated, changes, learned, factors=(), changed=None) -> Outcome:
    """Validate the closing record; a 422 problem names each faulty field. `factors`: slugs of
    FACTORS (none is fine); `changed`: optional text (in device mode it is inside the item)."""
    errors = {}
    if factors is None:
        factors = ()
    if not isinstance(factors, (list, tuple)) or any(f not in FACTOR_SLUGS for f in factors):
        errors["factors"] = f"Choose only from: {', '.join(FACTOR_SLUGS)}."
    if changed is not None and (isinstance(learned, DeviceItem) or not isinstance(changed, str)):
        errors["changed"] = (_("Text, if given.") if not isinstance(learned, DeviceItem)
                             else _("In device mode what changed goes inside the item your device encrypted."))
    elif isinstance(changed, str) and len(changed) > MAX_TEXT:
        errors["changed"] = _("At most ${count} characters.", mapping={"count": MAX_TEXT})
    if substantiated not in SUBSTANTIATED:
        errors["substantiated"] = f"Choose one of: {', '.join(SUBSTANTIATED)}."
    if not isinstance(changes, (list, tuple)) or not changes or any(c not in CHANGES for c in changes):
        errors["changes"] = f"Choose at least one of: {', '.join(CHANGES)}."
    if isinstance(learned, DeviceItem):
        pass  # the device checked its length, as below, before encrypting
    elif not isinstance(learned, str) or not learned.strip():
        errors["learned"] = _("Say what was learned (a sentence is enough).")
    elif len(learned) > MAX_TEXT:
        errors["learned"] = _("At most ${count} characters.", mapping={"count": MAX_TEXT})
    if errors:
        raise validation_problem(errors)
    return Outcome(substantiated, tuple(dict.fromkeys(changes)),
                   learned if isinstance(learned, DeviceItem) else learned.strip(),
                   factors=tuple(dict.fromkeys(factors)),
                   changed=changed.strip() or None if isinstance(changed, str) else None)


def check_move(case: Case, to) -> None:
    """Raise a 422 problem for an unknown status, a 409 one for a move the table forbids."""
    if to not in STATUSES:
        raise validation_problem({"to": f"Choose one of: {', '.join(STATUSES)}."})
    if to not in ALLOWED[case.status]:
        raise Problem(409, f"A case that is {STATUS_LABELS[case.status].lower()} cannot move to "
                           f"{STATUS_LABELS[to].lower()}. Allowed: {', '.join(allowed_moves(case.status)) or 'none'}.",
                      type=TRANSITION_PROBLEM, title="Move not allowed")


def announce_move(dbsession, case: Case, old: str, new: str, *, call_hook) -> None:
    """Tell the plugins a case moved (status changed; acknowledged; closed), then publish CaseMoved
    (the escalation rules for the move run on it: whistle.escalations)."""
    info = case_info(dbsession, case)
    call_hook("whistle_status_changed", case=info, old=old, new=new)
    if new == ACKNOWLEDGED:
        call_hook("whistle_case_acknowledged", case=info)
    elif new == CLOSED:
        call_hook("whistle_case_closed", case=info)
    call_hook.publish(CaseMoved(case=case, old=old, new=new))


def move(case: Case, to: str, *, keys: CaseKeys | None, today: date, account_id: int,
         reason: str | DeviceItem | None = None, outcome: Outcome | None = None, profiles=None) -> None:
    """Move `case` to status `to`, recording what the move means. Raises Problem (409 or 422), or
    KeyMismatch before changing anything when the closing record or reason could not be encrypted
    to the case's team key. `keys`: the guardian's (None in device mode, where the closing record
    and the reason are items their device encrypted: DeviceItem); `profiles`: the app's deadline
    profiles (registry.deadline_profiles), core's if None."""
    check_move(case, to)
    reopening = case.status == CLOSED
    if reopening and not given(reason):
        raise validation_problem({"reason": _("Say why the case is reopened.")})
    if to == CLOSED and outcome is None:
        raise validation_problem(
            {"learned": _("Closing needs the outcome: substantiated, what changed, what was learned.")})
    if isinstance(reason, str) and len(reason) > MAX_TEXT:
        raise validation_problem({"reason": _("At most ${count} characters.", mapping={"count": MAX_TEXT})})
    written = [kind for kind, content in ((ITEM_OUTCOME, outcome.learned if outcome else None), (ITEM_REASON, reason))
               if isinstance(content, str) and content.strip()]
    if written:
        if keys is None:
            raise validation_problem({"item": "This sign-in holds no key: send what you wrote as an item your "
                                              "device encrypted."})
        check_keys(case, keys, kinds=written)

    if to == ACKNOWLEDGED:
        case.acknowledged_on = today
        case.feedback_due = profile_named(case.channel.deadline_profile, profiles).feedback_due(case.opened_on, today)
    elif to == FEEDBACK_GIVEN:
        case.feedback_given_on = today
    elif to == CLOSED:
        assert outcome is not None  # refused above
        case.closed_on = today
        case.substantiated, case.changes = outcome.substantiated, list(outcome.changes)
        case.factors = list(outcome.factors)
        record: bytes | DeviceItem = outcome.learned if isinstance(outcome.learned, DeviceItem) else json.dumps(
            {"substantiated": outcome.substantiated, "changes": list(outcome.changes),
             "factors": list(outcome.factors), "learned": outcome.learned, "changed": outcome.changed or ""},
            ensure_ascii=False).encode("utf-8")
        write_item(case, keys, kind=ITEM_OUTCOME, author="guardian", account_id=account_id, today=today,
                   content=record)
    if reopening:
        case.closed_on, case.substantiated, case.changes, case.withdrawn_on, case.factors = None, None, [], None, []
        case.junk_reason = None
    if given(reason):
        assert reason is not None
        content: bytes | DeviceItem = reason if isinstance(reason, DeviceItem) else json.dumps(
            {"about": "reopen" if reopening else f"status:{to}", "text": reason.strip()},
            ensure_ascii=False).encode("utf-8")
        write_item(case, keys, kind=ITEM_REASON, author="guardian", account_id=account_id, today=today,
                   content=content)
    case.status = to


class AlreadyClosed(Exception):
    """The case is closed already: a report can be withdrawn only while its case is open."""


def withdraw(case: Case, today: date) -> str:
    """Close `case` because its reporter withdrew the report: from any open status, with no
    outcome (substantiated stays None) and `withdrawn_on` set to today. Returns the status it was
    in; AlreadyClosed (nothing changed) if it is closed. The caller announces the move."""
    if case.status == CLOSED:
        raise AlreadyClosed(case.ref)
    before = case.status
    case.status, case.closed_on, case.withdrawn_on = CLOSED, today, today
    return before


# Why a case may be closed as junk (case.junk_reason: metadata, never content); the words for
# people are whistle.words.JUNK_REASON_LABELS.
JUNK_REASON_SLUGS = tuple(JUNK_REASON_LABELS)


def close_as_junk(case: Case, today: date, reason: str) -> str:
    """Close `case` as junk (no concern at all): from any open status, with no acknowledgement and
    no outcome, so no feedback deadline is set and nothing is promised to whoever sent it;
    `junk_reason` says why. Returns the status it was in; AlreadyClosed (nothing changed) if it is
    closed. The caller audits and announces the move."""
    if reason not in JUNK_REASON_SLUGS:
        raise ValueError(f"reason must be one of {', '.join(JUNK_REASON_SLUGS)}")
    if case.status == CLOSED:
        raise AlreadyClosed(case.ref)
    before = case.status
    case.status, case.closed_on, case.junk_reason = CLOSED, today, reason
    return before
