"""What a guardian does to a case: reply, note, triage, move it on, grant, transfer, step aside.

Every action validates before it changes anything (so a refused one changes nothing) and is
audited with metadata only: who, which case, what kind of change — never the text.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import and_, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from whistle import audit, words
from whistle.accounts.models import Account
from whistle.cases import lifecycle
from whistle.cases.events import CaseGiven
from whistle.cases.models import (
    HOLDER_GUARDIAN,
    ITEM_ATTACHMENT_META,
    ITEM_INTERNAL_ATTACHMENT_META,
    ITEM_MESSAGE,
    ITEM_NOTE,
    ITEM_REASON,
    LABEL_PATTERN,
    Attachment,
    Case,
    CaseGrant,
    CaseItem,
    CaseLabel,
    CaseRead,
)
from whistle.cases.services import (
    CaseKeys,
    DeviceItem,
    DeviceSealedKeys,
    NotGranted,
    check_keys,
    grant_sealed_to,
    grant_to,
    guardian_grant,
    write_item,
)
from whistle.cases.shredded import forget
from whistle.clock import Clock
from whistle.errors import Problem, validation_problem
from whistle.hooks.types import PRIORITIES
from whistle.i18n import _
from whistle.key_directory.services import Directory
from whistle.numbers import whole_number
from whistle.shredding import shred_store_of

MAX_TEXT = lifecycle.MAX_TEXT
# The most plaintext bytes an item a guardian's device encrypted may hold (crypto.is_item_of_size):
# a message or note of MAX_TEXT characters of up to 4 UTF-8 bytes each; a reason is JSON around
# such a text, whose characters take up to 6 bytes each once escaped; a closing record is JSON
# around two (what was learned, what changed) and the lists of slugs.
MAX_TEXT_ITEM_BYTES = MAX_TEXT * 4
MAX_RECORD_ITEM_BYTES = MAX_TEXT * 6 + 512
MAX_OUTCOME_ITEM_BYTES = MAX_TEXT * 12 + 1024
CONFLICT_PROBLEM = "/api/v1/problems/conflict-of-interest"


def _actor(account: Account) -> str:
    return f"account:{account.id}"


def _text(value, field: str = "text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise validation_problem({field: _("Write something first.")})
    if len(value) > MAX_TEXT:
        raise validation_problem({field: _("At most ${count} characters.", mapping={"count": MAX_TEXT})})
    return value.strip()


def _written(case: Case, keys: CaseKeys | None, text, *, kind: str) -> bytes | DeviceItem:
    """What a guardian wrote, to store as an item of `kind`: the checked text, to encrypt with their
    `keys` (checked against the case first), or the item their device encrypted (device mode)."""
    if isinstance(text, DeviceItem):
        return text
    text = _text(text)
    if keys is None:
        raise NotGranted(case.ref)
    check_keys(case, keys, kinds=[kind])
    return text.encode("utf-8")


def reply(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account,
          text: str | DeviceItem) -> CaseItem:
    """A message to the reporter (case key, checked against `keys`: the reporter reads it); in
    device mode (`keys` None) the message item the guardian's device encrypted."""
    content = _written(case, keys, text, kind=ITEM_MESSAGE)
    item = write_item(case, keys, kind=ITEM_MESSAGE, author="guardian", account_id=account.id, today=clock.today(),
                      content=content)
    dbsession.flush()
    audit.record(dbsession, clock, actor=_actor(account), action="case.message_added", case_id=case.id,
                 detail={"item_id": item.id})
    mark_read(dbsession, case, account.id)
    return item


def add_note(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account,
             text: str | DeviceItem) -> CaseItem:
    """An internal note (team key: the reporter holds no team key, so can never read it); in device
    mode (`keys` None) the note item the guardian's device encrypted."""
    content = _written(case, keys, text, kind=ITEM_NOTE)
    item = write_item(case, keys, kind=ITEM_NOTE, author="guardian", account_id=account.id, today=clock.today(),
                      content=content)
    dbsession.flush()
    audit.record(dbsession, clock, actor=_actor(account), action="case.note_added", case_id=case.id,
                 detail={"item_id": item.id})
    return item


def change_status(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account, to: str, *,
                  call_hook, reason: str | DeviceItem | None = None, outcome: lifecycle.Outcome | None = None,
                  deadline_profiles=None) -> None:
    """Move the case on, audited; then the plugins hear of it and CaseMoved is published (their
    escalation rules run on it), after the change and in the same transaction. `keys`: the
    guardian's, for the closing record and reasons (team key items); None in device mode, where
    those are items the guardian's device encrypted (lifecycle.move)."""
    before = case.status
    lifecycle.move(case, to, keys=keys, today=clock.today(), account_id=account.id, reason=reason, outcome=outcome,
                   profiles=deadline_profiles)
    dbsession.flush()
    action = "case.reopened" if before == lifecycle.CLOSED else {
        lifecycle.FEEDBACK_GIVEN: "case.feedback_given", lifecycle.CLOSED: "case.closed",
        lifecycle.ACKNOWLEDGED: "case.acknowledged",
    }.get(to, "case.status_changed")
    detail: dict[str, Any] = {"from": before, "to": to}
    if to == lifecycle.CLOSED:
        assert outcome is not None  # lifecycle.move refuses closing without one
        detail.update(substantiated=outcome.substantiated, changes=list(outcome.changes),
                      factors=list(outcome.factors))
    audit.record(dbsession, clock, actor=_actor(account), action=action, case_id=case.id, detail=detail)
    lifecycle.announce_move(dbsession, case, before, to, call_hook=call_hook)


def check_labels(labels) -> list[str]:
    if not isinstance(labels, list) or not all(isinstance(label, str) for label in labels):
        raise validation_problem({"labels": "A list of labels."})
    cleaned = [label.strip().lower() for label in labels if label.strip()]
    bad = [label for label in cleaned if not LABEL_PATTERN.match(label)]
    if bad:
        raise validation_problem({"labels": f"{bad[0]!r}: labels are 1-64 lower-case letters, digits or '-'."})
    return list(dict.fromkeys(cleaned))


def labels_of(dbsession: Session, case: Case) -> list[str]:
    return list(dbsession.scalars(
        select(CaseLabel.label).where(CaseLabel.case_id == case.id).order_by(CaseLabel.label)))


def triage(dbsession: Session, clock: Clock, case: Case, account: Account, *, priority: str | None = None,
           add: Sequence[str] = (), remove: Sequence[str] = ()) -> None:
    """Set the priority and add or remove labels: triage metadata, never content."""
    if priority is not None and priority not in PRIORITIES:
        raise validation_problem({"priority": f"One of: {', '.join(PRIORITIES)}."})
    # A tuple (the defaults) is fine; anything else that is not a list (null, a string, which list()
    # would split into letters) is refused by check_labels.
    add, remove = (check_labels(list(labels) if isinstance(labels, tuple) else labels) for labels in (add, remove))
    if priority is not None and priority != case.priority:
        audit.record(dbsession, clock, actor=_actor(account), action="case.priority_changed", case_id=case.id,
                     detail={"from": case.priority, "to": priority})
        case.priority = priority
    current = set(labels_of(dbsession, case))
    added = [label for label in add if label not in current]
    removed = [label for label in remove if label in current and label not in add]
    for label in added:
        dbsession.add(CaseLabel(case_id=case.id, label=label))
    if removed:
        dbsession.execute(delete(CaseLabel).where(CaseLabel.case_id == case.id, CaseLabel.label.in_(removed)))
    if added or removed:
        audit.record(dbsession, clock, actor=_actor(account), action="case.labels_changed", case_id=case.id,
                     detail={"added": added, "removed": removed})
    dbsession.flush()


def eligible_grantees(dbsession: Session, case: Case) -> list[Account]:
    """Enabled guardians who do not hold this case yet."""
    holders = select(CaseGrant.account_id).where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN)
    return list(dbsession.scalars(
        select(Account).where(Account.is_guardian.is_(True), Account.disabled.is_(False), Account.id.not_in(holders))
        .order_by(Account.username)
    ))


def _grantee(dbsession: Session, case: Case, username, directory: Directory, field: str = "guardian") -> Account:
    if not isinstance(username, str) or not username.strip():
        raise validation_problem({field: _("Choose a guardian.")})
    grantee = dbsession.scalars(select(Account).where(Account.username == username.strip().lower())).first()
    if grantee is None or grantee.disabled or not grantee.is_guardian:
        raise validation_problem({field: _("There is no enabled guardian by that name.")})
    if guardian_grant(dbsession, case, grantee.id) is not None:
        raise validation_problem({field: _("${name} already holds this case.", mapping={"name": grantee.username})})
    if directory.key_of(grantee.id) is None:
        raise validation_problem({field: f"{grantee.username} is not in the signed key directory yet, so the case "
                                         "cannot be sealed to them: an admin must sign a new key directory first."})
    return grantee


def _give(case: Case, keys: CaseKeys | None, grantee: Account, today, directory: Directory,
          sealed: DeviceSealedKeys | None) -> None:
    if sealed is not None:
        grant_sealed_to(case, grantee, today, sealed_case_key=sealed.sealed_case_key,
                        sealed_team_key=sealed.sealed_team_key)
    elif keys is None:
        raise NotGranted(case.ref)
    else:
        grant_to(case, keys, grantee, today, directory=directory)


def grant(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account, username, *,
          call_hook, directory: Directory, sealed: DeviceSealedKeys | None = None) -> Account:
    """Seal the case keys (unlocked by the granter) to another guardian, to the key the signed
    `directory` lists for them: they read with their own key. In device mode (`keys` None) the keys
    come `sealed` by the granter's device, to the key the directory lists for them (which must list
    them). CaseGiven is published for the new holder (who is told)."""
    grantee = _grantee(dbsession, case, username, directory)
    _give(case, keys, grantee, clock.today(), directory, sealed)
    dbsession.flush()
    audit.record(dbsession, clock, actor=_actor(account), action="case.granted", case_id=case.id,
                 detail={"account_id": grantee.id})
    call_hook.publish(CaseGiven(case=case, account_ids=(grantee.id,)))
    return grantee


def _reason_item(case: Case, keys: CaseKeys | None, account: Account, clock: Clock, about: str, reason) -> None:
    if isinstance(reason, DeviceItem):
        write_item(case, keys, kind=ITEM_REASON, author="guardian", account_id=account.id, today=clock.today(),
                   content=reason)
    elif isinstance(reason, str) and reason.strip():
        if len(reason) > MAX_TEXT:
            raise validation_problem({"reason": _("At most ${count} characters.", mapping={"count": MAX_TEXT})})
        write_item(case, keys, kind=ITEM_REASON, author="guardian", account_id=account.id, today=clock.today(),
                   content=json.dumps({"about": about, "text": reason.strip()}, ensure_ascii=False).encode("utf-8"))


def _check_reason_keys(case: Case, keys: CaseKeys | None, reason) -> None:
    """Before anything is written: a reason to encrypt here needs the keys, checked against the case."""
    if isinstance(reason, DeviceItem):
        return
    if reason is not None and not isinstance(reason, str):
        raise validation_problem({"reason": _("Text, if given.")})
    if keys is not None:
        check_keys(case, keys, kinds=[ITEM_REASON])
    elif reason is not None and reason.strip():
        raise NotGranted(case.ref)


def _drop_own_grant(dbsession: Session, case: Case, account: Account) -> None:
    dbsession.execute(delete(CaseGrant).where(CaseGrant.case_id == case.id, CaseGrant.account_id == account.id))
    dbsession.execute(delete(CaseRead).where(CaseRead.case_id == case.id, CaseRead.account_id == account.id))
    dbsession.expire(case, ["grants"])


def transfer(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account, username,
             reason: str | DeviceItem | None = None, *, call_hook, directory: Directory,
             sealed: DeviceSealedKeys | None = None) -> Account:
    """Hand the case to another guardian (sealed to the key the signed `directory` lists for them)
    and give up my own access; CaseGiven is published for them. Device mode (`keys` None): the keys
    `sealed` and the reason encrypted by the guardian's device, as for grant."""
    grantee = _grantee(dbsession, case, username, directory)
    _check_reason_keys(case, keys, reason)
    _give(case, keys, grantee, clock.today(), directory, sealed)
    _reason_item(case, keys, account, clock, "transfer", reason)
    dbsession.flush()
    _drop_own_grant(dbsession, case, account)
    audit.record(dbsession, clock, actor=_actor(account), action="case.transferred", case_id=case.id,
                 detail={"to_account_id": grantee.id})
    call_hook.publish(CaseGiven(case=case, account_ids=(grantee.id,)))
    return grantee


def other_holders(dbsession: Session, case: Case, account: Account) -> int:
    """How many other enabled guardians hold this case."""
    return dbsession.scalar(
        select(func.count()).select_from(CaseGrant).join(Account, Account.id == CaseGrant.account_id)
        .where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN, CaseGrant.account_id != account.id,
               Account.disabled.is_(False), Account.is_guardian.is_(True))
    ) or 0


def declare_conflict(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys | None, account: Account,
                     reason: str | DeviceItem | None = None) -> None:
    """Step aside from a case I have a conflict of interest in: my access ends.

    Refused while no other enabled guardian holds the case, so it is never left unreadable."""
    if reason is not None and not isinstance(reason, (str, DeviceItem)):
        raise validation_problem({"reason": _("Text, if given.")})
    if other_holders(dbsession, case, account) == 0:
        raise Problem(409, _("Grant the case to another guardian first: nobody else could read it."),
                      type=CONFLICT_PROBLEM, title="Case would be left without a guardian")
    _check_reason_keys(case, keys, reason)
    _reason_item(case, keys, account, clock, "conflict-of-interest", reason)
    dbsession.flush()
    _drop_own_grant(dbsession, case, account)
    audit.record(dbsession, clock, actor=_actor(account), action="case.conflict_declared", case_id=case.id)


VIEWED = "case.viewed"


def record_view(dbsession: Session, clock: Clock, case: Case, account_id: int) -> bool:
    """Audit that `account_id` read the case ("case.viewed"), once a day: the first reading of a
    day appends the event, later ones that day write nothing, so reading stays as cheap the
    thousandth time as the first and takes no write lock. Whether this call recorded it.

    The day is claimed with one conditional write (case_reads.viewed_on), so two readings at
    the same moment, on one node or two, record it once."""
    today = clock.today()
    row = dbsession.get(CaseRead, (case.id, account_id))
    if row is not None:
        # Kept referenced for the rest of the session (the request): the identity map holds rows
        # only while something does, and mark_read() looks the same row up at the end of a reading.
        dbsession.info.setdefault("case_reads_held", []).append(row)
    if row is not None and row.viewed_on == today:
        return False
    if row is None:
        insert = postgresql_insert if dbsession.get_bind().dialect.name == "postgresql" else sqlite_insert
        claimed = dbsession.execute(insert(CaseRead).values(
            case_id=case.id, account_id=account_id, last_read_item_id=0, viewed_on=today,
        ).on_conflict_do_nothing(index_elements=["case_id", "account_id"]))
    else:
        claimed = dbsession.execute(
            update(CaseRead).where(CaseRead.case_id == case.id, CaseRead.account_id == account_id,
                                   or_(CaseRead.viewed_on.is_(None), CaseRead.viewed_on != today))
            .values(viewed_on=today).execution_options(synchronize_session=False))
        dbsession.expire(row, ["viewed_on"])
    if not cast(CursorResult[Any], claimed).rowcount:
        return False
    audit.record(dbsession, clock, actor=f"account:{account_id}", action=VIEWED, case_id=case.id)
    return True


def mark_read(dbsession: Session, case: Case, account_id: int, *, newest: int | None = None) -> None:
    """Everything in the case up to now (or up to item `newest`, what the caller showed) counts as
    read by `account_id`."""
    if newest is None:
        newest = dbsession.scalar(select(func.max(CaseItem.id)).where(CaseItem.case_id == case.id)) or 0
    row = dbsession.get(CaseRead, (case.id, account_id))
    if row is None:
        dbsession.add(CaseRead(case_id=case.id, account_id=account_id, last_read_item_id=newest))
    elif row.last_read_item_id < newest:
        row.last_read_item_id = newest
    dbsession.flush()


# --- erasing one item (docs/workspace.md, "Erasing one message, note or file") ---

# What a guardian may erase: one message, note or file (the details item of a file, with the file).
# Never the disclosure, the answers or who the reporter is: they are the record of what was reported,
# which the law asks to keep; nor a closing record or a reason, which are the record of what was done.
ERASABLE_KINDS = (ITEM_MESSAGE, ITEM_NOTE, ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META)
ERASURE_REASONS = tuple(words.ERASURE_REASONS)


@dataclass(frozen=True)
class Erased:
    item: CaseItem
    blob_name: str | None  # the file's blob, for the caller to delete once this is committed


def erasable_items(case: Case) -> list[CaseItem]:
    """The case's items a guardian may still erase, oldest first."""
    return [item for item in case.items if item.kind in ERASABLE_KINDS and item.erased_on is None]


def erase_item(dbsession: Session, clock: Clock, case: Case, account: Account, item_id, reason) -> Erased:
    """Erase one message, note or file of the case for good: its shred keys are destroyed first (the
    item's, and a file's own), so no copy of it anywhere opens again, backups included; then its
    ciphertext is cleared, the item marked erased (the day and the reason, a slug of ERASURE_REASONS)
    and a file's row deleted. The caller deletes the file's blob once this is committed.

    Refused (422, naming `item_id` or `reason`) before anything changes: an item that is not one of
    the case's messages, notes or files, one erased already, a reason not on the list, any item of a
    case on legal hold (a hold keeps everything as it is until it is lifted). Audited
    "case.item_erased" with the item's id, kind and the reason's slug: nothing of its content."""
    errors: dict[str, str] = {}
    if reason not in ERASURE_REASONS:
        errors["reason"] = _("Choose why it is erased.")
    wanted = item_id if type(item_id) is int else whole_number(item_id)
    item = next((each for each in case.items if each.id == wanted), None) if wanted is not None else None
    if case.hold_since is not None:
        errors["item_id"] = _("This case is on legal hold, so nothing of it can be erased. Lift the hold first "
                               "if the erasure must go ahead.")
    elif item is None:
        errors["item_id"] = _("Choose a message, note or file of this case.")
    elif item.kind not in ERASABLE_KINDS:
        errors["item_id"] = _("Only a message, a note or a file can be erased: what the reporter reported, and "
                               "the records of what was done, are kept.")
    elif item.erased_on is not None:
        errors["item_id"] = _("That was erased already.")
    if errors:
        raise validation_problem(errors)
    assert item is not None  # checked above
    files = list(dbsession.scalars(select(Attachment).where(Attachment.meta_item_id == item.id)))
    # The keys first, committed in the shred key store at once: if anything after this fails, the
    # content is unreadable all the same, and the erasure is simply done again.
    shred_store_of(dbsession).destroy([item.shred_handle, *(row.shred_handle for row in files)])
    forget(item)
    item.wrapped_ciphertext, item.shred_handle = b"", None
    item.erased_on, item.erased_reason = clock.today(), reason
    blob_name = None
    for row in files:
        blob_name = row.blob_name
        forget(row)
        dbsession.delete(row)
    audit.record(dbsession, clock, actor=_actor(account), action="case.item_erased", case_id=case.id,
                 detail={"item_id": item.id, "kind": item.kind, "reason": reason})
    return Erased(item=item, blob_name=blob_name)


# --- closing junk in bulk: the cases that came in during a surge (cases.surge_day) ----------------

MAX_JUNK_AT_ONCE = 500
JUNK_NOT_YOURS = _("There is no case ${ref} among this surge's cases that you hold, so nothing was closed. Go "
                   "back to the surge's list and choose again.")


@dataclass(frozen=True)
class JunkClosed:
    """What close_as_junk did: the references it closed, and those closed already (left as they were)."""

    closed: list[str]
    already_closed: list[str]


def junk_choice(refs, reason) -> tuple[list[str], str]:
    """The ticked references (each once, in order) and the reason, or a 422 problem naming `cases`
    or `reason`."""
    errors = {}
    if (not isinstance(refs, list) or not refs or len(refs) > MAX_JUNK_AT_ONCE
            or not all(isinstance(ref, str) and 0 < len(ref) <= 64 for ref in refs)):
        errors["cases"] = _("Tick at least one case (at most ${count} at once).", mapping={"count": MAX_JUNK_AT_ONCE})
    if reason not in lifecycle.JUNK_REASON_SLUGS:
        errors["reason"] = f"Choose why they are junk: one of {', '.join(lifecycle.JUNK_REASON_SLUGS)}."
    if errors:
        raise validation_problem(errors)
    return list(dict.fromkeys(refs)), reason


def surge_cases_held(dbsession: Session, account: Account, surge_day, refs: list[str], *,
                     lock: bool = False) -> list[Case]:
    """The cases `refs`, in that order, each one of the surge of `surge_day` that `account` holds as
    a guardian (as CaseContext lets one case be read); otherwise a 404 problem naming the first that
    is not, whichever channel it is on. `lock`: lock their rows until the transaction ends."""
    query = (select(Case)
             .join(CaseGrant, and_(CaseGrant.case_id == Case.id, CaseGrant.account_id == account.id,
                                   CaseGrant.holder == HOLDER_GUARDIAN))
             .where(Case.ref.in_(refs), Case.surge_day == surge_day))
    held = {case.ref: case for case in dbsession.scalars(query.with_for_update(of=Case) if lock else query)
            } if account.is_guardian else {}
    missing = next((ref for ref in refs if ref not in held), None)
    if missing is not None:
        raise Problem(404, _(JUNK_NOT_YOURS, mapping={"ref": missing}))
    return [held[ref] for ref in refs]


def close_as_junk(dbsession: Session, clock: Clock, account: Account, surge_day, refs, reason, *,
                  call_hook) -> JunkClosed:
    """Close the ticked cases of the surge of `surge_day` as junk (lifecycle.close_as_junk: no
    acknowledgement, no outcome, so no deadline reaches whoever sent them), each audited
    "case.closed_as_junk" with the reason's slug and the surge's day, nothing of its content; the
    plugins hear of each move and CaseMoved is published (the retention rules follow it).

    Every case must be one of that surge that `account` holds as a guardian (as CaseContext lets one
    case be read): otherwise a 404 problem and nothing changes, whichever channel it is on. A case
    closed already is left as it is and listed. A 422 problem for no case ticked, too many, or a
    reason not on the list."""
    wanted, reason = junk_choice(refs, reason)
    closed, already = [], []
    for case in surge_cases_held(dbsession, account, surge_day, wanted, lock=True):
        ref = case.ref
        try:
            before = lifecycle.close_as_junk(case, clock.today(), reason)
        except lifecycle.AlreadyClosed:
            already.append(ref)
            continue
        dbsession.flush()
        audit.record(dbsession, clock, actor=_actor(account), action="case.closed_as_junk", case_id=case.id,
                     detail={"from": before, "reason": reason, "surge_day": surge_day.isoformat()})
        lifecycle.announce_move(dbsession, case, before, lifecycle.CLOSED, call_hook=call_hook)
        closed.append(ref)
    return JunkClosed(closed=closed, already_closed=already)
