"""`whistle audit verify` and `whistle audit checkpoint`: check the audit log against what the
database cannot rewrite (the audit key's MACs, the checkpoint file), and add a checkpoint."""
from __future__ import annotations

from pathlib import Path

from whistle.audit.checkpoints import read_checkpoint_file
from whistle.audit.services import AuditTampered, verify_log, write_checkpoint
from whistle.cli import env
from whistle.cli.env import CommandError


def _verify(args) -> int:
    environment = env.load(args.config)
    path = Path(args.checkpoints) if args.checkpoints else environment.settings.audit_checkpoint_file
    if args.checkpoints and not path.is_file():
        raise CommandError(f"cannot read the checkpoint file {path}")
    lines = read_checkpoint_file(path)
    try:
        with env.dbsession(environment) as dbsession:
            report = verify_log(dbsession, lines)
    except AuditTampered as failure:
        raise CommandError(str(failure)) from None
    if not report.intact:
        print(report.failure)
        return 1
    if report.head_signed_now:
        print("the audit head had no MAC yet (the first check since the upgrade that added it): signed it now")
    print(f"{report.events} events, chain intact, head MAC checks out, "
          f"{report.checkpoints} checkpoint{'' if report.checkpoints == 1 else 's'} in {path} check out")
    return 0


def _checkpoint(args) -> int:
    environment = env.load(args.config)
    path = environment.settings.audit_checkpoint_file
    try:
        with env.dbsession(environment) as dbsession:
            checkpoint = write_checkpoint(dbsession, environment.clock, path)
    except AuditTampered as failure:
        raise CommandError(f"no checkpoint written: {failure}; run `whistle audit verify`") from None
    if checkpoint is None:
        print(f"no checkpoint written: no events since the last checkpoint in {path}")
    else:
        print(f"checkpoint at event {checkpoint.seq} added to {path}")
    return 0


def register(subparsers) -> None:
    audit = subparsers.add_parser("audit", help="the audit log").add_subparsers(dest="audit_command", required=True)
    verify = audit.add_parser(
        "verify", help="check the chain, its head's MAC and every checkpoint; exit 1 naming the first failure",
        description="Check the audit log: the hash chain, the head's MAC (the audit key), every checkpoint's MAC, "
                    "and that the chain still holds each checkpointed event (none cut off the end). Exit 1 with "
                    "a line naming the first failure.")
    verify.add_argument("--checkpoints", metavar="FILE",
                        help="check against this checkpoint file (a copy kept elsewhere, or the log's checkpoint "
                             "lines) instead of whistle.audit.checkpoint_file")
    verify.set_defaults(handler=_verify)
    checkpoint = audit.add_parser(
        "checkpoint", help="add the chain's head to the checkpoint file now",
        description="Append a checkpoint (the chain's length and head hash, with the audit key's MAC) to "
                    "whistle.audit.checkpoint_file and the log. Refuses, writing nothing, if the head's MAC or the "
                    "newest checkpoint does not check out.")
    checkpoint.set_defaults(handler=_checkpoint)
