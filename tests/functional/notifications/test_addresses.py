"""Where a guardian is notified: set by themself, by an admin, or with `whistle guardian`; checked
against the loaded channels; and a webhook delivered end to end from .ini plugin settings."""
from __future__ import annotations

import io
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select

from tests.factories import html_login
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cli import main as whistle_main
from whistle.notifications.delivery import DeliveryReport, deliver_due
from whistle.notifications.preferences import ESCALATIONS, EVENTS
from whistle.notifications.services import notify
from whistle_webhook import verify

SECRET = "a-webhook-secret-of-32-characters"


@pytest.fixture
def world(tick_app, tmp_path):
    secret_file = tmp_path / "webhook_secret"
    secret_file.write_text(SECRET + "\n")
    return tick_app(plugins=["smtp", "webhook"], raw={
        "whistle_smtp.host": "127.0.0.1", "whistle_smtp.from_address": "whistle@example.org",
        "whistle_webhook.secret_file": str(secret_file), "whistle_webhook.timeout": "5"})


def account(world, account_id: int) -> Account:
    with world.session() as dbsession:
        found = dbsession.get(Account, account_id)
        dbsession.expunge(found)
    return found


def last_event(world) -> AuditEvent:
    with world.session() as dbsession:
        event = dbsession.scalars(select(AuditEvent).order_by(AuditEvent.seq.desc())).first()
        dbsession.expunge(event)
    return event


def test_a_guardian_sets_their_own_address_and_bad_input_names_the_field(world):
    me = world.staff("own.guardian")
    html_login(world.testapp, me, world.clock)
    page = world.testapp.get("/staff/notifications")
    assert "You get no notices now" in page.text
    form = page.forms[1]
    assert [value for value, *_ in form["channel"].options] == ["", "email", "webhook"]

    form["channel"], form["address"] = "email", "not an address@"
    refused = form.submit(status=422)
    assert 'id="address-error"' in refused.text and 'value="not an address@"' in refused.text
    assert account(world, me.account.id).notify_address is None, "nothing stored"
    form = refused.forms[1]
    form["channel"], form["address"] = "webhook", "ftp://chat.example.org/hook"
    assert "http:// or https:// URL" in form.submit(status=422).text
    refused = world.testapp.post("/staff/notifications", {"channel": "pager", "address": "555",
                                                          "csrf_token": form["csrf_token"].value}, status=422)
    assert 'id="channel-error"' in refused.text and "available: email, webhook" in refused.text

    form = refused.forms[1]
    form["channel"], form["address"] = "email", " own.guardian@example.org "
    saved = form.submit()
    assert "Saved." in saved.text and "You get no notices now" not in saved.text
    stored = account(world, me.account.id)
    assert (stored.notify_channel, stored.notify_address) == ("email", "own.guardian@example.org")
    event = last_event(world)
    assert (event.action, event.actor) == ("account.notify_changed", f"account:{me.account.id}")
    assert event.detail == {"account_id": me.account.id, "channel": "email"}, "no address in the audit log"

    form = saved.forms[1]
    form["channel"] = ""
    form.submit()
    stored = account(world, me.account.id)
    assert (stored.notify_channel, stored.notify_address) == (None, None)


def test_a_plugins_word_on_a_faulty_address_is_in_the_pages_language_and_english_in_the_api(world):
    me = world.staff("cy.guardian")
    html_login(world.testapp, me, world.clock)
    form = world.testapp.get("/cy/staff/notifications").forms[1]
    form["channel"], form["address"] = "email", "sam@localhost"
    refused = form.submit(status=422)
    error = refused.html.find(id="address-error").get_text(" ", strip=True)
    assert "nid yw hwnnw'n edrych fel cyfeiriad e-bost (name@example.org)." in error, error  # after the label
    assert "does not look like" not in error
    form = refused.forms[1]
    form["channel"], form["address"] = "webhook", "ftp://chat.example.org/hook"
    error = form.submit(status=422).html.find(id="address-error").get_text(" ", strip=True)
    assert "rhaid i gyfeiriad webhook fod yn URL http:// neu https://." in error, error

    from tests.factories import api_login
    bad = world.testapp.put_json("/cy/api/v1/staff/notifications", {"channel": "email", "address": "x@"},
                                 headers=api_login(world.testapp, me, world.clock), status=422)
    [problem] = bad.json["errors"]
    assert problem["message"] == "That does not look like an email address (name@example.org).", problem  # English


def test_the_page_needs_a_signed_in_staff_member(world):
    world.testapp.get("/staff/notifications", status=302)


def test_an_admin_sets_a_guardians_address_on_their_account_page(world):
    admin = world.staff("addr.admin", admin=True, guardian=False)
    them = world.staff("addr.guardian")
    html_login(world.testapp, admin, world.clock)
    form = world.testapp.get(f"/admin/guardians/{them.account.id}").forms[1]
    form["notify_channel"], form["notify_address"] = "webhook", "https://chat.example.org/hooks/T0"
    form["admin"] = True
    form.submit().follow()
    stored = account(world, them.account.id)
    assert (stored.notify_channel, stored.notify_address, stored.is_admin) == (
        "webhook", "https://chat.example.org/hooks/T0", True)
    assert last_event(world).detail == {"account_id": them.account.id, "channel": "webhook"}

    form = world.testapp.get(f"/admin/guardians/{them.account.id}").forms[1]
    form["notify_channel"], form["notify_address"] = "email", "nobody"
    form["admin"] = False
    refused = form.submit(status=422)
    assert 'id="notify_address-error"' in refused.text and 'value="nobody"' in refused.text
    stored = account(world, them.account.id)
    assert (stored.notify_channel, stored.is_admin) == ("webhook", True), "a rejected form changes nothing"


def test_the_cli_sets_an_address_when_adding_a_guardian_and_later(world, tick_database, tmp_path, monkeypatch,
                                                                 capsys):
    ini = tmp_path / "whistle.ini"
    raw = {**tick_database[1], "whistle.plugins": "smtp webhook", "whistle_smtp.host": "127.0.0.1",
           "whistle_smtp.from_address": "whistle@example.org"}
    ini.write_text("[app:main]\n" + "".join(f"{key} = {value}\n" for key, value in raw.items()))

    def run(*args, stdin="a long enough password\n") -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        return whistle_main(["-c", str(ini), "guardian", *args])

    assert run("add", "cli.bad", "--password-stdin", "--notify", "email:not-an-address") == 1
    assert "address: that does not look like an email address" in capsys.readouterr().err
    assert run("add", "cli.bad", "--password-stdin", "--notify", "pager:555") == 1
    assert "there is no notification channel 'pager' (available: email)" in capsys.readouterr().err
    with world.session() as dbsession:
        assert dbsession.scalars(select(Account).where(Account.username == "cli.bad")).first() is None

    assert run("add", "cli.sam", "--password-stdin", "--notify", "email:sam@example.org") == 0
    assert "Notified through email." in capsys.readouterr().out
    with world.session() as dbsession:
        sam = dbsession.scalars(select(Account).where(Account.username == "cli.sam")).one()
        assert (sam.notify_channel, sam.notify_address) == ("email", "sam@example.org")
    assert run("notify", "cli.sam", "none") == 0
    with world.session() as dbsession:
        sam = dbsession.scalars(select(Account).where(Account.username == "cli.sam")).one()
        assert (sam.notify_channel, sam.notify_address) == (None, None)


class Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        self.server.received.append((dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))))
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_webhook_configured_in_the_ini_is_delivered_and_signed(world):
    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    server.received = []
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        them = world.staff("hook.guardian")
        with world.session() as dbsession:
            stored = dbsession.get(Account, them.account.id)
            stored.notify_channel = "webhook"
            stored.notify_address = f"http://127.0.0.1:{server.server_port}/hook"
            notify(dbsession, world.clock.now(), [them.account.id], event=ESCALATIONS)
        assert deliver_due(world.ctx) == DeliveryReport(delivered=1, notices=1)
    finally:
        server.shutdown()
        server.server_close()
    ((headers, body),) = server.received
    assert verify(SECRET, headers["X-Whistle-Timestamp"], body, headers["X-Whistle-Signature"],
                  now=int(headers["X-Whistle-Timestamp"]))
    assert json.loads(body)["link"] == world.settings.notification_link == "http://127.0.0.1:6543/staff/login"


def test_the_api_reads_and_sets_my_address_and_names_a_faulty_field(world):
    from tests.factories import api_login

    me = world.staff("api.guardian")
    headers = api_login(world.testapp, me, world.clock)
    app = world.testapp
    every_event = {event: True for event in EVENTS}
    assert app.get("/api/v1/staff/notifications", headers=headers).json == {
        "channel": None, "address": None, "language": None, "channels": ["email", "webhook"], "usable": False,
        "events": every_event}

    saved = app.put_json("/api/v1/staff/notifications", {"channel": "email", "address": "me@example.org"},
                         headers=headers).json
    assert saved == {"channel": "email", "address": "me@example.org", "language": None,
                     "channels": ["email", "webhook"], "usable": True, "events": every_event}
    assert last_event(world).action == "account.notify_changed"
    assert "me@example.org" not in json.dumps(last_event(world).detail)

    bad = app.put_json("/api/v1/staff/notifications", {"channel": "email", "address": "not an address"},
                       headers=headers, status=422)
    assert bad.content_type == "application/problem+json" and [e["field"] for e in bad.json["errors"]] == ["address"]
    unknown = app.put_json("/api/v1/staff/notifications", {"channel": "pager", "address": "x", "extra": 1},
                           headers=headers, status=422)
    assert {e["field"] for e in unknown.json["errors"]} == {"extra"}
    assert account(world, me.account.id).notify_address == "me@example.org"  # nothing changed by the refusals

    cleared = app.put_json("/api/v1/staff/notifications", {"channel": None, "address": None}, headers=headers).json
    assert cleared["channel"] is None and cleared["usable"] is False
    app.get("/api/v1/staff/notifications", status=401)
