// Proof of work (docs/crypto.md 6.15): the browser's search finds what whistle.crypto finds, and
// WorkProof asks for a challenge, searches in steps, and gives no proof when there is none to give.
import assert from "node:assert/strict";
import { test } from "node:test";

import * as c from "../../whistle/static/js/crypto.js";
import { WorkProof } from "../../whistle/static/js/reporter.js";

const VECTOR = "w1.8.1764936000.AAECAwQFBgcICQoLDA0ODw.0PTeM1ABeb6aw0DuPWt-6g";

test("the known answer of docs/crypto.md 6.15: 203", () => {
  const search = new c.WorkSearch(VECTOR, 8);
  assert.equal(search.step(100), null, "not among the first 100");
  assert.equal(search.step(1000), 203);
  assert.equal(search.step(1), 203, "found stays found");
});

test("a search at 12 bits ends on a hash with 12 leading zero bits", () => {
  const search = new c.WorkSearch("w1.12.1764936000.AAECAwQFBgcICQoLDA0ODw.x", 12);
  let n = null;
  while (n === null) n = search.step(4096);
  const message = c.concat(c.utf8(search.challenge), new Uint8Array([n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, (n >>> 24) & 0xff, 0, 0, 0, 0]));
  const digest = c.blake2b(message, 32, null, "");
  assert.equal(digest[0], 0);
  assert.equal(digest[1] & 0xf0, 0);
});

test("WorkProof fetches a challenge, searches in steps, and gives the proof", async () => {
  const asked = [];
  const api = { get: async (path) => { asked.push(path); return { challenge: VECTOR, bits: 8, expires_in: 3600 }; } };
  const proof = new WorkProof(api);
  await proof.start();
  assert.deepEqual(asked, ["/api/v1/disclosures/challenge"]);
  assert.deepEqual(await proof.proof(5000), { challenge: VECTOR, solution: 203 });
});

test("without a challenge (proof of work off, or unreachable) there is no proof, and no wait", async () => {
  const api = { get: async () => { throw new Error("404"); } };
  const proof = new WorkProof(api);
  await proof.start();
  const started = Date.now();
  assert.equal(await proof.proof(5000), null);
  assert.ok(Date.now() - started < 1000);
});

test("an expired challenge is replaced before its proof is given", async () => {
  let now = 0;
  let served = 0;
  const api = { get: async () => { served += 1; return { challenge: VECTOR, bits: 8, expires_in: 120 }; } };
  const proof = new WorkProof(api, { now: () => now });
  await proof.start();
  assert.ok(await proof.proof(5000));
  now = 61 * 1000; // past its lifetime less the minute's margin
  assert.ok(await proof.proof(5000));
  assert.equal(served, 2);
});
