"""Conflict-of-interest exclusion: guardians named in a disclosure, or whom the reporter excluded."""
from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from whistle.hooks import Hooks
from whistle.hooks.types import CaseInfo, Disclosure, GuardianInfo
from whistle_conflicts import excluded, name_terms

CASE = CaseInfo(id=1, ref="POIUY-LKJHG", channel="staff", status="received", priority="normal", labels=(),
                opened_on=date(2026, 5, 1), acknowledged_on=None, ack_due=date(2026, 5, 8),
                feedback_due=date(2026, 8, 8), detriment=False)

GUARDIANS = [
    GuardianInfo(id=1, username="j.smith"),
    GuardianInfo(id=2, username="priya_patel"),
    GuardianInfo(id=3, username="al-khan"),
    GuardianInfo(id=4, username="will.o-brien"),
    GuardianInfo(id=5, username="guardian2"),
]


def disclosure(text: str = "", **answers) -> Disclosure:
    return Disclosure(channel="staff", text=text, answers=answers, identity=None)


def test_name_terms_keep_the_username_and_its_distinctive_parts():
    assert name_terms("j.smith") == {"j.smith", "smith"}
    assert name_terms("Will.O-Brien") == {"will.o-brien", "brien"}  # "will" is a common word, "o" too short
    assert name_terms("al-khan") == {"al-khan", "khan"}


@pytest.mark.parametrize(("text", "ids"), [
    ("Mr SMITH shouted at the night staff", [1]),
    ("I told j.smith and nothing happened", [1]),
    ("Priya said it was fine; Dr Khan disagreed", [2, 3]),
    ("o'brien's ward is understaffed", [4]),
    ("priya_patel signed the rota", [2]),
])
def test_guardians_named_in_the_text_are_excluded(text, ids):
    assert excluded(disclosure(text), GUARDIANS) == ids


def test_guardians_named_in_an_answer_are_excluded():
    assert excluded(disclosure("see the form", who=["the charge nurse", "Patel"], where="ward 3"), GUARDIANS) == [2]


@pytest.mark.parametrize("text", [
    "A locksmith changed the locks",          # "smith" inside a word
    "J was there, and so was Al",              # one- and two-letter parts are ignored
    "I will report it to the guardian again",  # common-word parts and role words are ignored
    "The Smithsons complained",                # a longer name is another person
    "Khanate history lesson",
])
def test_no_false_positives(text):
    assert excluded(disclosure(text), GUARDIANS) == []


def test_the_reporter_can_exclude_guardians_by_list_or_comma_separated_string():
    assert excluded(disclosure("nothing named", exclude_guardians=["AL-KHAN", "guardian2"]), GUARDIANS) == [3, 5]
    assert excluded(disclosure("nothing named", exclude_guardians=" j.smith , priya_patel,"), GUARDIANS) == [1, 2]
    # The request names whole usernames: a part of one excludes nobody.
    assert excluded(disclosure("nothing named", exclude_guardians="smith"), GUARDIANS) == []


def test_a_malformed_exclusion_answer_is_ignored_not_fatal():
    assert excluded(disclosure("nothing named", exclude_guardians=42), GUARDIANS) == []


def test_called_through_the_hook_only_with_plaintext_allowed():
    arguments: dict[str, Any] = {"case": CASE, "disclosure": disclosure("Mr Smith again"), "candidates": GUARDIANS}
    assert Hooks.from_names(["conflicts"]).call("whistle_excluded_guardians", **arguments) == []
    allowed = Hooks.from_names(["conflicts"], plaintext_allowed=["conflicts"])
    assert allowed.call("whistle_excluded_guardians", **arguments) == [[1]]
    nobody = {**arguments, "disclosure": disclosure("the rota is unfair")}
    assert allowed.call("whistle_excluded_guardians", **nobody) == []
