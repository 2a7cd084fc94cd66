"""Review: a message kept through a sign-in is lost when it is long and not in English.

When a reporter's visit has ended before they press Send, the mailbox keeps their words in the
sign-in form ("Your message (not sent yet)") so they can send it after typing the receipt. That
form is urlencoded, where each character can take 12 bytes (4 bytes of UTF-8, each as %XX), but
the reader caps the whole body at 4 bytes per character of the message limit: a message the
mailbox accepts, in Chinese, Arabic or with emoji, makes the sign-in "The form is larger than
allowed." and the words are gone.
"""
from __future__ import annotations

from webtest import TestApp

from tests.factories import make_live_channel, submit_api
from whistle.config import make_configurator
from whistle.settings import load_settings

LIMIT = 1000
DRAFT = "我看见经理把药品拿回家了。" * 70  # 910 characters: a message within the limit


def test_a_long_unsent_message_survives_the_sign_in(raw_settings, clock, tm, dbsession, settings):
    raw = dict(raw_settings, **{"whistle.form.max_text_chars": str(LIMIT)})
    app = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).make_wsgi_app()
    testapp = TestApp(app, extra_environ={"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm,
                                          "app.dbsession": dbsession})
    make_live_channel(dbsession, settings, clock)
    receipt = submit_api(testapp)["receipt"]
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
