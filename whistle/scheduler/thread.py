"""The embedded scheduler: the app runs the tick every interval in a daemon thread.

For the embedded default (`make run`, one process, SQLite): no cron needed. Several processes
with it on are still safe (the tick's lease or row locks), only wasteful; production runs the
tick from a systemd timer instead (docs/operations.md).
"""
from __future__ import annotations

import logging
import threading

from whistle.jobs import context_from_registry
from whistle.scheduler.tick import run_tick

log = logging.getLogger(__name__)


class EmbeddedScheduler:
    def __init__(self, registry) -> None:
        self.registry = registry
        self.interval = registry.whistle_settings.scheduler_interval.total_seconds()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="whistle-scheduler", daemon=True)

    def start(self) -> EmbeddedScheduler:
        self._thread.start()
        log.info("embedded scheduler: a tick every %s s", int(self.interval))
        return self

    def stop(self, timeout: float = 10) -> None:
        self._stop.set()
        self._thread.join(timeout)

    def tick_once(self) -> list[str]:
        try:
            lines = run_tick(context_from_registry(self.registry))
        except Exception as error:  # noqa: BLE001 - the thread must outlive a bad tick; type only
            log.error("embedded tick failed: %s", type(error).__name__)
            return []
        for line in lines:
            # A quiet minute is the usual case: keep the log for ticks that did something.
            busy = "failed" in line or "lease" in line or any(digit in line for digit in "123456789")
            log.log(logging.INFO if busy else logging.DEBUG, "tick: %s", line)
        return lines

    def _run(self) -> None:
        # First tick straight away, so a freshly started app catches up on what it missed.
        while not self._stop.is_set():
            self.tick_once()
            self._stop.wait(self.interval)


def start_if_enabled(registry) -> EmbeddedScheduler | None:
    if not registry.whistle_settings.scheduler_embedded:
        return None
    scheduler = EmbeddedScheduler(registry).start()
    registry.embedded_scheduler = scheduler
    return scheduler
