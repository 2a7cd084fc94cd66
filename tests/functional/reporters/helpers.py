"""Driving the reporter's pages as a browser without JavaScript: follow links, read the forms."""
from __future__ import annotations

import re

from webtest import Upload

RECEIPT = re.compile(r"[0-9A-Z]{4}(?:-[0-9A-Z]{4}){4}")


def open_channel(testapp, title: str):
    """Landing page -> the channel's link -> its form page."""
    home = testapp.get("/")
    return home.click(description=title)


def submit_disclosure(testapp, title="Channel staff", *, text="The fire exit on ward 7 is chained shut.",
                      answers=None, identity_mode=None, identity=None, files=()):
    """Fill the channel's form as a person would and send it; returns the page the browser ends on
    (the receipt page, after the redirect, when it was sent)."""
    form = open_channel(testapp, title).forms[0]
    form["text"] = text
    for name, value in (answers if answers is not None else {"ongoing": "yes"}).items():
        form[f"answers.{name}"] = value
    if identity_mode:
        form["identity_mode"] = identity_mode
    for name, value in (identity or {}).items():
        form[f"identity.{name}"] = value
    if files:
        form["attachments"] = [Upload(*file) for file in files]
    response = form.submit(expect_errors=True)
    return response.follow() if response.status_int == 303 else response


def receipt_of(page) -> str:
    return RECEIPT.search(page.text).group(0)


def come_back(testapp, receipt: str, *, status=None):
    """Landing page -> "come back to your report" -> type the receipt."""
    page = testapp.get("/").click(description="Come back to your report")
    form = page.forms[0]
    form["receipt"] = receipt
    response = form.submit(status=status or "*")
    return response.follow() if response.status_int == 303 else response
