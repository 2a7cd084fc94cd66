"""Who gets what: every route the app registers, asked by each kind of caller, against ROUTES below.

ROUTES is the contract: for each (route, method), the permission its view declares and the answer
each caller gets. Callers, in this order:

  anonymous   no session at all
  reporter    the reporter of the case, signed in with its receipt (mailbox cookie; bearer under /api/)
  guardian    a guardian of the case's channel, who holds the case (staff cookie; bearer under /api/)
  outsider    a guardian of another channel, who does not
  admin       an admin (not a guardian)

Each request is sent with the caller's credentials and nothing else: no body, no CSRF token, a path
filled with the world's real case reference, file and account ids. A cell is the status, with "x"
before it when the permission check refused the caller (the forbidden view answered). So "x404" is
a refusal that looks like nothing is there, "400" a caller let in and then refused for the empty
form. The rules every row must keep (test_the_table_keeps_the_rules):

  - a refused caller gets 404 on a route about one case (CaseContext) — apart from a caller with no
    session at all, who gets 401 (the API) or the staff sign-in page ("x302") before any case is
    looked up, the same for every reference — and 401, 403 or a redirect to the staff sign-in page
    elsewhere;
  - on a route about one case, only its guardian is let in: never the reporter, another channel's
    guardian or an admin;
  - a caller let in to a GET gets a 2xx or 3xx, unless the row is in ABSENT (the world has none of
    what the path names);
  - every view declares a permission (Pyramid's default, "undeclared:denied", does not count).

A new route without a row fails the suite, printing the row to add as observed: check it against the
rules and your intent, paste it, then refresh the table in docs/routes.md with
    WHISTLE_TEST_WRITE_ROUTES=1 .venv/bin/pytest tests/functional/test_route_roles.py
(which also prints every observed row that differs from the table).
"""
from __future__ import annotations

import http.cookiejar
import os
import re
from pathlib import Path

import pytest
from pyramid.events import NewResponse
from pyramid.httpexceptions import HTTPForbidden
from webtest import TestApp, TestRequest

from tests.factories import api_login, html_login, make_channel, make_staff, submit_api
from whistle.cases.context import CaseContext
from whistle.config import make_configurator

ROLES = ("anonymous", "reporter", "guardian", "outsider", "admin")
DOC = Path(__file__).parents[2] / "docs" / "routes.md"
DENIED = "whistle.test.denied"
PLACEHOLDER = re.compile(r"\{(\w+)(?::(?:[^{}]|\{[^{}]*\})*)?\}")

# (route, method): (permission, anonymous, reporter, guardian, outsider, admin)
ROUTES: dict[tuple[str, str], tuple[str, str, str, str, str, str]] = {
    ('accounts.authenticator', 'GET'): ('staff:login', '200', '200', '200', '200', '200'),
    ('accounts.authenticator', 'POST'): ('staff:login', '400', '400', '400', '400', '400'),
    ('accounts.forgot', 'GET'): ('staff:login', '200', '200', '200', '200', '200'),
    ('accounts.forgot', 'POST'): ('staff:login', '400', '400', '400', '400', '400'),
    ('accounts.login', 'GET'): ('staff:login', '200', '200', '200', '200', '200'),
    ('accounts.login', 'POST'): ('staff:login', '400', '400', '400', '400', '400'),
    ('accounts.logout', 'POST'): ('staff:logout', 'x302', 'x403', '400', '400', '400'),
    ('accounts.notifications', 'GET'): ('staff:account', 'x302', 'x403', '200', '200', '200'),
    ('accounts.notifications', 'POST'): ('staff:account', 'x302', 'x403', '400', '400', '400'),
    ('accounts.password', 'GET'): ('staff:account', 'x302', 'x403', '200', '200', '200'),
    ('accounts.password', 'POST'): ('staff:account', 'x302', 'x403', '400', '400', '400'),
    ('accounts.sessions', 'GET'): ('staff:account', 'x302', 'x403', '200', '200', '200'),
    ('accounts.sessions', 'POST'): ('staff:account', 'x302', 'x403', '400', '400', '400'),
    ('admin.audit', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.audit', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.channels', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.channels', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.guardian', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.guardian', 'POST'): ('admin:manage', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.guardians', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.guardians', 'POST'): ('admin:manage', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.notifications', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.notifications', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.notifications_retry', 'POST'): ('admin:manage', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.overview', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.overview', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.statistics', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.statistics', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.statistics_csv', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('admin.statistics_csv', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.statistics_export', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '404'),
    ('admin.statistics_export', 'POST'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '400'),
    ('api.admin_account', 'PATCH'): ('admin:manage', 'x401', 'x403', 'x403', 'x403', '415'),
    ('api.admin_accounts', 'GET'): ('admin:view', 'x401', 'x403', 'x403', 'x403', '200'),
    ('api.admin_accounts', 'POST'): ('admin:manage', 'x401', 'x403', 'x403', 'x403', '415'),
    ('api.admin_audit', 'GET'): ('admin:view', 'x401', 'x403', 'x403', 'x403', '200'),
    ('api.admin_channels', 'GET'): ('admin:view', 'x401', 'x403', 'x403', 'x403', '200'),
    ('api.admin_overview', 'GET'): ('admin:view', 'x401', 'x403', 'x403', 'x403', '200'),
    ('api.board', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('api.case', 'GET'): ('case:read', 'x401', 'x404', '200', 'x404', 'x404'),
    ('api.case_attachment', 'GET'): ('case:read', 'x401', 'x404', '200', 'x404', 'x404'),
    ('api.case_attachments', 'POST'): ('case:write', 'x401', 'x404', '422', 'x404', 'x404'),
    ('api.case_board', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_board_entry', 'DELETE'): ('case:write', 'x401', 'x404', '404', 'x404', 'x404'),
    ('api.case_board_entry', 'PUT'): ('case:write', 'x401', 'x404', '404', 'x404', 'x404'),
    ('api.case_conflict', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_envelopes', 'GET'): ('case:read', 'x401', 'x404', '200', 'x404', 'x404'),
    ('api.case_erasures', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_grants', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_legal_hold', 'DELETE'): ('case:write', 'x401', 'x404', '409', 'x404', 'x404'),
    ('api.case_legal_hold', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_messages', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_notes', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_transfer', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_transitions', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_triage', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.case_upload', 'DELETE'): ('case:write', 'x401', 'x404', '404', 'x404', 'x404'),
    ('api.case_upload', 'GET'): ('case:write', 'x401', 'x404', '404', 'x404', 'x404'),
    ('api.case_upload_chunk', 'PUT'): ('case:write', 'x401', 'x404', '404', 'x404', 'x404'),
    ('api.case_upload_done', 'POST'): ('case:write', 'x401', 'x404', '404', 'x404', 'x404'),
    ('api.case_uploads', 'POST'): ('case:write', 'x401', 'x404', '415', 'x404', 'x404'),
    ('api.cases', 'GET'): ('cases:list', 'x401', 'x403', '200', '200', 'x403'),
    ('api.channel_keys', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('api.channels', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('api.disclosures', 'POST'): ('disclosures:submit', '415', '415', '415', '415', '415'),
    ('api.learning_outcomes', 'GET'): ('cases:list', 'x401', 'x403', '200', '200', 'x403'),
    ('api.openapi', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('api.personnel_events', 'POST'): ('personnel_events:post', 'x401', 'x403', 'x403', 'x403', 'x403'),
    ('api.reporter_attachment', 'GET'): ('mailbox:use', 'x401', '200', 'x403', 'x403', 'x403'),
    ('api.reporter_attachment_blob', 'GET'): ('mailbox:ciphertext', 'x401', '200', 'x403', 'x403', 'x403'),
    ('api.reporter_attachments', 'POST'): ('mailbox:use', 'x401', '422', 'x403', 'x403', 'x403'),
    ('api.reporter_board_consent', 'POST'): ('mailbox:ciphertext', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_case', 'GET'): ('mailbox:use', 'x401', '200', 'x403', 'x403', 'x403'),
    ('api.reporter_checkins', 'POST'): ('mailbox:use', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_envelopes', 'GET'): ('mailbox:ciphertext', 'x401', '200', 'x403', 'x403', 'x403'),
    ('api.reporter_identity', 'POST'): ('mailbox:ciphertext', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_messages', 'POST'): ('mailbox:ciphertext', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_protection_consent', 'POST'): ('mailbox:use', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_keep_alive', 'POST'): ('mailbox:ciphertext', 'x401', '200', 'x403', 'x403', 'x403'),
    ('api.reporter_session', 'DELETE'): ('mailbox:ciphertext', 'x401', '204', 'x403', 'x403', 'x403'),
    ('api.reporter_session', 'POST'): ('reporter:login', '415', '415', '415', '415', '415'),
    ('api.reporter_speak_up', 'POST'): ('mailbox:ciphertext', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_upload', 'DELETE'): ('mailbox:ciphertext', 'x401', '404', 'x403', 'x403', 'x403'),
    ('api.reporter_upload', 'GET'): ('mailbox:ciphertext', 'x401', '404', 'x403', 'x403', 'x403'),
    ('api.reporter_upload_chunk', 'PUT'): ('mailbox:ciphertext', 'x401', '404', 'x403', 'x403', 'x403'),
    ('api.reporter_upload_done', 'POST'): ('mailbox:ciphertext', 'x401', '404', 'x403', 'x403', 'x403'),
    ('api.reporter_uploads', 'POST'): ('mailbox:ciphertext', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.reporter_withdrawal', 'POST'): ('mailbox:ciphertext', 'x401', '415', 'x403', 'x403', 'x403'),
    ('api.staff_authenticator', 'POST'): ('staff:login', '415', '415', '415', '415', '415'),
    ('api.staff_notifications', 'GET'): ('staff:account', 'x401', 'x403', '200', '200', '200'),
    ('api.staff_notifications', 'PUT'): ('staff:account', 'x401', 'x403', '415', '415', '415'),
    ('api.staff_password', 'POST'): ('staff:account', 'x401', 'x403', '415', '415', '415'),
    ('api.staff_session', 'DELETE'): ('staff:logout', 'x401', 'x403', '204', '204', '204'),
    ('api.staff_session', 'POST'): ('staff:login', '415', '415', '415', '415', '415'),
    ('api.staff_sessions', 'DELETE'): ('staff:account', 'x401', 'x403', '204', '204', '204'),
    ('api.staff_sessions', 'GET'): ('staff:account', 'x401', 'x403', '200', '200', '200'),
    ('api.staff_sign_in_parameters', 'POST'): ('staff:login', '415', '415', '415', '415', '415'),
    ('attachments.blob', 'GET'): ('case:read', 'x302', 'x404', '200', 'x404', 'x404'),
    ('attachments.download', 'GET'): ('case:read', 'x302', 'x404', '200', 'x404', 'x404'),
    ('board.edit', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('board.list', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('board.publish', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('board.unpublish', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.attachments', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.binding', 'POST'): ('case:read', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.conflict', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.envelopes', 'GET'): ('case:read', 'x302', 'x404', '200', 'x404', 'x404'),
    ('cases.erasures', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.export', 'POST'): ('case:read', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.export_device', 'POST'): ('case:read', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.grants', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.held', 'GET'): ('cases:list', 'x302', 'x403', '200', '200', 'x403'),
    ('cases.inbox', 'GET'): ('cases:list', 'x302', 'x403', '200', '200', 'x403'),
    ('cases.inbox', 'POST'): ('cases:list', 'x302', 'x403', '400', '400', 'x403'),
    ('cases.legal_hold', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.legal_hold_lift', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.messages', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.notes', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.protection_alerts', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.protections', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.show', 'GET'): ('case:read', 'x302', 'x404', '200', 'x404', 'x404'),
    ('cases.team_key', 'POST'): ('case:read', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.transfer', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.transitions', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.triage', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.upload', 'DELETE'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.upload', 'GET'): ('case:write', 'x302', 'x404', '404', 'x404', 'x404'),
    ('cases.upload_chunk', 'PUT'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.upload_done', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('cases.uploads', 'POST'): ('case:write', 'x302', 'x404', '400', 'x404', 'x404'),
    ('health', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('i18n.catalogue', 'GET'): ('public:view', '200', '200', '200', '200', '200'),  # the browser modules' words
    ('home', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('home', 'POST'): ('public:view', '400', '400', '400', '400', '400'),
    ('intake.form', 'GET'): ('disclosures:submit', '200', '200', '200', '200', '200'),
    ('intake.form', 'POST'): ('disclosures:submit', '400', '400', '400', '400', '400'),
    ('intake.receipt', 'GET'): ('disclosures:submit', '200', '200', '200', '200', '200'),
    ('intake.receipt_leave', 'POST'): ('disclosures:submit', '200', '200', '200', '200', '200'),
    ('learning.outcomes', 'GET'): ('cases:list', 'x302', 'x403', '200', '200', 'x403'),
    ('learning.report', 'GET'): ('cases:list', 'x302', 'x403', '200', '200', 'x403'),
    ('learning.search', 'GET'): ('cases:list', 'x302', 'x403', '200', '200', 'x403'),
    ('learning.search', 'POST'): ('cases:list', 'x302', 'x403', '400', '400', 'x403'),
    ('metrics', 'GET'): ('public:view', '404', '404', '404', '404', '404'),
    ('ready', 'GET'): ('public:view', '200', '200', '200', '200', '200'),
    ('reporters.attachment', 'GET'): ('mailbox:visit', '200', '200', '200', '200', '200'),
    ('reporters.board_consent', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('reporters.case', 'GET'): ('mailbox:visit', '200', '200', '200', '200', '200'),
    ('reporters.channel_exit', 'GET'): ('public:view', '303', '303', '303', '303', '303'),
    ('reporters.checkins', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('reporters.exit', 'GET'): ('public:view', '303', '303', '303', '303', '303'),
    ('reporters.identity', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('reporters.leave', 'POST'): ('mailbox:visit', '200', '200', '200', '200', '200'),
    ('reporters.keep_alive', 'POST'): ('public:view', '400', '400', '400', '400', '400'),
    ('reporters.login', 'GET'): ('reporter:login', '200', '303', '200', '200', '200'),
    ('reporters.login', 'POST'): ('reporter:login', '400', '400', '400', '400', '400'),
    ('reporters.messages', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('reporters.protection_consent', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('reporters.speak_up', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('reporters.withdraw', 'GET'): ('mailbox:visit', '200', '200', '200', '200', '200'),
    ('reporters.withdraw', 'POST'): ('mailbox:visit', '401', '400', '401', '401', '401'),
    ('statistics.show', 'GET'): ('statistics:view', 'x302', 'x403', '200', '200', 'x403'),
    ('statistics.show', 'POST'): ('statistics:view', 'x302', 'x403', '400', '400', 'x403'),
    ('statistics.show_csv', 'GET'): ('statistics:view', 'x302', 'x403', '200', '200', 'x403'),
    ('statistics.show_csv', 'POST'): ('statistics:view', 'x302', 'x403', '400', '400', 'x403'),
    ('accounts.failed_sign_ins', 'POST'): ('staff:account', 'x302', 'x403', '400', '400', '400'),
    ('sessions.staff_keep_alive', 'POST'): ('public:view', '400', '400', '400', '400', '400'),
    ('admin.proposal_decide', 'POST'): ('admin:manage', 'x302', 'x403', 'x403', 'x403', '400'),
    ('admin.proposals', 'GET'): ('admin:view', 'x302', 'x403', 'x403', 'x403', '200'),
    ('api.disclosures_challenge', 'GET'): ('disclosures:submit', '200', '200', '200', '200', '200'),
    ('api.staffing_changes', 'GET'): ('cases:list', 'x401', 'x403', '200', '200', 'x403'),
    ('api.surge_junk', 'POST'): ('cases:list', 'x401', 'x403', '404', '404', 'x403'),
    ('cases.surge', 'GET'): ('cases:list', 'x302', 'x403', '404', '404', 'x403'),
    ('cases.surge_junk', 'POST'): ('cases:list', 'x302', 'x403', '400', '400', 'x403'),
}

# Rows whose path names something the world does not have, so a caller let in is answered 404:
# the route and why.
ABSENT = {
    ("admin.statistics_export", "GET"): "an export of that name: they are the plugins', and none is enabled",
    ("cases.upload", "GET"): "an upload in chunks on its way",
    ("api.case_upload", "GET"): "an upload in chunks on its way",
    ("api.reporter_upload", "GET"): "an upload in chunks on its way",
    ("cases.surge", "GET"): "a day the guardian holds open cases of a surge from",
    ("metrics", "GET"): "the metrics token (none is configured, and no caller sends it)",
}


def _note_denied(event) -> None:
    request = event.request
    request.environ[DENIED] = isinstance(getattr(request, "exception", None), HTTPForbidden)


@pytest.fixture(scope="module")
def roles_app(raw_settings, settings, clock):
    config = make_configurator(raw_settings, settings=settings, clock=clock)
    config.add_subscriber(_note_denied, NewResponse)
    return config.make_wsgi_app()


class _KeepNoCookies(http.cookiejar.DefaultCookiePolicy):
    """Each caller's cookies are sent by hand: what a response sets (a sign-out) changes no one."""

    def set_ok(self, cookie, request):
        return False


def _cookies(browser: TestApp) -> str:
    return "; ".join(f"{cookie.name}={cookie.value}" for cookie in browser.cookiejar)


def registered(app) -> dict[tuple[str, str], tuple[str | None, str, bool]]:
    """(route, method) -> (the view's permission, the route's pattern, whether it is about one case)."""
    introspector = app.registry.introspector
    routes = {r["introspectable"]["name"]: r["introspectable"] for r in introspector.get_category("routes")}
    found = {}
    for view in introspector.get_category("views"):
        intr = view["introspectable"]
        name = intr["route_name"]
        if not name or intr["exception_only"] or name.startswith("__static"):
            continue
        permissions = [str(r["value"]) for r in view["related"] if r.category_name == "permissions"]
        methods = intr["request_methods"] or ("GET", "POST")
        route = routes[name]
        for method in (methods,) if isinstance(methods, str) else methods:
            found[(name, method)] = (permissions[0] if len(permissions) == 1 else None, route["pattern"],
                                     route["factory"] is CaseContext)
    return found


@pytest.fixture(scope="module")
def world(roles_app, raw_settings, settings, clock):
    """The case (in channel "staff"), its reporter and guardian, a guardian of channel "young", an
    admin: committed nowhere, each request in a savepoint rolled back after it."""
    import transaction

    from whistle.db import get_tm_session

    tm = transaction.TransactionManager(explicit=True)
    tm.begin()
    tm.doom()
    dbsession = get_tm_session(roles_app.registry["dbsession_factory"], tm)
    environ = {"HTTP_HOST": "example.com", "tm.active": True, "tm.manager": tm, "app.dbsession": dbsession}

    def browser() -> TestApp:
        return TestApp(roles_app, extra_environ=environ)

    make_channel(dbsession, "staff")
    make_channel(dbsession, "young")
    guardian = make_staff(dbsession, settings, clock, "roles.guardian", channels=["staff"])
    outsider = make_staff(dbsession, settings, clock, "roles.outsider", channels=["young"])
    admin = make_staff(dbsession, settings, clock, "roles.admin", admin=True, guardian=False)
    setup = browser()
    sent = submit_api(setup, text="The rota leaves one nurse for 40 beds.")
    reporter_api = {"Authorization": "Bearer " + setup.post_json(
        "/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]}
    upload = setup.post("/api/v1/reporter/attachments", b"%PDF- rota", headers=dict(
        reporter_api, **{"Content-Type": "application/pdf", "X-Filename": "rota.pdf"}), status=201).json

    headers = {"anonymous": ({}, {}), "reporter": (None, reporter_api)}
    reporter_browser = browser()
    form = reporter_browser.get("/mailbox").forms[0]
    form["receipt"] = sent["receipt"]
    form.submit(status=303)
    headers["reporter"] = ({"Cookie": _cookies(reporter_browser)}, reporter_api)
    for role, staff in (("guardian", guardian), ("outsider", outsider), ("admin", admin)):
        staff_browser = browser()
        html_login(staff_browser, staff, clock)
        headers[role] = ({"Cookie": _cookies(staff_browser)}, api_login(setup, staff, clock))
    ids = {"attachment": str(upload["id"]), "account": str(guardian.account.id)}
    sender = TestApp(roles_app, extra_environ=environ, cookiejar=http.cookiejar.CookieJar(_KeepNoCookies()))
    yield {"app": sender, "dbsession": dbsession, "headers": headers, "ref": sent["case"], "ids": ids}
    tm.abort()


def _path(world, name: str, pattern: str) -> str:
    def fill(match) -> str:
        placeholder = match.group(1)
        if placeholder == "ref":
            return world["ref"]
        if placeholder == "slug":
            return "staff"
        if placeholder == "id":
            return world["ids"]["account" if name in ("admin.guardian", "api.admin_account") else "attachment"]
        if placeholder == "name":
            return "no-such-export"
        if placeholder == "upload":
            return "no-such-upload"
        return "1"

    return PLACEHOLDER.sub(fill, pattern)


def observe(world, name: str, method: str, pattern: str, role: str) -> str:
    """The cell for `role` asking (name, method): the status, "x" before it when refused."""
    path = _path(world, name, pattern)
    cookie, bearer = world["headers"][role]
    request = TestRequest.blank(path, environ=dict(world["app"].extra_environ), method=method,
                                headers=bearer if path.startswith("/api/") else cookie)
    if method != "GET":
        request.body = b""  # Content-Length: 0, as a browser sends an empty form
    savepoint = world["dbsession"].begin_nested()
    try:
        response = world["app"].do_request(request, status="*", expect_errors=True)
    finally:
        savepoint.rollback()
    status = response.status_int
    if not request.environ.get(DENIED):
        return str(status)
    if status == 302 and not response.headers.get("Location", "").endswith("/staff/login"):
        return f"x302 to {response.headers.get('Location')}"
    return f"x{status}"


def _row(key, permission, cells) -> str:
    return f"    {key!r}: ({permission!r}, {', '.join(repr(c) for c in cells)}),"


@pytest.fixture(scope="module")
def observed(roles_app, world):
    return {key: (permission, *(observe(world, key[0], key[1], pattern, role) for role in ROLES))
            for key, (permission, pattern, _) in sorted(registered(roles_app).items())}


def test_every_route_has_a_row_and_answers_as_it_says(roles_app, observed):
    missing = {key: row for key, row in observed.items() if key not in ROUTES}
    gone = sorted(key for key in ROUTES if key not in observed)
    differ = {key: row for key, row in observed.items() if key in ROUTES and ROUTES[key] != row}
    if os.environ.get("WHISTLE_TEST_WRITE_ROUTES") == "1":
        print("\n# observed rows (anonymous, reporter, guardian, outsider, admin):")
        for key, row in {**missing, **differ}.items():
            print(_row(key, row[0], row[1:]))
    message = []
    if missing:
        message.append("A route without a rule: add its row to ROUTES in tests/functional/test_route_roles.py "
                       "(as observed below; check it keeps the rules in the module's docstring), then run "
                       "WHISTLE_TEST_WRITE_ROUTES=1 .venv/bin/pytest tests/functional/test_route_roles.py "
                       "to refresh docs/routes.md:\n" + "\n".join(_row(k, r[0], r[1:]) for k, r in missing.items()))
    if differ:
        message.append("Routes answering other than ROUTES says (table, then observed):\n" + "\n".join(
            f"{_row(k, *ROUTES[k][:1], ROUTES[k][1:])}\n{_row(k, r[0], r[1:])}" for k, r in differ.items()))
    if gone:
        message.append(f"Rows for routes the app no longer has: remove them from ROUTES: {gone}")
    assert not message, "\n\n".join(message)


def test_every_view_declares_its_permission(roles_app):
    undeclared = sorted(key for key, (permission, _, _) in registered(roles_app).items()
                        if permission is None or permission == "undeclared:denied")
    assert not undeclared, f"views without an explicit permission (add permission=Permission.X): {undeclared}"


def test_the_table_keeps_the_rules(roles_app):
    about_a_case = {key: case for key, (_, _, case) in registered(roles_app).items()}
    broken = []
    for key, (_, *cells) in ROUTES.items():
        case = about_a_case.get(key, False)
        for role, cell in zip(ROLES, cells, strict=True):
            refused = cell.startswith("x")
            status = int(cell.lstrip("x").split()[0])
            allowed = ("x404", "x401", "x302") if role == "anonymous" else ("x404",)
            if refused and case and cell not in allowed:
                broken.append(f"{key} {role}: {cell}: a refusal on a route about one case must be x404 "
                          "(for anonymous: x401 or x302)")
            if refused and not case and cell not in ("x401", "x403", "x302"):
                broken.append(f"{key} {role}: {cell}: a refusal must be x401, x403 or x302 (to the sign-in page)")
            if case and role != "guardian" and not refused:
                broken.append(f"{key} {role}: {cell}: only the case's guardian may be let in to a route about it")
            if not refused and key[1] == "GET" and not 200 <= status < 400 and key not in ABSENT:
                broken.append(f"{key} {role}: {cell}: a caller let in to a GET gets a 2xx or 3xx "
                              "(or list it in ABSENT)")
            if not refused and status >= 500:
                broken.append(f"{key} {role}: {cell}: never a 5xx")
    assert not broken, "\n".join(broken)


def render_doc() -> str:
    lines = [
        "# Routes and who may use them",
        "",
        "Generated from `ROUTES` in `tests/functional/test_route_roles.py`, which checks every route the app",
        "registers against it; do not edit by hand. Refresh it with",
        "`WHISTLE_TEST_WRITE_ROUTES=1 .venv/bin/pytest tests/functional/test_route_roles.py`.",
        "",
        "Each request is sent with the caller's session and nothing else (no body, no CSRF token). A cell is the",
        "status; **x** before it means the permission check refused the caller: on a route about one case",
        "that is 404 (the case does not exist as far as they can tell), or for a caller with no session at",
        "all 401 (API) or 302 to the staff sign-in page before any case is looked up; elsewhere 401 (API),",
        "403, or 302 to the staff sign-in page. A caller let in to a form or an API call that changes something gets 400,",
        "415 or 422 for the empty body. *outsider* is a guardian of another channel.",
        "",
        "| route | method | permission | anonymous | reporter | guardian | outsider | admin |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for (name, method), (permission, *cells) in sorted(ROUTES.items()):
        lines.append(f"| `{name}` | {method} | `{permission}` | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def test_the_routes_document_is_the_table():
    if os.environ.get("WHISTLE_TEST_WRITE_ROUTES") == "1":
        DOC.write_text(render_doc(), encoding="utf-8")
    assert DOC.exists() and DOC.read_text(encoding="utf-8") == render_doc(), (
        "docs/routes.md is not the table in tests/functional/test_route_roles.py: refresh it with "
        "WHISTLE_TEST_WRITE_ROUTES=1 .venv/bin/pytest tests/functional/test_route_roles.py")
