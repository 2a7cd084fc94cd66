"""Named places in pages that other areas, and plugins, fill: page sections.

A page template renders a slot by its name:

    {% for section in page_sections("case-page") %}{% include section.template %}{% endfor %}

and an area (or a plugin that is also a Pyramid include) fills it from its includeme:

    config.add_page_section("case-page", "whistle:templates/protection/case_section.jinja2", build)

`build(request, page)` gets the request and the page's values (what its view returned) and
returns the section's values, which its template reads as `section.data`; or None to leave the
section out of this page. A section's template is included into the page, so it also sees the
page's own values and macros. Sections appear in the order they were added; each slot's builders
run once per page, however often the page renders the slot (once per row of a table, say).

The slots are declared here, in SLOTS, and nowhere else: adding a section to a slot nobody
declared stops the app at start-up, so a section cannot silently go missing.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pyramid.events import BeforeRender
from pyramid.exceptions import ConfigurationError

# Every slot, with the page it is on and where.
SLOTS: dict[str, str] = {
    "case-page": "the guardian's case page (cases/show.jinja2), after the files",
    "inbox-row": "each row of the guardian's inbox (cases/inbox.jinja2), after the case's labels",
    "mailbox-case": "the reporter's case page (reporters/case.jinja2), after who they are",
}

# build(request, the page's values) -> the section's values, or None for no section on this page
SectionBuilder = Callable[[Any, Mapping[str, Any]], Mapping[str, Any] | None]


@dataclass(frozen=True)
class Section:
    template: str
    data: Mapping[str, Any]


def add_page_section(config, slot: str, template: str, build: SectionBuilder) -> None:
    """The config directive: fill `slot` with `template`, whose values `build` makes."""
    if slot not in SLOTS:
        raise ConfigurationError(f"there is no page slot {slot!r} (slots: {', '.join(SLOTS)}); "
                                 "declare a new one in whistle.pages.SLOTS")
    config.registry.page_sections.setdefault(slot, []).append((template, config.maybe_dotted(build)))


def _sections_for_page(event) -> None:
    """Give the page's template `page_sections(slot)`: the filled sections of a slot."""
    request = event.get("request")
    if request is None:
        return
    page, registered, made = event.rendering_val, request.registry.page_sections, {}

    def page_sections(slot: str) -> list[Section]:
        if slot not in SLOTS:
            raise KeyError(f"there is no page slot {slot!r}")
        if slot not in made:
            values = page if isinstance(page, Mapping) else {}
            made[slot] = [Section(template, data) for template, build in registered.get(slot, ())
                          if (data := build(request, values)) is not None]
        return made[slot]

    event["page_sections"] = page_sections


def includeme(config) -> None:
    config.registry.page_sections = {}
    config.add_directive("add_page_section", add_page_section)
    config.add_subscriber(_sections_for_page, BeforeRender)
