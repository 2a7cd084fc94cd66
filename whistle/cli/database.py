"""`whistle db upgrade`: create or migrate the database with Alembic."""
from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from whistle.cli import env
from whistle.settings import database_url


def alembic_config(db_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "whistle:migrations")
    config.attributes["db_url"] = db_url
    return config


def upgrade(db_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(db_url), revision)


def _upgrade(args) -> int:
    # Only the URL is needed: the schema can be made before `keys init` has been run.
    db_url = database_url(env.raw_settings(args.config))
    if db_url.startswith("sqlite:///"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(db_url, args.revision)
    print("database upgraded" if args.revision == "heads" else f"database at revision {args.revision}")
    return 0


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="create or migrate the database")
    up.add_argument("revision", nargs="?", default="heads")
    up.set_defaults(handler=_upgrade)
