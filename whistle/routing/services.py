"""At intake: who gets a new case (routing, conflicts of interest, second tier), and its triage by plugins."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from whistle import audit
from whistle.accounts.models import Account
from whistle.cases.info import case_info, enabled_guardians, guardian_infos
from whistle.cases.models import HOLDER_STANDBY, LABEL_PATTERN, Case, CaseLabel
from whistle.cases.services import CaseKeys, grant_to, raise_priority
from whistle.clock import Clock
from whistle.escalations.services import drop_malformed
from whistle.hooks.types import PRIORITIES, Disclosure, Triage
from whistle.key_directory.services import Directory


class NobodyCanReceive(Exception):
    """Routing left nobody to receive a new case: every guardian of the channel's tiers is
    excluded (a conflict of interest), no longer enabled, or not listed for the channel in the
    signed key directory. The case must not be kept: sealed to
    the reporter alone, nobody could ever read it. The argument is the channel's slug."""


def _ids(results) -> set[int]:
    """Guardian ids from a routing/exclusion hook's results, ignoring anything malformed."""
    ids: set[int] = set()
    for result in results:
        if isinstance(result, (list, tuple, set, frozenset)):
            ids.update(i for i in result if isinstance(i, int) and not isinstance(i, bool))
    return ids


def choose_guardians(dbsession: Session, clock: Clock, case: Case, keys: CaseKeys, disclosure: Disclosure, *,
                     call_hook, defaults: list[Account], second_tier: list[Account],
                     directory: Directory | None, left_out: Iterable[int] = ()) -> frozenset[int]:
    """Grant the new case to its recipients; returns the excluded guardian ids.

    Recipients: the channel's default guardians and those plugins route to, minus those plugins
    exclude (a conflict of interest) and those the reporter left out (`left_out`: excluded the
    same way, without going through a plugin). If nobody is left, the channel's second tier
    (minus the excluded). If still nobody, raise NobodyCanReceive before anything is granted or
    audited: the caller refuses the report and keeps nothing of it, and gives the reporter their
    words back.

    Only guardians the signed key `directory` lists for the channel (for the tiers) or at all
    (for plugins' routing) can be recipients, and the keys are sealed to the keys it lists: a
    guardian added to the database but not to the directory, or with a key swapped in their
    account's row, gets nothing. No directory: nobody."""
    if directory is None:
        defaults, second_tier, candidates = [], [], []
    else:
        listed = directory.listed_for(case.channel.slug)
        defaults = [account for account in defaults if account.id in listed.first_tier]
        second_tier = [account for account in second_tier if account.id in listed.second_tier]
        candidates = [account for account in enabled_guardians(dbsession) if directory.key_of(account.id) is not None]
    by_id = {account.id: account for account in candidates}
    infos = guardian_infos(candidates)
    info = case_info(dbsession, case)
    routed = _ids(call_hook("whistle_route_guardians", case=info, candidates=infos)) & set(by_id)
    excluded = frozenset((_ids(call_hook("whistle_excluded_guardians", case=info, disclosure=disclosure,
                                         candidates=infos)) | set(left_out)) & set(by_id))
    recipients = [account for account in defaults if account.id not in excluded]
    recipients += [by_id[i] for i in sorted(routed) if i not in excluded and all(a.id != i for a in recipients)]
    tier = 1
    if not recipients:
        recipients, tier = [account for account in second_tier if account.id not in excluded], 2
    if not recipients:
        raise NobodyCanReceive(case.channel.slug)
    assert directory is not None  # nobody is a recipient without one
    for account in recipients:
        grant_to(case, keys, account, clock.today(), directory=directory)
    # The second tier gets a standby copy now, while the case key is in memory, so an escalation
    # rule can hand them the case later without anyone's key (docs/crypto.md). Never an
    # excluded guardian: a conflict of interest also rules out escalation to them.
    standby = [account for account in second_tier if account.id not in excluded and account not in recipients]
    for account in standby:
        grant_to(case, keys, account, clock.today(), directory=directory, holder=HOLDER_STANDBY)
    dbsession.flush()
    plugins_changed_it = excluded or tier == 2 or any(account not in defaults for account in recipients)
    if plugins_changed_it or standby:  # a plain delivery to the channel's guardians is no news
        audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.routed", case_id=case.id,
                     detail={"account_ids": [account.id for account in recipients], "tier": tier,
                             "excluded": len(excluded), "standby_ids": [account.id for account in standby]})
    return excluded


def triage_new_case(dbsession: Session, clock: Clock, case: Case, disclosure: Disclosure, *, call_hook) -> None:
    """Plugins' triage: labels, and a higher priority (never a lower one); audited if it changed
    anything. A result that is not a Triage is dropped by the one rule (escalations.drop_malformed)."""
    results = call_hook.named("whistle_triage", case=case_info(dbsession, case), disclosure=disclosure)
    labels: list[str] = []
    priority = None
    for plugin, result in results:
        if not isinstance(result, Triage):
            drop_malformed(dbsession, clock, plugin=plugin, hook="whistle_triage", value=result)
            continue
        labels += [label for label in result.labels if isinstance(label, str) and LABEL_PATTERN.match(label)]
        if result.priority in PRIORITIES and (
                priority is None or PRIORITIES.index(result.priority) > PRIORITIES.index(priority)):
            priority = result.priority
    labels = list(dict.fromkeys(labels))
    for label in labels:
        dbsession.add(CaseLabel(case_id=case.id, label=label))
    before = case.priority or "normal"
    raised = priority is not None and raise_priority(case, priority)
    dbsession.flush()
    if labels or raised:
        audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.triaged", case_id=case.id,
                     detail={"labels": labels, "priority": {"from": before, "to": case.priority} if raised else None})
