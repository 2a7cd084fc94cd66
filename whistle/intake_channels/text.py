"""A channel's texts as a reporter's page shows them: in the page's language where the channel has
a variant in it ([channel.translations.<code>] in config/channels.toml), in English otherwise, text
by text.

Only what people read changes. A choice keeps its English (canonical) text as the value a form
sends and the answer stored, whatever language it was chosen in, so guardians and routing rules
see one value; the label shown next to it is the translated one (`choice_labels`). Guardian and
admin pages use the Channel itself: they show the English.
"""
from __future__ import annotations

from typing import overload

from whistle.i18n import DEFAULT
from whistle.intake_channels.models import Channel


class ChannelText:
    """Read-only: a Channel with its title, introduction, wording, help_now and questionnaire in
    one language, and every other attribute (slug, identity_modes, quick_exit_url, …) the
    channel's own, so templates use it as they would the channel."""

    def __init__(self, channel: Channel, language: str):
        self._channel = channel
        self.language = language
        variant = (channel.translations or {}).get(language, {}) if language != DEFAULT else {}
        self.title = variant.get("title") or channel.title
        self.introduction = variant.get("introduction") or channel.introduction
        self.wording = {**(channel.wording or {}), **variant.get("wording", {})}
        self.help_now = _help_now(channel.help_now or {}, variant.get("help_now", {}))
        self._fields = variant.get("fields", {})
        self.questionnaire = self.fields_in_language(channel.questionnaire or [])

    def __getattr__(self, name: str):
        # Called only for what __init__ did not set: everything else is the channel's. (Not
        # "_channel" itself, which is missing only in a copy being built: no endless recursion.)
        if name == "_channel":
            raise AttributeError(name)
        return getattr(self._channel, name)

    def fields_in_language(self, questionnaire: list[dict]) -> list[dict]:
        """Copies of the questionnaire's fields (a plugin's too) with label and help in this
        language, and for a choice field `choice_labels`: {English choice: the text shown}."""
        shown = []
        for spec in questionnaire:
            variant = self._fields.get(spec["name"], {})
            field = dict(spec, label=variant.get("label") or spec["label"])
            if variant.get("help") or spec.get("help"):
                field["help"] = variant.get("help") or spec["help"]
            if "choices" in spec:
                labels = variant.get("choices") or spec["choices"]
                # zip: a variant always has as many choices (the loader checks), but a plugin's
                # field or a questionnaire changed since is shown in English rather than wrongly.
                if len(labels) != len(spec["choices"]):
                    labels = spec["choices"]
                field["choice_labels"] = dict(zip(spec["choices"], labels, strict=True))
            shown.append(field)
        return shown


def _help_now(english: dict, variant: dict) -> dict:
    if not english:
        return {}
    texts = variant.get("lines") or []
    if len(texts) != len(english.get("lines", [])):
        texts = [line["text"] for line in english.get("lines", [])]
    lines = [dict(line, text=text) for line, text in zip(english.get("lines", []), texts, strict=True)]
    return {"title": variant.get("title") or english.get("title"), "lines": lines}


@overload
def channel_text(request, channel: Channel) -> ChannelText: ...
@overload
def channel_text(request, channel: None) -> None: ...
def channel_text(request, channel: Channel | None) -> ChannelText | None:
    """`channel` as the request's page shows it (None stays None)."""
    return ChannelText(channel, request.language.code) if channel is not None else None


def channel_texts(request, channels) -> list[ChannelText]:
    return [ChannelText(channel, request.language.code) for channel in channels]
