"""Requests per second and latency of the real app under real waitress, against a bare Pyramid app.

    .venv/bin/python bench/http_bench.py              # ~50 s: 1 and 4 clients, 3 s per scenario
    .venv/bin/python bench/http_bench.py --quick      # ~15 s: 4 clients, 1 s per scenario
    .venv/bin/python bench/http_bench.py --clients 1,2,8 --duration 5

Three servers are started as child processes of this script, each on 127.0.0.1 and a free
port, with the [server:main] waitress settings of production.ini (threads, ident, ...), through
plain waitress or, when production.ini uses `egg:whistle#main`, through whistle.server (waitress
with request bodies spooled encrypted); --runner chooses explicitly. All three use the same one:

- baseline: a bare Pyramid app with one JSON view (`GET /` -> {"status": "ok"});
- whistle: the real app at the settings' default Argon2id cost (KdfCost.interactive()), with
  a throwaway SQLite database (built by the real migrations) and key files in a temp dir;
- whistle-test-cost: the same at the test cost (opslimit 1, memlimit 8 KiB), so the receipt
  KDF's share of POST /api/v1/disclosures can be told apart from everything else.

Each deployment has one channel with one guardian. Scenarios: GET /healthz; POST
/api/v1/disclosures (a small anonymous disclosure with three answers) on both deployments;
GET /api/v1/cases/{ref} as the guardian (logged in once through POST /api/v1/staff/session
with a TOTP code from pyotp) on a fresh case, and on a case with --prior-views earlier reads.

Each scenario runs N client threads in this process, each with one keep-alive
`http.client.HTTPConnection`, for a fixed time and at most a fixed number of requests.
Every endpoint is reported as a ratio of the baseline's requests per second with the same N.
Only loopback traffic; the servers exit when this script ends (their stdin closes), or after
--server-lifetime seconds whatever happens. At the end, the SQL statements one request of
each endpoint runs are counted in-process (WebTest), to explain the numbers.
"""
from __future__ import annotations

import argparse
import configparser
import http.client
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import _common as c  # noqa: E402

PASSWORD = "correct horse battery staple"
DISCLOSURE = {
    "channel": "staff",
    "text": "Medication records on ward 7 are being altered after the fact. It has happened at least "
            "three times this month, always on the night shift.",
    "answers": {"ongoing": "yes", "kind": "Safety", "where": "Ward 7"},
}
QUESTIONNAIRE = [
    {"name": "where", "label": "Where did it happen?", "type": "text", "required": False},
    {"name": "ongoing", "label": "Is it still happening?", "type": "yes_no", "required": True},
    {"name": "kind", "label": "What is it about?", "type": "single_choice", "required": False,
     "choices": ["Safety", "Bullying", "Fraud"]},
    {"name": "more", "label": "Anything else?", "type": "long_text", "required": False},
]


# --- the servers (child processes) --------------------------------------------------------

def _server_section() -> dict[str, str]:
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(REPO / "production.ini")
    return dict(parser.items("server:main")) if parser.has_section("server:main") else {}


def waitress_settings() -> dict[str, str]:
    """[server:main] of production.ini minus `use` and `listen`: the same for every server here."""
    section = _server_section()
    if not section:
        return {"threads": "8", "ident": "", "clear_untrusted_proxy_headers": "true"}
    return {k: v for k, v in section.items() if k not in ("use", "listen")}


def runner_name(choice: str) -> str:
    """"waitress", or "whistle" (whistle.server.make_server: waitress with encrypted body spooling)
    when production.ini's [server:main] says `use = egg:whistle#...` (or --runner whistle)."""
    if choice != "auto":
        return choice
    return "whistle" if _server_section().get("use", "").strip().startswith("egg:whistle") else "waitress"


def baseline_app():
    from pyramid.config import Configurator

    def ok(request):
        return {"status": "ok"}

    with Configurator() as config:
        config.add_route("ok", "/")
        config.add_view(ok, route_name="ok", renderer="json")
        return config.make_wsgi_app()


def whistle_app(raw_settings: dict):
    from whistle.config import make_configurator
    from whistle.settings import load_settings

    return make_configurator(raw_settings, settings=load_settings(raw_settings, environ={})).make_wsgi_app()


def serve(kind: str, settings_file: str | None, lifetime: float, runner: str) -> int:
    """Child process: build the app, bind a free loopback port, print it, serve until told."""
    import logging

    # Warnings and errors only (no access log exists anyway), in a form error_lines() can count.
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s [%(name)s] %(message)s")
    if runner == "whistle":
        from whistle.server import make_server
    else:
        from waitress import create_server as make_server

    app = baseline_app() if kind == "baseline" else whistle_app(json.loads(Path(settings_file).read_text()))
    server = make_server(app, host="127.0.0.1", port=0, **waitress_settings())

    def watchdog():
        # Stop when the parent closes our stdin (it ended, or died), or after `lifetime` s.
        done = threading.Event()
        threading.Thread(target=lambda: (sys.stdin.read(), done.set()), daemon=True).start()
        done.wait(lifetime)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    print(f"PORT {server.effective_port}", flush=True)
    server.run()
    return 0


@dataclass
class Server:
    name: str
    process: subprocess.Popen
    log_path: Path
    port: int = 0

    def wait_ready(self, timeout: float = 60) -> None:
        """Wait for the child's "PORT n" line (read in a thread, so a hung child cannot hang us)."""
        found: list[int] = []

        def read():
            for line in self.process.stdout:
                if line.startswith("PORT "):
                    found.append(int(line.split()[1]))
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(timeout)
        if not found:
            raise SystemExit(f"server {self.name} did not start:\n{self.log_path.read_text()[-3000:]}")
        self.port = found[0]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.close()  # the watchdog exits on EOF
            try:
                self.process.wait(5)
            except subprocess.TimeoutExpired:
                self.process.kill()  # by its own pid: only ever our own child
                self.process.wait(5)

    def error_lines(self) -> int:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return sum(1 for line in text.splitlines() if line.startswith(("ERROR", "CRITICAL")))


def start_server(name: str, kind: str, settings_file: Path | None, log_dir: Path, lifetime: float,
                 runner: str) -> Server:
    log_path = log_dir / f"{name}.log"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--server-lifetime", str(lifetime),
           "--runner", runner]
    if settings_file:
        cmd += ["--settings", str(settings_file)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("WHISTLE_")}
    process = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=open(log_path, "w"),
                               text=True, cwd=str(REPO), env=env)
    return Server(name, process, log_path)


# --- a throwaway deployment --------------------------------------------------------------

@dataclass
class Deployment:
    raw: dict
    settings_file: Path
    settings: object  # whistle.settings.Settings
    totp_secret: str = ""

    @property
    def db_url(self) -> str:
        return self.raw["whistle.db.url"]

    @staticmethod
    def _cost(k) -> str:
        return f"ops {k.opslimit}, {k.memlimit // 1024} KiB" if k.memlimit < 2**20 else f"ops {k.opslimit}, {k.memlimit // 2**20} MiB"

    @property
    def receipt_cost(self) -> str:
        return self._cost(self.settings.receipt_kdf)

    @property
    def password_cost(self) -> str:
        return self._cost(self.settings.kdf)


def prepare_deployment(tmp_dir: Path, *, test_cost: bool) -> Deployment:
    """Settings file and key files, so that a server can start while the schema is built."""
    from whistle.crypto import SigningKey, public_key_file_text
    from whistle.settings import load_settings

    tmp_dir.mkdir(parents=True)
    # The organisation key that signs the key directory: cases are sealed only to the guardians
    # a signed directory lists (auto_sign, as `make run` does).
    (tmp_dir / "keys").mkdir()
    org_key = SigningKey.generate()
    org_key.write(tmp_dir / "keys" / "org_signing_key")
    (tmp_dir / "keys" / "org_public_key").write_text(public_key_file_text(org_key.public_key))
    raw = {
        "whistle.db.url": f"sqlite:///{tmp_dir / 'whistle.sqlite'}",
        "whistle.storage.dir": str(tmp_dir / "blobs"),
        "whistle.secrets.lookup_pepper_file": str(tmp_dir / "keys" / "lookup_pepper"),
        "whistle.secrets.session_key_file": str(tmp_dir / "keys" / "session_key"),
        "whistle.audit.key_file": str(tmp_dir / "keys" / "audit_key"),
        "whistle.secrets.autocreate": "true",
        "whistle.cookies.secure": "false",
        "whistle.org.signing_key_file": str(tmp_dir / "keys" / "org_signing_key"),
        "whistle.org.public_key_file": str(tmp_dir / "keys" / "org_public_key"),
        "whistle.org.auto_sign": "true",
        "whistle.org.directory_state": str(tmp_dir / "keys" / "directory_state"),
    }
    if test_cost:  # as tests/conftest.py: libsodium's minimum, no protection at all
        raw.update({"whistle.kdf.opslimit": "1", "whistle.kdf.memlimit": "8192",
                    "whistle.kdf.receipt_opslimit": "1", "whistle.kdf.receipt_memlimit": "8192"})
    settings = load_settings(raw, environ={})  # creates the key files before any server reads them
    settings_file = tmp_dir / "settings.json"
    settings_file.write_text(json.dumps(raw))
    return Deployment(raw, settings_file, settings)


def populate_deployment(deployment: Deployment, cases: int = 0) -> list[str]:
    """The schema (real migrations), one channel with one guardian, as tests/factories.py makes them,
    and `cases` disclosures submitted through the service the API view calls; returns their refs."""

    from whistle.admin.services import add_account
    from whistle.intake_channels.models import Channel
    from whistle.cli.database import upgrade
    from whistle.clock import Clock
    from whistle.config import make_configurator
    from whistle.db import make_engine, make_session_factory
    from whistle.hooks import hook_caller
    from whistle.intake.forms import validate_disclosure
    from whistle.key_directory.services import auto_sign
    from whistle.shredding import open_shred_store
    from whistle.intake.services import submit_disclosure

    upgrade(deployment.db_url)
    engine = make_engine(deployment.db_url)
    # The app's plugins and event subscribers, as a request would have them.
    registry = make_configurator(deployment.raw, settings=deployment.settings).registry
    refs = []
    with make_session_factory(engine, open_shred_store(deployment.settings.shred_store_url),
                              audit_key=deployment.settings.audit_key)() as dbsession:
        call_hook = hook_caller(registry.hooks, registry.events, dbsession, Clock())
        channel = Channel(slug="staff", title="Staff", introduction="For benchmarks.",
                          questionnaire=QUESTIONNAIRE, identity_modes=["anonymous", "confidential"])
        dbsession.add(channel)
        dbsession.flush()
        enrolment = add_account(dbsession, deployment.settings, Clock(), username="guardian", password=PASSWORD,
                                channel_slugs=("staff",))
        deployment.totp_secret = enrolment.totp_secret
        dbsession.flush()
        auto_sign(dbsession, deployment.settings, Clock())
        for _ in range(cases):
            submission, errors = validate_disclosure(
                channel, text=DISCLOSURE["text"], answers=DISCLOSURE["answers"], identity_mode="anonymous",
                identity=None, max_text_chars=deployment.settings.max_text_chars)
            if errors:
                raise SystemExit(f"the benchmark's disclosure does not validate: {errors}")
            refs.append(submit_disclosure(dbsession, deployment.settings, Clock(), submission,
                                          call_hook=call_hook).case.ref)
        dbsession.commit()
    engine.dispose()
    registry["db_engine"].dispose()
    return refs


def add_views(deployment: Deployment, ref: str, count: int) -> None:
    """Append `count` case.viewed audit events to case `ref`, as `count` earlier reads would have."""
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from whistle import audit
    from whistle.cases.models import Case
    from whistle.clock import Clock
    from whistle.db import AUDIT_KEY_INFO, make_engine

    engine = make_engine(deployment.db_url)
    with Session(engine, info={AUDIT_KEY_INFO: deployment.settings.audit_key}) as dbsession:
        case_id = dbsession.scalar(select(Case.id).where(Case.ref == ref))
        for _ in range(count):
            audit.record(dbsession, Clock(), actor="account:1", action="case.viewed", case_id=case_id)
        dbsession.commit()
    engine.dispose()


def sql_counts(deployment: Deployment) -> list[str]:
    """SQL statements one request of each endpoint runs (in-process, WebTest, no waitress)."""
    try:
        import pyotp
        from sqlalchemy import event
        from webtest import TestApp
    except ImportError:
        return ["(WebTest not installed: SQL statement counts skipped)"]
    wsgi = whistle_app(deployment.raw)
    app = TestApp(wsgi, extra_environ={"HTTP_HOST": "127.0.0.1"})
    try:
        token = app.post_json("/api/v1/staff/session", {"username": "guardian", "password": PASSWORD,
                                                        "otp": pyotp.TOTP(deployment.totp_secret).now()}).json["token"]
        ref = app.post_json("/api/v1/disclosures", DISCLOSURE, status=201).json["case"]
    except Exception as error:  # noqa: BLE001 - a report, not a test: say what went wrong and go on
        return [f"(SQL statement counts skipped: {type(error).__name__}: {str(error)[:200]})"]
    statements: list[str] = []
    engine = wsgi.registry["db_engine"]
    event.listen(engine, "before_cursor_execute", lambda conn, cursor, statement, *rest: statements.append(statement))
    out = []
    for label, run in (
        ("GET /healthz", lambda: app.get("/healthz", expect_errors=True)),
        ("POST /api/v1/disclosures", lambda: app.post_json("/api/v1/disclosures", DISCLOSURE, expect_errors=True)),
        ("GET /api/v1/cases/{ref}", lambda: app.get(f"/api/v1/cases/{ref}", headers={"Authorization": f"Bearer {token}"},
                                                    expect_errors=True)),
    ):
        statements.clear()
        status = run().status
        kinds: dict[str, int] = {}
        for statement in statements:
            words = statement.split()
            verb = words[0].upper()
            table = words[words.index("FROM") + 1] if verb == "SELECT" and "FROM" in words else (
                words[2] if verb == "INSERT" else words[1] if verb == "UPDATE" else "")
            key = f"{verb} {table}".strip()
            kinds[key] = kinds.get(key, 0) + 1
        detail = ", ".join(f"{n}x {k}" if n > 1 else k for k, n in kinds.items())
        out.append(f"{label} ({status}): {len(statements)} SQL statements ({detail})")
    engine.dispose()
    return out


# --- the clients --------------------------------------------------------------------------

@dataclass
class Request:
    method: str
    path: str
    body: bytes | None = None
    headers: dict = field(default_factory=dict)
    expect: int = 200


@dataclass
class Result:
    latencies: list[float]  # seconds, in completion order
    errors: int
    wall: float
    sample_error: str = ""
    last_body_len: int = 0

    @property
    def completed(self) -> int:
        return len(self.latencies)

    @property
    def rps(self) -> float:
        return self.completed / self.wall if self.wall > 0 else float("nan")

    def pct(self, fraction: float, part: slice = slice(None)) -> float:
        return c.percentile(sorted(self.latencies[part]), fraction)


def one_request(conn: http.client.HTTPConnection, req: Request) -> tuple[int, bytes]:
    conn.request(req.method, req.path, body=req.body, headers=req.headers)
    response = conn.getresponse()
    return response.status, response.read()


def call(port: int, req: Request) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        return one_request(conn, req)
    finally:
        conn.close()


def load(port: int, req: Request, *, clients: int, duration: float, max_requests: int, warmup: int) -> Result:
    """`clients` threads, one keep-alive connection each, until `duration` s or `max_requests`."""
    for _ in range(warmup):
        call(port, req)
    lock = threading.Lock()
    latencies: list[float] = []
    errors = [0]
    sample = [""]
    last_len = [0]
    issued = [0]
    barrier = threading.Barrier(clients + 1)
    t0 = [0.0]

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        conn.connect()
        barrier.wait()
        deadline = t0[0] + duration
        while True:
            with lock:
                if issued[0] >= max_requests or time.perf_counter() >= deadline:
                    break
                issued[0] += 1
            start = time.perf_counter()
            try:
                status, body = one_request(conn, req)
                ok = status == req.expect
                if not ok and not sample[0]:
                    sample[0] = f"{status} {body[:200]!r}"
            except (OSError, http.client.HTTPException) as error:
                ok = False
                if not sample[0]:
                    sample[0] = repr(error)
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            elapsed = time.perf_counter() - start
            with lock:
                if ok:
                    latencies.append(elapsed)
                    last_len[0] = len(body)
                else:
                    errors[0] += 1
        conn.close()

    threads = [threading.Thread(target=client, daemon=True) for _ in range(clients)]
    for thread in threads:
        thread.start()
    t0[0] = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - t0[0]
    return Result(latencies, errors[0], wall, sample[0], last_len[0])


def login(port: int, deployment: Deployment) -> tuple[str, float]:
    import pyotp

    body = json.dumps({"username": "guardian", "password": PASSWORD,
                       "otp": pyotp.TOTP(deployment.totp_secret).now()}).encode()
    start = time.perf_counter()
    status, data = call(port, Request("POST", "/api/v1/staff/session", body,
                                      {"Content-Type": "application/json"}))
    elapsed = time.perf_counter() - start
    if status != 200:
        raise SystemExit(f"login failed: {status} {data[:300]!r}")
    return json.loads(data)["token"], elapsed


def disclosure_request() -> Request:
    return Request("POST", "/api/v1/disclosures", json.dumps(DISCLOSURE).encode(),
                   {"Content-Type": "application/json"}, expect=201)


# --- main ----------------------------------------------------------------------------------

def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 15 s instead of about 50 s")
    parser.add_argument("--clients", help="concurrent client threads, a comma list runs each (default 1,4; 4 with --quick)")
    parser.add_argument("--duration", type=float, help="seconds per scenario (default 3, or 1 with --quick)")
    parser.add_argument("--max-requests", type=int, default=20000, help="cap per scenario (default 20000)")
    parser.add_argument("--prior-views", type=int, default=1000,
                        help="earlier views of the case in the last scenario (default 1000)")
    parser.add_argument("--runner", choices=("auto", "waitress", "whistle"), default="auto",
                        help="plain waitress, or whistle.server (waitress with encrypted body spooling); "
                             "auto: whatever production.ini's [server:main] uses")
    parser.add_argument("--server-lifetime", type=float, default=300, help=argparse.SUPPRESS)
    parser.add_argument("--serve", choices=("baseline", "whistle"), help=argparse.SUPPRESS)
    parser.add_argument("--settings", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.serve:
        return serve(args.serve, args.settings, args.server_lifetime, args.runner)

    quick = args.quick
    duration = args.duration or (1.0 if quick else 3.0)
    kdf_duration = duration * 1.5  # the slow endpoint: a few more samples
    client_counts = [int(n) for n in (args.clients or ("4" if quick else "1,4")).split(",")]
    lifetime = max(args.server_lifetime, 60 + duration * 8 * len(client_counts))

    runner = runner_name(args.runner)
    print(c.machine_header("whistle HTTP bench", "quick" if quick else "full"), flush=True)
    started = time.perf_counter()
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="whistle-bench-") as tmp:
        tmp_dir = Path(tmp)
        try:
            # Key files first, then the servers boot while the schema and accounts are made.
            default = prepare_deployment(tmp_dir / "default-cost", test_cost=False)
            cheap = prepare_deployment(tmp_dir / "test-cost", test_cost=True)
            baseline = start_server("baseline", "baseline", None, tmp_dir, lifetime, runner)
            app = start_server("whistle", "whistle", default.settings_file, tmp_dir, lifetime, runner)
            app_cheap = start_server("whistle-test-cost", "whistle", cheap.settings_file, tmp_dir, lifetime, runner)
            servers += [baseline, app, app_cheap]
            # The cases the guardian reads, two per client count: one disclosure with answers each, like
            # the ones posted below; the second of each pair as if read `prior_views` times already.
            refs = populate_deployment(default, cases=2 * len(client_counts))
            for ref in refs[1::2]:
                add_views(default, ref, args.prior_views)
            populate_deployment(cheap)
            for server in servers:
                server.wait_ready()

            token, login_s = login(app.port, default)
            auth = {"Authorization": f"Bearer {token}"}

            print(f"server: {'whistle.server.make_server' if runner == 'whistle' else 'waitress.create_server'} "
                  f"with production.ini [server:main]: {waitress_settings()}")
            print(f"receipt KDF: whistle {default.receipt_cost} (the settings' default), "
                  f"whistle-test-cost {cheap.receipt_cost}")
            print(f"guardian login (password Argon2id {default.password_cost}, one request): {c.fmt_time(login_s)}")
            print(f"{duration:g} s per scenario ({kdf_duration:g} s at the default KDF cost), "
                  f"at most {args.max_requests} requests; clients: {', '.join(map(str, client_counts))}\n", flush=True)

            rows = []
            notes = []
            for pass_no, clients in enumerate(client_counts):
                fresh_case = Request("GET", f"/api/v1/cases/{refs[2 * pass_no]}", headers=auth)
                viewed_case = Request("GET", f"/api/v1/cases/{refs[2 * pass_no + 1]}", headers=auth)
                scenarios = [
                    ("baseline: bare Pyramid GET /", baseline, Request("GET", "/"), "-", duration, 50),
                    ("GET /healthz", app, Request("GET", "/healthz"), "-", duration, 50),
                    ("POST /api/v1/disclosures", app, disclosure_request(), default.receipt_cost, kdf_duration, 2),
                    ("POST /api/v1/disclosures", app_cheap, disclosure_request(), cheap.receipt_cost, duration, 20),
                    ("GET /api/v1/cases/{ref}", app, fresh_case, "-", duration, 10),
                    (f"GET /api/v1/cases/{{ref}}, {args.prior_views} views before", app, viewed_case, "-", duration, 2),
                ]
                base_rps = None
                for label, server, req, cost, secs, warmup in scenarios:
                    result = load(server.port, req, clients=clients, duration=secs,
                                  max_requests=args.max_requests, warmup=warmup)
                    if base_rps is None:
                        base_rps = result.rps
                    rows.append([
                        label, server.name, cost, str(clients), str(result.completed), str(result.errors),
                        f"{result.rps:,.1f}", c.fmt_time(result.pct(0.50)), c.fmt_time(result.pct(0.95)),
                        c.fmt_ratio(result.rps / base_rps) if base_rps else "n/a",
                    ])
                    if result.errors:
                        notes.append(f"{label} [{server.name}, {clients} clients]: {result.errors} errors, "
                                     f"e.g. {result.sample_error}")
                    if req is fresh_case and result.completed:
                        notes.append(f"GET /api/v1/cases/{{ref}} [{clients} clients]: response grew to "
                                     f"{result.last_body_len:,} bytes during the run (each read appends a "
                                     f"case.viewed event to the case, and the response lists them all)")
                    if req is viewed_case and result.completed:
                        notes.append(f"GET /api/v1/cases/{{ref}} after {args.prior_views}+ views "
                                     f"[{clients} clients]: response {result.last_body_len:,} bytes")
                    print(f"  done: {label} [{server.name}, {cost}, {clients} clients] "
                          f"{result.rps:,.1f} req/s", flush=True)

            print()
            print(c.table(["endpoint", "server", "receipt KDF", "clients", "ok", "errors", "req/s", "p50", "p95",
                           "vs baseline"], rows, align="lllrrrrrrr"))
            print()
            print("vs baseline = req/s of the row / req/s of the bare Pyramid app with the same client count "
                  "(1.00x = as fast).")
            print("Clients are Python threads in this process (one keep-alive http.client connection each); each "
                  "server is its own process with the same waitress settings.")
            for note in notes:
                print("note: " + note)
            for server in servers:
                if server.error_lines():
                    print(f"note: server {server.name} logged {server.error_lines()} errors")
        finally:
            for server in servers:
                server.stop()
        # After the servers: counted in this process, so it cannot disturb the timings above.
        for line in sql_counts(cheap):
            print("sql: " + line)
    print(f"total {time.perf_counter() - started:.1f} s | load avg now {c.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
