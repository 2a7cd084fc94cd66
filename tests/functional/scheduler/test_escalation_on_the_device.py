"""Escalation without keys on the server, with guardians on their devices: a case built on the
reporter's device is sealed, at intake, to the channel's second tier on standby; the schedule
hands it to them when the acknowledgement deadline is missed (no key involved), and the second-tier
guardian, signed in on their device, opens it from the envelopes with their own key. The server
never held a key of the case at any step."""
from __future__ import annotations

import base64
from datetime import date
from types import SimpleNamespace

from sqlalchemy import select

from tests.factories import (
    api_device_login,
    build_client_case,
    guardian_keypair,
    make_channel,
    make_staff,
    send_client_case,
    sign_directory,
)
from tests.functional.scheduler.conftest import days
from whistle import crypto
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_STANDBY, Case, CaseGrant
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian


def test_a_missed_deadline_gives_the_second_tier_a_device_built_case_they_open_on_their_device(world):
    world = world(plugins=["eu_directive"], start=date(2026, 3, 2))
    settings = world.ctx.settings
    with world.session() as dbsession:
        channel = make_channel(dbsession, "staff", deadline_profile="eu_directive")
        first = make_staff(dbsession, settings, world.clock, "staff.first")
        second = make_staff(dbsession, settings, world.clock, "staff.second")
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=first.account.id))
        dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=second.account.id, tier=TIER_SECOND))
        sign_directory(dbsession, settings, world.clock)
        dbsession.flush()
        second_id = second.account.id
        signing_in = SimpleNamespace(username=second.account.username, password=second.password,
                                     totp_secret=second.totp_secret)
    text = "The night rota is signed for checks nobody did."
    built = build_client_case(world.testapp, settings, world.clock, text=text)
    send_client_case(world.testapp, built)

    def holder_of_second() -> str:
        with world.session() as dbsession:
            case_id = dbsession.scalar(select(Case.id).where(Case.ref == built.ref))
            return dbsession.scalar(select(CaseGrant.holder).where(CaseGrant.case_id == case_id,
                                                                   CaseGrant.account_id == second_id))

    assert holder_of_second() == HOLDER_STANDBY, "sealed to the second tier by the reporter's device"
    token = api_device_login(world.testapp, signing_in, world.clock).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    world.testapp.get(f"/api/v1/cases/{built.ref}/envelopes", headers=headers, status=404)  # not theirs yet

    for day in days(date(2026, 3, 2), date(2026, 3, 10)):
        world.go_to(day)
        world.tick()
    assert holder_of_second() == HOLDER_GUARDIAN, "the schedule handed it on: no key involved"

    # Days later: a new sign-in on the device (the first session has long expired).
    token = api_device_login(world.testapp, signing_in, world.clock).json["token"]
    headers = {"Authorization": f"Bearer {token}"}
    envelopes = world.testapp.get(f"/api/v1/cases/{built.ref}/envelopes", headers=headers).json
    with world.session() as dbsession:
        mine = guardian_keypair(dbsession.get(Account, second_id))
    case_private = crypto.unseal(mine, base64.b64decode(envelopes["grant"]["sealed_case_key"]))
    case_keys = crypto.KeyPair.from_private(case_private)
    assert case_keys.public == base64.b64decode(envelopes["public_key"])
    [disclosure] = [item for item in envelopes["items"] if item["kind"] == "disclosure"]
    plaintext = crypto.decrypt_item(case_keys, base64.b64decode(disclosure["ciphertext"]), case=built.ref,
                                    kind="disclosure", author=disclosure["author"])
    assert text in plaintext.decode("utf-8")
    with world.session() as dbsession:
        case_id = dbsession.scalar(select(Case.id).where(Case.ref == built.ref))
        replaced = dbsession.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id,
                                                              AuditEvent.action == "case.team_key_replaced")).all()
    assert replaced == [], "no server-side unlock: the reporter's team key waits for the first guardian's device"
