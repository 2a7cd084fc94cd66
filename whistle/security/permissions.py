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
    # --- the guardian's workspace and admin area (issue 4) ---

    def __str__(self) -> str:  # Pyramid compares permissions as strings
        return self.value
