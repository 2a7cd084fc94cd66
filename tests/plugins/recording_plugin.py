"""A plugin that records the lifecycle hooks core fires, and asks for escalations (for tests)."""
from whistle import hookimpl
from whistle.hooks.types import Action

CALLS: list[tuple] = []


@hookimpl
def whistle_case_opened(case):
    CALLS.append(("opened", case.ref))


@hookimpl
def whistle_status_changed(case, old, new):
    CALLS.append(("status_changed", case.ref, old, new))


@hookimpl
def whistle_case_acknowledged(case):
    CALLS.append(("acknowledged", case.ref, case.acknowledged_on is not None))


@hookimpl
def whistle_case_closed(case):
    CALLS.append(("closed", case.ref, case.status))


@hookimpl
def whistle_reporter_message(case):
    CALLS.append(("reporter_message", case.ref))


@hookimpl
def whistle_case_escalated(case, action):
    CALLS.append(("escalated", case.ref, action.rule, case.priority))


@hookimpl
def whistle_escalate_on_event(case, event):
    CALLS.append(("event", case.ref, event))
    if event == "reporter_message":
        return [Action(kind="raise_priority", rule="test.reporter-wrote", priority="high")]
    return None
