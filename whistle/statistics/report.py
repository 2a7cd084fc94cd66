"""The statistics as a page shows them: sections with a heading, a chart and the same numbers in words."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from babel.dates import format_date
from markupsafe import Markup

from whistle.hooks.types import StatisticsFigure
from whistle.i18n import DEFAULT, _, current_language, plural
from whistle.intake_channels.models import Channel
from whistle.statistics.charts import SUPPRESSED, bar_chart
from whistle.statistics.services import RARE_LABELS
from whistle.words import STATUS_LABELS, SUBSTANTIATED_LABELS, number_words

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December")

IDENTITY_WORDS = {"anonymous": _("Anonymous"), "confidential": _("Confidential (guardians know who they are)"),
                  "open": _("Open (happy to be known)"), "not_recorded": _("Not recorded")}
# The closing record's "substantiated?" as an outcome reads on its own ("Yes" would not).
OUTCOME_WORDS = {"yes": _("Substantiated"), "partly": _("Partly substantiated"), "no": _("Not substantiated"),
                 "not_determined": SUBSTANTIATED_LABELS["not_determined"], "withdrawn": _("Withdrawn by the reporter"),
                 "not_recorded": _("Not recorded")}
ANSWER_WORDS = {"yes": _("Yes"), "no": _("No"), "not_sure": _("Not sure"), "no_answer": _("Not answered")}
DETRIMENT_WORDS = {"reported": _("Detriment reported"), "not_reported": _("No detriment reported")}

# (measure, heading, what the figures count): the sections, in the page's order.
SECTIONS = (
    ("cases_by_month", _("Cases by month opened"), _("Cases opened in each month.")),
    ("cases_by_channel", _("Cases by channel"), _("Where the reports came in.")),
    ("cases_by_status", _("Cases by status"), _("Where each case is now.")),
    ("cases_by_label", _("Cases by label"), _("Triage labels; a case may carry several, or none.")),
    ("cases_by_identity_mode", _("How reporters chose to be known"), _("The choice made when reporting.")),
    ("detriment", _("Detriment reports"), _("Reporters who said they suffered detriment for speaking up.")),
    ("outcomes", _("Outcomes of closed cases"), _("Whether the concern was substantiated, or withdrawn.")),
    ("speak_up_again", _("Would you speak up again?"), _("The reporters' answers, asked at closure.")),
)
# The single figures, in the summary's order: (measure, words, unit).
SUMMARY = (
    ("cases", _("Cases opened"), ""),
    ("median_days_to_acknowledge", _("Median days to acknowledge"), " days"),
    ("acknowledged_within_7_days", _("Acknowledged within 7 days"), "%"),
    ("median_days_to_feedback", _("Median days from the report to feedback"), " days"),
    ("feedback_within_3_months", _("Given feedback within 3 months of acknowledgement"), "%"),
    ("share_anonymous", _("Reported anonymously"), "%"),
    ("share_would_speak_up_again", _("Would speak up again (of those who answered)"), "%"),
)


@dataclass(frozen=True)
class Section:
    id: str
    heading: str
    explanation: str
    chart: Markup
    rows: list[tuple[str, str]]  # (words, the number or "suppressed")


def month_words(month: date) -> str:
    """"April 2026", in the page's language ("Ebrill 2026")."""
    language = current_language()
    if language.code != DEFAULT:
        return format_date(month, format="LLLL y", locale=language.formats)
    return f"{_MONTHS[month.month - 1]} {month.year}"


def shown(value: float | None, unit: str = "") -> str:
    """The number as the page shows it; SUPPRESSED (which the page shows in its language) for none."""
    if value is None:
        return SUPPRESSED
    text = number_words(value)
    if unit == " days":
        # A fraction of days takes the form of many (100 is "many" or "other" in every language here).
        return plural("${number} day", "${number} days", int(value) if float(value).is_integer() else 100,
                      {"number": text})
    return text + unit


def group_words(measure: str, group: str, channels: dict[str, str]) -> str:
    """A figure's group in words people read."""
    if measure == "cases_by_channel":
        return channels.get(group, group)
    if measure == "cases_by_label" and group == RARE_LABELS:
        return _("Other labels, each on fewer than 5 cases")
    if measure == "cases_by_status":
        return STATUS_LABELS.get(group, group)
    if measure == "cases_by_month":
        year, month = group.split("-")
        return month_words(date(int(year), int(month), 1))
    return {"cases_by_identity_mode": IDENTITY_WORDS, "outcomes": OUTCOME_WORDS, "speak_up_again": ANSWER_WORDS,
            "detriment": DETRIMENT_WORDS}.get(measure, {}).get(group, group)


def sections(figures: list[StatisticsFigure], channels: list[Channel]) -> list[Section]:
    titles = {channel.slug: channel.title for channel in channels}
    result = []
    for measure, heading, explanation in SECTIONS:
        rows = [(group_words(measure, f.group, titles), f.value) for f in figures if f.measure == measure]
        result.append(Section(measure.replace("_", "-"), heading, explanation,
                              bar_chart(f"chart-{measure.replace('_', '-')}", heading, rows),
                              [(words, shown(value)) for words, value in rows]))
    return result


def summary(figures: list[StatisticsFigure]) -> list[tuple[str, str]]:
    values = {f.measure: f.value for f in figures if f.group == "all"}
    return [(words, shown(values.get(measure), unit)) for measure, words, unit in SUMMARY]
