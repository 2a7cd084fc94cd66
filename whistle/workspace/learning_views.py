"""Learning: the search of the closing records of a guardian's closed cases, the learning report,
and the closing records' envelopes a guardian's device searches (docs/workspace.md, "Learning").

The filters are metadata and work on the server in both modes. The words of a closing record are
decrypted here only for a session holding a key (server-assisted); in device mode the page leaves
them to learning.js, which fetches the outcome envelopes and matches in the browser: the words
searched for are never sent (the page's box has no name, and the server ignores `q` from such a
session)."""
from __future__ import annotations

import base64

from pyramid.view import view_config
from sqlalchemy import select

from whistle import crypto, words
from whistle.attachments.views import guardian_keys
from whistle.cases import learning, lifecycle
from whistle.cases.learning import ClosedCase, LearningFilters
from whistle.cases.services import KeyMismatch, record_unverifiable, sealed_author
from whistle.errors import Problem
from whistle.i18n import _, localized
from whistle.intake_channels.models import Channel
from whistle.security.permissions import Permission
from whistle.statistics.services import hidden_cells

FILTER_FIELDS = {"factors": ("learning-factors-1", _("Contributory factors")),
                 "changes": ("learning-changes-1", _("What changed")),
                 "substantiated": ("learning-substantiated", _("Substantiated")),
                 "channel": ("learning-channel", _("Channel")), "from": ("learning-from", _("Closed from")),
                 "to": ("learning-to", _("Closed up to")), "q": ("learning-q", _("Words in what was learned"))}
FILTER_MESSAGES = {"factors": _("Tick only factors from the list."), "changes": _("Tick only changes from the list."),
                   "substantiated": _("Choose an answer from the list.")}
DEVICE_WORDS = _("This sign-in keeps cases on your device: what was learned is decrypted in your browser, which "
                 "needs JavaScript. Without it this page lists the cases by what was recorded at closure only.")


def _device(request) -> bool:
    return not request.identity.holds_key


def _filters(request) -> tuple[LearningFilters, Problem | None]:
    try:
        return LearningFilters.from_params(request.params), None
    except Problem as problem:
        request.response.status = problem.status
        return LearningFilters.kept(request.params), problem


def _read_records(request, entries: list[ClosedCase]) -> None:
    """Decrypt each closing record with the session's keys (server-assisted mode), audited per case;
    one that fails to verify is audited as such and shown as such."""
    for entry in entries:
        if entry.item is None:
            continue
        try:
            keys = guardian_keys(request, entry.case)
        except KeyMismatch as mismatch:
            if not mismatch.before_any_write:
                raise
            request.audit("case.key_mismatch", case_id=entry.case.id, detail={"key": mismatch.which})
            entry.unverified = True
            continue
        lost = learning.read_record(entry, keys)
        if lost is not None:
            record_unverifiable(request.dbsession, request.clock, entry.case, [{"id": lost.id, "kind": lost.kind}],
                                reporter_path=False)
        request.audit("case.closing_record_read", case_id=entry.case.id)


def _page(request, filters: LearningFilters, problem: Problem | None) -> dict:
    channels = request.dbsession.scalars(select(Channel).order_by(Channel.title)).all()
    return {
        "filters": filters, "problem": problem, "device": _device(request), "device_words": DEVICE_WORDS,
        # In the page's language already: the error summary puts label and message together in Python.
        "errors": {name: localized(message)
                   for name, message in words.problem_fields(problem, FILTER_MESSAGES).items()},
        "fields": {name: (target, localized(label)) for name, (target, label) in FILTER_FIELDS.items()},
        "factor_choices": lifecycle.FACTORS,
        # In the page's language already: learning.js reads them from JSON.
        "factor_words": {slug: localized(text) for slug, text in lifecycle.FACTOR_WORDS.items()},
        "change_choices": [(c, words.label(words.CHANGE_LABELS, c)) for c in lifecycle.CHANGES],
        "substantiated_choices": [(s, words.label(words.SUBSTANTIATED_LABELS, s)) for s in lifecycle.SUBSTANTIATED],
        "channel_choices": [(c.slug, c.title) for c in channels],
        "outcomes_path": request.route_path("learning.outcomes", _query=filters.query_args()),
        # The days as typed, for a refused form to show again.
        "typed": {name: str(request.params.get(name) or "")[:32] for name in ("from", "to")},
    }


@view_config(route_name="learning.search", request_method=("GET", "POST"),
             renderer="whistle:templates/cases/learning.jinja2", permission=Permission.CASES_LIST)
def search(request):
    """The closing records of the closed cases granted to the guardian, filtered by what was recorded
    at closure; server-assisted, also by words in what was learned or changed (`q`), taken only from
    a posted form (CSRF-checked), so the words are in no address, history or log line."""
    filters, problem = _filters(request)
    entries, total = learning.closed_cases(request.dbsession, request.identity.account.id, filters)
    query = ""
    if not _device(request):
        if request.method == "POST":
            query = (request.POST.get("q") or "").strip()[:learning.MAX_QUERY]
        _read_records(request, entries)
        if query:
            entries = [entry for entry in entries if learning.matches(entry, query)]
    return {**_page(request, filters, problem), "entries": entries, "total": total, "query": query,
            "limit": learning.MAX_RESULTS}


@view_config(route_name="learning.report", request_method="GET",
             renderer="whistle:templates/cases/learning_report.jinja2", permission=Permission.CASES_LIST)
def report(request):
    """The themes across every closed case of a period (metadata, counts under 5 suppressed), and
    what was learned in the guardian's own cases of the period. Printable."""
    filters, problem = _filters(request)
    since, until = filters.whole_months(request.clock.today())
    period = LearningFilters(since=since, until=until)
    found = learning.themes(request.dbsession, since, until)
    entries, total = learning.closed_cases(request.dbsession, request.identity.account.id, period)
    if not _device(request):
        _read_records(request, entries)
    factor_words = lifecycle.FACTOR_WORDS
    # Each row's words in the page's language, so that rows of equal count are in its alphabetical order.
    sections = [  # (caption, the first column's heading, rows)
        (_("Contributory factors"), _("Factor"),
         learning.ranked(found.factors, lambda s: localized(words.label(factor_words, s)))),
        (_("What changed"), _("Change"),
         learning.ranked(found.changes, lambda s: localized(words.label(words.CHANGE_LABELS, s)))),
        (_("Substantiated"), _("Answer"),
         learning.ranked(found.substantiated, lambda s: localized(words.label(words.SUBSTANTIATED_LABELS, s)),
                         _hidden(found.substantiated, found.total))),
        (_("By channel"), _("Channel"), learning.ranked(found.channels, str, _hidden(found.channels, found.total))),
        # Labels are guardians' own words, not a fixed list: one on fewer than 5 cases is not named
        # at all, since its name alone could point at a case.
        (_("By label"), _("Label"), learning.ranked(
            {label: count for label, count in found.labels.items() if count >= learning.SMALLEST_SHOWN}, str)),
    ]
    page = _page(request, period, problem)
    page["outcomes_path"] = request.route_path("learning.outcomes", _query=period.query_args())
    hidden_labels = sum(1 for count in found.labels.values() if 0 < count < learning.SMALLEST_SHOWN)
    return {**page, "since": since, "until": until, "total_shown": learning.shown(found.total),
            "hidden_labels": hidden_labels,
            "sections": sections, "entries": entries, "total": total, "limit": learning.MAX_RESULTS}


def _hidden(counts: dict[str, int], total: int) -> set[str]:
    """The cells to suppress of a table whose counts add up to (at most) the total the report
    shows: the small ones, and enough others that subtracting the shown ones from the total does
    not give a small one back (the statistics' rule)."""
    return hidden_cells(counts, total)


def _b64(data: bytes | None) -> str | None:
    return None if data is None else base64.b64encode(data).decode("ascii")


@view_config(route_name="learning.outcomes", request_method="GET", renderer="json", permission=Permission.CASES_LIST)
@view_config(route_name="api.learning_outcomes", request_method="GET", renderer="json",
             permission=Permission.CASES_LIST)
def outcomes(request):
    """The closing records of the closed cases granted to the caller that the filters (metadata)
    pick, as stored, for a device to decrypt and search (docs/crypto.md 7.4): per case its keys to
    check, the caller's grant and the outcome item, nothing else of the case. Audited per case."""
    filters = LearningFilters.from_params(request.params)
    entries, total = learning.closed_cases(request.dbsession, request.identity.account.id, filters)
    found = learning.outcome_envelopes(request.dbsession, request.identity.account.id, entries)
    answer = []
    for envelope in found:
        case, grant, item = envelope.case, envelope.grant, envelope.item
        if item is not None:
            request.audit("case.closing_record_read", case_id=case.id)
        answer.append({
            "case": case.ref, "channel": case.channel.slug, "closed": case.closed_on.isoformat() if case.closed_on
            else None, "substantiated": case.substantiated, "changes": case.changes or [],
            "factors": case.factors or [],
            "public_key": _b64(case.public_key), "team_public_key": _b64(case.team_public_key),
            "team_key_mac": _b64(case.team_key_mac),
            "grant": {"id": grant.id, "sealed_case_key": _b64(grant.sealed_case_key),
                      "sealed_team_key": _b64(grant.sealed_team_key), "case_key_binding": _b64(grant.case_key_binding)},
            "items": [] if item is None else [{
                "id": item.id, "kind": item.kind, "account_id": item.account_id, "from": item.author,
                "author": _sealed_author(item), "at": item.created_on.isoformat(),
                "ciphertext": _b64(item.ciphertext)}],
        })
    return {"cases": answer, "total": total, "limit": learning.MAX_RESULTS}


def _sealed_author(item) -> str | None:
    """What the item's encryption binds as its author (None for version 1), as the case's envelopes say."""
    # The same rule as whistle.workspace.device_views.case_envelopes.
    return sealed_author(item.author, item.account_id) if crypto.item_author_sealed(item.ciphertext) else None
