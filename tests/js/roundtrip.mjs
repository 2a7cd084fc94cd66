// One side of the Python <-> JavaScript round trip (tests/unit/crypto/test_js_crypto.py):
// reads from stdin what Python made, decrypts it with crypto.js, and writes to stdout both what
// it decrypted and what it made itself for Python to check. Bytes in base64.
import { readFileSync } from "node:fs";

import * as c from "../../whistle/static/js/crypto.js";

const input = JSON.parse(readFileSync(0, "utf8"));
const b = (text) => c.fromBase64(text);
const out = { decrypted: {}, made: {} };

// What Python made, opened here.
const py = input.python;
const [pyPublic, pyPrivate] = [b(py.public_key), b(py.private_key)];
out.decrypted.sealed = c.toBase64(c.unseal(pyPublic, pyPrivate, b(py.sealed)));
out.decrypted.items = py.items.map((item) => c.fromUtf8(c.decryptItem(pyPublic, pyPrivate, b(item.envelope), item)));
const parts = [];
for await (const part of c.decryptStream(
  (async function* () { for (const chunk of py.stream.chunks) yield b(chunk); })(), pyPublic, pyPrivate, py.stream,
)) {
  parts.push(part);
}
out.decrypted.stream = c.toBase64(c.concat(new Uint8Array(0), ...parts));
out.decrypted.receipt = (() => {
  const keys = c.deriveReporterKeysV2(py.receipt.receipt, b(py.receipt.salt), py.receipt.cost);
  return { lookup_value: c.toBase64(keys.lookupValue), public_key: c.toBase64(keys.publicKey) };
})();
out.decrypted.canonical = py.canonical.map((value) => c.toBase64(c.canonicalJson(value)));

// Made here, for Python to open.
const recipient = b(input.recipient_public_key);
const caseKeys = c.newKeyPair();
const teamKeys = c.newKeyPair();
const receipt = c.newReceiptV2();
const reporter = c.deriveReporterKeysV2(receipt, b(input.salt), input.cost);
out.made.receipt = { receipt, lookup_value: c.toBase64(reporter.lookupValue), public_key: c.toBase64(reporter.publicKey) };
out.made.case_public_key = c.toBase64(caseKeys.publicKey);
out.made.team_public_key = c.toBase64(teamKeys.publicKey);
out.made.sealed_case_key = c.toBase64(c.seal(recipient, caseKeys.privateKey));
out.made.sealed_team_key = c.toBase64(c.seal(recipient, teamKeys.privateKey));
out.made.team_key_mac = c.toBase64(c.teamKeyMac(caseKeys.privateKey, teamKeys.publicKey));
out.made.case_key_binding = c.toBase64(c.caseKeyBinding(reporter.privateKey, "CASE-JS01", caseKeys.publicKey));
out.made.items = input.items.map((item) => ({
  ...item,
  envelope: c.toBase64(c.encryptItem(item.key === "team" ? teamKeys.publicKey : caseKeys.publicKey, item.plaintext, item)),
}));
const chunks = [];
const data = Uint8Array.from({ length: input.stream.length }, (_, i) => (i * 7) % 256);
for await (const chunk of c.encryptBlob(new Blob([data]), caseKeys.publicKey, input.stream)) chunks.push(c.toBase64(chunk));
out.made.stream = { ...input.stream, chunks };
process.stdout.write(JSON.stringify(out));
