"""Review: a report that leaves out every guardian is accepted with a promise nobody can keep.

The conflicts plugin leaves out a guardian whose name (or a distinctive part of it) the report
mentions — deliberately over-matching: a child writing about "Mr Okafor", the PE teacher, also
leaves out p.okafor, the channel's guardian. When that leaves nobody (first tier, second tier),
the case is stored sealed to the reporter alone. There is no escrow key and the server holds no
case key, so no one can ever be granted it: it is unreadable for good. Yet the reporter gets a
receipt and "Someone will answer by ...". A channel nobody attends refuses the report and gives
the words back; this is the same situation, found a moment later.
"""
from __future__ import annotations

from sqlalchemy import select

from tests.factories import make_channel, make_staff
from tests.functional.plugins.conftest import plugin_app  # noqa: F401  (fixture)
from tests.functional.reporters.helpers import RECEIPT
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant

TEXT = "Mr Okafor the PE teacher grabbed my arm really hard and it still hurts."


def test_a_report_nobody_may_read_is_not_accepted_with_a_promise(plugin_app, dbsession, settings, clock):
    make_channel(dbsession, "youth", title="Young voices", wording={"plain": True}, questionnaire=[],
                 identity_modes=["anonymous"])
    make_staff(dbsession, settings, clock, "p.okafor", channels=["youth"])
    app = plugin_app(["conflicts"], plaintext=["conflicts"])

    form = app.get("/report/youth").forms[0]
    form["text"] = TEXT
    answer = form.submit(expect_errors=True)
    page = answer.follow() if answer.status_int == 303 else answer

    unreadable = [case for case in dbsession.scalars(select(Case)).all()
                  if dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                               CaseGrant.holder == HOLDER_GUARDIAN)).first() is None]
    promised = RECEIPT.search(page.text) is not None and "Someone will answer by" in page.text
    assert not (unreadable and promised), (
        "the report was stored where nobody can ever read it, and the reporter was promised an answer")
