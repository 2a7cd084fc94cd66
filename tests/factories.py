"""Making the things tests need: channels, guardians, logins, disclosures."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pyotp
from sqlalchemy import select

from whistle import crypto
from whistle.accounts.models import Account
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


def holder_keys(dbsession, case) -> CaseKeys:
    """The case's keys as its first guardian holds them (every test account's password is PASSWORD):
    what a guardian's session opens, for tests that add to a case through the services."""
    dbsession.flush()
    grant = dbsession.scalars(select(CaseGrant).where(
        CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN).order_by(CaseGrant.id)).first()
    account = dbsession.get(Account, grant.account_id)
    keypair = crypto.KeyPair.from_private(crypto.unwrap_with_password(account.key_by_password, PASSWORD))
    # Unsealed as the session would, without writing the guardian's case key binding: the tests
    # that use this set up a case; the binding belongs to the guardian's first real visit.
    return CaseKeys(case=crypto.KeyPair.from_private(crypto.unseal(keypair, grant.sealed_case_key)),
                    team=crypto.KeyPair.from_private(crypto.unseal(keypair, grant.sealed_team_key)))
