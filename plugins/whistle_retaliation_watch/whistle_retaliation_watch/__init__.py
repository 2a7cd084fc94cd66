"""Retaliation watch: an adverse HR event for a protected reporter, or a check-in saying "yes", alerts the guardians."""
from __future__ import annotations

from whistle import hookimpl
from whistle.hooks.types import Action, CaseInfo, PersonnelEvent

ADVERSE_RULE = "retaliation.adverse-event"
CHECKIN_RULE = "retaliation.checkin-detriment"

# The detriments of Art. 19 of the EU Whistleblowing Directive, as whistle's event type slugs.
ADVERSE_TYPES = frozenset({
    "dismissal", "suspension", "layoff", "demotion", "promotion_withheld", "duties_transferred", "relocation",
    "pay_cut", "hours_changed", "training_withheld", "negative_appraisal", "negative_reference", "disciplinary",
    "reprimand", "penalty", "coercion", "intimidation", "harassment", "ostracism", "discrimination",
    "unfair_treatment", "temporary_contract_not_made_permanent", "contract_not_renewed", "contract_terminated_early",
    "reputational_harm", "financial_loss", "blacklisting", "contract_cancelled", "licence_cancelled",
    "psychiatric_referral",
})


@hookimpl
def whistle_personnel_event(event: PersonnelEvent, protected: list[CaseInfo]) -> list[Action] | None:
    # Whistle applies the actions to every protected case; a neutral event (a promotion) is nothing.
    if event.type not in ADVERSE_TYPES or not protected:
        return None
    return [Action(kind="notify", rule=ADVERSE_RULE), Action(kind="raise_priority", rule=ADVERSE_RULE, priority="high")]


@hookimpl
def whistle_checkin_answer(case: CaseInfo, detriment: bool) -> list[Action] | None:
    if not detriment:
        return None
    return [Action(kind="notify", rule=CHECKIN_RULE), Action(kind="raise_priority", rule=CHECKIN_RULE, priority="high")]
