"""What hooks receive and return: small frozen records, never ORM objects or keys.

`CaseInfo` is metadata only. `Disclosure` carries plaintext and is only ever passed to hooks
marked "Receives plaintext: yes", and only for plugins the organisation allowed plaintext.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

PRIORITIES = ("low", "normal", "high", "urgent")


@dataclass(frozen=True)
class CaseInfo:
    """A case as plugins see it: no content, no keys."""

    id: int
    ref: str
    channel: str
    status: str
    priority: str
    labels: tuple[str, ...]
    opened_on: date
    acknowledged_on: date | None
    ack_due: date
    feedback_due: date
    detriment: bool
    deadline_profile: str = "eu_directive"  # the channel's profile: whose rules apply to the dates


@dataclass(frozen=True)
class GuardianInfo:
    id: int
    username: str


@dataclass(frozen=True)
class Disclosure:
    """The reporter's words, decrypted. Plaintext: handle as the most sensitive data you have."""

    channel: str
    text: str
    answers: dict[str, Any]
    identity: dict[str, str] | None

    def texts(self, skip_answers: tuple[str, ...] = ()) -> list[str]:
        """The free text and every string in the answers, however nested (free text, chosen
        options, lists of them), leaving out the answers named in `skip_answers`."""
        return [self.text, *_strings({name: value for name, value in self.answers.items()
                                      if name not in skip_answers})]


def _strings(value: Any):
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from _strings(item)


@dataclass(frozen=True)
class CleanResult:
    """What `whistle_clean_file` made of a file: `cleaned`, the file without its hidden
    information; or None for a file of a kind the plugin knows but could not read (damaged, or not
    what its name says), which core then stores as it was sent. Plaintext: core encrypts it at once."""

    cleaned: bytes | None


@dataclass(frozen=True)
class Triage:
    """Labels to add and, optionally, a priority (one of PRIORITIES) to raise the case to."""

    labels: tuple[str, ...] = ()
    priority: str | None = None


@dataclass(frozen=True)
class Action:
    """Something an escalation rule or retaliation check wants done.

    kind: "notify" (tell guardians that something needs attention), "grant" (give them the
    case), or "raise_priority" (to `priority`). Who: `guardian_ids` if given, else `to`:
    "case" — the guardians who hold the case now (the default; for "grant" it means nobody new);
    "second_tier" — the channel's second-tier guardians, the escalation ladder's next rung. They
    hold a standby copy of the case from intake, so a grant reaches them even when no holder is
    logged in; a conflict of interest excluded at intake rules them out here too. If the
    channel has no second tier for this case, "notify" falls back to the case's holders.
    `rule` names the rule for the audit log: a code, never case content."""

    kind: str
    rule: str
    guardian_ids: tuple[int, ...] = ()
    priority: str | None = None
    to: str = "case"


# The dates of a case a ScheduleWindow can be counted from (CaseInfo's attributes of those names).
SCHEDULE_DATES = ("opened_on", "acknowledged_on", "ack_due", "feedback_due")


@dataclass(frozen=True)
class ScheduleWindow:
    """The days on which a plugin's date rules (`whistle_escalate_on_schedule`) can return
    actions for a case: from `first` to `last` days after the case's `date` (one of
    SCHEDULE_DATES; negative: before it), both included, and only for cases whose channel uses
    one of `profiles` (empty: any profile). "Two days before ack_due" is
    ScheduleWindow("ack_due", -2, -2); a rule counted in working days takes the widest span of
    calendar days it can fall on. The tick calls the hook for a case only on days inside one of
    its plugin's windows (and on any other days it catches up for that case at the same time)."""

    date: str
    first: int
    last: int
    profiles: tuple[str, ...] = ()


@dataclass(frozen=True)
class PersonnelEvent:
    """An HR event about one person, known to plugins only by a blind index of their number."""

    person_index: bytes
    type: str
    effective: date


@dataclass(frozen=True)
class Notice:
    """One content-free notification: who, and what kind of attention is needed."""

    recipient_id: int
    kind: str
    link: str  # where to sign in, in the recipient's language when they chose one
    # The language the recipient chose for their notices (a code of whistle.i18n.LANGUAGES), or
    # None: the channel writes as it is configured to (whistle_smtp.languages).
    language: str | None = None


class NotificationChannel(Protocol):
    """A way to tell a guardian that something needs them (email, webhook, chat...).

    A channel may also have `address_problem(address: str) -> str | None`: what is wrong with a
    guardian's address for it (a sentence for the form, naming no value; marked with
    whistle.i18n._ it is shown in the page's language), or None when it will do. Core calls it
    before storing an address; without it, any one-line address is accepted."""

    name: str

    def deliver(self, notice: Notice, address: str) -> None:
        """Send it, or raise: the outbox retries later. Never include case content."""


@dataclass(frozen=True)
class StatisticsExport:
    """A named export built from metadata only (labels, statuses, dates, counts)."""

    name: str
    title: str
    media_type: str
    build: Any = field(repr=False)  # callable(cases: list[CaseInfo], start: date, end: date) -> bytes
    # Optional: callable(figures: list[StatisticsFigure], start: date, end: date) -> bytes. When
    # given, core builds the export from the statistics of the cases opened from `start` to `end`
    # (whole months, every channel, small counts suppressed) instead of calling `build`.
    build_from_statistics: Any = field(default=None, repr=False)


@dataclass(frozen=True)
class StatisticsFigure:
    """One cell of the statistics (whistle.statistics), after suppression: `value` is None when
    the cell is suppressed (a count from 1 to 4, a cell hidden so that one cannot be worked out
    by subtraction, or a share or median of fewer than 5 cases).

    measure: "cases", "cases_by_channel", "cases_by_status", "cases_by_month", "cases_by_label",
    "cases_by_identity_mode", "detriment", "outcomes", "speak_up_again" (counts);
    "median_days_to_acknowledge", "median_days_to_feedback" (days); "share_anonymous",
    "acknowledged_within_7_days", "feedback_within_3_months", "share_would_speak_up_again"
    (whole percentages). group: what the count is of (a channel's slug, a status, "2026-04", a
    label...), "all" for a single figure."""

    measure: str
    group: str
    value: int | float | None
