"""Checking what a reporter sends from the mailbox: messages and a later identity."""
from __future__ import annotations

from typing import Any, Mapping

from whistle.intake.forms import clean_identity_fields


def validate_message(text: Any, *, max_chars: int, allow_empty: bool = False) -> tuple[str | None, dict[str, str]]:
    if not isinstance(text, str):
        return None, {"text": "Expected text."}
    text = text.strip()
    if not text and not allow_empty:
        return None, {"text": "Write your message here before sending."}
    if len(text) > max_chars:
        return None, {"text": f"This is longer than {max_chars} characters; please shorten it or attach a file."}
    return text, {}


def validate_identity(modes: list[str], mode: Any, identity: Mapping[str, Any]) -> tuple[dict[str, str] | None, dict[str, str]]:
    errors: dict[str, str] = {}
    offered = [m for m in modes if m != "anonymous"]
    if mode not in offered:
        errors["identity_mode"] = "Choose how your name may be used."
    clean, identity_errors = clean_identity_fields(identity, missing_name="Give your name.")
    errors.update(identity_errors)
    return (None, errors) if errors else (clean, {})
