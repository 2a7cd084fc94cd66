"""`whistle channels load FILE`: create or update the organisation's channels from a TOML file."""
from __future__ import annotations

import tomllib

from whistle.channels.services import ChannelConfigError, load_channels
from whistle.cli import env


def _load(args) -> int:
    from whistle.cli import CommandError

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
            results = load_channels(dbsession, data.get("channel", []), known_profiles=_profiles(environment))
    except ChannelConfigError as error:
        raise CommandError(f"{args.file}: {error} (nothing was changed)") from None
    for slug, outcome in results:
        print(f"{outcome} channel {slug!r}")
    return 0


def _profiles(environment) -> dict:
    """Core's deadline profiles and those of the plugins the settings enable (issue 5, part X)."""
    from whistle.cases.deadlines import registry_of
    from whistle.hooks import Hooks

    hooks = Hooks.from_names(environment.settings.plugins, environment.settings.plugins_plaintext)
    return registry_of(hooks.call("whistle_deadline_profiles"))


def register(subparsers) -> None:
    channels = subparsers.add_parser("channels", help="reporting channels").add_subparsers(
        dest="channels_command", required=True)
    load = channels.add_parser("load", help="create or update channels from a TOML file (never deletes)")
    load.add_argument("file", help="for example config/channels.toml")
    load.set_defaults(handler=_load)
