"""Separation of duties: an admin who gives someone (themselves too) access to a channel's cases is
seen by the channel's guardians (a notice, and "Changes to your channels" on their cases page and
in the API); where the key directory is signed offline the change takes effect only once the
organisation signs it; and under the two-admin rule a second admin must approve it."""
from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import select

from tests.factories import api_login, html_login, make_staff, sign_directory, submit_api
from tests.functional.workspace.conftest import events
from whistle.admin.services import record_staffing_changes, staffing
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.notifications.models import Notification


def notices(dbsession, staff) -> int:
    return len(dbsession.scalars(select(Notification.id).where(Notification.account_id == staff.account.id)).all())


def memberships_of(dbsession, staff) -> list[int]:
    return list(dbsession.scalars(select(ChannelGuardian.channel_id)
                                  .where(ChannelGuardian.account_id == staff.account.id)))


def account_form(testapp, account_id: int):
    return testapp.get(f"/admin/guardians/{account_id}").forms[1]


def add_to_staff_channel(testapp, account_id: int, *, guardian_role: bool = False):
    """Tick the channel "staff" (and the guardian role) on the account's admin page, and save."""
    form = account_form(testapp, account_id)
    if guardian_role:
        form["guardian"] = True
    form["channels"] = ["staff"]
    return form.submit()


def holders(dbsession, ref: str) -> set[int]:
    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    return set(dbsession.scalars(select(CaseGrant.account_id).where(CaseGrant.case_id == case.id,
                                                                    CaseGrant.holder == HOLDER_GUARDIAN)))


def sign_in_as(testapp, staff, clock):
    testapp.reset()
    return html_login(testapp, staff, clock)


def test_the_channels_guardians_are_told_and_see_who_added_whom(testapp, dbsession, settings, guardian, colleague,
                                                                admin, clock):
    bystander = make_staff(dbsession, settings, clock, "bystander")
    before = {staff.username: notices(dbsession, staff) for staff in (guardian, colleague, admin, bystander)}
    sign_in_as(testapp, admin, clock)
    add_to_staff_channel(testapp, colleague.account.id).follow()

    assert dbsession.scalar(select(ChannelGuardian.tier).where(ChannelGuardian.account_id == colleague.account.id))
    assert notices(dbsession, guardian) == before["guardian"] + 1, "the channel's guardian is told"
    assert notices(dbsession, colleague) == before["colleague"], "not the one added"
    assert notices(dbsession, bystander) == before["bystander"], "nor a guardian of another channel"
    kinds = set(dbsession.scalars(select(Notification.kind).where(Notification.account_id == guardian.account.id)))
    assert kinds == {"attention"}, "the notice says only that something needs them"

    sign_in_as(testapp, guardian, clock)
    page = testapp.get("/staff/cases")
    section = page.html.find(id="staffing-changes")
    assert section is not None and "Changes to your channels" in section.text
    assert "admin added colleague to “Raise a concern”" in section.text
    listed = testapp.get("/api/v1/staffing-changes", headers=api_login(testapp, guardian, clock)).json["changes"]
    newest = listed[0]
    assert (newest["what"], newest["account"], newest["channel"], newest["made_by"]) == (
        "first_tier", "colleague", "staff", "admin")

    sign_in_as(testapp, bystander, clock)
    assert testapp.get("/staff/cases").html.find(id="staffing-changes") is None, "not a change to their channels"


def test_an_admin_giving_themselves_a_channel_is_seen(testapp, dbsession, settings, guardian, clock):
    boss = make_staff(dbsession, settings, clock, "boss", admin=True, guardian=False)
    before = notices(dbsession, guardian)
    sign_in_as(testapp, boss, clock)
    add_to_staff_channel(testapp, boss.account.id, guardian_role=True).follow()

    assert notices(dbsession, guardian) == before + 1
    sign_in_as(testapp, guardian, clock)
    text = testapp.get("/staff/cases").html.find(id="staffing-changes").text
    assert "boss made boss a guardian" in text
    assert "boss added boss to “Raise a concern”" in text
    changes = testapp.get("/api/v1/staffing-changes", headers=api_login(testapp, guardian, clock)).json["changes"]
    assert {c["what"] for c in changes if c["account"] == "boss"} == {"guardian", "first_tier"}


def test_a_second_tier_place_the_operator_gives_is_seen(dbsession, settings, clock, guardian, colleague, testapp):
    """As `whistle channels load` does: what the file changed between two snapshots."""
    before_notices = notices(dbsession, guardian)
    before = staffing(dbsession)
    dbsession.add(ChannelGuardian(channel_id=guardian_channel_id(dbsession, guardian), account_id=colleague.account.id,
                                  tier=TIER_SECOND))
    record_staffing_changes(dbsession, clock, before, made_by=None)
    assert notices(dbsession, guardian) == before_notices + 1
    sign_in_as(testapp, guardian, clock)
    assert ("The operator (on the server's command line) added colleague to the second tier of “Raise a concern”"
            in testapp.get("/staff/cases").html.find(id="staffing-changes").text)


def guardian_channel_id(dbsession, staff) -> int:
    return dbsession.scalars(select(ChannelGuardian.channel_id)
                             .where(ChannelGuardian.account_id == staff.account.id)).first()


def test_a_new_guardian_gets_no_case_until_the_organisation_signs(testapp, app, dbsession, settings, guardian,
                                                                  colleague, admin, clock, monkeypatch):
    """Signed offline (no auto_sign): an admin's change waits for the organisation's signature."""
    monkeypatch.setattr(app.registry, "whistle_settings", replace(settings, org_auto_sign=False))
    sign_in_as(testapp, admin, clock)
    add_to_staff_channel(testapp, colleague.account.id).follow()
    assert "Waiting for the organisation's signature" in testapp.get(f"/admin/guardians/{colleague.account.id}").text
    assert "colleague (waiting for the organisation's signature)" in testapp.get("/admin/channels").text

    before = submit_api(testapp)["case"]
    assert holders(dbsession, before) == {guardian.account.id}, "not granted before the organisation signs"

    sign_directory(dbsession, settings, clock)  # the operator: `whistle keys sign-directory`
    after = submit_api(testapp)["case"]
    assert holders(dbsession, after) == {guardian.account.id, colleague.account.id}
    assert "colleague (waiting for the organisation's signature)" not in testapp.get("/admin/channels").text


@pytest.fixture
def two_admins(app, dbsession, settings, clock, monkeypatch):
    monkeypatch.setattr(app.registry, "whistle_settings", replace(settings, two_admin_rule=True))
    return (make_staff(dbsession, settings, clock, "first.admin", admin=True, guardian=False),
            make_staff(dbsession, settings, clock, "second.admin", admin=True, guardian=False))


def decide(testapp, proposal_id: int, decision: str, status: int = 302):
    page = testapp.get("/admin/proposals")
    form = next(f for f in page.forms.values() if f.action.endswith(f"/admin/proposals/{proposal_id}"))
    return form.submit("decision", value=decision, status=status)


def test_under_the_two_admin_rule_a_second_admin_must_approve(testapp, dbsession, guardian, colleague, two_admins,
                                                             clock):
    first, second = two_admins
    told = notices(dbsession, guardian)
    sign_in_as(testapp, first, clock)
    proposed = add_to_staff_channel(testapp, colleague.account.id)
    assert proposed.status_int == 302 and "/admin/proposals" in proposed.location
    assert memberships_of(dbsession, colleague) == []
    assert notices(dbsession, guardian) == told, "nothing is made, nobody is told yet"
    proposal_id = events(dbsession, "account.change_proposed")[-1].detail["proposal_id"]

    page = testapp.get("/admin/proposals")
    assert "Proposed by you: another admin approves it." in page.text
    # The proposer's own approval is refused even when sent without the button.
    refused = testapp.post(f"/admin/proposals/{proposal_id}", {"decision": "approve",
                                                               "csrf_token": page.forms[1]["csrf_token"].value},
                           status=422)
    assert "another admin must approve it" in refused.text
    assert memberships_of(dbsession, colleague) == []

    sign_in_as(testapp, second, clock)
    decide(testapp, proposal_id, "approve")
    assert memberships_of(dbsession, colleague) != []
    assert notices(dbsession, guardian) == told + 1
    assert events(dbsession, "account.change_approved")[-1].detail == {
        "proposal_id": proposal_id, "account_id": colleague.account.id, "proposed_by": first.account.id}
    sign_in_as(testapp, guardian, clock)
    assert ("first.admin added colleague to “Raise a concern”: they receive its new cases (approved by second.admin)"
            in testapp.get("/staff/cases").text)

    sign_in_as(testapp, first, clock)  # taking access away is never held: a leaver is shut out at once
    form = account_form(testapp, colleague.account.id)
    form["disabled"] = True
    form.submit(status=302)
    dbsession.refresh(colleague.account)
    assert colleague.account.disabled


def test_under_the_two_admin_rule_nobody_approves_their_own_access(testapp, dbsession, guardian, two_admins, clock):
    first, second = two_admins
    sign_in_as(testapp, first, clock)
    add_to_staff_channel(testapp, second.account.id, guardian_role=True)
    proposal_id = events(dbsession, "account.change_proposed")[-1].detail["proposal_id"]

    sign_in_as(testapp, second, clock)
    page = testapp.get("/admin/proposals")
    assert "About your own account: another admin approves it." in page.text
    refused = testapp.post(f"/admin/proposals/{proposal_id}", {"decision": "approve",
                                                               "csrf_token": page.forms[1]["csrf_token"].value},
                           status=422)
    assert "your own account" in refused.text
    dbsession.refresh(second.account)
    assert not second.account.is_guardian

    decide(testapp, proposal_id, "reject")  # anyone may turn it down
    assert events(dbsession, "account.change_rejected")[-1].detail["proposal_id"] == proposal_id


def test_under_the_two_admin_rule_the_api_proposes(testapp, dbsession, colleague, two_admins, clock):
    first, _second = two_admins
    answer = testapp.patch_json(f"/api/v1/admin/accounts/{colleague.account.id}", {"channels": ["staff"]},
                                headers=api_login(testapp, first, clock), status=202).json
    assert answer["state"] == "proposed" and answer["account"] == colleague.account.id
    made = testapp.post_json("/api/v1/admin/accounts", {"username": "newcomer", "password": "a long enough passphrase",
                                                         "channels": ["staff"]},
                             headers=api_login(testapp, first, clock), status=201).json
    assert made["disabled"] is True and made["channels"] == [], "made disabled until a second admin approves"
