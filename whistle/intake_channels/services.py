"""Looking up channels and describing them to reporters and API clients."""
from __future__ import annotations

import dataclasses
import logging

from sqlalchemy import and_, case, event, func, select
from sqlalchemy.orm import Session, SessionTransaction

from whistle import audit
from whistle.accounts.models import Account
from whistle.accounts.services import AccountError
from whistle.clock import Clock
from whistle.deadlines import PROFILES
from whistle.i18n import DEFAULT as DEFAULT_LANGUAGE
from whistle.i18n import LANGUAGES, _
from whistle.intake_channels.models import IDENTITY_MODES, TIER_DEFAULT, TIER_SECOND, Channel, ChannelGuardian
from whistle.settings import Settings

log = logging.getLogger(__name__)

FIELD_TYPES = ("text", "long_text", "single_choice", "multiple_choice", "date", "yes_no")


# --- membership changes made through the services, in this transaction ---

_CHANGES = "intake_channels.membership_changes"


@dataclasses.dataclass
class MembershipChanges:
    """The channel memberships the services changed in the session's current transaction: what
    auto_sign may vouch for (key_directory), as opposed to rows it merely finds in the database.
    `tiers[slug][account_id]` is the new tier, or None when the membership was removed; a slug in
    `replaced` had all its memberships replaced by those in `tiers`."""

    tiers: dict[str, dict[int, int | None]] = dataclasses.field(default_factory=dict)
    replaced: set[str] = dataclasses.field(default_factory=set)


def membership_changes(dbsession: Session) -> MembershipChanges:
    changes = dbsession.info.get(_CHANGES)
    if changes is None:
        changes = dbsession.info[_CHANGES] = MembershipChanges()
        event.listen(dbsession, "after_transaction_end", _forget_changes)
    return changes


def _forget_changes(session: Session, ended: SessionTransaction) -> None:
    if ended.parent is None and ended.nested is False and _CHANGES in session.info:
        session.info[_CHANGES] = MembershipChanges()


def record_membership(dbsession: Session, slug: str, account_id: int, tier: int | None) -> None:
    """Note that a service made `account_id` a member of channel `slug` at `tier` (None: removed)."""
    membership_changes(dbsession).tiers.setdefault(slug, {})[account_id] = tier


def active_channels(dbsession: Session) -> list[Channel]:
    return list(dbsession.scalars(select(Channel).where(Channel.active.is_(True)).order_by(Channel.title)))


def any_quick_exit_url(dbsession: Session) -> str | None:
    """The neutral page of the first active channel that asks for a quick exit, or None: the
    pages shared by every channel (the start page, the mailbox's sign-in) offer one then."""
    return dbsession.scalars(select(Channel.quick_exit_url).where(
        Channel.active.is_(True), Channel.quick_exit_url.is_not(None)).order_by(Channel.title)).first()


def channel_by_slug(dbsession: Session, slug: str, *, active_only: bool = True) -> Channel | None:
    """The channel called `slug`; one set inactive only with `active_only=False`."""
    query = select(Channel).where(Channel.slug == slug)
    if active_only:
        query = query.where(Channel.active.is_(True))
    return dbsession.scalars(query).first()


def default_guardians(dbsession: Session, channel: Channel) -> list[Account]:
    """The enabled guardians who receive every new case on `channel` (tier 1)."""
    return _guardians_of_tier(dbsession, channel, TIER_DEFAULT)


def second_tier_guardians(dbsession: Session, channel: Channel) -> list[Account]:
    """The enabled guardians who receive a new case only when no default recipient may (tier 2)."""
    return _guardians_of_tier(dbsession, channel, TIER_SECOND)


def _guardians_of_tier(dbsession: Session, channel: Channel, tier: int) -> list[Account]:
    return list(
        dbsession.scalars(
            select(Account)
            .join(ChannelGuardian, ChannelGuardian.account_id == Account.id)
            .where(ChannelGuardian.channel_id == channel.id, ChannelGuardian.tier == tier,
                   Account.disabled.is_(False), Account.is_guardian.is_(True))
            .order_by(Account.id)
        )
    )


# --- whether a channel is live: someone who could read its cases -------------------------------
#
# A case is sealed at intake to the channel's enabled guardians (tier 1, or tier 2 when nobody of
# tier 1 may). A channel none of whose members is an enabled guardian would take a report that no
# one can ever read, so it takes none: the form, the API and the home page ask these functions.

NO_GUARDIANS = "no_guardians"
GUARDIANS_DISABLED = "guardians_disabled"
NOT_GUARDIANS = "members_not_guardians"
DISABLED_OR_NOT_GUARDIANS = "guardians_disabled_or_not_guardians"
# Marked for translation: the admin's pages show them in the page's language (localized); as
# plain strings (the command line, the API) they are the English.
UNATTENDED_REASONS = {
    NO_GUARDIANS: _("no guardian is assigned to it"),
    GUARDIANS_DISABLED: _("every guardian of it is disabled"),
    NOT_GUARDIANS: _("its members no longer have the guardian role"),
    DISABLED_OR_NOT_GUARDIANS: _("its guardians are disabled or no longer have the guardian role"),
}
LIVE_TIERS = (TIER_DEFAULT, TIER_SECOND)


def _is_active_guardian():
    return and_(Account.is_guardian.is_(True), Account.disabled.is_(False))


def unattended_reasons(dbsession: Session, channel_ids=None) -> dict[int, str]:
    """{channel id: reason code} for each channel (of `channel_ids`, or all) that no enabled
    guardian of tier 1 or 2 attends; a channel that is live is absent. One query."""
    query = (
        select(Channel.id,
               func.count(Account.id),
               func.count(case((_is_active_guardian(), Account.id))),
               func.count(case((Account.is_guardian.is_(True), Account.id))))
        .outerjoin(ChannelGuardian, and_(ChannelGuardian.channel_id == Channel.id,
                                         ChannelGuardian.tier.in_(LIVE_TIERS)))
        .outerjoin(Account, Account.id == ChannelGuardian.account_id)
        .group_by(Channel.id)
    )
    if channel_ids is not None:
        query = query.where(Channel.id.in_(list(channel_ids)))
    reasons = {}
    for channel_id, members, active, guardians in dbsession.execute(query).all():
        if active:
            continue
        if not members:
            reasons[channel_id] = NO_GUARDIANS
        elif guardians == members:
            reasons[channel_id] = GUARDIANS_DISABLED
        elif not guardians:
            reasons[channel_id] = NOT_GUARDIANS
        else:
            reasons[channel_id] = DISABLED_OR_NOT_GUARDIANS
    return reasons


def why_unattended(dbsession: Session, channel: Channel) -> str | None:
    """Why `channel` takes no reports, in plain words ("no guardian is assigned to it"), or None
    when an enabled guardian of tier 1 or 2 would receive its cases."""
    reason = unattended_reasons(dbsession, [channel.id]).get(channel.id)
    return UNATTENDED_REASONS[reason] if reason else None


def unattended_channels(dbsession: Session) -> list[tuple[Channel, str]]:
    """Every active channel that takes no reports, with its reason code (a key of
    UNATTENDED_REASONS), by title. Two queries, however many channels."""
    channels = active_channels(dbsession)
    reasons = unattended_reasons(dbsession)
    return [(channel, reasons[channel.id]) for channel in channels if channel.id in reasons]


def live_channels(dbsession: Session) -> list[Channel]:
    """The active channels that take reports, by title."""
    reasons = unattended_reasons(dbsession)
    return [channel for channel in active_channels(dbsession) if channel.id not in reasons]


def channels_left_unattended(dbsession: Session, account: Account, keeps: set[int]) -> list[Channel]:
    """The active, live channels that would take no more reports if `account` stopped attending
    every channel it is a member of except those whose ids are in `keeps`: those where it is the
    only enabled guardian of tier 1 or 2. Empty when the account attends nothing now."""
    if account.disabled or not account.is_guardian:
        return []
    others = (select(func.count()).select_from(ChannelGuardian)
              .join(Account, Account.id == ChannelGuardian.account_id)
              .where(ChannelGuardian.channel_id == Channel.id, ChannelGuardian.tier.in_(LIVE_TIERS),
                     ChannelGuardian.account_id != account.id, _is_active_guardian())
              .correlate(Channel).scalar_subquery())
    query = (select(Channel).join(ChannelGuardian, ChannelGuardian.channel_id == Channel.id)
             .where(ChannelGuardian.account_id == account.id, ChannelGuardian.tier.in_(LIVE_TIERS),
                    Channel.active.is_(True), others == 0)
             .order_by(Channel.title))
    if keeps:
        query = query.where(Channel.id.not_in(keeps))
    return list(dbsession.scalars(query))


def checkin_months_for(settings: Settings, reporters_are_staff: bool | None) -> tuple[int, ...]:
    """The months after opening when a case's reporter is asked about retaliation: none on a
    channel whose reporters are not staff (no employer to retaliate, no watch to offer)."""
    return tuple(settings.checkin_months) if reporters_are_staff is not False else ()


def questionnaire_for(channel: Channel, call_hook=None) -> list[dict]:
    """The channel's questionnaire, then the fields enabled plugins add (`whistle_intake_fields`):
    the one list the form, its validation and GET /api/v1/channels use. A plugin field that is
    malformed or reuses a name is left out (and logged), so a plugin bug cannot break the form."""
    fields = list(channel.questionnaire)
    if call_hook is None:
        return fields
    names = {spec["name"] for spec in fields}
    for offered in call_hook("whistle_intake_fields", channel=channel.slug):
        for field in offered if isinstance(offered, (list, tuple)) else ():
            try:
                _check_field(field, names, where=f"plugin field for channel {channel.slug!r}")
            except ChannelConfigError as error:
                log.warning("ignored a plugin's intake field: %s", error)
                continue
            names.add(field["name"])
            fields.append(_questionnaire({"fields": [field]})[0])
    return fields


def describe(channel: Channel, questionnaire: list[dict] | None = None, *, accepting_reports: bool = True) -> dict:
    """The public description of a channel, as GET /api/v1/channels lists it."""
    fields = []
    for spec in channel.questionnaire if questionnaire is None else questionnaire:
        entry = {"name": spec["name"], "label": spec["label"], "type": spec["type"],
                 "required": bool(spec.get("required"))}
        if "choices" in spec:
            entry["choices"] = list(spec["choices"])
        if spec.get("help"):
            entry["help"] = spec["help"]
        entry["routing"] = bool(spec.get("routing"))
        fields.append(entry)
    return {
        "slug": channel.slug,
        "title": channel.title,
        "introduction": channel.introduction,
        "identity_modes": list(channel.identity_modes),
        # Whether reporters are staff: only then is a staff number asked for with who they are.
        "reporters_are_staff": channel.reporters_are_staff is not False,
        "fields": fields,
        "accepting_reports": accepting_reports,
        # The organisation's own texts in other languages, as loaded; the rest of the API is English.
        "translations": dict(channel.translations or {}),
    }


# --- a channel's texts as a reporter's page shows them ------------------------------------------
#
# In the page's language where the channel has a variant in it ([channel.translations.<code>]),
# in English otherwise, text by text. Only what people read changes: a choice keeps its English
# (canonical) text as the value a form sends and the answer stored, whatever language it was chosen
# in, so guardians and routing rules see one value; the label shown beside it is the translated one
# (`choice_labels`). Guardian and admin pages use the Channel itself: they show the English.


class ChannelText:
    """Read-only: a Channel with its title, introduction, wording, help_now and questionnaire in
    one language, and every other attribute (slug, identity_modes, quick_exit_url, …) the
    channel's own, so templates use it as they would the channel."""

    def __init__(self, channel: Channel, language: str):
        self._channel = channel
        self.language = language
        variant = (channel.translations or {}).get(language, {}) if language != DEFAULT_LANGUAGE else {}
        self.title = variant.get("title") or channel.title
        self.introduction = variant.get("introduction") or channel.introduction
        self.wording = {**(channel.wording or {}), **variant.get("wording", {})}
        self.help_now = _help_now_in_language(channel.help_now or {}, variant.get("help_now", {}))
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
                # The loader gives a variant as many choices as the English; should a stored
                # variant no longer match, the English shows rather than a wrong label.
                if len(labels) != len(spec["choices"]):
                    labels = spec["choices"]
                field["choice_labels"] = dict(zip(spec["choices"], labels, strict=True))
            shown.append(field)
        return shown


def _help_now_in_language(english: dict, variant: dict) -> dict:
    if not english:
        return {}
    texts = variant.get("lines") or []
    if len(texts) != len(english.get("lines", [])):
        texts = [line["text"] for line in english.get("lines", [])]
    lines = [dict(line, text=text) for line, text in zip(english.get("lines", []), texts, strict=True)]
    return {"title": variant.get("title") or english.get("title"), "lines": lines}


# --- loading channels from a configuration file -----------------------------------------------

CHANNEL_KEYS = {"slug", "title", "introduction", "identity_modes", "deadline_profile", "retention_days",
                "retention_untaken_days", "retention_withdrawn_days",
                "guardians", "second_tier_guardians", "fields", "wording",
                "reporters_are_staff", "help_now", "quick_exit", "quick_exit_url",
                "board", "translations"}
FIELD_KEYS = {"name", "label", "type", "required", "help", "choices", "routing"}
WORDING_KEYS = {"text_label", "text_help", "plain"}
HELP_NOW_KEYS = {"title", "lines"}
HELP_LINE_KEYS = {"text", "link"}
HELP_LINK_SCHEMES = ("https://", "http://", "tel:")
# A page nobody would think twice about seeing on a screen; a channel may choose another.
DEFAULT_QUICK_EXIT_URL = "https://www.bbc.co.uk/weather"
MAX_URL_CHARS = 500
# What a channel's variant in another language ([channel.translations.<code>]) may give: its texts
# only; everything else (types, links, which fields there are) is the English definition's.
TRANSLATION_KEYS = {"title", "introduction", "wording", "help_now", "fields"}
TRANSLATED_WORDING_KEYS = {"text_label", "text_help"}
TRANSLATED_FIELD_KEYS = {"label", "help", "choices"}
CHOICE_TYPES = ("single_choice", "multiple_choice")
# How long a channel's cases are kept, in days (whistle.records.services.due_for_deletion), with the
# default and the least allowed: after closure; after closure of a case never acknowledged; after
# the reporter withdrew it (0: at the next tick).
RETENTION_KEYS = (("retention_days", 5 * 365, 1), ("retention_untaken_days", 365, 1),
                  ("retention_withdrawn_days", 30, 0))
MAX_RETENTION_DAYS = 100 * 366  # a date past year 9999 cannot be stored; nothing needs a century


class ChannelConfigError(ValueError):
    """A channel definition cannot be loaded; the message names the channel and the field."""


def _check_channel(index: int, spec: dict, known_profiles=None) -> str:
    known_profiles = PROFILES if known_profiles is None else known_profiles
    slug = spec.get("slug")
    where = f"channel {slug!r}" if isinstance(slug, str) else f"channel #{index + 1}"
    if not isinstance(slug, str) or not slug or not all((c.isalnum() and c.isascii()) or c == "-" for c in slug):
        raise ChannelConfigError(f"{where}: slug must be letters, digits and hyphens")
    unknown = set(spec) - CHANNEL_KEYS
    if unknown:
        raise ChannelConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    if not isinstance(spec.get("title"), str) or not spec["title"].strip():
        raise ChannelConfigError(f"{where}: a title is required")
    modes = spec.get("identity_modes", ["anonymous"])
    if not isinstance(modes, list) or not modes or any(m not in IDENTITY_MODES for m in modes):
        raise ChannelConfigError(f"{where}: identity_modes must be a non-empty list of {', '.join(IDENTITY_MODES)}")
    profile = spec.get("deadline_profile", "eu_directive")
    if profile not in known_profiles:
        raise ChannelConfigError(f"{where}: unknown deadline_profile {profile!r} (known: {', '.join(known_profiles)};"
                                 " a plugin's profile is known when the plugin is enabled)")
    for key, default, least in RETENTION_KEYS:
        days = spec.get(key, default)
        if not isinstance(days, int) or isinstance(days, bool) or not least <= days <= MAX_RETENTION_DAYS:
            raise ChannelConfigError(f"{where}: {key} must be a whole number of days, "
                                     f"from {least} to {MAX_RETENTION_DAYS}")
    wording = spec.get("wording", {})
    if not isinstance(wording, dict) or set(wording) - WORDING_KEYS:
        raise ChannelConfigError(f"{where}: wording takes only {', '.join(sorted(WORDING_KEYS))}")
    if not isinstance(spec.get("reporters_are_staff", True), bool):
        raise ChannelConfigError(f"{where}: reporters_are_staff must be true or false")
    if not isinstance(spec.get("board", False), bool):
        raise ChannelConfigError(f"{where}: board must be true or false")
    _check_help_now(spec.get("help_now", {}), where)
    _check_quick_exit(spec, where)
    names: set[str] = set()
    for number, field in enumerate(spec.get("fields", []), start=1):
        _check_field(field, names, where=where, number=number)
        names.add(field["name"])
    _check_translations(spec, where)
    return slug


def _check_text(value, where: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ChannelConfigError(f"{where}: expected a text that is not empty")


def _refuse_unknown(table, allowed: set[str], where: str) -> None:
    if not isinstance(table, dict):
        raise ChannelConfigError(f"{where}: expected a table")
    unknown = set(table) - allowed
    if unknown:
        raise ChannelConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}"
                                 f" (allowed: {', '.join(sorted(allowed))})")


def _check_translations(spec: dict, where: str) -> None:
    """Each [channel.translations.<code>] gives texts of the English definition, in a shipped
    language: the same fields, as many choices, as many help lines with the same links."""
    translations = spec.get("translations", {})
    if not isinstance(translations, dict):
        raise ChannelConfigError(f"{where}: translations must be tables by language code")
    shipped = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]
    fields = {field["name"]: field for field in spec.get("fields", [])}
    english_help = _help_now(spec)
    for code, variant in translations.items():
        if code not in shipped:
            raise ChannelConfigError(f"{where}: translations.{code}: not a language whistle ships"
                                     f" (one of {', '.join(shipped)})")
        twhere = f"{where}, translations.{code}"
        _refuse_unknown(variant, TRANSLATION_KEYS, twhere)
        for key in ("title", "introduction"):
            if key in variant:
                _check_text(variant[key], f"{twhere}.{key}")
        wording = variant.get("wording", {})
        _refuse_unknown(wording, TRANSLATED_WORDING_KEYS, f"{twhere}.wording")
        for key, text in wording.items():
            _check_text(text, f"{twhere}.wording.{key}")
        _check_translated_help_now(variant.get("help_now", {}), english_help, f"{twhere}.help_now")
        translated_fields = variant.get("fields", {})
        _refuse_unknown(translated_fields, set(fields), f"{twhere}.fields")
        for name, field in translated_fields.items():
            fwhere = f"{twhere}.fields.{name}"
            _refuse_unknown(field, TRANSLATED_FIELD_KEYS, fwhere)
            for key in ("label", "help"):
                if key in field:
                    _check_text(field[key], f"{fwhere}.{key}")
            if "choices" in field:
                english = fields[name].get("choices")
                choices = field["choices"]
                if english is None:
                    raise ChannelConfigError(f"{fwhere}.choices: only choice fields take choices")
                if not isinstance(choices, list) or not all(isinstance(c, str) and c.strip() for c in choices):
                    raise ChannelConfigError(f"{fwhere}.choices: expected a list of texts")
                if len(choices) != len(english):
                    raise ChannelConfigError(f"{fwhere}.choices: give {len(english)} choices, as many as in"
                                             f" English and in the same order (found {len(choices)})")
                if len(set(choices)) != len(choices):
                    raise ChannelConfigError(f"{fwhere}.choices: a choice is listed twice")


def _check_translated_help_now(help_now, english: dict, where: str) -> None:
    _refuse_unknown(help_now, HELP_NOW_KEYS, where)
    if help_now and not english:
        raise ChannelConfigError(f"{where}: the channel has no help_now panel in English")
    if "title" in help_now:
        _check_text(help_now["title"], f"{where}.title")
    if "lines" not in help_now:
        return
    lines = help_now["lines"]
    if not isinstance(lines, list) or len(lines) != len(english["lines"]):
        raise ChannelConfigError(f"{where}.lines: give {len(english['lines'])} lines, as many as in English"
                                 " and in the same order")
    for number, (line, english_line) in enumerate(zip(lines, english["lines"], strict=True), start=1):
        lwhere = f"{where}, line {number}"
        if isinstance(line, str):
            line = {"text": line}
        _refuse_unknown(line, HELP_LINE_KEYS, lwhere)
        _check_text(line.get("text"), lwhere)
        # The link is the English line's: a translation may repeat it, never change it.
        if "link" in line and line["link"] != english_line.get("link"):
            raise ChannelConfigError(f"{lwhere}: the link must be the English line's"
                                     f" ({english_line.get('link') or 'none'})")


def _translations(spec: dict) -> dict:
    """The variants as stored: texts stripped, help lines as texts (their links are the English ones)."""
    stored = {}
    for code, variant in spec.get("translations", {}).items():
        entry: dict = {key: variant[key].strip() for key in ("title", "introduction") if key in variant}
        if variant.get("wording"):
            entry["wording"] = {key: text.strip() for key, text in variant["wording"].items()}
        help_now = variant.get("help_now") or {}
        if help_now:
            entry["help_now"] = {}
            if "title" in help_now:
                entry["help_now"]["title"] = help_now["title"].strip()
            if "lines" in help_now:
                entry["help_now"]["lines"] = [(line if isinstance(line, str) else line["text"]).strip()
                                              for line in help_now["lines"]]
        if variant.get("fields"):
            entry["fields"] = {
                name: {key: ([c.strip() for c in value] if key == "choices" else value.strip())
                       for key, value in field.items()}
                for name, field in variant["fields"].items()}
        stored[code] = entry
    return stored


def _is_plain_url(value, schemes: tuple[str, ...]) -> bool:
    """An absolute link with one of `schemes`, something after it, and no spaces or control characters."""
    return (isinstance(value, str) and len(value) <= MAX_URL_CHARS and value.startswith(schemes)
            and value.split(":", 1)[1].strip("/") != "" and all(ch.isprintable() and not ch.isspace() for ch in value))


def _check_help_now(help_now, where: str) -> None:
    if not isinstance(help_now, dict) or set(help_now) - HELP_NOW_KEYS:
        raise ChannelConfigError(f"{where}: help_now takes only {', '.join(sorted(HELP_NOW_KEYS))}")
    if not help_now:
        return
    if not isinstance(help_now.get("title"), str) or not help_now["title"].strip():
        raise ChannelConfigError(f"{where}: help_now needs a title")
    lines = help_now.get("lines")
    if not isinstance(lines, list) or not lines:
        raise ChannelConfigError(f"{where}: help_now needs lines, a list of texts")
    for number, line in enumerate(lines, start=1):
        lwhere = f"{where}, help_now line {number}"
        if isinstance(line, str):
            line = {"text": line}
        if not isinstance(line, dict) or set(line) - HELP_LINE_KEYS:
            raise ChannelConfigError(f"{lwhere}: expected a text, or a table with text and link")
        if not isinstance(line.get("text"), str) or not line["text"].strip():
            raise ChannelConfigError(f"{lwhere}: the text is empty")
        if "link" in line and not _is_plain_url(line["link"], HELP_LINK_SCHEMES):
            raise ChannelConfigError(f"{lwhere}: link must start with {', '.join(HELP_LINK_SCHEMES)}"
                                     " and have no spaces")


def _check_quick_exit(spec: dict, where: str) -> None:
    if not isinstance(spec.get("quick_exit", False), bool):
        raise ChannelConfigError(f"{where}: quick_exit must be true or false")
    if "quick_exit_url" in spec:
        if not spec.get("quick_exit"):
            raise ChannelConfigError(f"{where}: quick_exit_url is used only with quick_exit = true")
        if not _is_plain_url(spec["quick_exit_url"], ("https://",)):
            raise ChannelConfigError(f"{where}: quick_exit_url must be a web address starting with https://"
                                     f" (at most {MAX_URL_CHARS} characters, no spaces)")


def _help_now(spec: dict) -> dict:
    help_now = spec.get("help_now") or {}
    if not help_now:
        return {}
    lines = []
    for line in help_now["lines"]:
        line = {"text": line} if isinstance(line, str) else line
        entry = {"text": line["text"].strip()}
        if line.get("link"):
            entry["link"] = line["link"]
        lines.append(entry)
    return {"title": help_now["title"].strip(), "lines": lines}


def _check_field(field, names: set[str], *, where: str, number: int = 1) -> None:
    """Raise ChannelConfigError unless `field` is a well-formed questionnaire field not in `names`."""
    fname = field.get("name") if isinstance(field, dict) else None
    fwhere = f"{where}, field {fname!r}" if isinstance(fname, str) else f"{where}, field #{number}"
    if not isinstance(field, dict):
        raise ChannelConfigError(f"{fwhere}: expected a table")
    if not isinstance(fname, str) or not fname.isidentifier():
        raise ChannelConfigError(f"{fwhere}: name must be letters, digits and underscores")
    if fname in names:
        raise ChannelConfigError(f"{fwhere}: the name is used twice")
    if set(field) - FIELD_KEYS:
        raise ChannelConfigError(f"{fwhere}: unknown key(s) {', '.join(sorted(set(field) - FIELD_KEYS))}")
    if not isinstance(field.get("label"), str) or not field["label"].strip():
        raise ChannelConfigError(f"{fwhere}: a label is required")
    if field.get("type") not in FIELD_TYPES:
        raise ChannelConfigError(f"{fwhere}: type must be one of {', '.join(FIELD_TYPES)}")
    choices = field.get("choices")
    if field["type"] in CHOICE_TYPES:
        if not isinstance(choices, list) or not choices or not all(isinstance(c, str) and c for c in choices):
            raise ChannelConfigError(f"{fwhere}: a {field['type']} field needs a list of choices")
        if len(set(choices)) != len(choices):
            raise ChannelConfigError(f"{fwhere}: a choice is listed twice")
    elif choices is not None:
        raise ChannelConfigError(f"{fwhere}: only choice fields take choices")
    if not isinstance(field.get("routing", False), bool):
        raise ChannelConfigError(f"{fwhere}: routing must be true or false")


def _questionnaire(spec: dict) -> list[dict]:
    fields = []
    for field in spec.get("fields", []):
        entry = {"name": field["name"], "label": field["label"], "type": field["type"],
                 "required": bool(field.get("required", False))}
        if field.get("help"):
            entry["help"] = field["help"]
        if "choices" in field:
            entry["choices"] = list(field["choices"])
        if field.get("routing"):
            # Read by the service (triage) even when the report is encrypted on the reporter's device.
            entry["routing"] = True
        fields.append(entry)
    return fields


def load_channels(dbsession: Session, specs: list[dict], known_profiles=None) -> list[tuple[str, str]]:
    """Create or update each channel by slug; returns [(slug, "created"/"updated")].

    Everything is checked before anything is written, so a bad file changes nothing.
    Guardians (tier 1, `guardians`) and second-tier guardians (tier 2, `second_tier_guardians`)
    are replaced together, only when a channel lists either; nothing is ever deleted but
    guardian memberships the file replaces."""
    if not isinstance(specs, list) or not specs:
        raise ChannelConfigError("the file defines no [[channel]] tables")
    slugs = [_check_channel(index, spec, known_profiles) for index, spec in enumerate(specs)]
    if len(set(slugs)) != len(slugs):
        raise ChannelConfigError("a slug is used by two channels")
    guardians: dict[str, list[tuple[Account, int]]] = {}
    for slug, spec in zip(slugs, specs, strict=True):
        if "guardians" not in spec and "second_tier_guardians" not in spec:
            continue
        members: list[tuple[Account, int]] = []
        for key, tier in (("guardians", TIER_DEFAULT), ("second_tier_guardians", TIER_SECOND)):
            names = spec.get(key, [])
            if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
                raise ChannelConfigError(f"channel {slug!r}, {key}: expected a list of usernames")
            for username in names:
                account = dbsession.scalars(select(Account).where(Account.username == username)).first()
                if account is None:
                    raise ChannelConfigError(f"channel {slug!r}, {key}: no account named {username!r}")
                if not account.is_guardian:
                    raise ChannelConfigError(f"channel {slug!r}, {key}: {username!r} is not a guardian")
                if any(existing.id == account.id for existing, _ in members):
                    raise ChannelConfigError(f"channel {slug!r}, {key}: {username!r} is listed twice")
                members.append((account, tier))
        guardians[slug] = members

    results = []
    for slug, spec in zip(slugs, specs, strict=True):
        channel = dbsession.scalars(select(Channel).where(Channel.slug == slug)).first()
        results.append((slug, "updated" if channel else "created"))
        if channel is None:
            channel = Channel(slug=slug)
            dbsession.add(channel)
        channel.title = spec["title"].strip()
        channel.introduction = spec.get("introduction", "").strip()
        channel.questionnaire = _questionnaire(spec)
        channel.identity_modes = list(spec.get("identity_modes", ["anonymous"]))
        channel.deadline_profile = spec.get("deadline_profile", "eu_directive")
        for key, default, _least in RETENTION_KEYS:
            setattr(channel, key, spec.get(key, default))
        channel.wording = dict(spec.get("wording", {}))
        channel.reporters_are_staff = spec.get("reporters_are_staff", True)
        channel.board = spec.get("board", False)
        channel.help_now = _help_now(spec)
        channel.translations = _translations(spec)
        channel.quick_exit_url = spec.get("quick_exit_url", DEFAULT_QUICK_EXIT_URL) if spec.get("quick_exit") else None
        channel.active = True
        if slug in guardians:
            channel.memberships = [ChannelGuardian(account=account, tier=tier) for account, tier in guardians[slug]]
            changes = membership_changes(dbsession)
            changes.replaced.add(slug)
            changes.tiers[slug] = {account.id: tier for account, tier in guardians[slug]}
        dbsession.flush()
    return results


# --- who receives a channel's new cases ---


def channels_named(dbsession: Session, slugs) -> list[Channel]:
    """The channels `slugs` names, in that order; AccountError naming the first that does not exist."""
    channels = []
    for slug in slugs:
        channel = dbsession.scalars(select(Channel).where(Channel.slug == slug)).first()
        if channel is None:
            raise AccountError(f"there is no channel {slug!r}")
        channels.append(channel)
    return channels


def set_channels(dbsession: Session, clock: Clock, account: Account, slugs: set[str], *, actor: str) -> None:
    """Make the account a default recipient of exactly the channels `slugs`."""
    current = {m.channel.slug: m for m in dbsession.scalars(
        select(ChannelGuardian).where(ChannelGuardian.account_id == account.id))}
    channels = {c.slug: c for c in dbsession.scalars(select(Channel).where(Channel.slug.in_(slugs)))} if slugs else {}
    unknown = slugs - set(channels)
    if unknown:
        raise AccountError(f"there is no channel {min(unknown)!r}")
    if slugs and not account.is_guardian:
        raise AccountError("only a guardian can receive a channel's cases")
    if set(current) == slugs:
        return
    for slug, membership in current.items():
        if slug not in slugs:
            dbsession.delete(membership)
            record_membership(dbsession, slug, account.id, None)
    for slug in slugs - set(current):
        dbsession.add(ChannelGuardian(channel_id=channels[slug].id, account_id=account.id))
        record_membership(dbsession, slug, account.id, TIER_DEFAULT)
    dbsession.flush()
    audit.record(dbsession, clock, actor=actor, action="account.channels_changed",
                 detail={"account_id": account.id, "channels": sorted(slugs)})
