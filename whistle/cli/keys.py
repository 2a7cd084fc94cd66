"""`whistle keys ...`: the key files (`init`), the organisation key (`org-init`) and the signed key
directory (`directory-draft`, `sign-directory`, `publish-directory`)."""
from __future__ import annotations

import sys
from pathlib import Path

from whistle import crypto
from whistle.cli import env
from whistle.cli.env import CommandError
from whistle.key_directory.services import (
    DirectoryError,
    describe_draft,
    draft,
    operator_keys,
    publish,
    read_published,
    sign,
    staleness,
)
from whistle.settings import FILE_SUFFIX, create_key_file, gather, secret_files

PUBLIC_KEY_SETTING = "whistle.org.public_key"
SIGNING_KEY_SETTING = "whistle.org.signing_key"
DEFAULT_SIGNING_KEY_NAME = "org_signing_key"


def _init(args) -> int:
    raw = env.raw_settings(args.config)
    files = secret_files(raw)
    if not files:
        print("no key files are named in the configuration (set whistle.secrets.*_file)")
        return 1
    for key, path in files.items():
        state = "created" if create_key_file(path) else "exists, left as it is"
        print(f"{key}: {path} ({state})")
    print("Back these files up: without the lookup pepper no receipt can find its case. Every node needs the "
          "same files (the audit key too); keep them out of the database backups.")
    return 0


def _org_init(args) -> int:
    """Make the organisation's Ed25519 key pair: the private seed file (0600) where --out says (or
    the signing key file the .ini names, or next to the other key files), the public key where
    whistle.org.public_key_file says. Never replaces either."""
    merged = gather(env.raw_settings(args.config), {})
    public_path = merged.get(PUBLIC_KEY_SETTING + FILE_SUFFIX)
    if not public_path:
        raise CommandError(f"set {PUBLIC_KEY_SETTING}{FILE_SUFFIX} in {args.config} first: the app reads the "
                           "organisation's public key from that file, never from the database")
    public_file = Path(public_path)
    if args.out:
        signing_file = Path(args.out)
    elif merged.get(SIGNING_KEY_SETTING + FILE_SUFFIX):
        signing_file = Path(merged[SIGNING_KEY_SETTING + FILE_SUFFIX])
    else:
        key_files = list(secret_files(env.raw_settings(args.config)).values())
        if not key_files:
            raise CommandError("say where the private key goes with --out PATH (recommended: removable media)")
        signing_file = key_files[0].parent / DEFAULT_SIGNING_KEY_NAME
    for path in (public_file, signing_file):
        if path.exists():
            raise CommandError(f"{path} exists: an organisation key is already made (nothing was changed)")
    key = crypto.SigningKey.generate()
    signing_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    key.write(signing_file)
    public_file.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    public_file.write_text(crypto.public_key_file_text(key.public_key), encoding="ascii")
    print(f"private signing key: {signing_file} (mode 0600)")
    print(f"public key:          {public_file}")
    print(f"fingerprint:         {crypto.fingerprint(key.public_key)}")
    print("Publish the fingerprint on your organisation's own website, so reporters' clients can check it.")
    print("Move the private key offline (removable media kept locked away) and sign key directories with")
    print(f"  whistle -c {args.config} keys sign-directory --key PATH")
    print("unless this is a small deployment that keeps it here with whistle.org.auto_sign = true.")
    return 0


def _accepted_keys(pairs: list[str] | None) -> dict[str, str]:
    """{username: fingerprint} from --accept-key USER=FINGERPRINT options."""
    accepted = {}
    for pair in pairs or []:
        username, sep, fingerprint = pair.partition("=")
        if not sep or not username or crypto.normalise_fingerprint(fingerprint) is None:
            raise CommandError(f"--accept-key {pair}: expected USER=FINGERPRINT (the fingerprint the draft printed)")
        accepted[username] = fingerprint
    return accepted


def _operator_draft(dbsession, environment: env.Environment, args) -> bytes:
    """The draft the operator signs: the signed keys kept unless accepted (operator_keys), with the
    differences and what was kept said on stderr."""
    _warn_differences(dbsession, environment)
    keys, notes = operator_keys(dbsession, environment.settings, _accepted_keys(args.accept_key))
    for note in notes:
        print(f"note: {note}", file=sys.stderr)
    return draft(dbsession, environment.settings, environment.clock, keys=keys)


def _draft(args) -> int:
    environment = env.load(args.config)
    with env.dbsession(environment) as dbsession:
        document = _operator_draft(dbsession, environment, args)
    sys.stdout.write(document.decode("utf-8") + "\n")
    return 0


def _signing_key(path: str | None, environment: env.Environment | None) -> crypto.SigningKey:
    if path:
        try:
            return crypto.SigningKey.read(path)
        except OSError as error:
            raise CommandError(f"cannot read the signing key {path}: {error.strerror}") from None
        except ValueError as error:
            raise CommandError(f"{path}: {error}") from None
    if environment is not None and environment.settings.org_signing_key is not None:
        return environment.settings.org_signing_key
    raise CommandError("give the organisation's private key with --key PATH")


def _sign(args) -> int:
    """With --draft FILE: sign that draft anywhere (no database, no .ini needed), printing the
    signed directory for `publish-directory`. Without: make the draft from the database, sign it
    and publish it at once."""
    if args.draft:
        try:
            document = Path(args.draft).read_bytes().rstrip(b"\n")
            described = describe_draft(document)
        except OSError as error:
            raise CommandError(f"cannot read {args.draft}: {error.strerror}") from None
        except DirectoryError:
            raise CommandError(f"{args.draft} is not a key directory draft (from `keys directory-draft`)") from None
        for line in described:
            print(line, file=sys.stderr)
        key = _signing_key(args.key, None)
        sys.stdout.write(_json_line(sign(document, key)))
        print(f"signed with the key whose fingerprint is {crypto.fingerprint(key.public_key)}", file=sys.stderr)
        return 0
    environment = env.load(args.config)
    key = _signing_key(args.key, environment)
    try:
        with env.dbsession(environment) as dbsession:
            document = _operator_draft(dbsession, environment, args)
            directory = publish(dbsession, environment.settings, environment.clock, document,
                                crypto.sign_directory(document, key))
    except DirectoryError as error:
        raise CommandError(f"{error} (nothing was published)") from None
    print(f"published version {directory.version} of the key directory ({len(directory.guardians)} guardians), "
          f"valid until {directory.expires_at:%Y-%m-%d %H:%M} UTC, signed by {crypto.fingerprint(key.public_key)}")
    return 0


def _publish(args) -> int:
    try:
        data = Path(args.file).read_bytes()
    except OSError as error:
        raise CommandError(f"cannot read {args.file}: {error.strerror}") from None
    environment = env.load(args.config)
    try:
        document, signature = read_published(data)
        with env.dbsession(environment) as dbsession:
            directory = publish(dbsession, environment.settings, environment.clock, document, signature)
    except DirectoryError as error:
        raise CommandError(f"{error} (nothing was published)") from None
    print(f"published version {directory.version} of the key directory ({len(directory.guardians)} guardians), "
          f"valid until {directory.expires_at:%Y-%m-%d %H:%M} UTC")
    return 0


def _json_line(value: dict) -> str:
    return crypto.canonical_json(value).decode("utf-8") + "\n"


def _warn_differences(dbsession, environment: env.Environment) -> None:
    """Say, on stderr, what differs between the published directory and the database: a key that
    differs is what a key swap looks like, and signing would vouch for it."""
    state = staleness(dbsession, environment.settings, environment.clock)
    if state.problem:
        print(f"note: {state.problem}", file=sys.stderr)
    for sentence in state.differences:
        print(f"warning: {sentence}", file=sys.stderr)
    if state.swapped:
        print("warning: the signed key of " + ", ".join(state.swapped) + " is kept; a stored key is signed "
              "only with --accept-key USER=FINGERPRINT once you have checked it with them.", file=sys.stderr)


def register(subparsers) -> None:
    keys = subparsers.add_parser("keys", help="key material").add_subparsers(dest="keys_command", required=True)
    init = keys.add_parser("init", help="create missing key files (never overwrites)")
    init.set_defaults(handler=_init)
    org_init = keys.add_parser("org-init", help="make the organisation's signing key pair (never overwrites)")
    org_init.add_argument("--out", help="where the private key goes (recommended: removable media)")
    org_init.set_defaults(handler=_org_init)
    draft_parser = keys.add_parser("directory-draft", help="print the next key directory, unsigned, to sign offline")
    draft_parser.add_argument("--accept-key", action="append", metavar="USER=FINGERPRINT",
                              help="list USER's stored key, whose fingerprint you checked with them, "
                                   "instead of the key the last directory signed")
    draft_parser.set_defaults(handler=_draft)
    sign_parser = keys.add_parser("sign-directory", help="sign a key directory (and publish it, without --draft)")
    sign_parser.add_argument("--key", help="the organisation's private key file (default: the .ini's signing key)")
    sign_parser.add_argument("--draft", help="sign this draft (from directory-draft) and print the signed directory")
    sign_parser.add_argument("--accept-key", action="append", metavar="USER=FINGERPRINT",
                             help="sign USER's stored key, whose fingerprint you checked with them, "
                                  "instead of the key the last directory signed")
    sign_parser.set_defaults(handler=_sign)
    publish_parser = keys.add_parser("publish-directory", help="publish a key directory signed offline")
    publish_parser.add_argument("file", help="the output of `keys sign-directory --draft`")
    publish_parser.set_defaults(handler=_publish)
