"""A plugin whose includeme adds a section to a slot nobody declared (for tests/functional/test_page_sections.py)."""


def includeme(config):
    config.add_page_section("case-pages", "whistle:templates/protection/case_section.jinja2",
                            lambda request, page: {})
