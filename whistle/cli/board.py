"""`whistle board list` and `whistle board remove ID`: the public "you said, we did" board from the
operator's side. Guardians publish, edit and unpublish entries from their case; once the case is
deleted by the retention rules the entry stays on the board with no case to reach it from, and
this is how it is taken down."""
from __future__ import annotations

from sqlalchemy import select

from whistle.board.models import BoardEntry
from whistle.board.services import public_entries, unpublish
from whistle.cli import env
from whistle.cli.env import CommandError
from whistle.numbers import whole_number


def _list(args) -> int:
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        for entry in public_entries(dbsession):
            about = "its case is deleted" if entry.case_id is None else "from a case"
            print(f"{entry.id}\t{entry.published_on.isoformat()}\t{about}\t{entry.title}")
    return 0


def _remove(args) -> int:
    entry_id = whole_number(args.id)
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        entry = dbsession.scalars(select(BoardEntry).where(BoardEntry.id == entry_id)).first() \
            if entry_id is not None else None
        if entry is None:
            raise CommandError(f"there is no board entry {args.id!r} (see: whistle -c {args.config} board list)")
        title = entry.title
        unpublish(dbsession, environment.clock, entry, None)
    print(f"removed board entry {entry_id}: {title}")
    return 0


def register(subparsers) -> None:
    board = subparsers.add_parser("board", help='the public "you said, we did" board').add_subparsers(
        dest="board_command", required=True)
    board.add_parser("list", help="every published entry: id, day, whether its case still exists, title"
                     ).set_defaults(handler=_list)
    remove = board.add_parser("remove", help="take an entry off the board (audited)")
    remove.add_argument("id", help="the entry's id, from `board list`")
    remove.set_defaults(handler=_remove)
