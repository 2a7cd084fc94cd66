"""Known answers: fixed inputs give fixed outputs, and old envelopes keep decrypting.

The hex below was computed once with this code and checked against an independent
re-implementation from docs/crypto.md (the *_from_the_document tests). A change that alters
any of it breaks every stored receipt, session or envelope: bump the format version instead.
"""
import io

from nacl import bindings

from whistle.crypto import (
    KdfCost,
    KeyPair,
    blind_index,
    decrypt_item,
    decrypt_stream,
    derive_reporter_keys,
    session_token_id,
    unseal,
    unwrap_for_session,
    unwrap_with_password,
    unwrap_with_recovery_key,
)
from whistle.crypto.passwords import _recovery_wrap_key
from whistle.crypto.sessions import _wrap_key

PRIVATE = bytes(range(1, 33))
PUBLIC = "07a37cbc142093c8b755dc1b10e86cb426374ad16aa853ed0bdfc0b2b86d1c7c"
PEPPER = bytes(range(32))
SESSION_KEY = bytes(range(32, 64))
RECEIPT = "ABCD-EFGH-JKMN-PQRS-TVWX"
TOKEN = "ZmFrZSBzZXNzaW9uIHRva2VuIGZvciB0ZXN0cyBvbmx"
RECOVERY_KEY = "0123-4567-89AB-CDEF-GHJK-MNPQ-RSTV"
SECRET = b"guardian private key: 32 bytes!!"

LOOKUP_ID = "628c2154b6594769caeb4fcfcc490e2a10af41b541a8e26e4737ee6a5f1e9ad6"
REPORTER_PUBLIC = "ea940be73892f610552e9c98d4af93db9dc2b331d88ce6ee277aa259edba1d2b"
REPORTER_PRIVATE = "0e78ffe8082eaf4bfeae2067ccb53e6b3276ef6f930f6f8b8697d2e1d073f2d0"
TOKEN_ID = "7a6a08bfcb62075f53c856ffab1336e150a990f9aefcce9a33bec3bed2c2de7a"
SESSION_WRAP_KEY = "ee4127417fc5c70738c349c8b0128284cc811de44bcdd9e60139842446dd97c5"
RECOVERY_WRAP_KEY = "36c886719c6a53e25f03af2f7e89803cb09bbfb54f64814af1c19ce775bd0655"
BLIND_INDEX = "55a51c0bbd8e4235d8def40e588981ee0fb3a5996a838b83df478f81035affa1"

V_SEALED = (
    "0101fa307cd3a1871592647b40d3dee3f526fa7d3d62fd8aecd5ff3f01cb0fd4a5601eeb1d47922a28e8e1b2680cb1dbc2fb"
    "821667578bfa69eddf118b6d38ba2bc7"
)
V_ITEM = (
    "01029c0a545e82170ff09b8bb5244d52777c149fd2dc028ebe8013f69f26253644741b12d89ae34af5aa32744c018d43fe2d"
    "d809ca930b5118cb331fec6e30a489a3a35c7213e7abdafff07fa228656acffe20b5f1f4b904af2854f0a081c0c562a20d10"
    "1311c9ff712d601dd0507d27285eaad8a4422c1d6b4fc70ef08d2e60a57d16e71add1c75806b93ee370551ec05a001580ed9"
    "6c9ea43190c0e0f2d0db61938496adf7205caeb3c96502df27259ee9e0d442ea97196f25bf6a1d9f5e847f71be85863d2ec2"
    "2abba9b49c2d43d75e49b0ae06a66e8e6fc0be3fef67bc125f5f03c904e83e435ab4139ec24e009fd9bc0a7f189f4bdeeb22"
    "3429634304e784e9826a0fbdec19f92bd2712108ce5e2f5697300971d2296ba784ce7e47a53e18e7d284f64d0eca67581835"
    "454c4e7f0c2297d612a7d9bf968478f47f651c6ec8afe1937112d113f649e9416f5e4954f6bc62a4d440e4e7253d0896edbc"
    "24b57c5b1e436675081a48d00b81801656c373b31ebf12b90b74c7fc"
)
V_STREAM = (
    "0103ce6e5a5fff6365c7edd1f59f1c0bf4336f94eafc159218a78c7c559f096c8452dec370fc1822c73808b5a1b661f1afb5"
    "6e33ad1bcbe19b5811841f9b2ed0f123f8019fd922e3d5ea4c9465bb730c4fb9810b56c2e601b145bc5aad24f277f4a20a8e"
    "80118b4f47af0f1bdc971ff140ab03b7aba781caf5acbc31f74252777b6aae95e781786727e8bb3aa3393b4ed2005d321dba"
    "1b24c9469344dfe83a9186546362268336a9b134766a26ad7b5187e583ed1bfdeae63307dbe5093d079cb3a5076d058419b0"
    "e2e40a6577b945959118e6f3c9fd1d43d42334a16163186c1658ca7e2cb887108dae2228294e52d02a8110c04e4a5728a1a4"
    "bc0a74311198271dd061b02c0d9d71aebf69a41ce82ca409cc5bb0debe260651d5e84b8ec6cff49978d593f6cdc1da8e7a9e"
    "55f96477ba1bb250c9519151ef457aa0bcb173f28a6c17156844abfc70e542a9ac51f0184167d4702da0d34ffa69d446d465"
    "3e8fdd570e6b780bd226d39ff5db7a4ae8018c847349dcf2729e26dcca"
)
V_PASSWORD = (
    "0104c2b89a45b61d8f9d8e5aa4756561e46b00000001000000000000200038f019f6925d7e6929ecc909be027a159c8c7088"
    "1bc71de78967e367987eb11e0922de033b28fc2fd9ec7078f7a77b1be6cee6a385fe2e5281dc8c981fa1d2c0d9883f8813a2"
    "9461"
)
V_RECOVERY = (
    "0105c2aee80cbb8973940da35e00ee94dceb2dbfaa8d0b3ac42ee8dcb6c31ff3fdd29a53a922e0f35c27d80e3e74bd7e116a"
    "6dcf63db94ba638df0091a3db356728420b14e92fa263f65"
)
V_SESSION = (
    "0106da55531a71ed85f10d0d247c3551efa96418fdeae96c957abb15999b6c657bd855f74916689b77845cf601361f3e0172"
    "87377f5debab0d0ec740c6c2aa459c948dc56715c1d456f5"
)


def blake2b(data: bytes, size: int, key: bytes, person: bytes) -> bytes:
    return bindings.crypto_generichash_blake2b_salt_personal(data, digest_size=size, key=key, person=person)


def test_fixed_key_pair():
    assert KeyPair.from_private(PRIVATE).public.hex() == PUBLIC


def test_reporter_keys_known_answer():
    keys = derive_reporter_keys(RECEIPT, PEPPER, KdfCost.for_tests())
    assert keys.lookup_id.hex() == LOOKUP_ID
    assert keys.keypair.public.hex() == REPORTER_PUBLIC
    assert keys.keypair.private.hex() == REPORTER_PRIVATE


def test_reporter_keys_from_the_document():
    # docs/crypto.md 6.2, with nacl.bindings only.
    salt = blake2b(b"whistle receipt salt v1", 16, PEPPER, b"whistle-rsalt")
    argon2id = bindings.crypto_pwhash_ALG_ARGON2ID13
    master = bindings.crypto_pwhash_alg(64, RECEIPT.encode("ascii"), salt, 1, 8192, argon2id)
    assert blake2b(master[:32], 32, PEPPER, b"whistle-lookup").hex() == LOOKUP_ID
    public, private = bindings.crypto_box_seed_keypair(master[32:])
    assert public.hex() == REPORTER_PUBLIC
    assert bindings.crypto_hash_sha512(master[32:])[:32] == private


def test_session_token_id_known_answer():
    assert session_token_id(TOKEN, SESSION_KEY).hex() == TOKEN_ID
    assert blake2b(TOKEN.encode("ascii"), 32, SESSION_KEY, b"whistle-sess-id").hex() == TOKEN_ID


def test_session_wrap_key_known_answer():
    assert _wrap_key(TOKEN, SESSION_KEY).hex() == SESSION_WRAP_KEY
    assert blake2b(TOKEN.encode("ascii"), 32, SESSION_KEY, b"whistle-sess-key").hex() == SESSION_WRAP_KEY


def test_recovery_wrap_key_known_answer():
    assert _recovery_wrap_key(RECOVERY_KEY).hex() == RECOVERY_WRAP_KEY
    assert _recovery_wrap_key("o123 4567 89ab cdef ghjk mnpq rstv").hex() == RECOVERY_WRAP_KEY
    assert blake2b(b"", 32, RECOVERY_KEY.encode("ascii"), b"whistle-recovery").hex() == RECOVERY_WRAP_KEY


def test_blind_index_known_answer():
    assert blind_index("E12345", PEPPER, purpose="personnel-number").hex() == BLIND_INDEX
    person = blake2b(b"personnel-number", 16, b"", b"whistle-bidx")
    assert blake2b(b"e12345", 32, PEPPER, person).hex() == BLIND_INDEX


def test_stored_envelopes_still_decrypt():
    keypair = KeyPair.from_private(PRIVATE)
    assert unseal(keypair, bytes.fromhex(V_SEALED)) == b"case private key"
    item = decrypt_item(keypair, bytes.fromhex(V_ITEM), case="CASE-7Q2M", kind="disclosure")
    assert item == b"Concern: the rota is unsafe."
    stream = b"".join(decrypt_stream(keypair, io.BytesIO(bytes.fromhex(V_STREAM)), case="CASE-7Q2M"))
    assert stream == b"%PDF-1.7 tiny attachment"
    assert unwrap_with_password(bytes.fromhex(V_PASSWORD), "correct horse battery staple") == SECRET
    assert unwrap_with_recovery_key(bytes.fromhex(V_RECOVERY), RECOVERY_KEY) == SECRET
    assert unwrap_for_session(bytes.fromhex(V_SESSION), TOKEN, SESSION_KEY) == SECRET
