"""Fixtures for the guardian's workspace: a channel, two guardians, an admin, a submitted case."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.factories import api_login, make_channel, make_staff, submit_api
from whistle.audit.models import AuditEvent


@pytest.fixture
def channel(dbsession):
    return make_channel(dbsession, "staff", title="Raise a concern")


@pytest.fixture
def guardian(dbsession, settings, clock, channel):
    return make_staff(dbsession, settings, clock, "guardian", channels=["staff"])


@pytest.fixture
def colleague(dbsession, settings, clock, channel):
    """A second enabled guardian who does not receive the channel's cases."""
    return make_staff(dbsession, settings, clock, "colleague")


@pytest.fixture
def admin(dbsession, settings, clock, channel):
    return make_staff(dbsession, settings, clock, "admin", admin=True, guardian=False)


@pytest.fixture
def submitted(testapp, guardian):
    """A disclosure on the guardian's channel: {"receipt", "case"}."""
    return submit_api(testapp, text="The night shift is left with one nurse for 40 beds.")


@pytest.fixture
def headers(testapp, guardian, clock):
    return api_login(testapp, guardian, clock)


def events(dbsession, action: str | None = None) -> list[AuditEvent]:
    query = select(AuditEvent).order_by(AuditEvent.seq)
    if action:
        query = query.where(AuditEvent.action == action)
    return list(dbsession.scalars(query))


def last_event(dbsession) -> AuditEvent:
    return dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
