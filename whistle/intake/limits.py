"""How many reports one client, and the whole service, may send (docs/operations.md, "Limits").

A client is told apart only by `whistle.throttles.client_hash`: its address hashed with the hour's
subkey of the session key file, the same on every node. Two budgets, in the throttles table (shared
by every node):

- per client: `reports_per_client` in 10 minutes, always;
- across the service: `reports_per_minute`, which a client that proved its work (`proven`: a
  verified proof of work) may pass. From `surge_reports_per_minute` on, new cases are marked with
  the day of the surge (`cases.surge_day`), so guardians can look at them together.

A view calls `admit_disclosure` once the form or body has been read and checked, before any
Argon2id work, and `count_disclosure` once the case is stored (or a repeated form was answered).
It takes the request, so it is delivery: it reads the client's address, the settings and the clock.
"""
from __future__ import annotations

from dataclasses import dataclass

from whistle.throttles import (
    CLIENT_WINDOW,
    PROVEN_REPORTS,
    REPORTS,
    SERVICE_WINDOW,
    Budget,
    BudgetSpent,
    check,
    client_budget,
    client_hash,
    count,
    spent,
)

_ADMITTED = "whistle.intake.admitted"  # request.environ: a report admitted, to count once stored; True if proven


class TooManyReports(BudgetSpent):
    """This client, or the whole service, has sent all the reports it may for now: `retry_after`
    seconds until it may again. Nothing of the refused report is kept."""


@dataclass(frozen=True)
class Admission:
    """A report may go ahead. `surge`: the service-wide budget is past its surge mark, so the
    case is to be marked with the day (cases.surge_day)."""

    surge: bool


def _budgets(request, *, proven: bool) -> list[Budget]:
    settings = request.whistle_settings
    client = client_hash(request.environ, request.clock, REPORTS, request.whistle_settings.session_key)
    budgets = client_budget(REPORTS, client, settings.reports_per_client, CLIENT_WINDOW)
    if not proven:
        budgets.append(Budget(REPORTS, settings.reports_per_minute, SERVICE_WINDOW))
    return budgets


def admit_disclosure(request, *, proven: bool = False) -> Admission:
    """Let one report in, or raise TooManyReports. The per-client limit always applies; `proven`
    (a verified proof of work) lets the client past the service-wide budget, never past its own.
    Nothing is counted yet: count_disclosure does, once the report is stored."""
    budgets = _budgets(request, proven=proven)
    try:
        check(request.dbsession, request.clock, budgets)
    except BudgetSpent as spent_budget:
        raise TooManyReports(spent_budget.retry_after) from None
    request.environ[_ADMITTED] = proven
    mark = request.whistle_settings.surge_reports_per_minute
    surge = any(spent(request.dbsession, request.clock, key, SERVICE_WINDOW, mark) is not None
                for key in (REPORTS, PROVEN_REPORTS))
    return Admission(surge=surge)


def count_disclosure(request) -> None:
    """Count the report admit_disclosure let in, in the client's budget and the service's; a
    proven report in the service's count of proven reports (throttles.PROVEN_REPORTS), which marks
    a surge of them but never spends the budget of reports without a proof. Call it once the work
    is done: its rows stay locked until the transaction ends."""
    if _ADMITTED not in request.environ:
        return
    proven = request.environ.pop(_ADMITTED)
    budgets = _budgets(request, proven=True)
    settings = request.whistle_settings
    service = Budget(PROVEN_REPORTS if proven else REPORTS, settings.reports_per_minute, SERVICE_WINDOW)
    count(request.dbsession, request.clock, [*budgets, service])
