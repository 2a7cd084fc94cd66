"""A plugin that records the order in which core calls it at intake, triages, and escalates a new
case to its channel's second tier (for tests/functional/plugins/test_intake_order.py)."""
from whistle import hookimpl
from whistle.hooks.types import Action, Triage

CALLS: list[str] = []
RULE = "order.second-tier"


@hookimpl
def whistle_route_guardians(case, candidates):
    CALLS.append("whistle_route_guardians")


@hookimpl
def whistle_excluded_guardians(case, disclosure, candidates):
    CALLS.append("whistle_excluded_guardians")


@hookimpl
def whistle_triage(case, disclosure):
    CALLS.append("whistle_triage")
    return Triage(labels=("ordered",), priority="high")


@hookimpl
def whistle_case_opened(case):
    CALLS.append(f"whistle_case_opened:{case.priority}:{','.join(case.labels)}")


@hookimpl
def whistle_escalate_on_event(case, event):
    CALLS.append(f"whistle_escalate_on_event:{event}")
    return [Action(kind="grant", rule=RULE, to="second_tier")] if event == "opened" else None


@hookimpl
def whistle_case_escalated(case, action):
    CALLS.append(f"whistle_case_escalated:{action.kind}")
