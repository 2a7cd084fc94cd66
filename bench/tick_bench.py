"""One `whistle tick` over 100,000 open cases: nothing due, and 1% due, as a ratio of a plain scan
of the same cases measured in the same run on the same database.

    .venv/bin/python bench/tick_bench.py                 # 100,000 cases, SQLite (~2 min)
    .venv/bin/python bench/tick_bench.py --cases 20000   # quicker
    .venv/bin/python bench/tick_bench.py --db-url postgresql+psycopg://...   # an EMPTY scratch database

The database is built by the real migrations, then filled in bulk with metadata-only open cases
(dummy keys), each held by one of 50 guardians, on a channel with the EU Directive profile; the
`eu_directive` plugin is enabled. Rows:

- baseline: reading every case's id, status and dates with one SELECT (the least any tick that
  looks at each case must do), and `whistle_escalate_on_schedule` called 100,000 times through
  pluggy with ready-made CaseInfo records (the plugin work alone);
- tick, already run today: the schedule mark and every case's `schedule_checked_on` are today
  (the minute-by-minute embedded ticks after the first of the day);
- tick, first of a new day, nothing due: the schedule mark is yesterday, and no rule fires (the
  1,000 cases on the day of the EU day-5 reminder are acknowledged: they are looked at, and
  their rules return nothing);
- tick, first of a new day, 1% due: 1 case in 100 gets its day-5 reminder (an outbox row and an
  audit event each), the rest nothing.
Notification delivery runs too (no guardian has an address: nothing to send).
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from sqlalchemy import delete, func, insert, select, text, update  # noqa: E402

import _common as c  # noqa: E402
from whistle.accounts.models import Account  # noqa: E402
from whistle.cases.models import Case, CaseGrant  # noqa: E402
from whistle.intake_channels.models import Channel  # noqa: E402
from whistle.cli.database import upgrade  # noqa: E402
from whistle.clock import ManualClock  # noqa: E402
from whistle.escalations.models import ScheduleMark  # noqa: E402
from whistle.escalations.schedule import MARK  # noqa: E402
from whistle.config import make_configurator  # noqa: E402
from whistle.notifications.models import Notification  # noqa: E402
from whistle.cases.info import case_infos  # noqa: E402
from whistle.jobs import context_from_registry  # noqa: E402
from whistle.scheduler.tick import run_tick  # noqa: E402
from whistle.settings import load_settings  # noqa: E402

GUARDIANS = 50


def raw_settings(tmp: str, url: str) -> dict:
    return {
        "whistle.db.url": url, "whistle.storage.dir": f"{tmp}/blobs",
        "whistle.secrets.lookup_pepper_file": f"{tmp}/keys/lookup_pepper",
        "whistle.secrets.session_key_file": f"{tmp}/keys/session_key", "whistle.secrets.autocreate": "true",
        "whistle.audit.key_file": f"{tmp}/keys/audit_key",
        "whistle.shred_store.url": f"sqlite:///{tmp}/shred-keys.sqlite",
        "whistle.plugins": "eu_directive",
    }


def fill(session, total: int, today: date) -> None:
    """`total` open cases; every 100th gets its EU day-5 reminder today, no other rule fires."""
    key = bytes(32)
    channel = Channel(slug="bench", title="Bench", questionnaire=[], identity_modes=["anonymous"],
                      deadline_profile="eu_directive")
    accounts = [Account(username=f"g{n}", public_key=key, key_by_password=key, key_by_recovery=key,
                        totp_secret_sealed=key, created_at=datetime.now(timezone.utc)) for n in range(GUARDIANS)]
    session.add_all([channel, *accounts])
    session.flush()
    for start in range(0, total, 20_000):
        cases, grants = [], []
        for n in range(start, min(total, start + 20_000)):
            case_id = n + 1
            if n % 100 == 0:  # received 5 days ago: acknowledgement due in 2 days, reminder today
                status, opened, ack_due, feedback_due = "received", today - timedelta(days=5), today + timedelta(days=2), today + timedelta(days=95)
            else:  # acknowledged, feedback due 20-69 days ahead: nothing fires today
                opened = today - timedelta(days=30 + n % 40)
                status, ack_due, feedback_due = "investigating", opened + timedelta(days=7), today + timedelta(days=20 + n % 50)
            cases.append({"id": case_id, "ref": f"B{case_id:09d}", "channel_id": channel.id, "status": status,
                          "priority": "normal", "public_key": key, "team_public_key": key,
                          "reporter_lookup_id": case_id.to_bytes(32, "big"), "reporter_public_key": key,
                          "opened_on": opened, "ack_due": ack_due, "feedback_due": feedback_due, "detriment": False,
                          "changes": [], "schedule_checked_on": today - timedelta(days=1),
                          # a handle, as every case has since shredding: the "shred wraps" job leaves it be
                          "shred_handle": case_id.to_bytes(16, "big")})
            grants.append({"case_id": case_id, "holder": "guardian", "account_id": accounts[n % GUARDIANS].id,
                           "wrapped_case_key": key, "granted_on": opened})
        session.execute(insert(Case), cases)
        session.execute(insert(CaseGrant), grants)
    session.commit()
    if session.bind.dialect.name == "postgresql":
        session.execute(text("ANALYZE"))
        session.commit()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--db-url", help="an empty scratch database (default: SQLite in a temp dir)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        url = args.db_url or f"sqlite:///{tmp}/bench.sqlite"
        upgrade(url)
        raw = raw_settings(tmp, url)
        today = date.today()
        clock = ManualClock(datetime.combine(today, datetime.min.time(), tzinfo=timezone.utc) + timedelta(hours=9))
        registry = make_configurator(raw, settings=load_settings(raw, environ={}), clock=clock).registry
        ctx = context_from_registry(registry)
        started = time.perf_counter()
        with ctx.session_factory() as session:
            fill(session, args.cases, today)
        filled = time.perf_counter() - started

        def set_checked(day: date, *, reminders: bool) -> None:
            """Every case's date rules done through `day` (the schedule mark), none due a retry."""
            with ctx.session() as session:
                session.execute(update(Case).values(schedule_checked_on=day, schedule_retry=False))
                session.execute(delete(ScheduleMark))
                session.execute(insert(ScheduleMark).values(name=MARK, checked_through=day))
                if not reminders:  # the 1% acknowledged too: nothing fires
                    session.execute(update(Case).where(Case.status == "received").values(status="acknowledged"))
                else:
                    session.execute(update(Case).where(Case.id % 100 == 1).values(status="received"))

        def scan() -> None:
            with ctx.session() as session:
                rows = session.execute(select(Case.id, Case.status, Case.ack_due, Case.feedback_due,
                                              Case.schedule_checked_on)).all()
            assert len(rows) == args.cases

        infos = []
        with ctx.session() as session:
            cases = list(session.scalars(select(Case).order_by(Case.id)))
            for start in range(0, len(cases), 1000):  # PostgreSQL takes at most 65,535 parameters
                infos += case_infos(session, cases[start:start + 1000]).values()

        def plugin_calls() -> None:
            for info in infos:
                ctx.hooks.call("whistle_escalate_on_schedule", case=replace(info, status="investigating"), today=today)

        def timed(prepare, run) -> tuple[float, object]:
            best, result = float("inf"), None
            for _ in range(args.rounds):
                prepare()
                t0 = time.perf_counter()
                result = run()
                best = min(best, time.perf_counter() - t0)
            return best, result

        yesterday = today - timedelta(days=1)
        rows = {}
        rows["baseline: one SELECT of every case's id, status and dates"] = timed(lambda: None, scan)
        rows["baseline: the plugin hook called for every case (pluggy only)"] = timed(lambda: None, plugin_calls)
        rows["tick, already run today"] = timed(lambda: set_checked(today, reminders=False), lambda: run_tick(ctx))
        rows["tick, first of a new day, nothing due"] = timed(lambda: set_checked(yesterday, reminders=False),
                                                              lambda: run_tick(ctx))
        rows["tick, first of a new day, 1% due"] = timed(lambda: set_checked(yesterday, reminders=True),
                                                         lambda: run_tick(ctx))
        with ctx.session() as session:
            queued = session.scalar(select(func.count()).select_from(Notification))

        base = rows["baseline: one SELECT of every case's id, status and dates"][0]
        print(c.machine_header("tick_bench", f"best of {args.rounds}"))
        print(f"{registry['db_engine'].dialect.name}; {args.cases:,} open cases, {GUARDIANS} guardians, plugin "
              f"eu_directive; filled in {filled:.1f} s; {queued:,} notices queued over the 1% rounds\n")
        print(c.table(["row", "time", "x SELECT scan", "per case"],
                      [[name, c.fmt_time(t), f"{t / base:.1f}", c.fmt_time(t / args.cases)] for name, (t, _) in rows.items()]))
        print("\nLast tick's summary:", "; ".join(rows["tick, first of a new day, 1% due"][1]))
        registry["db_engine"].dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
