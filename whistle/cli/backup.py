"""`whistle backup create DIR` and `whistle backup restore DIR`: a consistent online copy of the
database and the blob store, and putting one back into a fresh deployment (docs/operations.md 11).

A backup holds ciphertext and metadata only: never a key file, a secret or the shred key store.
`create` names them instead, in what it prints and in the manifest (paths and what each is for),
for the operator to keep apart from the data.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

from alembic.script import ScriptDirectory
from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine, make_url

from whistle import crypto
from whistle.attachments.blobs import BlobStore, make_blob_store
from whistle.attachments.models import PendingUpload
from whistle.audit.checkpoints import read_checkpoint_file
from whistle.audit.services import verify_log
from whistle.cases.models import Attachment, Case, CaseItem
from whistle.cli import env
from whistle.cli.backup_engines import (
    COUNTED,
    CopiedDatabase,
    copy_database,
    engine_name,
    is_empty,
    load_database,
)
from whistle.cli.database import alembic_config, upgrade
from whistle.cli.env import CommandError
from whistle.db import make_engine
from whistle.settings import FILE_SUFFIX, SPECS, Settings, gather
from whistle.shredding import open_shred_store

MANIFEST = "manifest.json"
FORMAT = "whistle-backup/1"
BLOBS = "blobs"
ORG_PUBLIC_KEY = "org_public_key"
PIECE = 1 << 20
BLOB_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")

# The blob store that keeps blobs in a database: on PostgreSQL the app's own, whose dump holds them.
DATABASE_STORE = "database"
IN_DUMP = "in the database dump"


@dataclass(frozen=True)
class KeyFile:
    """Something the backup must not hold, which the operator keeps elsewhere: where it is (a
    path, or how it is given) and why it matters."""

    setting: str
    where: str
    purpose: str
    # The file, where it is one: a backup is never made beside a secret one.
    path: Path | None = None
    secret: bool = True

    def as_dict(self) -> dict[str, str]:
        return {"setting": self.setting, "where": self.where, "purpose": self.purpose}


# Why each of whistle's own key files matters, in the words the operator reads.
PURPOSES = {
    "whistle.secrets.lookup_pepper": "turns a receipt into its case: without it no receipt finds its case again",
    "whistle.secrets.session_key": "keys sessions, each guardian's sign-in verifier and TOTP secret: without it "
                                   "no guardian signs in until they reset with their recovery key",
    "whistle.audit.key": "MACs the audit log: kept beside the data, it lets whoever holds both forge the log",
    "whistle.org.signing_key": "the organisation's private signing key: keep it offline",
    "whistle.db.url": "the database URL, with its password",
    "whistle.shred_store.url": "the shred key store's URL",
    "whistle.metrics.token": "the bearer token /metrics asks for: a new one can be made",
    "whistle.attachments.s3.secret_access_key": "the S3 bucket's secret access key",
}


def blobs_in_dump(settings: Settings) -> bool:
    """Whether the database copy holds the blobs: the database store on PostgreSQL keeps them in the
    app's own database; on SQLite it keeps them in a file of its own, copied through the store like
    any other store's blobs."""
    return settings.blob_store == DATABASE_STORE and engine_name(settings.db_url) == "postgresql"


def blob_store_of(settings: Settings, engine: Engine) -> BlobStore:
    """The store the settings name, built as the app's includeme builds it."""
    return make_blob_store(settings, engine)


def kept_apart(environment: env.Environment) -> list[KeyFile]:
    """Every key file and secret the configuration names, the shred key store, and the files that
    must live beside the key files: none of them goes into a backup."""
    raw, settings = environment.raw, environment.settings
    merged = gather(raw, os.environ)
    found: list[KeyFile] = []
    for key, spec in SPECS.items():
        path = merged.get(key + FILE_SUFFIX)
        if path and (key in PURPOSES or spec.secret):
            found.append(KeyFile(key + FILE_SUFFIX, path, PURPOSES.get(key, "a secret key"), Path(path)))
        elif spec.secret and not path:
            found.append(KeyFile(key, "given in the .ini or the environment", PURPOSES.get(key, "a secret key")))
    shred_url = make_url(settings.shred_store_url)
    shred_file = Path(shred_url.database) if shred_url.get_backend_name() == "sqlite" and shred_url.database else None
    found.append(KeyFile("whistle.shred_store.url", shred_url.render_as_string(hide_password=True),
                         "the shred key store: never in this backup; keep its own short rotation and restore its "
                         "newest copy, taken after this backup, with it (docs/operations.md 11.1)", shred_file))
    if settings.directory_state is not None:
        found.append(KeyFile("whistle.org.directory_state", str(settings.directory_state),
                             "the highest key directory version used: keep it with the key files",
                             settings.directory_state, secret=False))
    found.append(KeyFile("whistle.audit.checkpoint_file", str(settings.audit_checkpoint_file),
                         "audit checkpoints: shipped off the host as they are written, never restored over",
                         settings.audit_checkpoint_file, secret=False))
    for key, value in raw.items():
        if key.endswith(FILE_SUFFIX) and not key.startswith(("whistle.", "pyramid.")):
            found.append(KeyFile(key, str(value), "a plugin's secret file", Path(str(value))))
    return found


def _whistle_version() -> str:
    try:
        return version("whistle")
    except PackageNotFoundError:
        return "unknown"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while piece := handle.read(PIECE):
            digest.update(piece)
    return digest.hexdigest()


def _sync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _inside(path: Path, directory: Path) -> bool:
    return path == directory or directory in path.parents


def _check_target(target: Path, keep_apart: Iterable[KeyFile], settings: Settings) -> None:
    """The backup directory is new (or empty), and neither next to the key files nor in the store."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise CommandError(f"{target} exists and is not an empty directory: give a new directory for each backup")
    for item in keep_apart:
        if item.path is None:
            continue
        place = item.path.resolve()
        if _inside(place, target) or (item.secret and _inside(target, place.parent)):
            raise CommandError(f"{target} is beside {item.where} ({item.setting}): a backup never goes next to "
                               "the key files, nor they into it")
    if _inside(target, settings.storage_dir.resolve()):
        raise CommandError(f"{target} is inside the blob store {settings.storage_dir}")


def _create(args) -> int:
    environment = env.load(args.config)
    settings = environment.settings
    target = Path(args.dir).resolve()
    keep_apart = kept_apart(environment)
    _check_target(target, keep_apart, settings)
    target.mkdir(parents=True, exist_ok=True, mode=0o700)

    started = datetime.now(UTC)
    engine = make_engine(settings.db_url)
    try:
        copied = copy_database(engine, settings.db_url, target)
        files = {copied.file: _sha256(target / copied.file)}

        # The blobs after the database: every attachment the copy names (and only those) has its blob.
        blobs: dict[str, list[str]] = {"copied": [], "shredded": [], "missing": []}
        if not blobs_in_dump(settings):
            blobs = _copy_blobs(blob_store_of(settings, engine), settings, copied, target, files)
    finally:
        engine.dispose()
    public = settings.org_public_key is not None
    if public:
        merged = gather(environment.raw, os.environ)
        source = Path(merged["whistle.org.public_key" + FILE_SUFFIX]) \
            if "whistle.org.public_key" + FILE_SUFFIX in merged else None
        if source is not None:
            (target / ORG_PUBLIC_KEY).write_bytes(source.read_bytes())
            os.chmod(target / ORG_PUBLIC_KEY, 0o600)
            files[ORG_PUBLIC_KEY] = _sha256(target / ORG_PUBLIC_KEY)

    manifest = {
        "format": FORMAT,
        "whistle_version": _whistle_version(),
        "created_at": started.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "engine": copied.engine,
        "database": copied.file,
        "alembic_revisions": copied.revisions,
        "blob_store": IN_DUMP if blobs_in_dump(settings) else "files",
        "counts": dict(copied.counts, blobs=len(blobs["copied"])),
        # Attachments in the copy without a blob: erased or purged after the copy was taken (their
        # shred keys are destroyed, so they could not be read anyway), or lost before it.
        "blobs_shredded_since": blobs["shredded"],
        "blobs_missing": blobs["missing"],
        "public_files": {ORG_PUBLIC_KEY: "the organisation's public key"} if ORG_PUBLIC_KEY in files else {},
        "not_included": [item.as_dict() for item in keep_apart],
        "files": dict(sorted(files.items())),
        "key_checks": key_checks(settings),
    }
    manifest["mac"] = crypto.backup_manifest_mac(settings.audit_key, crypto.canonical_json(manifest)).hex()
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n", encoding="utf-8")
    os.chmod(target / MANIFEST, 0o600)
    _sync(target / MANIFEST)
    if (target / BLOBS).is_dir():
        _sync(target / BLOBS)
    _sync(target)

    counts = copied.counts
    print(f"backup of the {copied.engine} database at revision {', '.join(copied.revisions)} in {target}: "
          f"{counts['cases']} cases, {counts['items']} items, {counts['attachments']} files "
          f"({len(blobs['copied'])} blobs copied), {counts['audit_events']} audit events")
    if blobs["shredded"]:
        print(f"{len(blobs['shredded'])} files were erased or purged while the backup was taken: their blobs are "
              "not in it (their keys are destroyed, so nothing could read them)")
    print("Not in this backup, and never to be kept next to it: back these up separately (docs/operations.md 11):")
    for item in keep_apart:
        print(f"  {item.setting}: {item.where} - {item.purpose}")
    if blobs["missing"]:
        print(f"whistle: {len(blobs['missing'])} files of the database have no blob in the store (lost before this "
              "backup); the backup holds everything else", file=sys.stderr)
        return 1
    return 0


def _copy_blobs(store: BlobStore, settings: Settings, copied: CopiedDatabase, target: Path,
                files: dict[str, str]) -> dict[str, list[str]]:
    directory = target / BLOBS
    directory.mkdir(mode=0o700)
    result: dict[str, list[str]] = {"copied": [], "shredded": [], "missing": []}
    absent: list[tuple[str, bytes | None]] = []
    for name, handle in copied.blobs:
        if not BLOB_NAME.fullmatch(name):  # never let a stored name walk out of the backup directory
            raise CommandError(f"the database names a blob {name!r}, which is no blob name: nothing more copied")
        try:
            source = store.open(name)
        except FileNotFoundError:
            absent.append((name, handle))
            continue
        digest = hashlib.sha256()
        path = directory / name
        with source, os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as out:
            while piece := source.read(PIECE):
                digest.update(piece)
                out.write(piece)
            out.flush()
            os.fsync(out.fileno())
        files[f"{BLOBS}/{name}"] = digest.hexdigest()
        result["copied"].append(name)
    if absent:
        # A blob deleted between the two copies belongs to a file erased or a case purged since:
        # both destroy the file's shred key before its blob, so the key is gone from the store.
        alive = open_shred_store(settings.shred_store_url).keys(handle for _, handle in absent)
        for name, handle in absent:
            result["shredded" if handle is not None and handle not in alive else "missing"].append(name)
    return result


# --- restore ---

def key_checks(settings: Settings) -> dict[str, str]:
    """Check values of the keys a restore must be given again (docs/crypto.md 6.16)."""
    return {"whistle.secrets.lookup_pepper": crypto.key_check(settings.lookup_pepper).hex(),
            "whistle.secrets.session_key": crypto.key_check(settings.session_key).hex()}


def _read_manifest(source: Path, settings: Settings) -> dict:
    """The manifest, after checking its MAC (the audit key), that every file it lists is there
    with its SHA-256 and nothing else is, and that the key files are the backup's own."""
    try:
        manifest = json.loads((source / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise CommandError(f"{source} holds no readable {MANIFEST}: it is not a whistle backup") from None
    if not (isinstance(manifest, dict) and manifest.get("format") == FORMAT
            and isinstance(manifest.get("files"), dict) and isinstance(manifest.get("mac"), str)):
        raise CommandError(f"{source / MANIFEST} is not the manifest of a whistle backup ({FORMAT})")
    try:
        mac = bytes.fromhex(manifest.pop("mac"))
        signed = crypto.canonical_json(manifest)
    except (TypeError, ValueError):
        raise CommandError(f"{source / MANIFEST} is not the manifest of a whistle backup ({FORMAT})") from None
    if not crypto.backup_manifest_mac_matches(settings.audit_key, signed, mac):
        raise CommandError("the backup's manifest does not check out with the audit key: it was changed, or the "
                           "audit key file is not the one the backup's deployment used; nothing restored")
    listed: dict[str, str] = manifest["files"]
    present = {path.relative_to(source).as_posix() for path in source.rglob("*") if path.is_file()} - {MANIFEST}
    if extra := sorted(present - set(listed)):
        raise CommandError(f"the backup holds files its manifest does not list (first: {extra[0]}): nothing restored")
    for name, expected in listed.items():
        path = source / name
        if ".." in Path(name).parts or not path.is_file():
            raise CommandError(f"the backup lacks {name}, which its manifest lists: nothing restored")
        if _sha256(path) != expected:
            raise CommandError(f"{name} in the backup is not what its manifest says (SHA-256 differs): it was changed "
                               "or damaged, nothing restored")
    wrong = [setting for setting, value in key_checks(settings).items() if manifest["key_checks"].get(setting) != value]
    if wrong:
        raise CommandError(f"{', '.join(wrong)}: not the key the backup's deployment used (its check value differs): "
                           "copy that deployment's key files here first (without the same lookup pepper no receipt "
                           "finds its case, without the same session key no guardian signs in); nothing restored")
    return manifest


def _check_revisions(revisions: list[str]) -> None:
    known = {script.revision for script in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()}
    if unknown := sorted(set(revisions) - known):
        raise CommandError(f"the backup is at revision {', '.join(unknown)}, which this version of whistle does not "
                           "know: restore it with the version that made it")


def _restore(args) -> int:
    source = Path(args.dir).resolve()
    environment = env.load(args.config)
    settings = environment.settings
    manifest = _read_manifest(source, settings)
    _check_revisions(manifest["alembic_revisions"])
    if (manifest["blob_store"] == IN_DUMP) != blobs_in_dump(settings):
        raise CommandError("this backup's blobs are in its database dump (whistle.attachments.blob_store = database "
                           "on PostgreSQL) and the configuration keeps them elsewhere, or the other way round: restore "
                           "with the store the backup was taken with, then move them with `whistle blobs move`")

    database = make_url(settings.db_url).database
    if engine_name(settings.db_url) == "sqlite" and database:
        Path(database).parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    engine = make_engine(settings.db_url)
    store = None if blobs_in_dump(settings) else blob_store_of(settings, engine)
    try:
        if engine_name(settings.db_url) != manifest["engine"]:
            raise CommandError(f"this backup is of a {manifest['engine']} database and {args.config} names a "
                               f"{engine_name(settings.db_url)} one: restore into the same kind of database")
        if not args.force:
            if not is_empty(engine):
                raise CommandError("the database the configuration names is not empty: restore into a fresh one "
                                   "(or replace what it holds with --force)")
            if store is not None and next(iter(store.names()), None) is not None:
                raise CommandError(f"the blob store {settings.storage_dir} is not empty: restore into a fresh one "
                                   "(or add to it with --force)")
        load_database(engine, settings.db_url, manifest["engine"], source / manifest["database"])
    finally:
        engine.dispose()
    upgrade(settings.db_url)

    blob_names = sorted(name.removeprefix(f"{BLOBS}/") for name in manifest["files"] if name.startswith(f"{BLOBS}/"))
    if store is not None:
        for name in blob_names:
            with (source / BLOBS / name).open("rb") as blob:
                store.put(name, blob)

    with env.dbsession(environment) as dbsession:
        report = verify_log(dbsession, [])
        stored = set(store.names()) if store is not None else None
        expected_absent = set(manifest["blobs_shredded_since"]) | set(manifest["blobs_missing"])
        lacking = [name for name in dbsession.scalars(select(Attachment.blob_name))
                   if stored is not None and name not in stored and name not in expected_absent]
        # Files being uploaded in chunks: their staged chunks are never in a backup, so the uploads
        # are dropped (the client is told the upload is gone, and sends the file again).
        dropped = dbsession.scalar(select(func.count()).select_from(PendingUpload)) or 0
        dbsession.execute(delete(PendingUpload))
        restored = {name: dbsession.scalar(select(func.count()).select_from(model)) or 0
                    for name, model in COUNTED.items()}
        keyless = _without_shred_keys(dbsession, settings)
    counts = manifest["counts"]
    print(f"restored from {source}: {counts['cases']} cases, {counts['items']} items, {counts['attachments']} files "
          f"({len(blob_names)} blobs), {counts['audit_events']} audit events")
    if dropped:
        print(f"{dropped} unfinished uploads dropped: their chunks are not in a backup")
    failures = []
    if report.failure:
        failures.append(f"the audit log does not check out: {report.failure} (is the audit key file the one the "
                        "backup's deployment used?)")
    else:
        print(f"audit log: {report.events} events, chain intact, head MAC checks out")
    if differing := [name for name, count in restored.items() if counts.get(name) != count]:
        failures.append("the restored database does not hold what the backup's manifest counts: "
                        + ", ".join(f"{restored[name]} {name}, not {counts.get(name)}" for name in differing))
    if lacking:
        failures.append(f"{len(lacking)} files have no blob in the store (first: {lacking[0]})")
    elif store is None:
        print("the blobs are in the database, restored with it")
    else:
        shredded, missing = len(manifest["blobs_shredded_since"]), len(manifest["blobs_missing"])
        print("every file's blob is in the store" + (
            f", but for {shredded} files erased or purged while the backup was taken and {missing} whose blobs "
            "were lost before it (the backup has none)" if shredded or missing else ""))
    if keyless["cases"] and keyless["cases"] == keyless["of cases"]:
        failures.append("the shred key store holds none of the restored cases' keys, so none can be read: restore "
                        "its newest copy, taken after this backup, where whistle.shred_store.url points (then "
                        "`backup restore --force` checks again)")
    elif any(keyless[kind] for kind in ("cases", "items", "files")):
        print(f"note: {keyless['cases']} cases, {keyless['items']} items and {keyless['files']} files have no key in "
              "the shred key store: purged or erased since the backup, as they should stay; or, if the store restored "
              "is older than the backup, lost (restore its newest copy)")
    else:
        print("every case, item and file has its key in the shred key store")
    if ORG_PUBLIC_KEY in manifest["files"] and settings.org_public_key is not None:
        backed_up = crypto.read_public_key_text((source / ORG_PUBLIC_KEY).read_text(encoding="ascii"))
        if backed_up != settings.org_public_key:
            print("note: the organisation's public key here is not the backup's, which signed the key directory in "
                  "the restored database: no channel takes reports until you sign a new one "
                  "(`whistle keys sign-directory`)")
    lines = read_checkpoint_file(settings.audit_checkpoint_file)
    if lines:
        print(f"note: {settings.audit_checkpoint_file} holds {len(lines)} checkpoints from before the restore: "
              "move it aside (keep it) and start a new one with `whistle audit checkpoint`")
    print("Before starting the service: the key files of the backup's deployment (the same lookup pepper, session "
          "key and audit key) and the newest copy of the shred key store must be in place (docs/operations.md 11).")
    for failure in failures:
        print(f"whistle: {failure}", file=sys.stderr)
    return 1 if failures else 0


def _without_shred_keys(dbsession, settings: Settings) -> dict[str, int]:
    """How many cases, items and files of the restored database the shred key store has no key for
    (and how many cases have a handle at all, "of cases")."""
    store = open_shred_store(settings.shred_store_url)
    found = {}
    for kind, column in (("cases", Case.shred_handle), ("items", CaseItem.shred_handle),
                         ("files", Attachment.shred_handle)):
        handles = [bytes(handle) for handle in dbsession.scalars(select(column).where(column.is_not(None)))]
        found[kind] = len(handles) - len(store.keys(handles))
        if kind == "cases":
            found["of cases"] = len(handles)
    return found


def register(subparsers) -> None:
    backup = subparsers.add_parser("backup", help="back up and restore the database and blob store").add_subparsers(
        dest="backup_command", required=True)
    create = backup.add_parser(
        "create", help="copy the database and the blob store into a new directory, online",
        description="Copy the database (consistently, while the service runs) and then the blobs its files name "
                    "into DIR, with a manifest of SHA-256 sums. Key files, secrets and the shred key store are never "
                    "copied: the command names them, for you to keep apart.")
    create.add_argument("dir", metavar="DIR", help="a new (or empty) directory, not beside the key files")
    create.set_defaults(handler=_create)
    restore = backup.add_parser(
        "restore", help="put a backup into a fresh deployment and check it",
        description="Check the backup's manifest, load the database and put the blobs into the deployment the "
                    "configuration names (which must be empty), then check the audit log and that every file's "
                    "blob is there. Exit 1 naming what does not check out.")
    restore.add_argument("dir", metavar="DIR", help="a directory `backup create` made")
    restore.add_argument("--force", action="store_true",
                         help="replace a database that is not empty, and add to a blob store that is not empty")
    restore.set_defaults(handler=_restore)
