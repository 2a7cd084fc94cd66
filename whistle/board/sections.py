"""What the board adds to other areas' pages (whistle.pages): publishing on the guardian's case
page, and the reporter's consent and "your idea was acted on" in their mailbox."""
from __future__ import annotations

from whistle.board import services


def case_page(request, page) -> dict | None:
    """The entries published about the case, and the form to publish one (board channels only)."""
    case = page.get("case")
    if case is None or not case.channel.board:
        return None
    return {"entries": services.entries_of(request.dbsession, case), "consent": case.board_consent,
            "max_title": services.MAX_TITLE, "max_text": services.MAX_TEXT}


def mailbox_case(request, page) -> dict | None:
    """The reporter's consent to be quoted (changeable until an entry is published) and the entries
    about their idea (board channels only)."""
    mailbox = page.get("mailbox")
    if mailbox is None or not mailbox.case.channel.board:
        return None
    entries = services.entries_of(request.dbsession, mailbox.case)
    return {"entries": entries, "consent": mailbox.case.board_consent, "locked": bool(entries)}
