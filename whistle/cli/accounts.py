"""`whistle guardian add`: enrol a guardian or admin; prints the recovery key and TOTP URI once."""
from __future__ import annotations

import getpass
import sys

from whistle.accounts.services import AccountError, Enrolment, add_account
from whistle.cli import env


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password (at least 12 characters): ")
    if getpass.getpass("Again: ") != first:
        raise AccountError("the two passwords differ")
    return first


def print_enrolment(enrolment: Enrolment) -> None:
    account = enrolment.account
    roles = [name for name, held in (("guardian", account.is_guardian), ("admin", account.is_admin)) if held]
    print(f"Account {account.username!r} created ({', '.join(roles)}).")
    print("Shown once; store both somewhere safe:")
    print(f"  recovery key: {enrolment.recovery_key}")
    print(f"  TOTP secret:  {enrolment.totp_secret}")
    print(f"  TOTP URI:     {enrolment.totp_uri}")


def _add(args) -> int:
    from whistle.cli import CommandError

    environment = env.load(args.config)
    try:
        password = read_password(args.password_stdin)
        with env.dbsession(environment) as dbsession:
            enrolment = add_account(
                dbsession, environment.settings, environment.clock, username=args.username, password=password,
                is_guardian=not args.admin, is_admin=args.admin, channel_slugs=tuple(args.channel or ()),
            )
            print_enrolment(enrolment)
    except AccountError as error:
        raise CommandError(str(error)) from None
    return 0


def register(subparsers) -> None:
    guardian = subparsers.add_parser("guardian", help="staff accounts").add_subparsers(dest="guardian_command", required=True)
    add = guardian.add_parser("add", help="enrol a guardian (or, with --admin, an admin who reads no cases)")
    add.add_argument("username")
    add.add_argument("--admin", action="store_true", help="an admin: configures, gets no case access")
    add.add_argument("--channel", action="append", metavar="SLUG", help="make them a default recipient of this channel")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.set_defaults(handler=_add)
