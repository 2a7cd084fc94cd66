"""The Freedom to Speak Up quarterly return (National Guardian's Office), as CSV from metadata.

Built from `CaseInfo` alone (labels, dates, the detriment flag): never from content. Guardians
record what the return needs as labels while handling a case; the conventions are below and in
README.md. A case counts in a quarter if it was opened in it (start and end both inclusive).

Labels read:
    anonymous                     the reporter stayed anonymous (identity mode is not in CaseInfo)
    patient-safety                an element of patient safety or quality
    worker-safety                 an element of worker safety or wellbeing
    bullying-harassment           an element of bullying or harassment
    inappropriate-behaviour       an element of inappropriate attitudes or behaviours
    detriment                     the reporter suffered detriment for speaking up (or CaseInfo.detriment)
    group-<name>                  the reporter's professional group (one per case)
    speak-up-again-yes|no|maybe   their answer to "given your experience, would you speak up again?"
"""
from __future__ import annotations

import csv
import io
from datetime import date

from whistle import hookimpl
from whistle.hooks.types import CaseInfo, StatisticsExport

ELEMENTS = (
    ("patient_safety", "patient-safety"),
    ("worker_safety", "worker-safety"),
    ("bullying_harassment", "bullying-harassment"),
    ("inappropriate_behaviour", "inappropriate-behaviour"),
)

# The NGO's professional groups, as label suffixes; always listed (with 0) so that quarters
# line up. A case may carry another group-<name> label: it gets a row of its own.
PROFESSIONAL_GROUPS = (
    "allied-health-professionals", "medical-dental", "registered-nurses-midwives",
    "nursing-healthcare-assistants", "additional-professional-scientific-technical",
    "additional-clinical-services", "administrative-clerical", "corporate-services",
    "estates-ancillary", "students", "other",
)
GROUP_PREFIX = "group-"
FEEDBACK = ("yes", "no", "maybe")
FEEDBACK_PREFIX = "speak-up-again-"


def financial_quarter(year: int, quarter: int) -> tuple[date, date]:
    """The NHS financial year's quarter: Q1 of 2026/27 is 1 April to 30 June 2026."""
    if quarter not in (1, 2, 3, 4):
        raise ValueError("quarter must be 1, 2, 3 or 4")
    starts = [date(year, 4, 1), date(year, 7, 1), date(year, 10, 1), date(year + 1, 1, 1)]
    ends = [date(year, 6, 30), date(year, 9, 30), date(year, 12, 31), date(year + 1, 3, 31)]
    return starts[quarter - 1], ends[quarter - 1]


def rows(cases: list[CaseInfo], start: date, end: date) -> list[tuple[str, str | int]]:
    """The return as (measure, value) pairs."""
    in_quarter = [case for case in cases if start <= case.opened_on <= end]
    labelled = [set(case.labels) for case in in_quarter]

    def count(label: str) -> int:
        return sum(label in labels for labels in labelled)

    result: list[tuple[str, str | int]] = [
        ("period_start", start.isoformat()),
        ("period_end", end.isoformat()),
        ("cases_raised", len(in_quarter)),
        ("anonymous", count("anonymous")),
    ]
    result += [(measure, count(label)) for measure, label in ELEMENTS]
    result.append(("detriment", sum(case.detriment or "detriment" in labels
                                    for case, labels in zip(in_quarter, labelled, strict=True))))

    groups = dict.fromkeys(PROFESSIONAL_GROUPS, 0)
    not_known = 0
    for labels in labelled:
        found = sorted(label[len(GROUP_PREFIX):] for label in labels if label.startswith(GROUP_PREFIX))
        if not found:
            not_known += 1
            continue
        # One group per case: if a guardian added two, the first by name counts, so totals add up.
        groups[found[0]] = groups.get(found[0], 0) + 1
    named = list(PROFESSIONAL_GROUPS) + sorted(set(groups) - set(PROFESSIONAL_GROUPS))
    result += [(f"professional_group:{name}", groups[name]) for name in named]
    result.append(("professional_group:not-known", not_known))

    answers = {answer: count(FEEDBACK_PREFIX + answer) for answer in FEEDBACK}
    result.append(("feedback_responses", sum(answers.values())))
    result += [(f"speak_up_again:{answer}", total) for answer, total in answers.items()]
    return result


def build(cases: list[CaseInfo], start: date, end: date) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
    writer.writerow(("measure", "value"))
    writer.writerows(rows(cases, start, end))
    return out.getvalue().encode()


FTSU_QUARTERLY = StatisticsExport(
    name="ftsu-quarterly",
    title="Freedom to Speak Up quarterly return (National Guardian's Office)",
    media_type="text/csv",
    build=build,
)


@hookimpl
def whistle_statistics_exports() -> list[StatisticsExport]:
    return [FTSU_QUARTERLY]
