"""The reporter's mailbox: the receipt form, the case page, messages, files, identity, leaving;
and the same as JSON under /api/v1/reporter/."""
from __future__ import annotations

import base64
import math
from typing import Any

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.i18n import TranslationString
from pyramid.renderers import render_to_response
from pyramid.security import forget, remember
from pyramid.view import view_config

from whistle import audit, crypto
from whistle.attachments.services import (
    REMOVE_METADATA_FIELD,
    AttachmentTooLarge,
    Limits,
    clean_file,
    limits_for,
    metadata_removal_offered,
    remove_metadata_ticked,
    store_attachment,
)
from whistle.attachments.uploads import FilePart, MalformedForm, csrf_ok, form_parts
from whistle.attachments.views import attachment_response, store_request_body
from whistle.board import services as board
from whistle.cases.models import ITEM_ATTACHMENT_META, ITEM_MESSAGE
from whistle.cases.services import TeamKeyUnchecked, as_sent, check_keys, sealed_author
from whistle.errors import Problem, problem_response, validation_problem
from whistle.i18n import _, english, localized, plural
from whistle.intake.forms import MAX_IDENTITY_BYTES, wants_plain
from whistle.intake_channels.services import (
    DEFAULT_QUICK_EXIT_URL,
    ChannelText,
    any_quick_exit_url,
    channel_by_slug,
    questionnaire_for,
)
from whistle.jsonapi import decode_base64, read_json, reject_unknown_members
from whistle.protection.services import checkins
from whistle.reporters.forms import validate_identity, validate_message
from whistle.reporters.identity import ReporterE2EIdentity, ReporterIdentity
from whistle.reporters.limits import (
    TooManyTries,
    TooManyUploads,
    check_receipt_tries,
    check_uploads,
    count_uploads,
    count_wrong_receipt,
)
from whistle.reporters.news import visit_news
from whistle.reporters.services import (
    IdentityGiven,
    ReceiptRejected,
    TooManyAttempts,
    Withdrawn,
    give_client_identity,
    login,
    login_with_lookup_value,
    logout,
    read_envelopes,
    read_mailbox,
    refuse_if_withdrawn,
    reveal_identity,
    send_client_message,
    send_files,
    send_message,
    speak_up_asked,
    unlock_for_reporter,
)
from whistle.security import cookies
from whistle.security.permissions import Permission
from whistle.sessions.models import REPORTER
from whistle.sessions.services import extend_session
from whistle.words import SPEAK_UP_LABELS, day_words, erased_words, size_words

LOGIN_TEMPLATE = "whistle:templates/reporters/login.jinja2"
CASE_TEMPLATE = "whistle:templates/reporters/case.jinja2"
UNKNOWN_RECEIPT = _("We could not open a report with that receipt. Check each character and try again.")
BUSY = _("The service is very busy just now, so your receipt was not checked yet. Please try again in a moment.")
TOO_MANY = _("Very many receipts are being tried on this service right now, so it is too busy to check yours. "
             "Nothing is wrong with your report. Please wait a minute and try again.")
TOO_MANY_TRIES_PROBLEM = "/api/v1/problems/too-many-receipt-tries"
TOO_MANY_UPLOADS_PROBLEM = "/api/v1/problems/too-many-uploads"
# (the usual words, the plain words) for a channel that asks for them.
MESSAGE_EXPIRED = (_("This page had expired, so nothing was sent yet. Check your message below and send it again."),
                   _("This page was open too long, so nothing was sent yet. Check your message below and press"
                     " Send again."))
FILES_TOO_LARGE = (_("A file was too large, so nothing was sent yet: each file can be at most ${file}, and all the"
                     " files of one report together ${case}. Your message is below; send it with smaller files"
                     " or none."),
                   _("A file was too big, so nothing was sent yet. Each file can be up to ${file}. Your message is"
                     " below: send it with a smaller file, or without one."))
IDENTITY_EXPIRED = (_("This page had expired. Check the details below and send again."),
                    _("This page was open too long. Check what you wrote below and send it again."))
ALREADY_TOLD = _("You have already told us who you are.")
# Said when a reporter who withdrew their report writes to it (the page and the API).
WITHDRAWN = (_("You withdrew this report on ${day}, so nothing more can be sent to it and nobody is working on it. "
               "If you want to raise something, you can send a new report."),
             _("You stopped this on ${day}, so nothing more can be sent here. If you want to tell us something, you "
               "can start again with a new message."))
WITHDRAWN_PROBLEM = "/api/v1/problems/withdrawn"
# A case opened before team key MACs existed: the team key can be checked only once a guardian
# has opened it since (docs/crypto.md, "The team key MAC").
IDENTITY_NOT_YET = _("Your details were not sent: they can be sent safely only after the people handling your report "
                     "have opened it. Please try again in a few days.")
VISIT_ENDED = _("Your visit has ended. Enter your receipt to open your report again.")
VISIT_HAD_ENDED = _("Your visit had ended. Enter your receipt to continue.")


def minutes_of(refused: TooManyTries | TooManyUploads) -> int:
    """The wait in whole minutes, at least one."""
    return max(1, math.ceil(refused.retry_after / 60))


def too_many_from_here(refused: TooManyTries) -> str:
    """The whole sentence for each count: languages change more than the noun after a number."""
    return plural("Too many receipts that open no report have been tried from here just now, so yours was not "
                  "checked. Nothing is wrong with your report. Please try again in ${count} minute.",
                  "Too many receipts that open no report have been tried from here just now, so yours was not "
                  "checked. Nothing is wrong with your report. Please try again in ${count} minutes.",
                  minutes_of(refused))


def too_many_files(refused: TooManyUploads, plain: bool) -> str:
    """In the channel's words: plain ones, or the usual."""
    if plain:
        return plural("Lots of files have been sent just now, so yours were not sent yet. Your message is below. "
                      "Please try again in ${count} minute.",
                      "Lots of files have been sent just now, so yours were not sent yet. Your message is below. "
                      "Please try again in ${count} minutes.", minutes_of(refused))
    return plural("Too many files have been sent from here, or to this service, just now, so nothing was sent yet. "
                  "Your message is below: send it again in ${count} minute.",
                  "Too many files have been sent from here, or to this service, just now, so nothing was sent yet. "
                  "Your message is below: send it again in ${count} minutes.", minutes_of(refused))


def reporter(request) -> ReporterIdentity | None:
    identity = request.identity
    return identity if isinstance(identity, ReporterIdentity) else None


def limits(request) -> Limits:
    return limits_for(request.whistle_settings)


def read_fields(request) -> dict[str, str]:
    """A small urlencoded (or file-less multipart) form as a dict; files are skipped. Sized for a
    message kept through the sign-in at the longest: a character is up to 4 bytes of UTF-8, and
    each of those "%XX" in an urlencoded body."""
    limit = request.whistle_settings.max_text_chars * 12 + 4096
    return {part.name: part.value for part in form_parts(request, max_field_bytes=limit)
            if not isinstance(part, FilePart)}


def forget_receipt(request) -> list[tuple[str, str]]:
    """The header that expires the receipt page's cookie, if the browser still carries it: once
    the reporter has signed in, or left, the receipt page must not show the code again."""
    profile = cookies.receipt_cookie(request.whistle_settings.cookies_secure).bind(request)
    return profile.get_headers(None) if profile.cookie_name in request.cookies else []


def login_page(request, *, status: int = 200, errors: dict | None = None, unsent: str = "", notice: str = ""):
    page = {"errors": errors or {}, "unsent": unsent, "notice": notice,
            "quick_exit_anywhere": any_quick_exit_url(request.dbsession) is not None,
            "metadata_removal": metadata_removal_offered(request.registry.hooks)}
    response = render_to_response(LOGIN_TEMPLATE, page, request=request)
    response.status = status
    return response


def case_page(request, identity: ReporterIdentity, *, status: int = 200, errors: dict | None = None,
              draft: str = "", identity_values: dict | None = None, mark_seen: bool = True,
              speak_up_values: dict | None = None, remove_metadata: bool = True):
    today = request.clock.today()
    mailbox = read_mailbox(request.dbsession, identity.case, identity.keypair,
                           server_key=request.whistle_settings.session_key, mark_seen=mark_seen, today=today,
                           clock=request.clock)
    channel = identity.case.channel
    shown = ChannelText(channel, request.language.code)
    page = {"mailbox": mailbox, "channel": shown,
            "questionnaire": shown.fields_in_language(questionnaire_for(channel, request.call_hook)),
            "errors": errors or {}, "draft": draft,
            "news": visit_news(request.dbsession, request.whistle_settings, mailbox, today),
            "identity_values": identity_values or {"identity_mode": "", "identity": {}}, "limits": limits(request),
            "speak_up_asked": speak_up_asked(identity.case), "speak_up_labels": SPEAK_UP_LABELS,
            "speak_up_values": speak_up_values or {"answer": identity.case.speak_up_again or "", "comment": ""},
            "metadata_removal": metadata_removal_offered(request.registry.hooks), "remove_metadata": remove_metadata}
    response = render_to_response(CASE_TEMPLATE, page, request=request)
    response.status = status
    return response


def _plain(identity: ReporterIdentity | None) -> bool:
    """Whether the reporter's channel asks for plain words."""
    return identity is not None and wants_plain(identity.case.channel)


def withdrawn_words(case, plain: bool) -> TranslationString:
    return TranslationString(WITHDRAWN[plain], mapping={"day": day_words(case.withdrawn_on)})


def voice(request, case) -> dict:
    """What the reporter has said about their report since sending it, and what they may still say
    (GET /api/v1/reporter/case and /envelopes): metadata only."""
    entries = board.entries_of(request.dbsession, case) if case.channel.board else []
    return {"withdrawn_on": case.withdrawn_on,
            "retention_withdrawn_days": case.channel.retention_withdrawn_days,
            "speak_up_asked": speak_up_asked(case), "speak_up_again": case.speak_up_again,
            # null on a channel without the board
            "board": {"consent": case.board_consent, "locked": bool(entries),
                      "acted_on": [{"id": entry.id, "title": entry.title,
                                    "url": request.route_path("board.list", _anchor=f"entry-{entry.id}")}
                                   for entry in entries]} if case.channel.board else None}


def too_many_uploads_problem(request, refused: TooManyUploads):
    """429 with Retry-After: this client, or the whole service, started all the files it may for
    now. Nothing of the file is kept."""
    request.tm.doom()
    return problem_response(
        Problem(429, f"Too many files from this client, or to this service, just now: nothing was stored. Send it "
                     f"again in {refused.retry_after} seconds (Retry-After).", type=TOO_MANY_UPLOADS_PROBLEM,
                title="Too many files", members={"retry_after": refused.retry_after}),
        {"Retry-After": str(refused.retry_after)})


def refuse_withdrawn(case) -> None:
    """The API's refusal (409) of anything sent to a case its reporter withdrew."""
    try:
        refuse_if_withdrawn(case)
    except Withdrawn:
        raise Problem(409, withdrawn_words(case, False), type=WITHDRAWN_PROBLEM, title="Report withdrawn") from None


# --- pages -----------------------------------------------------------------------------------

@view_config(route_name="reporters.login", request_method="GET", permission=Permission.REPORTER_LOGIN)
def login_form(request):
    if reporter(request) is not None:
        return HTTPSeeOther(request.route_url("reporters.case"))
    return login_page(request)


@view_config(route_name="reporters.login", request_method="POST", permission=Permission.REPORTER_LOGIN,
             require_csrf=False)
def login_submit(request):
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return login_page(request, status=400, errors={"form": str(error)})
    unsent = fields.get("unsent", "")
    if not csrf_ok(request, fields.get("csrf_token")):
        return login_page(request, status=400, unsent=unsent,
                          errors={"form": _("This page had expired. Please enter your receipt again.")})
    try:
        check_receipt_tries(request)
        result = login(request.dbsession, request.whistle_settings, request.clock, fields.get("receipt", ""))
    except TooManyTries as refused:
        response = login_page(request, status=429, unsent=unsent,
                              errors={"receipt": too_many_from_here(refused)})
        response.headers["Retry-After"] = str(refused.retry_after)
        return response
    except TooManyAttempts:
        return login_page(request, status=429, unsent=unsent, errors={"receipt": TOO_MANY})
    except ReceiptRejected:
        # Returned, not raised: the failure counts must be committed.
        count_wrong_receipt(request)
        return login_page(request, status=401, unsent=unsent, errors={"receipt": UNKNOWN_RECEIPT})
    except crypto.KdfBusy as busy:
        # Every Argon2id slot stayed taken (docs/operations.md 6.1): nothing was tried, and a message
        # the reporter could not send before stays with the form.
        request.tm.doom()
        response = login_page(request, status=503, unsent=unsent, errors={"receipt": BUSY})
        response.headers["Retry-After"] = str(busy.retry_after)
        return response
    previous = reporter(request)
    if previous is not None:  # one report open per browser: the earlier session ends now
        logout(request.dbsession, request.whistle_settings, previous.token)
    headers = remember(request, result.token, kind=REPORTER) + forget_receipt(request)
    if unsent:
        # Show the message they could not send, in the message box, ready to send now.
        identity = ReporterIdentity(case=result.case, keypair=result.keypair, session=None,
                                    token=result.token)
        response = case_page(request, identity, draft=unsent)
    else:
        response = HTTPSeeOther(request.route_url("reporters.case"))
    response.headers.extend(headers)
    return response


@view_config(route_name="reporters.case", request_method="GET", permission=Permission.MAILBOX_VISIT)
def case_view(request):
    identity = reporter(request)
    if identity is None:
        return login_page(request, notice=VISIT_ENDED)
    return case_page(request, identity)


@view_config(route_name="reporters.messages", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def message_submit(request):
    """A message, files, or both, in one multipart form. Files are encrypted as they arrive."""
    identity = reporter(request)
    settings = request.whistle_settings
    keys = None
    if identity is not None:
        keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                                   server_key=request.whistle_settings.session_key)
        # A stored case key that is not the one the reporter's key opens is refused before
        # anything of the post is read or stored.
        check_keys(identity.case, keys, kinds=[ITEM_MESSAGE, ITEM_ATTACHMENT_META])
    fields: dict[str, str] = {}
    files_sent = files_skipped = 0
    errors: dict[str, str] = {}
    withdrawn = identity is not None and identity.case.withdrawn_on is not None
    too_many: TooManyUploads | None = None
    try:
        for part in form_parts(request, max_field_bytes=settings.max_text_chars * 4 + 4096):
            if not isinstance(part, FilePart):
                fields[part.name] = part.value
            elif part.filename:
                if identity is None or keys is None or withdrawn or not csrf_ok(request, fields.get("csrf_token")):
                    files_skipped += 1
                    continue  # the parser skips the rest of this part
                check_uploads(request, files=files_sent + 1)
                chunks, outcome = part.chunks, None
                if fields.get(REMOVE_METADATA_FIELD) == "yes" and metadata_removal_offered(request.registry.hooks):
                    chunks, outcome = clean_file(request.call_hook, name=part.filename, content_type=part.content_type,
                                                 chunks=chunks, limits=limits(request))
                store_attachment(request.dbsession, request.blob_store, request.tm.get(), identity.case, keys,
                                 name=part.filename, content_type=part.content_type, chunks=chunks,
                                 limits=limits(request), author="reporter", today=request.clock.today(),
                                 metadata_removal=outcome)
                files_sent += 1
    except MalformedForm as error:
        errors["form"] = str(error)
    except TooManyUploads as refused:
        too_many = refused
        errors["files"] = too_many_files(refused, _plain(identity))
    except AttachmentTooLarge:
        file_limits = limits(request)
        errors["files"] = TranslationString(FILES_TOO_LARGE[_plain(identity)], mapping={
            "file": size_words(file_limits.max_file_bytes, limit=True),
            "case": size_words(file_limits.max_case_bytes, limit=True)})
    draft = fields.get("text", "")
    if identity is None:
        notice = (_("Your visit had ended, so your message was not sent yet. Enter your receipt and it will be "
                    "waiting for you. Files cannot be kept while you sign in again: please add them again.")
                  if files_skipped else
                  _("Your visit had ended, so your message was not sent yet. Enter your receipt and it will be "
                    "waiting for you."))
        return login_page(request, status=401, unsent=draft, notice=notice)
    if withdrawn:
        errors = {"form": withdrawn_words(identity.case, _plain(identity))}
        request.tm.doom()
        return case_page(request, identity, status=409, errors=errors, draft=draft, mark_seen=False)
    if not errors and not csrf_ok(request, fields.get("csrf_token")):
        errors["form"] = MESSAGE_EXPIRED[_plain(identity)]
    if not errors:
        text, errors = validate_message(draft, max_chars=settings.max_text_chars, allow_empty=files_sent > 0,
                                        plain=_plain(identity))
    if errors:
        request.tm.doom()  # nothing of a rejected post is kept, including files already stored
        status = 429 if too_many else 413 if "files" in errors else 422 if "text" in errors else 400
        response = case_page(request, identity, status=status, errors=errors, draft=draft, mark_seen=False,
                             remove_metadata=remove_metadata_ticked(fields))
        if too_many:
            response.headers["Retry-After"] = str(too_many.retry_after)
        return response
    if text:
        assert keys is not None  # unlocked above for a reporter with a session
        send_message(request.dbsession, request.clock, identity.case, keys, text, call_hook=request.call_hook,
                     with_files=files_sent > 0)
    elif files_sent:
        send_files(identity.case, call_hook=request.call_hook)
    if files_sent:
        request.audit("reporter.attachment_added", case_id=identity.case.id, actor="reporter",
                      detail={"files": files_sent})
        count_uploads(request, files=files_sent)
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="sent"))


@view_config(route_name="reporters.identity", request_method="POST", permission=Permission.MAILBOX_VISIT,
             require_csrf=False)
def identity_submit(request):
    identity = reporter(request)
    if identity is None:
        return login_page(request, status=401, notice=VISIT_HAD_ENDED)
    try:
        fields = read_fields(request)
    except MalformedForm as error:
        return case_page(request, identity, status=400, errors={"identity_form": str(error)}, mark_seen=False)
    values: dict[str, Any] = {"identity_mode": fields.get("identity_mode", ""),
              "identity": {key.removeprefix("identity."): value for key, value in fields.items()
                           if key.startswith("identity.") and key != "identity_mode"}}
    if not csrf_ok(request, fields.get("csrf_token")):
        return case_page(request, identity, status=400, identity_values=values, mark_seen=False,
                         errors={"identity_form": IDENTITY_EXPIRED[_plain(identity)]})
    if identity.case.withdrawn_on is not None:
        return case_page(request, identity, status=409, identity_values=values, mark_seen=False,
                         errors={"identity_form": withdrawn_words(identity.case, _plain(identity))})
    mailbox = read_mailbox(request.dbsession, identity.case, identity.keypair,
                           server_key=request.whistle_settings.session_key)
    if not mailbox.can_reveal_identity:
        return case_page(request, identity, status=409, mark_seen=False,
                         errors={"identity_form": ALREADY_TOLD})
    clean, errors = validate_identity(identity.case.channel, values["identity_mode"], values["identity"])
    if errors:
        return case_page(request, identity, status=422, errors=errors, identity_values=values, mark_seen=False)
    assert clean is not None  # validate_identity gives it when it finds no error
    keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                               server_key=request.whistle_settings.session_key)
    try:
        reveal_identity(request.dbsession, request.clock, identity.case, keys, values["identity_mode"], clean)
    except TeamKeyUnchecked:
        # Returned, not raised, so the audit of it is kept; nothing else was written.
        audit.record(request.dbsession, request.clock, actor=audit.services.REPORTER,
                     action="reporter.identity_deferred", case_id=identity.case.id, dated_to_day=True)
        return case_page(request, identity, status=409, identity_values=values, mark_seen=False,
                         errors={"identity_form": IDENTITY_NOT_YET})
    return HTTPSeeOther(request.route_url("reporters.case", _anchor="identity"))


@view_config(route_name="reporters.attachment", request_method="GET", permission=Permission.MAILBOX_VISIT)
def attachment_download(request):
    identity = reporter(request)
    if identity is None:
        return login_page(request, notice=VISIT_ENDED)
    keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                               server_key=request.whistle_settings.session_key)
    return attachment_response(request, identity.case, keys, request.matchdict["id"])


# Leaving needs no CSRF token: the worst a forged "leave" can do is end a session early,
# and a reporter in a hurry must never be stopped from leaving by an expired page.
@view_config(route_name="reporters.leave", request_method="POST", renderer="whistle:templates/reporters/left.jinja2",
             permission=Permission.MAILBOX_VISIT, require_csrf=False)
def leave(request):
    identity = reporter(request)
    channel = None
    if identity is not None:
        channel = identity.case.channel  # the page after leaving keeps its quick exit and help panel
        logout(request.dbsession, request.whistle_settings, identity.token)
    request.response.headers.extend(forget(request, kind=REPORTER) + forget_receipt(request))
    return {"channel": ChannelText(channel, request.language.code) if channel is not None else None}


# The quick exit: a plain link (no JavaScript), through here so that the visit is forgotten before
# the browser leaves for the neutral page: the mailbox session ends, the receipt cookie goes, and
# the browser is asked to drop what it cached of this site, so Back shows neither the receipt nor
# the report. Clear-Site-Data asks for "cache" only: "cookies" would clear every cookie of the
# registrable domain (the organisation's other sites too), and whistle's own are expired by name.
# A GET, with no CSRF token: it only forgets, and a reporter in a hurry must never be stopped.
@view_config(route_name="reporters.exit", request_method="GET", permission=Permission.PUBLIC)
@view_config(route_name="reporters.channel_exit", request_method="GET", permission=Permission.PUBLIC)
def quick_exit(request):
    channel = channel_by_slug(request.dbsession, request.matchdict["slug"]) if "slug" in request.matchdict else None
    neutral = (channel.quick_exit_url if channel is not None else None) or any_quick_exit_url(request.dbsession)
    response = HTTPSeeOther(neutral or DEFAULT_QUICK_EXIT_URL)
    identity = reporter(request)
    if identity is not None:
        logout(request.dbsession, request.whistle_settings, identity.token)
    response.headers.extend(forget(request, kind=REPORTER) + forget_receipt(request))
    response.headers["Clear-Site-Data"] = '"cache"'
    return response


# --- API -------------------------------------------------------------------------------------

@view_config(route_name="api.reporter_session", request_method="POST", renderer="json",
             permission=Permission.REPORTER_LOGIN)
def api_login(request):
    """Exactly one of {"receipt"} (version 1 or 2: a session that holds the reporter's key, the
    server decrypts) or {"lookup_value"} (an end-to-end session without a key: the device
    decrypts). Unknown and malformed values of either get the one 401, in one budget."""
    data = read_json(request)
    errors = reject_unknown_members(data, {"receipt", "lookup_value"})
    given = [name for name in ("receipt", "lookup_value") if name in data]
    if len(given) != 1:
        errors["receipt"] = "Give either the receipt or the lookup value, not both."
    elif given == ["receipt"] and not isinstance(data["receipt"], str):
        errors["receipt"] = "Give the receipt as a string."
    elif given == ["lookup_value"] and not isinstance(data["lookup_value"], str):
        errors["lookup_value"] = "Give the lookup value as base64 text (32 bytes)."
    if errors:
        raise validation_problem(errors)
    settings = request.whistle_settings
    try:
        check_receipt_tries(request)
        if given == ["receipt"]:
            result = login(request.dbsession, settings, request.clock, data["receipt"])
            token, holds_key = result.token, True
        else:
            e2e = login_with_lookup_value(request.dbsession, settings, request.clock,
                                          decode_base64(data["lookup_value"]))
            token, holds_key = e2e.token, False
    except TooManyTries as refused:
        return problem_response(
            Problem(429, f"Too many wrong receipts from this client just now: this one was not tried. Try again in "
                         f"{refused.retry_after} seconds (Retry-After).", type=TOO_MANY_TRIES_PROBLEM,
                    title="Too many receipt tries", members={"retry_after": refused.retry_after}),
            {"Retry-After": str(refused.retry_after)})
    except TooManyAttempts:
        return problem_response(Problem(429, TOO_MANY), {"Retry-After": "60"})
    except ReceiptRejected:
        # Returned, not raised, so the failure counts are committed.
        count_wrong_receipt(request)
        return problem_response(Problem(401, UNKNOWN_RECEIPT), {"WWW-Authenticate": "Bearer"})
    return {"token": token, "expires_in": int(settings.reporter_session_idle.total_seconds()),
            "holds_key": holds_key}


# Both kinds of reporter session can leave (the end-to-end one holds MAILBOX_CIPHERTEXT only).
@view_config(route_name="api.reporter_session", request_method="DELETE", permission=Permission.MAILBOX_CIPHERTEXT)
def api_logout(request):
    logout(request.dbsession, request.whistle_settings, request.identity.token)
    response = request.response
    response.status = 204
    response.content_type = None  # a 204 has no body, so no type either
    return response


# The mailbox on the device warns before its session ends on idle and offers to stay signed in
# (WCAG 2.2.1), as the pages do through POST /mailbox/keep-alive; the bearer token stands for the CSRF token.
@view_config(route_name="api.reporter_keep_alive", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_keep_alive(request):
    expires_in = extend_session(request.identity.session, request.whistle_settings, request.clock)
    return {"signed_in": True, "expires_in": expires_in}


@view_config(route_name="api.reporter_case", request_method="GET", renderer="json", permission=Permission.MAILBOX_USE)
def api_case(request):
    identity = request.identity
    today = request.clock.today()
    mailbox = read_mailbox(request.dbsession, identity.case, identity.keypair,
                           server_key=request.whistle_settings.session_key, mark_seen=True, today=today,
                           clock=request.clock)
    checkin_state = checkins(request.dbsession, request.whistle_settings, identity.case, today)
    return {
        "case": identity.case.ref,
        "status": identity.case.status,
        "status_text": english(mailbox.status_words),
        **voice(request, identity.case),
        "opened": mailbox.opened,
        "messages": [{"id": m["id"], "from": m["from"], "text": m["text"], "at": m["at"],
                      "author_sealed": m["author_sealed"]}
                     if not m.get("unverified")
                     else {"id": m["id"], "unverified": True, "kind": m["kind"], "at": m["at"]}
                     for m in mailbox.messages],
        "attachments": [{"id": a.id, "name": a.name, "size": a.size, "from": a.author,
                         "new": a.id in mailbox.new_file_ids} if a.verified else
                        {"id": a.id, "unverified": True, "kind": "attachment", "from": a.author}
                        for a in mailbox.attachments],
        "identity_given": mailbox.identity_given,
        # What the reporter sent, as the mailbox page shows it under "What you sent".
        "text": mailbox.text,
        "answers": mailbox.answers,
        # What failed to verify stands here, as in the guardians' API: an empty text is not "nothing sent".
        "unverified": [{"id": entry["id"], "unverified": True, "kind": entry["kind"]} for entry in mailbox.unverified],
        # retaliation watch
        "protection_consent": identity.case.protection_consent,
        "checkins_due": list(checkin_state.due),
        # what changed since the last visit, and when to come back
        "news": visit_news(request.dbsession, request.whistle_settings, mailbox, today,
                           checkin_state=checkin_state).as_json(),
    }


@view_config(route_name="api.reporter_messages", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_message(request):
    """{"item": base64}: a message item the device encrypted (either kind of session); {"text"}: the
    server encrypts it (only a session that holds the reporter's key)."""
    data = read_json(request)
    refuse_withdrawn(request.identity.case)
    if "item" in data:
        return _api_client_message(request, data)
    identity = request.identity
    if not isinstance(identity, ReporterIdentity):
        raise Problem(403, ReporterE2EIdentity.forbidden_detail)
    errors = reject_unknown_members(data, {"text"})
    text, text_errors = validate_message(data.get("text"), max_chars=request.whistle_settings.max_text_chars)
    errors.update(text_errors)
    if errors:
        raise validation_problem(errors)
    assert text is not None  # validate_message gives it when it finds no error
    keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                               server_key=request.whistle_settings.session_key)
    item_id = send_message(request.dbsession, request.clock, identity.case, keys, text, call_hook=request.call_hook)
    request.response.status = 201
    return {"id": item_id}


def client_item(data: dict, name: str, max_plaintext: int) -> bytes:
    """The item envelope in member `name`, if it has the shape of one of version 2 within
    `max_plaintext` bytes; otherwise a 422 naming the member."""
    item = decode_base64(data.get(name))
    if item is None or not crypto.is_item_of_size(item, max_plaintext):
        raise validation_problem({name: (f"Expected an item envelope of version 2 (docs/crypto.md 5.2) in base64, "
                                         f"of at most {crypto.item_size(max_plaintext)} bytes.")})
    return item


def _api_client_message(request, data: dict) -> dict:
    errors = reject_unknown_members(data, {"item"})
    if errors:
        raise validation_problem(errors)
    item = client_item(data, "item", request.whistle_settings.max_text_chars * 4)
    item_id = send_client_message(request.dbsession, request.clock, request.identity.case, item,
                                  call_hook=request.call_hook)
    request.response.status = 201
    return {"id": item_id}


@view_config(route_name="api.reporter_envelopes", request_method="GET", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_envelopes(request):
    """The case as stored, for the reporter's device to decrypt: the keys it checks (docs/crypto.md
    6.11, 6.12), the reporter's grant, the items a reporter reads and the files it may download."""
    case = request.identity.case
    today = request.clock.today()
    envelopes = read_envelopes(request.dbsession, case, mark_seen=True, today=today)
    grant = envelopes.grant

    def b64(data: bytes | None) -> str | None:
        return None if data is None else base64.b64encode(data).decode("ascii")

    def version(item) -> int:
        return 2 if crypto.item_author_sealed(as_sent(item, "ciphertext")) else 1

    return {
        "case": case.ref,
        "channel": case.channel.slug,
        "status": case.status,
        "status_text": english(envelopes.mailbox.status_words),
        **voice(request, case),
        "opened": case.opened_on,
        "case_public_key": b64(case.public_key),
        "team_public_key": b64(case.team_public_key),
        "team_key_mac": b64(case.team_key_mac),
        "sealed_case_key": b64(as_sent(grant, "sealed_case_key")),
        "case_key_binding": b64(grant.case_key_binding),
        # "author" is exactly what the item's encryption binds (docs/crypto.md 5.2); none in version 1.
        "items": [{"id": item.id, "kind": item.kind, "version": version(item),
                   "author": sealed_author(item.author, item.account_id) if version(item) == 2 else None,
                   "ciphertext": b64(as_sent(item, "ciphertext")), "at": item.created_on} if item.erased_on is None else
                  # Erased by a guardian: what it was, when and why, and no ciphertext.
                  {"id": item.id, "kind": item.kind, "version": None, "author": None, "ciphertext": None,
                   "at": item.created_on, "erased_on": item.erased_on,
                   "erased_words": localized(erased_words(item.erased_on, item.erased_reason))}
                  for item in envelopes.items],
        "attachments": [{"id": attachment.id, "meta_item": attachment.meta_item_id, "bytes": attachment.stored_bytes,
                         "author": sealed_author(attachment.author, attachment.account_id)}
                        for attachment in envelopes.attachments],
        "identity_given": envelopes.mailbox.identity_given,
        "news": visit_news(request.dbsession, request.whistle_settings, envelopes.mailbox, today).as_json(),
    }


IDENTITY_NOT_YET_API = ("Not stored: the team key of this case can be checked only after the people handling the "
                        "report have opened it. Try again in a few days.")


@view_config(route_name="api.reporter_identity", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_CIPHERTEXT)
def api_identity(request):
    """{"item": base64, "identity_mode"}: who the reporter is, as their device encrypted it to the
    team key it checked with the case's team key MAC (docs/crypto.md 6.11)."""
    data = read_json(request)
    case = request.identity.case
    refuse_withdrawn(case)
    errors = reject_unknown_members(data, {"item", "identity_mode"})
    mode = data.get("identity_mode")
    if mode not in ("confidential", "open") or mode not in case.channel.identity_modes:
        offered = [m for m in case.channel.identity_modes if m != "anonymous"]
        errors["identity_mode"] = (f"Expected one of {', '.join(offered)}." if offered
                                   else "This channel does not ask who reporters are.")
    if errors:
        raise validation_problem(errors)
    item = client_item(data, "item", MAX_IDENTITY_BYTES)
    assert isinstance(mode, str)  # checked above
    try:
        item_id = give_client_identity(request.dbsession, request.clock, case, mode, item)
    except IdentityGiven:
        raise Problem(409, "You have already said who you are: nothing was stored.",
                      type=IDENTITY_GIVEN, title="Identity already given") from None
    except TeamKeyUnchecked:
        # Returned, not raised, so the audit of it is kept; nothing else was written.
        audit.record(request.dbsession, request.clock, actor=audit.services.REPORTER,
                     action="reporter.identity_deferred", case_id=case.id, dated_to_day=True)
        return problem_response(Problem(409, IDENTITY_NOT_YET_API, type=TEAM_KEY_UNCHECKED,
                                        title="Team key not checked yet"))
    request.response.status = 201
    return {"id": item_id}


IDENTITY_GIVEN = "/api/v1/problems/identity-given"
TEAM_KEY_UNCHECKED = "/api/v1/problems/team-key-unchecked"


@view_config(route_name="api.reporter_attachments", request_method="POST", renderer="json",
             permission=Permission.MAILBOX_USE)
def api_attachment(request):
    identity = request.identity
    refuse_withdrawn(identity.case)
    try:
        check_uploads(request)
    except TooManyUploads as refused:
        return too_many_uploads_problem(request, refused)
    keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                               server_key=request.whistle_settings.session_key)
    attachment, size = store_request_body(request, identity.case, keys, author="reporter")
    request.audit("reporter.attachment_added", case_id=identity.case.id, actor="reporter", detail={"files": 1})
    send_files(identity.case, call_hook=request.call_hook)
    count_uploads(request)
    request.response.status = 201
    return {"id": attachment.id, "size": size}


@view_config(route_name="api.reporter_attachment", request_method="GET", permission=Permission.MAILBOX_USE)
def api_attachment_download(request):
    identity = request.identity
    keys = unlock_for_reporter(request.dbsession, identity.case, identity.keypair,
                               server_key=request.whistle_settings.session_key)
    return attachment_response(request, identity.case, keys, request.matchdict["id"])
