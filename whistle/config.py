"""The Configurator, built in one readable order: settings, database, security, areas, routes."""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Mapping

from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from pyramid.renderers import JSON

from whistle.clock import Clock
from whistle.hooks import plugin_settings
from whistle.request import WhistleRequest
from whistle.security.acl import Root
from whistle.settings import Settings, load_settings
from whistle import words
from whistle.words import day_words, size_words


def _json_renderer() -> JSON:
    renderer = JSON()
    renderer.add_adapter(date, lambda value, request: value.isoformat())
    # SQLite hands back naive datetimes; everything stored is UTC, so say so.
    renderer.add_adapter(datetime, lambda value, request: (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).isoformat())
    return renderer


def _template_globals(event) -> None:
    request = event["request"]
    if request is not None:
        event["csrf_token"] = lambda: get_csrf_token(request)
    event["size_words"] = size_words  # file sizes and limits in MB and GB, as people read them
    event["day_words"] = day_words  # "4 March 2027"
    # Staff pages: a moment with its zone ("4 Dec 2026, 14:05 GMT"), and the code's names as labels.
    zone = request.whistle_settings.display_timezone if request is not None else None
    event["when"] = lambda moment: words.time_words(moment, zone) if zone else words.time_words(moment)
    event["words"] = words


def make_configurator(raw_settings: Mapping[str, Any], *, settings: Settings | None = None, clock: Clock | None = None) -> Configurator:
    """Everything but `make_wsgi_app()`; tests pass ready-made `settings` and a movable `clock`."""
    config = Configurator(settings=dict(raw_settings), root_factory=Root, request_factory=WhistleRequest)
    config.registry.whistle_settings = settings or load_settings(raw_settings)
    config.registry.clock = clock or Clock()
    config.add_request_method(lambda request: request.registry.whistle_settings, "whistle_settings", reify=True)
    config.add_request_method(lambda request: request.registry.clock, "clock", reify=True)

    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    config.add_renderer("json", _json_renderer())
    config.add_subscriber(_template_globals, BeforeRender)

    config.include("whistle.db")
    config.include("whistle.security")
    config.include("whistle.pages")
    config.include("whistle.accounts")
    config.include("whistle.reporters")
    config.include("whistle.audit")
    config.include("whistle.events")
    config.include("whistle.jobs")
    # --- scheduled work (issue 6, part A): the .ini keys plugins get through whistle_configure ---
    config.registry.raw_plugin_settings = plugin_settings(raw_settings)
    config.include("whistle.hooks")
    config.include("whistle.errors")
    config.include("whistle.health")
    config.include("whistle.routes")
    config.include("whistle.openapi")
    # Areas: each module holds its own views.
    config.scan("whistle.intake.views")
    config.scan("whistle.accounts.views")
    config.scan("whistle.workspace.views")
    # --- the reporter's mailbox (issue 3) ---
    config.include("whistle.attachments")
    config.include("whistle.notifications")
    config.include("whistle.escalations")
    config.scan("whistle.reporters.views")
    config.scan("whistle.attachments.views")
    # --- the guardian's workspace and admin area (issue 4) ---
    config.scan("whistle.workspace.actions_views")
    config.scan("whistle.workspace.files_views")
    config.scan("whistle.accounts.staff_views")
    config.scan("whistle.notifications.views")
    config.scan("whistle.admin.views")
    # --- plugins: hooks wired into core, retaliation watch (issue 5) ---
    config.include("whistle.protection")  # part Y: retaliation watch
    config.scan("whistle.protection.views")  # part Y
    config.scan("whistle.reporters.protection_views")
    config.scan("whistle.workspace.protection_views")
    # Plugins that are also Pyramid includes, after core: they find its directives (page sections,
    # scheduled jobs, event subscribers) and its routes.
    for include in config.registry.hooks.includes():
        config.include(include)
    return config
