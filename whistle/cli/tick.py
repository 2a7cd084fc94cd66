"""`whistle -c FILE tick`: run everything time-driven that is due, once, and exit."""
from __future__ import annotations

from whistle.cli import env as cli_env
from whistle.config import make_configurator
from whistle.jobs import context_from_registry
from whistle.scheduler.tick import run_tick


def _tick(args) -> int:
    environment = cli_env.load(args.config)
    # The app's own registry: the same settings, database, plugins and notification channels.
    registry = make_configurator(environment.raw, settings=environment.settings, clock=environment.clock).registry
    try:
        for line in run_tick(context_from_registry(registry)):
            print(line)
    finally:
        registry["db_engine"].dispose()
    return 0


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "tick", help="run the scheduled work that is due (date rules, notifications) once",
        description="Run everything time-driven that is due once and exit: escalation rules and check-in "
                    "notices for each case's days since the last tick, then notification delivery. "
                    "Safe to run on several nodes at once; running it twice does nothing the second time.")
    parser.set_defaults(handler=_tick)
