"""`whistle integration add NAME`: let a system (an HR database) post personnel events; prints its token once."""
from __future__ import annotations

from whistle.cli import env


def _add(args) -> int:
    from whistle.cli import CommandError
    from whistle.protection.services import IntegrationExists, add_integration

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


def register(subparsers) -> None:
    integration = subparsers.add_parser("integration", help="systems allowed to post personnel events").add_subparsers(
        dest="integration_command", required=True)
    add = integration.add_parser("add", help="add an integration and print its token once")
    add.add_argument("name", help="for example hr-system")
    add.set_defaults(handler=_add)
