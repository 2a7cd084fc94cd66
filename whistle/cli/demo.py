"""`whistle demo`: on first run, a demo channel and a demo guardian (for `make run`); later, reuse.

The demo guardian's credentials are kept in var/demo-guardian.txt (mode 0600) so a second run
can show them again. That is a development convenience only: never run `demo` in production.
"""
from __future__ import annotations

import os
from pathlib import Path

import pyotp
from sqlalchemy import select

from whistle import crypto
from whistle.accounts.models import Account
from whistle.accounts.services import add_account
from whistle.channels.models import Channel
from whistle.cli import env

DEMO_USERNAME = "demo.guardian"
DEMO_CHANNEL = {
    "slug": "raise-a-concern",
    "title": "Raise a concern",
    "introduction": "For staff: tell us about something at work that puts people at risk or is wrong.",
    "identity_modes": ["anonymous", "confidential", "open"],
    "questionnaire": [
        {"name": "where", "label": "Where did it happen?", "type": "text", "required": False,
         "help": "A ward, team, office or place."},
        {"name": "ongoing", "label": "Is it still happening?", "type": "yes_no", "required": True},
        {"name": "concern_type", "label": "What is it about?", "type": "single_choice", "required": False,
         "choices": ["Patient or client safety", "Worker safety or wellbeing", "Bullying or harassment",
                     "Fraud or misuse of money", "Something else"]},
    ],
}


def credentials_file(config_file: str) -> Path:
    return Path(config_file).parent / "var" / "demo-guardian.txt"


def _write_credentials(path: Path, lines: list[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def _read_value(path: Path, name: str) -> str:
    for line in path.read_text().splitlines():
        key, _, value = line.partition(":")
        if key.strip() == name:
            return value.strip()
    raise KeyError(name)


def _setup(args) -> int:
    from whistle.cli import CommandError

    environment = env.load(args.config)
    if not environment.settings.db_url.startswith("sqlite"):
        raise CommandError("`demo` is for development installs (SQLite) only: it keeps a password in a file")
    path = credentials_file(environment.config_file)
    with env.dbsession(environment) as dbsession:
        if dbsession.scalars(select(Channel).where(Channel.slug == DEMO_CHANNEL["slug"])).first() is None:
            dbsession.add(Channel(**DEMO_CHANNEL))
            dbsession.flush()
            print(f"Created the demo channel {DEMO_CHANNEL['title']!r}.")
        if dbsession.scalars(select(Account).where(Account.username == DEMO_USERNAME)).first() is None:
            password = crypto.random_token(12)
            enrolment = add_account(dbsession, environment.settings, environment.clock, username=DEMO_USERNAME,
                                    password=password, channel_slugs=(DEMO_CHANNEL["slug"],))
            _write_credentials(path, [
                f"username: {DEMO_USERNAME}",
                f"password: {password}",
                f"recovery key: {enrolment.recovery_key}",
                f"TOTP secret: {enrolment.totp_secret}",
                f"TOTP URI: {enrolment.totp_uri}",
            ])
            print("Created the demo guardian.")
    if path.exists():
        print(f"\nDemo guardian (also in {path}):")
        print("  " + path.read_text().strip().replace("\n", "\n  "))
        print(f"  current code: {pyotp.TOTP(_read_value(path, 'TOTP secret')).now()}"
              f"  (a fresh one: .venv/bin/whistle -c {args.config} demo code)")
        print("\nServing on http://127.0.0.1:6543 - staff sign in at http://127.0.0.1:6543/staff/login\n")
    return 0


def _code(args) -> int:
    path = credentials_file(os.path.abspath(args.config))
    print(pyotp.TOTP(_read_value(path, "TOTP secret")).now())
    return 0


def register(subparsers) -> None:
    demo = subparsers.add_parser("demo", help="create (or show) the demo channel and guardian")
    demo.set_defaults(handler=_setup)
    demo_commands = demo.add_subparsers(dest="demo_command")
    code = demo_commands.add_parser("code", help="print the demo guardian's current TOTP code")
    code.set_defaults(handler=_code)
