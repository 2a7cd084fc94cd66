"""The guardian's view of cases: the inbox and one case, as pages and as JSON."""
from __future__ import annotations

from pyramid.renderers import render_to_response
from pyramid.view import view_config
from sqlalchemy import select

from whistle import words
from whistle.accounts.models import Account
from whistle.admin.services import staffing_changes_for
from whistle.attachments.services import limits_for, list_attachments
from whistle.attachments.views import guardian_keys
from whistle.audit.services import case_events, case_history
from whistle.cases import actions, lifecycle
from whistle.cases.actions import VIEWED, eligible_grantees, labels_of, mark_read, record_view
from whistle.cases.context import CaseContext
from whistle.cases.inbox import SUMMARY_COLUMNS, InboxFilters, attention_counts, next_deadline, unread_counts
from whistle.cases.inbox import inbox as inbox_page
from whistle.cases.models import (
    HOLDER_GUARDIAN,
    HOLDER_STANDBY,
    ITEM_ATTACHMENT_META,
    ITEM_INTERNAL_ATTACHMENT_META,
    ITEM_MESSAGE,
    ITEM_NOTE,
    CaseGrant,
)
from whistle.cases.services import CaseKeys, read_case, record_unverifiable
from whistle.errors import Problem
from whistle.hooks.types import PRIORITIES
from whistle.i18n import _, localized
from whistle.intake_channels.models import Channel
from whistle.security.permissions import Permission
from whistle.timeline import names_for
from whistle.words import (
    CASE_FORM_FIELDS,
    CASE_FORM_MESSAGES,
    event_words,
    metadata_removal_words,
    problem_fields,
    reporter_dated,
    size_words,
)
from whistle.workspace.device_views import case_envelopes

MAX_PER_PAGE = 100
# Where the case's content goes, in device mode, until workspace.js has decrypted it (and for good
# without JavaScript).
DEVICE_WORDS = _("This sign-in keeps cases on your device: this page decrypts the case in your browser, which needs "
                  "JavaScript. Turn JavaScript on, or sign out and sign in again without JavaScript to have the "
                  "server open cases for you (where this service allows that).")


def summary(case, labels: list[str], unread: int, today, *, channel: str | None = None) -> dict:
    """What the API says of a case in a list: `case` is a Case (its channel's slug read from it)
    or a row of the inbox's SUMMARY_COLUMNS (the slug given as `channel`)."""
    due = next_deadline(case)
    return {
        "case": case.ref,
        "channel": case.channel.slug if channel is None else channel,
        "status": case.status,
        "priority": case.priority,
        "labels": labels,
        "opened": case.opened_on,
        "ack_due": case.ack_due,
        "feedback_due": case.feedback_due,
        "acknowledged": case.acknowledged_on,
        "feedback_given": case.feedback_given_on,
        "closed": case.closed_on,
        "next_deadline": {"kind": due[0], "date": due[1], "days": (due[1] - today).days} if due else None,
        "unread": unread,
        "delete_on": case.delete_on,
        "on_hold_since": case.hold_since,
        "surge_day": case.surge_day,
        "junk_reason": case.junk_reason,
    }


def case_summary(request, case) -> dict:
    account_id = request.identity.account.id
    unread = unread_counts(request.dbsession, account_id, [case.id]).get(case.id, 0)
    return summary(case, labels_of(request.dbsession, case), unread, request.clock.today())


def case_problem_words(problem, status: str, to: str | None):
    """What to say about a refused case form whose problem names no field (a move the case cannot
    make, an expired page); None when its fields say it all."""
    if problem is None or problem.errors:
        return None
    if problem.type == lifecycle.TRANSITION_PROBLEM:
        return _("This case is ${status} now, so it cannot be moved to ${to}: someone may have moved it on "
                 "meanwhile. The page shows what you can do now.",
                 mapping={"status": words.status_label(status).lower(), "to": words.status_label(to or "").lower()})
    return problem.detail


def unlock(request, context: CaseContext) -> CaseKeys:
    return guardian_keys(request, context.case)


# How many readings of a case its timeline lists, the latest: each guardian's reading is recorded
# once a day, which still adds up over the years; the audit log keeps them all.
TIMELINE_READS = 20


def _timeline(request, case, *, every_read: bool = False, words: bool = True) -> tuple[list[dict], bool]:
    """The case's audit events, each with what happened in a sentence for the page, and whether
    older readings were left out (all are listed with `every_read`, for the case's archive).
    Without `words` (the API, which gives the events as they are), only the events: the names
    the sentences need are not looked up."""
    if every_read:
        events, left_out = case_events(request.dbsession, case.id), False
    else:
        history = case_history(request.dbsession, case.id, repeated=VIEWED, latest=TIMELINE_READS)
        events, left_out = history.events, history.left_out
    if not words:
        return [{"action": e.action, "actor": e.actor, "at": e.at, "detail": e.detail} for e in events], left_out
    names = names_for(request.dbsession, events)
    return [{"action": e.action, "actor": e.actor, "at": e.at, "detail": e.detail,
             "words": event_words(e.action, e.actor, e.detail, names), "dated": reporter_dated(e.actor)}
            for e in events], left_out


def _attachments(request, case, keys) -> list:
    return list_attachments(request.dbsession, case, keys)


def _names(dbsession, account_ids) -> dict[int | None, str]:
    ids = sorted({i for i in account_ids if i})
    return dict(dbsession.execute(select(Account.id, Account.username).where(Account.id.in_(ids))).all()) if ids else {}


def _read(request, case, keys):
    """The case's content and attachments; what fails to verify is audited and shown as such."""
    content, attachments = read_case(case, keys), _attachments(request, case, keys)
    lost = content.unverified + [
        {"id": a.meta_item_id, "kind": ITEM_INTERNAL_ATTACHMENT_META if a.internal else ITEM_ATTACHMENT_META}
        for a in attachments if not a.verified]
    record_unverifiable(request.dbsession, request.clock, case, lost, reporter_path=False)
    return content, attachments


def _usernames(dbsession, case, holder: str) -> list[str]:
    """Who holds the case's keys as `holder` (guardian, or standby for the second tier)."""
    return list(dbsession.scalars(
        select(Account.username).join(CaseGrant, CaseGrant.account_id == Account.id)
        .where(CaseGrant.case_id == case.id, CaseGrant.holder == holder).order_by(Account.username)))


_ERASABLE_WORDS = {ITEM_MESSAGE: _("Message ${number}, ${who}, ${day}"), ITEM_NOTE: _("Note ${number}, ${who}, ${day}"),
                   ITEM_ATTACHMENT_META: _("File ${number}, ${who}, ${day}"),
                   ITEM_INTERNAL_ATTACHMENT_META: _("Internal file ${number}, ${who}, ${day}")}


def erasable_choices(case, names: dict) -> list[tuple[str, str]]:
    """The erase form's choices, (item id, words): each message, note or file not yet erased, named
    by what it is, its number among those of its kind, who wrote it and when (no content: the same
    words in device mode, where the server reads none)."""
    choices, counted_so_far = [], dict.fromkeys(_ERASABLE_WORDS, 0)
    for item in case.items:
        if item.kind not in _ERASABLE_WORDS:
            continue
        counted_so_far[item.kind] += 1
        if item.erased_on is None:
            who = _("from the reporter") if item.author == "reporter" else _(
                "by ${name}", mapping={"name": names.get(item.account_id) or _("a guardian")})
            choices.append((str(item.id), _(_ERASABLE_WORDS[item.kind], mapping={
                "number": counted_so_far[item.kind], "who": who, "day": words.day_words(item.created_on)})))
    return choices


def case_page(request, context: CaseContext, *, problem: Problem | None = None, form: str | None = None,
              values: dict | None = None):
    """The case page as a response; after a refused action it names the problem, keeps what was
    typed and answers with the problem's status."""
    case = context.case
    account = request.identity.account
    # Device mode: nothing is decrypted here; the page carries the envelopes and workspace.js
    # decrypts and fills its content sections on the guardian's device (docs/crypto.md 7.4).
    device = not request.identity.holds_key
    envelopes = case_envelopes(request, case) if device else None
    if device:
        content, attachments = None, []
    else:
        content, attachments = _read(request, case, unlock(request, context))
    notes_by = {item.id: item.account_id for item in case.items}
    names = _names(request.dbsession, notes_by.values())
    events, earlier_reads_left_out = _timeline(request, case)
    page = {
        "device": device,
        "envelopes": envelopes,
        "device_words": DEVICE_WORDS,
        "case": case,
        "content": content,
        "labels": labels_of(request.dbsession, case),
        "attachments": attachments,
        "events": events,
        "earlier_reads_left_out": earlier_reads_left_out,
        "moves": lifecycle.allowed_moves(case.status),
        "status_labels": words.STATUS_LABELS,
        "substantiated_choices": lifecycle.SUBSTANTIATED,
        "change_choices": lifecycle.CHANGES,
        "factor_choices": lifecycle.FACTORS,
        # In the page's language already: workspace.js reads them from JSON.
        "factor_words": {slug: localized(text) for slug, text in lifecycle.FACTOR_WORDS.items()},
        "priorities": PRIORITIES,
        "grantees": eligible_grantees(request.dbsession, case),
        "holders": _usernames(request.dbsession, case, HOLDER_GUARDIAN),
        "standby": _usernames(request.dbsession, case, HOLDER_STANDBY),
        "author_of": lambda item_id: names.get(notes_by.get(item_id)) or localized(_("a guardian")),
        "next_deadline": next_deadline(case),
        "today": request.clock.today(),
        "problem": problem,
        # A refused form: its fields' errors in words, and what its problem says if it names no field.
        # In the page's language already: the error summary puts label and message together in Python.
        "field_errors": {name: localized(message)
                         for name, message in problem_fields(problem, CASE_FORM_MESSAGES).items()},
        "problem_words": case_problem_words(problem, case.status, (values or {}).get("to")),
        "fields": CASE_FORM_FIELDS,
        "form": form,
        "values": values or {},
        "has_download": request.registry.introspector.get("routes", "attachments.download") is not None,
        "name_of": lambda account_id: names.get(account_id) or localized(_("a guardian")),
        "file_limit": size_words(limits_for(request.whistle_settings).max_file_bytes, limit=True),
        "max_text": actions.MAX_TEXT,
        "upload_limits": limits_for(request.whistle_settings),
        "erasable": erasable_choices(case, names),
        # Erased files: metadata only (what, by whom, when, why), shown alike in both modes.
        "erased_files": [item for item in case.items if item.erased_on is not None
                         and item.kind in (ITEM_ATTACHMENT_META, ITEM_INTERNAL_ATTACHMENT_META)],
    }
    if problem is None:
        mark_read(request.dbsession, case, account.id, newest=max((i.id for i in case.items), default=0))
    response = render_to_response("whistle:templates/cases/show.jinja2", page, request=request)
    if problem is not None:
        response.status = problem.status
    return response


@view_config(route_name="cases.inbox", renderer="whistle:templates/cases/inbox.jinja2",
             permission=Permission.CASES_LIST)
def inbox(request):
    error: Problem | None
    try:
        filters = InboxFilters.from_params(request.params)
    except Problem as problem:
        request.response.status = problem.status
        filters, error = InboxFilters(), problem
    else:
        error = None
    today = request.clock.today()
    rows, total = inbox_page(request.dbsession, request.identity.account.id, filters, today)
    channels = request.dbsession.scalars(select(Channel).order_by(Channel.title)).all()
    return {"rows": rows, "total": total, "today": today, "filters": filters, "error": error,
            "attention": attention_counts(request.dbsession, request.identity.account.id, today),
            "statuses": lifecycle.STATUSES, "status_labels": words.STATUS_LABELS, "priorities": PRIORITIES,
            "channels": channels, "pages": max(1, -(-total // filters.per_page)),
            "device": not request.identity.holds_key,
            "staffing_changes": staffing_changes_for(request.dbsession, request.identity.account)}


@view_config(route_name="cases.show", request_method="GET", permission=Permission.CASE_READ)
def show(context: CaseContext, request):
    record_view(request.dbsession, request.clock, context.case, request.identity.account.id)
    return case_page(request, context)


@view_config(route_name="api.cases", request_method="GET", renderer="json", permission=Permission.CASES_LIST)
def api_list(request):
    filters = InboxFilters.from_params(request.params)
    today = request.clock.today()
    rows, total = inbox_page(request.dbsession, request.identity.account.id, filters, today, columns=SUMMARY_COLUMNS)
    return {"cases": [summary(row.case, row.labels, row.unread, today, channel=row.case.channel_slug)
                      for row in rows], "total": total,
            "page": filters.page, "per_page": filters.per_page}


@view_config(route_name="api.staffing_changes", request_method="GET", renderer="json",
             permission=Permission.CASES_LIST)
def api_staffing_changes(request):
    """The inbox's "Changes to your channels": who was given access to them, by whom, when."""
    return {"changes": staffing_changes_for(request.dbsession, request.identity.account)}


@view_config(route_name="api.case", request_method="GET", renderer="json", permission=Permission.CASE_READ)
def api_show(context: CaseContext, request):
    case = context.case
    keys = unlock(request, context)
    content, attachments = _read(request, case, keys)
    by = _names(request.dbsession, [a.account_id for a in attachments])
    record_view(request.dbsession, request.clock, case, request.identity.account.id)
    events, earlier_reads_left_out = _timeline(request, case, words=False)
    body = case_summary(request, case)
    body.update({
        "text": content.text,
        "answers": content.answers,
        "messages": content.messages,
        "notes": content.notes,
        "records": content.records,
        "substantiated": case.substantiated,
        "changes": case.changes,
        "factors": case.factors or [],
        "allowed_moves": lifecycle.allowed_moves(case.status),
        "attachments": [{"id": a.id, "name": a.name, "size": a.size, "type": a.content_type, "from": a.author,
                         "by": by.get(a.account_id), "internal": a.internal, "at": a.created_on,
                         "metadata_removal": a.metadata_removal,
                         "metadata_removal_words": metadata_removal_words(a.metadata_removal)} if a.verified else
                        {"id": a.id, "unverified": True, "kind": "attachment", "from": a.author,
                         "internal": a.internal, "at": a.created_on}
                        for a in attachments],
        "unverified": [{"id": u["id"], "unverified": True, "kind": u["kind"]} for u in content.unverified],
        "erased_files": content.erased_files,
        "withdrawn_on": case.withdrawn_on,
        "speak_up_again": case.speak_up_again,
        "speak_up_comments": content.comments,
        "events": events,
        "earlier_reads_left_out": earlier_reads_left_out,
    })
    if content.identity is not None:
        body["identity"] = content.identity
    # What was read is what read_case() decrypted: the case's items, loaded already.
    mark_read(request.dbsession, case, request.identity.account.id, newest=max((i.id for i in case.items), default=0))
    return body
