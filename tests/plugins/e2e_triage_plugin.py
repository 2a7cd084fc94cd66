"""A plugin that records what its plaintext hooks are given, and escalates every new case to its
channel's second tier (for tests/functional/end_to_end)."""
from whistle import hookimpl
from whistle.hooks.types import Action, Triage

CALLS: list[tuple] = []


@hookimpl
def whistle_route_guardians(case, candidates):
    CALLS.append(("route",))


@hookimpl
def whistle_excluded_guardians(case, disclosure, candidates):
    CALLS.append(("excluded", disclosure))


@hookimpl
def whistle_triage(case, disclosure):
    CALLS.append(("triage", disclosure))
    return Triage(labels=("urgent-risk",), priority="high") if disclosure.answers.get("ongoing") == "yes" else None


@hookimpl
def whistle_case_opened(case):
    CALLS.append(("opened", case.priority))


@hookimpl
def whistle_escalate_on_event(case, event):
    return [Action(kind="grant", rule="e2e.second-tier", to="second_tier")] if event == "opened" else None
