"""The desk (`whistle desk URL`) as a guardian runs it, against a real server, and the attack the desk
exists to stop: the server's organisation key and directory replaced by a database writer holding
the key files."""
from __future__ import annotations

import json
import signal
import socket
import sqlite3
import subprocess
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

from tests.e2e.server import BIN, Server, free_port
from whistle import crypto
from whistle.crypto import SigningKey, public_key_file_text

# The Argon2id cost the test servers sign in with (tests/e2e/server.py), far below the desk's floor.
TEST_SERVERS_COST = ("--lowest-cost", "1", "8192")


class DeskProcess:
    """`whistle desk URL ...` on a free port (or the one given), its output in `directory/desk.log`."""

    def __init__(self, url: str, directory: Path, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        directory.mkdir(parents=True, exist_ok=True)
        self.log = directory / f"desk-{self.port}.log"
        cost = () if "--lowest-cost" in args else TEST_SERVERS_COST
        self.process = subprocess.Popen(
            [str(BIN / "whistle"), "desk", url, "--port", str(self.port), "--state-dir", str(directory / "desk-state"),
             *args, *cost], stdout=subprocess.DEVNULL, stderr=self.log.open("wb"), stdin=subprocess.DEVNULL,
            start_new_session=True, preexec_fn=_ctrl_c_as_in_a_terminal)

    def wait_serving(self, timeout: float = 60) -> bool:
        """True once the desk accepts connections, False if it exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                return False
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"the desk neither served nor exited:\n{self.output()}")

    def output(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _ctrl_c_as_in_a_terminal() -> None:
    """SIGINT back to its default in the desk's process: a test run started in the background by a
    non-interactive shell (as CI starts its two suites side by side) ignores SIGINT, the desk
    would inherit that, and stop() would wait for its timeout instead of seeing Ctrl-C."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def fingerprint_of(server: Server) -> str:
    return crypto.fingerprint(server.org_key.public_key)


def sign_with_another_key(server: Server) -> SigningKey:
    """What someone holding the server's files can do: replace the organisation key files with a key of
    their own and publish a newer directory signed with it; the server, restarted on the same port,
    then serves that directory and key as its own. Returns the new key."""
    server.stop()
    other = SigningKey.generate()
    (server.directory / "org_signing_key").unlink()
    other.write(server.directory / "org_signing_key")
    (server.directory / "org_public_key").write_text(public_key_file_text(other.public_key))
    with closing(sqlite3.connect(server.directory / "var" / "whistle.sqlite", timeout=30)) as connection, connection:
        [(document,)] = connection.execute(
            "SELECT document FROM key_directories ORDER BY version DESC LIMIT 1").fetchall()
        value = json.loads(document)
        value["version"] += 1
        forged = crypto.canonical_json(value)
        connection.execute("INSERT INTO key_directories (version, document, signature, published_on) "
                           "VALUES (?, ?, ?, ?)", (value["version"], forged, crypto.sign_directory(forged, other),
                                                   datetime.now(UTC).date().isoformat()))
    serve_again(server)
    return other


def serve_again(server: Server) -> None:
    """pserve on the server's directory and port again (its database as it is: no upgrade, no demo)."""
    log = server.log.open("ab")
    server.process = subprocess.Popen([str(BIN / "pserve"), str(server.ini)], stdout=log, stderr=log,
                                      cwd=server.directory, env=server.env)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", server.port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server did not start again:\n{server.log.read_text()}")
