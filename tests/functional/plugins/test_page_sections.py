"""Named page slots (whistle.pages): an area or a plugin fills one from its includeme, and a slot
that no page declares is refused when the app starts, so a section cannot silently go missing."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from pyramid.exceptions import ConfigurationError
from sqlalchemy import select

from tests.factories import html_login, make_channel, make_staff, submit_api
from whistle.cases.models import Case
from whistle.config import make_configurator
from whistle.pages import SLOTS

TEMPLATES = Path(__file__).resolve().parents[3] / "whistle" / "templates"


def test_a_plugin_s_section_appears_in_its_slot_of_the_case_page(plugin_app, dbsession, settings, clock):
    make_channel(dbsession, "slot-line")
    guardian = make_staff(dbsession, settings, clock, "slot.keeper", channels=["slot-line"])
    app = plugin_app(["tests.plugins.page_section_plugin"])
    ref = submit_api(app, channel="slot-line")["case"]
    html_login(app, guardian, clock)

    page = app.get(f"/staff/cases/{ref}")
    section = page.html.find(id="plugin-section")
    assert section is not None, "the plugin's section is on the page"
    assert section.text == f"The plugin's section of {ref}, for slot.keeper, on a page about {ref}."
    assert page.html.find(id="retaliation-watch") is not None, "core's own section is still there"

    dbsession.scalars(select(Case).where(Case.ref == ref)).one().priority = "low"
    assert app.get(f"/staff/cases/{ref}").html.find(id="plugin-section") is None, "its builder left it out"


def test_a_section_for_a_slot_nobody_declared_stops_the_app_at_start_up(raw_settings, settings, clock):
    enabled = replace(settings, plugins=("tests.plugins.undeclared_slot_plugin",))
    with pytest.raises(ConfigurationError, match="there is no page slot 'case-pages'"):
        make_configurator(raw_settings, settings=enabled, clock=clock)


def test_each_declared_slot_is_on_a_page_and_pages_name_only_declared_slots():
    rendered = {name for path in TEMPLATES.rglob("*.jinja2")
                for name in re.findall(r"""page_sections\(["']([^"']+)["']""", path.read_text())}
    assert rendered == set(SLOTS)
