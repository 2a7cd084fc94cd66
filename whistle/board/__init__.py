"""The "you said, we did" board: what an improvement lead publishes about ideas that were acted on."""
from whistle.board import sections


def includeme(config) -> None:
    config.add_page_section("case-page", "whistle:templates/board/case_section.jinja2", sections.case_page)
    config.add_page_section("mailbox-case", "whistle:templates/board/mailbox_section.jinja2", sections.mailbox_case)
