"""Every hook a plugin can implement, grouped by when it fires in a case's life.

Each docstring says when the hook is called, what each parameter is, what the return value
means, and whether the hook receives plaintext. A plugin implements a hook by defining a
function of the same name decorated with `@whistle.hookimpl`; it may take any subset of the
parameters. Plugins run in the request (or the scheduled tick) that fires them: keep them fast,
and never store or send content anywhere.

A plugin that raises does not stop the others or lose the request's data: the error is logged
(type only) and audited, and the hook carries on as if that plugin had returned None.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from whistle.deadlines import DeadlineProfile
from whistle.hooks.markers import hookspec, receives_plaintext
from whistle.hooks.types import (
    Action,
    CaseInfo,
    CleanResult,
    Disclosure,
    GuardianInfo,
    NotificationChannel,
    PersonnelEvent,
    ScheduleWindow,
    StatisticsExport,
    Triage,
)

# --- Start-up -----------------------------------------------------------------------------------


@hookspec
def whistle_configure(settings: Mapping[str, str]) -> None:
    """Receive the plugin settings from the .ini, before any other hook is called.

    Called once at start-up (each time an app is built), before `whistle_deadline_profiles` and
    `whistle_notification_channels`, so those can use what it was given.
    :param settings: every key of the `[app:main]` section that starts neither with "whistle."
        nor with "pyramid.", as strings (e.g. "whistle_smtp.host"). Read your own prefix (your
        package's name and a dot) and ignore the rest. Put secrets in files and name them with
        a "_file" key (e.g. "whistle_smtp.password_file"), never in the .ini itself.
    :return: ignored. A plugin that raises here is logged (type only) and carries on unconfigured.
    Receives plaintext: no.
    """


# --- Intake -----------------------------------------------------------------------------------


@hookspec
def whistle_intake_fields(channel: str) -> list[dict] | None:
    """Extra questionnaire fields for a channel's disclosure form.

    Called when a channel's form or its API description is built.
    :param channel: the channel's slug.
    :return: field definitions in the channel questionnaire format ({"name", "label", "type",
        "required", "help"?, "choices"?}), appended after the channel's own; or None.
    Receives plaintext: no.
    """


@hookspec
@receives_plaintext
def whistle_triage(case: CaseInfo, disclosure: Disclosure) -> Triage | None:
    """Label and prioritise a new disclosure.

    Called once, right after a disclosure is stored, in the same transaction.
    :param case: the new case (status "received").
    :param disclosure: the reporter's text, answers and identity, decrypted.
    :return: a Triage with labels to add and optionally a higher priority; or None. Labels from
        every plugin are combined; the highest priority wins.
    Receives plaintext: yes.
    """


@hookspec(firstresult=True)
@receives_plaintext
def whistle_clean_file(name: str, content_type: str, data: bytes) -> CleanResult | None:
    """Remove hidden information (EXIF, XMP, document properties, authors) from a reporter's file.

    Called for each file a reporter sends through a form the server reads (the report form and the
    mailbox without JavaScript) when they left "Remove hidden information" ticked, before the file
    is encrypted; the form offers that choice only while a plugin implements this hook with the
    plaintext allowance. A file larger than core holds in memory for this (docs/plugins.md) is
    stored as sent without calling it. Files encrypted on the reporter's device never reach it.
    :param name: the file's name as the reporter's browser gave it.
    :param content_type: the type the browser declared (a claim, not checked).
    :param data: the whole file, decrypted, in memory. Never write it to disk, store or send it.
    :return: a CleanResult with the cleaned bytes, or with None for a file of a kind the plugin
        handles but could not read (it is then stored as sent, and the guardian told); None for a
        kind it does not handle. The first plugin to return a CleanResult wins.
    Receives plaintext: yes.
    """


# --- Routing and conflicts of interest --------------------------------------------------------


@hookspec
def whistle_route_guardians(case: CaseInfo, candidates: list[GuardianInfo]) -> list[int] | None:
    """Choose extra guardians for a new case, beyond the channel's default recipients.

    Called once when a case is opened, before its keys are sealed to anyone.
    :param case: the new case.
    :param candidates: every enabled guardian of the organisation.
    :return: ids (from `candidates`) to grant the case to as well; or None.
    Receives plaintext: no.
    """


@hookspec
@receives_plaintext
def whistle_excluded_guardians(
    case: CaseInfo, disclosure: Disclosure, candidates: list[GuardianInfo]
) -> list[int] | None:
    """Name guardians who must never see this case (a conflict of interest).

    Called once when a case is opened, after routing and before any key is sealed. An excluded
    guardian gets no grant even if they are a default recipient.
    :param case: the new case.
    :param disclosure: the decrypted disclosure (to find guardians named in it, or the ones the
        reporter asked to exclude).
    :param candidates: every enabled guardian.
    :return: ids to exclude; or None.
    Receives plaintext: yes.
    """


# --- Deadlines --------------------------------------------------------------------------------


@hookspec
def whistle_deadline_profiles() -> list[DeadlineProfile] | None:
    """Offer named deadline profiles (acknowledgement and feedback rules, calendars).

    Called once at start-up. A channel names its profile; the last plugin to offer a name wins.
    :return: profiles; or None.
    Receives plaintext: no.
    """


# --- Escalation ---------------------------------------------------------------------------------


@hookspec
def whistle_escalate_on_event(case: CaseInfo, event: str) -> list[Action] | None:
    """Decide what should happen because something happened to a case.

    Called after each of these events, in the same transaction (whistle.escalations.services).
    :param case: the case after the event.
    :param event: "opened" (a new case, after triage), "acknowledged", "status_changed" (any other
        move), "closed", "reopened", or "reporter_message" (the reporter wrote a message).
    :return: actions to take (notify, grant, raise_priority); or None.
    Receives plaintext: no.
    """


@hookspec
def whistle_escalate_on_schedule(case: CaseInfo, today: date) -> list[Action] | None:
    """Decide what should happen because time has passed (reminders, missed deadlines).

    Called by the scheduled tick at most once per open case per day: for each day since the
    case's rules last ran, oldest first, so days the tick missed are caught up. When every
    plugin with date rules declares its windows (`whistle_schedule_windows`), the tick skips
    the cases outside all of them (so the daily tick over many cases costs only the cases that
    can be due); the hook is still called for any case the tick looks at (new, inside another
    plugin's window), and must return nothing outside its own windows. Without windows, it is
    called for every open case every day.
    :param case: the case as it is now.
    :param today: the day the rules run for (the clock's date, or a missed earlier day).
    :return: actions to take; or None. Rules should fire on one date (e.g. "two days before
        the deadline"): the core calls each day once, so such a rule fires once.
    Receives plaintext: no.
    """


@hookspec
def whistle_schedule_windows() -> list[ScheduleWindow] | None:
    """Say on which days your `whistle_escalate_on_schedule` can return actions for a case.

    Called once at start-up. Each window is a span of days around one of a case's dates
    (ScheduleWindow); the tick then finds the cases inside a window with an indexed query and
    calls `whistle_escalate_on_schedule` only for them, instead of for every open case every day.
    The windows are a promise: on a day outside all of them the hook must return nothing for the
    case (it may still be called then, when the tick catches up several days of a case at once).
    :return: every window of the plugin's date rules (an empty list: its rules never fire); or
        None, for "any day": the hook is then called for every open case every day.
    Receives plaintext: no.
    """


# --- Retaliation --------------------------------------------------------------------------------


@hookspec
def whistle_personnel_event(event: PersonnelEvent, protected: list[CaseInfo]) -> list[Action] | None:
    """Check an HR event against the people under retaliation watch.

    Called for each event posted to POST /api/v1/personnel-events.
    :param event: the event; the person is known only by a blind index of their number.
    :param protected: the cases whose reporter is protected under that same blind index and
        whose protection window covers the event's date.
    :return: actions (typically notify the cases' guardians); or None.
    Receives plaintext: no.
    """


@hookspec
def whistle_checkin_answer(case: CaseInfo, detriment: bool) -> list[Action] | None:
    """React to a reporter's answer to a scheduled check-in ("have you suffered detriment?").

    Called when the reporter answers in their mailbox.
    :param case: the case (its `detriment` flag already set if they said yes).
    :param detriment: the answer.
    :return: actions; or None.
    Receives plaintext: no.
    """


# --- Notifications ------------------------------------------------------------------------------


@hookspec
def whistle_notification_channels() -> list[NotificationChannel] | None:
    """Offer ways to notify guardians (email, webhook, chat).

    Called once at start-up. Each delivered notification says only that something needs
    attention, with a link to log in: never a case reference, channel, label or text.
    :return: channels; or None.
    Receives plaintext: no.
    """


# --- Lifecycle events (notifications to plugins; return values are ignored) --------------------


@hookspec
def whistle_case_opened(case: CaseInfo) -> None:
    """A new case was stored (after triage and routing), in the same transaction.

    :param case: the new case.
    :return: ignored.
    Receives plaintext: no.
    """


@hookspec
def whistle_case_acknowledged(case: CaseInfo) -> None:
    """A guardian acknowledged a case (its feedback deadline is now set from that date).

    :param case: the case after acknowledgement.
    :return: ignored.
    Receives plaintext: no.
    """


@hookspec
def whistle_reporter_message(case: CaseInfo) -> None:
    """The reporter sent a message or a file; its content is not passed.

    :param case: the case.
    :return: ignored.
    Receives plaintext: no.
    """


@hookspec
def whistle_case_escalated(case: CaseInfo, action: Action) -> None:
    """An escalation action was carried out on a case.

    :param case: the case after the action.
    :param action: what was done.
    :return: ignored.
    Receives plaintext: no.
    """


@hookspec
def whistle_status_changed(case: CaseInfo, old: str, new: str) -> None:
    """A case moved from one status to another.

    :param case: the case after the move.
    :param old: the status it left.
    :param new: the status it entered.
    :return: ignored.
    Receives plaintext: no.
    """


@hookspec
def whistle_case_closed(case: CaseInfo) -> None:
    """A case was closed with its outcome recorded, or by its reporter withdrawing it (no outcome).

    :param case: the closed case (the learning record is encrypted and not passed).
    :return: ignored.
    Receives plaintext: no.
    """


@hookspec
def whistle_case_purged(ref: str, channel: str) -> None:
    """A case reached the end of its retention period and was deleted.

    :param ref: the deleted case's reference (for the plugin's own records about it).
    :param channel: its channel's slug.
    :return: ignored.
    Receives plaintext: no.
    """


# --- Statistics ---------------------------------------------------------------------------------


@hookspec
def whistle_statistics_exports() -> list[StatisticsExport] | None:
    """Offer statistics exports (e.g. the FTSU quarterly return), built from metadata only.

    Called when an admin opens the statistics page.
    :return: exports; or None.
    Receives plaintext: no.
    """
