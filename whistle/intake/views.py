"""Submitting a disclosure: the no-JavaScript form and POST /api/v1/disclosures."""
from __future__ import annotations

from pyramid.httpexceptions import HTTPSeeOther
from pyramid.view import view_config
from webob.multidict import MultiDict

from whistle.attachments.services import (
    REMOVE_METADATA_FIELD,
    AttachmentTooLarge,
    clean_file,
    limits_for,
    metadata_removal_offered,
    remove_metadata_ticked,
    store_attachment,
)
from whistle.attachments.uploads import FilePart, MalformedForm, csrf_ok, form_parts
from whistle.board.services import any_published
from whistle.crypto import KdfBusy
from whistle.errors import Problem, problem_response, validation_problem
from whistle.i18n import _
from whistle.intake import e2e, receipts, work
from whistle.intake.forms import IDENTITY_FIELDS, validate_disclosure, wants_plain
from whistle.intake.limits import Admission, TooManyReports, admit_disclosure, count_disclosure
from whistle.intake.services import (
    Readers,
    acknowledgement_due,
    already_submitted,
    new_submission_token,
    readers_of,
    submit_disclosure,
)
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import (
    ChannelText,
    active_channels,
    any_quick_exit_url,
    channel_by_slug,
    describe,
    questionnaire_for,
)
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.key_directory.services import live_channels, unattended_reasons, why_unattended
from whistle.numbers import whole_number
from whistle.routing.services import NobodyCanReceive
from whistle.security import cookies
from whistle.security.permissions import Permission
from whistle.sessions.services import open_e2e_reporter_session
from whistle.words import size_words

# What a refused form says, (the usual words, the plain words), in the page's language.
FORM_EXPIRED = (_("This page had expired, so nothing was sent yet. Check your words below and send again."),
                _("This page was open too long, so nothing was sent yet. Check your words below and press Send again."))
TOO_LARGE = (_("A file was too large, so nothing was sent yet. Each file can be at most ${file}, and all the files of"
               " one report together ${case}. Choose smaller files, or send without them and add them later from"
               " your report's page."),
             _("A file was too big, so nothing was sent yet. Each file can be up to ${file}. Pick a smaller file,"
               " or send without it."))
BUSY = (_("The service is very busy just now, so nothing was sent yet. Your words are still below: please press Send"
          " again in a moment."),
        _("Lots of people are using this just now, so your message was not sent yet. Your words are still here."
          " Please press Send again in a moment."))
# The report form's field that only a program fills in (people never see it). Named as a field a
# program filling in forms would expect to fill.
TRAP_FIELD = "website"
TRAP_FILLED = (_("Nothing was sent yet. Your words are still below: check them and send again."),
               _("Your message was not sent yet. Your words are still below. Please press Send again."))
TOO_MANY_REPORTS = (_("Too many reports have come from here, or to this service, just now, so nothing was sent yet."
                      " Your words are still below: try again in ${minutes}."),
                    _("Lots of messages have been sent just now, so yours was not sent yet. Your words are still"
                      " below. Please try again in ${minutes}."))


@view_config(route_name="home", renderer="whistle:templates/home/index.jinja2", permission=Permission.PUBLIC)
def home(request):
    reasons = unattended_reasons(request.dbsession, request.whistle_settings, request.clock)
    channels = active_channels(request.dbsession)
    return {"channels": _all_shown(request, [c for c in channels if c.id not in reasons]),
            "not_open": _all_shown(request, [c for c in channels if c.id in reasons]),
            "quick_exit_anywhere": any_quick_exit_url(request.dbsession) is not None,
            "board": any_published(request.dbsession)}


NO_SUCH_CHANNEL = _("There is no such reporting channel.")


def _shown(request, channel: Channel | None) -> ChannelText | None:
    """The channel as this request's page shows it: its texts in the page's language."""
    return ChannelText(channel, request.language.code) if channel is not None else None


def _all_shown(request, channels: list[Channel]) -> list[ChannelText]:
    return [ChannelText(channel, request.language.code) for channel in channels]


def _channel_or_404(request):
    channel = channel_by_slug(request.dbsession, request.matchdict["slug"])
    if channel is None:
        raise Problem(404, NO_SUCH_CHANNEL)
    return channel


def _form_values(post: MultiDict) -> dict:
    """What the reporter typed, as the template needs it to fill the form back in."""
    return {
        "text": post.get("text", ""),
        "answers": {key[len("answers."):]: post.getall(key) if len(post.getall(key)) > 1 else post.get(key)
                    for key in post if key.startswith("answers.")},
        "identity_mode": post.get("identity_mode", "anonymous"),
        "identity": {name: post.get(f"identity.{name}", "") for name in IDENTITY_FIELDS},
        "submission_token": post.get("submission_token", ""),
        "left_out": post.getall("left_out"),
        "remove_metadata": remove_metadata_ticked(post),
    }


@view_config(route_name="intake.form", request_method="GET", renderer="whistle:templates/intake/form.jinja2",
             permission=Permission.DISCLOSURE_SUBMIT)
def disclosure_form(request):
    channel = _channel_or_404(request)
    if why_unattended(request.dbsession, request.whistle_settings, request.clock, channel):
        return _not_live(request, channel)
    # Ticked until the reporter unticks it: someone who has not thought about what a photo says
    # of where it was taken is the one it would name.
    values = {"answers": {}, "identity": {}, "identity_mode": "anonymous", "submission_token": new_submission_token(),
              "left_out": [], "remove_metadata": True}
    shown = ChannelText(channel, request.language.code)
    return {"channel": shown, "values": values, "errors": {}, "limits": limits_for(request.whistle_settings),
            "questionnaire": shown.fields_in_language(questionnaire_for(channel, request.call_hook)),
            "readers": _readers(request, channel),
            "metadata_removal": metadata_removal_offered(request.registry.hooks)}


def _readers(request, channel) -> Readers:
    return readers_of(request.dbsession, request.whistle_settings, request.clock, channel)


LEFT_OUT_UNKNOWN = (_("Leave out only people from this list."), _("Please only tick people from this list."))
LEFT_OUT_EVERYONE = (_("You left out everyone who could read your report, so nobody could read it. Untick at least "
                       "one person, or send your report through another channel."),
                     _("You ticked everyone, so nobody could read your message. Please untick at least one person."))


def _left_out(readers: Readers, values: list, plain: bool) -> tuple[frozenset[int], dict[str, str]]:
    """The guardians the reporter left out (account ids the list offered), or an error naming
    left_out: someone not on the list, or everyone on it."""
    ids = [whole_number(value) if isinstance(value, str) else value for value in values]
    if not all(isinstance(i, int) and not isinstance(i, bool) and i in readers.ids for i in ids):
        return frozenset(), {"left_out": LEFT_OUT_UNKNOWN[plain]}
    chosen = frozenset(i for i in ids if isinstance(i, int))
    if readers.ids and chosen >= readers.ids:
        return chosen, {"left_out": LEFT_OUT_EVERYONE[plain]}
    return chosen, {}


class _Rejected(Exception):
    """The form cannot be accepted; `page` is what to show instead."""

    def __init__(self, status: int, errors: dict[str, str]) -> None:
        self.status, self.errors = status, errors


def _refuse_if_trap_filled(channel, post: MultiDict) -> None:
    """A form with the field nobody sees filled in was sent by a program: refused like any form
    with an error (no case, nothing of it kept, the field not shown back), and with words a person
    can act on, in case a browser filled it in for one. A refusal rather than a pretended success:
    a person who believed they had reported, when nothing was kept, would be worse off than a
    program that learns its trick failed."""
    if post.get(TRAP_FIELD, "").strip():
        raise _Rejected(400, {"form": TRAP_FILLED[wants_plain(channel)]})


class _AlreadySent(Exception):
    """The form was sent before (a double press on Send): `sent` is that report's receipt."""

    def __init__(self, sent) -> None:
        self.sent = sent


def _open_case(request, channel, post: MultiDict):
    """Validate everything typed and open the case, or raise _Rejected / _AlreadySent."""
    if not csrf_ok(request, post.get("csrf_token")):
        raise _Rejected(400, {"form": FORM_EXPIRED[wants_plain(channel)]})
    _refuse_if_trap_filled(channel, post)
    token = post.get("submission_token", "")
    # Before any Argon2id work (a repeated form derives its receipt again; a new one derives one).
    admission = admit_disclosure(request)
    if token and (sent := already_submitted(request.dbsession, request.whistle_settings, token)):
        raise _AlreadySent(sent)
    values = _form_values(post)
    questionnaire = questionnaire_for(channel, request.call_hook)
    multi = {spec["name"] for spec in questionnaire if spec["type"] == "multiple_choice"}
    answers = {name: post.getall(f"answers.{name}") if name in multi else value
               for name, value in values["answers"].items()}
    submission, errors = validate_disclosure(
        channel, text=values["text"], answers=answers, identity_mode=values["identity_mode"],
        identity=values["identity"], max_text_chars=request.whistle_settings.max_text_chars,
        questionnaire=questionnaire,
    )
    left_out, left_out_errors = _left_out(_readers(request, channel), values["left_out"], wants_plain(channel))
    errors.update(left_out_errors)
    if errors:
        raise _Rejected(422, errors)
    assert submission is not None  # validate_disclosure gives one when it finds no error
    return submit_disclosure(request.dbsession, request.whistle_settings, request.clock, submission,
                             submission_token=token or None, call_hook=request.call_hook,
                             deadline_profiles=request.registry.deadline_profiles, left_out=left_out,
                             surge=admission.surge)


# CSRF is checked here rather than by the view deriver so that an expired token re-renders the
# form with the reporter's words in it, instead of throwing them away on an error page. The
# body is read as a stream (attachments/uploads.py), never through request.POST, so that files
# go straight into encryption and nothing plaintext is spooled to disk.
@view_config(route_name="intake.form", request_method="POST", renderer="whistle:templates/intake/form.jinja2",
             permission=Permission.DISCLOSURE_SUBMIT, require_csrf=False)
def submit_form(request):
    # A channel set inactive while the reporter typed is "not open", with their words given back.
    channel = channel_by_slug(request.dbsession, request.matchdict["slug"], active_only=False)
    if channel is None:
        raise Problem(404, NO_SUCH_CHANNEL)
    if not channel.active or why_unattended(request.dbsession, request.whistle_settings, request.clock, channel):
        return _not_live(request, channel, posted=True)
    settings = request.whistle_settings
    post: MultiDict[str, str] = MultiDict()
    result = None
    files_chosen = False
    try:
        try:
            for part in form_parts(request, max_field_bytes=settings.max_text_chars * 4 + 4096):
                if not isinstance(part, FilePart):
                    post.add(part.name, part.value)
                    continue
                if not part.filename:
                    continue
                files_chosen = True
                # The browser sends the file inputs last, so everything typed is here by now:
                # the case is opened before the first file, and each file streams into it.
                if result is None:
                    result = _open_case(request, channel, post)
                chunks, outcome = part.chunks, None
                if post.get(REMOVE_METADATA_FIELD) == "yes" and metadata_removal_offered(request.registry.hooks):
                    chunks, outcome = clean_file(request.call_hook, name=part.filename, content_type=part.content_type,
                                                 chunks=chunks, limits=limits_for(settings))
                store_attachment(request.dbsession, request.blob_store, request.tm.get(), result.case, result.keys,
                                 name=part.filename, content_type=part.content_type, chunks=chunks,
                                 limits=limits_for(request.whistle_settings), author="reporter",
                                 today=request.clock.today(), metadata_removal=outcome)
        except MalformedForm as error:
            raise _Rejected(400, {"form": str(error)}) from None
        except AttachmentTooLarge:
            limits = limits_for(settings)
            raise _Rejected(413, {"attachments": _(TOO_LARGE[wants_plain(channel)], mapping={
                "file": size_words(limits.max_file_bytes, limit=True),
                "case": size_words(limits.max_case_bytes, limit=True)})}) from None
        if result is None:
            result = _open_case(request, channel, post)
        _refuse_if_trap_filled(channel, post)  # sent after the files: the case is thrown away
    except TooManyReports as refused:
        request.response.headers["Retry-After"] = str(refused.retry_after)
        words = _(TOO_MANY_REPORTS[wants_plain(channel)], mapping={"minutes": refused.minutes_words})
        return _form_again(request, channel, post, 429, {"form": words})
    except KdfBusy as busy:
        # Every Argon2id slot stayed taken (docs/operations.md 6.1): nothing was kept, the words are given back.
        request.response.headers["Retry-After"] = str(busy.retry_after)
        return _form_again(request, channel, post, 503, {"form": BUSY[wants_plain(channel)]})
    except NobodyCanReceive:
        return _nobody_can_receive(request, channel, post, files_left_out=files_chosen)
    except _AlreadySent as again:
        # The browser may have dropped the first answer (and its receipt) for this one: the
        # receipt page shows the same receipt again. CSRF was checked first, so only the
        # browser the form was sent from gets here.
        request.tm.doom()
        if again.sent.receipt is None:
            request.override_renderer = "whistle:templates/intake/already_sent.jinja2"
            return {"channel": ChannelText(channel, request.language.code)}
        return _to_receipt_page(request, channel, receipt=again.sent.receipt, case_ref=again.sent.case.ref)
    except _Rejected as rejected:
        return _form_again(request, channel, post, rejected.status, rejected.errors)
    count_disclosure(request)
    return _to_receipt_page(request, channel, receipt=result.receipt, case_ref=result.case.ref)


def _form_again(request, channel, post: MultiDict, status: int, errors: dict[str, str]) -> dict:
    """The form again, with what was typed and the errors; nothing of the refused form is kept."""
    request.tm.doom()  # no case, no files
    request.response.status = status
    shown = ChannelText(channel, request.language.code)
    return {"channel": shown, "values": _form_values(post), "errors": errors,
            "limits": limits_for(request.whistle_settings),
            "questionnaire": shown.fields_in_language(questionnaire_for(channel, request.call_hook)),
            "readers": _readers(request, channel),
            "metadata_removal": metadata_removal_offered(request.registry.hooks)}


def _to_receipt_page(request, channel, *, receipt: str, case_ref: str) -> HTTPSeeOther:
    # Post/redirect/get: the receipt is shown by a GET page, so Back and reload neither send the
    # report again nor show it; the receipt travels there in a sealed cookie (intake/receipts.py).
    response = HTTPSeeOther(request.route_url("intake.receipt", slug=channel.slug))
    _carry_receipt(request, response, receipt=receipt, case_ref=case_ref, slug=channel.slug)
    return response


@view_config(route_name="intake.receipt", request_method="GET", renderer="whistle:templates/intake/receipt.jinja2",
             permission=Permission.DISCLOSURE_SUBMIT)
def receipt_page(request):
    """The receipt while the cookie carries it; after that (or Leave), that it is not kept."""
    channel = _channel_or_404(request)
    carried = _carried_receipt(request, channel.slug)
    return {"channel": ChannelText(channel, request.language.code), "receipt": carried.receipt if carried else None,
            "case_ref": carried.case_ref if carried else None,
            # The channel's deadline profile decides it (7 days, or 10 working days for children's complaints).
            "answer_by": acknowledgement_due(request.dbsession, carried.case_ref) if carried else None}


# Leaving needs no CSRF token, like leaving the mailbox: the worst a forged "leave" can do is
# hide a receipt early, and the cookie is SameSite=Strict anyway; a reporter in a hurry must
# never be stopped from leaving by an expired page.
@view_config(route_name="intake.receipt_leave", request_method="POST",
             renderer="whistle:templates/reporters/left.jinja2", permission=Permission.DISCLOSURE_SUBMIT,
             require_csrf=False)
def receipt_leave(request):
    slug = request.matchdict["slug"]
    _forget_receipt(request, request.response)
    return {"channel": _shown(request, channel_by_slug(request.dbsession, slug)), "from_receipt": True}


@view_config(route_name="api.channels", request_method="GET", renderer="json", permission=Permission.PUBLIC)
def api_channels(request):
    unattended = unattended_reasons(request.dbsession, request.whistle_settings, request.clock)
    return {"channels": [describe(channel, questionnaire_for(channel, request.call_hook),
                                  accepting_reports=channel.id not in unattended)
                         for channel in active_channels(request.dbsession)]}


@view_config(route_name="api.disclosures_challenge", request_method="GET", renderer="json",
             permission=Permission.DISCLOSURE_SUBMIT)
def api_challenge(request):
    """A proof-of-work challenge for the report form's JavaScript (docs/crypto.md 6.15)."""
    settings = request.whistle_settings
    challenge = work.new_challenge(settings, request.clock)
    if challenge is None:
        raise Problem(404, "Proof of work is off: reports need none.", type=PROOF_OF_WORK_OFF,
                      title="Proof of work off")
    return {"challenge": challenge, "bits": settings.proof_of_work_bits,
            "expires_in": int(settings.proof_of_work_lifetime.total_seconds())}


PROOF_OF_WORK_OFF = "/api/v1/problems/proof-of-work-off"
DISCLOSURE_MEMBERS = {"channel", "text", "answers", "identity", "identity_mode", "left_out", "proof"}


@view_config(route_name="api.disclosures", request_method="POST", renderer="json",
             permission=Permission.DISCLOSURE_SUBMIT)
def api_submit(request):
    data = read_json(request, limit=e2e.max_body_bytes(request.whistle_settings))
    # Before any other work (the key directory's checks, validation, Argon2id): in a flood, most
    # requests are refused here, and a refusal must cost little.
    try:
        admission = admit_disclosure(request, proven=_proven(request, data))
    except TooManyReports as refused:
        return _too_many_reports_problem(request, refused)
    if "format" in data:
        return _api_submit_client_built(request, data, admission)
    errors = reject_unknown_members(data, DISCLOSURE_MEMBERS)
    slug = data.get("channel")
    channel = channel_by_slug(request.dbsession, slug) if isinstance(slug, str) else None
    if channel is not None and why_unattended(request.dbsession, request.whistle_settings, request.clock, channel):
        raise _channel_not_live(channel)
    if channel is None:
        errors["channel"] = "No such channel: see GET /api/v1/channels."
    answers, identity = data.get("answers") or {}, data.get("identity")
    if not isinstance(answers, dict):
        errors["answers"] = "Expected an object of answers by field name."
    if identity is not None and not isinstance(identity, dict):
        errors["identity"] = "Expected null or an object with name, contact, personnel_id."
    submission = None
    if channel is not None and "answers" not in errors and "identity" not in errors:
        # Check the content too, so one answer names every faulty field at once.
        mode = data.get("identity_mode") or ("confidential" if identity else "anonymous")
        submission, content_errors = validate_disclosure(
            channel, text=data.get("text"), answers=answers, identity_mode=mode, identity=identity,
            max_text_chars=request.whistle_settings.max_text_chars,
            questionnaire=questionnaire_for(channel, request.call_hook),
        )
        errors.update(content_errors)
    left_out: frozenset[int] = frozenset()
    if "left_out" in data:
        given = data["left_out"]
        readers = _readers(request, channel) if channel is not None else Readers((), ())
        if not isinstance(given, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in given):
            errors["left_out"] = "Expected a list of guardians' account ids (GET /api/v1/channels/{slug}/keys)."
        elif not set(given) <= readers.ids:
            errors["left_out"] = "Leave out only guardians the key directory lists for this channel."
        else:
            left_out = frozenset(given)
    if errors:
        raise validation_problem(errors)
    assert submission is not None  # validate_disclosure gives one when it finds no error
    try:
        result = submit_disclosure(request.dbsession, request.whistle_settings, request.clock, submission,
                                   call_hook=request.call_hook, deadline_profiles=request.registry.deadline_profiles,
                                   left_out=left_out, surge=admission.surge)
    except NobodyCanReceive:
        request.tm.doom()  # the case may be flushed already: none of it is kept
        raise _nobody_can_receive_problem(channel) from None
    count_disclosure(request)
    request.response.status = 201
    return {"receipt": result.receipt, "case": result.case.ref}


def _proven(request, data: dict) -> bool:
    """Whether the body carries a valid proof of work not used before (it is used now): it lets the
    report past the service-wide budget. A wrong, expired or used one is simply no proof."""
    return work.spend_proof(request.dbsession, request.whistle_settings, request.clock, data.get("proof"))


DIRECTORY_CHANGED = "/api/v1/problems/directory-changed"
CASE_REF_TAKEN = "/api/v1/problems/case-ref-taken"
RECEIPT_TAKEN = "/api/v1/problems/receipt-taken"
TOO_MANY_REPORTS_PROBLEM = "/api/v1/problems/too-many-reports"


def _too_many_reports_problem(request, refused: TooManyReports):
    """429 with Retry-After: this client, or the whole service, sent all the reports it may for now.
    Nothing of the report is kept."""
    request.tm.doom()
    return problem_response(
        Problem(429, f"Too many reports from this client, or to this service, just now: nothing was stored. Send "
                     f"it again in {refused.retry_after} seconds (Retry-After).", type=TOO_MANY_REPORTS_PROBLEM,
                title="Too many reports", members={"retry_after": refused.retry_after}),
        {"Retry-After": str(refused.retry_after)})


def _api_submit_client_built(request, data: dict, admission: Admission) -> dict:
    """A case built on the reporter's device ("format": "e2e/1", docs/crypto.md 7.1): checked and
    stored by whistle.intake.e2e; the answer carries an end-to-end reporter session for what
    follows (files, whistle.attachments)."""
    settings = request.whistle_settings
    errors = reject_unknown_members(data, e2e.MEMBERS)
    slug = data.get("channel")
    channel = channel_by_slug(request.dbsession, slug) if isinstance(slug, str) else None
    if channel is not None and why_unattended(request.dbsession, settings, request.clock, channel):
        raise _channel_not_live(channel)
    questionnaire = questionnaire_for(channel, request.call_hook) if channel is not None else []
    built, shape_errors = e2e.parse_client_case(data, channel, settings=settings, questionnaire=questionnaire)
    errors.update(shape_errors)
    if errors:
        raise validation_problem(errors)
    assert built is not None and channel is not None  # parse_client_case gives one when it finds no error
    try:
        case = e2e.submit_client_built(request.dbsession, settings, request.clock, built, call_hook=request.call_hook,
                                       deadline_profiles=request.registry.deadline_profiles, surge=admission.surge)
    except NobodyCanReceive:
        request.tm.doom()
        raise _nobody_can_receive_problem(channel) from None
    except e2e.GrantsRefused as refused:
        raise validation_problem(refused.errors) from None
    except e2e.DirectoryChanged as changed:
        raise Problem(409, f"The key directory changed (it is version {changed.version} now): nothing was stored. "
                           f"Fetch GET /api/v1/channels/{channel.slug}/keys again and build the case again.",
                      type=DIRECTORY_CHANGED, title="Key directory changed",
                      members={"directory_version": changed.version}) from None
    except e2e.CaseRefTaken:
        raise Problem(409, "A case already has this reference: nothing was stored. Make another reference and "
                           "send again.", type=CASE_REF_TAKEN, title="Case reference taken") from None
    except e2e.ReceiptTaken:
        # Returned, not raised, so that the wrong-receipt count it made is committed (nothing else was written).
        return problem_response(Problem(409, "A case already has this receipt: nothing was stored. Make a new "
                                             "receipt and build the case again.", type=RECEIPT_TAKEN,
                                        title="Receipt taken"))
    token = open_e2e_reporter_session(request.dbsession, settings, request.clock, case_id=case.id)
    count_disclosure(request)
    request.response.status = 201
    return {"case": case.ref, "token": token, "expires_in": int(settings.reporter_session_idle.total_seconds()),
            "acknowledge_by": case.ack_due.isoformat() if case.ack_due else None}


# --- a channel that no guardian attends takes no report (whistle.key_directory.services) ---
# Why it is closed (a guardian disabled, say) is for the admin (the admin overview and API say
# it), not for whoever calls the public API.

CHANNEL_NOT_LIVE = "/api/v1/problems/channel-not-live"
NOBODY_CAN_RECEIVE = "/api/v1/problems/nobody-can-receive"


def _channel_not_live(channel) -> Problem:
    return Problem(409, f"The channel {channel.slug!r} is not taking reports right now. Nothing was stored; see "
                        "GET /api/v1/channels for the channels accepting reports.",
                   type=CHANNEL_NOT_LIVE, title="Channel not taking reports", members={"channel": channel.slug})


def _nobody_can_receive_problem(channel) -> Problem:
    return Problem(409, f"Nobody who receives reports on the channel {channel.slug!r} could receive this one (for "
                        "example, because it may be about them). Nothing was stored; send it through another "
                        "channel (GET /api/v1/channels).",
                   type=NOBODY_CAN_RECEIVE, title="Nobody could receive this report",
                   members={"channel": channel.slug})


def _nobody_can_receive(request, channel, post: MultiDict, *, files_left_out: bool) -> dict:
    """The page saying this report cannot be taken on this channel, with what they typed to copy
    and the other channels to send it through. Nothing of it is kept."""
    request.tm.doom()
    request.response.status = 409
    request.override_renderer = "whistle:templates/intake/nobody_can_receive.jinja2"
    answers: dict[str, list[str]] = {}
    for key, value in post.items():
        if key.startswith("answers.") and value.strip():
            answers.setdefault(key[len("answers."):], []).append(value)
    return {"channel": ChannelText(channel, request.language.code),
            "typed": _words_to_copy(request, channel, post.get("text", ""), answers),
            "files_left_out": files_left_out,
            "live": _all_shown(request, [
                other for other in live_channels(request.dbsession, request.whistle_settings, request.clock)
                if other.id != channel.id])}


def _not_live(request, channel, *, posted: bool = False) -> dict:
    """The page saying this channel is not open, with links to those that are. After a post
    (the channel closed while the reporter was typing), nothing is kept and what they typed is
    shown back for them to copy; why the channel is closed is for the admin, not the reporter."""
    request.override_renderer = "whistle:templates/intake/not_live.jinja2"
    live = live_channels(request.dbsession, request.whistle_settings, request.clock)
    page: dict = {"channel": ChannelText(channel, request.language.code), "live": _all_shown(request, live),
                  "typed": None, "files_left_out": False}
    if posted:
        request.tm.doom()
        request.response.status = 409
        page["typed"], page["files_left_out"] = _typed_words(request, channel)
    return page


def _typed_words(request, channel) -> tuple[str, bool]:
    """The text and the questionnaire's answers from the posted form, as one text to copy, and
    whether a file was attached. Read as a stream (never request.POST); files are not read."""
    answers: dict[str, list[str]]
    text, answers, files = "", {}, False
    try:
        for part in form_parts(request, max_field_bytes=request.whistle_settings.max_text_chars * 4 + 4096):
            if isinstance(part, FilePart):
                if part.filename:
                    files = True
                    break  # browsers send the files last: everything typed is here
                continue
            if part.name == "text":
                text = part.value
            elif part.name.startswith("answers.") and part.value.strip():
                answers.setdefault(part.name[len("answers."):], []).append(part.value)
    except MalformedForm:
        pass  # show what could be read
    return _words_to_copy(request, channel, text, answers), files


def _words_to_copy(request, channel, text: str, answers: dict[str, list[str]]) -> str:
    """The text and the answers (by their questions' labels) as one text to copy."""
    shown = ChannelText(channel, request.language.code)
    questionnaire = shown.fields_in_language(questionnaire_for(channel, request.call_hook))
    labels = {spec["name"]: spec["label"] for spec in questionnaire}
    lines = [f"{labels.get(name, name)}: {', '.join(values)}" for name, values in answers.items()]
    return "\n\n".join(filter(None, [text, "\n".join(lines)]))


# --- the cookie that takes the receipt to its page (whistle.intake.receipts) ---

def _carry_receipt(request, response, *, receipt: str, case_ref: str, slug: str) -> None:
    """Set the cookie that takes the receipt to the receipt page."""
    sealed = receipts.seal(request.whistle_settings, request.clock, receipt=receipt, case_ref=case_ref, slug=slug)
    response.headers.extend(cookies.receipt_cookie(request.whistle_settings.cookies_secure).bind(request)
                            .get_headers(sealed))


def _carried_receipt(request, slug: str) -> receipts.CarriedReceipt | None:
    """The receipt the cookie carries for channel `slug`, or None: no cookie (or two: one planted),
    expired, left, or not ours."""
    name = cookies.cookie_name(cookies.RECEIPT_COOKIE, request.whistle_settings.cookies_secure)
    sealed = cookies.single_value(request, name)
    return receipts.unseal(request.whistle_settings, request.clock, sealed, slug) if sealed else None


def _forget_receipt(request, response) -> None:
    """Tell the browser to drop the cookie now, with the attributes it was set with (a browser
    ignores a "__Host-" cookie that comes without Secure)."""
    response.headers.extend(cookies.receipt_cookie(request.whistle_settings.cookies_secure).bind(request)
                            .get_headers(None))
