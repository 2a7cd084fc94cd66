"""Validating a disclosure against its channel's questionnaire: one validator for HTML and API.

Errors come back as {field name: message}; the caller re-renders the form (keeping what was
typed) or answers a 422 problem document naming each field. A channel that asks for plain words
(`wording.plain`) gets the plain message of each pair in MESSAGES.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from whistle.i18n import _
from whistle.intake_channels.models import Channel

IDENTITY_FIELDS = ("name", "contact", "personnel_id")
STAFF_ONLY_IDENTITY_FIELDS = ("personnel_id",)
MAX_FIELD_CHARS = 2000
MAX_IDENTITY_CHARS = 500
# The most an identity item encrypted on the reporter's device may hold: the three fields at
# MAX_IDENTITY_CHARS characters of up to 4 bytes each, as JSON, with room to spare.
MAX_IDENTITY_BYTES = 8192

# What each error says: (the usual words, the plain words for a channel that asks for them).
# Marked for translation: a page shows them in its language, the API in English (Problem.as_dict).
# static/js/reporter.js holds the same words (tests/unit/crypto/test_js_reporter.py compares them).
MESSAGES = {
    "text_empty": (_("Tell us what happened: this box cannot be empty."),
                   _("Please write something in this box before you send it.")),
    "text_long": (_("This is longer than ${n} characters; please shorten it or attach a file."),
                  _("This is too long. Please make it shorter (up to ${n} letters), or add it as a file.")),
    "not_on_form": (_("This question is not part of this form."), _("This question is not on this form.")),
    "choose_given": (_("Choose from the options given."), _("Please pick from the answers shown.")),
    "choose_one_given": (_("Choose one of the options given."), _("Please pick one of the answers shown.")),
    "choose_at_least_one": (_("Choose at least one option."), _("Please pick at least one answer.")),
    "expected_text": (_("Expected text."), _("Please type your answer.")),
    "needs_answer": (_("This question needs an answer."), _("Please answer this question.")),
    "answer_long": (_("Please keep this under ${max_field} characters."),
                    _("This is too long. Please make it shorter (under ${max_field} letters).")),
    "yes_no": (_("Answer yes or no."), _("Please pick yes or no.")),
    "date": (_("Give a date as YYYY-MM-DD, for example 2026-03-31."),
             _("Please give the date like this: 2026-03-31 (year, month, day).")),
    "identity_mode": (_("Choose one of the ways offered to tell us (or not) who you are."),
                      _("Please choose if you want to tell us who you are.")),
    "name_or_anonymous": (_("Give your name, or choose to stay anonymous."),
                          _("Please write your name, or choose not to say who you are.")),
    "identity_long": (_("Expected text under ${max_identity} characters."),
                      _("This is too long. Please make it shorter (under ${max_identity} letters).")),
    "identity_unknown": (_("Unknown field."), _("This is not on this form.")),
    "no_staff_number": (_("This channel does not ask for a staff number."),
                        _("This form does not ask for a staff number.")),
}
# The limits some of the messages name.
_LIMITS = {"max_field": MAX_FIELD_CHARS, "max_identity": MAX_IDENTITY_CHARS}


def say(key: str, plain: bool, **values: Any) -> str:
    """The message `key` in the channel's words: marked, so a page shows it in its language."""
    return _(MESSAGES[key][1 if plain else 0], mapping={**_LIMITS, **values})


def wants_plain(channel: Channel) -> bool:
    return bool((channel.wording or {}).get("plain"))


def identity_fields_for(channel: Channel) -> tuple[str, ...]:
    """The identity fields a channel asks for: a staff number only where reporters are staff."""
    if channel.reporters_are_staff is False:
        return tuple(name for name in IDENTITY_FIELDS if name not in STAFF_ONLY_IDENTITY_FIELDS)
    return IDENTITY_FIELDS


@dataclass(frozen=True)
class Submission:
    channel: Channel
    text: str
    answers: dict[str, Any]
    identity_mode: str  # "anonymous", "confidential" or "open"
    identity: dict[str, str] | None


def _answer(spec: dict, value: Any, plain: bool = False) -> tuple[Any, str | None]:
    """(clean value, error message or None) for one questionnaire field."""
    kind = spec["type"]
    if kind == "multiple_choice":
        values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        if not all(isinstance(v, str) for v in values):
            return None, say("choose_given", plain)
        unknown = [v for v in values if v not in spec.get("choices", [])]
        if unknown:
            return None, say("choose_given", plain)
        if spec.get("required") and not values:
            return None, say("choose_at_least_one", plain)
        return values, None
    if value is None:
        value = ""
    if not isinstance(value, str):
        return None, say("expected_text", plain)
    value = value.strip()
    if not value:
        return (None, say("needs_answer", plain)) if spec.get("required") else (None, None)
    if len(value) > MAX_FIELD_CHARS and kind != "long_text":
        return None, say("answer_long", plain)
    if kind == "single_choice" and value not in spec.get("choices", []):
        return None, say("choose_one_given", plain)
    if kind == "yes_no" and value not in ("yes", "no"):
        return None, say("yes_no", plain)
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, say("date", plain)
    return value, None


def check_answer(spec: dict, value: Any, plain: bool = False) -> tuple[Any, str | None]:
    """(clean value, error message or None) for one question, as the form checks it: the end-to-end
    path checks the answers to routing questions (sent in the clear) with it."""
    return _answer(spec, value, plain)


def clean_identity_fields(identity: Mapping[str, Any], *, missing_name: str, plain: bool = False,
                          fields: tuple[str, ...] = IDENTITY_FIELDS) -> tuple[dict[str, str], dict[str, str]]:
    """(the identity fields given, stripped; errors by field name). A name is required; a field
    the channel does not ask for (`fields`), a staff number on a channel for non-staff, is refused."""
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in fields:
        value = identity.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > MAX_IDENTITY_CHARS:
            errors[f"identity.{name}"] = say("identity_long", plain)
        else:
            clean[name] = value.strip()
    for name in identity:
        if name in STAFF_ONLY_IDENTITY_FIELDS and name not in fields:
            if identity[name] not in (None, ""):  # an empty box from an old page is no harm
                errors[f"identity.{name}"] = say("no_staff_number", plain)
        elif name not in fields:
            errors[f"identity.{name}"] = say("identity_unknown", plain)
    if not clean.get("name") and "identity.name" not in errors:
        errors["identity.name"] = missing_name
    return clean, errors


def validate_disclosure(
    channel: Channel, *, text: Any, answers: Mapping[str, Any], identity_mode: Any, identity: Mapping[str, Any] | None,
    max_text_chars: int, questionnaire: list[dict] | None = None,
) -> tuple[Submission | None, dict[str, str]]:
    """`questionnaire`: the channel's fields with the plugins' (channels.services.questionnaire_for);
    the channel's own if None."""
    questionnaire = channel.questionnaire if questionnaire is None else questionnaire
    plain = wants_plain(channel)
    errors: dict[str, str] = {}
    if not isinstance(text, str) or not text.strip():
        errors["text"] = say("text_empty", plain)
    elif len(text) > max_text_chars:
        errors["text"] = say("text_long", plain, n=max_text_chars)

    clean_answers: dict[str, Any] = {}
    known = {spec["name"] for spec in questionnaire}
    for name in answers:
        if name not in known:
            errors[f"answers.{name}"] = say("not_on_form", plain)
    for spec in questionnaire:
        value, error = _answer(spec, answers.get(spec["name"]), plain)
        if error:
            errors[f"answers.{spec['name']}"] = error
        elif value not in (None, []):
            clean_answers[spec["name"]] = value

    mode = identity_mode or "anonymous"
    clean_identity: dict[str, str] | None = None
    if mode not in channel.identity_modes:
        errors["identity_mode"] = say("identity_mode", plain)
    elif mode != "anonymous":
        clean_identity, identity_errors = clean_identity_fields(
            identity or {}, missing_name=say("name_or_anonymous", plain), plain=plain,
            fields=identity_fields_for(channel))
        errors.update(identity_errors)

    if errors:
        return None, errors
    return Submission(channel, text.strip(), clean_answers, mode, clean_identity), {}
