"""Write tests/vectors/sign-in-v1.json: the device sign-in's test vectors (docs/crypto.md 9.1).

Run once, by hand: `.venv/bin/python tests/vectors/make_sign_in_v1.py`. The derived values are
deterministic; the device wrap is random, made once here and then only ever opened, by
tests/unit/crypto/test_sign_in_vectors.py and by tests/js/sign_in_vectors.test.mjs. Only run it
again when the format changes, and then under a new name.
"""
from __future__ import annotations

import base64
import json
import unicodedata
from pathlib import Path

from whistle import crypto

OUT = Path(__file__).with_name("sign-in-v1.json")
COST = crypto.KdfCost.for_tests()


def main() -> None:
    session_key = bytes(range(32))
    private = bytes(range(64, 96))
    derivations = []
    for password, salt in (("correct horse battery staple", bytes(range(16))),
                           # NFC: the decomposed form (e + combining acute) gives the same keys.
                           (unicodedata.normalize("NFD", "pässwörd é ✓ 12"), bytes(range(16, 32)))):
        auth_key, wrap_key = crypto.derive_sign_in_keys(password, salt, COST)
        derivations.append({
            "password": password,
            "salt": salt.hex(),
            "opslimit": COST.opslimit,
            "memlimit": COST.memlimit,
            "auth_key": auth_key.hex(),
            "wrap_key": wrap_key.hex(),
            "verifier": crypto.sign_in_verifier(auth_key, session_key).hex(),
            "key_by_device": base64.b64encode(crypto.wrap_for_device(private, wrap_key)).decode("ascii"),
        })
    vectors = {
        "session_key": session_key.hex(),
        "private_key": private.hex(),
        "derivations": derivations,
        "stand_in_salts": [{"username": name, "salt": crypto.stand_in_salt(name, session_key).hex()}
                           for name in ("nobody.here", "guardian")],
    }
    OUT.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
