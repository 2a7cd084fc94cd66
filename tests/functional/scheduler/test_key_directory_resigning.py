"""With auto_sign, the tick signs a fresh key directory before the current one expires, keeping
its guardians, keys and tiers, so a quiet month does not stop every channel."""
from __future__ import annotations

from datetime import timedelta

from tests.factories import make_channel, make_staff
from tests.functional.scheduler.conftest import ladder
from whistle.key_directory.services import EXPIRY_WARNING, Tiers, current_directory, live_channels


def key_directory_said(lines: list[str]) -> str:
    return next(line for line in lines if line.startswith("key directory: "))


def directory_now(world):
    with world.session() as dbsession:
        return current_directory(dbsession, world.ctx.settings, world.clock)


def test_the_tick_re_signs_a_directory_about_to_expire_keeping_its_guardians(world):
    world = world()
    first, second = ladder(world, "staff")
    signed = directory_now(world)
    assert key_directory_said(world.tick()) == f"key directory: version {signed.version} is valid until {signed.expires_at:%Y-%m-%d}"

    world.clock.set(signed.expires_at - EXPIRY_WARNING + timedelta(hours=1))
    assert key_directory_said(world.tick()).startswith(f"key directory: signed version {signed.version + 1}, valid until ")
    fresh = directory_now(world)
    assert fresh.expires_at > signed.expires_at
    assert fresh.guardians == signed.guardians
    assert fresh.listed_for("staff") == signed.listed_for("staff") == Tiers((first,), (second,))
    with world.session() as dbsession:
        assert [c.slug for c in live_channels(dbsession, world.ctx.settings, world.clock)] == ["staff"]


def test_the_tick_re_signs_an_expired_directory_from_its_keys_and_tiers(world):
    world = world()
    ladder(world, "staff")
    signed = directory_now(world)
    world.clock.set(signed.expires_at + timedelta(days=3))  # the tick did not run for weeks
    assert "signed version" in key_directory_said(world.tick())
    fresh = directory_now(world)
    assert fresh.guardians == signed.guardians and fresh.channels == signed.channels


def test_auto_sign_keeps_the_guardians_when_a_quiet_month_let_the_directory_expire(dbsession, settings, clock):
    """The first change after the directory expired carries forward the guardians and keys of the
    last signed directory rather than listing only the account made in that transaction."""
    make_channel(dbsession, "staff", title="Raise a concern")
    veteran = make_staff(dbsession, settings, clock, "veteran", channels=["staff"])
    clock.advance(settings.directory_lifetime + timedelta(days=1))
    make_staff(dbsession, settings, clock, "newcomer", channels=["staff"])
    directory = current_directory(dbsession, settings, clock)
    assert veteran.account.id in directory.guardians
    assert veteran.account.id in directory.listed_for("staff").first_tier
