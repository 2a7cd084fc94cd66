"""A date rule that declares no windows (tests/functional/scheduler/test_date_rules.py): it asks
after every open case each seventh day since it was opened, so the tick must run it for every
open case every day."""
from whistle import hookimpl
from whistle.hooks.types import Action

RULE = "test.weekly"


@hookimpl
def whistle_escalate_on_schedule(case, today):
    days = (today - case.opened_on).days
    if days > 0 and days % 7 == 0:
        return [Action(kind="notify", rule=RULE)]
    return None
