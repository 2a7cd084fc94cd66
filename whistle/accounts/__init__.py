"""Staff accounts: enrolment, password and TOTP sign-in, the pauses of failing clients, each account's own settings."""
from pyramid.events import BeforeRender

from whistle.accounts.identity import load_staff, page_meta_global
from whistle.accounts.services import recovery_failures_job, sign_in_throttles_job
from whistle.sessions.models import STAFF


def includeme(config) -> None:
    config.add_identity_loader(STAFF, load_staff)
    config.add_subscriber(page_meta_global, BeforeRender)
    # After the others: it only writes to the audit log, and says nothing when nothing is recorded.
    config.add_scheduled_job("recovery failures", recovery_failures_job, order=40)
    config.add_scheduled_job("sign-in throttles", sign_in_throttles_job, order=40)
