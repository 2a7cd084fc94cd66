"""Review: the reporter's API hides a tampered report as an empty one.

The mailbox page says "What you sent could not be checked, so it is not shown here" when the
disclosure fails to verify. GET /api/v1/reporter/case answers "text": "" and "answers": {} with
nothing marking them as unverified (the guardians' API has an "unverified" list; the reporter's
messages and files carry markers): a client such as whistle-report shows the reporter an empty
report, as if they had sent nothing. The reporter's API is meant to show what the page shows.
"""
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
