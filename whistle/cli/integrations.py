"""`whistle integration add|list|disable`: systems (an HR database) allowed to post personnel events."""
from __future__ import annotations

from whistle.cli import env
from whistle.cli.env import CommandError
from whistle.protection.services import IntegrationExists, add_integration, disable_integration, list_integrations


def _add(args) -> int:
    name = args.name.strip()
    if not name or len(name) > 64:
        raise CommandError("give the integration a name of 1 to 64 characters")
    environment = env.load(args.config)
    try:
        with env.dbsession(environment) as dbsession:
            token = add_integration(dbsession, environment.settings, environment.clock, name)
    except IntegrationExists:
        raise CommandError(f"an integration named {name!r} exists already (nothing was changed)") from None
    print(f"Integration {name!r} added. Its token, shown only this once (send it as 'Authorization: Bearer ...'):")
    print(token)
    return 0


def _list(args) -> int:
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        for integration in list_integrations(dbsession):
            state = "disabled" if integration.disabled else "enabled"
            print(f"{integration.name}\t{state}\tadded {integration.created_at:%Y-%m-%d}")
    return 0


def _disable(args) -> int:
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        found = disable_integration(dbsession, environment.clock, args.name)
    if not found:
        raise CommandError(f"no integration named {args.name!r}")
    print(f"Integration {args.name!r} disabled: its token no longer works.")
    return 0


def register(subparsers) -> None:
    integration = subparsers.add_parser("integration", help="systems allowed to post personnel events").add_subparsers(
        dest="integration_command", required=True)
    add = integration.add_parser("add", help="add an integration and print its token once")
    add.add_argument("name", help="for example hr-system")
    add.set_defaults(handler=_add)
    listing = integration.add_parser("list", help="list integrations (names and whether enabled; never tokens)")
    listing.set_defaults(handler=_list)
    disable = integration.add_parser("disable", help="revoke an integration's token for good")
    disable.add_argument("name")
    disable.set_defaults(handler=_disable)
