"""Every permission a view can require: one enum of `area:action` strings."""
from enum import Enum


class Permission(str, Enum):
    PUBLIC = "public:view"  # pages anyone may see: landing, static files, health
    DISCLOSURE_SUBMIT = "disclosures:submit"
    STAFF_LOGIN = "staff:login"
    STAFF_LOGOUT = "staff:logout"
    CASES_LIST = "cases:list"
    CASE_READ = "case:read"
    # --- the reporter's mailbox (issue 3) ---
    REPORTER_LOGIN = "reporter:login"  # the receipt form and the API session call
    # Mailbox pages check the reporter's session themselves, so that an expired one lands on
    # the receipt form with the unsent message kept rather than on an error page.
    MAILBOX_VISIT = "mailbox:visit"
    MAILBOX_USE = "mailbox:use"  # API calls with a reporter's bearer token
    # --- the guardian's workspace and admin area (issue 4) ---
    CASE_WRITE = "case:write"  # reply, note, triage, move, grant, transfer, step aside
    STAFF_ACCOUNT = "staff:account"  # my own password and sessions
    ADMIN_VIEW = "admin:view"  # the admin area: metadata only, nothing decrypts
    ADMIN_MANAGE = "admin:manage"  # add, disable and change accounts
    # --- plugins: hooks wired into core, retaliation watch (issue 5) ---
    PERSONNEL_EVENTS_POST = "personnel_events:post"  # part Y: only an HR integration's token

    def __str__(self) -> str:  # Pyramid compares permissions as strings
        return self.value
