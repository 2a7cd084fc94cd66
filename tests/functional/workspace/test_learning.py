"""Learning: the search of a guardian's closed cases' closing records (metadata filters on the
server; words decrypted on the server only for a session holding a key), the outcome envelopes a
device searches (only the closed cases granted to the caller, only their outcome items), and the
learning report (themes across every closed case, counts under 5 suppressed)."""
from __future__ import annotations

import base64
import json
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.factories import api_login, device_login, holder_keys, html_login, make_channel, make_staff, submit_api
from tests.functional.workspace.conftest import events
from whistle import crypto
from whistle.cases.models import ITEM_OUTCOME, Case
from whistle.cases.services import sealed_author
from whistle.deadlines import add_months
from whistle.words import day_words


def close(testapp, headers, *, channel="staff", text="Something is wrong.", factors=(), changes=("none",),
          substantiated="yes", learned="Nothing to learn.", changed="", labels=()) -> str:
    """A case sent on `channel`, then closed by the holder of `headers` with that closing record."""
    ref = submit_api(testapp, channel=channel, text=text)["case"]
    for to in ("acknowledged", "assessing"):
        testapp.post_json(f"/api/v1/cases/{ref}/transitions", {"to": to}, headers=headers)
    if labels:
        testapp.post_json(f"/api/v1/cases/{ref}/triage", {"add_labels": list(labels)}, headers=headers)
    testapp.post_json(f"/api/v1/cases/{ref}/transitions",
                      {"to": "closed", "substantiated": substantiated, "changes": list(changes),
                       "factors": list(factors), "learned": learned, "changed": changed}, headers=headers)
    return ref


@pytest.fixture
def other(dbsession, settings, clock, channel):
    """Another guardian, on a channel of their own ("ideas"), who does not hold the guardian's cases."""
    make_channel(dbsession, "ideas", title="Ideas for improvement")
    return make_staff(dbsession, settings, clock, "other", channels=["ideas"])


@pytest.fixture
def closed(testapp, clock, guardian, other, headers):
    """Three closed cases of the guardian's, one of the other guardian's, one open case of the guardian's."""
    refs = {
        "rota": close(testapp, headers, factors=["staffing_workload", "communication"], changes=["staffing"],
                      substantiated="yes", learned="Night rotas were left to one nurse.",
                      changed="A second nurse on every night shift.", labels=["nights"]),
        "records": close(testapp, headers, factors=["record_keeping"], changes=["process"], substantiated="partly",
                         learned="Handover notes were missing."),
        "none": close(testapp, headers, substantiated="no", learned="The concern was a misunderstanding."),
    }
    clock.advance(timedelta(days=1))
    theirs = api_login(testapp, other, clock)
    refs["theirs"] = close(testapp, theirs, channel="ideas", factors=["staffing_workload"], changes=["staffing"],
                           learned="Night rotas again, on their side.")
    refs["open"] = submit_api(testapp, text="Night rotas, still open.")["case"]
    return refs


def shown(page) -> list[str]:
    return [row["data-case"] for row in page.html.select(".learning-case")]


def test_the_search_lists_only_my_closed_cases_and_filters_them_by_metadata(testapp, guardian, clock, closed):
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/learning")
    assert sorted(shown(page)) == sorted([closed["rota"], closed["records"], closed["none"]])
    assert closed["theirs"] not in page.text and closed["open"] not in page.text
    assert shown(testapp.get("/staff/learning", {"factors": "communication"})) == [closed["rota"]]
    both = testapp.get("/staff/learning?factors=communication&factors=record_keeping")
    assert sorted(shown(both)) == sorted([closed["rota"], closed["records"]])
    assert shown(testapp.get("/staff/learning", {"changes": "process"})) == [closed["records"]]
    assert shown(testapp.get("/staff/learning", {"substantiated": "no"})) == [closed["none"]]
    assert shown(testapp.get("/staff/learning", {"channel": "ideas"})) == []
    today = clock.today()
    assert shown(testapp.get("/staff/learning", {"from": today.isoformat()})) == []
    assert len(shown(testapp.get("/staff/learning", {"to": today.isoformat()}))) == 3


def test_server_assisted_the_words_are_decrypted_searched_and_audited(testapp, dbsession, guardian, clock, closed):
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/learning")
    rota = page.html.select_one(f'.learning-case[data-case="{closed["rota"]}"]')
    assert "Night rotas were left to one nurse." in rota.select_one(".learned").text
    assert "A second nurse on every night shift." in rota.select_one(".changed").text
    assert "Staffing and workload, Communication" in rota.text and "nights" in rota.text
    # Words in what was learned, or in what changed, ignoring case: posted, so they are in no address.
    form = page.forms["learning-filters"]
    assert form.method.lower() == "post"
    form["q"] = "HANDOVER"
    assert shown(form.submit()) == [closed["records"]]
    form["q"] = "second nurse"
    assert shown(form.submit()) == [closed["rota"]]
    form["q"] = "night rotas"
    form["substantiated"] = "no"
    assert shown(form.submit()) == []
    # Words in the address are not taken.
    assert len(shown(testapp.get("/staff/learning", {"q": "handover"}))) == 3
    # Without the form's token nothing is searched.
    testapp.post("/staff/learning", {"q": "handover"}, status=400)
    read = {e.case_id for e in events(dbsession, "case.closing_record_read")}
    cases = {name: dbsession.scalars(select(Case.id).where(Case.ref == ref)).one() for name, ref in closed.items()}
    assert read == {cases["rota"], cases["records"], cases["none"]}


def test_a_faulty_filter_is_named_and_the_page_still_answers(testapp, guardian, clock, closed):
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/learning?factors=weather&factors=communication&from=2026-13-01&substantiated=maybe",
                       status=422)
    summary = page.html.select_one(".error-summary").text
    assert "Contributory factors: tick only factors from the list." in summary
    assert "Closed from" in summary and "Substantiated" in summary
    # What was typed and ticked is kept; the filters that could be read still apply.
    assert page.html.select_one("#learning-from")["value"] == "2026-13-01"
    assert page.html.select_one("input[name=factors][value=communication]").has_attr("checked")
    assert shown(page) == [closed["rota"]]
    backwards = testapp.get("/staff/learning", {"from": "2026-02-01", "to": "2026-01-01"}, status=422)
    assert "Closed up to" in backwards.html.select_one(".error-summary").text


def test_a_device_session_never_has_words_searched_or_decrypted_on_the_server(testapp, dbsession, settings, clock,
                                                                             guardian, closed):
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get("/staff/learning", {"q": "handover"})
    # The words are ignored: every closed case is listed, none decrypted, and the page's own box has no name.
    assert sorted(shown(page)) == sorted([closed["rota"], closed["records"], closed["none"]])
    assert "Handover notes" not in page.text and "handover" not in page.text.lower().replace("handover notes", "")
    assert page.html.select("[data-learning-record]")
    box = page.html.select_one("#learning-device-q")
    assert box is not None and not box.has_attr("name")
    assert page.html.select_one("input[name=q]") is None
    assert "learning.js" in page.text
    assert not events(dbsession, "case.closing_record_read")


def _outcomes(testapp, headers, **params):
    return testapp.get("/api/v1/learning/outcomes", params, headers=headers).json


def test_the_outcome_envelopes_hold_only_my_closed_cases_outcome_items(testapp, dbsession, settings, clock,
                                                                        guardian, closed):
    token = device_login(testapp, dbsession, settings, clock, guardian)
    bearer = {"Authorization": f"Bearer {token}"}
    answer = _outcomes(testapp, bearer)
    assert sorted(entry["case"] for entry in answer["cases"]) == sorted(
        [closed["rota"], closed["records"], closed["none"]])
    for entry in answer["cases"]:
        assert [item["kind"] for item in entry["items"]] == [ITEM_OUTCOME]
    # The filters are the page's, metadata only.
    assert [entry["case"] for entry in _outcomes(testapp, bearer, factors="record_keeping")["cases"]] == [
        closed["records"]]
    # What it holds is what the guardian's own key opens: the closing record, as the device reads it.
    entry = next(entry for entry in answer["cases"] if entry["case"] == closed["rota"])
    case = dbsession.scalars(select(Case).where(Case.ref == closed["rota"])).one()
    keys = holder_keys(dbsession, case)
    item = entry["items"][0]
    record = json.loads(crypto.decrypt_item(keys.team, base64.b64decode(item["ciphertext"]), case=entry["case"],
                                            kind=ITEM_OUTCOME, author=item["author"]))
    assert record["learned"] == "Night rotas were left to one nurse."
    assert item["author"] == sealed_author("guardian", guardian.account.id)
    assert entry["factors"] == ["staffing_workload", "communication"]
    # The cookie twin, for the page's script, answers the same.
    assert testapp.get("/staff/learning/outcomes").json["cases"] == answer["cases"]
    # Reading them is audited, per case.
    assert len(events(dbsession, "case.closing_record_read")) == 3 + 1 + 3


def test_another_guardian_never_gets_my_cases_outcomes(testapp, clock, other, closed):
    theirs = api_login(testapp, other, clock)
    assert [entry["case"] for entry in _outcomes(testapp, theirs)["cases"]] == [closed["theirs"]]


def test_the_outcome_envelopes_refuse_a_faulty_filter_naming_it(testapp, clock, guardian, closed):
    headers = api_login(testapp, guardian, clock)
    answer = testapp.get("/api/v1/learning/outcomes", {"changes": "weather"}, headers=headers, status=422).json
    assert [e["field"] for e in answer["errors"]] == ["changes"]


def test_the_outcome_envelopes_need_a_guardian(testapp, dbsession, settings, clock, admin, closed):
    testapp.get("/api/v1/learning/outcomes", status=401)
    admin_headers = api_login(testapp, admin, clock)
    testapp.get("/api/v1/learning/outcomes", headers=admin_headers, status=403)


# --- the learning report ---


def _table(page, caption: str) -> list[tuple[str, str]]:
    table = next(t for t in page.html.select("table.themes") if t.caption.text.strip() == caption)
    return [(row.th.text.strip(), row.td.text.strip()) for row in table.select("tbody tr") if row.th]


def test_the_report_counts_every_closed_case_of_the_period_and_hides_counts_under_5(testapp, dbsession, clock,
                                                                                    guardian, other, headers):
    for _ in range(6):
        close(testapp, headers, factors=["communication", "record_keeping"], changes=["training"], labels=["nights"])
    for _ in range(2):
        close(testapp, headers, factors=["staffing_workload"], changes=["staffing"], substantiated="no",
              labels=["dr-initials"])
    theirs = api_login(testapp, other, clock)
    close(testapp, theirs, channel="ideas", factors=["communication"], changes=["training"])
    submit_api(testapp, text="Still open, not counted.")
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/learning/report")
    assert "9 cases closed in this period" in page.text
    factors = _table(page, "Contributory factors")
    # By count, largest first; 1 to 4 as "fewer than 5" after them (alphabetically); then the zeros.
    assert factors[:3] == [("Communication", "7"), ("Record keeping", "6"), ("Staffing and workload", "fewer than 5")]
    assert all(count == "0" for _, count in factors[3:])
    assert _table(page, "What changed")[:2] == [("Training", "7"), ("Staffing", "fewer than 5")]
    # These add up to the 9 cases: the small count is suppressed with the next smallest, and both
    # read the same (9 - 7 would give the 2 back).
    assert _table(page, "Substantiated")[:2] == [("No", "suppressed"), ("Yes", "suppressed")]
    assert _table(page, "By channel") == [("Ideas for improvement", "suppressed"), ("Raise a concern", "suppressed")]
    # A label on fewer than 5 cases is not named: a guardian's own word could point at a case.
    assert _table(page, "By label") == [("nights", "6")]
    themes = page.html.select_one("section[aria-labelledby=themes-title]").text
    assert "dr-initials" not in themes and "Labels on fewer than 5 of these cases are not named." in themes
    for count in ("1", "2", "3", "4"):
        assert all(shown != count for table in ("Contributory factors", "What changed", "Substantiated",
                                               "By channel", "By label") for _, shown in _table(page, table))
    # What was learned: the guardian's own cases only, decrypted for this server-assisted sign-in.
    assert len(page.html.select(".learning-case")) == 8
    assert "Nothing to learn." in page.html.select_one(".learning-case .learned").text
    assert "no-print" in page.html.select_one("form.filters")["class"]


def test_the_report_takes_a_period_and_names_a_faulty_one(testapp, clock, guardian, headers):
    close(testapp, headers, factors=["communication"])
    html_login(testapp, guardian, clock)
    today = clock.today()
    next_month = add_months(today.replace(day=1), 1)
    later = testapp.get("/staff/learning/report", {"from": next_month.isoformat()})
    assert "0 cases closed in this period" in later.text and not later.html.select(".learning-case")
    # A period of one day is counted over its whole month, as the statistics count: two reports a
    # day apart cannot be compared to give one day's closures.
    now = testapp.get("/staff/learning/report", {"from": today.isoformat(), "to": today.isoformat()})
    assert "Fewer than 5 cases closed in this period" in now.text
    assert f"Cases closed from {day_words(today.replace(day=1))} to {day_words(next_month - timedelta(days=1))}" \
        in now.text
    refused = testapp.get("/staff/learning/report", {"from": "yesterday"}, status=422)
    assert "Closed from" in refused.html.select_one(".error-summary").text


def test_the_report_in_device_mode_counts_on_the_server_and_leaves_the_words_to_the_device(
        testapp, dbsession, settings, clock, guardian, headers):
    close(testapp, headers, factors=["communication"], learned="Kept on the device.")
    device_login(testapp, dbsession, settings, clock, guardian)
    page = testapp.get("/staff/learning/report")
    assert _table(page, "Contributory factors")[0] == ("Communication", "fewer than 5")
    assert "Kept on the device." not in page.text
    slot = page.html.select_one("[data-learning-record]")
    assert "needs JavaScript" in slot.text
    assert not events(dbsession, "case.closing_record_read")


# The report's tables that add up to the cases closed (by channel, the answers to "substantiated"):
# a count under 5 in one of them cannot be worked out by subtracting the shown ones from the total.
def _worked_out(total: int, rows: list[tuple[str, str]]) -> int | None:
    """What subtraction gives for the one row not shown as a number, if exactly one is not."""
    hidden = [count for _, count in rows if not count.isdigit()]
    if len(hidden) != 1:
        return None
    return total - sum(int(count) for _, count in rows if count.isdigit())


def test_a_small_count_in_a_table_that_adds_up_to_the_total_is_not_given_back(testapp, clock, guardian, other,
                                                                              headers):
    for _ in range(8):
        close(testapp, headers)
    close(testapp, headers, substantiated="no")
    close(testapp, api_login(testapp, other, clock), channel="ideas")
    html_login(testapp, guardian, clock)
    page = testapp.get("/staff/learning/report")
    total = int(re.search(r"(\d+) cases closed in this period", page.text).group(1))
    assert total == 10
    for caption in ("By channel", "Substantiated"):
        rows = _table(page, caption)
        worked_out = _worked_out(total, rows)
        assert worked_out is None or not 0 < worked_out < 5, f"{caption}: {rows} give {worked_out} back"
