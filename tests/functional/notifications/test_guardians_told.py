"""Guardians are told, through a real SMTP server, when a report comes in, when the reporter writes
or sends files (page and API), and when a case is given to them: the holders only, never the
acting guardian, and never in a way that says which case, channel or event it is."""
from __future__ import annotations

import email
from datetime import timedelta
from email import policy
from urllib.parse import quote

import pytest
from sqlalchemy import select
from webtest import TestApp, Upload

from tests.factories import api_login, make_channel, sign_directory, submit_api
from tests.smtp import running_smtp, smtp_settings
from whistle.accounts.models import Account
from whistle.notifications.preferences import set_notify_events
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.notifications.delivery import deliver_due
from whistle.notifications.preferences import EVENTS, REPORTER_FILE, REPORTER_MESSAGE
from whistle.notifications.models import Notification

MARKER = "MARKER-told-8f3a"


@pytest.fixture
def smtp():
    with running_smtp() as (controller, inbox):
        yield controller, inbox


class Office:
    """A world with the smtp and conflicts plugins, no batching, and a channel whose guardians
    are `holders` (first tier), `excluded` (first tier, named in every disclosure, so left out
    by the conflicts plugin) and `standby` (second tier: sealed a copy, not a holder)."""

    def __init__(self, tick_app, controller, inbox, prefix: str) -> None:
        self.world = tick_app(plugins=["smtp", "conflicts"], plaintext=["conflicts"], raw=smtp_settings(controller),
                              notification_batch=timedelta(0))
        self.inbox, self.prefix = inbox, prefix
        self.slug, self.title = f"{prefix}-line", f"{prefix.title()} Line Title"
        self.seen = 0
        with self.world.session() as dbsession:
            self.channel_id = make_channel(dbsession, self.slug, title=self.title).id
        self.accounts: dict[str, object] = {}

    def guardian(self, name: str, tier: int | None = None):
        """An enrolled guardian with an email address, on the channel at `tier` (or not at all)."""
        staff = self.world.staff(f"{self.prefix}.{name}")
        with self.world.session() as dbsession:
            account = dbsession.get(Account, staff.account.id)
            account.notify_channel, account.notify_address = "email", f"{name}@example.org"
            if tier is not None:
                dbsession.add(ChannelGuardian(channel_id=self.channel_id, account_id=account.id, tier=tier))
                sign_directory(dbsession, self.world.settings, self.world.clock)
        self.accounts[name] = staff
        return staff

    def report(self, text: str) -> dict:
        return submit_api(self.world.testapp, channel=self.slug, text=f"{text} {MARKER}")

    def delivered(self, *secrets: str) -> list[str]:
        """Run the tick's delivery; the addresses it emailed, after checking each email says nothing
        about the case or the event."""
        deliver_due(self.world.ctx)
        new, self.seen = self.inbox.accepted[self.seen:], len(self.inbox.accepted)
        for envelope in new:
            raw = envelope.original_content.decode()
            message = email.message_from_bytes(envelope.original_content, policy=policy.default)
            assert message["Subject"] == "Something needs your attention"
            assert self.world.settings.notification_link in message.get_content()
            for secret in (MARKER, self.slug, self.title, self.prefix, *EVENTS, *EVENTS.values(), *secrets):
                assert secret.lower() not in raw.lower(), secret
        return sorted(address for envelope in new for address in envelope.rcpt_tos)

    def pending(self) -> int:
        with self.world.session() as dbsession:
            return len(dbsession.scalars(select(Notification.id).where(Notification.state == "pending")).all())

    def turn_off(self, name: str, *events: str) -> None:
        with self.world.session() as dbsession:
            account = dbsession.get(Account, self.accounts[name].account.id)
            set_notify_events(dbsession, self.world.clock, account, {event: False for event in events},
                              actor=f"account:{account.id}")


def reporter_api(world, receipt: str) -> dict:
    token = world.testapp.post_json("/api/v1/reporter/session", {"receipt": receipt}).json["token"]
    return {"Authorization": f"Bearer {token}"}


def reporter_page(world, receipt: str):
    """A browser without JavaScript of its own, signed in to the mailbox with the receipt."""
    browser = TestApp(world.app, extra_environ={"HTTP_HOST": "example.com"})
    form = browser.get("/mailbox").forms[0]
    form["receipt"] = receipt
    return browser, form.submit().follow()


@pytest.fixture
def office(tick_app, smtp):
    controller, inbox = smtp

    def build(prefix: str) -> Office:
        office = Office(tick_app, controller, inbox, prefix)
        office.guardian("ann", tier=1)
        office.guardian("mendez", tier=1)  # named in every report below: excluded by the conflicts plugin
        office.guardian("bea", tier=TIER_SECOND)  # on standby
        return office

    return build


def test_a_new_report_reaches_its_holders_only_and_says_nothing_about_it(office):
    here = office("intake")
    sent = here.report("Mendez shouts at the night staff.")
    assert here.delivered(sent["case"], sent["receipt"], "Mendez shouts", "night staff") == ["ann@example.org"]

    with here.world.session() as dbsession:
        # Its only guardian is named in the report, so the conflicts plugin leaves nobody to receive it.
        channel = make_channel(dbsession, "nobody-line")
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=here.accounts["mendez"].account.id, tier=1))
        sign_directory(dbsession, here.world.settings, here.world.clock)
    here.world.testapp.post_json("/api/v1/disclosures", {"channel": "nobody-line", "answers": {"ongoing": "yes"},
                                                         "text": f"Mendez again; nobody can read this. {MARKER}"},
                                 status=409)
    assert here.pending() == 0 and here.delivered() == [], "a refused report tells nobody"


def test_the_reporters_messages_and_files_reach_the_holders_by_api_and_page(office):
    here = office("replies")
    sent = here.report("Mendez hides the rota.")
    assert here.delivered() == ["ann@example.org"]
    secrets = (sent["case"], sent["receipt"], "rota")

    headers = reporter_api(here.world, sent["receipt"])
    here.world.testapp.post_json("/api/v1/reporter/messages", {"text": "Also the fire rota."}, headers=headers,
                                 status=201)
    assert here.delivered(*secrets, "fire") == ["ann@example.org"]

    upload = dict(headers, **{"Content-Type": "text/plain", "X-Filename": quote("rota-photo.txt")})
    here.world.testapp.post("/api/v1/reporter/attachments", b"the rota, photographed", headers=upload, status=201)
    assert here.delivered(*secrets, "photo") == ["ann@example.org"]
    here.world.testapp.post("/api/v1/reporter/attachments", b"no name", headers=dict(headers, **{
        "Content-Type": "text/plain"}), status=422)
    assert here.pending() == 0 and here.delivered() == [], "a refused upload tells nobody"

    browser, page = reporter_page(here.world, sent["receipt"])
    form = page.forms["message-form"]
    form["text"] = "Here it is again, from the page."
    browser_sent = form.submit()
    assert browser_sent.status_int == 303
    assert here.delivered(*secrets, "again") == ["ann@example.org"]

    form = browser_sent.follow().forms["message-form"]
    form["files"] = [Upload("one.txt", b"first file", "text/plain"), Upload("two.txt", b"second file", "text/plain")]
    form.submit(status=303)
    assert here.pending() == 1, "one notice for the post, not one per file"
    assert here.delivered(*secrets, "one.txt", "two.txt") == ["ann@example.org"]

    page = browser.get("/mailbox/case")
    form = page.forms["message-form"]
    form["text"] = "And a note with a file."
    form["files"] = [Upload("three.txt", b"third file", "text/plain")]
    form.submit(status=303)
    assert here.pending() == 1, "a message with files is one notice"
    assert here.delivered(*secrets, "three.txt") == ["ann@example.org"]

    form = browser.get("/mailbox/case").forms["message-form"]
    form["text"] = "Sent from an expired page."
    form["csrf_token"] = "not-the-token"
    form.submit(status=400)
    assert here.pending() == 0 and here.delivered() == [], "a refused post tells nobody"


def test_a_case_given_to_a_guardian_tells_them_and_not_the_giver(office):
    here = office("given")
    dev, eve = here.guardian("dev"), here.guardian("eve")
    sent = here.report("Mendez signs off unsafe shifts.")
    assert here.delivered() == ["ann@example.org"]
    app = here.world.testapp

    ann = api_login(app, here.accounts["ann"], here.world.clock)
    app.post_json(f"/api/v1/cases/{sent['case']}/grants", {"guardian": dev.username}, headers=ann, status=201)
    assert here.delivered(sent["case"]) == ["dev@example.org"]

    dev_headers = api_login(app, dev, here.world.clock)
    app.post_json(f"/api/v1/cases/{sent['case']}/transfer", {"guardian": eve.username, "reason": "on leave"},
                  headers=dev_headers)
    assert here.delivered(sent["case"], "leave") == ["eve@example.org"]

    app.post_json(f"/api/v1/cases/{sent['case']}/messages", {"text": "We are looking into it."}, headers=ann)
    assert here.delivered() == [], "a guardian's own reply tells nobody"

    reporter = reporter_api(here.world, sent["receipt"])
    app.post_json("/api/v1/reporter/messages", {"text": "Thank you."}, headers=reporter, status=201)
    assert here.delivered() == ["ann@example.org", "eve@example.org"], "the holders now; dev gave it away"


def test_a_guardian_who_turned_an_event_off_is_not_told_of_it_but_of_the_others(office):
    here = office("prefs")
    here.guardian("cal", tier=1)
    here.turn_off("ann", REPORTER_MESSAGE)
    here.turn_off("cal", REPORTER_FILE)
    sent = here.report("Mendez leaves the medicine cupboard open.")
    assert here.delivered() == ["ann@example.org", "cal@example.org"], "both still want new reports"

    headers = reporter_api(here.world, sent["receipt"])
    here.world.testapp.post_json("/api/v1/reporter/messages", {"text": "Again today."}, headers=headers, status=201)
    assert here.delivered() == ["cal@example.org"]

    upload = dict(headers, **{"Content-Type": "text/plain", "X-Filename": "cupboard.txt"})
    here.world.testapp.post("/api/v1/reporter/attachments", b"a photo", headers=upload, status=201)
    assert here.delivered() == ["ann@example.org"]

    browser, page = reporter_page(here.world, sent["receipt"])
    form = page.forms["message-form"]
    form["text"] = "The key is on the hook."
    form["files"] = [Upload("hook.txt", b"the hook", "text/plain")]
    form.submit(status=303)
    assert here.delivered() == ["ann@example.org", "cal@example.org"], "each wants one of the two"
