// The guardian's case page and inbox in device mode (docs/crypto.md 7.4): the server holds no key
// for this sign-in, so the case is decrypted here, in this page's memory, and nowhere else.
//
// On the case page: the guardian's key (keyring.js), the case key from their grant, checked
// against their own binding (or, on the first visit, bound: the server checks the case key against
// its own binding and keeps the guardian's), the team key checked with the team key MAC; a team key
// the reporter's client made is replaced here (sealed to the signed directory's keys, every team-key
// item re-encrypted) before anything is read; then every item is decrypted and the page's content
// sections are filled with the same markup and words as the server-assisted page. Files are
// fetched as ciphertext and decrypted as they arrive. On the inbox: a search inside the cases,
// decrypted one by one on this device; nothing is sent and nothing is indexed.

import * as c from "./crypto.js";
import { csrfToken, devicePage, loadKey, organisationKey } from "./keyring.js";
import { element, fill } from "./dom.js";
import { REMOVAL_WORDS } from "./hidden-info.js";
import { pageLanguage, t } from "./i18n.js";

const TEAM_KINDS = new Set(["identity", "note", "outcome", "reason", "internal-file"]);
const META_KINDS = new Set(["attachment-meta", "internal-file"]);
const TEXT_KINDS = new Set(["disclosure", "message", "note", "speak-up-comment"]);
const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December"];
export const CHANGED = t("It was changed after it was written, or credited to someone who did not write it, so it is "
  + "not shown. The timeline records it.");
const WORDS = {
  // The {name} markers are filled by fill() (dom.js), after translation.
  signIn: t("Sign in again to open cases on this device."),
  opening: t("Opening the case on this device…"),
  refused: t("This case could not be opened safely: its keys are not the ones bound to your account, so nothing of "
    + "it is shown. Tell whoever runs this service."),
  failed: t("The case could not be opened on this device. Reload the page to try again."),
  downloading: t("Decrypting {name}…"),
  downloadFailed: t("{name} could not be opened: it may have been changed after it was added. It was not saved."),
  searching: t("Searching case {i} of {n} on this device…"),
  // How many matches in how many cases, as separate sentences: which one depends on the numbers.
  foundOne: t("1 match in 1 case."),
  foundInOneCase: t("{n} matches in 1 case."),
  found: t("{n} matches in {cases} cases."),
  none: t("No case you hold contains that."),
  searchFailed: t("Some cases could not be searched: {refs}."),
};
const WHERE = { disclosure: t("in the report"), answers: t("in the answers"), message: t("in a message"),
  note: t("in a note"), outcome: t("in an outcome"), reason: t("in a reason"),
  identity: t("in the reporter's details") };

/** The case's keys are not the ones this guardian's key vouches for: nothing is shown. */
class KeysRefused extends Error {}

// --- words, as whistle/words.py puts them -----------------------------------------------------

// Whether the browser has words (Intl) for the page's language: Chromium has none for Welsh, and
// would say an English day on a Welsh page.
const intlSpeaks = pageLanguage !== "en" && Intl.DateTimeFormat.supportedLocalesOf([pageLanguage]).length > 0;

/** The months' names in the page's language as the server says them in a day (the case page's
 *  words, whistle.words.month_names), or null on a page without them. */
function pageMonths() {
  const script = typeof document === "undefined" ? null : document.getElementById("case-words");
  const months = script ? JSON.parse(script.textContent).months : null;
  return Array.isArray(months) && months.length === 12 ? months : null;
}

export function dayWords(iso) {
  const [year, month, day] = String(iso).slice(0, 10).split("-").map(Number);
  if (pageLanguage === "en") return `${day} ${MONTHS[month - 1]} ${year}`;
  if (intlSpeaks) {  // as the server's Babel says it in the page's language
    return new Intl.DateTimeFormat(pageLanguage, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
      numberingSystem: "latn" }).format(new Date(Date.UTC(year, month - 1, day))); // Western digits, as the server's
  }
  // The server's month names, in its order (day, month, year), or the day as it is given: never
  // English words on a page in another language.
  const months = pageMonths();
  return months ? `${day} ${months[month - 1]} ${year}` : String(iso).slice(0, 10);
}

export function sizeWords(size) {
  for (const [unit, scale] of [["GB", 1e9], ["MB", 1e6], ["kB", 1e3]]) {
    const amount = size / scale;
    const factor = amount < 10 ? 10 : 1;
    const rounded = Math.round(amount * factor) / factor;
    if (rounded >= 1) return `${rounded} ${unit}`;
  }
  if (intlSpeaks) {  // "10 bajtów": the plural the page's language takes, as the server's catalogue has it
    return new Intl.NumberFormat(pageLanguage, { style: "unit", unit: "byte", unitDisplay: "long", numberingSystem: "latn" })
      .format(size);
  }
  // English, or a language the browser has no words for: Welsh says "10 beit", as one byte.
  return size === 1 ? t("1 byte") : t("${count} bytes", { count: size });
}

function humane(name) {
  return String(name).replace(/[_-]/g, " ").split(/\s+/).filter(Boolean).join(" ");
}

export function label(labels, value) {
  if (value === null || value === undefined || value === "") return t("none");
  if (labels[value]) return labels[value];
  const text = humane(value);
  return text.charAt(0).toUpperCase() + text.slice(1).toLowerCase();
}

export function recordAbout(about, words) {
  if (about === "reopen") return t("Reason for reopening");
  if (about === "legal-hold") return t("Reason for the legal hold");
  const text = String(about);
  const at = text.indexOf(":");
  if (at >= 0 && text.slice(0, at) === "status") {
    return t("Reason for moving to ${status}", { status: label(words.statuses, text.slice(at + 1)).toLowerCase() });
  }
  return t("Reason");
}

// --- the page's requests (cookie session, CSRF header) ---------------------------------------

async function request(method, path, json) {
  const headers = { Accept: "application/json" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    headers["X-CSRF-Token"] = csrfToken();
  }
  const response = await fetch(path, { method, headers, credentials: "same-origin", cache: "no-store",
    body: json === undefined ? undefined : JSON.stringify(json) });
  let body = null;
  try {
    body = await response.json();
  } catch {
    body = null;
  }
  return { ok: response.ok, status: response.status, body: body || {} };
}

function caseBase(ref) {
  return `/staff/cases/${encodeURIComponent(ref)}`;
}

// --- the keys ----------------------------------------------------------------------------------

function same(a, b) {
  return a.length === b.length && c.toHex(a) === c.toHex(b);
}

function fromB64(value) {
  return c.fromBase64(value);
}

/**
 * The case (and team) keys from the guardian's grant, checked before anything is read: the case
 * key opens with the guardian's key and gives the case's public key; the guardian's binding vouches
 * for it (none yet: the first visit, bound now, after the server has checked the key against its
 * own binding); the team key MAC vouches for the team key. Throws KeysRefused otherwise.
 */
export async function unlock(envelopes, guardian, { bind = true } = {}) {
  const ref = envelopes.case;
  const grant = envelopes.grant;
  let casePrivate;
  try {
    casePrivate = c.unseal(guardian.publicKey, guardian.privateKey, fromB64(grant.sealed_case_key));
  } catch {
    throw new KeysRefused("the case key does not open with this guardian's key");
  }
  const casePublic = c.publicKeyOf(casePrivate);
  if (!same(casePublic, fromB64(envelopes.public_key))) throw new KeysRefused("the case public key differs");
  if (typeof grant.case_key_binding === "string") {
    try {
      c.checkCaseKeyBinding(guardian.privateKey, ref, casePublic, fromB64(grant.case_key_binding));
    } catch {
      throw new KeysRefused("the case key is not the one bound to this guardian");
    }
  } else {
    if (!bind) throw new KeysRefused("the case key is not bound yet");
    const binding = c.caseKeyBinding(guardian.privateKey, ref, casePublic);
    const answer = await request("POST", `${caseBase(ref)}/binding`,
      { case_public_key: c.toBase64(casePublic), case_key_binding: c.toBase64(binding) });
    if (!answer.ok) throw new KeysRefused("the server did not take the binding");
  }
  let team = null;
  if (typeof grant.sealed_team_key === "string") {
    let teamPrivate;
    try {
      teamPrivate = c.unseal(guardian.publicKey, guardian.privateKey, fromB64(grant.sealed_team_key));
    } catch {
      throw new KeysRefused("the team key does not open with this guardian's key");
    }
    const teamPublic = c.publicKeyOf(teamPrivate);
    if (typeof envelopes.team_key_mac === "string") {
      try {
        c.checkTeamKeyMac(casePrivate, teamPublic, fromB64(envelopes.team_key_mac));
      } catch {
        throw new KeysRefused("the team key is not the one the case key vouches for");
      }
    }
    team = { publicKey: teamPublic, privateKey: teamPrivate };
  }
  return { case: { publicKey: casePublic, privateKey: casePrivate }, team };
}

function openItem(keys, ref, item) {
  const pair = TEAM_KINDS.has(item.kind) ? keys.team : keys.case;
  if (!pair) throw new c.DecryptionFailed("no key for this kind");
  return c.decryptItem(pair.publicKey, pair.privateKey, fromB64(item.ciphertext),
    { case: ref, kind: item.kind, author: item.author ?? "" });
}

/**
 * Replace a team key the reporter's client made (docs/crypto.md 7.1, 7.4): a new team key pair,
 * its private key sealed to every grant holding a team key, each to the key the signed directory
 * lists for its holder (the directory checked with the organisation key: the desk's pin, else the server's; none
 * listed: null), every team-key item re-encrypted (same case, kind, author; one that does not open
 * is sent as it was), the new key's MAC under the case key. Returns whether the server took it.
 */
export async function replaceTeamKey(envelopes, keys, { now = new Date() } = {}) {
  const published = envelopes.directory;
  if (!published || !keys.team) return false;
  const document = c.openDirectory(published, await organisationKey(published), { now });
  const ref = envelopes.case;
  const fresh = c.newKeyPair();
  const escrow = document.escrow ? fromB64(document.escrow.public_key) : null;
  const grants = envelopes.team_key_grants.map((grant) => {
    let key = null;
    if (grant.holder === "escrow") key = escrow;
    else if (grant.account_id !== null && document.guardians && document.guardians[String(grant.account_id)]) {
      key = fromB64(document.guardians[String(grant.account_id)].public_key);
    }
    return { id: grant.id, sealed_team_key: key ? c.toBase64(c.seal(key, fresh.privateKey)) : null };
  });
  const items = envelopes.items.filter((item) => TEAM_KINDS.has(item.kind) && !item.erased_on).map((item) => {
    let plaintext;
    try {
      plaintext = openItem(keys, ref, item);
    } catch {
      return { id: item.id, ciphertext: item.ciphertext }; // unverifiable before, and stays so
    }
    return { id: item.id, ciphertext: c.toBase64(c.encryptItem(fresh.publicKey, plaintext,
      { case: ref, kind: item.kind, author: item.author ?? "" })) };
  });
  const answer = await request("POST", `${caseBase(ref)}/team-key`, {
    directory_version: document.version,
    team_public_key: c.toBase64(fresh.publicKey),
    team_key_mac: c.toBase64(c.teamKeyMac(keys.case.privateKey, fresh.publicKey)),
    grants,
    items,
  });
  return answer.ok || answer.status === 409; // 409: replaced meanwhile (by another device), or not this way
}

// --- reading, as whistle.cases.services.read_case and attachments.list_attachments do -----------

const strict = new TextDecoder("utf-8", { fatal: true });

function parseItem(kind, plaintext) {
  if (TEXT_KINDS.has(kind)) return strict.decode(plaintext);
  const value = JSON.parse(strict.decode(plaintext));
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new TypeError("not an object");
  return value;
}

/** The case as the page shows it: {text, answers, identity, messages, notes, records, files, lost}. */
export function readCase(envelopes, keys) {
  const ref = envelopes.case;
  const view = { text: "", answers: {}, identity: null, messages: [], notes: [], records: [], files: [], comments: [],
    lost: new Set() };
  const metas = new Map();
  for (const item of envelopes.items) {
    if (TEAM_KINDS.has(item.kind) && !keys.team) continue;
    if (item.erased_on) { // erased by a guardian: only when and why are left (the server words it)
      const marker = { id: item.id, kind: item.kind, at: item.at, erased: true, words: item.erased_words };
      if (item.kind === "message") view.messages.push(marker);
      else if (item.kind === "note") view.notes.push(marker);
      continue; // an erased file: the page lists it already (its row is metadata only)
    }
    let value;
    try {
      value = parseItem(item.kind, openItem(keys, ref, item));
    } catch {
      if (META_KINDS.has(item.kind)) continue; // the file is listed as one that could not be verified
      view.lost.add(item.kind);
      const marker = { id: item.id, kind: item.kind, at: item.at, unverified: true };
      if (item.kind === "message") view.messages.push(marker);
      else if (item.kind === "note") view.notes.push(marker);
      else if (item.kind === "outcome" || item.kind === "reason") view.records.push(marker);
      continue;
    }
    const sealed = item.author !== null && item.author !== undefined;
    if (META_KINDS.has(item.kind)) metas.set(item.id, { item, meta: value });
    else if (item.kind === "disclosure") view.text = value;
    else if (item.kind === "answers") view.answers = value;
    else if (item.kind === "identity") view.identity = value;
    else if (item.kind === "message" || item.kind === "note") {
      const entry = { id: item.id, from: item.from, accountId: item.account_id, text: value, at: item.at, authorSealed: sealed };
      (item.kind === "message" ? view.messages : view.notes).push(entry);
    } else if (item.kind === "outcome" || item.kind === "reason") {
      view.records.push({ ...value, id: item.id, kind: item.kind, at: item.at, authorSealed: sealed });
    } else if (item.kind === "speak-up-comment") view.comments.push({ id: item.id, text: value, at: item.at });
  }
  for (const file of envelopes.attachments) {
    const found = metas.get(file.meta_item_id);
    const meta = found && found.meta;
    const good = found && found.item.from === file.from && found.item.account_id === file.account_id
      && typeof meta.name === "string" && typeof meta.type === "string" && Number.isSafeInteger(meta.size) && meta.size >= 0;
    // Hidden information removed by the server (the row's outcome, in its words) or, for a file
    // encrypted on the reporter's device, by their browser (its encrypted details say so).
    const removal = file.metadata_removal_words
      || (good && Object.hasOwn(REMOVAL_WORDS, meta.metadata_removal) ? REMOVAL_WORDS[meta.metadata_removal] : null);
    view.files.push(good ? { ...file, name: meta.name, size: meta.size, type: meta.type, verified: true, removal }
      : { ...file, verified: false });
  }
  return view;
}

// --- the page ------------------------------------------------------------------------------

function nameOf(envelopes, accountId) {
  return (envelopes.names || {})[String(accountId)] || t("a guardian");
}

/** `sentence`: what could not be verified, as a whole sentence ("The answers could not be verified."). */
export function unverified(sentence) {
  return element("p", { class: "unverified" }, `${sentence} ${CHANGED}`);
}

export function disclosureNodes(view) {
  if (view.lost.has("disclosure")) return [unverified(t("The disclosure could not be verified."))];
  return [element("div", { class: "disclosure", dir: "auto" }, view.text)];
}

export function answersNodes(view, envelopes) {
  const nodes = [];
  if (view.lost.has("answers")) nodes.push(unverified(t("The answers could not be verified.")));
  const list = element("dl", { class: "answers" });
  for (const spec of envelopes.questions || []) {
    if (!Object.prototype.hasOwnProperty.call(view.answers, spec.name)) continue;
    const answer = view.answers[spec.name];
    list.append(element("dt", {}, String(spec.label)),
      element("dd", { dir: "auto" }, Array.isArray(answer) ? answer.join(", ") : String(answer)));
  }
  nodes.push(list);
  return nodes;
}

export function identityNodes(view, words) {
  if (view.identity) {
    const list = element("dl", { class: "identity" }, element("dt", {}, t("Shared as")),
      element("dd", {}, label(words.identity_modes, view.identity.mode)));
    for (const [key, name] of [["name", t("Name")], ["contact", t("Contact")], ["personnel_id", t("Staff number")]]) {
      if (view.identity[key]) list.append(element("dt", {}, name), element("dd", { dir: "auto" }, String(view.identity[key])));
    }
    return [list];
  }
  if (view.lost.has("identity")) return [unverified(t("The reporter's details could not be verified."))];
  return [element("p", {}, t("The reporter chose to stay anonymous."))];
}

function messageNodes(view, envelopes) {
  if (!view.messages.length) return [element("p", {}, t("No messages yet."))];
  return view.messages.map((m) => {
    if (m.erased) {
      return element("article", { class: "message erased" },
        element("h3", {}, t("A message, ${day}", { day: dayWords(m.at) })), element("p", {}, String(m.words)));
    }
    if (m.unverified) {
      return element("article", { class: "message unverified" },
        element("h3", {}, t("A message that could not be verified, ${day}", { day: dayWords(m.at) })), element("p", {}, CHANGED));
    }
    const reporter = m.from === "reporter";
    const heading = element("h3", {}, reporter ? t("The reporter, ${day}", { day: dayWords(m.at) })
      : t("${name}, ${day}", { name: nameOf(envelopes, m.accountId), day: dayWords(m.at) }));
    if (!m.authorSealed) {
      heading.append(" ", element("span", { class: "hint" },
        t("(sender not verifiable: written before whistle sealed who wrote each message)")));
    }
    return element("article", { class: `message from-${reporter ? "reporter" : "guardian"}` }, heading,
      element("p", { dir: "auto" }, m.text));
  });
}

function noteNodes(view, envelopes, words) {
  const nodes = [];
  if (!view.notes.length) nodes.push(element("p", {}, t("No notes yet.")));
  for (const n of view.notes) {
    if (n.erased) {
      nodes.push(element("article", { class: "note erased" },
        element("h3", {}, t("A note, ${day}", { day: dayWords(n.at) })), element("p", {}, String(n.words))));
      continue;
    }
    if (n.unverified) {
      nodes.push(element("article", { class: "note unverified" },
        element("h3", {}, t("A note that could not be verified, ${day}", { day: dayWords(n.at) })), element("p", {}, CHANGED)));
      continue;
    }
    const heading = element("h3", {}, t("${name}, ${day}", { name: nameOf(envelopes, n.accountId), day: dayWords(n.at) }));
    if (!n.authorSealed) {
      heading.append(" ", element("span", { class: "hint" },
        t("(writer not verifiable: written before whistle sealed who wrote each note)")));
    }
    nodes.push(element("article", { class: "note" }, heading, element("p", { dir: "auto" }, n.text)));
  }
  for (const r of view.records) {
    if (r.unverified) {
      nodes.push(element("article", { class: "note record unverified" },
        element("h3", {}, r.kind === "outcome" ? t("An outcome that could not be verified, ${day}", { day: dayWords(r.at) })
          : t("A reason that could not be verified, ${day}", { day: dayWords(r.at) })),
        element("p", {}, CHANGED)));
    } else if (r.kind === "outcome") {
      const changes = (Array.isArray(r.changes) ? r.changes : []).map((change) => label(words.changes, change)).join(", ");
      const meta = element("dl", { class: "meta" }, element("dt", {}, t("Substantiated")),
        element("dd", {}, label(words.substantiated, r.substantiated)), element("dt", {}, t("What changed")),
        element("dd", {}, changes));
      if (Array.isArray(r.factors) && r.factors.length) {
        meta.append(element("dt", {}, t("Contributory factors")),
          element("dd", {}, r.factors.map((factor) => label(words.factors || {}, factor)).join(", ")));
      }
      const article = element("article", { class: "note record" }, element("h3", {}, t("Outcome, ${day}", { day: dayWords(r.at) })),
        meta, element("p", { dir: "auto" }, r.learned === undefined || r.learned === null ? "" : String(r.learned)));
      if (typeof r.changed === "string" && r.changed) {
        article.append(element("h4", {}, t("What changed, in practice")), element("p", { class: "changed", dir: "auto" }, r.changed));
      }
      nodes.push(article);
    } else {
      nodes.push(element("article", { class: "note record" },
        element("h3", {}, t("${about}, ${day}", { about: recordAbout(r.about, words), day: dayWords(r.at) })),
        element("p", { dir: "auto" }, r.text === undefined || r.text === null ? "" : String(r.text))));
    }
  }
  return nodes;
}

/** The reporter's comments with their answer to "would you speak up again?" (reporters/guardian_speak_up.jinja2). */
function commentNodes(view) {
  const nodes = view.comments.map((comment) => element("article", { class: "message from-reporter speak-up-comment" },
    element("h3", {}, t("The reporter's comment, ${day}", { day: dayWords(comment.at) })), element("p", { dir: "auto" }, comment.text)));
  if (view.lost.has("speak-up-comment")) nodes.push(unverified(t("A comment of the reporter's could not be verified.")));
  return nodes;
}

function whoAdded(file, envelopes) {
  return file.from === "reporter" ? t("from the reporter") : t("by ${name}", { name: nameOf(envelopes, file.account_id) });
}

function fileNodes(files, id, envelopes, words, keys, status) {
  if (!files.length) return [element("p", {}, t("No files yet."))];
  const list = element("ul", { id, class: "files" });
  for (const file of files) {
    if (!file.verified) {
      list.append(element("li", { class: "unverified" }, t("A file that could not be verified (${who}, ${day}): its name "
        + "and size were changed after it was added, or credited to someone else, so it is not offered for download. "
        + "The timeline records it.", { who: whoAdded(file, envelopes), day: dayWords(file.created_on) })));
      continue;
    }
    const href = `${caseBase(envelopes.case)}/attachments/${encodeURIComponent(file.id)}`;
    const name = words.has_download ? element("a", { href, "data-file": file.id, dir: "ltr" }, file.name) : element("bdi", { dir: "ltr" }, file.name);
    if (words.has_download) name.addEventListener("click", (event) => {
      event.preventDefault();
      download(file, envelopes.case, keys, status);
    });
    const hint = element("span", { class: "hint" }, t("(${size}, ${who}, ${day})",
      { size: sizeWords(file.size), who: whoAdded(file, envelopes), day: dayWords(file.created_on) }));
    // Whether the reporter's file had its hidden information removed, in the server's words.
    const removal = file.removal ? [" ", element("span", { class: "hint metadata-removal" }, `${file.removal}.`)] : [];
    list.append(element("li", {}, name, " ", hint, ...removal));
  }
  return [list];
}

/** A file's plaintext, in pieces: its ciphertext fetched and decrypted as it arrives, checked
 *  against the size its details give. Throws DecryptionFailed when it is not the file they describe. */
export async function fileParts(file, ref, keys) {
  const pair = file.internal ? keys.team : keys.case;
  const response = await fetch(file.blob, { credentials: "same-origin", cache: "no-store" });
  if (!response.ok || !pair) throw new c.DecryptionFailed("not served");
  const parts = [];
  let size = 0;
  for await (const part of c.decryptStream(response.body, pair.publicKey, pair.privateKey,
    { case: ref, kind: file.internal ? "internal-attachment" : "attachment", author: file.author })) {
    parts.push(part);
    size += part.length;
  }
  if (size !== file.size) throw new c.DecryptionFailed("the file is not the size its details give");
  return parts;
}

/** Offer what this page made (a decrypted file, an exported archive) as a download under `name`. */
export function save(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = element("a", { href: url, download: name, hidden: true });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

/** Fetch the file's ciphertext, decrypt it as it arrives, and offer it under its own name. */
async function download(file, ref, keys, status) {
  status.textContent = fill(WORDS.downloading, { name: file.name });
  try {
    save(new Blob(await fileParts(file, ref, keys), { type: "application/octet-stream" }), file.name);
    status.textContent = "";
  } catch {
    status.textContent = fill(WORDS.downloadFailed, { name: file.name });
  }
}

function slots() {
  return [...document.querySelectorAll("[data-case-content]")];
}

function sayEverywhere(text, className = "hint") {
  for (const slot of slots()) slot.replaceChildren(element("p", { class: className }, text));
}

function put(name, nodes) {
  const slot = document.querySelector(`[data-case-content="${name}"]`);
  if (slot) slot.replaceWith(...nodes);
}

function render(view, envelopes, words, keys) {
  const status = element("p", { class: "hint", role: "status", "aria-live": "polite" });
  put("disclosure", disclosureNodes(view));
  if (Object.keys(view.answers).length || view.lost.has("answers")) put("answers", answersNodes(view, envelopes));
  else document.querySelector('[data-case-section="answers"]')?.remove();
  put("identity", identityNodes(view, words));
  put("messages", messageNodes(view, envelopes));
  put("notes", noteNodes(view, envelopes, words));
  put("speak-up-comments", commentNodes(view));
  const from = view.files.filter((file) => file.from === "reporter");
  const internal = view.files.filter((file) => file.from !== "reporter" && file.internal);
  const sent = view.files.filter((file) => file.from !== "reporter" && !file.internal);
  put("files-from-reporter", fileNodes(from, "files-from-reporter", envelopes, words, keys, status));
  put("files-to-reporter", fileNodes(sent, "files-to-reporter", envelopes, words, keys, status));
  put("files-internal", fileNodes(internal, "files-internal", envelopes, words, keys, status));
  document.getElementById("files-title")?.after(status);
  document.documentElement.dataset.caseOpened = "true";
}

async function fetchEnvelopes(ref) {
  const answer = await request("GET", `${caseBase(ref)}/envelopes`);
  if (!answer.ok) throw new Error(`envelopes: ${answer.status}`);
  return answer.body;
}

// The case as this page opened it (export.js builds the archive from it): null until it has.
let opened = null;

/** {envelopes, keys, view, words} of the case this page decrypted, or null (not yet, or it could not). */
export function openedCase() {
  return opened;
}

async function openCasePage(script) {
  const words = JSON.parse(document.getElementById("case-words").textContent);
  let envelopes = JSON.parse(script.textContent);
  const guardian = loadKey();
  if (!guardian) {
    sayEverywhere(WORDS.signIn);
    return;
  }
  sayEverywhere(WORDS.opening);
  try {
    let keys = await unlock(envelopes, guardian);
    if (envelopes.team_key_to_replace && keys.team && await replaceTeamKey(envelopes, keys)) {
      // Read what the server now holds, and check it as on any visit: the new team key in the grant.
      envelopes = await fetchEnvelopes(envelopes.case);
      keys = await unlock(envelopes, guardian, { bind: false });
      script.textContent = JSON.stringify(envelopes); // what the page's forms (case-forms.js) encrypt to
    }
    const view = readCase(envelopes, keys);
    render(view, envelopes, words, keys);
    opened = { envelopes, keys, view, words };
  } catch (error) {
    sayEverywhere(error instanceof KeysRefused ? WORDS.refused : WORDS.failed, "unverified");
  }
}

// --- searching inside the cases, on this device -------------------------------------------------

function texts(view) {
  const found = [["disclosure", view.text]];
  for (const [name, value] of Object.entries(view.answers)) {
    found.push(["answers", Array.isArray(value) ? value.join(", ") : `${name} ${value}`]);
  }
  if (view.identity) found.push(["identity", Object.values(view.identity).join(" ")]);
  for (const m of view.messages) if (!m.unverified && !m.erased) found.push(["message", m.text]);
  for (const n of view.notes) if (!n.unverified && !n.erased) found.push(["note", n.text]);
  for (const r of view.records) {
    if (r.unverified) continue;
    if (r.kind === "outcome") {
      found.push([r.kind, String(r.learned ?? "")]);
      if (typeof r.changed === "string" && r.changed) found.push([r.kind, r.changed]);
    } else {
      found.push([r.kind, String(r.text ?? "")]);
    }
  }
  return found;
}

function snippet(text, at, length) {
  const start = Math.max(0, at - 40);
  const end = Math.min(text.length, at + length + 40);
  return `${start > 0 ? "…" : ""}${text.slice(start, end)}${end < text.length ? "…" : ""}`;
}

/** Every place `query` occurs (case-insensitively) in the decrypted case: [{where, snippet}]. */
export function matchesIn(view, query) {
  const wanted = query.toLocaleLowerCase();
  const found = [];
  for (const [where, text] of texts(view)) {
    const at = String(text).toLocaleLowerCase().indexOf(wanted);
    if (at >= 0) found.push({ where, snippet: snippet(String(text), at, wanted.length) });
  }
  return found;
}

async function search(query, results, status) {
  results.replaceChildren();
  const guardian = loadKey();
  if (!guardian) {
    status.textContent = WORDS.signIn;
    return;
  }
  const held = await request("GET", "/staff/held-cases");
  const refs = held.ok ? held.body.cases : [];
  let count = 0;
  let cases = 0;
  const failed = [];
  for (const [index, ref] of refs.entries()) {
    status.textContent = fill(WORDS.searching, { i: index + 1, n: refs.length });
    let found;
    try {
      const envelopes = await fetchEnvelopes(ref);
      found = matchesIn(readCase(envelopes, await unlock(envelopes, guardian)), query);
    } catch {
      failed.push(ref);
      continue;
    }
    if (!found.length) continue;
    cases += 1;
    count += found.length;
    const list = element("ul", {}, ...found.map((match) => element("li", {}, `${WHERE[match.where] || t("in the case")}: `,
      element("q", { dir: "auto" }, match.snippet))));
    results.append(element("li", {}, element("a", { href: caseBase(ref), class: "ref", dir: "ltr" }, ref), list));
  }
  const foundWords = count === 1 ? WORDS.foundOne : cases === 1 ? WORDS.foundInOneCase : WORDS.found;
  let words = count ? fill(foundWords, { n: count, cases }) : WORDS.none;
  if (failed.length) words += ` ${fill(WORDS.searchFailed, { refs: failed.join(", ") })}`;
  status.textContent = words;
}

function setUpSearch(form) {
  const input = form.querySelector("input[type=search]");
  const status = form.parentElement.querySelector("[data-search-status]");
  const results = form.parentElement.querySelector("[data-search-results]");
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const query = input.value.trim();
    if (!query) return;
    search(query, results, status).catch(() => {
      status.textContent = WORDS.failed;
    });
  });
}

if (devicePage()) {
  const script = document.getElementById("case-envelopes");
  if (script) openCasePage(script);
  const form = document.getElementById("device-search");
  if (form) setUpSearch(form);
}
