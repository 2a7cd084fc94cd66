"""GET /metrics: counts in the Prometheus text format (0.0.4), for whoever holds the metrics token.

Only counts, never content and nothing about one reporter or one case: requests by route name (the
route table's, never a path) and status class, their duration by route name, open cases by status,
notices waiting and dead-lettered, the last successful run of each scheduled job, refusals by limit,
Argon2id slots waited for and refused, and whether the blob store and the node are ready. The
request, refusal and Argon2id counters are this process's own: each node (each process) answers for
itself, and Prometheus scrapes every node and adds them up. The figures read from the database are
the same on every node, and are read at most every DATABASE_SECONDS.

No token file configured, no token sent or a wrong one: the same 404 as any address that does not
exist, so nobody learns from the answer whether metrics are on.
"""
from __future__ import annotations

import hmac
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterable

from pyramid.response import Response
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from whistle import throttles
from whistle.cases.lifecycle import OPEN_STATUSES
from whistle.cases.models import Case
from whistle.crypto import argon2id_counts
from whistle.errors.problems import Problem
from whistle.errors.views import respond
from whistle.notifications.models import FAILED, PENDING, Notification
from whistle.scheduler.models import JobRun

CONTENT_TYPE = "text/plain; version=0.0.4"
NO_ROUTE = "none"  # a request no route matched (its path is never a label)
DATABASE_SECONDS = 10.0
# Request durations, in seconds: from a cached page to an Argon2id sign-in and a large upload.
BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 120.0)


class Recorder:
    """This process's request counters and duration histograms, by route name."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: dict[tuple[str, str], int] = defaultdict(int)
        self._buckets: dict[str, list[int]] = {}
        self._sums: dict[str, float] = defaultdict(float)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        status_class = f"{status // 100}xx"
        with self._lock:
            self._requests[(route, status_class)] += 1
            buckets = self._buckets.get(route)
            if buckets is None:
                buckets = self._buckets[route] = [0] * (len(BUCKETS) + 1)
            for index, bound in enumerate(BUCKETS):
                if seconds <= bound:
                    buckets[index] += 1
                    break
            else:
                buckets[-1] += 1
            self._sums[route] += seconds

    def snapshot(self) -> tuple[dict[tuple[str, str], int], dict[str, list[int]], dict[str, float]]:
        with self._lock:
            return dict(self._requests), {k: list(v) for k, v in self._buckets.items()}, dict(self._sums)


class DatabaseFigures:
    """The counts read from the database, kept DATABASE_SECONDS: every node reads the same ones."""

    def __init__(self, engine: Engine, *, now: Callable[[], float] = time.monotonic) -> None:
        self.engine = engine
        self.now = now
        self._lock = threading.Lock()
        self._read_at: float | None = None
        self._figures: dict[str, dict[str, float]] = {}

    def read(self) -> dict[str, dict[str, float]]:
        with self._lock:
            if self._read_at is None or self.now() - self._read_at >= DATABASE_SECONDS:
                self._figures, self._read_at = self._query(), self.now()
            return self._figures

    def _query(self) -> dict[str, dict[str, float]]:
        with self.engine.connect() as connection:
            cases = dict(connection.execute(
                select(Case.status, func.count()).where(Case.status.in_(OPEN_STATUSES)).group_by(Case.status)).all())
            notices = dict(connection.execute(
                select(Notification.state, func.count()).where(Notification.state.in_((PENDING, FAILED)))
                .group_by(Notification.state)).all())
            jobs = {name: when.timestamp() for name, when in connection.execute(
                select(JobRun.name, JobRun.succeeded_at)).all()}
        return {"cases": {status: cases.get(status, 0) for status in OPEN_STATUSES},
                "notices": {state: notices.get(state, 0) for state in (PENDING, FAILED)},
                "jobs": jobs}


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(float(value))


class Exposition:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def family(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        """A gauge or a counter (in the 0.0.4 format a counter's TYPE line names it with its _total)."""
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        self.samples(name, samples)

    def samples(self, name: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        for labels, value in samples:
            text = ",".join(f'{key}="{_label(val)}"' for key, val in labels.items())
            self.lines.append(f"{name}{{{text}}} {_number(value)}" if text else f"{name} {_number(value)}")

    def text(self) -> str:
        return "\n".join(self.lines) + "\n"


def exposition(recorder: Recorder, figures: dict[str, dict[str, float]], ready: bool,
               blob_store_ok: bool | None) -> str:
    requests, buckets, sums = recorder.snapshot()
    out = Exposition()
    out.family("whistle_http_requests_total", "counter",
               "Requests this process answered, by route name and status class.",
               (({"route": route, "status": status}, count) for (route, status), count in sorted(requests.items())))
    out.lines.append("# HELP whistle_http_request_duration_seconds Time this process took until the answer started, "
                     "by route name.")
    out.lines.append("# TYPE whistle_http_request_duration_seconds histogram")
    for route in sorted(buckets):
        cumulative = 0
        for bound, count in zip((*BUCKETS, float("inf")), buckets[route], strict=True):
            cumulative += count
            le = "+Inf" if bound == float("inf") else repr(bound)
            out.samples("whistle_http_request_duration_seconds_bucket", [({"route": route, "le": le}, cumulative)])
        out.samples("whistle_http_request_duration_seconds_sum", [({"route": route}, sums[route])])
        out.samples("whistle_http_request_duration_seconds_count", [({"route": route}, cumulative)])
    out.family("whistle_cases_open", "gauge", "Cases not closed, by status (the whole service).",
               (({"status": status}, count) for status, count in figures["cases"].items()))
    out.family("whistle_notifications", "gauge",
               "Notices waiting to be delivered (pending) and given up on (failed: dead-lettered).",
               (({"state": state}, count) for state, count in figures["notices"].items()))
    out.family("whistle_job_last_success_timestamp_seconds", "gauge",
               "When each scheduled job last ran to its end (Unix time), on any node.",
               (({"job": job}, when) for job, when in sorted(figures["jobs"].items())))
    out.family("whistle_throttle_refusals_total", "counter", "Requests this process refused because a limit was spent, "
               "by limit.", (({"limit": name}, count) for name, count in sorted(throttles.refusal_counts().items())))
    kdf = argon2id_counts()
    out.family("whistle_kdf_slot_waits_total", "counter",
               "Argon2id derivations in this process that waited for a slot.", [({}, kdf.waits)])
    out.family("whistle_kdf_slot_refusals_total", "counter",
               "Argon2id derivations in this process refused (503) because no slot came free in time.",
               [({}, kdf.refusals)])
    out.family("whistle_blob_store_up", "gauge", "1 if the blob store answered its last check, else 0.",
               [({}, 1 if blob_store_ok else 0)])
    out.family("whistle_ready", "gauge", "1 if this node is ready (what /readyz says), else 0.",
               [({}, 1 if ready else 0)])
    return out.text()


def _token_matches(request, token: str) -> bool:
    header = request.environ.get("HTTP_AUTHORIZATION", "")
    scheme, _, given = header.partition(" ")
    # Compared in constant time, whatever was sent (an empty or missing token compares too).
    matches = hmac.compare_digest(given.strip().encode("utf-8", "replace"), token.encode("ascii"))
    return matches and scheme.lower() == "bearer"


def view(request) -> Response:
    token = request.registry.whistle_settings.metrics_token
    if not token or not _token_matches(request, token):
        # As any address that is not there; no caller is looked up (ask_who=False).
        return respond(request, Problem(404, "There is nothing at this address."), ask_who=False)
    registry = request.registry
    ready = registry.readiness.ready()
    try:
        figures = registry.metrics_figures.read()
    except Exception:  # noqa: BLE001 - the database is down: the counters of this process are still worth having
        figures = {"cases": {}, "notices": {}, "jobs": {}}
    text = exposition(registry.metrics, figures, ready, registry.readiness.blob_store_ok)
    return Response(body=text.encode("utf-8"), content_type=CONTENT_TYPE, charset="utf-8")
