"""`whistle desk URL` (and `whistle-desk URL`): pin the organisation's key, then serve the workspace
on http://127.0.0.1:PORT from this machine. docs/desk.md."""
from __future__ import annotations

import argparse
import ipaddress
import sys
from pathlib import Path

from waitress.server import create_server

from whistle import crypto
from whistle.client import trust
from whistle.client.api import TRANSPORT_ERRORS, Api, ApiError
from whistle.client.cli import ask_on_terminal, terminal_safe
from whistle.client.state import DEFAULT_DIRECTORY, StateError, StateStore

from .pin import Pin
from .proxy import PACKAGE_STATIC, Desk

DEFAULT_PORT = 6544
LOOPBACK = "127.0.0.1"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("url", metavar="URL", help="the service's address, e.g. https://speakup.example.org")
    parser.add_argument("--fingerprint", metavar="FP",
                        help="the organisation's fingerprint, as it publishes it on its own website")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"the port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--state-dir", type=Path, metavar="DIR", default=DEFAULT_DIRECTORY,
                        help=f"where the pinned organisation key is kept (default {DEFAULT_DIRECTORY}, "
                             "shared with whistle-report)")
    parser.add_argument("--yes", action="store_true",
                        help="on first use, pin the key the server gives without asking (compare the fingerprint "
                             "printed with the one the organisation publishes)")
    parser.add_argument("--lowest-cost", type=int, nargs=2, metavar=("OPSLIMIT", "MEMLIMIT"),
                        help="the least Argon2id cost the sign-in page may derive your keys with (default: "
                             "libsodium's interactive cost, opslimit 2, memlimit 67108864); a server asking for "
                             "less is refused")
    # For tests: serve /static/ from another directory than the installed package's.
    parser.add_argument("--static-dir", type=Path, default=PACKAGE_STATIC, help=argparse.SUPPRESS)


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "desk", help="serve the guardian's workspace from this machine, trusting no server (no config file needed)",
        description="Pin the organisation's key, then serve the workspace on http://127.0.0.1:PORT: the pages from "
                    "the server, every script and style from this machine. See docs/desk.md.")
    add_arguments(parser)
    parser.set_defaults(handler=run)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="whistle-desk", description="Serve the guardian's workspace from this "
                                     "machine, trusting no server. See docs/desk.md.")
    add_arguments(parser)
    return run(parser.parse_args(argv))


def say(text: str) -> None:
    print(terminal_safe(text), file=sys.stderr, flush=True)


def run(args: argparse.Namespace, *, host: str = LOOPBACK) -> int:
    """Pin, then serve until interrupted; 1 (serving nothing) if the server's keys are refused."""
    if not ipaddress.ip_address(host).is_loopback:
        say(f"whistle desk: the desk serves on loopback only, not {host}: anyone who reaches it acts as you.")
        return 2
    if not 0 < args.port < 65536:
        say(f"whistle desk: {args.port} is not a port.")
        return 2
    try:
        lowest = crypto.KdfCost(*args.lowest_cost) if args.lowest_cost else None
    except ValueError as error:
        say(f"whistle desk: --lowest-cost: {error}")
        return 2
    try:
        api = Api(args.url)
    except ValueError as error:
        say(f"whistle desk: {error}")
        return 2
    if api.prefix:
        say("whistle desk: give the service's address without a path (https://speakup.example.org).")
        return 2
    confirm: trust.Confirm = (lambda question: True) if args.yes else ask_on_terminal
    try:
        pin = Pin.take(api, StateStore(args.state_dir), fingerprint=args.fingerprint, confirm=confirm, say=say)
    except trust.Refused as refusal:
        say(f"Refused; the desk serves nothing. {refusal}")
        return 1
    except ApiError as error:
        say(f"The service refused: {error.words()}")
        return 1
    except TRANSPORT_ERRORS as error:
        say(f"Could not reach {api.origin}: {error}")
        return 1
    except StateError as error:
        say(f"whistle desk: {error}")
        return 1
    try:
        server = create_server(Desk(api, pin, static=args.static_dir, lowest_cost=lowest), host=host,
                               port=args.port, ident="whistle-desk")
    except OSError as error:
        say(f"whistle desk: cannot listen on {host}:{args.port}: {error.strerror or error}. Give another --port.")
        return 1
    say(f"The organisation's key {pin.fingerprint} is pinned for {api.origin}.\n"
        f"Open http://{host}:{args.port}/staff/login in your browser. Stop the desk with Ctrl-C.")
    try:
        server.run()
    except KeyboardInterrupt:
        say("Stopped.")
    finally:
        server.close()
    return 0
