"""Read endpoints under wrk, as ratios of a bare Pyramid view measured in the same run.

    .venv/bin/python bench/read_bench.py                    # ~4 min: SQLite, 5 s per run, best of 2
    .venv/bin/python bench/read_bench.py --quick            # ~1.5 min: 2 s per run, a smaller database
    .venv/bin/python bench/read_bench.py --db-url postgresql+psycopg://.../empty_scratch_db

Two servers, child processes started as bench/http_bench.py starts them (production.ini's
[server:main] waitress settings, a free loopback port each):

- baseline: a bare Pyramid app with one JSON view (`GET /` -> {"status": "ok"});
- whistle: the real app at the settings' default Argon2id cost, on a throwaway SQLite database
  (or the empty database at --db-url), built by the real migrations.

The database is seeded at the test Argon2id cost (in this process, before the server is asked
anything): a guardian whose channel holds --inbox cases, a second channel and guardian holding
the rest of --cases, a few fresh cases of the first guardian, and one case each with 1,000 and
100,000 earlier views (`case.viewed` audit events written in bulk as one valid hash chain). The
guardian signs in through the API (password Argon2id at the default cost, once); a reporter sends
a disclosure through the API and signs in with its receipt.

Each endpoint is run with `wrk -t2 -c16 -d<duration>` (a Lua script adds the bearer token and
reports p50, p95 and the non-2xx count), interleaved with the baseline: baseline, endpoint,
baseline, endpoint, the best of each kept. `% of bare` = endpoint req/s / baseline req/s of the
same pair. The fresh case row reads a different fresh case in each round, so that the reads of
the first round (recorded as views) do not make the second round's case less fresh.
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import _common as c  # noqa: E402
import http_bench as hb  # noqa: E402

LUA = """
local token = "%s"
if token ~= "" then wrk.headers["Authorization"] = "Bearer " .. token end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK {\\"requests\\": %%d, \\"duration_us\\": %%d, \\"non_2xx\\": %%d, "
    .. "\\"socket_errors\\": %%d, \\"p50_us\\": %%d, \\"p95_us\\": %%d}\\n",
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50), latency:percentile(95)))
end
"""


@dataclass
class Run:
    requests: int
    seconds: float
    non_2xx: int
    socket_errors: int
    p50: float
    p95: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def percent(ratio: float) -> str:
    return f"{100 * ratio:.1f} %" if ratio < 0.1 else f"{100 * ratio:.0f} %"


def wrk(port: int, path: str, token: str, duration: float, connections: int, tmp: Path) -> Run:
    script = tmp / f"wrk-{abs(hash(token)) % 10**8}.lua"
    script.write_text(LUA % token)
    out = subprocess.run(["wrk", "-t2", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
                          "-s", str(script), f"http://127.0.0.1:{port}{path}"],
                         capture_output=True, text=True, check=True).stdout
    found = re.search(r"^WRK (\{.*\})$", out, re.MULTILINE)
    if not found:
        raise SystemExit(f"wrk said:\n{out}")
    data = json.loads(found.group(1))
    return Run(data["requests"], data["duration_us"] / 1e6, data["non_2xx"], data["socket_errors"],
               data["p50_us"] / 1e6, data["p95_us"] / 1e6)


# --- seeding -----------------------------------------------------------------------------

def seed(deployment: hb.Deployment, *, inbox: int, total: int, fresh: int, viewed: list[int]) -> dict:
    """The schema, two channels with a guardian each, the cases; returns the refs to read."""
    from whistle.admin.services import add_account
    from whistle.cli.database import upgrade
    from whistle.clock import Clock
    from whistle.config import make_configurator
    from whistle.db import make_engine, make_session_factory
    from whistle.hooks import hook_caller
    from whistle.intake.forms import validate_disclosure
    from whistle.intake.services import submit_disclosure
    from whistle.intake_channels.models import Channel
    from whistle.key_directory.services import auto_sign
    from whistle.settings import load_settings
    from whistle.shredding import open_shred_store

    cheap_raw = dict(deployment.raw, **{"whistle.kdf.opslimit": "1", "whistle.kdf.memlimit": "8192",
                                        "whistle.kdf.receipt_opslimit": "1", "whistle.kdf.receipt_memlimit": "8192"})
    cheap = load_settings(cheap_raw, environ={})
    upgrade(deployment.db_url)
    engine = make_engine(deployment.db_url)
    registry = make_configurator(cheap_raw, settings=cheap).registry
    refs: dict = {"fresh": [], "viewed": {}}
    clock = Clock()
    with make_session_factory(engine, open_shred_store(cheap.shred_store_url), audit_key=cheap.audit_key)() as db:
        call_hook = hook_caller(registry.hooks, registry.events, db, clock)
        channels = {}
        for slug in ("staff", "other"):
            channels[slug] = Channel(slug=slug, title=slug.title(), introduction="For benchmarks.",
                                     questionnaire=hb.QUESTIONNAIRE, identity_modes=["anonymous", "confidential"])
            db.add(channels[slug])
        db.flush()
        # The guardian who signs in, at the deployment's (default) password cost; the other at the test cost.
        enrolment = add_account(db, deployment.settings, clock, username="guardian", password=hb.PASSWORD,
                                channel_slugs=("staff",))
        deployment.totp_secret = enrolment.totp_secret
        add_account(db, cheap, clock, username="other", password=hb.PASSWORD, channel_slugs=("other",))
        db.flush()
        auto_sign(db, cheap, clock)
        db.commit()

        def disclose(slug: str) -> str:
            submission, errors = validate_disclosure(
                channels[slug], text=hb.DISCLOSURE["text"], answers=hb.DISCLOSURE["answers"],
                identity_mode="anonymous", identity=None, max_text_chars=cheap.max_text_chars)
            assert not errors, errors
            return submit_disclosure(db, cheap, clock, submission, call_hook=call_hook).case.ref

        mine = inbox - fresh - len(viewed)
        for n in range(max(mine, 0)):
            disclose("staff")
            if n % 200 == 199:
                db.commit()
        refs["fresh"] = [disclose("staff") for _ in range(fresh)]
        for count in viewed:
            refs["viewed"][count] = disclose("staff")
        for n in range(max(total - inbox, 0)):
            disclose("other")
            if n % 200 == 199:
                db.commit()
        db.commit()
        for count, ref in refs["viewed"].items():
            add_views_in_bulk(db, ref, count)
        db.commit()
    engine.dispose()
    registry["db_engine"].dispose()
    return refs


def add_views_in_bulk(db, ref: str, count: int) -> None:
    """`count` case.viewed events by the guardian, appended to the audit chain as record() would
    (each hash over its parent, the head MACed), but in one INSERT of many rows."""
    from sqlalchemy import insert, select, update

    from whistle import crypto
    from whistle.accounts.models import Account
    from whistle.audit.models import AuditEvent, AuditHead
    from whistle.audit.services import audit_key_of, event_hash
    from whistle.cases.models import Case

    case_id = db.scalar(select(Case.id).where(Case.ref == ref))
    account_id = db.scalar(select(Account.id).where(Account.username == "guardian"))
    length, prev = db.execute(select(AuditHead.length, AuditHead.hash).where(AuditHead.id == 1)).one()
    at = datetime.now(UTC).replace(tzinfo=None)
    actor = f"account:{account_id}"
    rows = []
    for seq in range(length + 1, length + count + 1):
        digest = event_hash(prev, seq, at, actor, "case.viewed", case_id, {})
        rows.append({"seq": seq, "at": at, "actor": actor, "action": "case.viewed", "case_id": case_id,
                     "detail": {}, "prev_hash": prev, "hash": digest})
        prev = digest
    for start in range(0, len(rows), 10_000):
        db.execute(insert(AuditEvent), rows[start:start + 10_000])
    seq = length + count
    db.execute(update(AuditHead).where(AuditHead.id == 1)
               .values(length=seq, hash=prev, mac=crypto.audit_head_mac(audit_key_of(db), seq, prev)))


def reporter_token(port: int) -> str:
    status, body = hb.call(port, hb.disclosure_request())
    if status != 201:
        raise SystemExit(f"disclosure failed: {status} {body[:300]!r}")
    receipt = json.loads(body)["receipt"]
    sign_in = json.dumps({"receipt": receipt}).encode()
    status, body = hb.call(port, hb.Request("POST", "/api/v1/reporter/session", sign_in,
                                            {"Content-Type": "application/json"}))
    if status != 200:
        raise SystemExit(f"reporter sign-in failed: {status} {body[:300]!r}")
    return json.loads(body)["token"]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs, a smaller database (a smoke run)")
    parser.add_argument("--duration", type=float, help="seconds per wrk run (default 5, 2 with --quick)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds, the best kept (default 2)")
    parser.add_argument("--inbox", type=int, help="cases in the guardian's channel (default 200)")
    parser.add_argument("--cases", type=int, help="cases in the database (default 2000, 400 with --quick)")
    parser.add_argument("--views", default="1000,100000", help="earlier views of the viewed cases")
    parser.add_argument("--db-url", help="an EMPTY scratch database to use instead of a throwaway SQLite file")
    parser.add_argument("--runner", choices=("auto", "waitress", "whistle"), default="auto")
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")

    duration = args.duration or (2.0 if args.quick else 5.0)
    inbox = args.inbox or 200
    total = args.cases or (400 if args.quick else 2000)
    views = [int(v) for v in args.views.split(",") if v]
    runner = hb.runner_name(args.runner)
    from whistle.settings import load_settings  # imported here like seed()'s: the bench runs from the checkout

    print(c.machine_header("whistle read bench", "quick" if args.quick else "full"), flush=True)
    started = time.perf_counter()
    servers: list[hb.Server] = []
    with tempfile.TemporaryDirectory(prefix="whistle-read-bench-") as tmp:
        tmp_dir = Path(tmp)
        try:
            deployment = hb.prepare_deployment(tmp_dir / "deployment", test_cost=False)
            if args.db_url:
                deployment.raw["whistle.db.url"] = args.db_url
                # Beside an SQLite database the shred key store is a file next to it; here, one of its own.
                deployment.raw["whistle.shred_store.url"] = f"sqlite:///{tmp_dir / 'shred-keys.sqlite'}"
                deployment.settings = load_settings(deployment.raw, environ={})
                deployment.settings_file.write_text(json.dumps(deployment.raw))
            seeded_at = time.perf_counter()
            refs = seed(deployment, inbox=inbox, total=total, fresh=args.rounds, viewed=views)
            seeded = time.perf_counter() - seeded_at
            lifetime = 600 + duration * 4 * args.rounds * 10
            baseline = hb.start_server("baseline", "baseline", None, tmp_dir, lifetime, runner)
            app = hb.start_server("whistle", "whistle", deployment.settings_file, tmp_dir, lifetime, runner)
            servers += [baseline, app]
            for server in servers:
                server.wait_ready()
            guardian, _ = hb.login(app.port, deployment)
            reporter = reporter_token(app.port)
            engine = deployment.db_url.split(":", 1)[0].split("+")[0]
            print(f"{engine}; {total:,} cases, {inbox:,} in the guardian's channel; seeded in {seeded:.1f} s; "
                  f"wrk -t2 -c{args.connections} -d{duration:g}s, {args.rounds} interleaved rounds, best kept",
                  flush=True)

            rows = [("`GET /healthz`", "/healthz", ""),
                    ("`GET /api/v1/channels`", "/api/v1/channels", ""),
                    ("guardian `GET /api/v1/cases` (inbox)", "/api/v1/cases", guardian),
                    ("reporter `GET /api/v1/reporter/case`", "/api/v1/reporter/case", reporter),
                    ("guardian `GET /api/v1/cases/{ref}`, fresh case", None, guardian)]
            rows += [(f"guardian `GET /api/v1/cases/{{ref}}`, {count:,} earlier views",
                      f"/api/v1/cases/{refs['viewed'][count]}", guardian) for count in views]
            table = []
            for label, path, token in rows:
                best_base: Run | None = None
                best: Run | None = None
                for round_no in range(args.rounds):
                    target = path or f"/api/v1/cases/{refs['fresh'][round_no]}"
                    base = wrk(baseline.port, "/", "", duration, args.connections, tmp_dir)
                    run = wrk(app.port, target, token, duration, args.connections, tmp_dir)
                    best_base = base if best_base is None or base.rps > best_base.rps else best_base
                    if best is None or run.rps > best.rps:
                        best = run
                assert best is not None and best_base is not None
                share = percent(best.rps / best_base.rps)
                if best.requests:
                    table.append([label, f"{best.rps:,.1f}" if best.rps < 10 else f"{best.rps:,.0f}", share,
                                  c.fmt_time(best.p50), c.fmt_time(best.p95),
                                  str(best.non_2xx + best.socket_errors), f"{best_base.rps:,.0f}"])
                else:  # wrk reports no latency without a finished request
                    table.append([label, f"none in {duration:g} s", "0 %", "-", "-",
                                  str(best.non_2xx + best.socket_errors), f"{best_base.rps:,.0f}"])
                print(f"  done: {label}: {best.rps:,.1f} req/s ({share})", flush=True)
            print()
            print(c.table(["endpoint", "req/s", "of bare Pyramid", "p50", "p95", "errors", "bare req/s"], table,
                          align="lrrrrrr"))
            print()
            print("of bare Pyramid = req/s of the row / req/s of the bare Pyramid GET / run just before it "
                  "(best of the rounds each); errors = non-2xx answers and socket errors of the best run.")
            for server in servers:
                if server.error_lines():
                    print(f"note: server {server.name} logged {server.error_lines()} errors")
        finally:
            for server in servers:
                server.stop()
    print(f"total {time.perf_counter() - started:.1f} s | load avg now {c.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
