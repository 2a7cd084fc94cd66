"""A plugin that returns, beside what core can use, what it cannot (for the one rule for malformed
results: tests/functional/plugins/test_malformed_results.py and the tick's tests)."""
from whistle import hookimpl
from whistle.hooks.types import Action

WORDS = "the words of a disclosure"


@hookimpl
def whistle_triage(case, disclosure):
    return WORDS  # not a Triage


@hookimpl
def whistle_escalate_on_event(case, event):
    if event == "opened":
        return [{"kind": "notify", "note": WORDS}, Action(kind="notify", rule="sloppy.opened")]
    return None


@hookimpl
def whistle_escalate_on_schedule(case, today):
    return [42]


@hookimpl
def whistle_personnel_event(event, protected):
    return Action(kind="notify", rule="sloppy.bare")  # one action, not in a list: carried out all the same


@hookimpl
def whistle_checkin_answer(case, detriment):
    return [WORDS, Action(kind="raise_priority", rule="sloppy.up", priority="high")]
