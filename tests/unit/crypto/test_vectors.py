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
    item_author_sealed,
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
# Version 2 items and streams: the author is bound (docs/crypto.md 5.2, 5.3).
V_ITEM_2 = (
    "0202191829e5d554bb1bbbe4ff8c1c62db3b2f597b6b1f5bc0a7e54c72fa0115ce018579620acd7e9fb803bce282a5d37086"
    "3caeabe51511cc9390d466ff252d333b0dccadc3c5d567e0a7adc7096b8a241f6fa8cc247815e8f55b7a1fc7197682d81d9f"
    "508a2bf697beaa400a1b7b97824fe5ac17c4492db12d8d9c6437dc5af5d066a2229cba4e6ffbd65904c819db8b09c19d3694"
    "1def06459c1130f48c8e54285465b4f6d131261ed6086ded703529c8d95adb6431710666816964f2ed1e2b8a71889b3ef0a5"
    "a696f1463fb32604b30af9bdd5f5f3d4ee26d81ad1b36cfd7d8a15e12bf3d7c3a81e6c1cd1a5f3f541ce428e7bcebaa2cf04"
    "49a9793872bd1cdef2dcac38a3dfcd0a81e775af58494cb79d966f3dd899f2ed2c81b607f5d91b93fa830394a1275511de13"
    "93ffb04b1d0daabda9ca6bf6d8246467b3fe720acbbdb417eafd49d3507dee236a3f7a4e2253e8d35bbe58ee16bb81cf3e13"
    "2300c0b1440e575681b3bb0b5a07e3b2aaee637e8269d7a2a417145f"
)
V_STREAM_2 = (
    "020385fce9a458146885d5980550914a45d520d14443950d9697105ea309338ae86dc5100913d4fa22f5f8cb3ca5d90aa10c"
    "5fa1a44779eebecccb42e649fc962b39258328177db8acb92d5d139262c96e6167ac7157745adbf3d7e792d3380d8170184b"
    "e60bb79ac48b9870e8e987a2580e2e03c48cb0a096458c3f1437a6af0937558e793013810549945a29008ea80710f886fbe3"
    "4fba0f8608ba4b8ca42dc8f806421c35b1fd9e01e85295912c74f4d0e093c39605e64ce6fb8c0e92b355ae6333a057dd8104"
    "0ad398a9e887b8aefa727fcdd3930b62e455d00a7837f2fd2c75c314c7ea3a9da22e9dd21ee85612b36f8957035f2362f79b"
    "e2e427902ddf6cca598922e2decb480990325ca3ce8c273c1db0ae66beac5f74a4b22e5c6c783c9b9f720b0886f44e09fd42"
    "273115ed2e3d710f386d96295845fb10f708f419d8d7bbe0cd7e65ee6efda1eca97b069c2163666629ca4363998113e1a93a"
    "dff7bb3051d1c17ec0b18ef7708a66df926eef9e1cf4be038dc3ec9a1f"
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
    # Version 1 (before the author was bound): read whoever is named as the author.
    item = decrypt_item(keypair, bytes.fromhex(V_ITEM), case="CASE-7Q2M", kind="disclosure", author="reporter")
    assert item == b"Concern: the rota is unsafe."
    assert not item_author_sealed(bytes.fromhex(V_ITEM))
    stream = b"".join(decrypt_stream(keypair, io.BytesIO(bytes.fromhex(V_STREAM)), case="CASE-7Q2M", author="reporter"))
    assert stream == b"%PDF-1.7 tiny attachment"
    # Version 2: only as written by its author.
    item = decrypt_item(keypair, bytes.fromhex(V_ITEM_2), case="CASE-7Q2M", kind="message", author="guardian:7")
    assert item == b"Reply: we have added a second nurse."
    assert item_author_sealed(bytes.fromhex(V_ITEM_2))
    stream = b"".join(decrypt_stream(keypair, io.BytesIO(bytes.fromhex(V_STREAM_2)), case="CASE-7Q2M", author="reporter"))
    assert stream == b"%PDF-1.7 tiny attachment"
    assert unwrap_with_password(bytes.fromhex(V_PASSWORD), "correct horse battery staple") == SECRET
    assert unwrap_with_recovery_key(bytes.fromhex(V_RECOVERY), RECOVERY_KEY) == SECRET
    assert unwrap_for_session(bytes.fromhex(V_SESSION), TOKEN, SESSION_KEY) == SECRET


def test_version_2_vectors_from_the_document():
    # docs/crypto.md 5.2 and 5.3, with nacl.bindings only: the author is the third part of the context.
    keypair = KeyPair.from_private(PRIVATE)

    def context(*parts: str) -> bytes:
        return b"".join(len(p.encode()).to_bytes(2, "big") + p.encode() for p in parts)

    envelope = bytes.fromhex(V_ITEM_2)
    assert envelope[:2] == b"\x02\x02"
    item_key = bindings.crypto_box_seal_open(envelope[2:82], keypair.public, keypair.private)
    ad = envelope[:106] + context("CASE-7Q2M", "message", "guardian:7")
    padded = bindings.crypto_aead_xchacha20poly1305_ietf_decrypt(envelope[106:], ad, envelope[82:106], item_key)
    assert bindings.sodium_unpad(padded, 256) == b"Reply: we have added a second nurse."

    blob = bytes.fromhex(V_STREAM_2)
    assert blob[:2] == b"\x02\x03"
    file_key = bindings.crypto_box_seal_open(blob[2:82], keypair.public, keypair.private)
    state = bindings.crypto_secretstream_xchacha20poly1305_state()
    bindings.crypto_secretstream_xchacha20poly1305_init_pull(state, blob[82:106], file_key)
    ad = blob[:106] + context("CASE-7Q2M", "attachment", "reporter")
    message, tag = bindings.crypto_secretstream_xchacha20poly1305_pull(state, blob[106:], ad)
    assert tag == 0x03 and bindings.sodium_unpad(message, 256) == b"%PDF-1.7 tiny attachment"
