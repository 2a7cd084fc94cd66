"""Escalations: carrying out the actions plugins return, plugins' rules on events, and each case's date rules."""
from whistle.cases.events import CaseMoved, CaseOpened, ReporterWrote
from whistle.escalations.schedule import schedule_job
from whistle.escalations.services import escalate_moved, escalate_opened, escalate_reporter_message


def includeme(config) -> None:
    config.add_event_subscriber(CaseOpened, escalate_opened)
    config.add_event_subscriber(CaseMoved, escalate_moved)
    config.add_event_subscriber(ReporterWrote, escalate_reporter_message)
    # First of the tick's jobs: the notices the date rules queue go out in the same tick.
    config.add_scheduled_job("escalations", schedule_job, order=10)
