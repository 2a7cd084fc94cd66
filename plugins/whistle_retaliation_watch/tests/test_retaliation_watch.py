"""The retaliation watch plugin, called through the real loader as an organisation enables it."""
from __future__ import annotations

from datetime import date

import whistle_retaliation_watch as plugin
from whistle.hooks import Hooks
from whistle.hooks.types import Action, CaseInfo, PersonnelEvent
from whistle.protection.services import ADVERSE_EVENT_TYPES

CASE = CaseInfo(id=3, ref="QWERT-ASDFG", channel="staff", status="closed", priority="normal", labels=(),
                opened_on=date(2026, 1, 5), acknowledged_on=date(2026, 1, 6), ack_due=date(2026, 1, 12),
                feedback_due=date(2026, 4, 6), detriment=False)
ALERT = [Action(kind="notify", rule="retaliation.adverse-event"),
         Action(kind="raise_priority", rule="retaliation.adverse-event", priority="high")]


def event(kind: str) -> PersonnelEvent:
    return PersonnelEvent(person_index=b"\x01" * 32, type=kind, effective=date(2026, 6, 1))


def test_every_adverse_type_whistle_accepts_alerts_and_no_other():
    assert plugin.ADVERSE_TYPES == frozenset(ADVERSE_EVENT_TYPES)
    hooks = Hooks.from_names(["retaliation_watch"])
    assert hooks.call("whistle_personnel_event", event=event("dismissal"), protected=[CASE]) == [ALERT]
    assert hooks.call("whistle_personnel_event", event=event("promotion"), protected=[CASE]) == []
    assert hooks.call("whistle_personnel_event", event=event("pay_rise"), protected=[CASE]) == []
    assert hooks.call("whistle_personnel_event", event=event("dismissal"), protected=[]) == []


def test_a_checkin_saying_yes_alerts_and_raises_priority():
    hooks = Hooks.from_names(["retaliation_watch"])
    assert hooks.call("whistle_checkin_answer", case=CASE, detriment=True) == [[
        Action(kind="notify", rule="retaliation.checkin-detriment"),
        Action(kind="raise_priority", rule="retaliation.checkin-detriment", priority="high")]]
    assert hooks.call("whistle_checkin_answer", case=CASE, detriment=False) == []
