"""Plugins used by the hook-system tests (loaded by dotted path)."""
from whistle import hookimpl
from whistle.hooks.types import Triage


class Counter:
    calls: list[str] = []


@hookimpl
def whistle_intake_fields(channel):
    Counter.calls.append(f"fields:{channel}")
    return [{"name": "site", "label": "Which site?", "type": "text", "required": False}]


@hookimpl
def whistle_triage(case, disclosure):
    Counter.calls.append("triage")
    return Triage(labels=("safeguarding",) if "child" in disclosure.text else (), priority=None)


class Raising:
    """Raises in every hook it implements."""

    @hookimpl
    def whistle_intake_fields(self, channel):
        raise RuntimeError(f"secret content {channel}")

    @hookimpl
    def whistle_triage(self, case, disclosure):
        raise RuntimeError(disclosure.text)


raising = Raising()


class Misspelt:
    @hookimpl
    def whistle_triage_disclosure(self, case):
        return None


misspelt = Misspelt()
