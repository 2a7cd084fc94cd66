"""request.call_hook: plugins named in the settings run; a failing one is audited and skipped."""
from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select
from webtest import TestApp

from whistle.audit.models import AuditEvent
from whistle.config import make_configurator
from whistle.security import Permission


def test_a_failing_plugin_is_audited_and_the_request_goes_on(raw_settings, settings, clock, tm, dbsession):
    settings = replace(settings, plugins=("tests.plugins.raising_plugin", "tests.plugins.sample_plugins"))
    config = make_configurator(raw_settings, settings=settings, clock=clock)
    config.add_route("fields", "/fields")
    config.add_view(lambda request: {"fields": request.call_hook("whistle_intake_fields", channel="staff")},
                    route_name="fields", renderer="json", permission=Permission.PUBLIC)
    app = TestApp(config.make_wsgi_app(), extra_environ={"tm.active": True, "tm.manager": tm, "app.dbsession": dbsession})

    response = app.get("/fields", status=200)
    assert [field["name"] for fields in response.json["fields"] for field in fields] == ["site"]
    event = dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
    assert (event.action, event.detail) == (
        "plugin.failed", {"plugin": "tests.plugins.raising_plugin", "hook": "whistle_intake_fields", "error": "RuntimeError"})


def test_the_app_loads_no_plugin_by_default(app):
    assert app.registry.hooks.names == []
