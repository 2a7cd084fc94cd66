"""Words for people: times with their zone, the code's names as labels, and every audit action the
code records as a sentence (found by reading the code, so a new action without words fails here)."""
from __future__ import annotations

import ast
import re
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from whistle.i18n import DEFAULT, LANGUAGES
from whistle.words import (AUDIT_WORDS, RETIRED_ACTIONS, Names, actor_words, day_words, event_words, field_error,
                           moment_day, month_names, time_words)

ROOT = Path(__file__).resolve().parents[2]
LONDON = ZoneInfo("Europe/London")
ACTION = re.compile(r"^[a-z]+(?:[._][a-z]+)*$")


# --- times ---

def test_a_time_in_utc_names_its_zone():
    moment = datetime(2026, 12, 4, 14, 5, 59, tzinfo=timezone.utc)
    assert time_words(moment) == "4 Dec 2026, 14:05 UTC"
    assert time_words(moment.replace(tzinfo=None)) == "4 Dec 2026, 14:05 UTC", "stored times are UTC"


def test_a_time_in_london_is_gmt_in_winter_and_bst_in_summer():
    assert time_words(datetime(2026, 12, 4, 14, 5, tzinfo=timezone.utc), LONDON) == "4 Dec 2026, 14:05 GMT"
    assert time_words(datetime(2026, 7, 4, 14, 5, tzinfo=timezone.utc), LONDON) == "4 Jul 2026, 15:05 BST"
    # Across the change on 29 March 2026 (01:00 UTC): the same minute of UTC, an hour apart on the clock.
    assert time_words(datetime(2026, 3, 29, 0, 59, tzinfo=timezone.utc), LONDON) == "29 Mar 2026, 00:59 GMT"
    assert time_words(datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc), LONDON) == "29 Mar 2026, 02:00 BST"
    # And back on 25 October 2026 (01:00 UTC): 01:30 happens twice, told apart by the zone.
    assert time_words(datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc), LONDON) == "25 Oct 2026, 01:30 BST"
    assert time_words(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), LONDON) == "25 Oct 2026, 01:30 GMT"
    # The day changes with the zone too.
    assert time_words(datetime(2026, 6, 30, 23, 30, tzinfo=timezone.utc), LONDON) == "1 Jul 2026, 00:30 BST"


def test_a_zone_without_letters_is_named_by_its_offset():
    assert time_words(datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc), ZoneInfo("Asia/Dubai")) == "4 Dec 2026, 14:00 UTC+4"
    assert time_words(datetime(2026, 12, 4, 10, 0, tzinfo=timezone.utc), ZoneInfo("Asia/Kolkata")) == "4 Dec 2026, 15:30 IST"


@pytest.mark.parametrize("code", list(LANGUAGES))
def test_a_day_is_its_number_its_months_name_and_its_year_in_every_language(code):
    """What the browser's modules rely on where the browser has no words for the language (workspace.js
    dayWords): a day as day_words says it is "6", the month's name of month_names, and "2026"."""
    from babel.dates import format_date

    language = LANGUAGES[code]
    names = month_names(language)
    assert len(set(names)) == 12
    for month in range(1, 13):
        day = datetime(2026, month, 6).date()
        said = day_words(day) if code == DEFAULT else format_date(day, format="long", locale=language.formats)
        assert said == f"6 {names[month - 1]} 2026"
    assert names[11] == {"en": "December", "cy": "Rhagfyr", "pl": "grudnia", "ar": "ديسمبر"}.get(code, names[11])


# --- form errors ---

def test_a_moments_day_is_the_day_in_the_installations_time_zone():
    """A key that expires at 23:30 UTC on 4 March expires on 5 March in Warsaw, and the admin there reads that."""
    from types import SimpleNamespace

    from pyramid.testing import DummyRequest, setUp, tearDown

    moment = datetime(2027, 3, 4, 23, 30, tzinfo=timezone.utc)
    assert moment_day(moment) == "4 March 2027"  # outside a request: UTC
    assert moment_day(moment.replace(tzinfo=None)) == "4 March 2027"  # a naive moment is UTC
    request = DummyRequest()
    request.whistle_settings = SimpleNamespace(display_timezone=ZoneInfo("Europe/Warsaw"))
    setUp(request=request)
    try:
        assert moment_day(moment) == "5 March 2027"
    finally:
        tearDown()


def test_an_error_names_its_field():
    assert field_error("Reply to the reporter", "Write something first.") == "Reply to the reporter: write something first."
    assert field_error("Address", "URL must start with https://.") == "Address: URL must start with https://."
    assert field_error("Was the concern substantiated?", "Choose an answer.") == "Was the concern substantiated? Choose an answer."


# --- the audit log ---

def _strings(node: ast.AST) -> set[str]:
    return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str) and ACTION.match(n.value)}


def recorded_actions() -> dict[str, str]:
    """Every audit action in the code, read from its calls: whistle.audit.record(..., action=...) and
    request.audit(action, ...); an action held in a variable is read from what it is assigned."""
    found: dict[str, str] = {}
    sources = [p for p in (ROOT / "whistle").rglob("*.py") if "migrations" not in p.parts]
    sources += [p for p in (ROOT / "plugins").glob("*/whistle_*/**/*.py")]
    for path in sources:
        tree = ast.parse(path.read_text(), str(path))
        assigned: dict[str, set[str]] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, set()).update(_strings(node.value))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name not in ("record", "audit"):
                continue
            expression = next((k.value for k in node.keywords if k.arg == "action"), None)
            if expression is None and name == "audit" and node.args:
                expression = node.args[0]
            if expression is None:
                continue
            names = (assigned.get(expression.id, set()) if isinstance(expression, ast.Name) else _strings(expression))
            for action in names:
                found.setdefault(action, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_scan_finds_actions_of_every_kind():
    found = recorded_actions()
    # Written out, passed through a variable, chosen by an if, from a view, from the command line.
    for action in ("case.opened", "case.reopened", "case.status_changed", "account.enabled", "export", "logout",
                   "login.failed", "plugin.failed", "integration.added"):
        assert action in found, action


def test_every_audit_action_the_code_records_has_words():
    missing = {action: where for action, where in recorded_actions().items() if action not in AUDIT_WORDS}
    assert not missing, f"add these to whistle.words.AUDIT_WORDS: {missing}"


def test_the_table_has_no_words_for_actions_nobody_records():
    assert set(AUDIT_WORDS) - set(recorded_actions()) == RETIRED_ACTIONS, (
        "only retired actions, which older logs hold, may have words without being recorded")
    assert not RETIRED_ACTIONS & set(recorded_actions()), "a retired action is recorded again"


NAMES = Names(accounts={1: "demo.guardian", 2: "demo.youth"}, cases={5: "ABCDE-FGHIJ"},
              channels={"young-peoples-voice": "Young people's voice"}, integrations={3: "hr-system"})


@pytest.mark.parametrize("action", sorted(AUDIT_WORDS))
def test_each_action_reads_as_a_sentence_even_without_its_detail(action):
    for detail in ({}, {"account_id": 2, "channel": "young-peoples-voice", "from": "normal", "to": "urgent"}):
        sentence = event_words(action, "account:1", detail, NAMES)
        without_usernames = sentence.replace("demo.guardian", "").replace("demo.youth", "")
        assert sentence and not re.search(r"None|\{'|\['|account:|_|\b[a-z]+\.[a-z]", without_usernames), sentence


@pytest.mark.parametrize(("action", "actor", "detail", "words"), [
    ("case.viewed", "account:1", {}, "demo.guardian read the case"),
    ("reporter.message_sent", "reporter", {}, "The reporter sent a message"),
    ("case.opened", "reporter", {"channel": "young-peoples-voice", "identity_mode": "anonymous"},
     "The reporter opened the case on the Young people's voice channel, anonymously"),
    ("case.escalated", "system", {"rule": "eu.ack-breach", "kind": "raise_priority", "from": "normal", "to": "urgent"},
     "A missed-deadline rule raised the priority from normal to urgent"),
    ("case.escalated", "system", {"rule": "uk.safeguarding-lead", "kind": "grant", "audience": "second_tier",
                                  "account_ids": [2]},
     "The escalation rule “safeguarding lead” gave the case to demo.youth"),
    ("account.password_changed", "account:2", {"account_id": 2}, "demo.youth changed their password"),
    ("account.channels_changed", "system", {"account_id": 2, "channels": ["young-peoples-voice"]},
     "whistle set the channels demo.youth receives new cases from: Young people's voice"),
    ("login.failed", "anonymous", {"reason": "unknown-username"},
     "Sign-in failed for an unknown username (no account has that username)"),
    ("login.failed", "account:1", {"reason": "wrong-otp"}, "Sign-in failed for demo.guardian (wrong code)"),
    ("personnel_event.received", "integration:3", {"type": "promotion_withheld"},
     "The HR integration “hr-system” sent a personnel event (promotion withheld)"),
    ("case.closed", "account:1", {"from": "assessing", "to": "closed", "substantiated": "not_determined",
                                  "changes": ["training", "process"]},
     "demo.guardian closed the case (substantiated: not determined; what changed: training and a process)"),
    ("account.notify_events_changed", "account:2", {"account_id": 2, "off": ["escalations"]},
     "demo.youth chose not to be told about: “Deadline reminders and escalations”"),
    ("account.notify_events_changed", "account:1", {"account_id": 2, "off": []},
     "demo.guardian chose that demo.youth is told about everything"),
    ("account.notify_language_changed", "account:2", {"account_id": 2, "language": "cy"},
     "demo.youth chose Cymraeg for their notices"),
    ("account.notify_language_changed", "account:2", {"account_id": 2, "language": None},
     "demo.youth chose that their notices come as the organisation sends them"),
    ("account.notify_language_changed", "account:1", {"account_id": 2, "language": "xx"},
     "demo.guardian chose xx for demo.youth's notices"),
    ("account.roles_changed", "account:1", {"account_id": 2, "guardian": True, "admin": True},
     "demo.guardian made demo.youth a guardian and an admin"),
    ("account.notify_changed", "account:2", {"account_id": 2, "channel": "email"},
     "demo.youth set their notices to go by email"),
    ("case.routed", "system", {"account_ids": [1], "tier": 1, "excluded": 1, "standby_ids": [2]},
     "whistle gave the case to demo.guardian; 1 guardian left out for a conflict of interest; on standby: demo.youth"),
    ("case.purged", "system", {"ref": "ABCDE-FGHIJ", "channel": "young-peoples-voice", "opened_on": "2027-03-01",
                               "closed_on": "2027-04-01", "withdrawn_on": None, "delete_on": "2029-04-01"},
     "whistle deleted the case for good at the end of its retention period (Young people's voice; opened 1 March "
     "2027, closed 1 April 2027)"),
    ("case.legal_hold_lifted", "account:1", {"since": "2027-03-01"},
     "demo.guardian lifted the legal hold placed on 1 March 2027"),
    ("export", "account:1", {"export": "ftsu", "start": "2026-10-01", "end": "2026-12-31"},
     "demo.guardian downloaded the statistics export “ftsu” for 1 October 2026 to 31 December 2026"),
])
def test_events_in_words(action, actor, detail, words):
    assert event_words(action, actor, detail, NAMES) == words


def test_who_did_it_in_words():
    assert [actor_words(actor, NAMES) for actor in ("account:1", "account:99", "system", "reporter", "anonymous")] == [
        "demo.guardian", "an account that no longer exists", "whistle", "the reporter", "someone not signed in"]


def test_an_action_newer_than_the_table_still_reads_as_words():
    assert event_words("case.something_new", "account:1", {"x": 1}, NAMES) == "demo.guardian: case something new"
