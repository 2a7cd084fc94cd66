"""`whistle keys init`: create the key files the configuration names (lookup pepper, session key)."""
from __future__ import annotations

from whistle.cli import env
from whistle.settings import create_key_file, secret_files


def _init(args) -> int:
    raw = env.raw_settings(args.config)
    files = secret_files(raw)
    if not files:
        print("no key files are named in the configuration (set whistle.secrets.*_file)")
        return 1
    for key, path in files.items():
        state = "created" if create_key_file(path) else "exists, left as it is"
        print(f"{key}: {path} ({state})")
    print("Back these files up: without the lookup pepper no receipt can find its case.")
    return 0


def register(subparsers) -> None:
    keys = subparsers.add_parser("keys", help="key material").add_subparsers(dest="keys_command", required=True)
    init = keys.add_parser("init", help="create missing key files (never overwrites)")
    init.set_defaults(handler=_init)
