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
from whistle.hooks.types import Action, CaseInfo, Disclosure, ScheduleWindow, Triage
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

# Words a child might use when they are at immediate risk: harm, threats, fear of someone,
# sexual abuse in a child's own words, suicide and self-harm, neglect, running away, weapons.
#
# How a phrase is written: words are matched whole and case-insensitively, with any run of spaces
# or hyphens between them ("self harm" = "self-harm"); "a|b" in a word's place takes either word
# ("hit|hits me" is "hit me" or "hits me"). The text is first brought to one spelling (SPELLINGS:
# "kill my self" -> "kill myself", "wanna" -> "want to", "dont" -> "don't"), so a phrase is written
# once, in that spelling.
#
# Deliberately broad: a false alarm costs a guardian a look; a miss can cost a child. So an idiom
# that also reads as a threat is flagged ("my mum will kill me if I lose my phone", "my brother
# beats me at FIFA", "we got beaten 3-0"), and only words that read as danger in no child's
# sentence are left alone (NOT_RISK: "in danger of closing"). The test corpus in
# tests/test_risk_phrases.py lists both, and what is flagged by choice.
_HARMS = ("hit|hits|hitting|beat|beats|beating|hurt|hurts|hurting|kick|kicks|kicked|kicking|punch|punches|"
          "punched|punching|slap|slaps|slapped|slapping|smack|smacks|smacked|smacking|whack|whacks|whacked|"
          "batter|batters|battered|grab|grabs|grabbed|push|pushes|pushed|shove|shoves|shoved|choke|chokes|"
          "choked|choking|strangle|strangles|strangled|strangling|burn|burns|burned|burnt|bite|bites|bit|"
          "pinch|pinches|pinched|kill|kills|threaten|threatens|threatened|threatening")
_HARMED = ("hit|beaten|beat|battered|hurt|kicked|punched|slapped|smacked|whacked|choked|strangled|burnt|burned|"
           "threatened|touched|abused|raped|attacked")
_BEING = "get|gets|got|getting|been|being|was|were|am|is|are"
_FAMILY = "mum|mam|mom|mother|dad|father|stepdad|stepmum|sister|brother|nan|gran|baby"
_FEAR = "scared|afraid|frightened|terrified"
RISK_PHRASES = (
    # hurt, or threatened with it, by someone
    f"{_HARMS} me|us", f"{_HARMS} my|our {_FAMILY}", f"{_HARMS} {_FAMILY}", f"{_BEING} {_HARMED}",
    "beat|beats|beating me|us up", "beaten up", "attacked me|us", "threatened to", "threatens to",
    # danger, and fear of someone or of home
    "in danger", "not safe", "unsafe", "don't feel safe", f"{_FEAR} of him|her|them|my|his|home",
    f"{_FEAR} to go|going home|back", "locked|locks|lock me|us in|out",
    # suicide and self-harm
    "kill|killing myself", "kms", "unalive|unaliving", "suicide|suicidal|sewerslide", "want|wants to die",
    "wish i was|were dead", "wish i wasn't|weren't alive|born|here", "want to be dead", "better off dead",
    "better off without me", "don't want to live", "don't want to be alive|here", "no point living",
    "no point in living", "end it all", "end my life",
    "take|taking my own life", "take my life", "hang|hanging myself", "overdose|overdosed",
    "jump|jumping off a|the bridge|roof|building|cliff",
    "self harm|harming|harmed", "hurt|hurting|cut|cutting|harm|harming|burn|burning|starve|starving myself",
    # sexual abuse, in a child's words
    "abuse", "abused", "abusing", "abuser", "molest|molested|molesting", "rape", "raped", "sexual", "sexually",
    "sex with", "have|had|having sex", "touched|touches|touching me|us", "private parts",
    "touch|touches|touched|touching my|his|her bits|bum|body|chest|willy|penis|vagina|boobs|breasts",
    "make|makes|made|making me|us touch", "kiss|kisses|kissed|kissing me", "nude|nudes|naked",
    "groomed", "grooming", "our secret", "our little secret", "into my bed", "in my bed with me",
    # neglect, being put out, running away
    "no food", "nothing to eat", "not eaten", "haven't eaten", "don't|doesn't|never feed|feeds me|us",
    "left alone", "nowhere to sleep|live|stay|go", "kicked|kicks|threw|throws me|us out",
    "run|ran|running away",
    # weapons, drink and drugs
    "knife|knives|gun|guns|stab|stabs|stabbed|stabbing|weapon|weapons", "drunk", "drugs",
)
# Read as danger in no child's sentence: taken out before the phrases are matched.
NOT_RISK = ("in danger of",)
# (spelling, the one RISK_PHRASES use); whole words, any spaces or hyphens between them.
SPELLINGS = (
    ("my self", "myself"), ("wanna", "want to"), ("wana", "want to"), ("wan to", "want to"),
    ("gonna", "going to"), ("gunna", "going to"), ("dont", "don't"), ("do not", "don't"),
    ("doesnt", "doesn't"), ("does not", "doesn't"), ("wasnt", "wasn't"), ("was not", "wasn't"),
    ("werent", "weren't"), ("were not", "weren't"), ("havent", "haven't"), ("have not", "haven't"),
    ("step dad", "stepdad"), ("step mum", "stepmum"), ("privates", "private parts"),
    ("private part", "private parts"),
)


def _words_pattern(phrase: str) -> str:
    words = ("(?:" + "|".join(re.escape(choice) for choice in word.split("|")) + ")" for word in phrase.split())
    return r"\b" + r"[\s\-]+".join(words) + r"\b"


RISK_PATTERN = re.compile("|".join(_words_pattern(phrase) for phrase in RISK_PHRASES), re.IGNORECASE)
NOT_RISK_PATTERN = re.compile("|".join(_words_pattern(phrase) for phrase in NOT_RISK), re.IGNORECASE)
_SPELLING_PATTERNS = tuple((re.compile(_words_pattern(spelling), re.IGNORECASE), one) for spelling, one in SPELLINGS)


def in_one_spelling(text: str) -> str:
    """`text` with the spellings of SPELLINGS replaced by the one the phrases use."""
    # Children type curly apostrophes on phones: "don’t feel safe".
    text = text.replace("\u2019", "'")
    for pattern, one in _SPELLING_PATTERNS:
        text = pattern.sub(one, text)
    return text


def signals_immediate_risk(text: str) -> bool:
    text = NOT_RISK_PATTERN.sub(" ", in_one_spelling(text))
    return RISK_PATTERN.search(text) is not None


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


# The most calendar days that REMINDER_WORKING_DAYS working days before a deadline can span: a
# weekend joined to two bank holidays (Easter, or Christmas on a Friday) makes six; one more for
# a one-off holiday next to them. tests/test_uk_childrens_complaints.py checks it on every day of
# the years the holiday data covers.
REMINDER_CALENDAR_DAYS = 7


@hookimpl
def whistle_schedule_windows() -> list[ScheduleWindow]:
    """The reminder's span of calendar days before each deadline, and the day after it."""
    profiles = (UK_CHILDRENS_COMPLAINTS.name,)
    return [window for due in ("ack_due", "feedback_due")
            for window in (ScheduleWindow(due, -REMINDER_CALENDAR_DAYS, -REMINDER_WORKING_DAYS, profiles),
                           ScheduleWindow(due, 1, 1, profiles))]


@hookimpl
def whistle_escalate_on_schedule(case: CaseInfo, today: date) -> list[Action] | None:
    if case.deadline_profile != UK_CHILDRENS_COMPLAINTS.name:  # another profile's dates, another's rules
        return None
    return schedule_actions(case, today) or None
