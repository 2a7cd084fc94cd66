"""Delivering the outbox through a real SMTP server (aiosmtpd on loopback): retries with backoff,
the dead letter and its retry, per-guardian batching, guardians who cannot be notified."""
from __future__ import annotations

import email
import re
from datetime import timedelta
from email import policy

import pytest
from sqlalchemy import select

from tests.factories import html_login, make_channel, make_staff, sign_directory, submit_api
from tests.functional.notifications.notify_on_open import LABEL
from tests.smtp import running_smtp, smtp_settings
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.i18n import english, in_language
from whistle.intake_channels.models import ChannelGuardian
from whistle.notifications.delivery import DeliveryReport, backoff, deliver_due
from whistle.notifications.models import CANCELLED, DELIVERED, FAILED, PENDING, Notification
from whistle.notifications.preferences import ESCALATIONS
from whistle.notifications.services import notify
from whistle.scheduler.tick import run_tick
from whistle_smtp import BODY, SUBJECT

LINK = "https://speakup.example.org/staff/login"
MARKER = "MARKER-delivery-5c1e"


@pytest.fixture
def smtp():
    with running_smtp() as (controller, inbox):
        yield controller, inbox


def email_world(tick_app, controller, **overrides):
    return tick_app(plugins=["smtp", "tests.functional.notifications.notify_on_open"],
                    plaintext=["tests.functional.notifications.notify_on_open"], raw=smtp_settings(controller),
                    notification_link=LINK, **overrides)


def guardian(world, username: str, address: str | None = "", channel: str | None = "email", **kwargs) -> int:
    with world.session() as dbsession:
        account = make_staff(dbsession, world.settings, world.clock, username, **kwargs).account
        account.notify_channel = channel if address is not None else None
        account.notify_address = (address or f"{username}@example.org") if address is not None else None
        return account.id


def channel_for(world, slug: str, title: str, account_id: int) -> None:
    """A channel whose new cases go to `account_id`."""
    with world.session() as dbsession:
        channel = make_channel(dbsession, slug, title=title)
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=account_id))
        sign_directory(dbsession, world.settings, world.clock)


def queue(world, account_id: int, count: int = 1) -> None:
    for _ in range(count):
        with world.session() as dbsession:
            notify(dbsession, world.clock.now(), [account_id], event=ESCALATIONS)


def rows(world, account_id: int) -> list[Notification]:
    with world.session() as dbsession:
        found = list(dbsession.scalars(select(Notification).where(Notification.account_id == account_id)
                                       .order_by(Notification.id)))
        dbsession.expunge_all()
    return found


def test_the_email_arrives_on_the_fourth_attempt_once_and_content_free(tick_app, smtp):
    controller, inbox = smtp
    inbox.refuse = 3
    world = email_world(tick_app, controller)
    assert set(world.ctx.notification_channels) == {"email"}, "configured from the .ini keys"
    guardian_id = guardian(world, "smtp.guardian", "guardian@example.org", channels=())
    channel_for(world, "young-voice", "Young Voices Channel", guardian_id)
    ref = submit_api(world.testapp, channel="young-voice", text=f"My manager hit me. {MARKER}")["case"]
    queued = rows(world, guardian_id)
    assert [row.state for row in queued] == [PENDING, PENDING], "the new report, and the plugin's rule on it"

    reports = [deliver_due(world.ctx)]
    for attempt in (1, 2, 3):
        assert inbox.attempts == attempt and inbox.accepted == []
        assert {(row.state, row.attempts, row.last_error) for row in rows(world, guardian_id)} == {
            (PENDING, attempt, "SMTPDataError")}
        wait = backoff(attempt, world.settings.notification_retry_base)
        assert wait == timedelta(seconds=60 * 2 ** (attempt - 1))
        world.clock.advance(wait - timedelta(seconds=1))
        assert deliver_due(world.ctx) == DeliveryReport(), "not before the backoff has passed"
        assert inbox.attempts == attempt
        world.clock.advance(timedelta(seconds=1))
        reports.append(deliver_due(world.ctx))

    assert [r.retried for r in reports] == [2, 2, 2, 0]
    assert reports[-1] == DeliveryReport(delivered=2, notices=1)
    assert reports[-1].summary() == "notifications: 2 delivered (1 sent), 0 retrying, 0 dead-lettered, 0 postponed, 0 skipped"
    assert inbox.attempts == 4
    (envelope,) = inbox.accepted
    assert envelope.rcpt_tos == ["guardian@example.org"]
    for row in rows(world, guardian_id):
        assert (row.state, row.attempts) == (DELIVERED, 3) and row.delivered_at is not None

    raw = envelope.original_content.decode()
    message = email.message_from_bytes(envelope.original_content, policy=policy.default)
    assert LINK in message.get_content()
    for secret in (ref, "young-voice", "Young Voices", LABEL, MARKER, "manager", "hit me"):
        assert secret not in raw, secret

    world.clock.advance(timedelta(hours=1))
    assert deliver_due(world.ctx) == DeliveryReport() and inbox.attempts == 4, "nothing twice"


def test_after_the_last_attempt_it_is_dead_lettered_shown_to_admins_and_can_be_retried(tick_app, smtp):
    controller, inbox = smtp
    inbox.refuse = 100
    world = email_world(tick_app, controller, notification_max_attempts=3)
    guardian_id = guardian(world, "dead.guardian")
    queue(world, guardian_id)
    for _ in range(3):
        report = deliver_due(world.ctx)
        world.clock.advance(timedelta(hours=6))
    assert report == DeliveryReport(dead_lettered=1)
    (row,) = rows(world, guardian_id)
    assert (row.state, row.attempts, row.last_error) == (FAILED, 3, "SMTPDataError")
    assert deliver_due(world.ctx) == DeliveryReport() and inbox.attempts == 3, "a dead letter is not retried alone"

    admin = world.staff("dead.admin", admin=True, guardian=False)
    html_login(world.testapp, admin, world.clock)
    page = world.testapp.get("/admin/notifications")
    assert re.search(r"<th scope=\"row\">Failed on every attempt</th><td>1</td>", page.text)
    (dead,) = page.html.select("table.notifications tbody tr")
    cells = [cell.text for cell in dead.find_all("td")[:4]]
    assert cells[0] == "dead.guardian" and re.fullmatch(r"\d{1,2} [A-Z][a-z]+ \d{4}", cells[1])
    assert cells[2:] == ["3", "SMTPDataError"]
    assert "dead.guardian@example.org" not in page.text, "the outbox page shows no address"

    inbox.refuse = 0
    retried = page.forms[1].submit().follow()  # the row's own "Retry" button
    assert "1 notice put back in the queue" in retried.text
    (row,) = rows(world, guardian_id)
    assert (row.state, row.attempts) == (PENDING, 0)
    with world.session() as dbsession:
        event = dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        assert (event.action, event.actor, event.detail) == (
            "notification.retried", f"account:{admin.account.id}", {"count": 1, "ids": [row.id]})
    assert deliver_due(world.ctx).delivered == 1 and len(inbox.accepted) == 1


def test_retrying_needs_the_admin_role_and_a_csrf_token(tick_app, smtp):
    controller, _ = smtp
    world = email_world(tick_app, controller)
    plain = world.staff("csrf.guardian")
    admin = world.staff("csrf.admin", admin=True, guardian=False)
    html_login(world.testapp, plain, world.clock)
    world.testapp.get("/admin/notifications", status=403)
    world.testapp.post("/admin/notifications/retry", status=403)
    world.testapp.reset()
    html_login(world.testapp, admin, world.clock)
    world.testapp.post("/admin/notifications/retry", status=400)  # no CSRF token


def test_five_notices_make_one_email_and_another_waits_for_the_interval(tick_app, smtp):
    controller, inbox = smtp
    world = email_world(tick_app, controller)
    guardian_id = guardian(world, "batch.guardian")
    for _ in range(5):
        queue(world, guardian_id)
        world.clock.advance(timedelta(minutes=1))
    assert deliver_due(world.ctx) == DeliveryReport(delivered=5, notices=1)
    assert len(inbox.accepted) == 1

    world.clock.advance(timedelta(minutes=5))
    queue(world, guardian_id)
    report = deliver_due(world.ctx)
    assert report == DeliveryReport(postponed=1) and len(inbox.accepted) == 1
    assert "1 postponed" in report.summary()
    world.clock.advance(timedelta(minutes=9, seconds=59))  # 14:59 after the first email
    assert deliver_due(world.ctx) == DeliveryReport() and len(inbox.accepted) == 1
    world.clock.advance(timedelta(seconds=1))
    assert deliver_due(world.ctx) == DeliveryReport(delivered=1, notices=1)
    assert len(inbox.accepted) == 2
    assert [row.state for row in rows(world, guardian_id)] == [DELIVERED] * 6


def test_a_guardian_who_chose_a_language_gets_it_alone_with_the_link_in_it(tick_app, smtp):
    """The organisation writes in Welsh and English (whistle_smtp.languages); a guardian who chose
    Polish on their notifications page gets Polish alone, and the link to the Polish sign-in page."""
    controller, inbox = smtp
    world = tick_app(plugins=["smtp"], raw={**smtp_settings(controller), "whistle_smtp.languages": "cy en"},
                     notification_link=LINK)
    polish, unchosen = guardian(world, "language.polish"), guardian(world, "language.unchosen")
    with world.session() as dbsession:
        dbsession.get(Account, polish).notify_language = "pl"
    queue(world, polish)
    queue(world, unchosen)
    assert deliver_due(world.ctx) == DeliveryReport(delivered=2, notices=2)

    sent = {envelope.rcpt_tos[0]: email.message_from_bytes(envelope.original_content, policy=policy.default)
            for envelope in inbox.accepted}
    to_polish, to_unchosen = sent["language.polish@example.org"], sent["language.unchosen@example.org"]
    assert to_polish["Subject"] == in_language("pl", SUBJECT) != english(SUBJECT)
    body = to_polish.get_content().replace("\r\n", "\n")
    assert body == "\n".join(in_language("pl", sentence) for sentence in BODY) + (
        "\n\nhttps://speakup.example.org/pl/staff/login\n")
    assert to_unchosen["Subject"] == f"{in_language('cy', SUBJECT)} / {english(SUBJECT)}"
    body = to_unchosen.get_content().replace("\r\n", "\n")
    assert "https://speakup.example.org/cy/staff/login\n\n" + english(BODY[0]) in body
    assert body.endswith(f"{english(BODY[1])}\n\n{LINK}\n"), "the English words with the English link"


def test_one_guardians_failure_stops_nobody_else(tick_app, smtp):
    controller, inbox = smtp
    world = email_world(tick_app, controller)
    broken = guardian(world, "isolated.broken")
    fine = guardian(world, "isolated.fine")
    with world.session() as dbsession:
        # Passed the form's checks once, but the server refuses it (smtplib raises for the RCPT).
        dbsession.get(Account, broken).notify_address = "broken@example.org\r\nBcc: x@example.org"
    queue(world, broken)
    queue(world, fine)
    report = deliver_due(world.ctx)
    assert (report.retried, report.delivered, report.notices) == (1, 1, 1)
    assert [e.rcpt_tos for e in inbox.accepted] == [["isolated.fine@example.org"]]


def test_a_guardian_without_a_usable_address_is_skipped_and_listed_for_admins(tick_app, smtp):
    controller, inbox = smtp
    world = email_world(tick_app, controller)
    nowhere = guardian(world, "skip.nowhere", address=None)
    elsewhere = guardian(world, "skip.elsewhere", address="https://chat.example.org/hook", channel="webhook")
    disabled = guardian(world, "skip.disabled")
    with world.session() as dbsession:
        dbsession.get(Account, disabled).disabled = True
    for account_id in (nowhere, elsewhere, disabled):
        queue(world, account_id, count=2)
    report = deliver_due(world.ctx)
    assert report == DeliveryReport(skipped=4, cancelled=2)
    assert "4 skipped" in report.summary() and "2 cancelled" in report.summary()
    assert [r.state for r in rows(world, nowhere) + rows(world, elsewhere)] == [PENDING] * 4
    assert [r.state for r in rows(world, disabled)] == [CANCELLED] * 2
    assert inbox.accepted == []

    admin = world.staff("skip.admin", admin=True, guardian=False)
    html_login(world.testapp, admin, world.clock)
    page = world.testapp.get("/admin/notifications")
    rows_shown = [[cell.text for cell in row.find_all("td")[:3]] for row in page.html.select("table.notifications tbody tr")]
    assert ["skip.nowhere", "No address given", "2"] in rows_shown
    assert ["skip.elsewhere", "Sends by webhook, which is not enabled here", "2"] in rows_shown
    assert "skip.disabled" not in page.text

    # Once they have an address, everything that waited goes out as one notice.
    with world.session() as dbsession:
        account = dbsession.get(Account, nowhere)
        account.notify_channel, account.notify_address = "email", "nowhere@example.org"
    assert deliver_due(world.ctx) == DeliveryReport(delivered=2, notices=1, skipped=2)
    assert [e.rcpt_tos for e in inbox.accepted] == [["nowhere@example.org"]]


def test_the_admin_notifications_page_shows_no_case_content(tick_app, smtp):
    controller, inbox = smtp
    inbox.refuse = 100
    world = email_world(tick_app, controller, notification_max_attempts=1)
    guardian_id = guardian(world, "scan.guardian")
    channel_for(world, "scan-channel", "Scan Channel Title", guardian_id)
    admin = world.staff("scan.admin", admin=True, guardian=False)
    ref = submit_api(world.testapp, channel="scan-channel", text=f"Disclosure {MARKER}")["case"]
    assert deliver_due(world.ctx).dead_lettered == 2  # the new report, and the plugin's rule on it
    html_login(world.testapp, admin, world.clock)
    page = world.testapp.get("/admin/notifications")
    assert "scan.guardian" in page.text
    for secret in (MARKER, ref, "scan-channel", "Scan Channel Title", LABEL):
        assert secret not in page.text, secret
    assert 'href="/admin/notifications"' in world.testapp.get("/admin").text, "linked from the admin nav"


def test_the_notice_that_a_recovery_key_was_used_reaches_an_admin_too(tick_app, smtp):
    """Notices about cases go to guardians only; the one about the account goes to its owner, whatever
    their roles: an admin's recovery key is as much worth stealing."""
    controller, inbox = smtp
    world = email_world(tick_app, controller)
    with world.session() as dbsession:
        admin = make_staff(dbsession, world.settings, world.clock, "recover.admin", admin=True, guardian=False)
        admin.account.notify_channel, admin.account.notify_address = "email", "recover.admin@example.org"
        admin_id = admin.account.id
    queue(world, admin_id)  # about cases: not for an admin

    world.testapp.post_json("/api/v1/staff/authenticator", {"username": "recover.admin",
                                                            "recovery_key": admin.recovery_key}, status=200)

    assert deliver_due(world.ctx) == DeliveryReport(delivered=1, notices=1, cancelled=1)
    assert [e.rcpt_tos for e in inbox.accepted] == [["recover.admin@example.org"]]
    assert "recover.admin" not in inbox.accepted[0].content.decode().split("\r\n\r\n", 1)[1], "content-free"


def test_the_tick_records_an_hour_of_wrong_recovery_keys_once(tick_app):
    world = tick_app()
    for _ in range(2):
        world.testapp.post_json("/api/v1/staff/authenticator", {"username": "nobody", "recovery_key": "WRONG"},
                                status=422)
    assert not [line for line in run_tick(world.ctx) if line.startswith("recovery failures")], "the hour goes on"
    world.clock.advance(timedelta(hours=1, seconds=1))
    assert "recovery failures: 2 wrong recovery keys recorded for the hour that ended" in run_tick(world.ctx)
    assert not [line for line in run_tick(world.ctx) if line.startswith("recovery failures")], "recorded once"
    with world.session() as dbsession:
        recorded = list(dbsession.scalars(select(AuditEvent).where(AuditEvent.action == "account.recovery_failures")))
        assert [event.detail["count"] for event in recorded] == [2]
