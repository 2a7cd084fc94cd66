"""`whistle audit verify`: walk the audit log's hash chain and name the first broken link."""
from __future__ import annotations

from whistle.audit.services import verify_chain
from whistle.cli import env


def _verify(args) -> int:
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        report = verify_chain(dbsession)
    if report.intact:
        print(f"{report.events} events, chain intact")
        return 0
    print(f"audit chain broken at event {report.first_broken}: {report.reason}")
    return 1


def register(subparsers) -> None:
    audit = subparsers.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser("verify", help="check the hash chain; exit 1 naming the first broken event")
    verify.set_defaults(handler=_verify)
