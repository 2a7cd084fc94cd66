"""How fast whistle.crypto is, as a ratio of raw libsodium (PyNaCl bindings) measured in the same run.

    .venv/bin/python bench/crypto_bench.py            # ~30 s
    .venv/bin/python bench/crypto_bench.py --quick    # ~10 s

Rows (ratio = whistle throughput / baseline throughput; 1.00x = as fast as the baseline):

- encrypt_item / decrypt_item of 1 KiB and 64 KiB items, against one bare
  crypto_aead_xchacha20poly1305_ietf_encrypt/decrypt of the same plaintext size ("primitive"),
  and against the same libsodium calls the item format makes, without whistle's Python
  around them ("construction": crypto_box_seal of the item key + sodium_pad + AEAD).
- StreamEncryptor / decrypt_stream of a 64 MiB attachment (made and consumed 64 KiB at a
  time, the ciphertext in a temporary file, never whole in memory), against
  crypto_secretstream_xchacha20poly1305_push/pull in 64 KiB chunks to and from the same kind
  of file.
- derive_reporter_keys and unwrap_with_password at KdfCost.interactive(), against
  crypto_pwhash_alg(ARGON2ID13) at the same opslimit and memlimit.

A benchmark may import nacl; only whistle/ and plugins/ are held to "only whistle/crypto imports nacl".
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(1, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from nacl import bindings as b  # noqa: E402

import _common as c  # noqa: E402
from whistle import crypto  # noqa: E402

KIB = 1024
MIB = 1024 * KIB
CASE = "K7QMA-XHD4P"
KIND = "disclosure"
AUTHOR = "reporter"


def _context(case: str, kind: str) -> bytes:
    """u16(len(case)) || case || u16(len(kind)) || kind, as docs/crypto.md 5.2 defines it."""
    return b"".join(len(v.encode()).to_bytes(2, "big") + v.encode() for v in (case, kind))


# --- items -------------------------------------------------------------------------------

def bench_items(size: int, budget_s: float, rounds: int) -> list[list[str]]:
    keypair = crypto.KeyPair.generate()
    plaintext = os.urandom(size)
    key = b.randombytes(32)
    nonce = b.randombytes(24)
    ad = b"\x01\x02" + bytes(104) + _context(CASE, KIND)  # an item's associated data (docs/crypto.md 5.2)
    envelope = crypto.encrypt_item(keypair.public, plaintext, case=CASE, kind=KIND, author=AUTHOR)
    raw_ct = b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, None, nonce, key)
    sealed = b.crypto_box_seal(key, keypair.public)
    padded = b.sodium_pad(plaintext, 256)
    cons_ct = b.crypto_aead_xchacha20poly1305_ietf_encrypt(padded, ad, nonce, key)

    def construction_encrypt():
        item_key = b.randombytes(32)
        n = b.randombytes(24)
        b.crypto_box_seal(item_key, keypair.public)
        b.crypto_aead_xchacha20poly1305_ietf_encrypt(b.sodium_pad(plaintext, 256), ad, n, item_key)

    def construction_decrypt():
        item_key = b.crypto_box_seal_open(sealed, keypair.public, keypair.private)
        b.sodium_unpad(b.crypto_aead_xchacha20poly1305_ietf_decrypt(cons_ct, ad, nonce, item_key), 256)

    times = c.interleaved(
        {
            "enc": lambda: crypto.encrypt_item(keypair.public, plaintext, case=CASE, kind=KIND, author=AUTHOR),
            "enc_raw": lambda: b.crypto_aead_xchacha20poly1305_ietf_encrypt(plaintext, None, nonce, key),
            "enc_cons": construction_encrypt,
            "dec": lambda: crypto.decrypt_item(keypair, envelope, case=CASE, kind=KIND, author=AUTHOR),
            "dec_raw": lambda: b.crypto_aead_xchacha20poly1305_ietf_decrypt(raw_ct, None, nonce, key),
            "dec_cons": construction_decrypt,
        },
        budget_s,
        rounds,
    )
    label = f"{size // KIB} KiB"
    rows = []
    for op, name in (("encrypt_item", "enc"), ("decrypt_item", "dec")):
        t, raw, cons = times[name], times[name + "_raw"], times[name + "_cons"]
        rows.append([
            op, label, c.fmt_time(t), c.fmt_rate(size / t),
            "AEAD " + ("encrypt" if name == "enc" else "decrypt"), c.fmt_time(raw), c.fmt_ratio(raw / t),
            c.fmt_time(cons), c.fmt_ratio(cons / t),
        ])
    return rows


# --- streams -----------------------------------------------------------------------------

def _plaintext_chunks(total: int, chunk: int, block: bytes):
    """`total` bytes in `chunk`-sized pieces, cut from one reused random block (never whole)."""
    sent = 0
    view = memoryview(block)
    while sent < total:
        n = min(chunk, total - sent)
        start = sent % len(block)
        if start + n > len(block):
            start = 0
        yield bytes(view[start:start + n])
        sent += n


def _whistle_encrypt_to(path: str, keypair, total: int, block: bytes) -> float:
    with open(path, "wb") as sink:
        start = time.perf_counter()
        enc = crypto.StreamEncryptor(keypair.public, case=CASE, author=AUTHOR)
        sink.write(enc.header)
        for piece in _plaintext_chunks(total, crypto.CHUNK_SIZE, block):
            out = enc.push(piece)
            if out:
                sink.write(out)
        sink.write(enc.finish())
        sink.flush()
        return time.perf_counter() - start


def _whistle_decrypt_from(path: str, keypair, total: int) -> float:
    with open(path, "rb") as source:
        start = time.perf_counter()
        n = 0
        for piece in crypto.decrypt_stream(keypair, source, case=CASE, author=AUTHOR):
            n += len(piece)
        elapsed = time.perf_counter() - start
    if n != total:
        raise SystemExit(f"decrypt_stream returned {n} bytes, expected {total}")
    return elapsed


def _raw_encrypt_to(path: str, total: int, block: bytes) -> tuple[float, bytes, bytes]:
    key = b.crypto_secretstream_xchacha20poly1305_keygen()
    with open(path, "wb") as sink:
        start = time.perf_counter()
        state = b.crypto_secretstream_xchacha20poly1305_state()
        header = b.crypto_secretstream_xchacha20poly1305_init_push(state, key)
        remaining = total
        for piece in _plaintext_chunks(total, 64 * KIB, block):
            remaining -= len(piece)
            tag = (b.crypto_secretstream_xchacha20poly1305_TAG_FINAL if remaining == 0
                   else b.crypto_secretstream_xchacha20poly1305_TAG_MESSAGE)
            sink.write(b.crypto_secretstream_xchacha20poly1305_push(state, piece, None, tag))
        sink.flush()
        return time.perf_counter() - start, key, header


def _raw_decrypt_from(path: str, key: bytes, header: bytes, total: int) -> float:
    chunk = 64 * KIB + b.crypto_secretstream_xchacha20poly1305_ABYTES
    with open(path, "rb") as source:
        start = time.perf_counter()
        state = b.crypto_secretstream_xchacha20poly1305_state()
        b.crypto_secretstream_xchacha20poly1305_init_pull(state, header, key)
        n = 0
        while True:
            data = source.read(chunk)
            if not data:
                break
            message, _tag = b.crypto_secretstream_xchacha20poly1305_pull(state, data, None)
            n += len(message)
        elapsed = time.perf_counter() - start
    if n != total:
        raise SystemExit(f"raw secretstream returned {n} bytes, expected {total}")
    return elapsed


def bench_streams(total: int, repeats: int, tmp_dir: str) -> list[list[str]]:
    keypair = crypto.KeyPair.generate()
    block = os.urandom(1 * MIB)  # plaintext pieces are cut from this; the stream is never whole
    whistle_file = os.path.join(tmp_dir, "whistle.stream")
    raw_file = os.path.join(tmp_dir, "raw.stream")
    best = {"enc": float("inf"), "dec": float("inf"), "enc_raw": float("inf"), "dec_raw": float("inf")}
    for _ in range(repeats):  # interleaved, best of `repeats`
        best["enc"] = min(best["enc"], _whistle_encrypt_to(whistle_file, keypair, total, block))
        elapsed, key, header = _raw_encrypt_to(raw_file, total, block)
        best["enc_raw"] = min(best["enc_raw"], elapsed)
        best["dec"] = min(best["dec"], _whistle_decrypt_from(whistle_file, keypair, total))
        best["dec_raw"] = min(best["dec_raw"], _raw_decrypt_from(raw_file, key, header, total))
    os.unlink(whistle_file)
    os.unlink(raw_file)
    label = f"{total // MIB} MiB"
    return [
        ["StreamEncryptor", label, c.fmt_time(best["enc"]), c.fmt_rate(total / best["enc"]),
         "secretstream push", c.fmt_time(best["enc_raw"]), c.fmt_ratio(best["enc_raw"] / best["enc"]), "", ""],
        ["decrypt_stream", label, c.fmt_time(best["dec"]), c.fmt_rate(total / best["dec"]),
         "secretstream pull", c.fmt_time(best["dec_raw"]), c.fmt_ratio(best["dec_raw"] / best["dec"]), "", ""],
    ]


# --- Argon2id ----------------------------------------------------------------------------

def bench_kdf(repeats: int) -> list[list[str]]:
    cost = crypto.KdfCost.interactive()
    pepper = crypto.new_secret_key()
    receipt = crypto.new_receipt()
    canonical = crypto.normalise_receipt(receipt).encode("ascii")
    password = "correct horse battery staple"
    envelope = crypto.wrap_with_password(crypto.new_secret_key(), password, cost)
    salt = b.randombytes(b.crypto_pwhash_SALTBYTES)

    def raw(size: int, secret: bytes):
        return lambda: b.crypto_pwhash_alg(size, secret, salt, cost.opslimit, cost.memlimit,
                                           b.crypto_pwhash_ALG_ARGON2ID13)

    fns = {
        "derive": lambda: crypto.derive_reporter_keys(receipt, pepper, cost),
        "derive_raw": raw(64, canonical),
        "unwrap": lambda: crypto.unwrap_with_password(envelope, password),
        "unwrap_raw": raw(32, password.encode("utf-8")),
    }
    best = {name: float("inf") for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            start = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - start)
    label = f"ops {cost.opslimit}, {cost.memlimit // MIB} MiB"
    rows = []
    for op, name, out in (("derive_reporter_keys", "derive", 64), ("unwrap_with_password", "unwrap", 32)):
        t, r = best[name], best[name + "_raw"]
        rows.append([op, label, c.fmt_time(t), f"{1 / t:.1f} /s", f"crypto_pwhash_alg ({out} B)",
                     c.fmt_time(r), c.fmt_ratio(r / t), "", ""])
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="about 10 s instead of about 30 s")
    parser.add_argument("--stream-mib", type=int, default=64, help="attachment size for the stream rows (default 64)")
    args = parser.parse_args(argv)

    quick = args.quick
    item_budget, item_rounds = (2.5, 7) if quick else (8.0, 15)
    stream_repeats = 2 if quick else 5
    kdf_repeats = 4 if quick else 9

    print(c.machine_header("whistle crypto bench", "quick" if quick else "full"), flush=True)
    started = time.perf_counter()
    rows = []
    for size in (1 * KIB, 64 * KIB):
        rows += bench_items(size, item_budget, item_rounds)
    with tempfile.TemporaryDirectory(prefix="whistle-bench-") as tmp_dir:
        rows += bench_streams(args.stream_mib * MIB, stream_repeats, tmp_dir)
    rows += bench_kdf(kdf_repeats)

    print()
    print(c.table(
        ["operation", "size/cost", "whistle", "whistle rate", "baseline (raw libsodium)", "baseline", "ratio",
         "construction*", "ratio*"],
        rows, align="llrrlrrrr",
    ))
    print()
    print("ratio  = baseline time / whistle time = whistle throughput as a fraction of the baseline's (1.00x = same speed).")
    print("ratio* = the same against the libsodium calls the item format makes (crypto_box_seal of the item key,")
    print("         sodium_pad, AEAD with the item's associated data) without whistle's Python around them.")
    print("Times are the best of interleaved rounds; streams go to/from a temporary file on both sides.")
    print(f"total {time.perf_counter() - started:.1f} s | load avg now {c.loadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
