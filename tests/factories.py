"""Making the things tests need: channels, guardians, logins, disclosures."""
from __future__ import annotations

import base64
import http.cookiejar
import json
from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select

from whistle import crypto
from whistle.accounts.models import Account
from whistle.accounts.services import private_key_with_password
from whistle.admin.services import add_account
from whistle.cases.models import HOLDER_GUARDIAN, CaseGrant
from whistle.cases.services import CaseKeys
from whistle.intake_channels.models import Channel
from whistle.key_directory.services import sign_from_database

PASSWORD = "correct horse battery staple"


def shipped_profiles() -> dict:
    """Core's deadline profiles and the one config/channels.toml names from the
    uk_childrens_complaints plugin, for tests that load that file into an app without plugins
    (whose cases then fall back to core's profile)."""
    from whistle.deadlines import PROFILES
    from whistle_uk_childrens_complaints import UK_CHILDRENS_COMPLAINTS

    return {**PROFILES, UK_CHILDRENS_COMPLAINTS.name: UK_CHILDRENS_COMPLAINTS}

QUESTIONNAIRE = [
    {"name": "where", "label": "Where did it happen?", "type": "text", "required": False},
    {"name": "ongoing", "label": "Is it still happening?", "type": "yes_no", "required": True},
    {"name": "kind", "label": "What is it about?", "type": "single_choice", "required": False,
     "choices": ["Safety", "Bullying", "Fraud"]},
    {"name": "who", "label": "Who is affected?", "type": "multiple_choice", "required": False,
     "choices": ["Patients", "Staff", "Children"]},
    {"name": "when", "label": "When?", "type": "date", "required": False},
    {"name": "more", "label": "Anything else?", "type": "long_text", "required": False},
]


def make_channel(dbsession, slug="staff", **overrides) -> Channel:
    values = {
        "slug": slug,
        "title": overrides.pop("title", f"Channel {slug}"),
        "introduction": "For testing.",
        "questionnaire": QUESTIONNAIRE,
        "identity_modes": ["anonymous", "confidential", "open"],
    }
    values.update(overrides)
    channel = Channel(**values)
    dbsession.add(channel)
    dbsession.flush()
    return channel


def make_live_channel(dbsession, settings, clock, slug="staff", **overrides) -> Channel:
    """A channel that takes reports: make_channel, and an enabled guardian of it ("<slug>.keeper")
    who receives its cases. A channel no guardian attends refuses every report."""
    channel = make_channel(dbsession, slug, **overrides)
    make_staff(dbsession, settings, clock, f"{slug}.keeper", channels=[slug])
    return channel


@dataclass
class Staff:
    account: object
    password: str
    totp_secret: str
    recovery_key: str

    @property
    def username(self) -> str:
        return self.account.username


def make_staff(dbsession, settings, clock, username="guardian", *, channels=(), admin=False, guardian=True) -> Staff:
    enrolment = add_account(dbsession, settings, clock, username=username, password=PASSWORD,
                            is_guardian=guardian, is_admin=admin, channel_slugs=tuple(channels))
    return Staff(enrolment.account, PASSWORD, enrolment.totp_secret, enrolment.recovery_key)


def make_legacy_staff(dbsession, settings, clock, username="legacy", *, channels=()) -> Staff:
    """An account as made before device sign-in: the private key in a password wrap
    (key_by_password, docs/crypto.md 5.4), the TOTP secret sealed to its public key, and none of
    the sign-in keys. It moves over at its next sign-in with the password."""
    staff = make_staff(dbsession, settings, clock, username, channels=channels)
    account = staff.account
    keypair = guardian_keypair(account)
    account.key_by_password = crypto.wrap_with_password(keypair.private, staff.password, settings.kdf)
    account.totp_secret_sealed = crypto.seal(keypair.public, staff.totp_secret.encode("ascii"))
    account.sign_in_salt = account.sign_in_verifier = account.key_by_device = account.totp_secret_server = None
    account.sign_in_opslimit = account.sign_in_memlimit = None
    dbsession.flush()
    return staff


def device_keys(testapp, username: str, password: str = PASSWORD) -> tuple[bytes, bytes]:
    """(auth_key, wrap_key) as the sign-in page derives them: the salt and cost from the server."""
    answer = testapp.post_json("/api/v1/staff/sign-in-parameters", {"username": username}).json
    assert answer["scheme"] == "device/1", answer
    cost = crypto.KdfCost(answer["opslimit"], answer["memlimit"])
    return crypto.derive_sign_in_keys(password, base64.b64decode(answer["salt"]), cost)


def api_device_login(testapp, staff: Staff, clock, password: str | None = None, status: int = 200):
    """Sign in through the API with the auth key derived here, as a device does; the response."""
    auth_key, _wrap_key = device_keys(testapp, staff.username, password or staff.password)
    return testapp.post_json("/api/v1/staff/session", {"username": staff.username, "otp": fresh_code(staff, clock),
                                                       "auth_key": b64(auth_key)}, status=status)


def fresh_code(staff: Staff, clock) -> str:
    """A TOTP code from a time step not used before (the clock moves on 30 s each time)."""
    clock.advance(timedelta(seconds=30))
    return pyotp.TOTP(staff.totp_secret).at(clock.now())


def api_login(testapp, staff: Staff, clock) -> dict:
    """Log in through the API; returns headers carrying the bearer token."""
    response = testapp.post_json("/api/v1/staff/session",
                                 {"username": staff.username, "password": staff.password, "otp": fresh_code(staff, clock)})
    return {"Authorization": f"Bearer {response.json['token']}"}


def html_login(testapp, staff: Staff, clock):
    """Log in through the sign-in form, as a browser without JavaScript would."""
    form = testapp.get("/staff/login").forms[0]
    form["username"] = staff.username
    form["password"] = staff.password
    form["otp"] = fresh_code(staff, clock)
    return form.submit().follow()


def device_login(testapp, dbsession, settings, clock, staff: Staff) -> str:
    """Give the test browser a staff session in device mode (no key on the server), as signing in
    with JavaScript does; returns the token. The guardian's key is then the test's to use."""
    from whistle.security.cookies import cookie_name
    from whistle.sessions.services import open_staff_device_session

    token = open_staff_device_session(dbsession, settings, clock, account_id=staff.account.id)
    # Not TestApp.set_cookie: it quotes a value with "-" in it, and whistle takes plain values only.
    testapp.cookiejar.set_cookie(http.cookiejar.Cookie(
        version=0, name=cookie_name("whistle_staff", settings.cookies_secure), value=token, port=None,
        port_specified=False, domain=".example.com", domain_specified=True, domain_initial_dot=True, path="/",
        path_specified=True, secure=False, expires=None, discard=False, comment=None, comment_url=None,
        rest={}))
    return token


def submit_api(testapp, channel="staff", text="Something is wrong on ward 7.", **extra) -> dict:
    body = {"channel": channel, "text": text, "answers": {"ongoing": "yes"}}
    body.update(extra)
    return testapp.post_json("/api/v1/disclosures", body, status=201).json


def sign_directory(dbsession, settings, clock):
    """Sign and publish a key directory of the guardians and channels in the database now, as an
    operator does with `whistle keys sign-directory`: for tests that change memberships or accounts
    directly rather than through the services that re-sign (whistle.org.auto_sign)."""
    dbsession.flush()
    return sign_from_database(dbsession, settings, clock, settings.org_signing_key)


def guardian_keypair(account: Account, password: str = PASSWORD) -> crypto.KeyPair:
    """The guardian's key pair opened with their password, as a server-assisted sign-in does
    (whichever way the account keeps it: sign-in keys, or the password wrap of a legacy account)."""
    return crypto.KeyPair.from_private(private_key_with_password(account, password))


def holder_keys(dbsession, case) -> CaseKeys:
    """The case's keys as its first guardian holds them (every test account's password is PASSWORD):
    what a guardian's session opens, for tests that add to a case through the services."""
    dbsession.flush()
    grant = dbsession.scalars(select(CaseGrant).where(
        CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN).order_by(CaseGrant.id)).first()
    account = dbsession.get(Account, grant.account_id)
    keypair = guardian_keypair(account)
    # Unsealed as the session would, without writing the guardian's case key binding: the tests
    # that use this set up a case; the binding belongs to the guardian's first real visit.
    return CaseKeys(case=crypto.KeyPair.from_private(crypto.unseal(keypair, grant.sealed_case_key)),
                    team=crypto.KeyPair.from_private(crypto.unseal(keypair, grant.sealed_team_key)))


# --- a case built on the client, end to end (docs/crypto.md 7.1) ---

def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class ClientCase:
    """A case as an end-to-end client builds it: `body` is what it posts to /api/v1/disclosures;
    the rest is what only the client holds (the receipt, the reporter's and the case's private
    keys), for a test to read and write the case afterwards as the client would."""

    body: dict
    receipt: str
    ref: str
    reporter: crypto.ClientReporterKeys
    case_keys: crypto.KeyPair
    team_keys: crypto.KeyPair
    directory: crypto.DirectoryDocument

    @property
    def lookup_value(self) -> str:
        return self.body["reporter"]["lookup_value"]

    def item(self, kind: str, plaintext: bytes | str, *, team: bool = False) -> str:
        """An item of `kind` by the reporter (version 2), base64, to the case key (or the team key)."""
        data = plaintext.encode("utf-8") if isinstance(plaintext, str) else plaintext
        public = self.team_keys.public if team else self.case_keys.public
        return b64(crypto.encrypt_item(public, data, case=self.ref, kind=kind, author="reporter"))


def new_case_ref() -> str:
    """A case reference in the server's format (whistle.cases.services.new_case_ref)."""
    chars = base64.b32encode(crypto.random_bytes(10)).decode("ascii")[:10]
    return f"{chars[:5]}-{chars[5:]}"


def build_client_case(testapp, settings, clock, channel: str = "staff", *, text: str = "Something is wrong on ward 7.",
                      answers: dict | None = None, routing_answers: dict | None = None,
                      identity: dict | None = None, identity_mode: str = "anonymous", left_out=(),
                      ref: str | None = None, receipt: str | None = None) -> ClientCase:
    """Build a case as the browser or whistle-report does, with whistle.crypto only: fetch and
    check the channel's signed key directory (GET /api/v1/channels/{slug}/keys) with the
    organisation key, make a version 2 receipt and its keys, the case and team key pairs, grants
    sealed to exactly `recipients(directory, channel, left_out)`, and the items. Nothing is sent:
    post `built.body` to /api/v1/disclosures (see send_client_case)."""
    published = testapp.get(f"/api/v1/channels/{channel}/keys").json
    directory = crypto.open_directory(published, settings.org_public_key, now=clock.now())
    receipt = receipt or crypto.new_receipt_v2()
    reporter = crypto.derive_reporter_keys_v2(receipt, directory.receipt_salt, directory.receipt_cost)
    case_keys, team_keys = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    ref = ref or new_case_ref()
    chosen = crypto.recipients(directory, channel, left_out)
    grants: list[dict] = [{"holder": "reporter",
                           "sealed_case_key": b64(crypto.seal(reporter.keypair.public, case_keys.private))}]
    for holder, ids in (("guardian", chosen.holders), ("standby", chosen.standby)):
        for account_id in ids:
            key = directory.key_of(account_id)
            grants.append({"holder": holder, "account_id": account_id,
                           "sealed_case_key": b64(crypto.seal(key, case_keys.private)),
                           "sealed_team_key": b64(crypto.seal(key, team_keys.private))})
    if chosen.escrow_key is not None:
        grants.append({"holder": "escrow", "sealed_case_key": b64(crypto.seal(chosen.escrow_key, case_keys.private)),
                       "sealed_team_key": b64(crypto.seal(chosen.escrow_key, team_keys.private))})
    built = ClientCase(body={}, receipt=receipt, ref=ref, reporter=reporter, case_keys=case_keys,
                       team_keys=team_keys, directory=directory)
    items = [{"kind": "disclosure", "ciphertext": built.item("disclosure", text)}]
    if answers:
        items.append({"kind": "answers", "ciphertext": built.item("answers", json.dumps(answers))})
    if identity is not None:
        items.append({"kind": "identity",
                      "ciphertext": built.item("identity", json.dumps(dict(identity, mode=identity_mode)), team=True)})
    built.body = {
        "format": "e2e/1", "channel": channel, "case": ref, "directory_version": directory.version,
        "case_public_key": b64(case_keys.public), "team_public_key": b64(team_keys.public),
        "team_key_mac": b64(crypto.team_key_mac(case_keys.private, team_keys.public)),
        "reporter": {"lookup_value": b64(reporter.lookup_value), "public_key": b64(reporter.keypair.public),
                     "case_key_binding": b64(crypto.case_key_binding(reporter.keypair.private, ref, case_keys.public))},
        "grants": grants, "items": items, "identity_mode": identity_mode,
        "routing_answers": dict(routing_answers or {}), "left_out": list(left_out),
    }
    return built


def send_client_case(testapp, built: ClientCase, status: int = 201) -> dict:
    """Post a client-built case; on 201 the answer is {"case", "token", "expires_in"}."""
    return testapp.post_json("/api/v1/disclosures", built.body, status=status).json


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}
