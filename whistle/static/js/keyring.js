// The guardian's private key between one workspace page and the next, in device mode.
//
// After sign-in the key is kept in this tab's sessionStorage, encrypted under the page key the
// server puts in every staff page's <head> (docs/crypto.md 6.3). The page key is derived from the
// session's token, which lives in an HttpOnly cookie, and is never stored: the server never sees
// what sessionStorage holds, the browser's disk never holds the page key, and signing out (or the
// session expiring) leaves nothing that opens it. Closing the tab drops sessionStorage too.

import * as c from "./crypto.js";

const STORE = "whistle.guardian-key";

function meta(name) {
  const element = document.querySelector(`meta[name="${name}"]`);
  return element ? element.getAttribute("content") : null;
}

/** Whether this page is a staff page in device mode (the server holds no key for this sign-in). */
export function devicePage() {
  return meta("whistle-mode") === "device";
}

/** The CSRF token for the page's own requests (header X-CSRF-Token). */
export function csrfToken() {
  return meta("csrf-token") || "";
}

/** The signed-in account's id on this page, or null. */
export function accountId() {
  const value = meta("whistle-account");
  return value === null ? null : Number(value);
}

function pageKey() {
  const value = meta("whistle-page-key");
  return value ? c.fromBase64(value) : null;
}

function storage() {
  try {
    return globalThis.sessionStorage || null;
  } catch {
    return null; // storage disabled: the key cannot be kept between pages
  }
}

/** Keep the private key for this tab, under this page's page key (call on the page after sign-in). */
export function storeKey(privateKey, account, key = pageKey()) {
  const store = storage();
  if (!store || !key) return false;
  const payload = c.concat(Uint8Array.of(0x01), c.utf8(String(account)), Uint8Array.of(0x00), privateKey);
  store.setItem(STORE, c.toBase64(c.secretboxSeal(key, payload)));
  return true;
}

/** `{publicKey, privateKey, accountId}`, or null: none kept, another account's, or a page key
 *  that does not open it (another session). */
export function loadKey() {
  const store = storage();
  const key = pageKey();
  const kept = store && store.getItem(STORE);
  if (!kept || !key) return null;
  let payload;
  try {
    payload = c.secretboxOpen(key, c.fromBase64(kept));
  } catch {
    return null;
  }
  const end = payload.indexOf(0x00, 1);
  if (payload[0] !== 0x01 || end < 0 || payload.length !== end + 1 + 32) return null;
  const account = Number(c.fromUtf8(payload.subarray(1, end)));
  if (account !== accountId()) return null;
  const privateKey = payload.slice(end + 1);
  return { publicKey: c.publicKeyOf(privateKey), privateKey, accountId: account };
}

/** Forget the kept key (signing out). */
export function forgetKey() {
  const store = storage();
  if (store) store.removeItem(STORE);
}

// --- whose word the organisation's key is --------------------------------------------------------

let deskAnswer;

/** The version a published directory's document says it is (checked by its signature when opened). */
function documentVersion(published) {
  try {
    return JSON.parse(published.document).version;
  } catch {
    return undefined;
  }
}

/**
 * The organisation's public key to check a signed key directory with. Through the desk (`whistle
 * desk`), the key the desk pinned, from /desk/organisation.json, which the desk answers itself and
 * never forwards: a directory under any other key is refused, and so is one older than the newest
 * version the desk has seen (a server cannot hand the page an old directory, still signed and not
 * expired, that lists keys since replaced). Straight from the server, there is no such answer and
 * the key is the one the server publishes with the directory (the server's word,
 * docs/threat-model.md).
 */
export async function organisationKey(published) {
  if (deskAnswer === undefined) {
    deskAnswer = fetch("/desk/organisation.json", { credentials: "omit", cache: "no-store" })
      .then((answer) => (answer.ok ? answer.json() : null))
      .catch(() => null);
  }
  const desk = await deskAnswer;
  if (desk && desk.public_key) {
    if (published && published.public_key !== desk.public_key) {
      throw new c.DirectoryRefused("this directory's organisation key is not the one the desk pinned");
    }
    const newest = desk.directory_version;
    if (published && Number.isSafeInteger(newest)) {
      const version = documentVersion(published);
      if (!Number.isSafeInteger(version) || version < newest) {
        throw new c.DirectoryRefused("this key directory is older than one the desk has seen");
      }
    }
    return c.fromBase64(desk.public_key);
  }
  return c.fromBase64(published.public_key);
}
