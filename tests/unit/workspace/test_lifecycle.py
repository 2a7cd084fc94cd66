"""The lifecycle table, move by move, without a database."""
from __future__ import annotations

from datetime import date

import pytest

from whistle.deadlines import add_months
from whistle.cases.inbox import next_deadline
from whistle.cases.lifecycle import ALLOWED, STATUSES, Outcome, check_move, check_outcome, move
from whistle.cases.models import ITEM_OUTCOME, Case
from whistle.cases.services import CaseKeys
from whistle.intake_channels.models import Channel
from whistle.crypto import KeyPair
from whistle.errors import Problem

OPENED = date(2026, 1, 10)
KEYS = KeyPair.generate()
HELD = CaseKeys(case=KEYS, team=KEYS)  # what a guardian's session holds for a_case's cases


def a_case(status: str) -> Case:
    keys = KEYS
    return Case(ref="AAAAA-BBBBB", status=status, channel=Channel(slug="s", title="S", deadline_profile="eu_directive"),
                public_key=keys.public, team_public_key=keys.public, opened_on=OPENED,
                ack_due=date(2026, 1, 17), feedback_due=add_months(date(2026, 1, 17), 3), items=[])


@pytest.mark.parametrize("source", STATUSES)
@pytest.mark.parametrize("target", STATUSES)
def test_every_pair_is_allowed_or_409(source, target):
    case = a_case(source)
    if target in ALLOWED[source]:
        check_move(case, target)
    else:
        with pytest.raises(Problem) as refused:
            check_move(case, target)
        assert refused.value.status == 409 and refused.value.type == "/api/v1/problems/transition"


def test_acknowledging_moves_the_feedback_deadline():
    case = a_case("received")
    move(case, "acknowledged", keys=HELD, today=date(2026, 1, 12), account_id=1)
    assert case.acknowledged_on == date(2026, 1, 12) and case.feedback_due == date(2026, 4, 12)
    assert next_deadline(case) == ("feedback", date(2026, 4, 12))


def test_closing_records_the_outcome_encrypted_and_reopening_clears_it():
    case = a_case("assessing")
    move(case, "closed", keys=HELD, today=date(2026, 2, 1), account_id=1,
         outcome=Outcome("no", ("none",), "Nothing found, but the reporter was right to ask."))
    assert (case.status, case.closed_on, case.substantiated, case.changes) == ("closed", date(2026, 2, 1), "no", ["none"])
    assert [item.kind for item in case.items] == [ITEM_OUTCOME]
    assert b"reporter was right" not in case.items[0].ciphertext
    assert next_deadline(case) is None
    with pytest.raises(Problem) as no_reason:
        move(case, "assessing", keys=HELD, today=date(2026, 2, 2), account_id=1)
    assert no_reason.value.status == 422 and case.status == "closed"
    move(case, "assessing", keys=HELD, today=date(2026, 2, 2), account_id=1, reason="New evidence.")
    assert (case.status, case.closed_on, case.substantiated) == ("assessing", None, None)


def test_the_outcome_is_checked_field_by_field():
    with pytest.raises(Problem) as refused:
        check_outcome("perhaps", ["everything"], "")
    assert {e["field"] for e in refused.value.errors} == {"substantiated", "changes", "learned"}
    assert check_outcome("yes", ["policy", "policy"], " Learned. ") == Outcome("yes", ("policy",), "Learned.")
