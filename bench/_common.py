"""Helpers shared by the benchmarks: timing loops, machine facts and plain-text tables.

Nothing here asserts a speed. Every number a bench prints is either a raw measurement or a
ratio against a baseline measured in the same run (see bench/README.md).
"""
from __future__ import annotations

import os
import platform
import statistics
import sys
import time
from datetime import datetime, timezone
from typing import Callable, Sequence


def nproc() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def loadavg() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "n/a"


def machine_header(title: str, mode: str) -> str:
    import nacl

    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    return (
        f"{title}  [{mode}]\n"
        f"{now} | nproc {nproc()} | {platform.machine()} {platform.processor() or ''}".rstrip()
        + f" | Python {platform.python_version()} | PyNaCl {nacl.__version__} | load avg {loadavg()}"
    )


def calibrate(fn: Callable[[], object], target_s: float) -> int:
    """How many calls of `fn` take about `target_s` seconds (at least 1)."""
    start = time.perf_counter()
    fn()
    single = max(time.perf_counter() - start, 1e-7)
    if single >= target_s:
        return 1
    # A second, batched estimate: the first call may have paid for warm-up.
    n = max(1, min(1000, int(0.02 / single)))
    start = time.perf_counter()
    for _ in range(n):
        fn()
    single = max((time.perf_counter() - start) / n, 1e-7)
    return max(1, int(target_s / single))


def interleaved(fns: dict[str, Callable[[], object]], budget_s: float, rounds: int) -> dict[str, float]:
    """Best seconds-per-call of each function, measured in alternating rounds.

    The rounds of the functions being compared alternate (A B A B ...), so drift in machine
    load hits all of them alike; the minimum over rounds (as `timeit` recommends) filters out
    rounds that another process interrupted.
    """
    per_round = budget_s / rounds / len(fns)
    counts = {name: calibrate(fn, per_round) for name, fn in fns.items()}
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            n = counts[name]
            start = time.perf_counter()
            for _ in range(n):
                fn()
            best[name] = min(best[name], (time.perf_counter() - start) / n)
    return best


def percentile(sorted_values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted sequence."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, int(round(fraction * len(sorted_values) + 0.5)) - 1))
    return sorted_values[index]


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def fmt_time(seconds: float) -> str:
    if seconds != seconds:  # NaN
        return "n/a"
    if seconds < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if seconds < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


def fmt_rate(bytes_per_s: float) -> str:
    return f"{bytes_per_s / 2**20:,.0f} MiB/s" if bytes_per_s >= 10 * 2**20 else f"{bytes_per_s / 2**20:,.1f} MiB/s"


def fmt_ratio(ratio: float) -> str:
    if ratio != ratio:
        return "n/a"
    return f"{ratio:.3f}x" if ratio < 0.1 else f"{ratio:.2f}x"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], align: str | None = None) -> str:
    """A plain-text table; `align` is one 'l' or 'r' per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(headers) - 1)
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) if rows else len(str(h)) for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w) for c, w, a in zip(cells, widths, align))

    out = [line(headers), "  ".join("-" * w for w in widths)]
    out.extend(line(r) for r in rows)
    return "\n".join(out)


def eprint(*args) -> None:
    print(*args, file=sys.stderr, flush=True)
