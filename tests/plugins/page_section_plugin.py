"""A plugin that is also a Pyramid include: it adds a section to the guardian's case page (the
"case-page" slot), with values built from the page's (for tests/functional/test_page_sections.py)."""
from pathlib import Path

TEMPLATES = Path(__file__).parent / "templates"


def case_ref(request, page):
    case = page.get("case")
    if case is None or case.priority == "low":
        return None  # no section on this page
    return {"ref": case.ref, "account": request.identity.account.username}


def includeme(config):
    config.add_jinja2_search_path(str(TEMPLATES))
    config.add_page_section("case-page", "page_section_plugin.jinja2", case_ref)
