"""Retaliation watch logic: integrations, consent, protections, personnel events and check-ins."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.cases.info import case_info
from whistle.cases.models import Case
from whistle.cases.services import current_holders
from whistle.clock import Clock
from whistle.deadlines import add_months
from whistle.escalations.services import actions_from, apply_actions
from whistle.hooks.types import Action, PersonnelEvent
from whistle.intake_channels.services import checkin_months_for
from whistle.jobs import TickContext
from whistle.notifications.preferences import RETALIATION
from whistle.notifications.services import notify
from whistle.protection.models import CheckIn, Integration, Protection, ProtectionAlert
from whistle.settings import Settings

PERSONNEL_PURPOSE = "personnel"
DEFAULT_WINDOW_MONTHS = 24

# The detriments of Article 19 of the EU Whistleblowing Directive (2019/1937), as event slugs.
ADVERSE_EVENT_TYPES = (
    "dismissal",
    "suspension",
    "layoff",
    "demotion",
    "promotion_withheld",
    "duties_transferred",
    "relocation",
    "pay_cut",
    "hours_changed",
    "training_withheld",
    "negative_appraisal",
    "negative_reference",
    "disciplinary",
    "reprimand",
    "penalty",
    "coercion",
    "intimidation",
    "harassment",
    "ostracism",
    "discrimination",
    "unfair_treatment",
    "temporary_contract_not_made_permanent",
    "contract_not_renewed",
    "contract_terminated_early",
    "reputational_harm",
    "financial_loss",
    "blacklisting",
    "contract_cancelled",
    "licence_cancelled",
    "psychiatric_referral",
)
# Events HR systems also send that are not detriments; accepted, so an integration can send
# everything it has without whistle revealing anything by refusing some.
NEUTRAL_EVENT_TYPES = ("hire", "promotion", "pay_rise", "training_granted", "contract_renewed", "leave", "return")
EVENT_TYPES = ADVERSE_EVENT_TYPES + NEUTRAL_EVENT_TYPES


# --- integrations ----------------------------------------------------------------------------

class IntegrationExists(Exception):
    """An integration of that name exists already."""


def add_integration(dbsession: Session, settings: Settings, clock: Clock, name: str) -> str:
    """Create an integration and return its token: shown once, only its keyed hash is kept."""
    if dbsession.scalars(select(Integration).where(Integration.name == name)).first() is not None:
        raise IntegrationExists(name)
    token = crypto.new_session_token()
    dbsession.add(Integration(name=name, token_id=crypto.session_token_id(token, settings.session_key),
                              created_at=clock.now(), disabled=False))
    dbsession.flush()
    audit.record(dbsession, clock, actor="system", action="integration.added", detail={"name": name})
    return token


def disable_integration(dbsession: Session, clock: Clock, name: str) -> bool:
    """Revoke an integration's token for good (a leaked token, a retired HR system); False if unknown."""
    integration = dbsession.scalars(select(Integration).where(Integration.name == name)).first()
    if integration is None:
        return False
    if not integration.disabled:
        integration.disabled = True
        audit.record(dbsession, clock, actor="system", action="integration.disabled", detail={"name": name})
    return True


def list_integrations(dbsession: Session) -> list[Integration]:
    return list(dbsession.scalars(select(Integration).order_by(Integration.name)))


def resolve_integration(dbsession: Session, settings: Settings, token: str) -> Integration | None:
    token_id = crypto.session_token_id(token, settings.session_key)
    integration = dbsession.scalars(select(Integration).where(Integration.token_id == token_id)).first()
    return None if integration is None or integration.disabled else integration


# --- consent and protections -----------------------------------------------------------------

def give_consent(dbsession: Session, clock: Clock, case: Case) -> None:
    if not case.protection_consent:
        case.protection_consent = True
        audit.record(dbsession, clock, actor="reporter", action="protection.consent_given", case_id=case.id)


def person_index(settings: Settings, personnel_id: str) -> bytes:
    return crypto.blind_index(personnel_id, settings.lookup_pepper, purpose=PERSONNEL_PURPOSE)


def register_protection(dbsession: Session, settings: Settings, clock: Clock, case: Case, account_id: int, *,
                        personnel_id: str, starts_on: date, window_months: int) -> Protection:
    """Watch for detriment to the reporter: stores the blind index of their number, never the number."""
    protection = Protection(case_id=case.id, person_index=person_index(settings, personnel_id), starts_on=starts_on,
                            window_months=window_months, created_by=account_id, created_on=clock.today())
    dbsession.add(protection)
    dbsession.flush()
    audit.record(dbsession, clock, actor=f"account:{account_id}", action="protection.registered", case_id=case.id,
                 detail={"protection": protection.id, "starts_on": starts_on.isoformat(),
                         "window_months": window_months})
    return protection


def protections_of(dbsession: Session, case: Case) -> list[Protection]:
    return list(dbsession.scalars(select(Protection).where(Protection.case_id == case.id).order_by(Protection.id)))


# --- what hooks ask for ----------------------------------------------------------------------

def carry_out(dbsession: Session, clock: Clock, case: Case, actions: list[Action], *, call_hook, event_type: str,
              effective: date) -> list[Action]:
    """Carry out what a retaliation check asked for, through the one executor
    (whistle.escalations.services.apply_actions): a notify becomes a guardian alert on the case
    page, a higher priority is set, nothing else. Returns the actions carried out.

    Deliberately not audited (`audited=False`): the organisation knows whom its HR event was
    about, so an audit entry naming this case, written in the same moment (or next in the chain),
    would tell any admin which case that person reported. The guardians see the alerts; the audit
    log records when a guardian acknowledges them (see acknowledge_alerts), and the guardians are
    told the next day (notify_alerts)."""

    def alert(action: Action) -> None:
        rule = action.rule[:64] if isinstance(action.rule, str) else "unnamed-rule"
        dbsession.add(ProtectionAlert(case_id=case.id, event_type=event_type, effective=effective, rule=rule,
                                      created_on=clock.today()))

    return apply_actions(dbsession, clock, case, actions, call_hook=call_hook, audited=False, on_notify=alert)


def receive_personnel_event(dbsession: Session, settings: Settings, clock: Clock, integration_id: int,
                            personnel_id: str, event_type: str, effective: date, *, call_hook) -> None:
    """Match an HR event against protections and let the plugins decide; nothing about it is kept
    but the alerts it causes and an audit event with its type (not whether or whom it matched)."""
    index = person_index(settings, personnel_id)
    candidates = dbsession.scalars(select(Protection).where(Protection.person_index == index,
                                                            Protection.starts_on <= effective))
    matched = [p for p in candidates if effective < add_months(p.starts_on, p.window_months)]
    cases = {p.case_id: dbsession.get_one(Case, p.case_id) for p in matched}
    infos = [case_info(dbsession, case) for case in cases.values()]
    event = PersonnelEvent(person_index=index, type=event_type, effective=effective)
    hook = "whistle_personnel_event"
    results = call_hook.named(hook, event=event, protected=infos) if infos else []
    # Distinct actions: the hook is called once for the event, and what it asks applies to each
    # protected case.
    actions: list[Action] = []
    for action in actions_from(results, hook=hook, dbsession=dbsession, clock=clock):
        if action not in actions:
            actions.append(action)
    for case in cases.values():
        carry_out(dbsession, clock, case, actions, call_hook=call_hook, event_type=event_type, effective=effective)
    audit.record(dbsession, clock, actor=f"integration:{integration_id}", action="personnel_event.received",
                 detail={"type": event_type})


def notify_alerts(dbsession: Session, clock: Clock) -> tuple[int, int]:
    """Tell the guardians of each case with new, unacknowledged alerts that something needs them;
    returns (alerts, notices queued). A scheduled job (whistle tick).

    Only alerts raised before today are taken, so the notices go out with the first tick of the
    next day, among that day's deadline reminders: an outbox row written the minute an HR event
    arrived would let a database reader match the event's person to a guardian. Not audited, for
    the same reason as carry_out. The alert itself is on the case page at once."""
    alerts = list(dbsession.scalars(
        select(ProtectionAlert).where(ProtectionAlert.notified_on.is_(None), ProtectionAlert.acknowledged_on.is_(None),
                                      ProtectionAlert.created_on < clock.today())
        .order_by(ProtectionAlert.case_id).with_for_update(skip_locked=True)
    ))
    queued = 0
    for case_id in dict.fromkeys(alert.case_id for alert in alerts):
        queued += notify(dbsession, clock.record_time(), current_holders(dbsession, dbsession.get_one(Case, case_id)),
                         event=RETALIATION)
    for alert in alerts:
        alert.notified_on = clock.today()
    return len(alerts), queued


def alerts_job(ctx: TickContext) -> str:
    """The tick's "protection alerts" job (see notify_alerts)."""
    with ctx.session() as dbsession:
        alerts, notices = notify_alerts(dbsession, ctx.clock)
    return f"protection alerts: {alerts} new, {notices} guardians told"


def alerts_of(dbsession: Session, case: Case) -> list[ProtectionAlert]:
    return list(dbsession.scalars(select(ProtectionAlert).where(ProtectionAlert.case_id == case.id)
                                  .order_by(ProtectionAlert.id.desc())))


def cases_with_open_alerts(dbsession: Session, case_ids: list[int]) -> set[int]:
    if not case_ids:
        return set()
    return set(dbsession.scalars(select(ProtectionAlert.case_id).where(
        ProtectionAlert.case_id.in_(case_ids), ProtectionAlert.acknowledged_on.is_(None))))


def acknowledge_alerts(dbsession: Session, clock: Clock, case: Case, account_id: int) -> int:
    open_alerts = [a for a in alerts_of(dbsession, case) if a.acknowledged_on is None]
    for alert in open_alerts:
        alert.acknowledged_on = clock.today()
    if open_alerts:
        audit.record(dbsession, clock, actor=f"account:{account_id}", action="protection.alerts_acknowledged",
                     case_id=case.id, detail={"alerts": len(open_alerts)})
    return len(open_alerts)


# --- check-ins -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CheckInState:
    due: tuple[int, ...]  # months whose question is due and unanswered, oldest first
    answered: tuple[CheckIn, ...]


def checkins(dbsession: Session, settings: Settings, case: Case, today: date) -> CheckInState:
    """Derived from dates, so no scheduler is needed; the case's status does not matter."""
    answered = tuple(dbsession.scalars(select(CheckIn).where(CheckIn.case_id == case.id).order_by(CheckIn.due_month)))
    done = {row.due_month for row in answered}
    months = checkin_months_for(settings, case.channel.reporters_are_staff)
    due = tuple(m for m in months if m not in done and add_months(case.opened_on, m) <= today)
    return CheckInState(due=due, answered=answered)


class CheckInNotDue(Exception):
    """That month's question is not (or no longer) due."""


def answer_checkin(dbsession: Session, settings: Settings, clock: Clock, case: Case, month: int, detriment: bool, *,
                   call_hook) -> None:
    """Record the answer for `month` and every earlier due question ("since you spoke up" covers them)."""
    state = checkins(dbsession, settings, case, clock.today())
    if month not in state.due:
        raise CheckInNotDue(month)
    for due_month in state.due:
        if due_month <= month:
            dbsession.add(CheckIn(case_id=case.id, due_month=due_month, answered_on=clock.today(), detriment=detriment))
    audit.record(dbsession, clock, actor="reporter", action="checkin.answered", case_id=case.id,
                 detail={"month": month, "detriment": detriment})
    if detriment:
        case.detriment = True
    dbsession.flush()
    hook = "whistle_checkin_answer"
    results = call_hook.named(hook, case=case_info(dbsession, case), detriment=detriment)
    actions = actions_from(results, hook=hook, dbsession=dbsession, clock=clock)
    carry_out(dbsession, clock, case, actions, call_hook=call_hook,
              event_type="checkin_detriment" if detriment else "checkin", effective=clock.today())
