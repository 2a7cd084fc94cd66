"""An admin who gives themselves a channel's cases: the channel's guardians get an email over real
SMTP, which says only that something needs their attention (no channel, no names)."""
from __future__ import annotations

import email
from datetime import timedelta
from email import policy

import pytest

from tests.factories import html_login, make_channel
from tests.smtp import running_smtp, smtp_settings
from whistle.accounts.models import Account
from whistle.notifications.delivery import deliver_due


@pytest.fixture
def smtp():
    with running_smtp() as (controller, inbox):
        yield controller, inbox


def test_an_admin_giving_themselves_a_channel_emails_its_guardians(tick_app, smtp):
    controller, inbox = smtp
    world = tick_app(plugins=["smtp"], raw=smtp_settings(controller), notification_batch=timedelta(0))
    with world.session() as dbsession:
        make_channel(dbsession, "selfserve-line", title="Selfserve Line Title")
    keeper = world.staff("selfserve.keeper", channels=["selfserve-line"])
    boss = world.staff("selfserve.boss", admin=True, guardian=False)
    with world.session() as dbsession:
        for staff, address in ((keeper, "keeper@example.org"), (boss, "boss@example.org")):
            account = dbsession.get(Account, staff.account.id)
            account.notify_channel, account.notify_address = "email", address
    deliver_due(world.ctx)
    seen = len(inbox.accepted)

    html_login(world.testapp, boss, world.clock)
    form = world.testapp.get(f"/admin/guardians/{boss.account.id}").forms[1]
    form["guardian"] = True
    form["channels"] = ["selfserve-line"]
    form.submit(status=302)
    deliver_due(world.ctx)

    sent = inbox.accepted[seen:]
    assert sorted(address for envelope in sent for address in envelope.rcpt_tos) == ["keeper@example.org"], (
        "the channel's guardian is told; the admin who did it is not")
    raw = sent[0].original_content.decode()
    message = email.message_from_bytes(sent[0].original_content, policy=policy.default)
    assert message["Subject"] == "Something needs your attention"
    assert world.settings.notification_link in message.get_content()
    for secret in ("selfserve", "Selfserve Line Title", "boss", "guardian"):
        assert secret.lower() not in raw.lower(), secret
