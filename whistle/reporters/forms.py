"""Checking what a reporter sends from the mailbox: messages and a later identity."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from whistle.i18n import _
from whistle.intake.forms import clean_identity_fields, identity_fields_for, say, wants_plain
from whistle.intake_channels.models import Channel

MESSAGES = {
    "message_empty": (_("Write your message here before sending."),
                      _("Please write your message before you press Send.")),
    "who_may_know": (_("Choose how your name may be used."), _("Please choose who can know your name.")),
    "give_name": (_("Give your name."), _("Please write your name.")),
}


def _say(key: str, plain: bool) -> str:
    return MESSAGES[key][1 if plain else 0]


def validate_message(text: Any, *, max_chars: int, allow_empty: bool = False,
                     plain: bool = False) -> tuple[str | None, dict[str, str]]:
    if not isinstance(text, str):
        return None, {"text": say("expected_text", plain)}
    text = text.strip()
    if not text and not allow_empty:
        return None, {"text": _say("message_empty", plain)}
    if len(text) > max_chars:
        return None, {"text": say("text_long", plain, n=max_chars)}
    return text, {}


def validate_identity(channel: Channel, mode: Any,
                      identity: Mapping[str, Any]) -> tuple[dict[str, str] | None, dict[str, str]]:
    """Who the reporter says they are, later, from the mailbox: in the channel's words, and
    without a staff number where the channel's reporters are not staff."""
    plain = wants_plain(channel)
    errors: dict[str, str] = {}
    offered = [m for m in channel.identity_modes if m != "anonymous"]
    if mode not in offered:
        errors["identity_mode"] = _say("who_may_know", plain)
    clean, identity_errors = clean_identity_fields(identity, missing_name=_say("give_name", plain), plain=plain,
                                                   fields=identity_fields_for(channel))
    errors.update(identity_errors)
    return (None, errors) if errors else (clean, {})
