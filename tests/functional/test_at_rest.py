"""What is stored can be read with libsodium and docs/crypto.md alone, and only with a key.

This test decrypts a stored disclosure from the database rows, starting from the guardian's
password and the shred keys the shred key store holds, using nothing but `nacl.bindings` and the
layouts documented in docs/crypto.md.
"""
from __future__ import annotations

import unicodedata
from pathlib import Path
from urllib.parse import quote

from nacl import bindings
from sqlalchemy import select, text

from tests.factories import api_login, make_channel, make_staff, submit_api
from whistle.cases.models import Case, CaseGrant, CaseItem
from whistle.db import Base
from whistle.shredding import shred_store_of


def device_unwrap(account, password: str) -> bytes:  # docs/crypto.md 6.13 and 5.8
    master = bindings.crypto_pwhash_alg(32, unicodedata.normalize("NFC", password).encode(), account.sign_in_salt,
                                        account.sign_in_opslimit, account.sign_in_memlimit,
                                        bindings.crypto_pwhash_ALG_ARGON2ID13)
    wrap_key = bindings.crypto_generichash_blake2b_salt_personal(master, digest_size=32, person=b"whistle-gwrap")
    envelope = account.key_by_device
    assert envelope[:2] == b"\x01\x08"
    return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(envelope[26:], envelope[:26], envelope[2:26], wrap_key)


def shred_unwrap(wrapped: bytes, key: bytes, handle: bytes, purpose: str) -> bytes:  # docs/crypto.md 5.10
    assert wrapped[:2] == b"\x01\x0a"
    associated = wrapped[:26] + handle + bytes([len(purpose)]) + purpose.encode()
    return bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(wrapped[26:], associated, wrapped[2:26], key)


def unseal(envelope: bytes, sk: bytes) -> bytes:  # docs/crypto.md 5.1
    assert envelope[:2] == b"\x01\x01"
    return bindings.crypto_box_seal_open(envelope[2:], bindings.crypto_scalarmult_base(sk), sk)


def decrypt_item(envelope: bytes, sk: bytes, case: str, kind: str, author: str) -> bytes:  # docs/crypto.md 5.2
    assert envelope[:2] == b"\x02\x02"
    pk = bindings.crypto_scalarmult_base(sk)
    item_key = bindings.crypto_box_seal_open(envelope[2:82], pk, sk)
    context = b"".join(len(part.encode()).to_bytes(2, "big") + part.encode() for part in (case, kind, author))
    padded = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(envelope[106:], envelope[:106] + context,
                                                                envelope[82:106], item_key)
    return bindings.sodium_unpad(padded, 256)


def test_a_stored_disclosure_opens_with_the_documented_layout(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    ref = submit_api(testapp, text="Höhere Gewalt: the fire doors are chained shut.")["case"]

    case = dbsession.scalars(select(Case).where(Case.ref == ref)).one()
    grant = dbsession.scalars(select(CaseGrant).where(CaseGrant.case_id == case.id,
                                                      CaseGrant.account_id == guardian.account.id)).one()
    item = dbsession.scalars(select(CaseItem).where(CaseItem.case_id == case.id, CaseItem.kind == "disclosure")).one()

    # The rows as stored, and their shred keys as the shred key store holds them.
    stored_grant, stored_item = (bytes(value) for value in dbsession.execute(text(
        "SELECT g.sealed_case_key, i.ciphertext FROM case_grants g, case_items i "
        "WHERE g.id = :grant AND i.id = :item"), {"grant": grant.id, "item": item.id}).one())
    keys = shred_store_of(dbsession).keys([case.shred_handle, item.shred_handle])

    guardian_sk = device_unwrap(guardian.account, guardian.password)
    assert bindings.crypto_scalarmult_base(guardian_sk) == guardian.account.public_key
    sealed = shred_unwrap(stored_grant, keys[case.shred_handle], case.shred_handle, "grant.case_key")
    case_sk = unseal(sealed, guardian_sk)
    assert bindings.crypto_scalarmult_base(case_sk) == case.public_key
    author = item.author if item.account_id is None else f"{item.author}:{item.account_id}"
    envelope = shred_unwrap(stored_item, keys[item.shred_handle], item.shred_handle, "item")
    plaintext = decrypt_item(envelope, case_sk, case.ref, item.kind, author)
    assert plaintext.decode() == "Höhere Gewalt: the fire doors are chained shut."


def test_the_stored_rows_hold_no_plaintext(testapp, dbsession, settings, clock):
    make_channel(dbsession)
    make_staff(dbsession, settings, clock, channels=["staff"])
    marker = "ZEBRA-" + "7731"
    submit_api(testapp, text=f"{marker} in the text", answers={"ongoing": "yes", "where": f"{marker} place"},
               identity={"name": f"{marker} name"})
    for item in dbsession.scalars(select(CaseItem)):
        assert marker.encode() not in item.ciphertext
        assert len(item.ciphertext) % 256 == 122 % 256, "sizes are padded to 256-byte blocks"


def test_guardians_files_hold_no_plaintext_at_rest(testapp, dbsession, settings, clock):
    """Files a guardian sends the reporter, and internal ones: neither bytes nor name is in any
    row of any table, nor in any file of the blob store."""
    make_channel(dbsession)
    guardian = make_staff(dbsession, settings, clock, channels=["staff"])
    ref = submit_api(testapp)["case"]
    headers = api_login(testapp, guardian, clock)
    markers = {}
    for internal in ("false", "true"):
        content, name = f"QUAGGA-{internal}-content-4417".encode(), f"OKAPI-{internal}-name-9920.pdf"
        markers[internal] = (content, name.encode())
        testapp.post(f"/api/v1/cases/{ref}/attachments?internal={internal}", content * 100, status=201,
                     headers=dict(headers, **{"Content-Type": "application/pdf", "X-Filename": quote(name)}))
    wanted = [marker for pair in markers.values() for marker in pair]

    dbsession.flush()
    for table in Base.metadata.sorted_tables:
        for row in dbsession.execute(table.select()):
            stored = b"".join(value if isinstance(value, bytes) else str(value).encode() for value in row)
            assert not [marker for marker in wanted if marker in stored], table.name
    blobs = [path for path in Path(settings.storage_dir).iterdir() if path.is_file()]
    assert blobs
    for path in blobs:
        data = path.read_bytes()
        assert not [marker for marker in wanted if marker in data], path.name
