"""The checkpoint file: the audit chain's length and head hash, now and then, outside the database.

One line per checkpoint, appended and never rewritten:

    {"at":"2026-12-05T12:00:00Z","hash":"<64 hex>","mac":"<64 hex>","seq":1234}

`seq` is the chain's length when it was taken, `hash` the hash of event `seq`, and `mac` the
audit key's MAC over both and `at` (whistle.crypto.audit). The head's MAC shows that the head was
written with the key; a checkpoint shows where the chain already was, so a database put back to
an older state (events cut off the end, the old head restored with its old MAC) is found too.
The same line goes to the application log, so shipping the log off the host keeps a copy that no
one on the host can change; a line is read from its first "{", so a log's lines can be checked
as they are (`whistle audit verify --checkpoints FILE`).
"""
from __future__ import annotations

import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from whistle import crypto

_FIELDS = {"seq", "hash", "at", "mac"}
_AT_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def checkpoint_time(moment: datetime) -> str:
    """A checkpoint's `at`: UTC to the second."""
    return moment.astimezone(UTC).strftime(_AT_FORMAT)


def _moment(at: str) -> datetime:
    return datetime.strptime(at, _AT_FORMAT).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Checkpoint:
    seq: int
    hash: bytes
    at: str
    mac: bytes

    @classmethod
    def taken(cls, key: bytes, seq: int, head_hash: bytes, moment: datetime) -> Checkpoint:
        at = checkpoint_time(moment)
        return cls(seq, bytes(head_hash), at, crypto.audit_checkpoint_mac(key, seq, head_hash, at))

    def mac_matches(self, key: bytes) -> bool:
        return crypto.audit_mac_matches(crypto.audit_checkpoint_mac(key, self.seq, self.hash, self.at), self.mac)

    @property
    def moment(self) -> datetime:
        return _moment(self.at)

    def line(self) -> str:
        return json.dumps({"seq": self.seq, "hash": self.hash.hex(), "at": self.at, "mac": self.mac.hex()},
                          sort_keys=True, separators=(",", ":"))


@dataclass(frozen=True)
class CheckpointLine:
    number: int  # from 1, as an editor shows it
    checkpoint: Checkpoint | None  # None: the line is not a checkpoint


def _hex32(value: object) -> bytes | None:
    if not isinstance(value, str) or len(value) != 64:
        return None
    try:
        return bytes.fromhex(value)
    except ValueError:
        return None


def parse_line(text: str) -> Checkpoint | None:
    """The checkpoint a line holds, from its first "{" (a log line's prefix is skipped); None if
    it holds none."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        value = json.loads(text[start:])
    except ValueError:
        return None
    if not isinstance(value, dict) or set(value) != _FIELDS:
        return None
    seq, at = value["seq"], value["at"]
    head_hash, mac = _hex32(value["hash"]), _hex32(value["mac"])
    if type(seq) is not int or seq < 1 or not isinstance(at, str) or head_hash is None or mac is None:
        return None
    try:
        _moment(at)
    except ValueError:
        return None
    return Checkpoint(seq, head_hash, at, mac)


def read_checkpoint_file(path: Path) -> list[CheckpointLine]:
    """Every non-blank line of the file, in order; no file: no checkpoints."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return []
    return [CheckpointLine(number, parse_line(line)) for number, line in enumerate(text.splitlines(), start=1)
            if line.strip()]


def append_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Add the checkpoint's line at the end of the file (made 0600 if new), written whole and
    synced before this returns; a lock keeps two writers' lines apart."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        os.write(fd, (checkpoint.line() + "\n").encode("ascii"))
        os.fsync(fd)
    finally:
        os.close(fd)
