"""The Configurator, the composition root, in one readable order: settings, foundation, delivery, the areas,
views, plugins."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from pyramid.config import Configurator
from pyramid.csrf import get_csrf_token
from pyramid.events import BeforeRender
from pyramid.renderers import JSON

from whistle import crypto, words
from whistle.clock import Clock, ReportersClock
from whistle.hooks import plugin_settings
from whistle.i18n import LANGUAGES, english, localized, path_in_language
from whistle.request import WhistleRequest
from whistle.security.acl import Root
from whistle.security.headers import page_script
from whistle.settings import Settings, load_settings
from whistle.words import day_words, size_words


def _trim_translated_blocks(config) -> None:
    config.get_jinja2_environment(".jinja2").policies["ext.i18n.trimmed"] = True


def _json_datetime(value: datetime) -> str:
    # SQLite hands back naive datetimes; everything stored is UTC, so say so.
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


class _JSONRenderer(JSON):
    """Pyramid's JSON renderer, with dates and datetimes (most of what a list's rows hold that JSON
    has no type for) written directly instead of through its adapter registry; and in English: a
    marked (translatable) value anywhere in the answer is given as its English text, its markers
    filled, whatever the address's language (whistle.i18n.english)."""

    def __call__(self, info):
        render = super().__call__(info)
        return lambda value, system: render(english(value), system)

    def _make_default(self, request):
        adapted = super()._make_default(request)

        def default(value):
            kind = type(value)
            if kind is datetime:
                return _json_datetime(value)
            if kind is date:
                return value.isoformat()
            return adapted(value)

        return default


def _json_renderer() -> JSON:
    renderer = _JSONRenderer()
    renderer.add_adapter(date, lambda value, request: value.isoformat())
    renderer.add_adapter(datetime, lambda value, request: _json_datetime(value))
    return renderer


def _template_globals(event) -> None:
    request = event["request"]
    if request is not None:
        event["csrf_token"] = lambda: get_csrf_token(request)
        # {{ module_script('intake.js') }}: the page loads that script, and gets the CSP that allows it.
        event["module_script"] = lambda name: page_script(request, name)
    event["size_words"] = size_words  # file sizes and limits in MB and GB, as people read them
    event["day_words"] = day_words  # "4 March 2027"
    # Labels handed to the page's scripts as JSON, translated here: tojson would give their English.
    event["localized"] = localized
    # Staff pages: a moment with its zone ("4 Dec 2026, 14:05 GMT"), and the code's names as labels.
    zone = request.whistle_settings.display_timezone if request is not None else None
    event["when"] = lambda moment: words.time_words(moment, zone) if zone else words.time_words(moment)
    event["words"] = words
    if request is not None:
        event["language"] = request.language  # <html lang dir>, and the other languages' links
        event["languages"] = LANGUAGES
        event["path_in_language"] = lambda code, here=True: path_in_language(request, code, here=here)


# The routes a reporter uses: what is recorded while serving them is dated to the day (ReportersClock).
REPORTERS_ROUTES = ("intake.", "reporters.", "api.reporter_", "api.disclosures")


def _clock(request) -> Clock:
    route = request.matched_route
    if route is not None and route.name.startswith(REPORTERS_ROUTES):
        return ReportersClock(request.registry.clock)
    return request.registry.clock


def make_configurator(raw_settings: Mapping[str, Any], *, settings: Settings | None = None,
                      clock: Clock | None = None) -> Configurator:
    """Everything but `make_wsgi_app()`; tests pass ready-made `settings` and a movable `clock`."""
    config = Configurator(settings=dict(raw_settings), root_factory=Root, request_factory=WhistleRequest)
    config.registry.whistle_settings = settings or load_settings(raw_settings)
    config.registry.clock = clock or Clock()
    # Process-wide: at most this many Argon2id derivations at once (docs/operations.md 6.1).
    crypto.bound_argon2id(config.registry.whistle_settings.kdf_concurrency,
                          config.registry.whistle_settings.kdf_wait)
    config.add_request_method(lambda request: request.registry.whistle_settings, "whistle_settings", reify=True)
    # Not reified: the route, which decides the clock, is matched after the request begins.
    config.add_request_method(_clock, "clock", property=True)

    # Templates translate (whistle/i18n): `{% trans %}` and `_()` look up the "whistle" catalogue, and a
    # marked value a view hands over is printed translated.
    config.get_settings().setdefault("jinja2.i18n.domain", "whistle")
    config.get_settings().setdefault("jinja2.finalize", "whistle.i18n.finalize")
    config.include("pyramid_jinja2")
    config.add_jinja2_renderer(".jinja2")
    # A {% trans %} block's line breaks and indentation are not part of its message (babel.cfg
    # extracts with `trimmed` too), so translators see one line of words, not the template's layout.
    config.action(None, lambda: _trim_translated_blocks(config), order=999)
    config.add_renderer("json", _json_renderer())
    config.add_subscriber(_template_globals, BeforeRender)

    # --- foundation: the database, security, audit, events, scheduled jobs, the plugins ---
    config.include("whistle.i18n")
    config.include("whistle.db")
    config.include("whistle.security")
    config.include("whistle.audit")
    config.include("whistle.events")
    config.include("whistle.jobs")
    config.include("whistle.throttles")
    # After the areas' jobs, so a checkpoint covers what they recorded.
    config.add_scheduled_job("audit checkpoint", "whistle.audit.checkpoint_job", order=90)
    config.registry.raw_plugin_settings = plugin_settings(raw_settings)  # what whistle_configure receives
    config.include("whistle.hooks")

    # --- delivery: error pages and problems, page slots, health, the route table, the API document ---
    config.include("whistle.errors.views")
    config.include("whistle.pages")
    config.include("whistle.health")
    config.include("whistle.routes")
    config.include("whistle.openapi")

    # --- the areas, lowest first (docs/development.md): each adds how its callers are loaded, its
    # event subscribers, scheduled jobs and page sections; a lower area's subscribers run first ---
    config.include("whistle.accounts")
    config.include("whistle.attachments")
    config.include("whistle.notifications")
    config.include("whistle.escalations")
    config.include("whistle.protection")
    config.include("whistle.records")
    config.include("whistle.board")
    config.include("whistle.reporters")
    config.include("whistle.key_directory")
    config.include("whistle.workspace")

    # --- the views, by area ---
    config.scan("whistle.intake.views")
    config.scan("whistle.cases.views")
    config.scan("whistle.key_directory.views")
    config.scan("whistle.accounts.views")
    config.scan("whistle.accounts.staff_views")
    config.scan("whistle.sessions.views")
    config.scan("whistle.attachments.views")
    config.scan("whistle.notifications.views")
    config.scan("whistle.protection.views")
    config.scan("whistle.records.views")
    config.scan("whistle.board.views")
    config.scan("whistle.reporters.views")
    config.scan("whistle.reporters.protection_views")
    config.scan("whistle.reporters.upload_views")
    config.scan("whistle.reporters.voice_views")
    config.scan("whistle.workspace.views")
    config.scan("whistle.workspace.actions_views")
    config.scan("whistle.workspace.files_views")
    config.scan("whistle.workspace.device_views")
    config.scan("whistle.workspace.upload_views")
    config.scan("whistle.workspace.protection_views")
    config.scan("whistle.workspace.learning_views")
    config.scan("whistle.workspace.export_views")
    config.scan("whistle.workspace.surge_views")
    config.scan("whistle.admin.views")
    config.scan("whistle.statistics.views")

    # --- plugins that are also Pyramid includes, after core: they find its directives (page
    # sections, scheduled jobs, event subscribers) and its routes ---
    for include in config.registry.hooks.includes():
        config.include(include)
    return config
