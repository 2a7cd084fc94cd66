"""A guardian's notices: where they are told (a notification channel and an address), in which
language, and which events they are told about (each may be turned off; all are on by default).

The event decides only *whether* a guardian is told. The notice itself is the same for every
event — "something needs your attention" and the sign-in link (security promise 4) — so the
outbox and everything delivered from it still say nothing about which case, or why.
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pyramid.i18n import TranslationString
from sqlalchemy.orm import Session

from whistle import audit
from whistle.accounts.models import Account
from whistle.accounts.services import AccountError
from whistle.clock import Clock
from whistle.i18n import LANGUAGES, _, english
from whistle.words import NOTICE_EVENT_LABELS

log = logging.getLogger(__name__)

NEW_REPORT = "new_report"  # a case I hold was opened
REPORTER_MESSAGE = "reporter_message"  # the reporter wrote in a case I hold
REPORTER_FILE = "reporter_file"  # the reporter sent files in a case I hold
CASE_GIVEN = "case_given"  # another guardian, or an escalation rule, gave me a case
ESCALATIONS = "escalations"  # what plugins' escalation rules send: deadline reminders, breaches
RETALIATION = "retaliation"  # a retaliation alert on a case I hold
ACCOUNT_RECOVERY = "account_recovery"  # my recovery key was used: my authenticator or password is new
CASE_DUE_FOR_DELETION = "case_due_for_deletion"  # a case I hold is to be deleted in 30 days (whistle.records)
CASE_WITHDRAWN = "case_withdrawn"  # the reporter withdrew a case I hold
STAFFING_CHANGE = "staffing_change"  # someone was made a guardian, or added to one of my channels

# Every event, in the order the notifications page lists them, with the words it shows (which the
# audit log's sentences use too: whistle.words).
EVENTS: dict[str, str] = {event: NOTICE_EVENT_LABELS[event]
                          for event in (NEW_REPORT, REPORTER_MESSAGE, REPORTER_FILE, CASE_GIVEN, ESCALATIONS,
                                        RETALIATION, CASE_WITHDRAWN, CASE_DUE_FOR_DELETION, STAFFING_CHANGE,
                                        ACCOUNT_RECOVERY)}
# The events nobody can turn off: a recovery key used by someone else takes the account over,
# and the notice is how its owner finds out; someone given access to future cases is how an
# admin (or whoever holds one's session) would read them, and the notice is how the channel's
# guardians find out.
ALWAYS_ON = frozenset({ACCOUNT_RECOVERY, STAFFING_CHANGE})
# Why each event of ALWAYS_ON cannot be turned off, for the refusal.
ALWAYS_ON_WHY = {
    ACCOUNT_RECOVERY: "it is how you learn that someone else used your recovery key",
    STAFFING_CHANGE: "it is how you learn that someone was given access to your channels' future cases",
}


# --- where a guardian is told ---

MAX_ADDRESS_LENGTH = 512


class AddressError(AccountError):
    """A notification channel or address that cannot be accepted; `field` is "channel" or "address"."""

    def __init__(self, field: str, message: str, sentence: str | None = None) -> None:
        super().__init__(message, sentence)
        self.field = field


def check_notify_address(channel: str, address: str, available: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """The (channel, address) to store, checked; (None, None) when `channel` is empty (no notices).

    `available` are the notification channels the running plugins offer, by name
    (registry.notification_channels). Any address is one line of text; what else makes an
    address right is the channel's to say: its `address_problem(address)`, if it has one,
    returns what is wrong (a sentence naming no value), or None."""
    channel, address = (channel or "").strip(), (address or "").strip()
    if not channel:
        return None, None
    if channel not in available:
        offered = ", ".join(sorted(available)) if available else "none: no notification plugin is enabled"
        sentence = (_("There is no notification channel ${name} (available: ${offered}).",
                      mapping={"name": repr(channel), "offered": ", ".join(sorted(available))}) if available
                    else _("There is no notification channel ${name} (available: none: no notification plugin "
                           "is enabled).", mapping={"name": repr(channel)}))
        raise AddressError("channel", f"there is no notification channel {channel!r} (available: {offered})", sentence)
    if not address:
        raise AddressError("address", "give the address to notify on that channel",
                           _("Give the address to notify on that channel."))
    if len(address) > MAX_ADDRESS_LENGTH or any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in address):
        raise AddressError("address", f"an address is one line of at most {MAX_ADDRESS_LENGTH} characters "
                                      "without spaces",
                           _("An address is one line of at most ${count} characters without spaces.",
                             mapping={"count": MAX_ADDRESS_LENGTH}))
    problem = _address_problem(available[channel], address)
    if problem == ADDRESS_NOT_CHECKED:
        raise AddressError("address", problem, ADDRESS_NOT_CHECKED_SENTENCE)
    if isinstance(problem, TranslationString):
        # A marked sentence ("That does not look like an email address."): the page shows it in its
        # language; the command line, the log and the API get its English as a phrase.
        words = english(problem).rstrip(".")
        raise AddressError("address", words[:1].lower() + words[1:], problem)
    if problem:
        raise AddressError("address", problem)
    return channel, address


ADDRESS_NOT_CHECKED = "that address could not be checked; try again, or ask an admin"
ADDRESS_NOT_CHECKED_SENTENCE = _("That address could not be checked; try again, or ask an admin.")


def _address_problem(channel: Any, address: str) -> str | None:
    """What the channel's plugin says is wrong with `address`, or None. A plugin that raises is
    logged by type and the address refused: it could not be checked."""
    check = getattr(channel, "address_problem", None)
    if not callable(check):
        return None
    try:
        problem = check(address)
    # Whatever the plugin raised: it must never break the request; its message might hold the address.
    except Exception as error:  # noqa: BLE001
        log.error("notification channel %s raised %s checking an address", getattr(channel, "name", "?"),
                  type(error).__name__)
        return ADDRESS_NOT_CHECKED
    return problem if isinstance(problem, str) and problem else None


def set_notify_address(dbsession: Session, clock: Clock, account: Account, channel: str, address: str, *,
                       available: Mapping[str, Any], actor: str) -> bool:
    """Set (or, with an empty channel, clear) where `account` is notified; audited without the
    address. Raises AddressError (nothing changed). Returns whether anything changed.

    Values equal to the stored ones are not checked again, so a form saved for another reason
    still goes through while the channel's plugin happens to be disabled."""
    channel, address = (channel or "").strip(), (address or "").strip()
    if (channel or None, (address or None) if channel else None) == (account.notify_channel, account.notify_address):
        return False
    new_channel, new_address = check_notify_address(channel, address, available)
    if (account.notify_channel, account.notify_address) == (new_channel, new_address):
        return False
    account.notify_channel, account.notify_address = new_channel, new_address
    # The address itself stays out of the (permanent, hash-chained) audit log.
    audit.record(dbsession, clock, actor=actor, action="account.notify_changed",
                 detail={"account_id": account.id, "channel": new_channel})
    return True


# --- the language of a guardian's notices ---


class LanguageError(AccountError):
    """A notice language that is not one whistle ships; `field` is "language"."""

    field = "language"


def check_notify_language(value) -> str | None:
    """The language to store for notices: a shipped language's code, or None (an empty value or
    null: as the notification channel writes them). Raises LanguageError naming the choices."""
    if value is None or value == "":
        return None
    if isinstance(value, str) and value in LANGUAGES:
        return value
    codes = ", ".join(LANGUAGES)
    raise LanguageError(f"there is no language {value!r} (languages: {codes})",
                        _("Choose one of the languages offered (${codes}), or none.", mapping={"codes": codes}))


def shipped_notice_language(account: Account) -> str | None:
    """The language `account`'s notices are written in: the one chosen, or None when none was or
    it is no longer shipped (taken out since): then the channel writes as configured."""
    return account.notify_language if account.notify_language in LANGUAGES else None


def set_notify_language(dbsession: Session, clock: Clock, account: Account, value, *, actor: str) -> bool:
    """Set (or, with None or "", clear) the language of `account`'s notices and of their sign-in
    link; audited. Raises LanguageError (nothing changed). Returns whether anything changed. A
    language no longer shipped counts as none, so saving the page unchanged changes nothing."""
    language = check_notify_language(value)
    if language == shipped_notice_language(account):
        return False
    account.notify_language = language
    audit.record(dbsession, clock, actor=actor, action="account.notify_language_changed",
                 detail={"account_id": account.id, "language": language})
    return True



# --- which events a guardian is told about ---


class EventsError(AccountError):
    """Notice preferences that cannot be accepted (an event that does not exist, a value that is
    not true or false); the message names the event."""


def notify_events(account: Account) -> dict[str, bool]:
    """Every event (EVENTS, in order): True where `account` is told (always, for ALWAYS_ON)."""
    off = set(account.notify_events_off or ()) - ALWAYS_ON
    return {event: event not in off for event in EVENTS}


def check_notify_events(account: Account, wanted) -> list[str]:
    """The events to store as turned off after applying `wanted` ({event: true or false}; events
    not named keep their setting) to `account`'s. Raises EventsError naming every unknown event."""
    if not isinstance(wanted, Mapping):
        raise EventsError("give an object of events, each true (tell me) or false")
    unknown = [name for name in wanted if name not in EVENTS]
    if unknown:
        names = " or ".join(repr(name) for name in unknown)
        raise EventsError(f"there is no event {names} (events: {', '.join(EVENTS)})")
    not_boolean = [name for name, value in wanted.items() if not isinstance(value, bool)]
    if not_boolean:
        raise EventsError(f"{not_boolean[0]!r} must be true (tell me) or false")
    always = [name for name, value in wanted.items() if name in ALWAYS_ON and value is False]
    if always:
        raise EventsError(f"{always[0]!r} cannot be turned off: {ALWAYS_ON_WHY[always[0]]}")
    current = notify_events(account)
    return [event for event in EVENTS if not wanted.get(event, current[event])]


def set_notify_events(dbsession: Session, clock: Clock, account: Account, wanted, *, actor: str) -> bool:
    """Apply `wanted` (see check_notify_events) to the events `account` is told about; audited
    with the events turned off (names only). Raises EventsError (nothing changed). Returns
    whether anything changed."""
    off = check_notify_events(account, wanted)
    if off == list(account.notify_events_off or ()):
        return False
    account.notify_events_off = off
    audit.record(dbsession, clock, actor=actor, action="account.notify_events_changed",
                 detail={"account_id": account.id, "off": off})
    return True
