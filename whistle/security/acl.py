"""The root context and its ACL; what a context whose existence is a secret is marked with."""
from __future__ import annotations

from pyramid.authorization import DENY_ALL, Allow, Everyone

from whistle.security.permissions import Permission


class Root:
    __acl__ = [
        (Allow, Everyone, (Permission.PUBLIC.value, Permission.DISCLOSURE_SUBMIT.value, Permission.STAFF_LOGIN.value)),
        (Allow, "staff", Permission.STAFF_LOGOUT.value),
        (Allow, "role:guardian", Permission.CASES_LIST.value),
        # --- the reporter's mailbox (issue 3) ---
        (Allow, Everyone, (Permission.REPORTER_LOGIN.value, Permission.MAILBOX_VISIT.value)),
        (Allow, "reporter", Permission.MAILBOX_USE.value),
        # --- the guardian's workspace and admin area (issue 4) ---
        (Allow, "staff", Permission.STAFF_ACCOUNT.value),
        (Allow, "role:admin", (Permission.ADMIN_VIEW.value, Permission.ADMIN_MANAGE.value)),
        # --- plugins: hooks wired into core, retaliation watch (issue 5) ---
        (Allow, "integration", Permission.PERSONNEL_EVENTS_POST.value),  # part Y: retaliation watch
        DENY_ALL,
    ]

    def __init__(self, request) -> None:
        self.request = request


class NotFoundWhenForbidden:
    """A context that does not exist as far as a caller without access can tell: the forbidden
    view answers 404 for it, as for an address with nothing there (whistle.cases.context.CaseContext)."""
