"""Submitting a disclosure: the no-JavaScript form and POST /api/v1/disclosures."""
from __future__ import annotations

from pyramid.csrf import check_csrf_token
from pyramid.view import view_config

from whistle.channels.services import active_channels, channel_by_slug, describe
from whistle.errors import Problem, validation_problem
from whistle.intake.forms import IDENTITY_FIELDS, validate_disclosure
from whistle.intake.services import submit_disclosure
from whistle.jsonapi import read_json, reject_unknown_members
from whistle.security.permissions import Permission


@view_config(route_name="home", renderer="whistle:templates/home/index.jinja2", permission=Permission.PUBLIC)
def home(request):
    return {"channels": active_channels(request.dbsession)}


def _channel_or_404(request):
    channel = channel_by_slug(request.dbsession, request.matchdict["slug"])
    if channel is None:
        raise Problem(404, "There is no such reporting channel.")
    return channel


def _form_values(request) -> dict:
    """What the reporter typed, as the template needs it to fill the form back in."""
    post = request.POST
    return {
        "text": post.get("text", ""),
        "answers": {key[len("answers."):]: post.getall(key) if len(post.getall(key)) > 1 else post.get(key)
                    for key in post if key.startswith("answers.")},
        "identity_mode": post.get("identity_mode", "anonymous"),
        "identity": {name: post.get(f"identity.{name}", "") for name in IDENTITY_FIELDS},
    }


@view_config(route_name="intake.form", request_method="GET", renderer="whistle:templates/intake/form.jinja2",
             permission=Permission.DISCLOSURE_SUBMIT)
def disclosure_form(request):
    channel = _channel_or_404(request)
    return {"channel": channel, "values": {"answers": {}, "identity": {}, "identity_mode": "anonymous"}, "errors": {}}


# CSRF is checked here rather than by the view deriver so that an expired token re-renders the
# form with the reporter's words in it, instead of throwing them away on an error page.
@view_config(route_name="intake.form", request_method="POST", renderer="whistle:templates/intake/form.jinja2",
             permission=Permission.DISCLOSURE_SUBMIT, require_csrf=False)
def submit_form(request):
    channel = _channel_or_404(request)
    values = _form_values(request)
    if not check_csrf_token(request, raises=False):
        request.response.status = 400
        return {"channel": channel, "values": values,
                "errors": {"form": "This page had expired, so nothing was sent yet. Check your words below and send again."}}
    multi = {spec["name"] for spec in channel.questionnaire if spec["type"] == "multiple_choice"}
    answers = {name: request.POST.getall(f"answers.{name}") if name in multi else value
               for name, value in values["answers"].items()}
    submission, errors = validate_disclosure(
        channel, text=values["text"], answers=answers, identity_mode=values["identity_mode"],
        identity=values["identity"], max_text_chars=request.whistle_settings.max_text_chars,
    )
    if errors:
        request.response.status = 422
        return {"channel": channel, "values": values, "errors": errors}
    result = submit_disclosure(request.dbsession, request.whistle_settings, request.clock, submission)
    request.override_renderer = "whistle:templates/intake/receipt.jinja2"
    return {"channel": channel, "receipt": result.receipt, "case_ref": result.case.ref}


@view_config(route_name="api.channels", request_method="GET", renderer="json", permission=Permission.PUBLIC)
def api_channels(request):
    return {"channels": [describe(channel) for channel in active_channels(request.dbsession)]}


DISCLOSURE_MEMBERS = {"channel", "text", "answers", "identity", "identity_mode"}


@view_config(route_name="api.disclosures", request_method="POST", renderer="json",
             permission=Permission.DISCLOSURE_SUBMIT)
def api_submit(request):
    data = read_json(request)
    errors = reject_unknown_members(data, DISCLOSURE_MEMBERS)
    slug = data.get("channel")
    channel = channel_by_slug(request.dbsession, slug) if isinstance(slug, str) else None
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
        )
        errors.update(content_errors)
    if errors:
        raise validation_problem(errors)
    result = submit_disclosure(request.dbsession, request.whistle_settings, request.clock, submission)
    request.response.status = 201
    return {"receipt": result.receipt, "case": result.case.ref}
