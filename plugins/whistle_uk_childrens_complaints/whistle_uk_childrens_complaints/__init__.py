"""UK children's complaints: Children Act 1989 timescales in working days, and urgent-risk triage.

Three parts, each a hook:

- `whistle_deadline_profiles` offers `uk_childrens_complaints`, a profile that counts working
  days on the England and Wales calendar (weekends and bank holidays skipped). The statutory
  procedure (Children Act 1989 Representations Procedure (England) Regulations 2006) has
  stage 1, local resolution, 10 working days, extendable to 20; and stage 2, investigation,
  25 working days, extendable to 65. Core knows two dates per case, so: ack_due is the stage 1
  response date (10 working days after receipt) and feedback_due is the stage 2 date
  (25 working days after acknowledgement, or after ack_due if never acknowledged).
- `whistle_triage` (plaintext) labels a disclosure on the young people's channel "urgent-risk"
  with priority "urgent" when its words signal immediate risk to a child.
- `whistle_escalate_on_event`, on "opened" for such a case, grants it to the channel's
  safeguarding lead — the channel's second-tier guardians — and notifies them and the case's
  guardians at once; the tick delivers the notice within minutes (within the hour even with
  per-guardian batching at its longest sensible setting).
- `whistle_escalate_on_schedule` reminds two working days before each stage's deadline and, on
  the first day past it, escalates to the second tier like a breach under the EU profile.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from whistle import hookimpl
from whistle.hooks.types import Action, CaseInfo, Disclosure, Triage
from whistle_uk_childrens_complaints.working_days import add_working_days, subtract_working_days

CHANNEL = "young-peoples-voice"
URGENT_LABEL = "urgent-risk"
SAFEGUARDING_RULE = "uk.safeguarding-lead"

# Working days per stage: (standard, extended).
STAGE_DAYS = {1: (10, 20), 2: (25, 65)}


@dataclass(frozen=True)
class WorkingDayProfile:
    """A deadline profile with the same interface as `whistle.deadlines.DeadlineProfile`."""

    name: str = "uk_childrens_complaints"

    def stage_deadline(self, start: date, stage: int, extended: bool = False) -> date:
        """The last day to respond at `stage` (1 or 2) for a stage that started on `start`."""
        if stage not in STAGE_DAYS:
            raise ValueError(f"stage must be one of {sorted(STAGE_DAYS)}")
        standard, longest = STAGE_DAYS[stage]
        return add_working_days(start, longest if extended else standard)

    def ack_due(self, opened_on: date) -> date:
        return self.stage_deadline(opened_on, 1)

    def feedback_due(self, opened_on: date, acknowledged_on: date | None) -> date:
        return self.stage_deadline(acknowledged_on or self.ack_due(opened_on), 2)


UK_CHILDRENS_COMPLAINTS = WorkingDayProfile()

# Words a child might use when they are at immediate risk. Matched case-insensitively on word
# boundaries, with any run of spaces or hyphens between words ("self harm" = "self-harm").
# Deliberately broad: a false alarm costs a guardian a look; a miss can cost a child.
RISK_PHRASES = (
    "hurt me", "hurts me", "hurting me", "hit me", "hits me", "hitting me", "beat me", "beats me",
    "kicked me", "kicks me", "punched me", "locked me in", "not safe", "unsafe",
    "don't feel safe", "dont feel safe", "do not feel safe", "scared to go home", "afraid to go home",
    "kill myself", "killing myself", "want to die", "suicide", "suicidal", "end my life",
    "self harm", "self harming", "hurt myself", "hurting myself", "cut myself", "cutting myself",
    "abuse", "abused", "abusing", "abuser", "touched me", "touches me", "touching me",
    "made me touch", "sexual", "groomed", "grooming", "rape", "raped",
    "no food at home", "left alone at night", "threatened me", "threatens me",
)


def _phrase_pattern(phrase: str) -> str:
    return r"\b" + r"[\s\-]+".join(re.escape(word) for word in phrase.split()) + r"\b"


RISK_PATTERN = re.compile("|".join(_phrase_pattern(phrase) for phrase in RISK_PHRASES), re.IGNORECASE)


def signals_immediate_risk(text: str) -> bool:
    # Children type curly apostrophes on phones: "don’t feel safe".
    return RISK_PATTERN.search(text.replace("\u2019", "'")) is not None


@hookimpl
def whistle_deadline_profiles() -> list[WorkingDayProfile]:
    return [UK_CHILDRENS_COMPLAINTS]


@hookimpl
def whistle_triage(case: CaseInfo, disclosure: Disclosure) -> Triage | None:
    if case.channel != CHANNEL:
        return None
    if any(signals_immediate_risk(text) for text in disclosure.texts()):
        return Triage(labels=(URGENT_LABEL,), priority="urgent")
    return None


@hookimpl
def whistle_escalate_on_event(case: CaseInfo, event: str) -> list[Action] | None:
    if event == "opened" and case.channel == CHANNEL and URGENT_LABEL in case.labels:
        return [Action(kind="grant", rule=SAFEGUARDING_RULE, to="second_tier"),
                Action(kind="notify", rule=SAFEGUARDING_RULE, to="second_tier"),
                Action(kind="notify", rule=SAFEGUARDING_RULE)]
    return None


# Scheduled rules, for cases whose channel uses this profile (the dates in CaseInfo are then
# working-day dates). Each fires on exactly one calendar day, so the tick never repeats it.
REMINDER_WORKING_DAYS = 2
STAGE_ONE_OPEN = frozenset({"received"})
STAGE_TWO_DONE = frozenset({"feedback_given", "closed"})


def _breach(rule: str) -> list[Action]:
    return [Action(kind="grant", rule=rule, to="second_tier"), Action(kind="notify", rule=rule, to="second_tier"),
            Action(kind="notify", rule=rule), Action(kind="raise_priority", rule=rule, priority="high")]


def schedule_actions(case: CaseInfo, today: date) -> list[Action]:
    """The actions due for `case` on `today`: a reminder on the working day two working days
    before a stage's deadline, a breach escalation on the first day after it."""
    actions: list[Action] = []
    for due, still_open, stage in ((case.ack_due, case.status in STAGE_ONE_OPEN, "stage1"),
                                   (case.feedback_due, case.status not in STAGE_TWO_DONE, "stage2")):
        if not still_open:
            continue
        if today == subtract_working_days(due, REMINDER_WORKING_DAYS):
            actions.append(Action(kind="notify", rule=f"uk.{stage}-reminder"))
        elif today == due + timedelta(days=1):
            actions.extend(_breach(f"uk.{stage}-breach"))
    return actions


@hookimpl
def whistle_escalate_on_schedule(case: CaseInfo, today: date) -> list[Action] | None:
    if case.deadline_profile != UK_CHILDRENS_COMPLAINTS.name:  # another profile's dates, another's rules
        return None
    return schedule_actions(case, today) or None
