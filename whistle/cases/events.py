"""What happens to a case that other areas react to: the domain events (whistle.events).

Defined here, with the case, so that the areas that react (notifications, escalations) can
subscribe without importing the areas that publish (intake, reporters). Each event names who
publishes it; subscribers run in the publisher's transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from whistle.cases.models import Case
from whistle.cases.services import CaseKeys
from whistle.key_directory.services import Directory


@dataclass(frozen=True)
class CaseOpened:
    """A new case was stored, routed to its guardians and triaged (published by intake, after
    `whistle_case_opened`). `keys`: the case's keys, in memory at intake only, so that an escalation
    rule can still give the case to someone new (None for a case built on the reporter's device:
    the server never had them); `excluded`: the guardians left out for a
    conflict of interest, who get neither the case nor notices about it; `directory`: the signed
    key directory the case was sealed with (None: there was no usable one), the only keys an
    escalation rule may seal it to."""

    case: Case
    keys: CaseKeys | None = field(repr=False)
    excluded: frozenset[int] = frozenset()
    directory: Directory | None = field(default=None, repr=False)


@dataclass(frozen=True)
class CaseMoved:
    """A guardian moved the case from status `old` to `new` (published by whistle.cases.lifecycle,
    after the plugins' lifecycle hooks)."""

    case: Case
    old: str
    new: str


@dataclass(frozen=True)
class CaseGiven:
    """A guardian gave the case to other guardians, by a grant or a transfer (published by
    whistle.cases.actions); `account_ids`: who holds it now because of that."""

    case: Case
    account_ids: tuple[int, ...]


@dataclass(frozen=True)
class ReporterWrote:
    """The reporter sent a message, files, or both, in one post (published by whistle.reporters)."""

    case: Case
    message: bool
    files: bool


@dataclass(frozen=True)
class CaseWithdrawn:
    """The reporter withdrew their report, which closed the case (published by whistle.reporters,
    after CaseMoved)."""

    case: Case
