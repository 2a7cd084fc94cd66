"""Numbers, dates, times and the service's own names in words people read: file sizes and limits
in decimal kB, MB and GB, as phones and computers show them (never KiB or MiB); days as
"4 March 2027"; moments as "4 Dec 2026, 14:05 GMT" in the installation's time zone; the values
the code keeps as names (statuses, priorities, outcomes, identity modes…) as labels; and every
audit event as a sentence ("demo.guardian read the case"), so no page shows a developer's word.

All of it in the page's language (whistle.i18n). Labels are marked values, shown translated when a
template prints them; text made of several values (an audit sentence, an erased item's words) is
one whole marked message with `${name}` markers, given back as a plain str in the request's
language (English outside a request, byte for byte what it always was), so each language can put
the values in its own order."""
from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo

from babel.dates import format_date, format_datetime, get_month_names
from babel.lists import format_list
from babel.numbers import format_decimal
from pyramid.threadlocal import get_current_request

from whistle.i18n import DEFAULT, LANGUAGES, Language, _, current_language, localized, plural

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


def number_words(value: float) -> str:
    """A count or an average as a table shows it, grouped in the page's language: "1,234" and "2.5"
    in English, "1 234" and "2,5" in Polish; whole numbers without decimals, others to one."""
    return format_decimal(value, format="#,##0.#", locale=current_language().formats)


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")


def day_words(day: date) -> str:
    """'4 March 2027' (in Welsh '4 Mawrth 2027'): a day, never a time, the month in words so no
    reader mistakes the order of day and month."""
    language = current_language()
    if language.code != DEFAULT:
        return format_date(day, format="long", locale=language.formats)
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def month_names(language: Language | None = None) -> list[str]:
    """The twelve months' names as day_words puts them in a day, in `language` (the page's by
    default): "Rhagfyr" in Welsh, "grudnia" in Polish. For the browser's modules, which say a day
    as day_words does (day, month, year in every language of whistle.i18n) where the browser has no
    words for the language: Chromium has none for Welsh."""
    language = language or current_language()
    if language.code == DEFAULT:
        return list(_MONTHS)
    names = get_month_names("wide", context="format", locale=language.formats)
    return [names[month] for month in range(1, 13)]


def moment_day(moment: datetime) -> str:
    """'4 March 2027': the day a moment falls on in the installation's time zone (a naive moment is
    UTC), for a moment whose hour does not matter to the reader, such as a key's expiry."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return day_words(moment.astimezone(display_zone()).date())


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
    "received": _("Received"), "acknowledged": _("Acknowledged"), "assessing": _("Assessing"),
    "investigating": _("Investigating"),
    "feedback_given": _("Feedback given"), "closed": _("Closed"),
}
# Why guardians closed a case as junk (whistle.cases.lifecycle.close_as_junk).
JUNK_REASON_LABELS = {"flood": _("Sent in a flood of junk reports"), "spam": _("Advertising or spam"),
                      "test": _("A test, not a concern")}
PRIORITY_LABELS = {"low": _("Low"), "normal": _("Normal"), "high": _("High"), "urgent": _("Urgent")}
SUBSTANTIATED_LABELS = {"yes": _("Yes"), "partly": _("Partly"), "no": _("No"), "not_determined": _("Not determined")}
CHANGE_LABELS = {
    "none": _("Nothing changed"), "policy": _("A policy"), "process": _("A process"), "training": _("Training"),
    "staffing": _("Staffing"), "disciplinary": _("Disciplinary action"), "referral": _("Referred elsewhere"),
    "other": _("Something else"),
}
# The reporter's answer at closure to "would you speak up again?" (cases.speak_up_again).
SPEAK_UP_LABELS = {"yes": _("Yes"), "no": _("No"), "not_sure": _("Not sure")}
IDENTITY_MODE_LABELS = {
    "anonymous": _("Anonymous"),
    "confidential": _("Confidential: only guardians know who they are"),
    "open": _("Open: they are happy to be known"),
}
# Why a guardian erased one message, note or file (case_items.erased_reason): a fixed list, never free
# text, so the reason itself can hold no personal data.
ERASURE_REASONS = {
    "manifestly-irrelevant": _("Personal data manifestly irrelevant to the report"),
    "duplicate": _("A duplicate of something already in the case"),
    "sent-in-error": _("Sent in error"),
}


def erased_words(erased_on: date, reason: str | None) -> str:
    """What the case page and the mailbox show in place of an erased item."""
    return localized(_("Erased on ${day}: ${reason}.",
                       mapping={"day": day_words(erased_on), "reason": label(ERASURE_REASONS, reason)}))


# What became of a reporter's file's hidden information (attachments.services.METADATA_OUTCOMES), as
# the guardian's case page and the API's attachments say it.
METADATA_REMOVAL_WORDS = {
    "removed": _("Hidden information removed (EXIF, document properties)"),
    "unsupported": _("Could not remove hidden information: format not supported"),
    "unreadable": _("Could not remove hidden information: the file could not be read, so it is kept as sent"),
    "too_large": _("Could not remove hidden information: the file is too large, so it is kept as sent"),
}


def metadata_removal_words(outcome: str | None) -> str | None:
    """The words for a file's metadata-removal outcome; None when the reporter did not ask (or the
    file was encrypted on their device), so nothing is said."""
    if outcome is None:
        return None
    return METADATA_REMOVAL_WORDS.get(outcome, _("Could not remove hidden information"))


NOTIFICATION_STATE_LABELS = {
    "pending": _("Waiting to be sent"), "delivered": _("Delivered"), "failed": _("Failed on every attempt"),
    "cancelled": _("Not needed any more"),
}
NOTIFICATION_CHANNEL_LABELS = {"email": _("Email"), "webhook": _("Webhook")}
# The events a guardian can be told about (whistle.notifications.preferences.EVENTS), as the
# notifications page lists them.
NOTICE_EVENT_LABELS = {
    "new_report": _("A new report comes in for me"),
    "reporter_message": _("A reporter writes a message in one of my cases"),
    "reporter_file": _("A reporter sends a file in one of my cases"),
    "case_given": _("A case is given to me"),
    "escalations": _("Deadline reminders and escalations"),
    "retaliation": _("Retaliation alerts"),
    "case_due_for_deletion": _("A case I hold is to be deleted in 30 days"),
    "account_recovery": _("My authenticator or password is reset with my recovery key"),
    "case_withdrawn": _("A reporter withdraws a report in one of my cases"),
    "staffing_change": _("Someone is made a guardian, or added to one of my channels"),
}
DEADLINE_PROFILE_LABELS = {
    "eu_directive": _("EU Directive (acknowledge in 7 days, feedback within 3 months)"),
    "uk_childrens_complaints": _("UK children's complaints (in working days)"),
}
DEADLINE_KIND_LABELS = {"acknowledge": _("Acknowledge"), "feedback": _("Feedback")}
LOGIN_FAILURE_WORDS = {
    "unknown-username": _("no account has that username"), "wrong-password": _("wrong password"),
    "wrong-otp": _("wrong code"), "reused-otp": _("a code that had been used already"),
    "disabled": _("the account is disabled"), "locked": _("sign-in was paused after several failures"),
    "paused": _("not checked: that device had failed too often"),
    "busy": _("not checked: many sign-ins had failed on the service, and one from that device"),
    "not-moved-over": _("signed in on the device before the account had device sign-in"),
    "malformed-auth-key": _("the device sent a key of the wrong length"),
}


# The error page's heading for HTTP's own phrases ("Not Found"); a page's own title stays.
ERROR_TITLES = {
    "Bad Request": _("That did not work"), "Unauthorized": _("Please sign in"), "Forbidden": _("You cannot open this"),
    "Not Found": _("Page not found"), "Conflict": _("That cannot be done now"),
    "Content Too Large": _("That is too large"),
    "Request Entity Too Large": _("That is too large"), "Unprocessable Content": _("Something needs fixing"),
    "Unprocessable Entity": _("Something needs fixing"), "Invalid request": _("Something needs fixing"),
    "Internal Server Error": _("Something went wrong"),
}


def humane(name: str) -> str:
    """A name the code keeps ("promotion_withheld", _("adverse-event")) as words ("promotion withheld")."""
    return " ".join(str(name).replace("_", " ").replace("-", " ").split())


def label(labels: Mapping[str, str], value) -> str:
    """`value`'s label, or the value in words when nobody wrote a label for it (a plugin's own)."""
    if value is None or value == "":
        return _("none")
    return labels.get(value) or humane(value).capitalize()


def lowered(value) -> str:
    """A label in the page's language in lower case, for the middle of a sentence ("moved the case
    from received to closed")."""
    return localized(value).lower()


def status_label(status: str) -> str:
    return label(STATUS_LABELS, status)


def priority_label(priority: str | None) -> str:
    return label(PRIORITY_LABELS, priority or "normal")


def listing(items: Iterable[str], *, empty: str | None = None) -> str:
    """'a', 'a and b', 'a, b and c', in the page's language (Babel's list patterns, so Welsh, Polish
    and Arabic join them their own way); `empty` (or "none") when there are none."""
    items = [localized(item) for item in items]
    if not items:
        return localized(_("none") if empty is None else empty)
    language = current_language()
    if language.code != DEFAULT:
        return format_list(items, locale=language.formats)
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def counted(count: int, some: str, none: str) -> str:
    """'1 file', '3 files' (`some`, made with whistle.i18n.plural for `count`, so each language
    gets its own plural forms) or 'no files' (`none`) when there are none."""
    return some if count else localized(none)


def quoted(items: Iterable[str]) -> str:
    """“a”, “b” and “c”: the quotation marks are the page's language's own („a” in Polish)."""
    return listing([localized(_("“${text}”", mapping={"text": localized(item)})) for item in items])


def field_error(field_label: str, message: str) -> str:
    """A form field's error that names the field: ("Reply to the reporter", "Write something
    first.") -> "Reply to the reporter: write something first."; after a question, a sentence of
    its own."""
    field_label, message = localized(field_label), localized(message).strip()
    if field_label.endswith(("?", "؟")):  # a question: "Was it substantiated? Choose an answer."
        return localized(_("${question} ${answer}", mapping={"question": field_label, "answer": message}))
    if len(message) > 1 and message[0].isupper() and message[1].islower():
        message = message[0].lower() + message[1:]
    return localized(_("${field}: ${message}", mapping={"field": field_label, "message": message}))


def problem_fields(problem, messages: Mapping[str, str] | None = None) -> dict[str, str]:
    """A refused form's problem (whistle.errors.Problem) as {field: message}. The API's messages
    name machine values ("One of: low, normal, high, urgent."); `messages` gives a page's own
    words for such fields."""
    messages = messages or {}
    return {e["field"]: messages.get(e["field"], e["message"]) for e in (getattr(problem, "errors", None) or [])}


# The inbox's filters when an edited address asks for something the form does not offer.
INBOX_FILTER_MESSAGES = {
    "status": _("Choose one of the statuses in the list."), "priority": _("Choose one of the priorities in the list."),
    "sort": _("Choose one of the orders in the list."), "overdue": _("Tick the box or leave it empty."),
    "unread": _("Tick the box or leave it empty."), "page": _("Give a whole number, from 1."),
    "per_page": _("Give a whole number from 1 to 100."), "surge": _("Give a day, written as 2026-12-05."),
}

# The case page's forms, by the name a refused form is shown again with: each field's element id
# and label, so the error summary links to the field and names it in its label's words (the API's
# problems name fields by their machine names).
CASE_FORM_FIELDS: dict[str, dict[str, tuple[str, str]]] = {
    "reply": {"text": ("reply-text", _("Reply to the reporter"))},
    "send-file": {"files": ("send-files", _("Send the reporter a file"))},
    "note": {"text": ("note-text", _("Add a note"))},
    "internal-file": {"files": ("internal-files", _("Add an internal file"))},
    "move-closed": {"substantiated": ("close-substantiated", _("Was the concern substantiated?")),
                    "changes": ("close-changes-1", _("What changed")),
                    "factors": ("close-factors-1", _("Contributory factors")),
                    "learned": ("close-learned", _("What was learned")),
                    "changed": ("close-changed", _("What changed, in practice"))},
    "move-assessing": {"reason": ("reopen-reason", _("Why reopen?"))},
    "triage": {"priority": ("triage-priority", _("Priority")), "labels": ("add-labels", _("Add labels"))},
    "grant": {"guardian": ("grant-guardian", _("Grant to another guardian"))},
    "transfer": {"guardian": ("transfer-guardian", _("Transfer to")),
                 "reason": ("transfer-reason", _("Reason for the transfer"))},
    "conflict": {"reason": ("conflict-reason", _("Why you step aside"))},
    "legal-hold": {"reason": ("legal-hold-reason", _("Why the case must be kept"))},
    "erase": {"item_id": ("erase-item", _("What to erase")), "reason": ("erase-reason", _("Why it is erased"))},
    "board": {"title": ("board-title", _("Title")), "you_said": ("board-you-said", _("You said")),
              "we_did": ("board-we-did", _("We did"))},
    "board-edit": {"title": ("board-edit-title", _("Title")), "you_said": ("board-edit-you-said", _("You said")),
                   "we_did": ("board-edit-we-did", _("We did"))},
    "export": {"passphrase": ("export-passphrase", _("Passphrase")),
               "passphrase_again": ("export-passphrase-again", _("The passphrase again"))},
    "protection": {"personnel_id": ("personnel_id", _("Staff number")), "starts_on": ("starts_on", _("Watch from")),
                   "window_months": ("window_months", _("For how many months"))},
}
# A staff form posted with a CSRF token from before the browser's current session (signed in
# again in another tab, say): the form comes back with what was typed, and this.
EXPIRED_FORM = _(
    "This page had expired (perhaps you signed in again in another tab), so nothing was done. "
    "What you typed is kept here, apart from passwords and keys: check it and send it again.")
# Where the API's message lists machine values, the case page says it in words.
CASE_FORM_MESSAGES = {
    "substantiated": _("Choose an answer from the list."),
    "changes": _("Tick at least one."),
    "factors": _("Tick only factors from the list."),
    "priority": _("Choose one of the priorities in the list."),
    "to": _("That move is not offered for this case."),
}


def record_about(about: str) -> str:
    """What a guardian's reason was for: "reopen" or "status:investigating"."""
    if about == "reopen":
        return _("Reason for reopening")
    if about == "legal-hold":
        return _("Reason for the legal hold")
    kind, __, status = str(about).partition(":")
    if kind == "status":
        return localized(_("Reason for moving to ${status}", mapping={"status": lowered(status_label(status))}))
    return _("Reason")


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
        if account_id is None:
            return localized(_("nobody"))
        if account_id not in self.accounts:
            return localized(_("an account that no longer exists"))
        return self.accounts[account_id]

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
        kind, __, number = (event.actor or "").partition(":")
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
    kind, __, number = (actor or "").partition(":")
    if kind == "account" and number.isdigit():
        return names.account(int(number))
    if kind == "integration" and number.isdigit():
        name = names.integrations.get(int(number)) or _("that no longer exists")
        return localized(_("the HR integration “${name}”", mapping={"name": name}))
    if actor == "system":
        return "whistle"
    return localized({"reporter": _("the reporter"), "anonymous": _("someone not signed in")}.get(actor, _("someone")))


def _statuses(d: dict) -> dict[str, str]:
    return {"from": lowered(status_label(d.get("from", ""))), "to": lowered(status_label(d.get("to", "")))}


def _priorities(change: dict) -> dict[str, str]:
    return {"from": lowered(priority_label(change.get("from"))), "to": lowered(priority_label(change.get("to")))}


def _accounts(names: Names, ids) -> str:
    return listing(names.account(i) for i in ids or ())


def _day(value) -> str:
    return day_words(date.fromisoformat(value))


# The bundled plugins' escalation rules that sentences name (other rules' names are shown in words).
_RULE_NAMES = {"uk.safeguarding-lead": _("safeguarding lead")}


def _rule(rule) -> str:
    """An escalation rule as the sentence's subject: plugins name rules "eu.ack-breach"."""
    rule = str(rule or "")
    if rule.endswith("-breach"):
        return _("A missed-deadline rule")
    if rule.endswith("-reminder"):
        return _("A deadline reminder")
    if rule and rule != "unnamed-rule":
        name = _RULE_NAMES.get(rule) or humane(rule.rpartition(".")[2])
        return _("The escalation rule “${name}”", mapping={"name": name})
    return _("An escalation rule")


def _audience(d: dict) -> str:
    if d.get("fallback"):
        return _("the case's guardians (there is no second tier)")
    return _("the channel's second tier") if d.get("audience") == "second_tier" else _("the case's guardians")


def _escalated(who: str, d: dict, names: Names) -> str:
    rule, kind = _rule(d.get("rule")), d.get("kind")
    if kind == "raise_priority":
        return _("${rule} raised the priority from ${from} to ${to}", mapping={"rule": rule, **_priorities(d)})
    if kind == "grant":
        given = _accounts(names, d.get("account_ids"))
        if d.get("requested"):
            return _("${rule} gave the case to ${given} and asked its guardians to give it to ${asked}",
                     mapping={"rule": rule, "given": given, "asked": _accounts(names, d["requested"])})
        return _("${rule} gave the case to ${given}", mapping={"rule": rule, "given": given})
    if kind == "notify":
        recipients = d.get("recipients")
        if isinstance(recipients, int):
            notices = _notices(recipients)
            return _("${rule} told ${audience} (${notices})",
                     mapping={"rule": rule, "audience": _audience(d), "notices": notices})
        return _("${rule} told ${audience}", mapping={"rule": rule, "audience": _audience(d)})
    return _("${rule} acted on the case", mapping={"rule": rule})


def _left_out(excluded: int) -> str:
    return plural("${count} guardian left out for a conflict of interest",
                  "${count} guardians left out for a conflict of interest", excluded)


def _routed(who: str, d: dict, names: Names) -> str:
    given = _accounts(names, d.get("account_ids"))
    if d.get("tier") == 2:
        text = _("whistle gave the case to ${names}, the channel's second tier", mapping={"names": given})
    else:
        text = _("whistle gave the case to ${names}", mapping={"names": given})
    # Each further clause is a sentence of its own, joined with semicolons.
    clauses = [localized(text)]
    if d.get("excluded"):
        clauses.append(_left_out(d["excluded"]))
    if d.get("standby_ids"):
        clauses.append(localized(_("on standby: ${names}", mapping={"names": _accounts(names, d["standby_ids"])})))
    return "; ".join(clauses)


def _unassigned(who: str, d: dict, names: Names) -> str:
    channel = names.channel(d.get("channel"))
    if d.get("excluded"):
        return _("Nobody could receive the case from the ${channel} channel (${left_out})",
                 mapping={"channel": channel, "left_out": _left_out(d["excluded"])})
    return _("Nobody could receive the case from the ${channel} channel", mapping={"channel": channel})


def _triaged(who: str, d: dict, names: Names) -> str:
    labels = quoted(d["labels"]) if d.get("labels") else None
    priority = _priorities(d["priority"]) if isinstance(d.get("priority"), dict) else None
    if labels and priority:
        return _("A plugin's triage labelled the case ${labels} and raised the priority from ${from} to ${to}",
                 mapping={"labels": labels, **priority})
    if labels:
        return _("A plugin's triage labelled the case ${labels}", mapping={"labels": labels})
    if priority:
        return _("A plugin's triage raised the priority from ${from} to ${to}", mapping=priority)
    return _("A plugin's triage looked at the case")


def _labels_changed(who: str, d: dict, names: Names) -> str:
    added, removed = d.get("added") or [], d.get("removed") or []
    if added and removed:
        return localized(_("${who} ${added} and ${removed}", mapping={
            "who": who,
            "added": plural("added the label ${labels}", "added the labels ${labels}", len(added),
                            {"labels": quoted(added)}),
            "removed": plural("removed the label ${labels}", "removed the labels ${labels}", len(removed),
                              {"labels": quoted(removed)})}))
    if added:
        return plural("${who} added the label ${labels}", "${who} added the labels ${labels}", len(added),
                      {"who": who, "labels": quoted(added)})
    if removed:
        return plural("${who} removed the label ${labels}", "${who} removed the labels ${labels}", len(removed),
                      {"who": who, "labels": quoted(removed)})
    return _("${who} changed the labels", mapping={"who": who})


def _closed(who: str, d: dict, names: Names) -> str:
    changes = [lowered(label(CHANGE_LABELS, c)) for c in d.get("changes") or ()]
    return _("${who} closed the case (substantiated: ${substantiated}; what changed: ${changes})",
             mapping={"who": who, "substantiated": lowered(label(SUBSTANTIATED_LABELS, d.get("substantiated"))),
                      "changes": listing(changes)})


def _purged(who: str, d: dict, names: Names) -> str:
    """The case is gone; its reference stays in the event's detail but not in its words, which the
    admin audit log shows (an admin never sees a case's reference)."""
    days = []
    if d.get("opened_on"):
        days.append(localized(_("opened ${day}", mapping={"day": _day(d["opened_on"])})))
    if d.get("closed_on"):
        days.append(localized(_("closed ${day}", mapping={"day": _day(d["closed_on"])})))
    if d.get("withdrawn_on"):
        days.append(localized(_("withdrawn ${day}", mapping={"day": _day(d["withdrawn_on"])})))
    channel = names.channel(d.get("channel"))
    if days:
        return _("${who} deleted the case for good at the end of its retention period (${channel}; ${days})",
                 mapping={"who": who, "channel": channel, "days": ", ".join(days)})
    return _("${who} deleted the case for good at the end of its retention period (${channel})",
             mapping={"who": who, "channel": channel})


def _account_created(who: str, d: dict, names: Names) -> str:
    roles = listing([role for role, held in ((_("guardian"), d.get("guardian")), (_("admin"), d.get("admin")))
                     if held])
    account = names.account(d.get("account_id"))
    if d.get("channels"):
        return _("${who} created the account ${account} (${roles}), receiving new cases from ${channels}",
                 mapping={"who": who, "account": account, "roles": roles,
                          "channels": listing(names.channel(c) for c in d["channels"])})
    return _("${who} created the account ${account} (${roles})",
             mapping={"who": who, "account": account, "roles": roles})


def _notify_changed(who: str, d: dict, names: Names) -> str:
    whose = names.account(d.get("account_id"))
    mine = whose == who
    if not d.get("channel"):
        if mine:
            return _("${who} turned off their notices", mapping={"who": who})
        return _("${who} turned off ${whose}'s notices", mapping={"who": who, "whose": whose})
    way = lowered(label(NOTIFICATION_CHANNEL_LABELS, d["channel"]))
    if mine:
        return _("${who} set their notices to go by ${way}", mapping={"who": who, "way": way})
    return _("${who} set ${whose}'s notices to go by ${way}", mapping={"who": who, "whose": whose, "way": way})


def _notify_language_changed(who: str, d: dict, names: Names) -> str:
    whose = names.account(d.get("account_id"))
    code = d.get("language")
    if not code:
        if whose == who:
            return _("${who} chose that their notices come as the organisation sends them", mapping={"who": who})
        return _("${who} chose that ${whose}'s notices come as the organisation sends them",
                 mapping={"who": who, "whose": whose})
    # In its own name ("Cymraeg"), as the notifications page offers it; a code no longer shipped as it is.
    language = LANGUAGES[code].name if code in LANGUAGES else str(code)
    if whose == who:
        return _("${who} chose ${language} for their notices", mapping={"who": who, "language": language})
    return _("${who} chose ${language} for ${whose}'s notices",
             mapping={"who": who, "whose": whose, "language": language})


def _notify_events_changed(who: str, d: dict, names: Names) -> str:
    off = [NOTICE_EVENT_LABELS.get(event, humane(event)) for event in d.get("off") or ()]
    whom = names.account(d.get("account_id"))
    mine = whom == who
    if not off:
        if mine:
            return _("${who} chose to be told about everything", mapping={"who": who})
        return _("${who} chose that ${whom} is told about everything", mapping={"who": who, "whom": whom})
    if mine:
        return _("${who} chose not to be told about: ${events}", mapping={"who": who, "events": quoted(off)})
    return _("${who} chose that ${whom} is not told about: ${events}",
             mapping={"who": who, "whom": whom, "events": quoted(off)})


def _statistics_downloaded(who: str, d: dict, names: Names) -> str:
    period = None
    with contextlib.suppress(KeyError, TypeError, ValueError):
        period = {"start": _day(d["from"]), "end": _day(d["to"])}
    channels = d.get("channels")
    over = listing(names.channel(slug) for slug in channels) if isinstance(channels, list) and channels else None
    if period and over:
        return _("${who} downloaded the statistics as CSV for ${start} to ${end} (${channels})",
                 mapping={"who": who, **period, "channels": over})
    if period:
        return _("${who} downloaded the statistics as CSV for ${start} to ${end}", mapping={"who": who, **period})
    if over:
        return _("${who} downloaded the statistics as CSV (${channels})", mapping={"who": who, "channels": over})
    return _("${who} downloaded the statistics as CSV", mapping={"who": who})


def _export(who: str, d: dict, names: Names) -> str:
    title = names.exports.get(d.get("export", ""), humane(d.get("export", "")))
    with contextlib.suppress(KeyError, TypeError, ValueError):
        return _("${who} downloaded the statistics export “${title}” for ${start} to ${end}",
                 mapping={"who": who, "title": title, "start": _day(d["start"]), "end": _day(d["end"])})
    return _("${who} downloaded the statistics export “${title}”", mapping={"who": who, "title": title})


def _checkin(who: str, d: dict, names: Names) -> str:
    answer = (_("something bad has happened to them because they spoke up") if d.get("detriment")
              else _("nothing bad has happened"))
    month = d.get("month")
    if month:
        return _("${who} answered the ${month}-month check-in: ${answer}",
                 mapping={"who": who, "month": month, "answer": answer})
    return _("${who} answered a check-in: ${answer}", mapping={"who": who, "answer": answer})


def _files(d: dict) -> str:
    files = d.get("files") or 1
    return plural("${count} file", "${count} files", files)


def _login_failed(who: str, d: dict, names: Names) -> str:
    reason = LOGIN_FAILURE_WORDS.get(d.get("reason", ""), _("the details did not match"))
    if who == localized(_("someone not signed in")):
        return _("Sign-in failed for an unknown username (${reason})", mapping={"reason": reason})
    return _("Sign-in failed for ${who} (${reason})", mapping={"who": who, "reason": reason})


def _recovery_failures(who: str, d: dict, names: Names) -> str:
    raw = d.get("count")
    count = raw if isinstance(raw, int) else 0
    tries = counted(count, plural("${count} wrong recovery key", "${count} wrong recovery keys", count),
                    _("no wrong recovery keys"))
    with contextlib.suppress(KeyError, TypeError, ValueError):
        hour = time_words(datetime.fromisoformat(d["from"]), display_zone())
        return _("${tries} tried in the hour from ${hour}, to reset a password or an authenticator (counted, not "
                 "recorded one by one; past the hour's limit, tries were refused untried)",
                 mapping={"tries": tries, "hour": hour})
    return _("${tries} tried, to reset a password or an authenticator (counted, not recorded one by one; past the "
             "hour's limit, tries were refused untried)", mapping={"tries": tries})


def _password_change_failed(who: str, d: dict, names: Names) -> str:
    if d.get("reason") in ("locked", "paused", "busy"):
        return _("${who} tried to change their password while sign-in was paused, but the current password was "
                 "wrong", mapping={"who": who})
    return _("${who} tried to change their password, but the current password was wrong", mapping={"who": who})


def _opened(who: str, d: dict, names: Names) -> str:
    channel = names.channel(d.get("channel"))
    mode = d.get("identity_mode", "")
    mapping = {"who": who, "channel": channel}
    if mode == "anonymous":
        return _("${who} opened the case on the ${channel} channel, anonymously", mapping=mapping)
    if mode == "confidential":
        return _("${who} opened the case on the ${channel} channel, sharing who they are with guardians only",
                 mapping=mapping)
    if mode == "open":
        return _("${who} opened the case on the ${channel} channel, openly", mapping=mapping)
    return _("${who} opened the case on the ${channel} channel", mapping=mapping)


def _item_erased(who: str, d: dict, names: Names) -> str:
    what = lowered(_ERASED_KINDS.get(d.get("kind", ""), _("an item")))
    if d.get("reason"):
        return _("${who} erased ${what} (${reason})",
                 mapping={"who": who, "what": what, "reason": lowered(label(ERASURE_REASONS, d["reason"]))})
    return _("${who} erased ${what}", mapping={"who": who, "what": what})


def _exported(who: str, d: dict, names: Names) -> str:
    on_device = d.get("mode") == "device"
    if d.get("encrypted"):
        if on_device:
            return _("${who} exported the case as an archive, encrypted to a passphrase (built on their device)",
                     mapping={"who": who})
        return _("${who} exported the case as an archive, encrypted to a passphrase", mapping={"who": who})
    if on_device:
        return _("${who} exported the case as an archive, not encrypted (built on their device)",
                 mapping={"who": who})
    return _("${who} exported the case as an archive, not encrypted", mapping={"who": who})


def _closed_as_junk(who: str, d: dict, names: Names) -> str:
    mapping = {"who": who, "reason": lowered(label(JUNK_REASON_LABELS, d.get("reason")))}
    if d.get("surge_day"):
        return _("${who} closed the case as junk (${reason}), with others that arrived in the same surge",
                 mapping=mapping)
    return _("${who} closed the case as junk (${reason})", mapping=mapping)


def _team_key_replaced(who: str, d: dict, names: Names) -> str:
    if d.get("withheld_ids"):
        return _("${who} opened the case for the first time, so its team key, made on the reporter's device, was "
                 "replaced with one only the guardians hold; ${withheld} kept the case key but not the new team key, "
                 "as the key directory no longer lists them",
                 mapping={"who": who, "withheld": _accounts(names, d["withheld_ids"])})
    return _("${who} opened the case for the first time, so its team key, made on the reporter's device, was "
             "replaced with one only the guardians hold", mapping={"who": who})


def _key_mismatch(who: str, d: dict, names: Names) -> str:
    if d.get("key") == "team":
        return _("${who} tried to add to the case, but the team public key stored for it is not the one their keys "
                 "vouch for: someone changed the database. Nothing was encrypted to it, and nothing was added",
                 mapping={"who": who})
    return _("${who} tried to add to the case, but the case public key stored for it is not the one their keys "
             "vouch for: someone changed the database. Nothing was encrypted to it, and nothing was added",
             mapping={"who": who})


def _speak_up_answered(who: str, d: dict, names: Names) -> str:
    if d.get("changed"):
        if d.get("comment"):
            return _("${who} changed their answer to “would you speak up again?”, with a comment",
                     mapping={"who": who})
        return _("${who} changed their answer to “would you speak up again?”", mapping={"who": who})
    if d.get("comment"):
        return _("${who} answered “would you speak up again?”, with a comment", mapping={"who": who})
    return _("${who} answered “would you speak up again?”", mapping={"who": who})


def _protection_registered(who: str, d: dict, names: Names) -> str:
    months = d.get("window_months")
    mapping = {"who": who}
    if months:
        mapping["months"] = counted(months, plural("${count} month", "${count} months", months), _("no months"))
    if d.get("starts_on"):
        mapping["day"] = _day(d["starts_on"])
        if months:
            return _("${who} started retaliation watch from ${day} for ${months}", mapping=mapping)
        return _("${who} started retaliation watch from ${day}", mapping=mapping)
    if months:
        return _("${who} started retaliation watch for ${months}", mapping=mapping)
    return _("${who} started retaliation watch", mapping=mapping)


def _reset_with_recovery_key(d: dict, names: Names, *, authenticator: bool) -> str:
    mapping = {"account": names.account(d.get("account_id"))}
    if authenticator:
        if d.get("recovery_key_replaced"):
            text = _("Authenticator set up again with the recovery key for ${account}, and a new recovery key issued",
                     mapping=mapping)
        else:
            text = _("Authenticator set up again with the recovery key for ${account}", mapping=mapping)
    elif d.get("recovery_key_replaced"):
        text = _("Password reset with the recovery key for ${account}, and a new recovery key issued",
                 mapping=mapping)
    else:
        text = _("Password reset with the recovery key for ${account}", mapping=mapping)
    if authenticator and d.get("sessions_ended"):
        ended = d["sessions_ended"]
        return localized(_("${text} (${sessions} ended)", mapping={
            "text": text, "sessions": plural("${count} session", "${count} sessions", ended)}))
    return text


def _roles_changed(who: str, d: dict, names: Names) -> str:
    roles = listing([role for role, held in ((_("a guardian"), d.get("guardian")), (_("an admin"), d.get("admin")))
                     if held])
    return _("${who} made ${account} ${roles}",
             mapping={"who": who, "account": names.account(d.get("account_id")), "roles": roles})


def _plugin_hook(d: dict) -> dict[str, str]:
    return {"plugin": d.get("plugin", ""), "hook": humane(str(d.get("hook", "")).removeprefix("whistle_"))}


def _version(version: object) -> str:
    """A key directory's version in words: "version 7", or "a version" when the event lacks it."""
    return _("version ${number}", mapping={"number": version}) if isinstance(version, int) else _("a version")


# Every audit action whistle records, as a sentence: (who, detail, names) -> words. `who` is
# actor_words(actor). tests/unit/test_words.py fails for an action recorded anywhere in the code
# that has no entry here.
# What an item of each kind is, for the sentence about one that failed to verify.
_UNVERIFIABLE_KINDS = {
    "disclosure": _("The reporter's disclosure"), "answers": _("The reporter's answers"),
    "identity": _("Who the reporter is"), "message": _("A message"), "note": _("An internal note"),
    "outcome": _("The closing record"), "reason": _("A reason given"), "attachment-meta": _("A file's name and size"),
    "internal-file": _("An internal file's name and size"),
    "speak-up-comment": _("A comment of the reporter's at closure"),
}


# What an erased item was, for the sentence about its erasure.
_ERASED_KINDS = {"message": _("A message"), "note": _("An internal note"), "attachment-meta": _("A file"),
                 "internal-file": _("An internal file")}


def _unverifiable_kind(kind: str) -> str:
    return _UNVERIFIABLE_KINDS.get(kind) or _("Something in the case")


# What a plugin's dropped action or failure was, when the event does not say.
_A_VALUE = _("value")
_AN_ERROR = _("an error")


# Counts inside a sentence: each is made apart from the sentence's own message (gettext extraction
# sees no marked string nested inside another's arguments).
def _notices(count: int) -> str:
    return counted(count, plural("${count} notice", "${count} notices", count), _("no notices"))


def _guardians(count: int) -> str:
    return counted(count, plural("${count} guardian", "${count} guardians", count), _("no guardians"))


def _alerts(count: int) -> str:
    return counted(count, plural("${count} retaliation alert", "${count} retaliation alerts", count),
                   _("no retaliation alerts"))


def _sessions(count: int) -> str:
    return counted(count, plural("${count} session", "${count} sessions", count), _("no sessions"))


AUDIT_WORDS: dict[str, Callable[[str, dict, Names], str]] = {
    # a case's life
    "case.opened": _opened,
    "case.routed": _routed,
    "case.unassigned": _unassigned,
    "case.triaged": _triaged,
    "case.viewed": lambda who, d, n: _("${who} read the case", mapping={"who": who}),
    "case.closing_record_read": lambda who, d, n: _(
        "${who} read the closing record, searching what was learned", mapping={"who": who}),
    "case.message_added": lambda who, d, n: _("${who} replied to the reporter", mapping={"who": who}),
    "case.note_added": lambda who, d, n: _("${who} added an internal note", mapping={"who": who}),
    "case.item_erased": _item_erased,
    "case.attachment_added": lambda who, d, n: (
        _("${who} added ${files} for guardians only", mapping={"who": who, "files": _files(d)}) if d.get("internal")
        else _("${who} sent the reporter ${files}", mapping={"who": who, "files": _files(d)})),
    "attachment.downloaded": lambda who, d, n: _("${who} downloaded a file", mapping={"who": who}),
    "case.exported": _exported,
    "case.item_unverifiable": lambda who, d, n: _(
        "${what} could not be verified: it was changed after it was written, or credited to someone else, so it is "
        "not shown", mapping={"what": _unverifiable_kind(d.get("kind", ""))}),
    "attachment.unverifiable": lambda who, d, n: (
        _("A file stopped part-way while being downloaded: it was changed after it was added, so the download "
          "was cut short") if d.get("cut_short") else
        _("A file could not be verified (changed after it was added, or credited to someone else), so it was "
          "not offered for download")),
    "case.acknowledged": lambda who, d, n: _("${who} acknowledged receipt", mapping={"who": who}),
    "case.status_changed": lambda who, d, n: _(
        "${who} moved the case from ${from} to ${to}", mapping={"who": who, **_statuses(d)}),
    "case.feedback_given": lambda who, d, n: _("${who} recorded that feedback was given", mapping={"who": who}),
    "case.closed": _closed,
    "case.reopened": lambda who, d, n: _("${who} reopened the case", mapping={"who": who}),
    "case.closed_as_junk": _closed_as_junk,
    "case.priority_changed": lambda who, d, n: _(
        "${who} changed the priority from ${from} to ${to}", mapping={"who": who, **_priorities(d)}),
    "case.labels_changed": _labels_changed,
    "case.granted": lambda who, d, n: _(
        "${who} gave ${account} access to the case", mapping={"who": who, "account": n.account(d.get("account_id"))}),
    "case.transferred": lambda who, d, n: _(
        "${who} handed the case over to ${account}",
        mapping={"who": who, "account": n.account(d.get("to_account_id"))}),
    "case.conflict_declared": lambda who, d, n: _(
        "${who} declared a conflict of interest and stepped aside", mapping={"who": who}),
    "case.legal_hold_placed": lambda who, d, n: _(
        "${who} placed the case on legal hold: it is kept until the hold is lifted", mapping={"who": who}),
    "case.legal_hold_lifted": lambda who, d, n: (
        _("${who} lifted the legal hold placed on ${day}", mapping={"who": who, "day": _day(d["since"])})
        if d.get("since") else _("${who} lifted the legal hold", mapping={"who": who})),
    "case.purged": _purged,
    "case.grant_requested": lambda who, d, n: _(
        "${rule} asked the case's guardians to give it to ${names}",
        mapping={"rule": _rule(d.get("rule")), "names": _accounts(n, d.get("account_ids"))}),
    "case.escalated": _escalated,
    "case.key_mismatch": _key_mismatch,
    "case.team_key_replaced": _team_key_replaced,
    # the reporter
    "reporter.session_opened": lambda who, d, n: _("${who} opened their mailbox", mapping={"who": who}),
    "reporter.message_sent": lambda who, d, n: _("${who} sent a message", mapping={"who": who}),
    "reporter.attachment_added": lambda who, d, n: _("${who} sent ${files}", mapping={"who": who, "files": _files(d)}),
    "reporter.identity_revealed": lambda who, d, n: _(
        "${who} shared who they are (${mode})",
        mapping={"who": who, "mode": lowered(label(IDENTITY_MODE_LABELS, d.get("identity_mode")))}),
    "reporter.withdrew": lambda who, d, n: _(
        "${who} withdrew the report, which closed the case", mapping={"who": who}),
    "reporter.board_consent": lambda who, d, n: (
        _("${who} agreed that the board may quote their words", mapping={"who": who}) if d.get("consent") else
        _("${who} no longer agrees that the board may quote their words", mapping={"who": who})),
    "board.published": lambda who, d, n: _(
        "${who} published an entry about the case on the “you said, we did” board", mapping={"who": who}),
    "board.edited": lambda who, d, n: _(
        "${who} edited the case's entry on the “you said, we did” board", mapping={"who": who}),
    "board.unpublished": lambda who, d, n: _(
        "${who} took the case's entry off the “you said, we did” board", mapping={"who": who}),
    "reporter.speak_up_answered": _speak_up_answered,
    "reporter.identity_deferred": lambda who, d, n: _(
        "${who} tried to share who they are, but the case's team key cannot be checked until a guardian has opened "
        "the case: they were asked to try again later", mapping={"who": who}),
    # retaliation watch
    "protection.consent_given": lambda who, d, n: _("${who} asked for retaliation watch", mapping={"who": who}),
    "protection.registered": _protection_registered,
    "protection.alerts_acknowledged": lambda who, d, n: _(
        "${who} marked ${alerts} as seen", mapping={"who": who, "alerts": _alerts(d.get("alerts") or 0)}),
    "checkin.answered": _checkin,
    "personnel_event.received": lambda who, d, n: _(
        "${who} sent a personnel event (${type})", mapping={"who": who, "type": humane(d.get("type", "unknown"))}),
    "integration.added": lambda who, d, n: _(
        "${who} added the HR integration “${name}”", mapping={"who": who, "name": d.get("name", "")}),
    "integration.disabled": lambda who, d, n: _(
        "${who} turned off the HR integration “${name}” for good", mapping={"who": who, "name": d.get("name", "")}),
    # plugins
    "plugin.action_dropped": lambda who, d, n: _(
        "The plugin “${plugin}” asked for something whistle could not use at “${hook}” (a ${type}); "
        "whistle left it out", mapping={**_plugin_hook(d), "type": d.get("type", _A_VALUE)}),
    "plugin.failed": lambda who, d, n: _(
        "The plugin “${plugin}” failed at “${hook}” (${error}); whistle carried on without it",
        mapping={**_plugin_hook(d), "error": d.get("error", _AN_ERROR)}),
    # staff accounts
    "login.succeeded": lambda who, d, n: _("${who} signed in", mapping={"who": who}),
    "login.failed": _login_failed,
    "login.refused": lambda who, d, n: _(
        "${who} was refused a sign-in with the password sent to the server (server-assisted sign-in is off)",
        mapping={"who": who}),
    "account.moved_over": lambda who, d, n: _(
        "${who} signed in with their password once more, and now signs in on their device", mapping={"who": who}),
    "logout": lambda who, d, n: _("${who} signed out", mapping={"who": who}),
    "logout.everywhere": lambda who, d, n: _(
        "${who} signed out everywhere (${sessions} ended)",
        mapping={"who": who, "sessions": _sessions(d.get("sessions") or 0)}),
    "account.created": _account_created,
    "account.password_changed": lambda who, d, n: _("${who} changed their password", mapping={"who": who}),
    "account.password_change_failed": _password_change_failed,
    "account.password_reset": lambda who, d, n: _reset_with_recovery_key(d, n, authenticator=False),
    "account.password_reset_failed": lambda who, d, n: _(
        "${who} tried to reset a password with a recovery key that did not match", mapping={"who": who}),
    "account.authenticator_reset": lambda who, d, n: _reset_with_recovery_key(d, n, authenticator=True),
    "account.authenticator_reset_failed": lambda who, d, n: _(
        "${who} tried to set up an authenticator again with a recovery key that did not match", mapping={"who": who}),
    "account.recovery_failures": _recovery_failures,
    "account.disabled": lambda who, d, n: _(
        "${who} disabled the account ${account}", mapping={"who": who, "account": n.account(d.get("account_id"))}),
    "account.enabled": lambda who, d, n: _(
        "${who} enabled the account ${account} again",
        mapping={"who": who, "account": n.account(d.get("account_id"))}),
    "account.roles_changed": _roles_changed,
    "account.channels_changed": lambda who, d, n: _(
        "${who} set the channels ${account} receives new cases from: ${channels}",
        mapping={"who": who, "account": n.account(d.get("account_id")),
                 "channels": listing(n.channel(c) for c in d.get("channels") or ())}),
    "account.change_proposed": lambda who, d, n: _(
        "${who} proposed a change giving access to ${account}, for a second admin to approve",
        mapping={"who": who, "account": n.account(d.get("account_id"))}),
    "account.change_approved": lambda who, d, n: _(
        "${who} approved ${proposer}'s change to ${account}",
        mapping={"who": who, "proposer": n.account(d.get("proposed_by")), "account": n.account(d.get("account_id"))}),
    "account.change_rejected": lambda who, d, n: _(
        "${who} rejected ${proposer}'s change to ${account}",
        mapping={"who": who, "proposer": n.account(d.get("proposed_by")), "account": n.account(d.get("account_id"))}),
    "account.notify_changed": _notify_changed,
    "account.notify_events_changed": _notify_events_changed,
    "account.notify_language_changed": _notify_language_changed,
    # the organisation key and the signed key directory
    "key_directory.published": lambda who, d, n: _(
        "${who} published ${version} of the signed key directory (${guardians})",
        mapping={"who": who, "version": _version(d.get("version")), "guardians": _guardians(d.get("guardians") or 0)}),
    "key_directory.rolled_back": lambda who, d, n: _(
        "The stored key directory went back to ${version} after ${seen} was in use: it was refused",
        mapping={"version": _version(d.get("version")), "seen": _version(d.get("seen"))}),
    # the admin area
    "export": _export,
    "statistics.downloaded": _statistics_downloaded,
    "notification.retried": lambda who, d, n: _(
        "${who} put ${notices} back in the queue", mapping={"who": who, "notices": _notices(d.get("count") or 0)}),
}

# Actions no longer recorded, whose words stay for the events older logs hold (the log is permanent):
# wrong recovery keys are counted per hour now (account.recovery_failures), not audited one by one;
# a case nobody could receive is refused at intake now, not stored sealed to nobody (case.unassigned).
RETIRED_ACTIONS = frozenset({"account.password_reset_failed", "account.authenticator_reset_failed", "case.unassigned"})


def display_zone() -> tzinfo:
    """The installation's time zone for moments (whistle.display.timezone), from the request being
    served; UTC outside one."""
    request = get_current_request()
    settings = getattr(request, "whistle_settings", None) if request is not None else None
    return getattr(settings, "display_timezone", None) or UTC


def event_words(action: str, actor: str, detail: Mapping | None, names: Names) -> str:
    """One audit event as a sentence: "demo.guardian read the case", "The reporter sent a message"."""
    who = actor_words(actor, names)
    describe = AUDIT_WORDS.get(action)
    if describe is None:  # recorded by something newer than this table: say so in words
        text = localized(_("${who}: ${action}", mapping={"who": who, "action": humane(action.replace(".", " "))}))
    else:
        text = localized(describe(who, dict(detail or {}), names))
    # A sentence that starts with "the reporter" or "someone" gets its capital; a username stays as
    # it is spelt, and so does "whistle".
    kind = (actor or "").partition(":")[0]
    if kind != "account" and actor != "system" and text.startswith(who):
        text = text[:1].upper() + text[1:]
    return text


def reporter_dated(actor: str) -> bool:
    """The reporter's events are dated to the day (whistle.audit): show the day, not a midnight."""
    return actor == "reporter"
