"""What the reporter's say adds to the guardian's pages (whistle.pages): their answer to "would you
speak up again?" and their comments on the case page."""
from __future__ import annotations

from whistle.reporters.services import speak_up_asked
from whistle.words import SPEAK_UP_LABELS


def case_page(request, page) -> dict | None:
    """The answer, in words, and the comments (decrypted for the page, or in device mode left to
    the guardian's device: workspace.js fills the slot)."""
    case = page.get("case")
    if case is None or not (speak_up_asked(case) or case.speak_up_again):
        return None
    content = page.get("content")
    return {"answer": SPEAK_UP_LABELS.get(case.speak_up_again or "", None),
            "comments": content.comments if content is not None else []}
