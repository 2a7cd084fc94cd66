"""What the retaliation watch adds to other areas' pages (whistle.pages): the guardian's case page,
the inbox's rows, and the reporter's case page."""
from __future__ import annotations

from whistle.i18n import _
from whistle.protection import services

CHECKIN_QUESTION = _("Since you spoke up, has anything bad happened to you at work because of it? For example being "
                     "dismissed, suspended or demoted, losing pay, hours, training or a promotion, being moved, "
                     "disciplined, given a bad appraisal, or being bullied or left out.")


def case_page(request, page) -> dict | None:
    """The guardian's section: alerts, check-ins answered, protections and the form to add one."""
    case = page.get("case")
    if case is None:
        return None
    identity = getattr(page.get("content"), "identity", None) or {}
    state = services.checkins(request.dbsession, request.whistle_settings, case, request.clock.today())
    return {
        "alerts": services.alerts_of(request.dbsession, case),
        "protections": services.protections_of(request.dbsession, case),
        "checkins": state.answered,
        "personnel_id": identity.get("personnel_id", ""),
        "today": request.clock.today(),
    }


def inbox_row(request, page) -> dict | None:
    """Which of the page's cases have a retaliation alert nobody has seen yet (one query for the page)."""
    rows = page.get("rows")
    if rows is None:
        return None
    return {"alerted_case_ids": services.cases_with_open_alerts(request.dbsession, [row.case.id for row in rows])}


def mailbox_case(request, page) -> dict | None:
    """The reporter's section: consent, and the check-in question when one is due."""
    mailbox = page.get("mailbox")
    if mailbox is None:
        return None
    case = mailbox.case
    if case.channel.reporters_are_staff is False:
        return None  # a child or a member of the public has no employer to watch: no section at all
    if case.withdrawn_on is not None:
        return None  # the reporter withdrew the report: nobody works on it, and it will be deleted
    state = services.checkins(request.dbsession, request.whistle_settings, case, request.clock.today())
    return {"due": state.due, "question": CHECKIN_QUESTION}
