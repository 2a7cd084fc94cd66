"""Reporter pages in each language under wrk, as ratios of a bare Pyramid view measured in the same run.

    .venv/bin/python bench/language_bench.py            # ~2 min: SQLite, 4 s per run, best of 2
    .venv/bin/python bench/language_bench.py --quick    # ~1 min: 2 s per run

What a language costs: the address's prefix moved into SCRIPT_NAME, the catalogue lookups of every
marked string, dates and numbers by Babel. Each page is fetched in English and under every prefix
(/cy/, /pl/, /ar/), interleaved with the baseline (a bare Pyramid app with one JSON view), the best
of each kept; `% of bare` = page req/s / baseline req/s of the same pair, and `vs English` compares
a language with the English page of the same run.
"""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(1, str(REPO))

import _common as c  # noqa: E402
import http_bench as hb  # noqa: E402
from read_bench import Run, percent, wrk  # noqa: E402

PAGES = (("home page", "/"), ("intake form", "/report/staff"), ("mailbox sign-in", "/mailbox"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="2 s runs (a smoke run)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    from whistle.i18n import LANGUAGES

    duration = 2.0 if args.quick else 4.0
    print(c.machine_header("whistle language bench", "quick" if args.quick else "full"), flush=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="whistle-language-bench-") as tmp:
        tmp_dir = Path(tmp)
        deployment = hb.prepare_deployment(tmp_dir / "deployment", test_cost=True)
        hb.populate_deployment(deployment)
        lifetime = 600 + duration * len(PAGES) * len(LANGUAGES) * args.rounds * 4
        baseline = hb.start_server("baseline", "baseline", None, tmp_dir, lifetime, hb.runner_name("auto"))
        app = hb.start_server("whistle", "whistle", deployment.settings_file, tmp_dir, lifetime,
                              hb.runner_name("auto"))
        try:
            for server in (baseline, app):
                server.wait_ready()
            rows = []
            for label, path in PAGES:
                english_rps = None
                for code in LANGUAGES:
                    target = path if code == "en" else f"/{code}{path}"
                    best_base: Run | None = None
                    best: Run | None = None
                    for _ in range(args.rounds):
                        base = wrk(baseline.port, "/", "", duration, args.connections, tmp_dir)
                        run = wrk(app.port, target, "", duration, args.connections, tmp_dir)
                        best_base = base if best_base is None or base.rps > best_base.rps else best_base
                        best = run if best is None or run.rps > best.rps else best
                    assert best is not None and best_base is not None
                    english_rps = best.rps if code == "en" else english_rps
                    versus = "–" if code == "en" or not english_rps else f"{100 * (best.rps / english_rps - 1):+.0f} %"
                    rows.append([f"{label} `{target}`", f"{best.rps:,.0f}", percent(best.rps / best_base.rps), versus,
                                 c.fmt_time(best.p50), c.fmt_time(best.p95), str(best.non_2xx + best.socket_errors),
                                 f"{best_base.rps:,.0f}"])
                    print(f"  done: {target}: {best.rps:,.0f} req/s", flush=True)
        finally:
            for server in (baseline, app):
                server.stop()
    print()
    print(c.table(["page", "req/s", "% of bare", "vs English", "p50", "p95", "non-2xx", "bare req/s"], rows))
    print(f"\n{time.perf_counter() - started:.0f} s in all")
    return 0


if __name__ == "__main__":
    sys.exit(main())
