"""A flood of junk reports from many addresses, against the real app under real waitress: does the
service stay usable for a guardian and for a genuine reporter, and does its memory stay bounded?

    .venv/bin/python bench/flood_bench.py                 # 60 s at 50 junk reports a second
    .venv/bin/python bench/flood_bench.py --quick         # 5 s: a smoke run
    .venv/bin/python bench/flood_bench.py --seconds 120 --rate 80

One server, a child process (bench/http_bench.py's runner: production.ini's [server:main], so
whistle.server with threads = 8), serving the real app at the settings' defaults: the default
Argon2id cost (ops 2, 64 MiB), the default limits (5 reports per client in 10 minutes, 30 across the
service a minute, surge mark 10 a minute), proof of work on at its default difficulty, Argon2id
slots automatic. A throwaway SQLite database built by the real migrations, one channel, one guardian.

While it runs, for --seconds:

- **the flood**: --rate junk disclosures a second (POST /api/v1/disclosures, plain text, so each one
  admitted costs the server an Argon2id derivation), each from a new connection bound to one of 240
  loopback addresses 127.0.0.10 to 127.0.0.249 in turn: an emulated botnet. The per-client limit
  alone would let 5 from each address in; the service-wide budget is what stops it.
- **a guardian** lists their cases (GET /api/v1/cases, 25 a page) twice a second: latency p50/p95.
- **genuine reporters**, one every few seconds, each from an address of its own (127.0.1.x),
  doing what the report form's JavaScript does: the channel's signed key directory checked, a challenge
  (GET /api/v1/disclosures/challenge) solved (whistle.crypto.solve, in a process of its own, as on
  the reporter's device), the case built and encrypted here (whistle.client.report: the format the
  browser builds) and sent with the proof; then the mailbox opened with the lookup value derived
  from the receipt (POST /api/v1/reporter/session). Both must succeed. And one reporter without a
  proof, to show what the flood does to them (429 and Retry-After: the form keeps their words).
- **memory**: the server process's resident set, sampled from /proc/<pid>/status every 0.2 s, and
  its peak (VmHWM) at the end.

Afterwards: how many cases came in, how many carry surge_day, and whether the guardian finds them as
one surge (GET /api/v1/cases?surge=DAY) and can close them as junk in one call
(POST /api/v1/surges/{day}/junk). Nothing asserts; the table says what happened.
"""
from __future__ import annotations

import argparse
import base64
import http.client
import json
import queue
import sys
import tempfile
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import _common as c  # noqa: E402
import http_bench as hb  # noqa: E402

BOTNET = [f"127.0.0.{x}" for x in range(10, 250)]
GUARDIAN_SOURCE = "127.0.0.2"
# Each genuine reporter is a person of their own, on an address of their own (127.0.1.1, 127.0.1.2, …).
REPORTER_SOURCES = [f"127.0.1.{x}" for x in range(1, 250)]
UNPROVEN_SOURCE = "127.0.0.4"
RSS_BOUND_MIB = 512
INBOX_P95_TARGET_S = 1.0
JUNK = {"channel": "staff", "text": "BUY CHEAP WATCHES NOW!!! best prices visit our shop", "answers": {"ongoing": "no"}}
GENUINE = {"channel": "staff", "text": "Medication records on ward 7 are altered after the fact, on the night shift.",
           "answers": {"ongoing": "yes", "where": "Ward 7"}}


def request(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None, *,
            source: str = "127.0.0.1", timeout: float = 60) -> tuple[int, dict, bytes]:
    """One request on a new connection from `source`; (status, headers, body)."""
    headers = dict(headers or {})
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout, source_address=(source, 0))
    try:
        conn.request(method, path, body=data, headers=headers)
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


def proc_status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak resident set) of `pid`, in KiB."""
    values = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0])
    return values


class Flood:
    """--rate junk reports a second, each from the next address of the botnet, on a pool of threads."""

    def __init__(self, port: int, rate: float, seconds: float, workers: int = 48) -> None:
        self.port, self.rate, self.seconds = port, rate, seconds
        self.jobs: queue.Queue = queue.Queue()
        self.statuses: Counter = Counter()
        self.latencies: list[float] = []
        self.behind = 0  # sends that could not start on time (every worker busy)
        self.lock = threading.Lock()
        self.workers = [threading.Thread(target=self._work, daemon=True) for _ in range(workers)]

    def _work(self) -> None:
        while (source := self.jobs.get()) is not None:
            start = time.perf_counter()
            try:
                status, _, _ = request(self.port, "POST", "/api/v1/disclosures", JUNK, source=source)
            except (OSError, http.client.HTTPException):
                status = 0
            with self.lock:
                self.statuses[status] += 1
                self.latencies.append(time.perf_counter() - start)

    def run(self) -> None:
        for worker in self.workers:
            worker.start()
        start = time.perf_counter()
        total = int(self.rate * self.seconds)
        for n in range(total):
            wait = start + n / self.rate - time.perf_counter()
            if wait > 0:
                time.sleep(wait)
            if self.jobs.qsize() > len(self.workers):
                self.behind += 1
            self.jobs.put(BOTNET[n % len(BOTNET)])
        for _ in self.workers:
            self.jobs.put(None)
        for worker in self.workers:
            worker.join()


def guardian_loop(port: int, token: str, stop: threading.Event, latencies: list[float], errors: Counter) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    while not stop.is_set():
        start = time.perf_counter()
        try:
            status, _, _ = request(port, "GET", "/api/v1/cases?per_page=25", headers=headers, source=GUARDIAN_SOURCE)
        except (OSError, http.client.HTTPException):
            status = 0
        elapsed = time.perf_counter() - start
        if status == 200:
            latencies.append(elapsed)
        else:
            errors[status] += 1
        stop.wait(max(0.0, 0.5 - elapsed))


def _solve(challenge: str, bits: int) -> int:
    from whistle import crypto

    return crypto.solve(challenge, bits)


def genuine_reporter(port: int, org_public_key: bytes, solver, source: str) -> dict:
    """What the report form does with JavaScript: the channel's signed key directory fetched and
    checked, a challenge solved while writing (in another process, as on the reporter's own device,
    not in this one's busy threads), the case built and encrypted here (whistle.client.report, the
    format the browser builds) and sent with the proof; then the mailbox opened with the lookup
    value derived here from the receipt. Neither request makes the server run Argon2id."""
    from whistle import crypto
    from whistle.client import report

    outcome: dict = {}
    start = time.perf_counter()
    status, _, body = request(port, "GET", "/api/v1/channels", source=source)
    channel = next(ch for ch in json.loads(body)["channels"] if ch["slug"] == GENUINE["channel"])
    status, _, body = request(port, "GET", f"/api/v1/channels/{GENUINE['channel']}/keys", source=source)
    directory = crypto.open_directory(json.loads(body), org_public_key, now=datetime.now(UTC))
    status, _, body = request(port, "GET", "/api/v1/disclosures/challenge", source=source)
    if status != 200:
        return {"report": status, "error": body[:200]}
    challenge = json.loads(body)
    solve_start = time.perf_counter()
    solution = solver.submit(_solve, challenge["challenge"], challenge["bits"]).result()
    outcome["solve_s"] = time.perf_counter() - solve_start
    checked = report.check_report(channel, text=GENUINE["text"],
                                  answers={name: [value] for name, value in GENUINE["answers"].items()},
                                  identity_mode="anonymous", identity={}, left_out=(), directory=directory)
    built = report.build_case(checked, directory)
    sent_start = time.perf_counter()
    status, _, body = request(port, "POST", "/api/v1/disclosures",
                              {**built.body, "proof": {"challenge": challenge["challenge"], "solution": solution}},
                              source=source)
    outcome.update(report=status, report_s=time.perf_counter() - sent_start)
    if status != 201:
        outcome["error"] = body[:200]
        return outcome
    request(port, "DELETE", "/api/v1/reporter/session", headers={"Authorization": f"Bearer {json.loads(body)['token']}"},
            source=source)
    keys = crypto.derive_reporter_keys_v2(built.receipt, directory.receipt_salt, directory.receipt_cost)
    login_start = time.perf_counter()
    status, _, body = request(port, "POST", "/api/v1/reporter/session",
                              {"lookup_value": base64.b64encode(keys.lookup_value).decode()}, source=source)
    outcome.update(mailbox=status, mailbox_s=time.perf_counter() - login_start, total_s=time.perf_counter() - start)
    if status == 200:
        request(port, "DELETE", "/api/v1/reporter/session",
                headers={"Authorization": f"Bearer {json.loads(body)['token']}"}, source=source)
    else:
        outcome["error"] = body[:200]
    return outcome


def count_cases(deployment) -> tuple[int, Counter]:
    from sqlalchemy import func, select

    from whistle.cases.models import Case
    from whistle.db import make_engine

    engine = make_engine(deployment.db_url)
    try:
        with engine.connect() as connection:
            total = connection.scalar(select(func.count()).select_from(Case))
            days = Counter(dict(connection.execute(
                select(Case.surge_day, func.count()).where(Case.surge_day.is_not(None)).group_by(Case.surge_day))
                .all()))
    finally:
        engine.dispose()
    return total or 0, days


def main(argv=None) -> int:
    from whistle.settings import load_settings

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60, help="how long the flood lasts (default 60)")
    parser.add_argument("--rate", type=float, default=50, help="junk reports a second (default 50)")
    parser.add_argument("--quick", action="store_true", help="a 5 s smoke run")
    parser.add_argument("--kdf-concurrency", type=int, default=0,
                        help="whistle.kdf.concurrency for the server (default 0: automatic, as in production)")
    parser.add_argument("--runner", choices=("auto", "waitress", "whistle"), default="auto",
                        help="as bench/http_bench.py (auto: what production.ini's [server:main] uses)")
    args = parser.parse_args(argv)
    seconds = 5.0 if args.quick else args.seconds
    runner = hb.runner_name(args.runner)

    print(c.machine_header("whistle flood bench", "quick" if args.quick else "full"), flush=True)
    with tempfile.TemporaryDirectory(prefix="whistle-flood-") as tmp:
        tmp_dir = Path(tmp)
        deployment = hb.prepare_deployment(tmp_dir / "deployment", test_cost=False)
        if args.kdf_concurrency:
            deployment.raw["whistle.kdf.concurrency"] = str(args.kdf_concurrency)
            deployment.settings_file.write_text(json.dumps(deployment.raw))
            deployment.settings = load_settings(deployment.raw, environ={})
        server = hb.start_server("whistle", "whistle", deployment.settings_file, tmp_dir,
                                 lifetime=seconds + 300, runner=runner)
        try:
            hb.populate_deployment(deployment)
            server.wait_ready()
            settings = deployment.settings
            print(f"server: {'whistle.server.make_server' if runner == 'whistle' else 'waitress.create_server'}, "
                  f"{hb.waitress_settings()}")
            print(f"Argon2id: receipts {deployment.receipt_cost}, passwords {deployment.password_cost}; "
                  f"{settings.kdf_concurrency} at once, waiting at most {settings.kdf_wait:g} s")
            print(f"limits: {settings.reports_per_client} reports per client in 10 min, {settings.reports_per_minute} "
                  f"a minute across the service, surge mark {settings.surge_reports_per_minute} a minute; "
                  f"proof of work {settings.proof_of_work_bits} bits")
            print(f"flood: {args.rate:g} junk reports a second for {seconds:g} s from {len(BOTNET)} addresses\n",
                  flush=True)

            token, _ = hb.login(server.port, deployment)
            solver = ProcessPoolExecutor(1)
            solver.submit(_solve, "w1.1.0.warm-up", 1).result()  # the process started before the flood
            rss_before = proc_status(server.process.pid)
            stop = threading.Event()
            inbox_latencies: list[float] = []
            inbox_errors: Counter = Counter()
            rss_samples: list[int] = []

            def sample_rss():
                while not stop.is_set():
                    rss_samples.append(proc_status(server.process.pid)["VmRSS"])
                    stop.wait(0.2)

            genuine: list[dict] = []

            def reporters():
                # The first a second in, then every few seconds while the flood lasts.
                stop.wait(min(1.0, seconds / 4))
                while not stop.is_set():
                    genuine.append(genuine_reporter(server.port, settings.org_public_key, solver,
                                                    REPORTER_SOURCES[len(genuine) % len(REPORTER_SOURCES)]))
                    stop.wait(max(2.0, seconds / 6))

            unproven: list[tuple[int, str]] = []

            def reporter_without_proof():
                stop.wait(seconds / 2)
                status, headers, _ = request(server.port, "POST", "/api/v1/disclosures", GENUINE,
                                             source=UNPROVEN_SOURCE)
                unproven.append((status, headers.get("Retry-After", "")))

            # The baseline, in the same run: the same inbox requests with no flood, for a few seconds.
            quiet = threading.Event()
            idle_latencies: list[float] = []
            idle = threading.Thread(target=guardian_loop, args=(server.port, token, quiet, idle_latencies, Counter()),
                                    daemon=True)
            idle.start()
            time.sleep(min(5.0, seconds))
            quiet.set()
            idle.join(60)

            helpers = [threading.Thread(target=guardian_loop, args=(server.port, token, stop, inbox_latencies,
                                                                    inbox_errors), daemon=True),
                       threading.Thread(target=sample_rss, daemon=True),
                       threading.Thread(target=reporters, daemon=True),
                       threading.Thread(target=reporter_without_proof, daemon=True)]
            for helper in helpers:
                helper.start()
            flood = Flood(server.port, args.rate, seconds)
            flood_start = time.perf_counter()
            flood.run()
            flood_wall = time.perf_counter() - flood_start
            stop.set()
            for helper in helpers:
                helper.join(120)
            solver.shutdown()
            peak = proc_status(server.process.pid)

            total, surge_days = count_cases(deployment)
            day = max(surge_days, key=surge_days.get) if surge_days else datetime.now(UTC).date()
            auth = {"Authorization": f"Bearer {token}"}
            status, _, body = request(server.port, "GET", f"/api/v1/cases?surge={day.isoformat()}&per_page=100",
                                      headers=auth, source=GUARDIAN_SOURCE)
            listed = json.loads(body) if status == 200 else {"total": 0, "cases": []}
            refs = [row["case"] for row in listed["cases"]]
            close_s, closed = float("nan"), 0
            if refs:
                start = time.perf_counter()
                status, _, body = request(server.port, "POST", f"/api/v1/surges/{day.isoformat()}/junk",
                                          {"cases": refs, "reason": "flood"}, headers=auth, source=GUARDIAN_SOURCE)
                close_s = time.perf_counter() - start
                closed = len(json.loads(body)["closed"]) if status == 200 else 0
        finally:
            server.stop()
        errors_logged = server.error_lines()

    inbox = sorted(inbox_latencies)
    idle_inbox = sorted(idle_latencies)
    junk = sorted(flood.latencies)
    sent = sum(flood.statuses.values())
    rows = [
        ["junk reports sent", f"{sent} in {flood_wall:.1f} s ({sent / flood_wall:.1f}/s)",
         ", ".join(f"{k or 'no answer'}: {v}" for k, v in sorted(flood.statuses.items())), "-"],
        ["junk report latency p50 / p95", f"{c.fmt_time(c.percentile(junk, 0.5))} / "
                                          f"{c.fmt_time(c.percentile(junk, 0.95))}",
         f"{flood.behind} sends started late (every worker busy)", "-"],
        ["guardian's inbox, no flood (baseline)", f"{c.fmt_time(c.percentile(idle_inbox, 0.5))} / "
                                                  f"{c.fmt_time(c.percentile(idle_inbox, 0.95))}",
         f"{len(idle_inbox)} requests before the flood", "-"],
        ["guardian's inbox p50 / p95", f"{c.fmt_time(c.percentile(inbox, 0.5))} / "
                                       f"{c.fmt_time(c.percentile(inbox, 0.95))}",
         f"{len(inbox)} requests, max {c.fmt_time(inbox[-1]) if inbox else 'n/a'}, "
         f"{sum(inbox_errors.values())} failed", f"p95 < {INBOX_P95_TARGET_S:g} s"],
    ]
    for n, outcome in enumerate(genuine, 1):
        ok = outcome.get("report") == 201 and outcome.get("mailbox") == 200
        rows.append([f"genuine reporter {n} (proof of work)",
                     "report 201, mailbox 200" if ok else f"report {outcome.get('report')}, "
                     f"mailbox {outcome.get('mailbox', '-')}",
                     f"solve {c.fmt_time(outcome.get('solve_s', float('nan')))}, "
                     f"send {c.fmt_time(outcome.get('report_s', float('nan')))}, "
                     f"sign in {c.fmt_time(outcome.get('mailbox_s', float('nan')))}", "must succeed"])
    for status, retry in unproven:
        rows.append(["reporter without a proof", str(status), f"Retry-After {retry or '-'} s", "-"])
    rows += [
        ["server RSS before / peak (VmHWM)", f"{rss_before['VmRSS'] / 1024:.0f} / {peak['VmHWM'] / 1024:.0f} MiB",
         f"sampled max {max(rss_samples, default=0) / 1024:.0f} MiB", f"< {RSS_BOUND_MIB} MiB"],
        ["cases stored", str(total), f"with surge_day: {sum(surge_days.values())} "
                                     f"({', '.join(f'{d}: {n}' for d, n in surge_days.items()) or 'none'})", "-"],
        ["guardian's surge list", f"{listed['total']} cases on {day.isoformat()}",
         f"closed as junk in one call: {closed} in {c.fmt_time(close_s)}", "-"],
        ["server log errors", str(errors_logged), "", "0"],
    ]
    print(c.table(["what", "measured", "detail", "target"], rows, align="llll"))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
