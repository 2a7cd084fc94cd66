"""The Freedom to Speak Up quarterly return (National Guardian's Office), as CSV from metadata.

The download on the admin statistics page is built from whistle's statistics
(`build_from_statistics`): the same counts as the statistics page, for every channel, with the
same suppression (a count from 1 to 4, and what would give it back, is an empty cell). `build`
counts a list of `CaseInfo` itself, unsuppressed, for a caller that holds one. Never from
content. Guardians record what the return needs as labels while handling a case; the
conventions are below and in README.md. A case counts in a quarter if it was opened in it (start
and end both inclusive).

Labels read:
    anonymous                     the reporter stayed anonymous (identity mode is not in CaseInfo)
    patient-safety                an element of patient safety or quality
    worker-safety                 an element of worker safety or wellbeing
    bullying-harassment           an element of bullying or harassment
    inappropriate-behaviour       an element of inappropriate attitudes or behaviours
    detriment                     the reporter suffered detriment for speaking up (or CaseInfo.detriment)
    group-<name>                  the reporter's professional group (one per case)
    speak-up-again-yes|no|maybe   their answer to "given your experience, would you speak up again?"
                                  (`build` only: the statistics use the answer the reporter gave
                                  in their mailbox at closure, case.speak_up_again)
"""
from __future__ import annotations

import csv
import io
from datetime import date

from whistle import hookimpl
from whistle.hooks.types import CaseInfo, StatisticsExport, StatisticsFigure
from whistle.i18n import _

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


def _as_csv(result: list[tuple[str, str | int]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")  # RFC 4180, what spreadsheets expect
    writer.writerow(("measure", "value"))
    writer.writerows(result)
    return out.getvalue().encode()


def build(cases: list[CaseInfo], start: date, end: date) -> bytes:
    return _as_csv(rows(cases, start, end))


# The reporter's answer at closure, as whistle records it, and as the return names it.
ANSWERS = (("yes", "yes"), ("no", "no"), ("not_sure", "maybe"))
SUPPRESSED = ""


def rows_from_statistics(figures: list[StatisticsFigure], start: date, end: date) -> list[tuple[str, str | int]]:
    """The return as (measure, value) pairs, from whistle's statistics of the quarter (already
    suppressed: a suppressed figure is an empty value). Anonymous is the identity mode the
    reporter chose; detriment is the case's flag; the elements and professional groups are
    label counts (a case with two group labels counts in both); the answers are the reporters'
    own, given in their mailbox at closure."""
    values = {(figure.measure, figure.group): figure.value for figure in figures}

    def value(measure: str, group: str = "all") -> str | int:
        found = values.get((measure, group), 0)  # a label no case carries has no figure: 0
        return SUPPRESSED if found is None else int(found)

    result: list[tuple[str, str | int]] = [
        ("period_start", start.isoformat()),
        ("period_end", end.isoformat()),
        ("cases_raised", value("cases")),
        ("anonymous", value("cases_by_identity_mode", "anonymous")),
    ]
    result += [(measure, value("cases_by_label", label)) for measure, label in ELEMENTS]
    result.append(("detriment", value("detriment", "reported")))
    labels = {group for measure, group in values if measure == "cases_by_label"}
    others = sorted(label[len(GROUP_PREFIX):] for label in labels if label.startswith(GROUP_PREFIX)
                    and label[len(GROUP_PREFIX):] not in PROFESSIONAL_GROUPS)
    result += [(f"professional_group:{name}", value("cases_by_label", GROUP_PREFIX + name))
               for name in (*PROFESSIONAL_GROUPS, *others)]
    answers = [(name, value("speak_up_again", answer)) for answer, name in ANSWERS]
    # The sum of the answers only when each is shown: a total beside a suppressed one would give it back.
    shown = [int(count) for _name, count in answers if count != SUPPRESSED]
    responses: str | int = sum(shown) if len(shown) == len(answers) else SUPPRESSED
    result.append(("feedback_responses", responses))
    result += [(f"speak_up_again:{name}", count) for name, count in answers]
    result.append(("speak_up_again:share_yes_percent", value("share_would_speak_up_again")))
    return result


def build_from_statistics(figures: list[StatisticsFigure], start: date, end: date) -> bytes:
    return _as_csv(rows_from_statistics(figures, start, end))


FTSU_QUARTERLY = StatisticsExport(
    name="ftsu-quarterly",
    title=_("Freedom to Speak Up quarterly return (National Guardian's Office)"),
    media_type="text/csv",
    build=build,
    build_from_statistics=build_from_statistics,
)


@hookimpl
def whistle_statistics_exports() -> list[StatisticsExport]:
    return [FTSU_QUARTERLY]
