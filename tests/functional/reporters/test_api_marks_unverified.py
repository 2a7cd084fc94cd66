"""The reporter's API shows what the mailbox page shows: a disclosure that fails to verify is
marked in an `unverified` list, as in the guardians' API, not given as an empty report."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_live_channel, submit_api
from whistle.cases.models import ITEM_DISCLOSURE, Case, CaseItem


def test_a_disclosure_that_fails_to_verify_is_marked_in_the_reporters_api(testapp, dbsession, settings, clock):
    make_live_channel(dbsession, settings, clock)
    sent = submit_api(testapp, text="The controlled drugs register does not add up.")
    case = dbsession.scalars(select(Case).where(Case.ref == sent["case"])).one()
    disclosure = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id,
                                                          CaseItem.kind == ITEM_DISCLOSURE)).one()
    tampered = bytearray(disclosure.ciphertext)
    tampered[-20] ^= 0x01  # a database writer changes one byte
    disclosure.ciphertext = bytes(tampered)
    dbsession.flush()

    token = testapp.post_json("/api/v1/reporter/session", {"receipt": sent["receipt"]}).json["token"]
    body = testapp.get("/api/v1/reporter/case", headers={"Authorization": f"Bearer {token}"}).json

    said = {key: body.get(key) for key in ("text", "answers", "unverified")}
    assert body.get("text") != "" or body.get("unverified"), (
        f"the report reads as empty, with no word that it failed to verify: {said}")
    assert body["unverified"] == [{"id": disclosure.id, "unverified": True, "kind": ITEM_DISCLOSURE}]
