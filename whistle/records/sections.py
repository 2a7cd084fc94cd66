"""What records adds to other areas' pages (whistle.pages): the case page's "Keeping this case"
section (when it is to be deleted, the legal hold and its forms) and a word on each inbox row."""
from __future__ import annotations

from whistle.records.services import retention_of


def case_page(request, page) -> dict | None:
    case = page.get("case")
    if case is None:
        return None
    return {"retention": retention_of(case), "today": request.clock.today()}


def inbox_row(request, page) -> dict | None:
    """Only what is not the usual (the date of a closed case, a hold): an open case says nothing."""
    rows = page.get("rows")
    if rows is None:
        return None
    return {"retention": {row.case.id: retention_of(row.case) for row in rows}}
