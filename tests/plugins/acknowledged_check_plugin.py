"""A date rule of its own, with its window declared (tests/functional/scheduler/test_date_rules.py):
a check on the investigation five days after the case was acknowledged."""
from whistle import hookimpl
from whistle.hooks.types import Action, ScheduleWindow

CHECK_AFTER_DAYS = 5
RULE = "test.investigation-check"


@hookimpl
def whistle_schedule_windows():
    return [ScheduleWindow("acknowledged_on", CHECK_AFTER_DAYS, CHECK_AFTER_DAYS)]


@hookimpl
def whistle_escalate_on_schedule(case, today):
    if case.acknowledged_on is not None and (today - case.acknowledged_on).days == CHECK_AFTER_DAYS:
        return [Action(kind="notify", rule=RULE)]
    return None
