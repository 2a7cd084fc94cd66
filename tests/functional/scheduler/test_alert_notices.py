"""Retaliation alerts reach the case's guardians as a notice with the next day's first tick."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select

from tests.factories import make_channel, make_staff, sign_directory
from tests.functional.scheduler.conftest import ladder, submit_api
from whistle.accounts.models import Account
from whistle.notifications.preferences import set_notify_events
from whistle.cases.models import Case
from whistle.intake_channels.models import ChannelGuardian
from whistle.notifications.preferences import RETALIATION
from whistle.notifications.models import Notification
from whistle.protection.models import ProtectionAlert


def _alert(world, ref, *, acknowledged=False):
    with world.session() as dbsession:
        case_id = dbsession.scalar(select(Case.id).where(Case.ref == ref))
        dbsession.add(ProtectionAlert(case_id=case_id, event_type="dismissal", effective=world.clock.today(),
                                      rule="retaliation.adverse-event", created_on=world.clock.today(),
                                      acknowledged_on=world.clock.today() if acknowledged else None))


def _notified(world) -> list[int]:
    with world.session() as dbsession:
        return list(dbsession.scalars(select(Notification.account_id).order_by(Notification.id)))


def test_an_alert_is_notified_to_the_case_s_guardians_the_next_day_once(world):
    world = world(start=date(2026, 5, 4))
    first, _second = ladder(world, "staff")
    ref = submit_api(world.testapp, "staff")["case"]
    other = submit_api(world.testapp, "staff")["case"]
    opened = [first, first]  # each new report was a notice of its own
    assert _notified(world) == opened
    _alert(world, ref)
    _alert(world, ref)
    _alert(world, other, acknowledged=True)  # a guardian has already seen it
    assert "protection alerts: 0 new, 0 guardians told" in world.tick()  # not the minute the HR event came
    assert _notified(world) == opened
    world.go_to(date(2026, 5, 5), hour=0)
    assert "protection alerts: 2 new, 1 guardians told" in world.tick()
    # one notice for the case's two alerts; the second tier is on standby
    assert _notified(world) == opened + [first]
    world.go_to(date(2026, 5, 6))
    assert "protection alerts: 0 new, 0 guardians told" in world.tick()
    assert _notified(world) == opened + [first]


def test_a_guardian_who_turned_retaliation_alerts_off_is_not_told_but_the_alert_stays(world):
    world = world(start=date(2026, 5, 4))
    first, _second = ladder(world, "quiet")
    with world.session() as dbsession:
        channel = make_channel(dbsession, "alerts-on")
        keen = make_staff(dbsession, world.ctx.settings, world.clock, "alerts.keen").account
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=keen.id))
        sign_directory(dbsession, world.ctx.settings, world.clock)
        set_notify_events(dbsession, world.clock, dbsession.get(Account, first), {RETALIATION: False},
                          actor=f"account:{first}")
        keen_id = keen.id
    muted = submit_api(world.testapp, "quiet")["case"]
    told = submit_api(world.testapp, "alerts-on")["case"]
    opened = _notified(world)
    assert sorted(opened) == sorted([first, keen_id]), "new reports are still told"
    _alert(world, muted)
    _alert(world, told)
    world.go_to(date(2026, 5, 5), hour=0)
    assert "protection alerts: 2 new, 1 guardians told" in world.tick()
    assert _notified(world) == opened + [keen_id]
    with world.session() as dbsession:
        alerts = dbsession.scalars(select(ProtectionAlert).order_by(ProtectionAlert.id)).all()[-2:]
        assert [alert.acknowledged_on for alert in alerts] == [None, None], "still on both case pages"
