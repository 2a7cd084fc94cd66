"""`whistle db upgrade`: create or migrate the database with Alembic."""
from __future__ import annotations

from alembic import command
from alembic.config import Config

from whistle.cli import env


def alembic_config(db_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", "whistle:migrations")
    config.attributes["db_url"] = db_url
    return config


def upgrade(db_url: str, revision: str = "heads") -> None:
    command.upgrade(alembic_config(db_url), revision)


def _upgrade(args) -> int:
    settings = env.load(args.config).settings
    if settings.db_url.startswith("sqlite:///"):
        from pathlib import Path

        Path(settings.db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    upgrade(settings.db_url, args.revision)
    print(f"database at revision {args.revision}")
    return 0


def register(subparsers) -> None:
    db = subparsers.add_parser("db", help="database migrations").add_subparsers(dest="db_command", required=True)
    up = db.add_parser("upgrade", help="create or migrate the database")
    up.add_argument("revision", nargs="?", default="heads")
    up.set_defaults(handler=_upgrade)
