"""Deadline profiles: when a case must be acknowledged and when feedback is due.

A profile is a named object; the plugin system will let organisations add their own. The EU
Whistleblowing Directive (2019/1937, Art. 9) profile ships here: acknowledge within 7 days of
receipt, feedback within 3 months of acknowledgement (or of day 7 if never acknowledged).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta


def add_months(day: date, months: int) -> date:
    """`day` plus whole calendar months, clamped to the month's last day (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class DeadlineProfile:
    name: str
    ack_days: int
    feedback_months: int

    def ack_due(self, opened_on: date) -> date:
        return opened_on + timedelta(days=self.ack_days)

    def feedback_due(self, opened_on: date, acknowledged_on: date | None) -> date:
        start = acknowledged_on or self.ack_due(opened_on)
        return add_months(start, self.feedback_months)


EU_DIRECTIVE = DeadlineProfile(name="eu_directive", ack_days=7, feedback_months=3)
PROFILES = {EU_DIRECTIVE.name: EU_DIRECTIVE}


def profile_named(name: str, profiles=None) -> DeadlineProfile:
    """The named profile, from `profiles` (the app's registry: core's and the enabled plugins')
    or core's own; unknown names fall back to the EU one, the legal minimum."""
    return (PROFILES if profiles is None else profiles).get(name, EU_DIRECTIVE)


def registry_of(offered) -> dict:
    """Core's profiles plus those `whistle_deadline_profiles` offered (a list per plugin; the
    last plugin to offer a name wins). Anything without a name, ack_due and feedback_due is
    skipped."""
    profiles = dict(PROFILES)
    for result in offered:
        for profile in result if isinstance(result, (list, tuple)) else ():
            if isinstance(getattr(profile, "name", None), str) and callable(getattr(profile, "ack_due", None)) \
                    and callable(getattr(profile, "feedback_due", None)):
                profiles[profile.name] = profile
    return profiles
