"""The one executor of what plugins ask for: escalation actions (notify, grant, raise_priority),
carried out on a case in the caller's transaction, and the plugins' rules on the case events.

Every path that takes actions from plugins comes through here: the rules on events (at intake,
on a move, when the reporter writes: escalate_on_event), the schedule's date rules
(whistle.escalations.schedule) and the retaliation checks (whistle.protection.services).

    actions = actions_from(call_hook.named("whistle_escalate_on_event", case=info, event="opened"),
                           hook="whistle_escalate_on_event", dbsession=dbsession, clock=clock)
    apply_actions(dbsession, clock, case, actions, call_hook=call_hook)

- One rule for what plugins return (actions_from, drop_malformed): well-formed Actions are kept;
  anything else is dropped, logged by its type and audited as "plugin.action_dropped" (plugin,
  hook and the type's name: never the value, which might hold content).
- `call_hook` is `request.call_hook`, or `whistle.hooks.hook_caller(...)` without a request: it
  fires `whistle_case_escalated`.
- Whom an action addresses: its guardian_ids, else Action.to — "case" (the holders) or
  "second_tier" (those on standby for the case since intake, see docs/crypto.md).
- A "grant" to someone on standby needs no key: their sealed copy is activated. Anyone else can
  only be granted where the case keys are at hand (`keys`: at intake, or in a guardian's request
  after unlock_for_guardian). Without keys such a grant becomes a "notify" to the holders and an
  audit event "case.grant_requested": the server holds no case key, so only a holder can grant.
- `excluded`: guardian ids that must never get this case or its notices (conflict of interest).
- Each action carried out is audited as "case.escalated" and announced with
  `whistle_case_escalated`, unless the caller says `audited=False`: the retaliation checks, whose
  timing must not tell which case an HR event matched (see whistle.protection.services); their
  "notify" is what the caller's `on_notify` does instead (an alert on the case page), and they
  grant nobody (a grant would tell its new holder at once).
Everything happens in the caller's transaction; nothing commits here.
"""
from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit
from whistle.accounts.models import Account
from whistle.cases.events import CaseMoved, CaseOpened, ReporterWrote
from whistle.cases.info import case_info
from whistle.cases.lifecycle import ACKNOWLEDGED, CLOSED
from whistle.cases.models import HOLDER_GUARDIAN, HOLDER_STANDBY, Case, CaseGrant
from whistle.cases.services import CaseKeys, activate_standby, current_holders, grant_to, holders_of, raise_priority
from whistle.clock import Clock
from whistle.hooks import HookCaller
from whistle.hooks.types import Action, CaseInfo
from whistle.intake_channels.models import TIER_SECOND, ChannelGuardian
from whistle.key_directory.services import Directory
from whistle.notifications.preferences import CASE_GIVEN, ESCALATIONS
from whistle.notifications.services import notice_events_off, notify, write_queued

log = logging.getLogger(__name__)

NOTIFY, GRANT, RAISE_PRIORITY = "notify", "grant", "raise_priority"
ACTION_KINDS = (NOTIFY, GRANT, RAISE_PRIORITY)
CASE, SECOND_TIER = "case", "second_tier"  # Action.to: whom an action addresses
AUDIENCES = (CASE, SECOND_TIER)
# A rule is a code for the audit log (e.g. "uk.safeguarding-lead"); anything else is not logged.
RULE_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

CallHook = HookCaller


def drop_malformed(dbsession: Session, clock: Clock, *, plugin: str, hook: str, value: object) -> None:
    """The one rule for something a plugin returned that core cannot use: dropped, logged by its
    type, and audited (plugin, hook, type name; never the value)."""
    kind = type(value).__name__
    log.warning("plugin %s returned a %s from %s: dropped", plugin, kind, hook)
    audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="plugin.action_dropped",
                 detail={"plugin": plugin, "hook": hook, "type": kind})


def actions_from(results: Iterable[tuple[str, object]], *, hook: str, dbsession: Session, clock: Clock) -> list[Action]:
    """The well-formed Actions in what the plugins returned from `hook` ((plugin, result) pairs, as
    `call_hook.named` gives them: a list of actions per plugin, or one), in order; anything else
    is dropped (drop_malformed): a plugin's bug must not break the request, nor pass unseen."""
    actions = []
    for plugin, result in results:
        for action in (result if isinstance(result, (list, tuple)) else [result]):
            if isinstance(action, Action) and action.kind in ACTION_KINDS and action.to in AUDIENCES:
                actions.append(action)
            else:
                drop_malformed(dbsession, clock, plugin=plugin, hook=hook, value=action)
    return actions


def _rule(action: Action) -> str:
    return action.rule if isinstance(action.rule, str) and RULE_PATTERN.match(action.rule) else "unnamed-rule"


def _enabled_guardians(dbsession: Session, ids: Iterable[int]) -> list[Account]:
    ids = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
    if not ids:
        return []
    return list(dbsession.scalars(
        select(Account).where(Account.id.in_(ids), Account.is_guardian.is_(True), Account.disabled.is_(False))
        .order_by(Account.id)
    ))


def second_tier_of(dbsession: Session, case: Case) -> list[int]:
    """The case's second tier: enabled guardians on standby for it (sealed at intake), and those
    of the channel's second tier who already hold it. Never anyone excluded at intake."""
    dbsession.flush()
    tier_two = select(ChannelGuardian.account_id).where(ChannelGuardian.channel_id == case.channel_id,
                                                        ChannelGuardian.tier == TIER_SECOND)
    return list(dbsession.scalars(
        select(CaseGrant.account_id).join(Account, Account.id == CaseGrant.account_id)
        .where(CaseGrant.case_id == case.id, Account.disabled.is_(False), Account.is_guardian.is_(True),
               (CaseGrant.holder == HOLDER_STANDBY)
               | ((CaseGrant.holder == HOLDER_GUARDIAN) & CaseGrant.account_id.in_(tier_two)))
        .order_by(CaseGrant.account_id)
    ))


@dataclass
class Batch:
    """Cases whose actions are carried out together (the tick's date rules, when many cases fall
    due on one day): what that needs, read once for them all instead of once per action, and
    what it writes, queued to be written together. Pass it to `apply_actions` as `batch=`; what
    it does not hold is read as without it."""

    holders: dict[int, list[int]]  # case id -> its holders now; a case is dropped once granted to anyone
    events_off: dict[int, frozenset[str]]  # guardian id -> the notice events they turned off
    infos: dict[int, CaseInfo]  # case id -> what plugins see of it (status and priority are taken from the case)
    outbox: list[dict] = field(default_factory=list)  # the notices queued, for `write` to insert together
    # (case, action) for `whistle_case_escalated`, fired by `announce` once the batch is done, so
    # a batch undone and carried out again case by case announces nothing twice.
    announced: list[tuple[CaseInfo, Action]] = field(default_factory=list)

    @classmethod
    def read(cls, dbsession: Session, infos: dict[int, CaseInfo]) -> Batch:
        holders = holders_of(dbsession, infos)
        return cls(holders, notice_events_off(dbsession, {i for ids in holders.values() for i in ids}), infos)

    def write(self, dbsession: Session) -> None:
        """Insert the notices queued (call it before the batch's transaction ends)."""
        write_queued(dbsession, self.outbox)

    def announce(self, call_hook: CallHook) -> None:
        """Fire `whistle_case_escalated` for each action carried out (after the batch is done)."""
        for info, action in self.announced:
            call_hook("whistle_case_escalated", case=info, action=action)
        self.announced.clear()

    def events_off_of(self, recipients: list[int]) -> dict[int, frozenset[str]] | None:
        """The choices of `recipients`, if every one of them is known (None: `notify` reads them)."""
        return self.events_off if all(i in self.events_off for i in recipients) else None

    def info_of(self, dbsession: Session, case: Case) -> CaseInfo:
        info = self.infos.get(case.id)
        if info is None:
            return case_info(dbsession, case)
        return replace(info, status=case.status, priority=case.priority or "normal")


def _audience(dbsession: Session, case: Case, action: Action, batch: Batch | None = None) -> list[int]:
    """Whom `action` addresses (see Action): its guardian_ids, the second tier, or the holders."""
    if action.guardian_ids:
        return [account.id for account in _enabled_guardians(dbsession, action.guardian_ids)]
    if action.to == SECOND_TIER:
        return second_tier_of(dbsession, case)
    return _holders(dbsession, case, batch)


def _holders(dbsession: Session, case: Case, batch: Batch | None) -> list[int]:
    if batch is not None and case.id in batch.holders:
        return list(batch.holders[case.id])
    return current_holders(dbsession, case)


def _grant(dbsession: Session, clock: Clock, case: Case, action: Action, rule: str, detail: dict, *,
           keys: CaseKeys | None, excluded: frozenset[int], directory: Directory | None) -> Action | None:
    """Carry out a grant; returns the action as carried out (a grant may become a notify), or None.
    A grant with keys is sealed only to guardians the signed `directory` lists (with their key in it);
    one it does not list is asked for, as without keys."""
    holders = set(current_holders(dbsession, case))
    wanted = [i for i in _audience(dbsession, case, action) if i not in excluded and i not in holders]
    if not wanted:
        return None
    # A standby copy from intake needs no key; anyone else needs a holder's keys.
    granted = activate_standby(dbsession, case, wanted, clock.today())
    rest = [account for account in _enabled_guardians(dbsession, wanted) if account.id not in granted]
    if keys is not None and directory is not None:
        sealable = [account for account in rest if directory.key_of(account.id) is not None]
        for account in sealable:
            grant_to(case, keys, account, clock.today(), directory=directory)
        granted, rest = granted + [account.id for account in sealable], [a for a in rest if a not in sealable]
    if rest:
        # The server holds no case key: only a guardian who holds the case can grant it. Ask
        # them to, and leave a trace of the request.
        audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.grant_requested", case_id=case.id,
                     detail={"rule": rule, "account_ids": [account.id for account in rest]})
        if not granted:
            asked = [i for i in holders if i not in excluded]
            detail.update(kind=NOTIFY, recipients=notify(dbsession, clock.record_time(), asked, event=ESCALATIONS))
            return Action(kind=NOTIFY, rule=action.rule)
        detail["requested"] = [account.id for account in rest]
    detail["account_ids"] = sorted(granted)
    # The new holders, and only they, are told: the case is theirs now.
    notify(dbsession, clock.record_time(), granted, event=CASE_GIVEN)
    return action


def apply_actions(dbsession: Session, clock: Clock, case: Case, actions: Iterable[Action], *,
                  call_hook: CallHook, keys: CaseKeys | None = None, excluded: Iterable[int] = (),
                  audited: bool = True, on_notify: Callable[[Action], None] | None = None,
                  directory: Directory | None = None, batch: Batch | None = None) -> list[Action]:
    """Carry out `actions` on `case` (see the module docstring). Returns the actions carried out.

    Each action that changed something is audited as "case.escalated" (rule, kind, audience;
    never content) and announced with `whistle_case_escalated`. With `audited=False`, neither,
    and no grant; a notify then does `on_notify(action)` instead of queueing notices.
    `batch`: the cases whose actions are carried out together (Batch), read beforehand; the
    notices and announcements are queued in it, and the caller writes them (`batch.write`),
    flushes once for the batch, and announces them when the batch is done (`batch.announce`)."""
    excluded = frozenset(excluded)
    applied = []
    for action in actions:
        if not audited:
            if action.kind == NOTIFY and on_notify is not None:
                on_notify(action)
                applied.append(action)
            elif action.kind == RAISE_PRIORITY and raise_priority(case, action.priority):
                applied.append(action)
            continue
        rule = _rule(action)
        detail: dict = {"rule": rule, "kind": action.kind}
        if action.to != CASE:
            detail["audience"] = action.to
        if action.kind == RAISE_PRIORITY:
            before = case.priority
            if not raise_priority(case, action.priority):
                continue
            detail.update({"from": before, "to": case.priority})
        elif action.kind == NOTIFY:
            recipients = [i for i in _audience(dbsession, case, action, batch) if i not in excluded]
            if not recipients and action.to == SECOND_TIER:
                # No second tier for this case: the holders are the only people left to tell.
                recipients, detail["fallback"] = _holders(dbsession, case, batch), CASE
            recipients = [i for i in recipients if i not in excluded]
            detail["recipients"] = notify(dbsession, clock.record_time(), recipients, event=ESCALATIONS,
                                          events_off=batch.events_off_of(recipients) if batch else None,
                                          queue=batch.outbox if batch else None)
        elif action.kind == GRANT:
            if batch is not None:
                batch.holders.pop(case.id, None)  # the grant changes who holds it
            granted = _grant(dbsession, clock, case, action, rule, detail, keys=keys, excluded=excluded,
                             directory=directory)
            if granted is None:
                continue
            action = granted
        if batch is None:
            dbsession.flush()
        audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.escalated", case_id=case.id,
                     detail=detail)
        if batch is not None:
            batch.announced.append((batch.info_of(dbsession, case), action))
        else:
            call_hook("whistle_case_escalated", case=case_info(dbsession, case), action=action)
        applied.append(action)
    return applied


def escalate_on_event(dbsession: Session, clock: Clock, case: Case, event: str, *, call_hook: CallHook,
                      keys: CaseKeys | None = None, excluded: Iterable[int] = (),
                      directory: Directory | None = None) -> list[Action]:
    """Fire `whistle_escalate_on_event(case, event)` and carry out what the plugins return."""
    hook = "whistle_escalate_on_event"
    results = call_hook.named(hook, case=case_info(dbsession, case), event=event)
    return apply_actions(dbsession, clock, case, actions_from(results, hook=hook, dbsession=dbsession, clock=clock),
                         call_hook=call_hook, keys=keys, excluded=excluded, directory=directory)


# --- the plugins' rules on the case events (whistle.cases.events; subscribed in whistle.escalations) ---

# The events `whistle_escalate_on_event` fires on, and what a move is among them.
RULE_EVENTS = ("opened", "acknowledged", "status_changed", "closed", "reopened", "reporter_message")
MOVE_EVENTS = {ACKNOWLEDGED: "acknowledged", CLOSED: "closed"}


def escalate_opened(event: CaseOpened, call_hook) -> None:
    """The rules for "opened", with the case keys at hand (a grant to anyone is sealed now)."""
    escalate_on_event(call_hook.dbsession, call_hook.clock, event.case, "opened", call_hook=call_hook,
                      keys=event.keys, excluded=event.excluded, directory=event.directory)


def escalate_moved(event: CaseMoved, call_hook) -> None:
    """The rules for a move: "acknowledged", "closed", "reopened" or "status_changed". Without the
    case keys here, a "grant" they ask for becomes a request to the holders."""
    name = "reopened" if event.old == CLOSED else MOVE_EVENTS.get(event.new, "status_changed")
    escalate_on_event(call_hook.dbsession, call_hook.clock, event.case, name, call_hook=call_hook)


def escalate_reporter_message(event: ReporterWrote, call_hook) -> None:
    """The rules for "reporter_message", when the post had a message (files alone fire none)."""
    if event.message:
        escalate_on_event(call_hook.dbsession, call_hook.clock, event.case, "reporter_message", call_hook=call_hook)
