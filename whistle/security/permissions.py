"""Every permission a view can require: one enum of `area:action` strings, by area."""
from enum import Enum


class Permission(str, Enum):
    # --- public and intake ---
    PUBLIC = "public:view"  # pages anyone may see: landing, static files, health
    DISCLOSURE_SUBMIT = "disclosures:submit"
    # --- accounts: staff sign-in and a staff member's own account ---
    STAFF_LOGIN = "staff:login"
    STAFF_LOGOUT = "staff:logout"
    STAFF_ACCOUNT = "staff:account"  # my own password, sessions and notices
    # --- the guardian's workspace ---
    CASES_LIST = "cases:list"
    CASE_READ = "case:read"
    CASE_WRITE = "case:write"  # reply, note, triage, move, grant, transfer, step aside
    # --- the reporter's mailbox ---
    REPORTER_LOGIN = "reporter:login"  # the receipt form and the API session call
    # Mailbox pages check the reporter's session themselves, so that an expired one lands on
    # the receipt form with the unsent message kept rather than on an error page.
    MAILBOX_VISIT = "mailbox:visit"
    MAILBOX_USE = "mailbox:use"  # API calls with a reporter's bearer token
    # Reading ciphertext and writing items encrypted on the reporter's device: also allowed to a
    # session opened with a lookup value (docs/crypto.md 6.2.1), which holds no private key.
    MAILBOX_CIPHERTEXT = "mailbox:ciphertext"
    # --- the admin area ---
    ADMIN_VIEW = "admin:view"  # the admin area: metadata only, nothing decrypts
    ADMIN_MANAGE = "admin:manage"  # add, disable and change accounts
    # --- statistics: counts over metadata, small counts suppressed ---
    STATISTICS_VIEW = "statistics:view"  # a guardian's channels (admins see every channel's as ADMIN_VIEW)
    # --- retaliation watch ---
    PERSONNEL_EVENTS_POST = "personnel_events:post"  # only an HR integration's token

    def __str__(self) -> str:  # Pyramid compares permissions as strings
        return self.value
