"""The tick forgets the rows of the limits (whistle.throttles.forget_ended) once their windows end:
left behind, a row would say when someone last sent a report, and a client's row is no use once
its hourly key is gone."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.functional.scheduler.conftest import ladder, submit_api
from whistle.throttles import CLIENT_WINDOW, SERVICE_WINDOW, Throttle

pytestmark = pytest.mark.usefixtures("within_one_hour")  # counts of one client stay under one hour's key


def test_the_tick_forgets_the_services_row_after_a_minute_and_the_clients_after_ten(world):
    world = world()
    ladder(world, "staff")
    world.testapp.extra_environ["REMOTE_ADDR"] = "192.0.2.10"  # a client told apart (not loopback)
    submit_api(world.testapp, channel="staff")

    def rows() -> list[str]:
        with world.session() as dbsession:
            return sorted("client" if ":" in key else key
                          for key in dbsession.scalars(select(Throttle.key).where(Throttle.key.startswith("reports"))))

    assert rows() == ["client", "reports"]
    assert not any(line.startswith("throttles:") for line in world.tick()), "nothing has ended yet"
    world.clock.advance(SERVICE_WINDOW)
    assert "throttles: 1 ended windows forgotten" in world.tick()
    assert rows() == ["client"]
    world.clock.advance(CLIENT_WINDOW - SERVICE_WINDOW)
    assert "throttles: 1 ended windows forgotten" in world.tick()
    assert rows() == []
