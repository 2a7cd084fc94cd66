"""A message kept through a sign-in (the visit had ended when Send was pressed) survives it
however long it is within the limit, in any script: the sign-in form is multipart, and the
reader is sized for percent-encoding too (a character can take 12 bytes urlencoded)."""
from __future__ import annotations

import pytest
from webtest import TestApp

from tests.factories import make_live_channel, submit_api
from whistle.config import make_configurator
from whistle.settings import load_settings

LIMIT = 1000
DRAFT = "我看见经理把药品拿回家了。" * 70  # 910 characters: a message within the limit


@pytest.fixture
def app_and_receipt(raw_settings, clock, tm, dbsession, settings) -> tuple[TestApp, str]:
    """An app whose messages may be LIMIT characters long, and the receipt of a case on it."""
    raw = dict(raw_settings, **{"whistle.form.max_text_chars": str(LIMIT)})
    app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()
    testapp = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                          "app.dbsession": dbsession})
    make_live_channel(dbsession, settings, clock)
    return testapp, submit_api(testapp)["receipt"]


def test_a_long_unsent_message_survives_the_sign_in(app_and_receipt):
    testapp, receipt = app_and_receipt
    assert len(DRAFT) <= LIMIT

    # The visit has ended (no session) when the message is sent: the sign-in page keeps it.
    form = testapp.get("/mailbox").forms[0]
    csrf = form["csrf_token"].value
    kept = testapp.post("/mailbox/case/messages", {"csrf_token": csrf, "text": DRAFT},
                        content_type="multipart/form-data", status=401)
    sign_in = kept.forms[0]
    assert sign_in["unsent"].value == DRAFT
    sign_in["receipt"] = receipt
    page = sign_in.submit(expect_errors=True)
    page = page.follow() if page.status_int == 303 else page

    assert DRAFT in page.text, page.html.find("main").get_text(" ", strip=True)[:160]


def test_a_long_unsent_message_survives_an_urlencoded_sign_in(app_and_receipt):
    testapp, receipt = app_and_receipt
    csrf = testapp.get("/mailbox").forms[0]["csrf_token"].value

    page = testapp.post("/mailbox", {"csrf_token": csrf, "receipt": receipt, "unsent": DRAFT})
    assert DRAFT in page.text, page.html.find("main").get_text(" ", strip=True)[:160]
