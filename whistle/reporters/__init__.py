"""The reporter's side after submitting: coming back with the receipt, the case mailbox."""
from whistle.reporters import sections
from whistle.reporters.identity import load_reporter, load_reporter_e2e
from whistle.sessions.models import REPORTER, REPORTER_E2E


def includeme(config) -> None:
    config.add_identity_loader(REPORTER, load_reporter)
    config.add_identity_loader(REPORTER_E2E, load_reporter_e2e)
    config.add_page_section("case-page", "whistle:templates/reporters/guardian_speak_up.jinja2", sections.case_page)
