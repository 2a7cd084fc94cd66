"""An app with chosen plugins enabled, sharing the test's doomed transaction."""
from __future__ import annotations

from dataclasses import replace

import pytest
from webtest import TestApp

from whistle.config import make_configurator


@pytest.fixture
def plugin_app(raw_settings, settings, clock, tm, dbsession):
    """plugin_app(plugins, plaintext=()) -> a WebTest app with those plugins named in the settings."""

    def build(plugins, plaintext=()):
        enabled = replace(settings, plugins=tuple(plugins), plugins_plaintext=tuple(plaintext))
        app = make_configurator(raw_settings, settings=enabled, clock=clock).make_wsgi_app()
        return TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                           "app.dbsession": dbsession})

    return build
