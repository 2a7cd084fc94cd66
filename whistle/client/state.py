"""What the client remembers per server, in its state directory (mode 0700): the organisation's
pinned public key and fingerprint, and the highest key directory version seen. Never a receipt,
never a word of a report: only what lets it tell the organisation's directory from another."""
from __future__ import annotations

import base64
import binascii
import json
import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

DEFAULT_DIRECTORY = Path("~/.config/whistle-report")
_UNSAFE = re.compile(r"[^A-Za-z0-9.-]+")


class StateError(Exception):
    """The state file is unreadable: the client refuses rather than start trusting afresh."""


@dataclass
class ServerState:
    origin: str
    public_key: bytes | None = None
    fingerprint: str | None = None
    directory_version: int = 0


class StateStore:
    def __init__(self, directory: Path | None = None) -> None:
        self.directory = (directory or DEFAULT_DIRECTORY).expanduser()

    def _file(self, origin: str) -> Path:
        return self.directory / (_UNSAFE.sub("_", origin) + ".json")

    def load(self, origin: str) -> ServerState:
        path = self._file(origin)
        try:
            value = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return ServerState(origin)
        except (OSError, ValueError) as error:
            raise StateError(f"cannot read {path}: {error}") from None
        try:
            if value["origin"] != origin:
                raise ValueError("the file is another server's")
            key = base64.b64decode(value["public_key"], validate=True) if value.get("public_key") else None
            version = value.get("directory_version", 0)
            if type(version) is not int or version < 0 or (key is not None and len(key) != 32):
                raise ValueError("bad values")
            return ServerState(origin, key, value.get("fingerprint"), version)
        except (KeyError, TypeError, ValueError, binascii.Error) as error:
            raise StateError(f"{path} is damaged ({error}); move it away only if you know why") from None

    def save(self, state: ServerState) -> None:
        """Write the state atomically (a temporary file renamed over the old one), readable by the owner only."""
        self.directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        self.directory.chmod(0o700)
        value = {"origin": state.origin, "fingerprint": state.fingerprint,
                 "public_key": base64.b64encode(state.public_key).decode("ascii") if state.public_key else None,
                 "directory_version": state.directory_version}
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".state-")
        try:
            with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
                json.dump(value, handle, indent=1, sort_keys=True)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self._file(state.origin))
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
