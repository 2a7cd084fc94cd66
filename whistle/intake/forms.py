"""Validating a disclosure against its channel's questionnaire: one validator for HTML and API.

Errors come back as {field name: message}; the caller re-renders the form (keeping what was
typed) or answers a 422 problem document naming each field.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping

from whistle.channels.models import Channel

IDENTITY_FIELDS = ("name", "contact", "personnel_id")
MAX_FIELD_CHARS = 2000


@dataclass(frozen=True)
class Submission:
    channel: Channel
    text: str
    answers: dict[str, Any]
    identity_mode: str  # "anonymous", "confidential" or "open"
    identity: dict[str, str] | None


def _answer(spec: dict, value: Any) -> tuple[Any, str | None]:
    """(clean value, error message or None) for one questionnaire field."""
    kind = spec["type"]
    if kind == "multiple_choice":
        values = value if isinstance(value, list) else ([] if value in (None, "") else [value])
        if not all(isinstance(v, str) for v in values):
            return None, "Choose from the options given."
        unknown = [v for v in values if v not in spec.get("choices", [])]
        if unknown:
            return None, "Choose from the options given."
        if spec.get("required") and not values:
            return None, "Choose at least one option."
        return values, None
    if value is None:
        value = ""
    if not isinstance(value, str):
        return None, "Expected text."
    value = value.strip()
    if not value:
        return (None, "This question needs an answer.") if spec.get("required") else (None, None)
    if len(value) > MAX_FIELD_CHARS and kind != "long_text":
        return None, f"Please keep this under {MAX_FIELD_CHARS} characters."
    if kind == "single_choice" and value not in spec.get("choices", []):
        return None, "Choose one of the options given."
    if kind == "yes_no" and value not in ("yes", "no"):
        return None, "Answer yes or no."
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, "Give a date as YYYY-MM-DD, for example 2026-03-31."
    return value, None


def clean_identity_fields(identity: Mapping[str, Any], *, missing_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """(the identity fields given, stripped; errors by field name). A name is required."""
    clean: dict[str, str] = {}
    errors: dict[str, str] = {}
    for name in IDENTITY_FIELDS:
        value = identity.get(name)
        if value is None or value == "":
            continue
        if not isinstance(value, str) or len(value) > 500:
            errors[f"identity.{name}"] = "Expected text under 500 characters."
        else:
            clean[name] = value.strip()
    for name in identity:
        if name not in IDENTITY_FIELDS:
            errors[f"identity.{name}"] = "Unknown field."
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
    errors: dict[str, str] = {}
    if not isinstance(text, str) or not text.strip():
        errors["text"] = "Tell us what happened: this box cannot be empty."
    elif len(text) > max_text_chars:
        errors["text"] = f"This is longer than {max_text_chars} characters; please shorten it or attach a file."

    clean_answers: dict[str, Any] = {}
    known = {spec["name"] for spec in questionnaire}
    for name in answers:
        if name not in known:
            errors[f"answers.{name}"] = "This question is not part of this form."
    for spec in questionnaire:
        value, error = _answer(spec, answers.get(spec["name"]))
        if error:
            errors[f"answers.{spec['name']}"] = error
        elif value not in (None, []):
            clean_answers[spec["name"]] = value

    mode = identity_mode or "anonymous"
    clean_identity: dict[str, str] | None = None
    if mode not in channel.identity_modes:
        errors["identity_mode"] = "Choose one of the ways offered to tell us (or not) who you are."
    elif mode != "anonymous":
        clean_identity, identity_errors = clean_identity_fields(
            identity or {}, missing_name="Give your name, or choose to stay anonymous.")
        errors.update(identity_errors)

    if errors:
        return None, errors
    return Submission(channel, text.strip(), clean_answers, mode, clean_identity), {}
