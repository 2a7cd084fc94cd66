"""Notifications: the content-free outbox, the guardian's notice preferences, and delivery by the tick."""
from whistle.accounts.events import AccountRecovered
from whistle.cases.events import CaseGiven, CaseOpened, CaseWithdrawn, ReporterWrote
from whistle.notifications.delivery import delivery_job
from whistle.notifications.services import (
    tell_of_account_recovery,
    tell_of_case_given,
    tell_of_new_report,
    tell_of_reporter_writing,
    tell_of_withdrawal,
)


def includeme(config) -> None:
    config.add_event_subscriber(AccountRecovered, tell_of_account_recovery)
    config.add_event_subscriber(CaseOpened, tell_of_new_report)
    config.add_event_subscriber(CaseGiven, tell_of_case_given)
    config.add_event_subscriber(ReporterWrote, tell_of_reporter_writing)
    config.add_event_subscriber(CaseWithdrawn, tell_of_withdrawal)
    # Last of the tick's jobs: it delivers what the jobs before it queued.
    config.add_scheduled_job("notifications", delivery_job, order=30)
