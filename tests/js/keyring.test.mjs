// keyring.organisationKey through the desk: the desk's pinned key, and no directory older than the
// newest version the desk has seen (a case's envelopes carry one the desk does not check itself).
import assert from "node:assert/strict";
import { test } from "node:test";

import * as c from "../../whistle/static/js/crypto.js";
import { organisationKey } from "../../whistle/static/js/keyring.js";

const PINNED = c.toBase64(c.randomBytes(32));

function published(version, publicKey = PINNED) {
  return { document: JSON.stringify({ format: "whistle-key-directory/1", version }), signature: "", public_key: publicKey };
}

test("through the desk: the pinned key, and a directory older than the desk's newest is refused", async () => {
  globalThis.fetch = async (url) => {
    assert.equal(url, "/desk/organisation.json");
    return { ok: true, json: async () => ({ public_key: PINNED, fingerprint: "F", directory_version: 5 }) };
  };
  assert.deepEqual(await organisationKey(published(5)), c.fromBase64(PINNED));
  assert.deepEqual(await organisationKey(published(6)), c.fromBase64(PINNED));
  await assert.rejects(organisationKey(published(4)), c.DirectoryRefused);
  await assert.rejects(organisationKey({ ...published(5), document: "not json" }), c.DirectoryRefused);
  await assert.rejects(organisationKey(published(5, c.toBase64(c.randomBytes(32)))), c.DirectoryRefused);
});
