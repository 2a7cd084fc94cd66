"""A test plugin (loaded by dotted path): labels every new case and notifies its guardians."""
from whistle import hookimpl
from whistle.hooks.types import Action, Triage

LABEL = "label-marker-q7"


@hookimpl
def whistle_triage(case, disclosure):
    return Triage(labels=(LABEL,))


@hookimpl
def whistle_escalate_on_event(case, event):
    if event == "opened":
        return [Action(kind="notify", rule="test.opened")]
    return None
