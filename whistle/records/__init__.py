"""Records: how long cases are kept (retention), legal hold, the 30-day notice, and the purge."""
from whistle.cases.events import CaseMoved
from whistle.records import sections
from whistle.records.services import keep_delete_on, records_job


def includeme(config) -> None:
    config.add_event_subscriber(CaseMoved, keep_delete_on)
    config.add_page_section("case-page", "whistle:templates/records/case_section.jinja2", sections.case_page)
    config.add_page_section("inbox-row", "whistle:templates/records/inbox_badge.jinja2", sections.inbox_row)
    # After the date rules and the protection alerts, before delivery: its notices go out in this tick.
    config.add_scheduled_job("records", records_job(config.registry.blob_store), order=25)
