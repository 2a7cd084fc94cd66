"""The review's swap attacks against a real server (tests/functional/test_key_swaps.py has them on the
server-assisted path): a database writer changes the server's SQLite file with plain SQL, no
application code involved, and waits for what the reporter's client sends next. Then every value
that went over the wire, and everything the server stored, is tried with the attacker's key."""
from __future__ import annotations

import base64
import binascii
import json
import sqlite3
from collections.abc import Iterable, Iterator
from contextlib import closing

import pyotp

from tests.e2e.reporter_helpers import call_json
from tests.e2e.server import Server
from whistle import crypto

# The attacker's key pair: put in for a guardian's, a case's or a team's public key.
ATTACKER = crypto.KeyPair.generate()
# The header of a sealed envelope (docs/crypto.md 5.1), to open the sealed box inside another envelope.
_SEALED_HEADER = crypto.seal(ATTACKER.public, bytes(32))[:2]
_SEALED_BOX = 80  # a 32-byte key in a sealed box


def database(server: Server) -> sqlite3.Connection:
    return sqlite3.connect(server.directory / "var" / "whistle.sqlite", timeout=30)


def execute(server: Server, sql: str, *parameters) -> None:
    with closing(database(server)) as connection, connection:
        connection.execute(sql, parameters)


def swap_guardian_key(server: Server, username: str, public_key: bytes) -> bytes:
    """accounts.public_key of `username` set to `public_key`; returns the key it replaced."""
    with closing(database(server)) as connection, connection:
        [(before,)] = connection.execute("SELECT public_key FROM accounts WHERE username = ?", (username,)).fetchall()
        connection.execute("UPDATE accounts SET public_key = ? WHERE username = ?", (public_key, username))
    return before


def swap_case_key(server: Server, ref: str) -> None:
    execute(server, "UPDATE cases SET public_key = ? WHERE ref = ?", ATTACKER.public, ref)


def replace_reporter_grant(server: Server, ref: str) -> None:
    """The stronger attack (docs/crypto.md 6.12): the attacker's case key sealed to the reporter's
    public key in the reporter's grant, and the case's public keys and team key MAC set to match,
    so that every check of 6.11 passes."""
    team = crypto.KeyPair.generate()
    with closing(database(server)) as connection, connection:
        [(case_id, reporter_public)] = connection.execute(
            "SELECT id, reporter_public_key FROM cases WHERE ref = ?", (ref,)).fetchall()
        changed = connection.execute(
            "UPDATE case_grants SET sealed_case_key = ? WHERE case_id = ? AND holder = 'reporter'",
            (crypto.seal(reporter_public, ATTACKER.private), case_id)).rowcount
        assert changed == 1
        connection.execute("UPDATE cases SET public_key = ?, team_public_key = ?, team_key_mac = ? WHERE id = ?",
                           (ATTACKER.public, team.public, crypto.team_key_mac(ATTACKER.private, team.public), case_id))


def forge_team_key(server: Server, ref: str) -> None:
    """team_public_key set to the attacker's, with a MAC made without the case private key (which the
    attacker does not have): under a case key of their own."""
    forged = crypto.team_key_mac(crypto.KeyPair.generate().private, ATTACKER.public)
    execute(server, "UPDATE cases SET team_public_key = ?, team_key_mac = ? WHERE ref = ?",
            ATTACKER.public, forged, ref)


def sealed_to(keypair: crypto.KeyPair, data: bytes) -> bool:
    """Whether `data` opens with `keypair`: a sealed envelope (5.1), or an item (5.2) or stream (5.3)
    whose key is sealed to it. The sealed box is tried without the item's associated data, so this
    holds whatever case, kind and author the item was made for."""
    candidates = [data]
    if len(data) >= 2 + _SEALED_BOX:
        candidates.append(_SEALED_HEADER + data[2:2 + _SEALED_BOX])
    for candidate in candidates:
        try:
            crypto.unseal(keypair, candidate)
        except (crypto.CryptoError, ValueError):
            continue
        return True
    return False


def _strings(value) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for inner in value.values():
            yield from _strings(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _strings(inner)


def values_of(body: bytes) -> Iterator[bytes]:
    """The body itself (an upload's chunk), and every base64 value in it if it is JSON."""
    yield body
    try:
        document = json.loads(body)
    except ValueError:
        return
    for text in _strings(document):
        try:
            yield base64.b64decode(text, validate=True)
        except (binascii.Error, ValueError):
            continue


def sent_to(keypair: crypto.KeyPair, bodies: Iterable[bytes]) -> list[bytes]:
    """The values in `bodies` that open with `keypair`."""
    return [value for body in bodies for value in values_of(body) if sealed_to(keypair, value)]


def stored_to(server: Server, ref: str, keypair: crypto.KeyPair) -> list[str]:
    """Everything the server keeps of case `ref` (items, grants, the start of each file's blob) that
    opens with `keypair`, named by where it is."""
    found = []
    with closing(database(server)) as connection:
        [(case_id,)] = connection.execute("SELECT id FROM cases WHERE ref = ?", (ref,)).fetchall()
        for item_id, kind, ciphertext in connection.execute(
                "SELECT id, kind, ciphertext FROM case_items WHERE case_id = ?", (case_id,)):
            if sealed_to(keypair, ciphertext):
                found.append(f"item {item_id} ({kind})")
        for grant_id, holder, *sealed in connection.execute(
                "SELECT id, holder, sealed_case_key, sealed_team_key FROM case_grants WHERE case_id = ?", (case_id,)):
            if any(value is not None and sealed_to(keypair, value) for value in sealed):
                found.append(f"grant {grant_id} ({holder})")
        for attachment_id, blob_name in connection.execute(
                "SELECT id, blob_name FROM attachments WHERE case_id = ?", (case_id,)):
            with (server.directory / "var" / "blobs" / blob_name).open("rb") as blob:
                if sealed_to(keypair, blob.read(2 + _SEALED_BOX)):
                    found.append(f"file {attachment_id}")
    return found


def count(server: Server, table: str, ref: str, where: str = "1 = 1") -> int:
    with closing(database(server)) as connection:
        return connection.execute(
            f"SELECT count(*) FROM {table} WHERE case_id = (SELECT id FROM cases WHERE ref = ?) AND {where}",
            (ref,)).fetchone()[0]


def staff_headers(server: Server, who: dict) -> dict:
    """A guardian enrolled by tests.e2e.test_workspace.enrol, signed in to the API."""
    status, body = call_json(server.port, "POST", "/api/v1/staff/session", {
        "username": who["username"], "password": who["password"], "otp": pyotp.TOTP(who["totp"]).now()},
        source="127.0.0.3")
    assert status == 200, body
    return {"Authorization": f"Bearer {body['token']}"}
