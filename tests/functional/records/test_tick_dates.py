"""The tick puts every case's deletion day in step with the one rule (due_for_deletion), in SQL:
for every combination of what the rule reads, and whatever day the case had before, on SQLite and
on PostgreSQL alike."""
from __future__ import annotations

import itertools
from datetime import date, timedelta

from sqlalchemy import insert, select

from tests.factories import make_channel
from whistle.cases.models import Case
from whistle.intake_channels.models import Channel
from whistle.records.services import due_for_deletion, refresh_delete_on

START = date(2027, 3, 1)
WRONG = date(2031, 1, 1)


def test_the_tick_agrees_with_the_rule_for_every_kind_of_case(world):
    world = world(start=START)
    with world.session() as dbsession:
        slow = make_channel(dbsession, "slow", retention_days=400, retention_untaken_days=90,
                            retention_withdrawn_days=7)
        quick = make_channel(dbsession, "quick", retention_days=30, retention_untaken_days=10,
                             retention_withdrawn_days=0)
        channel_ids = (slow.id, quick.id)
    combinations = list(itertools.product(channel_ids, ("closed", "assessing"), (None, START), (None, START),
                                          (None, START - timedelta(days=3)), (None, START + timedelta(days=1)),
                                          (None, WRONG)))
    rows = [{"ref": f"REF-{n:05d}", "channel_id": channel, "status": status, "priority": "normal",
             "public_key": bytes(32), "team_public_key": bytes(32), "reporter_lookup_id": n.to_bytes(32, "big"),
             "reporter_public_key": bytes(32), "opened_on": START - timedelta(days=30), "ack_due": START,
             "feedback_due": START, "acknowledged_on": acknowledged, "closed_on": closed, "withdrawn_on": withdrawn,
             "hold_since": held, "delete_on": before, "detriment": False, "changes": []}
            for n, (channel, status, acknowledged, closed, withdrawn, held, before) in enumerate(combinations)]
    with world.session() as dbsession:
        dbsession.execute(insert(Case), rows)

    changed = refresh_delete_on(world.ctx)

    with world.session() as dbsession:
        channels = {channel.id: channel for channel in dbsession.scalars(select(Channel))}
        cases = list(dbsession.scalars(select(Case)))
        wrong = [(case.ref, case.delete_on, due_for_deletion(case, channels[case.channel_id])) for case in cases
                 if case.delete_on != due_for_deletion(case, channels[case.channel_id])]
        expected_changes = sum(1 for row in rows
                               if row["delete_on"] != due_for_deletion(_Row(row), channels[row["channel_id"]]))
    assert wrong == [] and len(cases) == len(combinations)
    assert changed == expected_changes
    assert refresh_delete_on(world.ctx) == 0, "in step: nothing more to change"


class _Row:
    """A row to insert, as the rule reads a case."""

    def __init__(self, row: dict) -> None:
        self.status, self.closed_on, self.acknowledged_on = row["status"], row["closed_on"], row["acknowledged_on"]
        self.withdrawn_on, self.hold_since = row["withdrawn_on"], row["hold_since"]
