"""A legal hold placed while the tick is purging that very case: the tick read the case before
the hold was committed. The case must survive with its keys (the hold is the guardian's word
that it must be kept), never be shredded or deleted on the strength of what the tick read first."""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import submit_api
from tests.functional.records.test_purge import Setup, _case, setup  # noqa: F401 - the fixture
from whistle.cases.models import Case
from whistle.records import services as records
from whistle.shredding import shred_store_of


def test_a_hold_committed_after_the_tick_read_the_case_stops_its_purge(setup: Setup, monkeypatch):
    world, headers = setup.world, setup.headers
    ref = submit_api(world.testapp, "staff", text="keep me")["case"]
    for to in ("acknowledged", "assessing"):
        world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    world.testapp.post_json(f"/api/v1/cases/{ref}/transitions", {
        "to": "closed", "substantiated": "no", "changes": ["none"], "learned": "Nothing."}, headers=headers)
    before = _case(world, ref)
    world.go_to(before["delete_on"])
    headers = setup.headers
    real = records.due_for_deletion

    def hold_placed_meanwhile(case, channel):
        # The guardian's request, in its own transaction, committed just after the tick read the case.
        if not getattr(hold_placed_meanwhile, "done", False):
            hold_placed_meanwhile.done = True
            world.testapp.post_json(f"/api/v1/cases/{ref}/legal-hold", {"reason": "A claim is pending."},
                                    headers=headers, status=201)
        return real(case, channel)

    monkeypatch.setattr(records, "due_for_deletion", hold_placed_meanwhile)
    world.tick()

    after = _case(world, ref)
    assert after is not None, "a case on legal hold was purged"
    assert after["hold_since"] is not None
    with world.session() as dbsession:
        assert len(shred_store_of(dbsession).keys(before["handles"])) == len(before["handles"]), (
            "the held case's shred keys were destroyed")
        assert dbsession.scalars(select(Case).where(Case.ref == ref)).one().delete_on is None
