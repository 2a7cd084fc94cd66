"""Retaliation watch: protections, HR integrations and their personnel events, reporter check-ins."""
from whistle.protection import sections
from whistle.protection.identity import integration_of
from whistle.protection.services import alerts_job


def includeme(config) -> None:
    config.add_token_resolver(integration_of)
    config.add_page_section("case-page", "whistle:templates/protection/case_section.jinja2", sections.case_page)
    config.add_page_section("inbox-row", "whistle:templates/protection/inbox_badge.jinja2", sections.inbox_row)
    config.add_page_section("mailbox-case", "whistle:templates/protection/reporter_section.jinja2",
                            sections.mailbox_case)
    # After the date rules, before delivery: yesterday's alerts' notices go out in this tick.
    config.add_scheduled_job("protection alerts", alerts_job, order=20)
