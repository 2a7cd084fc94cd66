"""`whistle channels load FILE`: create or update the organisation's channels from a TOML file."""
from __future__ import annotations

import sys
import tomllib

from whistle.admin.services import record_staffing_changes, staffing
from whistle.cli import env
from whistle.cli.env import CommandError
from whistle.deadlines import registry_of
from whistle.hooks import Hooks
from whistle.intake_channels.services import GUARDIANS_DISABLED, ChannelConfigError, load_channels
from whistle.key_directory.services import (
    DIRECTORY_REASONS,
    UNATTENDED_REASONS,
    auto_sign,
    staleness,
    unattended_channels,
)


def _load(args) -> int:
    try:
        with open(args.file, "rb") as handle:
            data = tomllib.load(handle)
    except OSError as error:
        raise CommandError(f"cannot read {args.file}: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise CommandError(f"{args.file} is not valid TOML: {error}") from None
    environment = env.load(args.config)
    try:
        with env.dbsession(environment) as dbsession:
            before = staffing(dbsession)
            results = load_channels(dbsession, data.get("channel", []), known_profiles=_profiles(environment))
            dbsession.flush()
            auto_sign(dbsession, environment.settings, environment.clock)
            # The guardians already on a channel are told of each one the file adds.
            record_staffing_changes(dbsession, environment.clock, before, made_by=None)
            unattended = [(channel.slug, reason) for channel, reason in
                          unattended_channels(dbsession, environment.settings, environment.clock)]
            state = staleness(dbsession, environment.settings, environment.clock)
    except ChannelConfigError as error:
        raise CommandError(f"{args.file}: {error} (nothing was changed)") from None
    for slug, outcome in results:
        print(f"{outcome} channel {slug!r}")
    for slug, reason in unattended:
        print(unattended_warning(slug, reason, args.config), file=sys.stderr)
    if state.problem:
        print(f"whistle: warning: {state.problem}", file=sys.stderr)
    elif state.differences:
        print("whistle: warning: the signed key directory no longer matches the guardians here "
              f"(sign a new one: whistle -c {args.config} keys sign-directory --key PATH):", file=sys.stderr)
        for sentence in state.differences:
            print(f"  - {sentence}", file=sys.stderr)
    return 0


def unattended_warning(slug: str, reason: str, config: str) -> str:
    """One line: the channel takes no reports, why, and the commands that fix it."""
    if reason in DIRECTORY_REASONS:
        return (f"whistle: warning: channel {slug!r} takes no reports: {UNATTENDED_REASONS[reason]}. "
                f"Sign a new key directory: whistle -c {config} keys sign-directory --key PATH.")
    fixes = ['guardians = ["USERNAME"] in its [[channel]] table, then load again',
             f"or a new guardian: whistle -c {config} guardian add USERNAME --channel {slug}",
             "or tick it for an existing guardian at /admin/guardians"]
    if reason == GUARDIANS_DISABLED:
        fixes.append(f"or re-enable one: whistle -c {config} guardian disable USERNAME --enable")
    return (f"whistle: warning: channel {slug!r} takes no reports: {UNATTENDED_REASONS[reason]}. "
            f"Give it a guardian: {'; '.join(fixes)}.")


def _profiles(environment) -> dict:
    """Core's deadline profiles and those of the plugins the settings enable."""
    hooks = Hooks.from_names(environment.settings.plugins, environment.settings.plugins_plaintext)
    return registry_of(hooks.call("whistle_deadline_profiles"))


def register(subparsers) -> None:
    channels = subparsers.add_parser("channels", help="reporting channels").add_subparsers(
        dest="channels_command", required=True)
    load = channels.add_parser("load", help="create or update channels from a TOML file (never deletes)")
    load.add_argument("file", help="for example config/channels.toml")
    load.set_defaults(handler=_load)
