"""What every command needs: the .ini's settings, logging, and a transaction-bound session."""
from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

import plaster
import transaction
from sqlalchemy.orm import Session

from whistle.clock import Clock
from whistle.db import get_tm_session, make_engine, make_session_factory
from whistle.settings import Settings, load_settings
from whistle.shredding import open_shred_store


class CommandError(Exception):
    """A command could not do what was asked; the message says why (exit status 1)."""


@dataclass(frozen=True)
class Environment:
    config_file: str
    raw: dict
    settings: Settings
    clock: Clock


def raw_settings(config_file: str) -> dict:
    loader = plaster.get_loader(config_file, protocols=["wsgi"])
    loader.setup_logging()
    return dict(loader.get_settings("app:main"))


def load(config_file: str) -> Environment:
    raw = raw_settings(config_file)
    return Environment(os.path.abspath(config_file), raw, load_settings(raw), Clock())


@contextlib.contextmanager
def dbsession(env: Environment) -> Iterator[Session]:
    """A session whose work is committed when the block ends (aborted if it raises)."""
    engine = make_engine(env.settings.db_url)
    try:
        manager = transaction.TransactionManager(explicit=True)
        with manager:
            factory = make_session_factory(engine, open_shred_store(env.settings.shred_store_url),
                                           audit_key=env.settings.audit_key)
            yield get_tm_session(factory, manager)
    finally:
        engine.dispose()
