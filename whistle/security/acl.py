"""The root context and its ACL; what a context whose existence is a secret is marked with."""
from __future__ import annotations

from typing import ClassVar

from pyramid.authorization import DENY_ALL, Allow, Everyone

from whistle.security.permissions import Permission


class Root:
    __acl__: ClassVar[list[tuple]] = [
        # public and intake; staff sign-in
        (Allow, Everyone, (Permission.PUBLIC.value, Permission.DISCLOSURE_SUBMIT.value, Permission.STAFF_LOGIN.value)),
        # accounts: a staff member's own account
        (Allow, "staff", Permission.STAFF_LOGOUT.value),
        (Allow, "staff", Permission.STAFF_ACCOUNT.value),
        # the guardian's workspace (each case: its CaseContext)
        (Allow, "role:guardian", Permission.CASES_LIST.value),
        # the reporter's mailbox
        (Allow, Everyone, (Permission.REPORTER_LOGIN.value, Permission.MAILBOX_VISIT.value)),
        (Allow, "reporter", Permission.MAILBOX_USE.value),
        (Allow, "reporter", Permission.MAILBOX_CIPHERTEXT.value),
        (Allow, "reporter-e2e", Permission.MAILBOX_CIPHERTEXT.value),
        # statistics of a guardian's channels
        (Allow, "role:guardian", Permission.STATISTICS_VIEW.value),
        # the admin area
        (Allow, "role:admin", (Permission.ADMIN_VIEW.value, Permission.ADMIN_MANAGE.value)),
        # retaliation watch: HR integrations
        (Allow, "integration", Permission.PERSONNEL_EVENTS_POST.value),
        DENY_ALL,
    ]

    def __init__(self, request) -> None:
        self.request = request


class NotFoundWhenForbidden:
    """A context that does not exist as far as a caller without access can tell: the forbidden
    view answers 404 for it, as for an address with nothing there (whistle.cases.context.CaseContext)."""
