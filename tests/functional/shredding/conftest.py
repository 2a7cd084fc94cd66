"""A whole installation on a committed database (the scheduler tests' `world`), with a channel, its
guardian and a second-tier guardian on standby, for the shred layer's tests: what is stored on disk
is what they look at, so every request commits."""
from __future__ import annotations

import base64
from dataclasses import dataclass

import pytest

from tests.factories import Staff, api_login, make_channel, make_staff
from tests.functional.scheduler.conftest import World, world  # noqa: F401 - the fixture, used here
from whistle import crypto
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.key_directory.services import build_document, next_version, publish


@dataclass
class Installation:
    world: World
    guardian: Staff
    standby: Staff
    escrow: crypto.KeyPair | None

    @property
    def testapp(self):
        return self.world.testapp

    def headers(self) -> dict:
        return api_login(self.world.testapp, self.guardian, self.world.clock)


@pytest.fixture
def installation(world):  # noqa: F811 - the fixture imported above
    """installation(escrow=False) -> an Installation; with `escrow`, its key directory lists an escrow key."""

    def build(*, escrow: bool = False, name: str = "shred", sqlite: bool = False) -> Installation:
        built = world(name=name, sqlite=sqlite)
        settings, clock = built.ctx.settings, built.clock
        with built.session() as dbsession:
            channel = make_channel(dbsession, "staff")
            guardian = make_staff(dbsession, settings, clock, "first")
            standby = make_staff(dbsession, settings, clock, "second")
            dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=guardian.account.id))
            dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=standby.account.id, tier=TIER_SECOND))
            dbsession.flush()
            escrow_keys = crypto.KeyPair.generate() if escrow else None
            document = build_document(dbsession, settings, clock, version=next_version(dbsession, settings))
            if escrow_keys is not None:
                document["escrow"] = {"public_key": base64.b64encode(escrow_keys.public).decode("ascii")}
            signed = crypto.canonical_json(document)
            publish(dbsession, settings, clock, signed, crypto.sign_directory(signed, settings.org_signing_key))
            # Kept as they are now, for signing in later (committing would expire them).
            dbsession.expunge(guardian.account)
            dbsession.expunge(standby.account)
        return Installation(built, guardian, standby, escrow_keys)

    return build
