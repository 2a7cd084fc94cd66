"""Review: urgent-risk triage on the young people's channel misses how children say they are in danger.

`make run` now enables the uk_childrens_complaints plugin for the shipped young people's channel,
so its urgent-risk triage decides whether a child's report reaches the safeguarding lead at once
or waits in the queue for up to ten working days. Its phrase list matches "he hits me" and
"kill myself", but not a death threat, "I am in danger", being beaten or hit in the passive, the
common spellings "kill my self" and "wanna die", or sexual abuse put in a child's own words.
"""
from __future__ import annotations

import pytest

from whistle_uk_childrens_complaints import signals_immediate_risk

SAID_BY_CHILDREN_IN_DANGER = [
    "He said he will kill me if I tell anyone.",
    "I am in danger at home.",
    "I get hit at home when I do something wrong.",
    "I get beaten with a belt.",
    "I want to kill my self.",
    "I wanna die.",
    "He touched my private parts.",
    "He makes me touch him.",
]


@pytest.mark.parametrize("words", SAID_BY_CHILDREN_IN_DANGER)
def test_a_child_saying_they_are_in_danger_is_triaged_as_urgent(words):
    assert signals_immediate_risk(words), f"not flagged urgent: {words!r}"
