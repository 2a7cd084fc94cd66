"""The FTSU quarterly return: counts from labels and dates, for the cases opened in the quarter;
from a list of CaseInfo, and from whistle's statistics (suppressed)."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest

from whistle.hooks import Hooks
from whistle.hooks.types import CaseInfo, StatisticsFigure
from whistle_ftsu_return import build, build_from_statistics, financial_quarter

Q1_START, Q1_END = financial_quarter(2026, 1)


def case(number: int, opened_on: date, *labels: str, detriment: bool = False) -> CaseInfo:
    return CaseInfo(id=number, ref=f"REF{number:02d}-SECRET", channel="staff", status="closed", priority="normal",
                    labels=labels, opened_on=opened_on, acknowledged_on=None, ack_due=opened_on,
                    feedback_due=opened_on, detriment=detriment)


CASES = [
    case(1, date(2026, 4, 1), "anonymous", "patient-safety", "group-registered-nurses-midwives", "speak-up-again-yes"),
    case(2, date(2026, 5, 15), "bullying-harassment", "inappropriate-behaviour", "group-medical-dental",
         detriment=True),
    case(3, date(2026, 6, 30), "anonymous", "worker-safety", "detriment", "speak-up-again-maybe"),
    case(4, date(2026, 6, 2), "patient-safety", "detriment", "group-porters", "group-estates-ancillary",
         "speak-up-again-no", detriment=True),
    case(5, date(2026, 3, 31), "anonymous", "patient-safety", "group-students"),  # Q4 of 2025/26
    case(6, date(2026, 7, 1), "anonymous", "bullying-harassment"),  # Q2
]


def as_dict(csv_bytes: bytes) -> dict[str, str]:
    reader = csv.reader(io.StringIO(csv_bytes.decode()))
    assert next(reader) == ["measure", "value"]
    return dict(reader)


def test_financial_quarters():
    assert financial_quarter(2026, 1) == (date(2026, 4, 1), date(2026, 6, 30))
    assert financial_quarter(2026, 4) == (date(2027, 1, 1), date(2027, 3, 31))
    with pytest.raises(ValueError, match="quarter must be 1, 2, 3 or 4"):
        financial_quarter(2026, 5)


def test_the_quarterly_return():
    result = as_dict(build(CASES, Q1_START, Q1_END))
    assert result == {
        "period_start": "2026-04-01", "period_end": "2026-06-30",
        "cases_raised": "4",  # 1 April and 30 June count; 31 March and 1 July do not
        "anonymous": "2",
        "patient_safety": "2", "worker_safety": "1", "bullying_harassment": "1", "inappropriate_behaviour": "1",
        "detriment": "3",  # by flag, by label, or both: once per case
        "professional_group:allied-health-professionals": "0",
        "professional_group:medical-dental": "1",
        "professional_group:registered-nurses-midwives": "1",
        "professional_group:nursing-healthcare-assistants": "0",
        "professional_group:additional-professional-scientific-technical": "0",
        "professional_group:additional-clinical-services": "0",
        "professional_group:administrative-clerical": "0",
        "professional_group:corporate-services": "0",
        "professional_group:estates-ancillary": "1",  # case 4 has two group labels: counted once
        "professional_group:students": "0",
        "professional_group:other": "0",
        "professional_group:not-known": "1",
        "feedback_responses": "3",
        "speak_up_again:yes": "1", "speak_up_again:no": "1", "speak_up_again:maybe": "1",
    }


def test_a_group_outside_the_standard_list_gets_its_own_row():
    result = as_dict(build([case(7, date(2026, 4, 2), "group-porters")], Q1_START, Q1_END))
    assert result["professional_group:porters"] == "1"
    assert result["professional_group:not-known"] == "0"


def test_the_return_is_metadata_only_and_the_hook_offers_it():
    ((export,),) = Hooks.from_names(["ftsu_return"]).call("whistle_statistics_exports")
    assert (export.name, export.media_type) == ("ftsu-quarterly", "text/csv")
    output = export.build(CASES, Q1_START, Q1_END)
    assert b"SECRET" not in output and b"staff" not in output
    assert output.startswith(b"measure,value\r\nperiod_start,2026-04-01\r\n")


def test_an_empty_quarter_is_all_zeros():
    result = as_dict(build([], Q1_START, Q1_END))
    assert result["cases_raised"] == "0" and result["feedback_responses"] == "0"
    assert {value for key, value in result.items() if not key.startswith("period_")} == {"0"}


# --- the return drawn from whistle's statistics (the admin page's download) ---

def figure(measure: str, group: str, value):
    return StatisticsFigure(measure, group, value)


FIGURES = [
    figure("cases", "all", 40),
    figure("cases_by_identity_mode", "anonymous", 12), figure("cases_by_identity_mode", "open", None),
    figure("cases_by_label", "patient-safety", 9), figure("cases_by_label", "worker-safety", None),
    figure("cases_by_label", "group-medical-dental", 6), figure("cases_by_label", "group-porters", 7),
    figure("cases_by_label", "group-students", None),
    figure("detriment", "reported", 5),
    figure("speak_up_again", "yes", 10), figure("speak_up_again", "no", 6), figure("speak_up_again", "not_sure", 0),
    figure("speak_up_again", "no_answer", 24),
    figure("share_would_speak_up_again", "all", 63),
]


def test_the_return_from_statistics_takes_their_counts_and_their_suppression():
    result = as_dict(build_from_statistics(FIGURES, Q1_START, Q1_END))
    assert result["cases_raised"] == "40" and result["anonymous"] == "12" and result["detriment"] == "5"
    assert result["patient_safety"] == "9"
    assert result["worker_safety"] == ""  # suppressed in the statistics: suppressed here
    assert result["bullying_harassment"] == "0"  # no case carries the label
    assert result["professional_group:medical-dental"] == "6" and result["professional_group:porters"] == "7"
    assert result["professional_group:students"] == "" and result["professional_group:other"] == "0"
    assert "professional_group:not-known" not in result  # it would be a subtraction
    assert (result["speak_up_again:yes"], result["speak_up_again:no"], result["speak_up_again:maybe"]) == ("10", "6",
                                                                                                          "0")
    assert result["feedback_responses"] == "16" and result["speak_up_again:share_yes_percent"] == "63"


def test_the_responses_are_not_summed_past_a_suppressed_answer():
    figures = [f if f.group != "no" else figure("speak_up_again", "no", None) for f in FIGURES]
    result = as_dict(build_from_statistics(figures, Q1_START, Q1_END))
    assert result["speak_up_again:no"] == "" and result["feedback_responses"] == ""


def test_the_hook_offers_the_return_built_from_statistics():
    ((export,),) = Hooks.from_names(["ftsu_return"]).call("whistle_statistics_exports")
    assert export.build_from_statistics is build_from_statistics
