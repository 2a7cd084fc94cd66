// The browser's sign-in keys (whistle/static/js/crypto.js) against tests/vectors/sign-in-v1.json,
// the same vectors tests/unit/crypto/test_sign_in.py checks in Python.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as c from "../../whistle/static/js/crypto.js";

const V = JSON.parse(readFileSync(new URL("../vectors/sign-in-v1.json", import.meta.url), "utf8"));

test("sign-in keys: derived as Python derives them, and key_by_device opens", () => {
  for (const v of V.derivations) {
    const { authKey, wrapKey } = c.deriveSignInKeys(v.password, c.fromHex(v.salt), { opslimit: v.opslimit, memlimit: v.memlimit });
    assert.equal(c.toHex(authKey), v.auth_key);
    assert.equal(c.toHex(wrapKey), v.wrap_key);
    // NFC: the composed form of the password gives the same keys.
    assert.equal(c.toHex(c.deriveSignInKeys(v.password.normalize("NFC"), c.fromHex(v.salt), v).authKey), v.auth_key);
    assert.equal(c.toHex(c.unwrapForDevice(c.fromBase64(v.key_by_device), wrapKey)), V.private_key);
    assert.throws(() => c.unwrapForDevice(c.fromBase64(v.key_by_device), c.randomBytes(32)), c.DecryptionFailed);
  }
});

test("device wrap: round trip, refusals", () => {
  const wrapKey = c.randomBytes(32);
  const secret = c.fromHex(V.private_key);
  const envelope = c.wrapForDevice(secret, wrapKey);
  assert.equal(envelope.length, 74);
  assert.deepEqual(Array.from(envelope.subarray(0, 2)), [1, 8]);
  assert.deepEqual(c.unwrapForDevice(envelope, wrapKey), secret);
  for (let at = 0; at < envelope.length; at += 1) {
    const tampered = envelope.slice();
    tampered[at] ^= 1;
    assert.throws(() => c.unwrapForDevice(tampered, wrapKey), c.DecryptionFailed);
  }
  assert.throws(() => c.unwrapForDevice(envelope.subarray(0, 40), wrapKey), c.DecryptionFailed);
  assert.throws(() => c.deriveSignInKeys("pw", new Uint8Array(15), { opslimit: 1, memlimit: 8192 }), TypeError);
  assert.throws(() => c.deriveSignInKeys("pw", new Uint8Array(16), { opslimit: 0, memlimit: 8192 }), RangeError);
});
