"""Staff accounts: enrolment, password and TOTP sign-in, the sign-in pause, each account's own settings."""
from whistle.accounts.identity import load_staff
from whistle.sessions.models import STAFF


def includeme(config) -> None:
    config.add_identity_loader(STAFF, load_staff)
