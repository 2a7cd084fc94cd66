"""The audit log as pages show it: what the ids in its events stand for, looked up once per page.

The audit log itself (whistle.audit) keeps ids; the words for each event are in whistle.words. Here,
above every area, the ids are turned into names from each area's table.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle.accounts.models import Account
from whistle.cases.models import Case
from whistle.intake_channels.models import Channel
from whistle.protection.models import Integration
from whistle.words import Names, referenced


def names_for(dbsession: Session, events, *, exports: dict[str, str] | None = None, case_refs: bool = True):
    """What the ids in `events` stand for (whistle.words.Names), looked up once for the page:
    usernames, case references (unless `case_refs` is false: the admin area never shows one),
    channel titles, HR integration names."""
    wanted = referenced(events)

    def lookup(key, value, ids):
        return dict(dbsession.execute(select(key, value).where(key.in_(sorted(ids)))).all()) if ids else {}

    return Names(accounts=lookup(Account.id, Account.username, wanted.accounts),
                 cases=lookup(Case.id, Case.ref, wanted.cases) if case_refs else {},
                 channels=lookup(Channel.slug, Channel.title, wanted.channels),
                 integrations=lookup(Integration.id, Integration.name, wanted.integrations),
                 exports=exports or {})
