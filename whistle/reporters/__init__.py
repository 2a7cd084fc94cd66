"""The reporter's side after submitting: coming back with the receipt, the case mailbox."""
from whistle.reporters.identity import load_reporter
from whistle.sessions.models import REPORTER


def includeme(config) -> None:
    config.add_identity_loader(REPORTER, load_reporter)
