"""Numbers, dates, times and the service's own names in words people read: file sizes and limits
in decimal kB, MB and GB, as phones and computers show them (never KiB or MiB); days as
"4 March 2027"; moments as "4 Dec 2026, 14:05 GMT" in the installation's time zone; the values
the code keeps as names (statuses, priorities, outcomes, identity modes…) as labels; and every
audit event as a sentence ("demo.guardian read the case"), so no page shows a developer's word."""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from babel.dates import format_date, format_datetime
from babel.numbers import format_decimal

from whistle.i18n import DEFAULT, current_language, plural

_UNITS = (("GB", 10**9), ("MB", 10**6), ("kB", 10**3))


def size_words(size: int, *, limit: bool = False) -> str:
    """'2.5 MB', '1 GB', '512 bytes'. One decimal below 10 of a unit, none above. A `limit` is
    rounded down, so the page never promises more than the server takes (1 GiB is "1 GB")."""
    for unit, scale in _UNITS:
        amount = size / scale
        factor = 10 if amount < 10 else 1
        amount = (math.floor(amount * factor) if limit else round(amount * factor)) / factor
        if amount >= 1:
            return f"{_number(amount)} {unit}"
    return plural("${count} byte", "${count} bytes", size, {"count": _number(size)})


def _number(amount: float) -> str:
    """2.5 in the page's language: "2.5", "2,5"; the code's own form where it has no language."""
    language = current_language()
    return f"{amount:g}" if language.code == DEFAULT else format_decimal(amount, locale=language.formats)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def day_words(day: date) -> str:
    """'4 March 2027' (in Welsh '4 Mawrth 2027'): a day, never a time, the month in words so no
    reader mistakes the order of day and month."""
    language = current_language()
    if language.code != DEFAULT:
        return format_date(day, format="long", locale=language.formats)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def _zone_name(moment: datetime) -> str:
    """The zone's abbreviation ("UTC", "GMT", "BST", "CET"), or its offset from UTC ("UTC+4")
    where the time zone database has no letters for it ("+04")."""
    name = moment.tzname() or ""
    if name and name[0] not in "+-":
        return name
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    hours, rest = divmod(abs(int(offset.total_seconds())) // 60, 60)
    return "UTC" if not (hours or rest) else f"UTC{sign}{hours}" + (f":{rest:02d}" if rest else "")


def time_words(moment: datetime, zone: tzinfo = UTC) -> str:
    """'4 Dec 2026, 14:05 UTC': a moment in `zone`, always naming the zone, so a time read in
    another office, or in summer, is never an hour out. A naive `moment` is UTC (as everything
    stored is)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    local = moment.astimezone(zone)
    language = current_language()
    if language.code != DEFAULT:
        return f"{format_datetime(local, 'd MMM y, HH:mm', locale=language.formats)} {_zone_name(local)}"
    return f"{local.day} {_MONTHS[local.month - 1][:3]} {local.year}, {local:%H:%M} {_zone_name(local)}"


# --- the values the code keeps as names, as labels ---

STATUS_LABELS = {
    "received": "Received", "acknowledged": "Acknowledged", "assessing": "Assessing", "investigating": "Investigating",
    "feedback_given": "Feedback given", "closed": "Closed",
}
# Why guardians closed a case as junk (whistle.cases.lifecycle.close_as_junk).
JUNK_REASON_LABELS = {"flood": "Sent in a flood of junk reports", "spam": "Advertising or spam",
                      "test": "A test, not a concern"}
PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "urgent": "Urgent"}
SUBSTANTIATED_LABELS = {"yes": "Yes", "partly": "Partly", "no": "No", "not_determined": "Not determined"}
CHANGE_LABELS = {
    "none": "Nothing changed", "policy": "A policy", "process": "A process", "training": "Training",
    "staffing": "Staffing", "disciplinary": "Disciplinary action", "referral": "Referred elsewhere",
    "other": "Something else",
}
# The reporter's answer at closure to "would you speak up again?" (cases.speak_up_again).
SPEAK_UP_LABELS = {"yes": "Yes", "no": "No", "not_sure": "Not sure"}
IDENTITY_MODE_LABELS = {
    "anonymous": "Anonymous",
    "confidential": "Confidential: only guardians know who they are",
    "open": "Open: they are happy to be known",
}
# Why a guardian erased one message, note or file (case_items.erased_reason): a fixed list, never free
# text, so the reason itself can hold no personal data.
ERASURE_REASONS = {
    "manifestly-irrelevant": "Personal data manifestly irrelevant to the report",
    "duplicate": "A duplicate of something already in the case",
    "sent-in-error": "Sent in error",
}


def erased_words(erased_on: date, reason: str | None) -> str:
    """What the case page and the mailbox show in place of an erased item."""
    return f"Erased on {day_words(erased_on)}: {label(ERASURE_REASONS, reason)}."


# What became of a reporter's file's hidden information (attachments.services.METADATA_OUTCOMES), as
# the guardian's case page and the API's attachments say it.
METADATA_REMOVAL_WORDS = {
    "removed": "Hidden information removed (EXIF, document properties)",
    "unsupported": "Could not remove hidden information: format not supported",
    "unreadable": "Could not remove hidden information: the file could not be read, so it is kept as sent",
    "too_large": "Could not remove hidden information: the file is too large, so it is kept as sent",
}


def metadata_removal_words(outcome: str | None) -> str | None:
    """The words for a file's metadata-removal outcome; None when the reporter did not ask (or the
    file was encrypted on their device), so nothing is said."""
    if outcome is None:
        return None
    return METADATA_REMOVAL_WORDS.get(outcome, "Could not remove hidden information")


NOTIFICATION_STATE_LABELS = {
    "pending": "Waiting to be sent", "delivered": "Delivered", "failed": "Failed on every attempt",
    "cancelled": "Not needed any more",
}
NOTIFICATION_CHANNEL_LABELS = {"email": "Email", "webhook": "Webhook"}
# The events a guardian can be told about (whistle.notifications.preferences.EVENTS), as the
# notifications page lists them.
NOTICE_EVENT_LABELS = {
    "new_report": "A new report comes in for me",
    "reporter_message": "A reporter writes a message in one of my cases",
    "reporter_file": "A reporter sends a file in one of my cases",
    "case_given": "A case is given to me",
    "escalations": "Deadline reminders and escalations",
    "retaliation": "Retaliation alerts",
    "case_due_for_deletion": "A case I hold is to be deleted in 30 days",
    "account_recovery": "My authenticator or password is reset with my recovery key",
    "case_withdrawn": "A reporter withdraws a report in one of my cases",
    "staffing_change": "Someone is made a guardian, or added to one of my channels",
}
DEADLINE_PROFILE_LABELS = {
    "eu_directive": "EU Directive (acknowledge in 7 days, feedback within 3 months)",
    "uk_childrens_complaints": "UK children's complaints (in working days)",
}
DEADLINE_KIND_LABELS = {"acknowledge": "Acknowledge", "feedback": "Feedback"}
LOGIN_FAILURE_WORDS = {
    "unknown-username": "no account has that username", "wrong-password": "wrong password",
    "wrong-otp": "wrong code", "reused-otp": "a code that had been used already",
    "disabled": "the account is disabled", "locked": "sign-in was paused after several failures",
    "paused": "not checked: that device had failed too often",
    "busy": "not checked: many sign-ins had failed on the service, and one from that device",
    "not-moved-over": "signed in on the device before the account had device sign-in",
    "malformed-auth-key": "the device sent a key of the wrong length",
}


# The error page's heading for HTTP's own phrases ("Not Found"); a page's own title stays.
ERROR_TITLES = {
    "Bad Request": "That did not work", "Unauthorized": "Please sign in", "Forbidden": "You cannot open this",
    "Not Found": "Page not found", "Conflict": "That cannot be done now", "Content Too Large": "That is too large",
    "Request Entity Too Large": "That is too large", "Unprocessable Content": "Something needs fixing",
    "Unprocessable Entity": "Something needs fixing", "Invalid request": "Something needs fixing",
    "Internal Server Error": "Something went wrong",
}


def humane(name: str) -> str:
    """A name the code keeps ("promotion_withheld", "adverse-event") as words ("promotion withheld")."""
    return " ".join(str(name).replace("_", " ").replace("-", " ").split())


def label(labels: Mapping[str, str], value) -> str:
    """`value`'s label, or the value in words when nobody wrote a label for it (a plugin's own)."""
    if value is None or value == "":
        return "none"
    return labels.get(value) or humane(value).capitalize()


def status_label(status: str) -> str:
    return label(STATUS_LABELS, status)


def priority_label(priority: str | None) -> str:
    return label(PRIORITY_LABELS, priority or "normal")


def listing(items: Iterable[str], *, conjunction: str = "and", empty: str = "none") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [str(item) for item in items]
    if not items:
        return empty
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """'1 file', '3 files', 'no files'."""
    plural = plural or singular + "s"
    return f"no {plural}" if not count else f"1 {singular}" if count == 1 else f"{count} {plural}"


def quoted(items: Iterable[str]) -> str:
    return listing([f"“{item}”" for item in items])


def field_error(field_label: str, message: str) -> str:
    """A form field's error that names the field: ("Reply to the reporter", "Write something
    first.") -> "Reply to the reporter: write something first."; after a question, a sentence of
    its own."""
    message = message.strip()
    if field_label.endswith("?"):  # a question: "Was it substantiated? Choose an answer."
        return f"{field_label} {message}"
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        message = message[0].lower() + message[1:]
    return f"{field_label}: {message}"


def problem_fields(problem, messages: Mapping[str, str] | None = None) -> dict[str, str]:
    """A refused form's problem (whistle.errors.Problem) as {field: message}. The API's messages
    name machine values ("One of: low, normal, high, urgent."); `messages` gives a page's own
    words for such fields."""
    messages = messages or {}
    return {e["field"]: messages.get(e["field"], e["message"]) for e in (getattr(problem, "errors", None) or [])}


# The inbox's filters when an edited address asks for something the form does not offer.
INBOX_FILTER_MESSAGES = {
    "status": "Choose one of the statuses in the list.", "priority": "Choose one of the priorities in the list.",
    "sort": "Choose one of the orders in the list.", "overdue": "Tick the box or leave it empty.",
    "unread": "Tick the box or leave it empty.", "page": "Give a whole number, from 1.",
    "per_page": "Give a whole number from 1 to 100.", "surge": "Give a day, written as 2026-12-05.",
}

# The case page's forms, by the name a refused form is shown again with: each field's element id
# and label, so the error summary links to the field and names it in its label's words (the API's
# problems name fields by their machine names).
CASE_FORM_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "reply": {"text": ("reply-text", "Reply to the reporter")},
    "send-file": {"files": ("send-files", "Send the reporter a file")},
    "note": {"text": ("note-text", "Add a note")},
    "internal-file": {"files": ("internal-files", "Add an internal file")},
    "move-closed": {"substantiated": ("close-substantiated", "Was the concern substantiated?"),
                    "changes": ("close-changes-1", "What changed"),
                    "factors": ("close-factors-1", "Contributory factors"),
                    "learned": ("close-learned", "What was learned"),
                    "changed": ("close-changed", "What changed, in practice")},
    "move-assessing": {"reason": ("reopen-reason", "Why reopen?")},
    "triage": {"priority": ("triage-priority", "Priority"), "labels": ("add-labels", "Add labels")},
    "grant": {"guardian": ("grant-guardian", "Grant to another guardian")},
    "transfer": {"guardian": ("transfer-guardian", "Transfer to"),
                 "reason": ("transfer-reason", "Reason for the transfer")},
    "conflict": {"reason": ("conflict-reason", "Why you step aside")},
    "legal-hold": {"reason": ("legal-hold-reason", "Why the case must be kept")},
    "erase": {"item_id": ("erase-item", "What to erase"), "reason": ("erase-reason", "Why it is erased")},
    "board": {"title": ("board-title", "Title"), "you_said": ("board-you-said", "You said"),
              "we_did": ("board-we-did", "We did")},
    "board-edit": {"title": ("board-edit-title", "Title"), "you_said": ("board-edit-you-said", "You said"),
                   "we_did": ("board-edit-we-did", "We did")},
    "export": {"passphrase": ("export-passphrase", "Passphrase"),
               "passphrase_again": ("export-passphrase-again", "The passphrase again")},
    "protection": {"personnel_id": ("personnel_id", "Staff number"), "starts_on": ("starts_on", "Watch from"),
                   "window_months": ("window_months", "For how many months")},
}
# A staff form posted with a CSRF token from before the browser's current session (signed in
# again in another tab, say): the form comes back with what was typed, and this.
EXPIRED_FORM = ("This page had expired (perhaps you signed in again in another tab), so nothing was done. "
                "What you typed is kept here, apart from passwords and keys: check it and send it again.")
# Where the API's message lists machine values, the case page says it in words.
CASE_FORM_MESSAGES = {
    "substantiated": "Choose an answer from the list.",
    "changes": "Tick at least one.",
    "factors": "Tick only factors from the list.",
    "priority": "Choose one of the priorities in the list.",
    "to": "That move is not offered for this case.",
}


def record_about(about: str) -> str:
    """What a guardian's reason was for: "reopen" or "status:investigating"."""
    if about == "reopen":
        return "Reason for reopening"
    if about == "legal-hold":
        return "Reason for the legal hold"
    kind, _, status = str(about).partition(":")
    return f"Reason for moving to {status_label(status).lower()}" if kind == "status" else "Reason"


# --- the audit log, in sentences ---


@dataclass(frozen=True)
class Names:
    """What the ids in audit events stand for: account ids -> usernames, case ids -> case
    references, channel slugs -> titles, integration ids -> names, export names -> titles."""

    accounts: Mapping[int, str] = field(default_factory=dict)
    cases: Mapping[int, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    integrations: Mapping[int, str] = field(default_factory=dict)
    exports: Mapping[str, str] = field(default_factory=dict)

    def account(self, account_id) -> str:
        return self.accounts.get(account_id, "an account that no longer exists") if account_id is not None else "nobody"

    def case(self, case_id) -> str:
        return self.cases.get(case_id, "") if case_id is not None else ""

    def channel(self, slug) -> str:
        return self.channels.get(slug) or humane(slug or "unknown").capitalize()


@dataclass(frozen=True)
class Referenced:
    """The ids a list of audit events mentions, to be looked up once for the whole page."""

    accounts: set[int] = field(default_factory=set)
    cases: set[int] = field(default_factory=set)
    channels: set[str] = field(default_factory=set)
    integrations: set[int] = field(default_factory=set)


_ACCOUNT_KEYS = ("account_id", "to_account_id", "proposed_by")
_ACCOUNT_LIST_KEYS = ("account_ids", "standby_ids", "requested")


def referenced(events) -> Referenced:
    """Every account, case, channel and integration `events` (audit events: actor, case_id,
    detail) refer to."""
    found = Referenced()
    for event in events:
        kind, _, number = (event.actor or "").partition(":")
        if number.isdigit():
            ids = found.accounts if kind == "account" else found.integrations if kind == "integration" else set()
            ids.add(int(number))
        if event.case_id is not None:
            found.cases.add(event.case_id)
        detail = event.detail or {}
        found.accounts.update(detail[key] for key in _ACCOUNT_KEYS if isinstance(detail.get(key), int))
        for key in _ACCOUNT_LIST_KEYS:
            found.accounts.update(i for i in detail.get(key) or () if isinstance(i, int))
        if isinstance(detail.get("channel"), str):
            found.channels.add(detail["channel"])
        if event.action in ("account.created", "account.channels_changed"):
            found.channels.update(c for c in detail.get("channels") or () if isinstance(c, str))
    return found


def actor_words(actor: str, names: Names) -> str:
    """Who did it: a username, "the reporter", "whistle" (the service itself, its scheduled work
    and its command line), "someone not signed in", or an HR integration by name."""
    kind, _, number = (actor or "").partition(":")
    if kind == "account" and number.isdigit():
        return names.account(int(number))
    if kind == "integration" and number.isdigit():
        return f"the HR integration “{names.integrations.get(int(number), 'that no longer exists')}”"
    return {"reporter": "the reporter", "system": "whistle", "anonymous": "someone not signed in"}.get(
        actor, "someone")


def _statuses(d: dict) -> tuple[str, str]:
    return status_label(d.get("from", "")).lower(), status_label(d.get("to", "")).lower()


def _rule(rule) -> str:
    """An escalation rule as the sentence's subject: plugins name rules "eu.ack-breach"."""
    rule = str(rule or "")
    if rule.endswith("-breach"):
        return "A missed-deadline rule"
    if rule.endswith("-reminder"):
        return "A deadline reminder"
    if rule and rule != "unnamed-rule":
        return f"The escalation rule “{humane(rule.rpartition('.')[2])}”"
    return "An escalation rule"


def _audience(d: dict) -> str:
    if d.get("fallback"):
        return "the case's guardians (there is no second tier)"
    return "the channel's second tier" if d.get("audience") == "second_tier" else "the case's guardians"


def _escalated(who: str, d: dict, names: Names) -> str:
    rule, kind = _rule(d.get("rule")), d.get("kind")
    if kind == "raise_priority":
        return (f"{rule} raised the priority from {priority_label(d.get('from')).lower()} "
                f"to {priority_label(d.get('to')).lower()}")
    if kind == "grant":
        text = f"{rule} gave the case to {listing(names.account(i) for i in d.get('account_ids') or ())}"
        if d.get("requested"):
            text += f" and asked its guardians to give it to {listing(names.account(i) for i in d['requested'])}"
        return text
    if kind == "notify":
        recipients = d.get("recipients")
        told = f" ({counted(recipients, 'notice')})" if isinstance(recipients, int) else ""
        return f"{rule} told {_audience(d)}{told}"
    return f"{rule} acted on the case"


def _routed(who: str, d: dict, names: Names) -> str:
    text = f"whistle gave the case to {listing(names.account(i) for i in d.get('account_ids') or ())}"
    if d.get("tier") == 2:
        text += ", the channel's second tier"
    if d.get("excluded"):
        text += f"; {counted(d['excluded'], 'guardian')} left out for a conflict of interest"
    if d.get("standby_ids"):
        text += f"; on standby: {listing(names.account(i) for i in d['standby_ids'])}"
    return text


def _triaged(who: str, d: dict, names: Names) -> str:
    parts = []
    if d.get("labels"):
        parts.append(f"labelled the case {quoted(d['labels'])}")
    if isinstance(d.get("priority"), dict):
        parts.append(f"raised the priority from {priority_label(d['priority'].get('from')).lower()} "
                     f"to {priority_label(d['priority'].get('to')).lower()}")
    return f"A plugin's triage {listing(parts) if parts else 'looked at the case'}"


def _labels_changed(who: str, d: dict, names: Names) -> str:
    parts = []
    if d.get("added"):
        parts.append(f"added the label{'s' if len(d['added']) > 1 else ''} {quoted(d['added'])}")
    if d.get("removed"):
        parts.append(f"removed the label{'s' if len(d['removed']) > 1 else ''} {quoted(d['removed'])}")
    return f"{who} {listing(parts) if parts else 'changed the labels'}"


def _closed(who: str, d: dict, names: Names) -> str:
    changes = [label(CHANGE_LABELS, c).lower() for c in d.get("changes") or ()]
    return (f"{who} closed the case (substantiated: {label(SUBSTANTIATED_LABELS, d.get('substantiated')).lower()}; "
            f"what changed: {listing(changes)})")


def _purged(who: str, d: dict, names: Names) -> str:
    """The case is gone; its reference stays in the event's detail but not in its words, which the
    admin audit log shows (an admin never sees a case's reference)."""
    days = [f"{what} {day_words(date.fromisoformat(d[key]))}" for what, key in (
        ("opened", "opened_on"), ("closed", "closed_on"), ("withdrawn", "withdrawn_on")) if d.get(key)]
    return (f"{who} deleted the case for good at the end of its retention period "
            f"({'; '.join([names.channel(d.get('channel')), *([', '.join(days)] if days else [])])})")


def _roles(guardian, admin) -> str:
    return listing([role for role, held in (("guardian", guardian), ("admin", admin)) if held])


def _account_created(who: str, d: dict, names: Names) -> str:
    text = (f"{who} created the account {names.account(d.get('account_id'))} "
            f"({_roles(d.get('guardian'), d.get('admin'))})")
    if d.get("channels"):
        text += f", receiving new cases from {listing(names.channel(c) for c in d['channels'])}"
    return text


def _notify_changed(who: str, d: dict, names: Names) -> str:
    whose = names.account(d.get("account_id"))
    whose = "their" if whose == who else f"{whose}'s"
    if not d.get("channel"):
        return f"{who} turned off {whose} notices"
    return f"{who} set {whose} notices to go by {label(NOTIFICATION_CHANNEL_LABELS, d['channel']).lower()}"


def _notify_events_changed(who: str, d: dict, names: Names) -> str:
    off = [NOTICE_EVENT_LABELS.get(event, humane(event)) for event in d.get("off") or ()]
    whom = names.account(d.get("account_id"))
    subject = "" if whom == who else f" that {whom} is"
    if not off:
        return f"{who} chose{subject or ' to be'} told about everything"
    return f"{who} chose{subject or ' not to be'}{' not' if subject else ''} told about: {quoted(off)}"


def _statistics_downloaded(who: str, d: dict, names: Names) -> str:
    period = ""
    with contextlib.suppress(KeyError, TypeError, ValueError):
        period = f" for {day_words(date.fromisoformat(d['from']))} to {day_words(date.fromisoformat(d['to']))}"
    channels = d.get("channels")
    over = (f" ({listing(names.channel(slug) for slug in channels)})" if isinstance(channels, list) and channels
            else "")
    return f"{who} downloaded the statistics as CSV{period}{over}"


def _export(who: str, d: dict, names: Names) -> str:
    title = names.exports.get(d.get("export", ""), humane(d.get("export", "")))
    period = ""
    with contextlib.suppress(KeyError, TypeError, ValueError):
        period = f" for {day_words(date.fromisoformat(d['start']))} to {day_words(date.fromisoformat(d['end']))}"
    return f"{who} downloaded the statistics export “{title}”{period}"


def _checkin(who: str, d: dict, names: Names) -> str:
    answer = ("something bad has happened to them because they spoke up" if d.get("detriment")
              else "nothing bad has happened")
    month = d.get("month")
    return f"{who} answered the {month}-month check-in: {answer}" if month else f"{who} answered a check-in: {answer}"


def _files(d: dict) -> str:
    return counted(d.get("files") or 1, "file")


def _login_failed(who: str, d: dict, names: Names) -> str:
    reason = LOGIN_FAILURE_WORDS.get(d.get("reason", ""), "the details did not match")
    return f"Sign-in failed for {who if who != 'someone not signed in' else 'an unknown username'} ({reason})"


def _recovery_failures(who: str, d: dict, names: Names) -> str:
    raw = d.get("count")
    count = raw if isinstance(raw, int) else 0
    try:
        hour = f" in the hour from {time_words(datetime.fromisoformat(d['from']))}"
    except (KeyError, TypeError, ValueError):
        hour = ""
    return (f"{counted(count, 'wrong recovery key')} tried{hour}, to reset a password or an authenticator "
            "(counted, not recorded one by one; past the hour's limit, tries were refused untried)")


def _password_change_failed(who: str, d: dict, names: Names) -> str:
    paused = " while sign-in was paused" if d.get("reason") in ("locked", "paused", "busy") else ""
    return f"{who} tried to change their password{paused}, but the current password was wrong"


# Every audit action whistle records, as a sentence: (who, detail, names) -> words. `who` is
# actor_words(actor). tests/unit/test_words.py fails for an action recorded anywhere in the code
# that has no entry here.
# What an item of each kind is, for the sentence about one that failed to verify.
_UNVERIFIABLE_KINDS = {
    "disclosure": "The reporter's disclosure", "answers": "The reporter's answers", "identity": "Who the reporter is",
    "message": "A message", "note": "An internal note", "outcome": "The closing record", "reason": "A reason given",
    "attachment-meta": "A file's name and size", "internal-file": "An internal file's name and size",
    "speak-up-comment": "A comment of the reporter's at closure",
}


# What an erased item was, for the sentence about its erasure.
_ERASED_KINDS = {"message": "A message", "note": "An internal note", "attachment-meta": "A file",
                 "internal-file": "An internal file"}


def _version(version: object) -> str:
    """A key directory's version in words: "version 7", or "a version" when the event lacks it."""
    return f"version {version}" if isinstance(version, int) else "a version"


AUDIT_WORDS: dict[str, Callable[[str, dict, Names], str]] = {
    # a case's life
    "case.opened": lambda who, d, n: (
        f"{who} opened the case on the {n.channel(d.get('channel'))} channel"
        + {"anonymous": ", anonymously", "confidential": ", sharing who they are with guardians only",
           "open": ", openly"}.get(d.get("identity_mode", ""), "")),
    "case.routed": _routed,
    "case.unassigned": lambda who, d, n: (
        f"Nobody could receive the case from the {n.channel(d.get('channel'))} channel"
        + (f" ({counted(d['excluded'], 'guardian')} left out for a conflict of interest)" if d.get("excluded")
           else "")),
    "case.triaged": _triaged,
    "case.viewed": lambda who, d, n: f"{who} read the case",
    "case.closing_record_read": lambda who, d, n: f"{who} read the closing record, searching what was learned",
    "case.message_added": lambda who, d, n: f"{who} replied to the reporter",
    "case.note_added": lambda who, d, n: f"{who} added an internal note",
    "case.item_erased": lambda who, d, n: (
        f"{who} erased {_ERASED_KINDS.get(d.get('kind', ''), 'an item').lower()}"
        + (f" ({label(ERASURE_REASONS, d['reason']).lower()})" if d.get("reason") else "")),
    "case.attachment_added": lambda who, d, n: (
        f"{who} added {_files(d)} for guardians only" if d.get("internal") else f"{who} sent the reporter {_files(d)}"),
    "attachment.downloaded": lambda who, d, n: f"{who} downloaded a file",
    "case.exported": lambda who, d, n: (
        f"{who} exported the case as an archive, "
        + ("encrypted to a passphrase" if d.get("encrypted") else "not encrypted")
        + (" (built on their device)" if d.get("mode") == "device" else "")),
    "case.item_unverifiable": lambda who, d, n: (
        f"{_UNVERIFIABLE_KINDS.get(d.get('kind', ''), 'Something in the case')} could not be verified: it was changed "
        "after it was written, or credited to someone else, so it is not shown"),
    "attachment.unverifiable": lambda who, d, n: (
        "A file stopped part-way while being downloaded: it was changed after it was added, so the download "
        "was cut short" if d.get("cut_short") else
        "A file could not be verified (changed after it was added, or credited to someone else), so it was "
        "not offered for download"),
    "case.acknowledged": lambda who, d, n: f"{who} acknowledged receipt",
    "case.status_changed": lambda who, d, n: "{} moved the case from {} to {}".format(who, *_statuses(d)),
    "case.feedback_given": lambda who, d, n: f"{who} recorded that feedback was given",
    "case.closed": _closed,
    "case.reopened": lambda who, d, n: f"{who} reopened the case",
    "case.closed_as_junk": lambda who, d, n: (
        f"{who} closed the case as junk ({label(JUNK_REASON_LABELS, d.get('reason')).lower()}), with others that "
        "arrived in the same surge" if d.get("surge_day") else
        f"{who} closed the case as junk ({label(JUNK_REASON_LABELS, d.get('reason')).lower()})"),
    "case.priority_changed": lambda who, d, n: (
        f"{who} changed the priority from {priority_label(d.get('from')).lower()} "
        f"to {priority_label(d.get('to')).lower()}"),
    "case.labels_changed": _labels_changed,
    "case.granted": lambda who, d, n: f"{who} gave {n.account(d.get('account_id'))} access to the case",
    "case.transferred": lambda who, d, n: f"{who} handed the case over to {n.account(d.get('to_account_id'))}",
    "case.conflict_declared": lambda who, d, n: f"{who} declared a conflict of interest and stepped aside",
    "case.legal_hold_placed": lambda who, d, n: (
        f"{who} placed the case on legal hold: it is kept until the hold is lifted"),
    "case.legal_hold_lifted": lambda who, d, n: (
        f"{who} lifted the legal hold"
        + (f" placed on {day_words(date.fromisoformat(d['since']))}" if d.get("since") else "")),
    "case.purged": _purged,
    "case.grant_requested": lambda who, d, n: (
        f"{_rule(d.get('rule'))} asked the case's guardians to give it to "
        f"{listing(n.account(i) for i in d.get('account_ids') or ())}"),
    "case.escalated": _escalated,
    "case.key_mismatch": lambda who, d, n: (
        f"{who} tried to add to the case, but the {'team' if d.get('key') == 'team' else 'case'} public key stored for "
        "it is not the one their keys vouch for: someone changed the database. Nothing was encrypted to it, and "
        "nothing was added"),
    "case.team_key_replaced": lambda who, d, n: (
        f"{who} opened the case for the first time, so its team key, made on the reporter's device, was replaced "
        "with one only the guardians hold"
        + (f"; {listing(n.account(i) for i in d.get('withheld_ids') or ())} kept the case key but not the new team "
           "key, as the key directory no longer lists them" if d.get("withheld_ids") else "")),
    # the reporter
    "reporter.session_opened": lambda who, d, n: f"{who} opened their mailbox",
    "reporter.message_sent": lambda who, d, n: f"{who} sent a message",
    "reporter.attachment_added": lambda who, d, n: f"{who} sent {_files(d)}",
    "reporter.identity_revealed": lambda who, d, n: (
        f"{who} shared who they are ({label(IDENTITY_MODE_LABELS, d.get('identity_mode')).lower()})"),
    "reporter.withdrew": lambda who, d, n: f"{who} withdrew the report, which closed the case",
    "reporter.board_consent": lambda who, d, n: (
        f"{who} {'agreed' if d.get('consent') else 'no longer agrees'} that the board may quote their words"),
    "board.published": lambda who, d, n: f"{who} published an entry about the case on the “you said, we did” board",
    "board.edited": lambda who, d, n: f"{who} edited the case's entry on the “you said, we did” board",
    "board.unpublished": lambda who, d, n: f"{who} took the case's entry off the “you said, we did” board",
    "reporter.speak_up_answered": lambda who, d, n: (
        f"{who} {'changed their answer to' if d.get('changed') else 'answered'} “would you speak up again?”"
        + (", with a comment" if d.get("comment") else "")),
    "reporter.identity_deferred": lambda who, d, n: (
        f"{who} tried to share who they are, but the case's team key cannot be checked until a guardian has opened "
        "the case: they were asked to try again later"),
    # retaliation watch
    "protection.consent_given": lambda who, d, n: f"{who} asked for retaliation watch",
    "protection.registered": lambda who, d, n: (
        f"{who} started retaliation watch"
        + (f" from {day_words(date.fromisoformat(d['starts_on']))}" if d.get("starts_on") else "")
        + (f" for {counted(d['window_months'], 'month')}" if d.get("window_months") else "")),
    "protection.alerts_acknowledged": lambda who, d, n: (
        f"{who} marked {counted(d.get('alerts') or 0, 'retaliation alert')} as seen"),
    "checkin.answered": _checkin,
    "personnel_event.received": lambda who, d, n: f"{who} sent a personnel event ({humane(d.get('type', 'unknown'))})",
    "integration.added": lambda who, d, n: f"{who} added the HR integration “{d.get('name', '')}”",
    "integration.disabled": lambda who, d, n: f"{who} turned off the HR integration “{d.get('name', '')}” for good",
    # plugins
    "plugin.action_dropped": lambda who, d, n: (
        f"The plugin “{d.get('plugin', '')}” asked for something whistle could not use at "
        f"“{humane(str(d.get('hook', '')).removeprefix('whistle_'))}” (a {d.get('type', 'value')}); "
        "whistle left it out"),
    "plugin.failed": lambda who, d, n: (
        f"The plugin “{d.get('plugin', '')}” failed at “{humane(str(d.get('hook', '')).removeprefix('whistle_'))}” "
        f"({d.get('error', 'an error')}); whistle carried on without it"),
    # staff accounts
    "login.succeeded": lambda who, d, n: f"{who} signed in",
    "login.failed": _login_failed,
    "login.refused": lambda who, d, n: (
        f"{who} was refused a sign-in with the password sent to the server (server-assisted sign-in is off)"),
    "account.moved_over": lambda who, d, n: (
        f"{who} signed in with their password once more, and now signs in on their device"),
    "logout": lambda who, d, n: f"{who} signed out",
    "logout.everywhere": lambda who, d, n: (
        f"{who} signed out everywhere ({counted(d.get('sessions') or 0, 'session')} ended)"),
    "account.created": _account_created,
    "account.password_changed": lambda who, d, n: f"{who} changed their password",
    "account.password_change_failed": _password_change_failed,
    "account.password_reset": lambda who, d, n: (
        f"Password reset with the recovery key for {n.account(d.get('account_id'))}"
        + (", and a new recovery key issued" if d.get("recovery_key_replaced") else "")),
    "account.password_reset_failed": lambda who, d, n: (
        f"{who} tried to reset a password with a recovery key that did not match"),
    "account.authenticator_reset": lambda who, d, n: (
        f"Authenticator set up again with the recovery key for {n.account(d.get('account_id'))}"
        + (", and a new recovery key issued" if d.get("recovery_key_replaced") else "")
        + (f" ({counted(d['sessions_ended'], 'session')} ended)" if d.get("sessions_ended") else "")),
    "account.authenticator_reset_failed": lambda who, d, n: (
        f"{who} tried to set up an authenticator again with a recovery key that did not match"),
    "account.recovery_failures": _recovery_failures,
    "account.disabled": lambda who, d, n: f"{who} disabled the account {n.account(d.get('account_id'))}",
    "account.enabled": lambda who, d, n: f"{who} enabled the account {n.account(d.get('account_id'))} again",
    "account.roles_changed": lambda who, d, n: (
        f"{who} made {n.account(d.get('account_id'))} "
        f"{listing([r for r, held in (('a guardian', d.get('guardian')), ('an admin', d.get('admin'))) if held])}"),
    "account.channels_changed": lambda who, d, n: (
        f"{who} set the channels {n.account(d.get('account_id'))} receives new cases from: "
        f"{listing(n.channel(c) for c in d.get('channels') or ())}"),
    "account.change_proposed": lambda who, d, n: (
        f"{who} proposed a change giving access to {n.account(d.get('account_id'))}, for a second admin to approve"),
    "account.change_approved": lambda who, d, n: (
        f"{who} approved {n.account(d.get('proposed_by'))}'s change to {n.account(d.get('account_id'))}"),
    "account.change_rejected": lambda who, d, n: (
        f"{who} rejected {n.account(d.get('proposed_by'))}'s change to {n.account(d.get('account_id'))}"),
    "account.notify_changed": _notify_changed,
    "account.notify_events_changed": _notify_events_changed,
    # the organisation key and the signed key directory
    "key_directory.published": lambda who, d, n: (
        f"{who} published {_version(d.get('version'))} of the signed key directory "
        f"({counted(d.get('guardians') or 0, 'guardian')})"),
    "key_directory.rolled_back": lambda who, d, n: (
        f"The stored key directory went back to {_version(d.get('version'))} after {_version(d.get('seen'))} was "
        "in use: it was refused"),
    # the admin area
    "export": _export,
    "statistics.downloaded": _statistics_downloaded,
    "notification.retried": lambda who, d, n: f"{who} put {counted(d.get('count') or 0, 'notice')} back in the queue",
}

# Actions no longer recorded, whose words stay for the events older logs hold (the log is permanent):
# wrong recovery keys are counted per hour now (account.recovery_failures), not audited one by one;
# a case nobody could receive is refused at intake now, not stored sealed to nobody (case.unassigned).
RETIRED_ACTIONS = frozenset({"account.password_reset_failed", "account.authenticator_reset_failed", "case.unassigned"})

# Sentences that start with these are capitalised; a username stays as it is spelt, and so does "whistle".
_CAPITALISED = ("the ", "someone ")


def event_words(action: str, actor: str, detail: Mapping | None, names: Names) -> str:
    """One audit event as a sentence: "demo.guardian read the case", "The reporter sent a message"."""
    who = actor_words(actor, names)
    describe = AUDIT_WORDS.get(action)
    if describe is None:  # recorded by something newer than this table: say so in words
        text = f"{who}: {humane(action.replace('.', ' '))}"
    else:
        text = describe(who, dict(detail or {}), names)
    if text.startswith(_CAPITALISED):
        text = text[0].upper() + text[1:]
    return text


def reporter_dated(actor: str) -> bool:
    """The reporter's events are dated to the day (whistle.audit): show the day, not a midnight."""
    return actor == "reporter"
