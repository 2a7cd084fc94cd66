// whistle's end-to-end format in the browser: the same bytes as whistle/crypto (docs/crypto.md).
//
// The only user of libsodium on the browser side. libsodium.js is served by the app itself from
// /static/vendor/libsodium/ (copied there from node_modules by `make install`), never from a CDN;
// pages that load this module need `script-src 'self' 'wasm-unsafe-eval'` in their CSP.
// Every function is synchronous once the module has loaded (top-level await below).
// Keys, envelopes and MACs are Uint8Array; strings are JavaScript strings (UTF-8 on the wire).
// Checked against tests/vectors/e2e-v1.json by tests/js/vectors.test.mjs.

import sodium from "../vendor/libsodium/libsodium-wrappers.mjs";

await sodium.ready;

// --- errors ----------------------------------------------------------------------------------

export class CryptoError extends Error {
  constructor(message) {
    super(message);
    this.name = this.constructor.name;
  }
}
/** Wrong key, tampered, truncated or malformed envelope, or wrong associated data. */
export class DecryptionFailed extends CryptoError {}
/** An envelope whose version or type byte is not one read here. */
export class UnsupportedVersion extends DecryptionFailed {}
/** A key directory whose signature does not verify with the organisation's key. */
export class BadSignature extends CryptoError {}
/** A key directory that is signed but must not be used: expired, older than one seen, malformed. */
export class DirectoryRefused extends CryptoError {}
/** A public key that its MAC does not vouch for. */
export class KeyMismatch extends CryptoError {}
/** Text that is not a receipt. */
export class InvalidReceipt extends CryptoError {}

// --- constants (docs/crypto.md 2 and 3) ------------------------------------------------------

const VERSION = 0x01;
const AUTHORED_VERSION = 0x02;
const TYPE_SEALED = 0x01;
const TYPE_ITEM = 0x02;
const TYPE_STREAM = 0x03;
const KEY_LEN = 32;
const SEALED_KEY_LEN = KEY_LEN + 48;
const NONCE_LEN = 24;
const TAG_LEN = 16;
const PAD_BLOCK = 256;
const ITEM_BODY_AT = 2 + SEALED_KEY_LEN + NONCE_LEN; // 106
const ITEM_MIN_LEN = ITEM_BODY_AT + PAD_BLOCK + TAG_LEN; // 378
export const CHUNK_SIZE = 65536;
export const STREAM_HEADER_LEN = 2 + SEALED_KEY_LEN + 24; // 106
export const CIPHER_CHUNK_SIZE = CHUNK_SIZE + 17;
const TAG_MESSAGE = 0;
const TAG_FINAL = 3;
const DIRECTORY_PREFIX = "whistle-key-directory\u0000";
const DIRECTORY_FORMAT = "whistle-key-directory/1";
export const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
export const RECEIPT_V1_CHARS = 20;
export const RECEIPT_V2_CHARS = 24;
const FINGERPRINT_CHARS = 32;
export const MAX_SAFE_INTEGER = Number.MAX_SAFE_INTEGER; // 2**53 - 1, as in canonical.py

// --- bytes -----------------------------------------------------------------------------------

const encoder = new TextEncoder();

/** UTF-8 bytes of a string; refuses a string with a lone surrogate (TextEncoder would replace it). */
export function utf8(text) {
  if (typeof text !== "string") throw new TypeError("expected a string");
  if (!isWellFormed(text)) throw new TypeError("string is not valid Unicode (lone surrogate)");
  return encoder.encode(text);
}

/** The string of UTF-8 bytes; refuses bytes that are not UTF-8 (and keeps a byte order mark). */
export function fromUtf8(bytes) {
  return new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
}

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/** Standard base64 (RFC 4648, with padding): how the API carries bytes. */
export function toBase64(bytes) {
  return sodium.to_base64(bytes, sodium.base64_variants.ORIGINAL);
}

export function fromBase64(text) {
  try {
    return sodium.from_base64(text, sodium.base64_variants.ORIGINAL);
  } catch {
    throw new TypeError("not base64");
  }
}

export function toHex(bytes) {
  return sodium.to_hex(bytes);
}

export function fromHex(text) {
  return sodium.from_hex(text);
}

export function randomBytes(n) {
  return sodium.randombytes_buf(n);
}

function isWellFormed(text) {
  if (typeof text.isWellFormed === "function") return text.isWellFormed();
  return !/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

function u16(n) {
  if (n > 0xffff) throw new RangeError("longer than 65535 bytes");
  return Uint8Array.of(n >> 8, n & 0xff);
}

function checkKey(key, what) {
  if (!(key instanceof Uint8Array) || key.length !== KEY_LEN) throw new TypeError(`${what} must be 32 bytes`);
  return key;
}

/** Length-prefixed UTF-8 of each part (docs/crypto.md 5.2): ("a", "bc") and ("ab", "c") differ. */
export function context(...parts) {
  return concat(...parts.flatMap((part) => {
    const bytes = utf8(part);
    return [u16(bytes.length), bytes];
  }));
}

/**
 * BLAKE2b(out, key, msg, person) as docs/crypto.md 1 defines it: keyed, personalised (zero-padded
 * to 16 bytes), salt zero. libsodium.js wraps crypto_generichash_blake2b_salt_personal without a
 * message, so this calls the libsodium function itself.
 */
export function blake2b(message, size, key, person) {
  const lib = sodium.libsodium;
  const personal = new Uint8Array(16);
  personal.set(encoder.encode(person || ""));
  if (person && encoder.encode(person).length > 16) throw new RangeError("personalisation over 16 bytes");
  const keyBytes = key || new Uint8Array(0);
  const total = size + message.length + keyBytes.length + 16;
  const base = lib._malloc(total || 1);
  const outAt = base;
  const msgAt = outAt + size;
  const keyAt = msgAt + message.length;
  const personAt = keyAt + keyBytes.length;
  try {
    lib.HEAPU8.set(message, msgAt);
    lib.HEAPU8.set(keyBytes, keyAt);
    lib.HEAPU8.set(personal, personAt);
    const failed = lib._crypto_generichash_blake2b_salt_personal(
      outAt, size, msgAt, message.length, 0, keyBytes.length ? keyAt : 0, keyBytes.length, 0, personAt,
    );
    if (failed) throw new CryptoError("BLAKE2b failed");
    return lib.HEAPU8.slice(outAt, outAt + size);
  } finally {
    lib.HEAPU8.fill(0, base, base + total);
    lib._free(base);
  }
}

// --- canonical JSON (docs/crypto.md 6.8) -----------------------------------------------------

function byCodePoint(a, b) {
  // Sorted by Unicode code point (= by UTF-8 bytes), not by UTF-16 code unit as sort() does.
  const x = Array.from(a, (c) => c.codePointAt(0));
  const y = Array.from(b, (c) => c.codePointAt(0));
  for (let i = 0; i < Math.min(x.length, y.length); i += 1) {
    if (x[i] !== y[i]) return x[i] - y[i];
  }
  return x.length - y.length;
}

function writeCanonical(value, depth) {
  if (depth > 64) throw new RangeError("JSON nested too deeply");
  if (value === null) return "null";
  if (value === true) return "true";
  if (value === false) return "false";
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new RangeError("only integers within +-(2**53 - 1) in canonical JSON");
    return Object.is(value, -0) ? "0" : String(value);
  }
  if (typeof value === "string") {
    if (!isWellFormed(value)) throw new RangeError("string is not valid Unicode (lone surrogate)");
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => writeCanonical(item, depth + 1)).join(",")}]`;
  if (typeof value === "object" && Object.getPrototypeOf(value) === Object.prototype) {
    const keys = Object.keys(value).sort(byCodePoint);
    return `{${keys.map((key) => `${writeCanonical(key, depth)}:${writeCanonical(value[key], depth + 1)}`).join(",")}}`;
  }
  throw new TypeError(`${typeof value} is not allowed in canonical JSON`);
}

/** The canonical UTF-8 bytes of a JSON value: sorted keys, no spaces, integers only. */
export function canonicalJson(value) {
  return utf8(writeCanonical(value, 0));
}

/** The value whose canonical form is exactly `bytes`; anything else throws. */
export function parseCanonicalJson(bytes) {
  let value;
  try {
    value = JSON.parse(fromUtf8(bytes));
  } catch {
    throw new SyntaxError("not JSON in UTF-8");
  }
  let again;
  try {
    again = canonicalJson(value);
  } catch (error) {
    throw new SyntaxError(`not canonical JSON: ${error.message}`);
  }
  if (again.length !== bytes.length || again.some((byte, i) => byte !== bytes[i])) {
    throw new SyntaxError("JSON not in canonical form");
  }
  return value;
}

// --- the organisation's key and the signed directory (docs/crypto.md 6.9, 6.10) -------------

function base32(bytes) {
  let bits = 0;
  let buffer = 0;
  let out = "";
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(buffer >> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits) throw new RangeError("length in bits must be a multiple of 5");
  return out;
}

function group(chars) {
  return chars.match(/.{1,4}/g).join("-");
}

/** BLAKE2b-160 of the organisation's public key in Crockford base32, groups of four. */
export function fingerprint(publicKey) {
  checkKey(publicKey, "public key");
  return group(base32(blake2b(publicKey, 20, null, "whistle-org-fp")));
}

/** Throws BadSignature unless `signature` is the organisation's over the document's bytes. */
export function verifyDirectory(documentBytes, signature, publicKey) {
  checkKey(publicKey, "public key");
  if (!(signature instanceof Uint8Array) || signature.length !== 64) throw new BadSignature("a signature is 64 bytes");
  const signed = concat(encoder.encode(DIRECTORY_PREFIX), documentBytes);
  let good = false;
  try {
    good = sodium.crypto_sign_verify_detached(signature, signed, publicKey);
  } catch {
    good = false;
  }
  if (!good) throw new BadSignature("the key directory's signature does not verify");
}

/**
 * The document of a published directory {"document", "signature", "key"} after the checks every
 * client makes (docs/crypto.md 6.9): signed by `publicKey`, canonical, of this format, not
 * expired at `now` (a Date), and not older than `lowestVersion` (the highest the client has seen).
 */
export function openDirectory(published, publicKey, { now = new Date(), lowestVersion = 0 } = {}) {
  if (!published || typeof published.document !== "string" || typeof published.signature !== "string") {
    throw new DirectoryRefused("not a published key directory");
  }
  const documentBytes = utf8(published.document);
  let signature;
  try {
    signature = fromBase64(published.signature);
  } catch {
    throw new BadSignature("the signature is not base64");
  }
  verifyDirectory(documentBytes, signature, publicKey);
  const document = parseCanonicalJson(documentBytes);
  if (document.format !== DIRECTORY_FORMAT) throw new DirectoryRefused("unknown key directory format");
  if (!Number.isSafeInteger(document.version) || document.version < lowestVersion) {
    throw new DirectoryRefused("this key directory is older than one already seen");
  }
  const expires = Date.parse(document.expires_at);
  if (!Number.isFinite(expires) || now.getTime() >= expires) throw new DirectoryRefused("this key directory has expired");
  return document;
}

/**
 * Who a new case in channel `slug` is sealed to (docs/crypto.md 7.1 step 3), from an opened
 * directory document, the reporter having left out `leftOut` (account ids): {holders, standby,
 * escrowKey}. Holders: the first tier minus those left out, or if none is left the second tier
 * minus those left out; standby: the rest of the second tier; escrowKey: bytes or null. The same
 * as whistle.crypto.directory.recipients, which the server checks the grants against.
 */
export function recipients(document, slug, leftOut = []) {
  const excluded = new Set(leftOut);
  const tiers = (document.channels || {})[slug] || { first_tier: [], second_tier: [] };
  let holders = tiers.first_tier.filter((id) => !excluded.has(id));
  if (!holders.length) holders = tiers.second_tier.filter((id) => !excluded.has(id));
  const standby = tiers.second_tier.filter((id) => !excluded.has(id) && !holders.includes(id));
  const escrowKey = document.escrow ? fromBase64(document.escrow.public_key) : null;
  return { holders, standby, escrowKey };
}

// --- receipts (docs/crypto.md 6.1, 6.2.1) ----------------------------------------------------

// Python's str.split() whitespace, so both ends normalise alike.
const WHITESPACE = /[\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/g;
const DASHES = /[-\u2010-\u2015\u2212]/g;

function normaliseCode(text, length) {
  if (typeof text !== "string") return null;
  const chars = text.normalize("NFKC").replace(WHITESPACE, "").replace(DASHES, "").toUpperCase()
    .replace(/O/g, "0").replace(/[IL]/g, "1");
  if (chars.length !== length || [...chars].some((c) => !ALPHABET.includes(c))) return null;
  return group(chars);
}

function newCode(length) {
  // 256 is a multiple of 32: byte % 32 is uniform.
  return group(Array.from(randomBytes(length), (byte) => ALPHABET[byte % 32]).join(""));
}

/** A fresh receipt of version 2: 24 Crockford base32 characters (120 bits), six groups of four. */
export function newReceiptV2() {
  return newCode(RECEIPT_V2_CHARS);
}

/** 1 or 2, told by length; throws InvalidReceipt for anything else. */
export function receiptVersion(text) {
  if (normaliseCode(text, RECEIPT_V1_CHARS) !== null) return 1;
  if (normaliseCode(text, RECEIPT_V2_CHARS) !== null) return 2;
  throw new InvalidReceipt("a receipt is 20 or 24 letters and digits");
}

export function normaliseReceiptV2(text) {
  const normal = normaliseCode(text, RECEIPT_V2_CHARS);
  if (normal === null) throw new InvalidReceipt("a receipt of version 2 is 24 letters and digits");
  return normal;
}

export function normaliseFingerprint(text) {
  return normaliseCode(text, FINGERPRINT_CHARS);
}

/**
 * What a version 2 receipt unlocks: {lookupValue, publicKey, privateKey}. `salt` (16 bytes) and
 * `cost` ({opslimit, memlimit}) are the key directory's `receipt` member.
 */
export function deriveReporterKeysV2(receipt, salt, cost) {
  const password = utf8(normaliseReceiptV2(receipt));
  if (!(salt instanceof Uint8Array) || salt.length !== 16) throw new TypeError("the receipt salt is 16 bytes");
  const { opslimit, memlimit } = cost;
  if (!Number.isSafeInteger(opslimit) || opslimit < 1 || opslimit > 16
      || !Number.isSafeInteger(memlimit) || memlimit < 8192 || memlimit > 1073741824) {
    throw new RangeError("Argon2id cost out of range");
  }
  const master = sodium.crypto_pwhash(64, password, salt, opslimit, memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13);
  try {
    const lookupValue = blake2b(master.subarray(0, 32), 32, null, "whistle-lookup2");
    const pair = sodium.crypto_box_seed_keypair(master.slice(32, 64));
    return { lookupValue, publicKey: pair.publicKey, privateKey: pair.privateKey };
  } finally {
    sodium.memzero(master);
  }
}

// --- case and team keys (docs/crypto.md 6.11, 6.12, 7) ---------------------------------------

/** A fresh X25519 key pair {publicKey, privateKey} (a case's or a team's). */
export function newKeyPair() {
  const pair = sodium.crypto_box_keypair();
  return { publicKey: pair.publicKey, privateKey: pair.privateKey };
}

export function publicKeyOf(privateKey) {
  return sodium.crypto_scalarmult_base(checkKey(privateKey, "private key"));
}

function macCheck(expected, given, what) {
  if (!(given instanceof Uint8Array) || given.length !== expected.length || !sodium.memcmp(expected, given)) {
    throw new KeyMismatch(`the ${what} is not the one the case's keys vouch for`);
  }
}

export function teamKeyMac(casePrivateKey, teamPublicKey) {
  const macKey = blake2b(new Uint8Array(0), 32, checkKey(casePrivateKey, "case private key"), "whistle-teamauth");
  return blake2b(checkKey(teamPublicKey, "team public key"), 32, macKey, "");
}

/** Throws KeyMismatch unless `mac` vouches for `teamPublicKey` (constant-time comparison). */
export function checkTeamKeyMac(casePrivateKey, teamPublicKey, mac) {
  macCheck(teamKeyMac(casePrivateKey, teamPublicKey), mac, "team public key");
}

export function caseKeyBinding(holderPrivateKey, caseRef, casePublicKey) {
  const bindingKey = blake2b(new Uint8Array(0), 32, checkKey(holderPrivateKey, "private key"), "whistle-casebind");
  const message = concat(context(caseRef, "case-key"), checkKey(casePublicKey, "case public key"));
  return blake2b(message, 32, bindingKey, "");
}

export function checkCaseKeyBinding(holderPrivateKey, caseRef, casePublicKey, binding) {
  macCheck(caseKeyBinding(holderPrivateKey, caseRef, casePublicKey), binding, "case public key");
}

// --- envelopes (docs/crypto.md 5.1 to 5.3) ---------------------------------------------------

function checkHeader(envelope, type, versions) {
  if (!(envelope instanceof Uint8Array) || envelope.length < 2) throw new DecryptionFailed("envelope too short");
  if (!versions.includes(envelope[0])) throw new UnsupportedVersion(`unsupported envelope version ${envelope[0]}`);
  if (envelope[1] !== type) throw new UnsupportedVersion(`expected envelope type ${type}, found ${envelope[1]}`);
  return envelope[0];
}

function sealKey(data, publicKey) {
  return sodium.crypto_box_seal(data, checkKey(publicKey, "public key"));
}

function unsealKey(sealed, publicKey, privateKey) {
  try {
    return sodium.crypto_box_seal_open(sealed, publicKey, privateKey);
  } catch {
    throw new DecryptionFailed("cannot open sealed box");
  }
}

/** Sealed envelope (5.1): `data` (a private key) for the holder of `publicKey`. */
export function seal(publicKey, data) {
  return concat(Uint8Array.of(VERSION, TYPE_SEALED), sealKey(data, publicKey));
}

export function unseal(publicKey, privateKey, envelope) {
  checkHeader(envelope, TYPE_SEALED, [VERSION]);
  if (envelope.length < 50) throw new DecryptionFailed("sealed envelope too short");
  return unsealKey(envelope.subarray(2), publicKey, privateKey);
}

function itemContext(version, { case: caseRef, kind, author }) {
  return version === AUTHORED_VERSION ? context(caseRef, kind, author) : context(caseRef, kind);
}

/** Item envelope of version 2 (5.2) to `publicKey`; `plaintext` is bytes or a string. */
export function encryptItem(publicKey, plaintext, { case: caseRef, kind, author }) {
  const data = typeof plaintext === "string" ? utf8(plaintext) : plaintext;
  const ad = context(caseRef, kind, author);
  const itemKey = randomBytes(KEY_LEN);
  const nonce = randomBytes(NONCE_LEN);
  const head = concat(Uint8Array.of(AUTHORED_VERSION, TYPE_ITEM), sealKey(itemKey, publicKey), nonce);
  const body = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
    sodium.pad(data, PAD_BLOCK), concat(head, ad), null, nonce, itemKey,
  );
  sodium.memzero(itemKey);
  return concat(head, body);
}

/** The plaintext bytes of an item (version 2, or 1 with the author unchecked); DecryptionFailed if not. */
export function decryptItem(publicKey, privateKey, envelope, { case: caseRef, kind, author }) {
  const version = checkHeader(envelope, TYPE_ITEM, [AUTHORED_VERSION, VERSION]);
  const ad = itemContext(version, { case: caseRef, kind, author });
  if (envelope.length < ITEM_MIN_LEN) throw new DecryptionFailed("item envelope too short");
  const itemKey = unsealKey(envelope.subarray(2, 82), publicKey, privateKey);
  const head = envelope.subarray(0, ITEM_BODY_AT);
  let padded;
  try {
    padded = sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, envelope.subarray(ITEM_BODY_AT), concat(head, ad), envelope.subarray(82, ITEM_BODY_AT), itemKey,
    );
  } catch {
    throw new DecryptionFailed("authentication failed");
  } finally {
    sodium.memzero(itemKey);
  }
  try {
    return sodium.unpad(padded, PAD_BLOCK);
  } catch {
    throw new DecryptionFailed("bad padding");
  }
}

export function itemAuthorSealed(envelope) {
  return envelope[0] === AUTHORED_VERSION;
}

function freeState(state) {
  const lib = sodium.libsodium;
  const size = lib._crypto_secretstream_xchacha20poly1305_statebytes();
  lib.HEAPU8.fill(0, state, state + size);
  lib._free(state);
}

/** Ciphertext chunks of a file of `size` bytes: the header (chunk 0), one per 64 KiB, the final one. */
export function streamChunkCount(size) {
  return 1 + Math.floor(size / CHUNK_SIZE) + 1;
}

/** Bytes of a stream envelope for a file of `size` bytes (docs/crypto.md 5.3). */
export function streamCiphertextSize(size) {
  const full = Math.floor(size / CHUNK_SIZE);
  const rest = size - full * CHUNK_SIZE;
  return STREAM_HEADER_LEN + full * CIPHER_CHUNK_SIZE + PAD_BLOCK * (Math.floor(rest / PAD_BLOCK) + 1) + 17;
}

/**
 * A stream envelope of version 2 (5.3), built chunk by chunk: send `header` first (upload chunk 0),
 * then `push(block)` for each full 65536-byte block, then `finish(rest)` with the 0..65535 bytes left.
 */
export class StreamEncryptor {
  constructor(publicKey, { case: caseRef, kind = "attachment", author }) {
    const ad = context(caseRef, kind, author);
    const fileKey = sodium.crypto_secretstream_xchacha20poly1305_keygen();
    const { state, header } = sodium.crypto_secretstream_xchacha20poly1305_init_push(fileKey);
    this.header = concat(Uint8Array.of(AUTHORED_VERSION, TYPE_STREAM), sealKey(fileKey, publicKey), header);
    sodium.memzero(fileKey);
    this._state = state;
    this._ad = concat(this.header, ad);
    this._finished = false;
  }

  push(block) {
    if (this._finished) throw new CryptoError("stream already finished");
    if (block.length !== CHUNK_SIZE) throw new RangeError("every chunk but the last is 65536 bytes");
    return sodium.crypto_secretstream_xchacha20poly1305_push(this._state, block, this._ad, TAG_MESSAGE);
  }

  finish(rest) {
    if (this._finished) throw new CryptoError("stream already finished");
    if (rest.length >= CHUNK_SIZE) throw new RangeError("the last chunk is under 65536 bytes");
    this._finished = true;
    const chunk = sodium.crypto_secretstream_xchacha20poly1305_push(
      this._state, sodium.pad(rest, PAD_BLOCK), this._ad, TAG_FINAL,
    );
    freeState(this._state);
    return chunk;
  }
}

/**
 * Encrypt a Blob (a File) to `publicKey`, yielding the ciphertext chunks in order: the header, then
 * one per 64 KiB block, then the final one. Reads one block at a time (Blob.slice), so memory stays
 * flat whatever the file's size; each chunk is exactly what the chunked upload sends.
 */
export async function* encryptBlob(blob, publicKey, meta) {
  const encryptor = new StreamEncryptor(publicKey, meta);
  yield encryptor.header;
  const full = Math.floor(blob.size / CHUNK_SIZE);
  for (let index = 0; index < full; index += 1) {
    const block = new Uint8Array(await blob.slice(index * CHUNK_SIZE, (index + 1) * CHUNK_SIZE).arrayBuffer());
    yield encryptor.push(block);
  }
  yield encryptor.finish(new Uint8Array(await blob.slice(full * CHUNK_SIZE).arrayBuffer()));
}

/** Decrypt a stream envelope chunk by chunk: `open(header)` with the first 106 bytes, then `pull(chunk)`. */
export class StreamDecryptor {
  constructor(publicKey, privateKey, { case: caseRef, kind = "attachment", author }) {
    this._keys = [publicKey, privateKey];
    this._meta = { case: caseRef, kind, author };
    this._state = null;
    this.done = false;
  }

  open(header) {
    const version = checkHeader(header, TYPE_STREAM, [AUTHORED_VERSION, VERSION]);
    if (header.length !== STREAM_HEADER_LEN) throw new DecryptionFailed("stream envelope too short");
    const fileKey = unsealKey(header.subarray(2, 82), ...this._keys);
    try {
      this._state = sodium.crypto_secretstream_xchacha20poly1305_init_pull(header.subarray(82, 106), fileKey);
    } catch {
      throw new DecryptionFailed("bad stream header");
    } finally {
      sodium.memzero(fileKey);
    }
    this._ad = concat(header, itemContext(version, this._meta));
  }

  /** The plaintext of one ciphertext chunk; after the final chunk `done` is true. */
  pull(chunk) {
    if (this._state === null || this.done) throw new DecryptionFailed("data after the final chunk");
    let result = false;
    try {
      result = sodium.crypto_secretstream_xchacha20poly1305_pull(this._state, chunk, this._ad);
    } catch {
      result = false;
    }
    if (!result) throw new DecryptionFailed("stream chunk failed authentication");
    if (result.tag === TAG_FINAL) {
      this.done = true;
      freeState(this._state);
      try {
        return sodium.unpad(result.message, PAD_BLOCK);
      } catch {
        throw new DecryptionFailed("bad padding");
      }
    }
    if (result.tag !== TAG_MESSAGE || result.message.length !== CHUNK_SIZE) {
      throw new DecryptionFailed("unexpected stream chunk");
    }
    return result.message;
  }
}

/**
 * Decrypt a stream envelope arriving in pieces of any size (a fetch() body's ReadableStream, or
 * any async iterable of Uint8Array), yielding plaintext chunk by chunk. Each yielded chunk is
 * authenticated; the file is complete only when the generator ends without throwing.
 */
export async function* decryptStream(source, publicKey, privateKey, meta) {
  const decryptor = new StreamDecryptor(publicKey, privateKey, meta);
  let pending = new Uint8Array(0);
  let opened = false;
  const iterable = typeof source.getReader === "function" ? readerIterable(source) : source;
  for await (const piece of iterable) {
    pending = pending.length ? concat(pending, piece) : piece;
    if (!opened && pending.length >= STREAM_HEADER_LEN) {
      decryptor.open(pending.slice(0, STREAM_HEADER_LEN));
      pending = pending.slice(STREAM_HEADER_LEN);
      opened = true;
    }
    // Keep one full chunk back until more arrives: only the end of the input says which is final.
    while (opened && pending.length > CIPHER_CHUNK_SIZE) {
      yield decryptor.pull(pending.slice(0, CIPHER_CHUNK_SIZE));
      pending = pending.slice(CIPHER_CHUNK_SIZE);
    }
  }
  if (!opened) throw new DecryptionFailed("stream envelope too short");
  if (!pending.length) throw new DecryptionFailed("stream truncated: no final chunk");
  const last = decryptor.pull(pending);
  if (!decryptor.done) throw new DecryptionFailed("stream truncated: no final chunk");
  if (last.length) yield last;
}

async function* readerIterable(stream) {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}

// --- a secret kept between a staff page and the next (keyring.js) ------------------------------

/** `nonce || crypto_secretbox(plaintext, nonce, key)`: for a value the browser keeps for itself. */
export function secretboxSeal(key, plaintext) {
  checkKey(key, "key");
  const nonce = sodium.randombytes_buf(sodium.crypto_secretbox_NONCEBYTES);
  return concat(nonce, sodium.crypto_secretbox_easy(plaintext, nonce, key));
}

/** The plaintext of secretboxSeal's output; DecryptionFailed with another key or changed bytes. */
export function secretboxOpen(key, boxed) {
  checkKey(key, "key");
  const at = sodium.crypto_secretbox_NONCEBYTES;
  if (!(boxed instanceof Uint8Array) || boxed.length < at + sodium.crypto_secretbox_MACBYTES) {
    throw new DecryptionFailed("too short");
  }
  try {
    return sodium.crypto_secretbox_open_easy(boxed.subarray(at), boxed.subarray(0, at), key);
  } catch {
    throw new DecryptionFailed("does not open with this key");
  }
}

// --- signing in on the guardian's device (docs/crypto.md 5.8 and 6.13) -------------------------

const TYPE_DEVICE_WRAP = 0x08;
const DEVICE_BODY_AT = 2 + NONCE_LEN; // 26
export const SIGN_IN_SALT_LEN = 16;

function checkCost({ opslimit, memlimit }) {
  if (!Number.isSafeInteger(opslimit) || opslimit < 1 || opslimit > 16
      || !Number.isSafeInteger(memlimit) || memlimit < 8192 || memlimit > 1073741824) {
    throw new RangeError("Argon2id cost out of range");
  }
}

/**
 * {authKey, wrapKey} from a guardian's password, its 16-byte salt and cost ({opslimit, memlimit}):
 * the key the device signs in with (the server keeps a keyed hash of it) and the key that opens
 * the guardian's private key (key_by_device). The password never leaves this function.
 */
export function deriveSignInKeys(password, salt, cost) {
  if (typeof password !== "string") throw new TypeError("expected a string");
  if (!(salt instanceof Uint8Array) || salt.length !== SIGN_IN_SALT_LEN) throw new TypeError("the sign-in salt is 16 bytes");
  checkCost(cost);
  const master = sodium.crypto_pwhash(
    KEY_LEN, utf8(password.normalize("NFC")), salt, cost.opslimit, cost.memlimit, sodium.crypto_pwhash_ALG_ARGON2ID13,
  );
  try {
    return { authKey: blake2b(master, KEY_LEN, null, "whistle-gauth"), wrapKey: blake2b(master, KEY_LEN, null, "whistle-gwrap") };
  } finally {
    sodium.memzero(master);
  }
}

/** A private key (or any secret) under the device's wrap key: `0x01 0x08 || nonce || AEAD`. */
export function wrapForDevice(secret, wrapKey) {
  checkKey(wrapKey, "wrap key");
  const nonce = randomBytes(NONCE_LEN);
  const head = concat(Uint8Array.of(VERSION, TYPE_DEVICE_WRAP), nonce);
  return concat(head, sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(secret, head, null, nonce, wrapKey));
}

/** The secret of a device wrap; DecryptionFailed with another key or changed bytes. */
export function unwrapForDevice(envelope, wrapKey) {
  checkKey(wrapKey, "wrap key");
  checkHeader(envelope, TYPE_DEVICE_WRAP, [VERSION]);
  if (envelope.length < DEVICE_BODY_AT + TAG_LEN) throw new DecryptionFailed("device envelope too short");
  try {
    return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
      null, envelope.subarray(DEVICE_BODY_AT), envelope.subarray(0, DEVICE_BODY_AT), envelope.subarray(2, DEVICE_BODY_AT),
      wrapKey,
    );
  } catch {
    throw new DecryptionFailed("authentication failed");
  }
}

// --- proof of work on the report form (docs/crypto.md 6.15) -----------------------------------

/**
 * The search for a proof of work on `challenge` (the server's text) at `bits` difficulty: the first
 * whole number n such that BLAKE2b-256 without a key (crypto_generichash) of the challenge's bytes
 * followed by n as 8 little-endian bytes begins with `bits` zero bits. step(tries) tries the next
 * `tries` numbers and returns n once found (and from then on), else null, so that a page can search
 * a little at a time without freezing.
 */
export class WorkSearch {
  constructor(challenge, bits) {
    const prefix = utf8(challenge);
    this.challenge = challenge;
    this.bits = bits;
    this.message = new Uint8Array(prefix.length + 8);
    this.message.set(prefix);
    this.view = new DataView(this.message.buffer);
    this.at = prefix.length;
    this.next = 0;
    this.solution = null;
  }

  step(tries) {
    if (this.solution !== null) return this.solution;
    const whole = Math.floor(this.bits / 8);
    const mask = (0xff << (8 - (this.bits % 8))) & 0xff;
    for (let i = 0; i < tries; i += 1) {
      const n = this.next;
      this.next += 1;
      this.view.setUint32(this.at, n % 2 ** 32, true);
      this.view.setUint32(this.at + 4, Math.floor(n / 2 ** 32), true);
      const digest = sodium.crypto_generichash(32, this.message);
      let zero = true;
      for (let j = 0; j < whole && zero; j += 1) zero = digest[j] === 0;
      if (zero && (this.bits % 8 === 0 || (digest[whole] & mask) === 0)) {
        this.solution = n;
        return n;
      }
    }
    return null;
  }
}
