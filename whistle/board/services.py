"""Publishing "you said, we did" entries from a case of a board channel, editing and unpublishing
them, the public list, and the reporter's consent to be quoted."""
from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from whistle import audit
from whistle.board.models import BoardEntry
from whistle.cases.models import Case
from whistle.clock import Clock
from whistle.errors import Problem, validation_problem
from whistle.i18n import _

MAX_TITLE = 120
MAX_TEXT = 2000
NOT_A_BOARD_CHANNEL = _("This channel does not publish on the “you said, we did” board.")
NOT_A_BOARD_PROBLEM = "/api/v1/problems/not-a-board-channel"
CONSENT_LOCKED = _("An entry about this idea has been published already, so whether your words may be quoted can no "
                   "longer be changed here.")
CONSENT_LOCKED_PROBLEM = "/api/v1/problems/board-consent-locked"


def check_entry(title, you_said, we_did) -> dict[str, str]:
    """The entry's three texts, stripped; a 422 problem naming each field that is empty, too long
    or not text."""
    given = {"title": (title, MAX_TITLE), "you_said": (you_said, MAX_TEXT), "we_did": (we_did, MAX_TEXT)}
    errors, clean = {}, {}
    for name, (value, limit) in given.items():
        if not isinstance(value, str) or not value.strip():
            errors[name] = _("Write something here.")
        elif len(value.strip()) > limit:
            errors[name] = _("At most ${limit} characters.", mapping={"limit": limit})
        else:
            clean[name] = value.strip()
    if errors:
        raise validation_problem(errors)
    return clean


def _board_channel(case: Case) -> None:
    if not case.channel.board:
        raise Problem(409, NOT_A_BOARD_CHANNEL, type=NOT_A_BOARD_PROBLEM, title="Not a board channel")


def publish(dbsession: Session, clock: Clock, case: Case, account_id: int, *, title, you_said, we_did) -> BoardEntry:
    """Publish an entry about `case` on the public board, in the guardian's own words; audited
    (ids only). A 409 problem on a channel without the board, a 422 one for a faulty text."""
    _board_channel(case)
    clean = check_entry(title, you_said, we_did)
    entry = BoardEntry(channel_id=case.channel_id, case_id=case.id, account_id=account_id,
                       published_on=clock.today(), **clean)
    dbsession.add(entry)
    dbsession.flush()
    audit.record(dbsession, clock, actor=f"account:{account_id}", action="board.published", case_id=case.id,
                 detail={"entry_id": entry.id})
    return entry


def edit(dbsession: Session, clock: Clock, entry: BoardEntry, account_id: int, *, title, you_said,
         we_did) -> None:
    clean = check_entry(title, you_said, we_did)
    for name, value in clean.items():
        setattr(entry, name, value)
    entry.edited_on = clock.today()
    audit.record(dbsession, clock, actor=f"account:{account_id}", action="board.edited", case_id=entry.case_id,
                 detail={"entry_id": entry.id})


def unpublish(dbsession: Session, clock: Clock, entry: BoardEntry, account_id: int | None) -> None:
    """Take the entry off the board: it is deleted (the audit log keeps that it was). `account_id`
    None: an operator's command (`whistle board remove`), for an entry whose case is gone."""
    actor = "system" if account_id is None else f"account:{account_id}"
    audit.record(dbsession, clock, actor=actor, action="board.unpublished", case_id=entry.case_id,
                 detail={"entry_id": entry.id})
    dbsession.delete(entry)
    dbsession.flush()


def entries_of(dbsession: Session, case: Case) -> list[BoardEntry]:
    """The entries published about `case`, oldest first."""
    return list(dbsession.scalars(select(BoardEntry).where(BoardEntry.case_id == case.id).order_by(BoardEntry.id)))


def entry_of(dbsession: Session, case: Case, entry_id) -> BoardEntry | None:
    """The entry `entry_id` if it is about `case` (an entry of another case is as good as none)."""
    entry = dbsession.get(BoardEntry, entry_id) if isinstance(entry_id, int) else None
    return entry if entry is not None and entry.case_id == case.id else None


def public_entries(dbsession: Session) -> list[BoardEntry]:
    """Every entry on the board, newest first."""
    return list(dbsession.scalars(select(BoardEntry).order_by(BoardEntry.published_on.desc(), BoardEntry.id.desc())))


def any_published(dbsession: Session) -> bool:
    return bool(dbsession.scalar(select(exists().where(BoardEntry.id.isnot(None)))))


def set_consent(dbsession: Session, clock: Clock, case: Case, consent: bool) -> bool:
    """The reporter agrees (or no longer agrees) that an entry may quote their words; audited
    (the choice only). A 409 problem on a channel without the board, or once an entry about the
    case is published. Returns whether it changed."""
    _board_channel(case)
    if entries_of(dbsession, case):
        raise Problem(409, CONSENT_LOCKED, type=CONSENT_LOCKED_PROBLEM, title="Already published")
    if case.board_consent == consent:
        return False
    case.board_consent = consent
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="reporter.board_consent", case_id=case.id,
                 detail={"consent": consent})
    return True
