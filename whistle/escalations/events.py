"""What a guardian can be told about: the events each guardian may turn off (all on by default).

The event decides only *whether* a guardian is told. The notice itself is the same for every
event — "something needs your attention" and the sign-in link (security promise 4) — so the
outbox and everything delivered from it still say nothing about which case, or why.
"""
from __future__ import annotations

NEW_REPORT = "new_report"  # a case I hold was opened
REPORTER_MESSAGE = "reporter_message"  # the reporter wrote in a case I hold
REPORTER_FILE = "reporter_file"  # the reporter sent files in a case I hold
CASE_GIVEN = "case_given"  # another guardian, or an escalation rule, gave me a case
ESCALATIONS = "escalations"  # what plugins' escalation rules send: deadline reminders, breaches
RETALIATION = "retaliation"  # a retaliation alert on a case I hold

# Every event, in the order the notifications page lists them, with the words it shows.
EVENTS: dict[str, str] = {
    NEW_REPORT: "A new report comes in for me",
    REPORTER_MESSAGE: "A reporter writes a message in one of my cases",
    REPORTER_FILE: "A reporter sends a file in one of my cases",
    CASE_GIVEN: "A case is given to me",
    ESCALATIONS: "Deadline reminders and escalations",
    RETALIATION: "Retaliation alerts",
}
