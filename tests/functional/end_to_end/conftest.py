"""A channel with two tiers of guardians, for cases built on the client (docs/crypto.md 7.1)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from tests.factories import Staff, make_channel, make_staff, sign_directory
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian


@dataclass
class Team:
    first: Staff
    colleague: Staff
    second: Staff


@pytest.fixture
def team(dbsession, settings, clock) -> Team:
    """Channel "staff" ("Raise a concern"): first tier "first" and "colleague", second tier "second";
    a key directory signed with all three."""
    channel = make_channel(dbsession, "staff", title="Raise a concern")
    first = make_staff(dbsession, settings, clock, "first", channels=["staff"])
    colleague = make_staff(dbsession, settings, clock, "colleague", channels=["staff"])
    second = make_staff(dbsession, settings, clock, "second")
    dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
    sign_directory(dbsession, settings, clock)
    return Team(first, colleague, second)
