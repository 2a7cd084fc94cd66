"""Carrying out escalation actions (notify, grant, raise_priority) on a case, audited, in one place.

How to call, from anywhere that has a case and some actions a plugin returned:

    from whistle.escalations.services import apply_actions, actions_from
    actions = actions_from(request.call_hook("whistle_personnel_event", event=..., protected=[...]))
    apply_actions(request.dbsession, request.clock, case, actions, call_hook=request.call_hook)

- `call_hook` is `request.call_hook` in a view, or `whistle.hooks.hook_caller(hooks, dbsession,
  clock)` in a service without a request: it is used to fire `whistle_case_escalated`.
- `keys` (CaseKeys) only where the case keys are at hand (at intake, or in a guardian's request
  after unlock_for_guardian): only then can a "grant" be carried out. Without keys a grant becomes
  a "notify" to the case's current guardians and an audit event "case.grant_requested": the server
  holds no case key, so nobody but a key holder can grant, and the holders are asked to.
- `excluded`: guardian ids that must never get this case or its notices (conflict of interest).
Everything happens in the caller's transaction; nothing commits here.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit
from whistle.accounts.models import Account
from whistle.cases.models import HOLDER_GUARDIAN, Case, CaseGrant
from whistle.cases.services import CaseKeys, grant_to
from whistle.clock import Clock
from whistle.escalations.models import PENDING, Notification
from whistle.hooks.cases import case_info
from whistle.hooks.types import PRIORITIES, Action

log = logging.getLogger(__name__)

NOTIFY, GRANT, RAISE_PRIORITY = "notify", "grant", "raise_priority"
ACTION_KINDS = (NOTIFY, GRANT, RAISE_PRIORITY)
ATTENTION = "attention"  # the only notice kind so far: "something needs you, log in"
SYSTEM = "system"
# A rule is a code for the audit log (e.g. "uk.safeguarding-lead"); anything else is not logged.
RULE_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

CallHook = Callable[..., list]


def actions_from(results: Iterable) -> list[Action]:
    """Flatten what an escalation hook returned (a list of actions per plugin), dropping anything
    that is not a well-formed Action (a plugin bug must not break the request)."""
    actions = []
    for result in results:
        for action in (result if isinstance(result, (list, tuple)) else [result]):
            if isinstance(action, Action) and action.kind in ACTION_KINDS:
                actions.append(action)
            else:
                log.warning("ignored a malformed escalation action of type %s", type(action).__name__)
    return actions


def _rule(action: Action) -> str:
    return action.rule if isinstance(action.rule, str) and RULE_PATTERN.match(action.rule) else "unnamed-rule"


def raise_priority(case: Case, priority: str | None) -> bool:
    """Set the case's priority to `priority` if that is higher; never lower it."""
    if priority not in PRIORITIES or PRIORITIES.index(priority) <= PRIORITIES.index(case.priority or "normal"):
        return False
    case.priority = priority
    return True


def current_holders(dbsession: Session, case: Case) -> list[int]:
    """Enabled guardians who hold the case's keys now."""
    dbsession.flush()
    return list(dbsession.scalars(
        select(CaseGrant.account_id).join(Account, Account.id == CaseGrant.account_id)
        .where(CaseGrant.case_id == case.id, CaseGrant.holder == HOLDER_GUARDIAN,
               Account.disabled.is_(False), Account.is_guardian.is_(True))
        .order_by(CaseGrant.account_id)
    ))


def _enabled_guardians(dbsession: Session, ids: Iterable[int]) -> list[Account]:
    ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids:
        return []
    return list(dbsession.scalars(
        select(Account).where(Account.id.in_(ids), Account.is_guardian.is_(True), Account.disabled.is_(False))
        .order_by(Account.id)
    ))


def notify(dbsession: Session, now: datetime, account_ids: Iterable[int], kind: str = ATTENTION) -> int:
    """Queue one content-free notice per recipient in the outbox; returns how many.

    Delivery is not done here (it is the scheduled tick's job, a later issue): the row is written
    in the same transaction as whatever caused it, so a rolled-back request notifies nobody."""
    recipients = list(dict.fromkeys(account_ids))
    for account_id in recipients:
        dbsession.add(Notification(account_id=account_id, kind=kind, created_at=now, state=PENDING, attempts=0,
                                   next_attempt_at=now))
    return len(recipients)


def apply_actions(dbsession: Session, clock: Clock, case: Case, actions: Iterable[Action], *,
                  call_hook: CallHook, keys: CaseKeys | None = None, excluded: Iterable[int] = ()) -> list[Action]:
    """Carry out `actions` on `case` (see the module docstring for how to call it).

    Each action that changed something is audited as "case.escalated" (rule and kind; never
    content) and announced with `whistle_case_escalated`. Returns the actions carried out."""
    excluded = frozenset(excluded)
    now, today = clock.now(), clock.today()
    applied = []
    for action in actions:
        rule = _rule(action)
        detail: dict = {"rule": rule, "kind": action.kind}
        if action.kind == RAISE_PRIORITY:
            before = case.priority
            if not raise_priority(case, action.priority):
                continue
            detail.update({"from": before, "to": case.priority})
        elif action.kind == NOTIFY:
            if action.guardian_ids:
                recipients = [account.id for account in _enabled_guardians(dbsession, action.guardian_ids)]
            else:
                recipients = current_holders(dbsession, case)
            detail["recipients"] = notify(dbsession, now, [i for i in recipients if i not in excluded])
        elif action.kind == GRANT:
            holders = set(current_holders(dbsession, case))
            grantees = [account for account in _enabled_guardians(dbsession, action.guardian_ids)
                        if account.id not in excluded and account.id not in holders]
            if not grantees:
                continue
            if keys is None:
                # The server holds no case key: only a guardian who holds the case can grant it.
                # Ask them to, and leave a trace of the request.
                audit.record(dbsession, clock, actor=SYSTEM, action="case.grant_requested", case_id=case.id,
                             detail={"rule": rule, "account_ids": [account.id for account in grantees]})
                detail["recipients"] = notify(dbsession, now, [i for i in holders if i not in excluded])
                detail["kind"] = NOTIFY
                action = Action(kind=NOTIFY, rule=action.rule)
            else:
                for account in grantees:
                    grant_to(case, keys, account, today)
                detail["account_ids"] = [account.id for account in grantees]
        dbsession.flush()
        audit.record(dbsession, clock, actor=SYSTEM, action="case.escalated", case_id=case.id, detail=detail)
        call_hook("whistle_case_escalated", case=case_info(dbsession, case), action=action)
        applied.append(action)
    return applied


def escalate_on_event(dbsession: Session, clock: Clock, case: Case, event: str, *, call_hook: CallHook,
                      keys: CaseKeys | None = None, excluded: Iterable[int] = ()) -> list[Action]:
    """Fire `whistle_escalate_on_event(case, event)` and carry out what the plugins return."""
    results = call_hook("whistle_escalate_on_event", case=case_info(dbsession, case), event=event)
    return apply_actions(dbsession, clock, case, actions_from(results), call_hook=call_hook, keys=keys,
                         excluded=excluded)
