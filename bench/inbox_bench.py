"""How fast the guardian's inbox is with 100,000 cases in the database, as a ratio of a
primary-key fetch (and of `SELECT 1`) measured in the same run on the same connection.

    .venv/bin/python bench/inbox_bench.py                 # ~40 s: 100,000 cases, SQLite
    .venv/bin/python bench/inbox_bench.py --quick         # ~15 s
    .venv/bin/python bench/inbox_bench.py --db-url postgresql+psycopg://...   # an EMPTY scratch database

The database is built by the real migrations in a temp dir (or at --db-url), then filled with
metadata-only cases (dummy 32-byte keys) in bulk: one busy guardian holds --mine of them,
another holds the rest, as in tests/functional/workspace/test_inbox_scale.py. Each row times
`whistle.cases.inbox.inbox()` as a view calls it: the page with its total, labels and unread counts.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import func, insert, select, text  # noqa: E402

import _common as c  # noqa: E402
from whistle.accounts.models import Account  # noqa: E402
from whistle.cases.inbox import InboxFilters, inbox  # noqa: E402
from whistle.cases.models import Case, CaseGrant, CaseItem, CaseLabel  # noqa: E402
from whistle.intake_channels.models import Channel  # noqa: E402
from whistle.cli.database import upgrade  # noqa: E402
from whistle.db import make_engine, make_session_factory  # noqa: E402

STATUSES = ("received", "acknowledged", "assessing", "investigating", "feedback_given", "closed")


def fill(session, total: int, mine: int, today: date) -> tuple[int, int]:
    key = bytes(32)
    channel = Channel(slug="bench", title="Bench", questionnaire=[], identity_modes=["anonymous"])
    accounts = [Account(username=name, public_key=key, key_by_password=key, key_by_recovery=key, totp_secret_sealed=key,
                        created_at=datetime.now(timezone.utc)) for name in ("busy", "other")]
    session.add_all([channel, *accounts])
    session.flush()
    me, other = (a.id for a in accounts)
    every = max(1, total // mine)
    for start in range(0, total, 20_000):
        cases, grants, items, labels = [], [], [], []
        for n in range(start, min(total, start + 20_000)):
            case_id, opened = n + 1, today - timedelta(days=n % 400)
            cases.append({"id": case_id, "ref": f"B{case_id:09d}", "channel_id": channel.id, "status": STATUSES[n % 6],
                          "priority": ("low", "normal", "high", "urgent")[n % 4], "public_key": key,
                          "team_public_key": key, "reporter_lookup_id": case_id.to_bytes(32, "big"),
                          "reporter_public_key": key, "opened_on": opened, "ack_due": opened + timedelta(days=7),
                          "feedback_due": opened + timedelta(days=97), "detriment": False, "changes": []})
            holder = me if n % every == 0 else other
            grants.append({"case_id": case_id, "holder": "guardian", "account_id": holder, "sealed_case_key": key,
                           "granted_on": opened})
            if holder == me:
                items.append({"case_id": case_id, "kind": "message", "author": "reporter", "ciphertext": key,
                              "created_on": opened})
                if n % 3 == 0:
                    labels.append({"case_id": case_id, "label": "safeguarding"})
        session.execute(insert(Case), cases)
        session.execute(insert(CaseGrant), grants)
        if items:
            session.execute(insert(CaseItem), items)
        if labels:
            session.execute(insert(CaseLabel), labels)
    session.commit()
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()
    return me, other


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--mine", type=int, default=2_000, help="how many of them the busy guardian holds")
    parser.add_argument("--db-url", help="an empty scratch database (default: SQLite in a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite:///{tmp}/bench.sqlite"
        upgrade(url)
        engine = make_engine(url)
        session = make_session_factory(engine)()
        today = date.today()
        started = time.perf_counter()
        me, _other = fill(session, args.cases, args.mine, today)
        filled = time.perf_counter() - started
        assert session.scalar(select(func.count()).select_from(Case)) == args.cases

        def pk_fetch():
            session.execute(select(Case).where(Case.id == 4242)).scalar_one()
            session.expunge_all()

        def select_one():
            session.execute(text("SELECT 1")).scalar_one()

        def page(filters):
            def run():
                rows, _total = inbox(session, me, filters, today)
                session.expunge_all()
                return rows
            return run

        rows = {
            "baseline: primary-key fetch of one case": pk_fetch,
            "baseline: SELECT 1": select_one,
            "inbox, 25 per page, deadline first": page(InboxFilters()),
            "inbox, 100 per page": page(InboxFilters(per_page=100)),
            "inbox, page 40": page(InboxFilters(page=40)),
            "inbox, overdue only": page(InboxFilters(overdue=True)),
            "inbox, label filter": page(InboxFilters(label="safeguarding")),
            "inbox, unread only": page(InboxFilters(unread=True)),
            "inbox, by priority": page(InboxFilters(sort="priority")),
        }
        best = c.interleaved(rows, budget_s=6 if args.quick else 24, rounds=3 if args.quick else 5)
        base = best["baseline: primary-key fetch of one case"]
        one = best["baseline: SELECT 1"]
        print(c.machine_header("inbox_bench", "quick" if args.quick else "full"))
        print(f"{engine.dialect.name}; {args.cases:,} cases, {args.mine:,} granted to the guardian; filled in {filled:.1f} s\n")
        print(c.table(["row", "time per call", "x pk fetch", "x SELECT 1"],
                      [[name, c.fmt_time(t), f"{t / base:.1f}", f"{t / one:.1f}"] for name, t in best.items()]))
        print("\n'x pk fetch' = time of the row / time of fetching one case by primary key (same run, same connection).")
        session.close()
        engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
