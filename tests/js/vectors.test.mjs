// The browser's crypto module (whistle/static/js/crypto.js) against tests/vectors/e2e-v1.json,
// the same vectors tests/unit/crypto/test_e2e_vectors.py checks in Python. Run with
// `node --test tests/js/` (tests/unit/crypto/test_js_crypto.py does, as part of the suite).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as c from "../../whistle/static/js/crypto.js";

const V = JSON.parse(readFileSync(new URL("../vectors/e2e-v1.json", import.meta.url), "utf8"));
const hex = (bytes) => c.toHex(bytes);
const keys = (which) => [c.fromHex(V.keys[`${which}_public_key`]), c.fromHex(V.keys[`${which}_private_key`])];
const plaintextOf = (length) => Uint8Array.from({ length }, (_, i) => i % 251);

test("canonical JSON: every valid value, both ways", () => {
  for (const { value, canonical } of V.canonical_json.valid) {
    assert.equal(new TextDecoder().decode(c.canonicalJson(value)), canonical);
    assert.deepEqual(c.parseCanonicalJson(c.utf8(canonical)), value);
  }
});

test("canonical JSON: refused values and texts", () => {
  for (const value of V.canonical_json.refused_values) {
    assert.throws(() => c.canonicalJson(value), (error) => error instanceof TypeError || error instanceof RangeError);
  }
  for (const text of V.canonical_json.refused_texts) {
    // Texts with a lone surrogate escape are ASCII, so TextEncoder keeps them exactly.
    assert.throws(() => c.parseCanonicalJson(new TextEncoder().encode(text)), SyntaxError, text);
  }
});

test("directory: signature, fingerprint, the refused ones", () => {
  const d = V.directory;
  const publicKey = c.fromHex(d.public_key);
  const documentBytes = c.utf8(d.published.document);
  assert.deepEqual(c.canonicalJson(d.document), documentBytes);
  c.verifyDirectory(documentBytes, c.fromBase64(d.published.signature), publicKey);
  assert.equal(c.fingerprint(publicKey), d.fingerprint);
  assert.equal(d.published.key, d.fingerprint);
  for (const refused of d.refused) {
    assert.throws(
      () => c.verifyDirectory(c.utf8(refused.document), c.fromBase64(refused.signature), publicKey),
      c.BadSignature, refused.why,
    );
  }
});

test("directory: opened only when signed, current and not older than seen", () => {
  const d = V.directory;
  const publicKey = c.fromHex(d.public_key);
  const inTime = new Date("2025-03-15T00:00:00Z");
  assert.deepEqual(c.openDirectory(d.published, publicKey, { now: inTime, lowestVersion: 7 }), d.document);
  assert.throws(() => c.openDirectory(d.published, publicKey, { now: new Date("2025-03-31T09:00:00Z") }), c.DirectoryRefused);
  assert.throws(() => c.openDirectory(d.published, publicKey, { now: inTime, lowestVersion: 8 }), c.DirectoryRefused);
  const other = c.fromHex(V.fingerprints[0].public_key);
  assert.throws(() => c.openDirectory(d.published, other, { now: inTime }), c.BadSignature);
});

test("fingerprints", () => {
  for (const { public_key: publicKey, fingerprint } of V.fingerprints) {
    assert.equal(c.fingerprint(c.fromHex(publicKey)), fingerprint);
    assert.equal(c.normaliseFingerprint(fingerprint.toLowerCase().replaceAll("-", " ")), fingerprint);
  }
});

test("receipts of version 2: normalisation and derivation", () => {
  for (const r of V.receipts_v2) {
    assert.equal(c.normaliseReceiptV2(r.receipt), r.canonical);
    const derived = c.deriveReporterKeysV2(r.receipt, c.fromHex(r.salt), { opslimit: r.opslimit, memlimit: r.memlimit });
    assert.equal(hex(derived.lookupValue), r.lookup_value);
    assert.equal(hex(derived.publicKey), r.public_key);
    assert.equal(hex(derived.privateKey), r.private_key);
  }
  for (const { text, version } of V.receipt_versions) {
    if (version === null) assert.throws(() => c.receiptVersion(text), c.InvalidReceipt);
    else assert.equal(c.receiptVersion(text), version);
  }
  const fresh = c.newReceiptV2();
  assert.match(fresh, /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){5}$/);
  assert.equal(c.receiptVersion(fresh), 2);
});

test("case and team keys: public keys, team key MAC, case key binding", () => {
  for (const which of ["case", "team"]) {
    const [publicKey, privateKey] = keys(which);
    assert.deepEqual(c.publicKeyOf(privateKey), publicKey);
  }
  const m = V.team_key_mac;
  const mac = c.teamKeyMac(c.fromHex(m.case_private_key), c.fromHex(m.team_public_key));
  assert.equal(hex(mac), m.mac);
  c.checkTeamKeyMac(c.fromHex(m.case_private_key), c.fromHex(m.team_public_key), mac);
  assert.throws(() => c.checkTeamKeyMac(c.fromHex(m.case_private_key), c.newKeyPair().publicKey, mac), c.KeyMismatch);
  const b = V.case_key_binding;
  const binding = c.caseKeyBinding(c.fromHex(b.holder_private_key), b.case, c.fromHex(b.case_public_key));
  assert.equal(hex(binding), b.binding);
  assert.throws(
    () => c.checkCaseKeyBinding(c.fromHex(b.holder_private_key), b.case, c.newKeyPair().publicKey, binding),
    c.KeyMismatch,
  );
});

test("sealed envelopes", () => {
  for (const s of V.sealed) {
    const privateKey = c.fromHex(s.recipient_private_key);
    assert.equal(hex(c.unseal(c.publicKeyOf(privateKey), privateKey, c.fromBase64(s.envelope))), s.data);
  }
});

test("items of version 2, each author form", () => {
  for (const item of V.items_v2) {
    const [publicKey, privateKey] = keys(item.key);
    const envelope = c.fromBase64(item.envelope);
    const plaintext = c.decryptItem(publicKey, privateKey, envelope, item);
    assert.equal(c.fromUtf8(plaintext), item.plaintext);
    assert.ok(c.itemAuthorSealed(envelope));
    assert.throws(() => c.decryptItem(publicKey, privateKey, envelope, { ...item, author: "guardian:8" }), c.DecryptionFailed);
    assert.throws(() => c.decryptItem(publicKey, privateKey, envelope, { ...item, kind: "note" }), c.DecryptionFailed);
  }
});

test("a stream of version 2 over two chunks, whole and in odd pieces", async () => {
  const s = V.stream_v2;
  const [publicKey, privateKey] = keys(s.key);
  const chunks = s.chunks.map((chunk) => c.fromBase64(chunk));
  assert.deepEqual(chunks.map((chunk) => chunk.length), [106, 65553, 1041]);
  assert.equal(c.streamChunkCount(s.plaintext.length), 3);
  assert.equal(c.streamCiphertextSize(s.plaintext.length), 106 + 65553 + 1041);
  const decryptor = new c.StreamDecryptor(publicKey, privateKey, s);
  decryptor.open(chunks[0]);
  const plaintext = c.concat(decryptor.pull(chunks[1]), decryptor.pull(chunks[2]));
  assert.ok(decryptor.done);
  assert.deepEqual(plaintext, plaintextOf(s.plaintext.length));

  const whole = c.concat(...chunks);
  async function* pieces(size) {
    for (let at = 0; at < whole.length; at += size) yield whole.slice(at, at + size);
  }
  for (const size of [1000, 65553, whole.length]) {
    const out = [];
    for await (const part of c.decryptStream(pieces(size), publicKey, privateKey, s)) out.push(part);
    assert.deepEqual(c.concat(...out), plaintext);
  }
  async function* cut() {
    yield whole.slice(0, 106 + 65553);
  }
  await assert.rejects(async () => {
    for await (const part of c.decryptStream(cut(), publicKey, privateKey, s)) assert.ok(part);
  }, c.DecryptionFailed);
});

test("round trip in JavaScript: items and a file encrypted here decrypt here", async () => {
  const { publicKey, privateKey } = c.newKeyPair();
  const meta = { case: "CASE-JS01", kind: "message", author: "reporter" };
  const envelope = c.encryptItem(publicKey, "Grüße — über 256 bytes? ".repeat(20), meta);
  assert.equal(envelope.length, 122 + 256 * (Math.floor(c.utf8("Grüße — über 256 bytes? ".repeat(20)).length / 256) + 1));
  assert.equal(c.fromUtf8(c.decryptItem(publicKey, privateKey, envelope, meta)), "Grüße — über 256 bytes? ".repeat(20));
  for (const size of [0, 1, c.CHUNK_SIZE, 2 * c.CHUNK_SIZE + 5]) {
    const data = plaintextOf(size);
    const chunks = [];
    for await (const chunk of c.encryptBlob(new Blob([data]), publicKey, { case: "CASE-JS01", author: "reporter" })) {
      chunks.push(chunk);
    }
    assert.equal(chunks.length, c.streamChunkCount(size));
    assert.equal(c.concat(...chunks).length, c.streamCiphertextSize(size));
    const out = [];
    const body = new Blob(chunks).stream();
    for await (const part of c.decryptStream(body, publicKey, privateKey, { case: "CASE-JS01", author: "reporter" })) {
      out.push(part);
    }
    assert.deepEqual(c.concat(new Uint8Array(0), ...out), data);
  }
  const sealed = c.seal(publicKey, privateKey);
  assert.deepEqual(c.unseal(publicKey, privateKey, sealed), privateKey);
  assert.throws(() => c.unseal(publicKey, privateKey, c.encryptItem(publicKey, "x", meta)), c.UnsupportedVersion);
});
