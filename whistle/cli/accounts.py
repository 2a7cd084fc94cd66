"""`whistle guardian add | disable | reset-password | reset-authenticator | notify`: staff accounts from the
command line."""
from __future__ import annotations

import getpass
import sys
from types import SimpleNamespace

from whistle.accounts.services import (
    AccountError,
    Enrolment,
    account_named,
    reset_authenticator,
    reset_password,
    set_disabled,
)
from whistle.admin.services import add_account, channel_slugs_of, consequences_of
from whistle.cli import env
from whistle.cli.env import CommandError
from whistle.config import make_configurator
from whistle.hooks import Hooks, PluginError, hook_caller, load_startup_offers, plugin_settings
from whistle.key_directory.services import auto_sign
from whistle.notifications.preferences import AddressError, set_notify_address


def need_a_terminal(what: str, instead: str) -> None:
    """Stop with one line saying what to do instead when there is no terminal to ask on: getpass
    would otherwise warn and read stdin, or end in a traceback when stdin is empty."""
    if not sys.stdin.isatty():
        raise CommandError(f"no terminal to type the {what} on: {instead}")


def read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    need_a_terminal("password", "pipe it in, one line on stdin, with --password-stdin")
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
    environment = env.load(args.config)
    try:
        password = read_password(args.password_stdin)
        with env.dbsession(environment) as dbsession:
            enrolment = add_account(
                dbsession, environment.settings, environment.clock, username=args.username, password=password,
                is_guardian=not args.admin, is_admin=args.admin, channel_slugs=tuple(args.channel or ()),
            )
            if args.notify:  # checked before anything is printed: a bad address stores no account
                _set_notify(dbsession, environment, enrolment.account, args.notify)
            print_enrolment(enrolment)
            if args.notify:
                print(f"Notified through {enrolment.account.notify_channel}.")
    except AccountError as error:
        raise CommandError(str(error)) from None
    return 0


def existing_account(dbsession, username: str):
    """The account named `username`, or a CommandError saying there is none."""
    account = account_named(dbsession, username)
    if account is None:
        raise CommandError(f"there is no account {username!r}")
    return account


def _disable(args) -> int:
    """Disable (or re-enable) an account; one whose going would stop a channel taking reports or
    leave open cases unreadable is disabled only with --yes, after saying so."""
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        account = existing_account(dbsession, args.username)
        consequences = None if args.enable else consequences_of(
            dbsession, account, guardian=account.is_guardian, disabled=True,
            channels=set(channel_slugs_of(dbsession, account)))
        if consequences and not args.yes:
            raise CommandError(f"disabling {account.username!r}: {' '.join(consequences.sentences(account.username))} "
                               "Nothing was changed; run again with --yes to disable anyway.")
        set_disabled(dbsession, environment.clock, account, not args.enable, actor="system")
        dbsession.flush()
        auto_sign(dbsession, environment.settings, environment.clock)
        print(f"Account {account.username!r} {'enabled' if args.enable else 'disabled; its sessions have ended'}.")
        for sentence in consequences.sentences(account.username) if consequences else ():
            print(f"warning: {sentence}", file=sys.stderr)
    return 0


def _app_hook_caller(environment, dbsession):
    """A hook caller with the app's own plugins and event subscribers, so that what a reset
    publishes (the owner's notice) happens as it would from the pages."""
    registry = make_configurator(environment.raw, settings=environment.settings, clock=environment.clock).registry
    registry["db_engine"].dispose()  # the command's own session does the work
    return hook_caller(registry.hooks, registry.events, dbsession, environment.clock)


def print_new_recovery_key(recovery_key: str) -> None:
    print("The recovery key used no longer works. The new one, shown once; store it somewhere safe:")
    print(f"  recovery key: {recovery_key}")


def _reset_password(args) -> int:
    """Read the recovery key, then the new password, from stdin (one line each)."""
    if not args.recovery_key_stdin:
        need_a_terminal("recovery key", "pipe it and the new password in, one line each on stdin, "
                                        "with --recovery-key-stdin")
        recovery_key = getpass.getpass("Recovery key: ")
        password = read_password(False)
    else:
        recovery_key = sys.stdin.readline().strip()
        password = sys.stdin.readline().rstrip("\n")
    environment = env.load(args.config)
    try:
        with env.dbsession(environment) as dbsession:
            # The operator's command line is not throttled: it is the way in while the pages are.
            reset = reset_password(dbsession, environment.settings, environment.clock, username=args.username,
                                   recovery_key=recovery_key, new=password,
                                   call_hook=_app_hook_caller(environment, dbsession), throttled=False)
            print(f"Password of {reset.account.username!r} reset; its cases stay readable and its sessions have "
                  "ended.")
            print_new_recovery_key(reset.recovery_key)
    except AccountError as error:
        raise CommandError(str(error)) from None
    return 0


def _reset_authenticator(args) -> int:
    """Read the recovery key (a line of stdin with --recovery-key-stdin); print the new secret once."""
    recovery_key = sys.stdin.readline().strip() if args.recovery_key_stdin else getpass.getpass("Recovery key: ")
    environment = env.load(args.config)
    try:
        with env.dbsession(environment) as dbsession:
            new = reset_authenticator(dbsession, environment.settings, environment.clock, username=args.username,
                                      recovery_key=recovery_key, actor="system",
                                      call_hook=_app_hook_caller(environment, dbsession), throttled=False)
            print(f"Authenticator of {new.account.username!r} set up again: codes from the old one no longer work, "
                  "and its sessions have ended.")
            print("Shown once; add it to the authenticator app now:")
            print(f"  TOTP secret:  {new.grouped_secret}")
            print(f"  TOTP URI:     {new.totp_uri}")
            print_new_recovery_key(new.recovery_key)
    except AccountError as error:
        raise CommandError(str(error)) from None
    return 0


# --- where a guardian is notified ---


def notification_channels(environment) -> dict:
    """The notification channels the enabled plugins offer, by name, configured as the app would be."""
    settings = environment.settings
    try:
        registry = SimpleNamespace(hooks=Hooks.from_names(settings.plugins, settings.plugins_plaintext),
                                   raw_plugin_settings=plugin_settings(environment.raw))
    except PluginError as error:
        raise CommandError(str(error)) from None
    load_startup_offers(registry)
    return registry.notification_channels


def _set_notify(dbsession, environment, account, spec: str) -> None:
    """`spec` is CHANNEL:ADDRESS (e.g. email:sam@example.org, webhook:https://...) or "none"."""
    channel, _, address = ("", "", "") if spec.strip().lower() == "none" else spec.partition(":")
    if channel and not address:
        raise CommandError("--notify takes CHANNEL:ADDRESS, e.g. email:sam@example.org, or none")
    try:
        set_notify_address(dbsession, environment.clock, account, channel, address,
                           available=notification_channels(environment), actor="system")
    except AddressError as error:
        raise CommandError(f"{error.field}: {error}") from None


def _notify(args) -> int:
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        account = existing_account(dbsession, args.username)
        _set_notify(dbsession, environment, account, args.notify)
        where = f"through {account.notify_channel}" if account.notify_channel else "no more (no channel)"
        print(f"Account {account.username!r} is notified {where}.")
    return 0


def register(subparsers) -> None:
    guardian = subparsers.add_parser("guardian", help="staff accounts").add_subparsers(dest="guardian_command",
                                                                                      required=True)
    add = guardian.add_parser("add", help="enrol a guardian (or, with --admin, an admin who reads no cases)")
    add.add_argument("username")
    add.add_argument("--admin", action="store_true", help="an admin: configures, gets no case access")
    add.add_argument("--channel", action="append", metavar="SLUG", help="make them a default recipient of this channel")
    add.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    add.add_argument("--notify", metavar="CHANNEL:ADDRESS",
                     help="where they are told that something needs them, e.g. email:sam@example.org")
    add.set_defaults(handler=_add)

    notify = guardian.add_parser("notify", help="set where a guardian is notified (CHANNEL:ADDRESS, or none)")
    notify.add_argument("username")
    notify.add_argument("notify", metavar="CHANNEL:ADDRESS", help="e.g. email:sam@example.org, "
                        "webhook:https://chat.example.org/hook, or none")
    notify.set_defaults(handler=_notify)

    disable = guardian.add_parser("disable", help="disable an account and end its sessions")
    disable.add_argument("username")
    disable.add_argument("--enable", action="store_true", help="re-enable instead")
    disable.add_argument("--yes", action="store_true",
                         help="disable even if a channel stops taking reports or cases become unreadable")
    disable.set_defaults(handler=_disable)

    reset = guardian.add_parser("reset-password", help="set a new password with the recovery key (keeps case access)")
    reset.add_argument("username")
    reset.add_argument("--recovery-key-stdin", action="store_true",
                       help="read the recovery key, then the new password, one line each from stdin")
    reset.set_defaults(handler=_reset_password)

    authenticator = guardian.add_parser("reset-authenticator",
                                        help="a lost authenticator: a new TOTP secret, with the recovery key")
    authenticator.add_argument("username")
    authenticator.add_argument("--recovery-key-stdin", action="store_true", help="read the recovery key from stdin")
    authenticator.set_defaults(handler=_reset_authenticator)
