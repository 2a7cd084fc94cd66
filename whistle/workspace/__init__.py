"""The guardian's workspace: the inbox, the case page, and what a guardian does to a case, as pages and as JSON."""


def includeme(config) -> None:
    config.add_page_section("case-page", "whistle:templates/export/case_section.jinja2",
                            "whistle.workspace.export_views.export_section")
