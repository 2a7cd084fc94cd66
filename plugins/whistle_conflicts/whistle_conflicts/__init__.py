"""Conflict-of-interest exclusion: a guardian named in a disclosure never sees it.

Two reasons to exclude a guardian from a new case:

1. The disclosure names them: their username, or a part of it (split on ".", "_" and "-") of
   at least three letters, appears as a whole word in the text or any answer, ignoring case.
   "j.smith" is excluded by "Mr Smith shouted" but not by "a locksmith" or by "J".
2. The reporter asked: an answer named `exclude_guardians` (a list of usernames, or one string
   of them separated by commas) names them.

Over-matching is the safe direction (a guardian who wrongly gets no grant is a nuisance; one
who reads a report about themselves is a harm), but parts that are everyday words ("will",
"mark", "guardian") would exclude someone from half the cases, so those parts are ignored and
only the rest of the username counts.
"""
from __future__ import annotations

import re
from typing import Any

from whistle import hookimpl
from whistle.hooks.types import CaseInfo, Disclosure, GuardianInfo

EXCLUDE_ANSWER = "exclude_guardians"
MIN_PART_LENGTH = 3

# Username parts that are also common words (or role words every disclosure uses): matching
# them would exclude a guardian for no reason. A full username still matches as a whole.
COMMON_WORDS = frozenset({
    "admin", "guardian", "staff", "team", "user", "test", "nhs", "the", "and",
    "will", "may", "mark", "bill", "rose", "grace", "hope", "joy", "faith", "amber", "dawn",
    "sky", "summer", "april", "june", "rich", "frank", "young", "king", "white", "black", "green",
    "brown", "long", "little", "hill", "wood", "well", "page", "hall", "best", "rock",
})


def name_terms(username: str) -> set[str]:
    """What counts as naming this guardian: the username, and its distinctive parts."""
    parts = {part for part in re.split(r"[._\-]+", username.lower()) if part}
    terms = {part for part in parts if len(part) >= MIN_PART_LENGTH and part not in COMMON_WORDS}
    return terms | {username.lower()}


def _mentions(text: str, term: str) -> bool:
    # Lookarounds rather than \b, so that a username beginning or ending in punctuation still
    # has to stand as a whole word.
    return re.search(rf"(?<![\w]){re.escape(term)}(?![\w])", text, re.IGNORECASE) is not None


def requested_exclusions(answers: dict[str, Any]) -> set[str]:
    """Usernames the reporter asked to exclude, lower-cased."""
    requested = answers.get(EXCLUDE_ANSWER)
    if isinstance(requested, str):
        requested = requested.split(",")
    if not isinstance(requested, (list, tuple)):
        return set()
    return {name.strip().lower() for name in requested if isinstance(name, str) and name.strip()}


def excluded(disclosure: Disclosure, candidates: list[GuardianInfo]) -> list[int]:
    requested = requested_exclusions(disclosure.answers)
    texts = disclosure.texts(skip_answers=(EXCLUDE_ANSWER,))
    ids = []
    for guardian in candidates:
        named = any(_mentions(text, term) for term in name_terms(guardian.username) for text in texts)
        if named or guardian.username.lower() in requested:
            ids.append(guardian.id)
    return ids


@hookimpl
def whistle_excluded_guardians(case: CaseInfo, disclosure: Disclosure,
                               candidates: list[GuardianInfo]) -> list[int] | None:
    return excluded(disclosure, candidates) or None
