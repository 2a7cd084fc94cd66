"""`whistle demo`: on first run, demo accounts for every shipped channel (for `make run`); later, reuse.

`make run` loads config/channels.toml first; `demo` then gives each of its channels a guardian
(and the second tier where it makes sense), so every channel takes reports:

    demo.guardian      tier 1 of raise-a-concern and ideas-for-improvement
    demo.youth         tier 1 of young-peoples-voice
    demo.safeguarding  tier 2 (second tier) of young-peoples-voice and raise-a-concern
    demo.admin         admin only: configures, reads no case

A channel it expects but cannot find is named and skipped, except raise-a-concern, which it
creates when missing so that `demo` alone still gives a working installation. Each account's
credentials are kept in var/demo-<name>.txt (mode 0600; var/demo-guardian.txt for
demo.guardian) so that a second run can show them again. That is a development convenience
only: never run `demo` in production.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import plaster
import pyotp
from sqlalchemy import select

from whistle import crypto
from whistle.accounts.models import Account
from whistle.accounts.services import add_account
from whistle.cli import env
from whistle.cli.env import CommandError
from whistle.intake_channels.models import TIER_DEFAULT, TIER_SECOND, Channel, ChannelGuardian
from whistle.intake_channels.services import record_membership
from whistle.key_directory.services import auto_sign, unattended_channels

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


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str  # how `demo` describes it
    channels: dict[str, int] = field(default_factory=dict)  # slug -> tier
    admin: bool = False

    @property
    def guardian(self) -> bool:
        return not self.admin


DEMO_ACCOUNTS = (
    DemoAccount(DEMO_USERNAME, "guardian", {"raise-a-concern": TIER_DEFAULT, "ideas-for-improvement": TIER_DEFAULT}),
    DemoAccount("demo.youth", "guardian", {"young-peoples-voice": TIER_DEFAULT}),
    DemoAccount("demo.safeguarding", "second-tier guardian (safeguarding lead)",
                {"young-peoples-voice": TIER_SECOND, "raise-a-concern": TIER_SECOND}),
    DemoAccount("demo.admin", "admin (reads no case)", admin=True),
)


def credentials_file(config_file: str, username: str = DEMO_USERNAME) -> Path:
    """var/demo-guardian.txt for demo.guardian, var/demo-youth.txt for demo.youth, and so on."""
    return Path(config_file).parent / "var" / f"demo-{username.removeprefix('demo.')}.txt"


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


def served_at(config_file: str) -> str | None:
    """The address `pserve` serves this .ini on, from [server:main] (`listen`, or `host` and
    `port`), as a browser on this machine reaches it; None for a Unix socket or no such section."""
    try:
        server = dict(plaster.get_loader(config_file, protocols=["wsgi"]).get_settings("server:main"))
    except (LookupError, ValueError):
        return None
    if server.get("unix_socket"):
        return None
    listen = (server.get("listen") or "").split()
    if listen:
        host, _, port = listen[0].rpartition(":")
    else:
        host, port = server.get("host", "0.0.0.0"), server.get("port", "8080")  # waitress's defaults
    if host in ("", "*", "0.0.0.0", "::", "[::]"):
        host = "127.0.0.1"  # every address: this machine's is one of them
    return f"http://{host}:{port}"


def _ensure_channels(dbsession) -> dict[str, Channel]:
    channels = {channel.slug: channel for channel in dbsession.scalars(select(Channel))}
    if DEMO_CHANNEL["slug"] not in channels:
        channels[DEMO_CHANNEL["slug"]] = channel = Channel(**DEMO_CHANNEL)
        dbsession.add(channel)
        dbsession.flush()
        print(f"Created the demo channel {DEMO_CHANNEL['title']!r}.")
    return channels


def _ensure_memberships(dbsession, account: Account, demo: DemoAccount, channels: dict[str, Channel],
                        missing: set[str]) -> None:
    """Add the demo memberships that are not there yet; never remove or re-tier one."""
    current = set(dbsession.scalars(select(ChannelGuardian.channel_id).where(ChannelGuardian.account_id == account.id)))
    for slug, tier in demo.channels.items():
        channel = channels.get(slug)
        if channel is None:
            missing.add(slug)
        elif channel.id not in current:
            dbsession.add(ChannelGuardian(channel_id=channel.id, account_id=account.id, tier=tier))
            record_membership(dbsession, slug, account.id, tier)
    dbsession.flush()


def _create(dbsession, environment, demo: DemoAccount) -> Account:
    password = crypto.random_token(12)
    enrolment = add_account(dbsession, environment.settings, environment.clock, username=demo.username,
                            password=password, is_guardian=demo.guardian, is_admin=demo.admin)
    account = enrolment.account
    if demo.guardian:
        # Set directly: a local debugging mail server takes any address, which the form's check
        # (a dotted domain) would refuse; the smtp plugin delivers there when it is enabled.
        account.notify_channel, account.notify_address = "email", f"{demo.username}@localhost.localdomain"
    _write_credentials(credentials_file(environment.config_file, demo.username), [
        f"username: {demo.username}",
        f"password: {password}",
        f"recovery key: {enrolment.recovery_key}",
        f"TOTP secret: {enrolment.totp_secret}",
        f"TOTP URI: {enrolment.totp_uri}",
    ])
    print(f"Created the demo {demo.role} {demo.username!r}.")
    return account


def _setup(args) -> int:
    environment = env.load(args.config)
    if not environment.settings.db_url.startswith("sqlite"):
        raise CommandError("`demo` is for development installs (SQLite) only: it keeps a password in a file")
    missing: set[str] = set()
    with env.dbsession(environment) as dbsession:
        channels = _ensure_channels(dbsession)
        created: dict[int, bytes] = {}
        for demo in DEMO_ACCOUNTS:
            account = dbsession.scalars(select(Account).where(Account.username == demo.username)).first()
            if account is None:
                account = _create(dbsession, environment, demo)
                created[account.id] = account.public_key
            if demo.guardian:
                _ensure_memberships(dbsession, account, demo, channels, missing)
        # With auto_sign (development.ini), the key directory lists the demo guardians: their key
        # pairs were made just now, so they are vouched for.
        auto_sign(dbsession, environment.settings, environment.clock, vouched=created)
        unattended = [channel.slug for channel, _reason in
                      unattended_channels(dbsession, environment.settings, environment.clock)]
    for slug in sorted(missing):
        print(f"No channel {slug!r} (load config/channels.toml first): its demo guardians were skipped.")
    if unattended:
        print(f"Still taking no reports (no enabled guardian): {', '.join(unattended)}.")
    else:
        print("Every channel has a guardian and takes reports.")
    for demo in DEMO_ACCOUNTS:
        _show(args.config, environment.config_file, demo)
    address = served_at(environment.config_file)
    if address:
        print(f"\nServing on {address} - staff sign in at {address}/staff/login\n")
    else:
        print("\nServing where [server:main] of the .ini says - staff sign in at /staff/login\n")
    return 0


def _show(config: str, config_file: str, demo: DemoAccount) -> None:
    path = credentials_file(config_file, demo.username)
    tiers = ", ".join(f"{slug} ({'second tier' if tier == TIER_SECOND else 'tier 1'})"
                      for slug, tier in demo.channels.items())
    print(f"\nDemo {demo.role} (also in {path}){': ' + tiers if tiers else ''}")
    if not path.exists():
        print(f"  {demo.username} exists, but its credentials file is gone: `make clean` starts again")
        return
    print("  " + path.read_text().strip().replace("\n", "\n  "))
    print(f"  current code: {pyotp.TOTP(_read_value(path, 'TOTP secret')).now()}"
          f"  (a fresh one: .venv/bin/whistle -c {config} demo code {demo.username})")


def _code(args) -> int:
    path = credentials_file(os.path.abspath(args.config), args.username)
    if not path.exists():
        raise CommandError(f"no credentials for {args.username!r} in {path}: run `demo` first")
    print(pyotp.TOTP(_read_value(path, "TOTP secret")).now())
    return 0


def register(subparsers) -> None:
    demo = subparsers.add_parser("demo", help="create (or show) the demo accounts, a guardian for every channel")
    demo.set_defaults(handler=_setup)
    demo_commands = demo.add_subparsers(dest="demo_command")
    code = demo_commands.add_parser("code", help="print a demo account's current TOTP code")
    code.add_argument("username", nargs="?", default=DEMO_USERNAME,
                      choices=[account.username for account in DEMO_ACCOUNTS])
    code.set_defaults(handler=_code)
