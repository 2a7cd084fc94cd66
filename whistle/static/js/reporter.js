// The reporter's end-to-end client, without the page: the API calls, building a case on this
// device (docs/crypto.md 7.1), checking a form as the server would, the chunked upload (7.2) and
// reading a mailbox's envelopes. intake.js and mailbox.js put it on the page; node tests drive it
// directly (tests/js/). Everything secret stays in this page's memory: nothing is written to
// localStorage, sessionStorage or cookies.

import * as c from "./crypto.js";
import { t } from "./i18n.js";

// --- the API ---------------------------------------------------------------------------------

/** An answer other than 2xx: `status`, and the RFC 9457 problem (`problem.detail`, `.errors`, `.type`). */
export class ApiError extends Error {
  constructor(status, problem) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.name = "ApiError";
    this.status = status;
    this.problem = problem || {};
  }

  /** Whether the problem's type ends with `name` (".../directory-changed"). */
  is(name) {
    return typeof this.problem.type === "string" && this.problem.type.endsWith(`/${name}`);
  }
}

/** The server could not be reached, or did not answer. */
export class NetworkError extends Error {
  constructor(cause) {
    super("the service could not be reached");
    this.name = "NetworkError";
    this.cause = cause;
  }
}

/** JSON over fetch() to whistle's /api/v1/, with the session token (kept in memory only) as a bearer. */
export class Api {
  // `csrf`: a staff page's own requests (device mode) go with the cookie session and this token in
  // X-CSRF-Token instead of a bearer token.
  constructor({ base = "", fetch = globalThis.fetch.bind(globalThis), token = null, csrf = null } = {}) {
    this.base = base;
    this._fetch = fetch;
    this.token = token;
    this.csrf = csrf;
    // Called after every answer to a request made with the session (which moved its idle end).
    this.onAnswer = null;
  }

  async request(method, path, { json, body, contentType, raw = false } = {}) {
    const headers = { Accept: "application/json, application/problem+json" };
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    if (this.csrf) headers["X-CSRF-Token"] = this.csrf;
    if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    } else if (body !== undefined) {
      headers["Content-Type"] = contentType || "application/octet-stream";
    }
    let response;
    try {
      // No cookies for the API (the bearer token only); a staff page's cookie session with its CSRF token.
      const credentials = this.csrf ? "same-origin" : "omit";
      response = await this._fetch(this.base + path, { method, headers, body, credentials, cache: "no-store" });
    } catch (error) {
      throw new NetworkError(error);
    }
    if (this.onAnswer && (this.token || this.csrf) && response.status !== 401) this.onAnswer();
    if (!response.ok) {
      let problem = null;
      try {
        problem = await response.json();
      } catch {
        problem = null;
      }
      throw new ApiError(response.status, problem);
    }
    if (raw) return response;
    if (response.status === 204) return null;
    return response.json();
  }

  get(path, options) { return this.request("GET", path, options); }

  post(path, json) { return this.request("POST", path, { json }); }
}

// --- the key directory -----------------------------------------------------------------------

/**
 * The channel's published key directory, opened (docs/crypto.md 6.9): {document, publicKey,
 * fingerprint}. The organisation's key is the answer's `public_key`: a page the server sends can
 * only trust the server's own word for it (the server sends this code too); the fingerprint is
 * shown so that someone can compare it with the one the organisation publishes.
 */
export async function fetchDirectory(api, slug, { now = new Date() } = {}) {
  const published = await api.get(`/api/v1/channels/${encodeURIComponent(slug)}/keys`);
  const publicKey = c.fromBase64(published.public_key);
  const document = c.openDirectory(published, publicKey, { now });
  return { document, publicKey, fingerprint: c.fingerprint(publicKey) };
}

/** The directory of any channel that has one: for the mailbox, which needs only the receipt salt and cost. */
export async function fetchAnyDirectory(api, options) {
  const { channels } = await api.get("/api/v1/channels");
  let last = null;
  for (const channel of channels) {
    try {
      return await fetchDirectory(api, channel.slug, options);
    } catch (error) {
      last = error;
    }
  }
  throw last || new ApiError(404, { detail: "no key directory" });
}

function receiptCost(document) {
  const { salt, opslimit, memlimit } = document.receipt;
  return [c.fromBase64(salt), { opslimit, memlimit }];
}

/** What a receipt of version 2 unlocks, with the directory's salt and cost: {lookupValue, publicKey, privateKey}. */
export function receiptKeys(receipt, document) {
  return c.deriveReporterKeysV2(receipt, ...receiptCost(document));
}

// --- checking a form as the server does (whistle/intake/forms.py) ----------------------------

export const MAX_FIELD_CHARS = 2000;
export const MAX_IDENTITY_CHARS = 500;
export const IDENTITY_FIELDS = ["name", "contact", "personnel_id"];

// (the usual words, the plain words), exactly whistle.intake.forms.MESSAGES: tests/unit/crypto/test_js_reporter.py
// compares the two. In the page's language (i18n.js), their ${name} markers filled by `say`.
export const MESSAGES = {
  text_empty: [t("Tell us what happened: this box cannot be empty."),
    t("Please write something in this box before you send it.")],
  text_long: [t("This is longer than ${n} characters; please shorten it or attach a file."),
    t("This is too long. Please make it shorter (up to ${n} letters), or add it as a file.")],
  not_on_form: [t("This question is not part of this form."), t("This question is not on this form.")],
  choose_given: [t("Choose from the options given."), t("Please pick from the answers shown.")],
  choose_one_given: [t("Choose one of the options given."), t("Please pick one of the answers shown.")],
  choose_at_least_one: [t("Choose at least one option."), t("Please pick at least one answer.")],
  expected_text: [t("Expected text."), t("Please type your answer.")],
  needs_answer: [t("This question needs an answer."), t("Please answer this question.")],
  answer_long: [t("Please keep this under ${max_field} characters."),
    t("This is too long. Please make it shorter (under ${max_field} letters).")],
  yes_no: [t("Answer yes or no."), t("Please pick yes or no.")],
  date: [t("Give a date as YYYY-MM-DD, for example 2026-03-31."),
    t("Please give the date like this: 2026-03-31 (year, month, day).")],
  identity_mode: [t("Choose one of the ways offered to tell us (or not) who you are."),
    t("Please choose if you want to tell us who you are.")],
  name_or_anonymous: [t("Give your name, or choose to stay anonymous."),
    t("Please write your name, or choose not to say who you are.")],
  identity_long: [t("Expected text under ${max_identity} characters."),
    t("This is too long. Please make it shorter (under ${max_identity} letters).")],
  identity_unknown: [t("Unknown field."), t("This is not on this form.")],
  no_staff_number: [t("This channel does not ask for a staff number."), t("This form does not ask for a staff number.")],
};

export function say(key, plain, values = {}) {
  const filled = { max_field: MAX_FIELD_CHARS, max_identity: MAX_IDENTITY_CHARS, ...values };
  return MESSAGES[key][plain ? 1 : 0].replace(/\$\{(\w+)\}/g, (_, name) => String(filled[name]));
}

// Python's len() counts code points; JavaScript's length counts UTF-16 units.
const chars = (text) => [...text].length;
// Python's str.strip(): the whitespace str.isspace() names (not JavaScript's \s, which has U+FEFF).
const SPACE = "[\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]";
const EDGES = new RegExp(`^${SPACE}+|${SPACE}+$`, "g");
const strip = (text) => text.replace(EDGES, "");

function isoDate(value) {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!match) return false;
  const [year, month, day] = match.slice(1).map(Number);
  const date = new Date(Date.UTC(year, month - 1, day));
  return year >= 1 && date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

function checkAnswer(spec, value, plain) {
  if (spec.type === "multiple_choice") {
    const values = Array.isArray(value) ? value : (value == null || value === "" ? [] : [value]);
    if (values.some((v) => typeof v !== "string" || !(spec.choices || []).includes(v))) return [null, say("choose_given", plain)];
    if (spec.required && !values.length) return [null, say("choose_at_least_one", plain)];
    return [values, null];
  }
  if (value == null) value = "";
  if (typeof value !== "string") return [null, say("expected_text", plain)];
  value = strip(value);
  if (!value) return spec.required ? [null, say("needs_answer", plain)] : [null, null];
  if (chars(value) > MAX_FIELD_CHARS && spec.type !== "long_text") return [null, say("answer_long", plain)];
  if (spec.type === "single_choice" && !(spec.choices || []).includes(value)) return [null, say("choose_one_given", plain)];
  if (spec.type === "yes_no" && !["yes", "no"].includes(value)) return [null, say("yes_no", plain)];
  if (spec.type === "date" && !isoDate(value)) return [null, say("date", plain)];
  return [value, null];
}

/**
 * Check a report as whistle.intake.forms.validate_disclosure does, since the server cannot read
 * what is encrypted: {report, errors} with errors by field name ("text", "answers.NAME",
 * "identity_mode", "identity.NAME"); `report` is null when there are any.
 * `channel`: {fields (questionnaire, with "routing"), identityModes, identityFields, plain, maxTextChars}.
 */
export function checkReport(channel, { text, answers = {}, identityMode, identity = {} }) {
  const { plain = false, maxTextChars } = channel;
  const errors = {};
  if (typeof text !== "string" || !strip(text)) errors.text = say("text_empty", plain);
  else if (chars(text) > maxTextChars) errors.text = say("text_long", plain, { n: maxTextChars });
  const known = new Set(channel.fields.map((spec) => spec.name));
  for (const name of Object.keys(answers)) {
    if (!known.has(name)) errors[`answers.${name}`] = say("not_on_form", plain);
  }
  const clean = {};
  for (const spec of channel.fields) {
    const [value, error] = checkAnswer(spec, answers[spec.name], plain);
    if (error) errors[`answers.${spec.name}`] = error;
    else if (value !== null && !(Array.isArray(value) && !value.length)) clean[spec.name] = value;
  }
  const mode = identityMode || "anonymous";
  let cleanIdentity = null;
  if (!channel.identityModes.includes(mode)) {
    errors.identity_mode = say("identity_mode", plain);
  } else if (mode !== "anonymous") {
    cleanIdentity = {};
    const fields = channel.identityFields || IDENTITY_FIELDS;
    for (const name of fields) {
      const value = identity[name];
      if (value == null || value === "") continue;
      if (typeof value !== "string" || chars(value) > MAX_IDENTITY_CHARS) errors[`identity.${name}`] = say("identity_long", plain);
      else cleanIdentity[name] = strip(value);
    }
    for (const [name, value] of Object.entries(identity)) {
      if (name === "personnel_id" && !fields.includes(name)) {
        if (value != null && value !== "") errors[`identity.${name}`] = say("no_staff_number", plain);
      } else if (!fields.includes(name)) {
        errors[`identity.${name}`] = say("identity_unknown", plain);
      }
    }
    if (!cleanIdentity.name && !errors["identity.name"]) errors["identity.name"] = say("name_or_anonymous", plain);
  }
  if (Object.keys(errors).length) return { report: null, errors };
  const routing = new Set(channel.fields.filter((spec) => spec.routing).map((spec) => spec.name));
  const routingAnswers = Object.fromEntries(Object.entries(clean).filter(([name]) => routing.has(name)));
  const privateAnswers = Object.fromEntries(Object.entries(clean).filter(([name]) => !routing.has(name)));
  return {
    report: { text: strip(text), answers: privateAnswers, routingAnswers, identityMode: mode, identity: cleanIdentity },
    errors: {},
  };
}

// --- a case built on this device (docs/crypto.md 7.1) ----------------------------------------

const RFC4648 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/** A case reference in the server's format: ten base32 characters (50 random bits), "K7QMA-XHD4P". */
export function newCaseRef() {
  const bytes = c.randomBytes(7); // 56 bits, of which the first 50 are used
  let bits = 0n;
  for (const byte of bytes) bits = (bits << 8n) | BigInt(byte);
  let out = "";
  for (let i = 0; i < 10; i += 1) out += RFC4648[Number((bits >> BigInt(51 - 5 * i)) & 31n)];
  return `${out.slice(0, 5)}-${out.slice(5)}`;
}

/** Nobody is left to read the report: the directory lists nobody for the channel, or every one was left out. */
export class NobodyToReceive extends Error {}

const b64 = (bytes) => c.toBase64(bytes);

/**
 * Everything POST /api/v1/disclosures takes for a case made here, and what only this device
 * keeps: {body, receipt, ref, reporter, caseKeys}. `document`: the opened directory; `report`:
 * checkReport's; `leftOut`: account ids. The receipt and every private key stay in the result,
 * never in the body.
 */
export function buildCase(document, slug, report, { leftOut = [], receipt = c.newReceiptV2(), ref = newCaseRef() } = {}) {
  const reporter = receiptKeys(receipt, document);
  const caseKeys = c.newKeyPair();
  const teamKeys = c.newKeyPair();
  const chosen = c.recipients(document, slug, leftOut);
  if (!chosen.holders.length) throw new NobodyToReceive("nobody is left to read the report");
  const sealFor = (publicKey, withTeam) => ({
    sealed_case_key: b64(c.seal(publicKey, caseKeys.privateKey)),
    ...(withTeam ? { sealed_team_key: b64(c.seal(publicKey, teamKeys.privateKey)) } : {}),
  });
  const grants = [{ holder: "reporter", ...sealFor(reporter.publicKey, false) }];
  for (const [holder, ids] of [["guardian", chosen.holders], ["standby", chosen.standby]]) {
    for (const id of ids) {
      grants.push({ holder, account_id: id, ...sealFor(c.fromBase64(document.guardians[String(id)].public_key), true) });
    }
  }
  if (chosen.escrowKey) grants.push({ holder: "escrow", ...sealFor(chosen.escrowKey, true) });
  const item = (kind, plaintext, publicKey = caseKeys.publicKey) => ({
    kind, ciphertext: b64(c.encryptItem(publicKey, plaintext, { case: ref, kind, author: "reporter" })),
  });
  const items = [item("disclosure", report.text)];
  if (Object.keys(report.answers).length) items.push(item("answers", JSON.stringify(report.answers)));
  if (report.identityMode !== "anonymous" && report.identity) {
    items.push(item("identity", JSON.stringify({ ...report.identity, mode: report.identityMode }), teamKeys.publicKey));
  }
  const body = {
    format: "e2e/1",
    channel: slug,
    case: ref,
    directory_version: document.version,
    case_public_key: b64(caseKeys.publicKey),
    team_public_key: b64(teamKeys.publicKey),
    team_key_mac: b64(c.teamKeyMac(caseKeys.privateKey, teamKeys.publicKey)),
    reporter: {
      lookup_value: b64(reporter.lookupValue),
      public_key: b64(reporter.publicKey),
      case_key_binding: b64(c.caseKeyBinding(reporter.privateKey, ref, caseKeys.publicKey)),
    },
    grants,
    items,
    identity_mode: report.identityMode,
    routing_answers: report.routingAnswers,
    left_out: [...leftOut],
  };
  return { body, receipt, ref, reporter, caseKeys: { publicKey: caseKeys.publicKey, privateKey: caseKeys.privateKey } };
}

/**
 * Build and send a case: POST /api/v1/disclosures. A directory that changed meanwhile (409
 * directory-changed) is fetched again and the case rebuilt, once; a case reference or receipt
 * that is taken (the other 409s) gets a new one, once. Returns {built, answer} where answer is
 * {case, token, expires_in}; anything else throws (ApiError, NetworkError, a crypto error).
 * `proof`: a proof of work ({challenge, solution}) to send with it, or null.
 */
export async function sendCase(api, directory, slug, report, { leftOut = [], refetch, proof = null } = {}) {
  let current = directory;
  for (let attempt = 0; ; attempt += 1) {
    const built = buildCase(current.document, slug, report, { leftOut });
    try {
      // A proof of work (WorkProof) travels beside the case, never inside what is encrypted.
      const answer = await api.post("/api/v1/disclosures", proof ? { ...built.body, proof } : built.body);
      return { built, answer, directory: current };
    } catch (error) {
      if (attempt > 0 || !(error instanceof ApiError) || error.status !== 409) throw error;
      if (error.is("directory-changed")) current = await (refetch ? refetch() : fetchDirectory(api, slug));
    }
  }
}

// --- files in chunks (docs/crypto.md 7.2) ----------------------------------------------------

const sleep = (ms) => new Promise((resolve) => { setTimeout(resolve, ms); });

// The most chunks one PUT carries (the server's limit too: about 1 MiB).
export const RUN_CHUNKS = 16;

async function putRun(api, id, index, run, { retries, pause, path }) {
  // Read back from the kept Blob for this request only: a byte array, which every fetch sends as it is
  // (and which tools that record requests, such as the browser tests', can see).
  const body = run instanceof Blob ? new Uint8Array(await run.arrayBuffer()) : run;
  for (let attempt = 0; ; attempt += 1) {
    try {
      await api.request("PUT", `${path}/${encodeURIComponent(id)}/${index}`, { body });
      return;
    } catch (error) {
      // A refusal (4xx) will not change by sending again; a lost connection or a 5xx may.
      const transient = error instanceof NetworkError || (error instanceof ApiError && error.status >= 500);
      if (!transient || attempt >= retries) throw error;
      await sleep(pause * 2 ** attempt);
    }
  }
}

function missingChunks(error) {
  if (!(error instanceof ApiError) || error.status !== 409 || !Array.isArray(error.problem.missing)) return null;
  return error.problem.missing;
}

/**
 * Encrypt `file` (a Blob with a name and type) to the case's public key and upload it in runs of up
 * to `runChunks` consecutive chunks per request: 64 KiB of the file read at a time (Blob.slice), up
 * to `window` runs on their way at once (the server takes them in any order), a failed run sent
 * again up to `retries` times; then its name, size and type as an attachment-meta item. Each run is
 * kept as a Blob (which the browser may hold on disk) until the upload is finished, and read back
 * into a byte array only while it is being sent, because the
 * server checks the file against every chunk's digest at the end and names any chunk it lost:
 * those runs are sent again and the upload finished again.
 * `onProgress(sentBytes, totalBytes)` as runs arrive. Returns {id, bytes}.
 * `as`: who uploads where: the reporter by default; a guardian's device passes
 * {path: "/staff/cases/<ref>/uploads", author: "guardian:<id>", internal} (an internal file is
 * encrypted to the team public key given as `casePublicKey`, with its kinds).
 */
export async function uploadFile(api, file, casePublicKey, ref,
  { onProgress = () => {}, retries = 4, pause = 500, window = 4, runChunks = RUN_CHUNKS, as = {}, metadataRemoval = null } = {}) {
  const { path = "/api/v1/reporter/uploads", author = "reporter", internal = null } = as;
  const chunks = c.streamChunkCount(file.size);
  const bytes = c.streamCiphertextSize(file.size);
  const upload = await api.post(path, internal === null ? { chunks, bytes } : { chunks, size: bytes, internal });
  const runs = [];
  const pending = new Set();
  let sent = 0;
  onProgress(0, bytes);
  const send = (run) => {
    const put = putRun(api, upload.id, run.first, run.body, { retries, pause, path }).then(() => {
      pending.delete(put);
      sent += run.body.size;
      onProgress(sent, bytes);
    });
    put.catch(() => {}); // a failure is seen by the race or the final wait, not as an unhandled rejection
    pending.add(put);
  };
  let parts = [];
  let next = 0;
  const flush = async () => {
    const run = { first: next - parts.length, count: parts.length, body: new Blob(parts) };
    parts = [];
    runs.push(run);
    send(run);
    if (pending.size >= window) await Promise.race(pending);
  };
  const streamKind = internal ? "internal-attachment" : "attachment";
  for await (const chunk of c.encryptBlob(file, casePublicKey, { case: ref, kind: streamKind, author })) {
    parts.push(chunk);
    next += 1;
    if (parts.length >= runChunks) await flush();
  }
  if (parts.length) await flush();
  await Promise.all(pending);
  const meta = { name: file.name || "attachment", size: file.size, type: file.type || "application/octet-stream" };
  // What came of removing its hidden information on the device (hidden-info.js), when the reporter asked.
  if (metadataRemoval !== null) meta.metadata_removal = metadataRemoval;
  const metaKind = internal ? "internal-file" : "attachment-meta";
  const item = c.encryptItem(casePublicKey, JSON.stringify(meta), { case: ref, kind: metaKind, author });
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await api.post(`${path}/${encodeURIComponent(upload.id)}/done`, { meta: b64(item) });
    } catch (error) {
      const missing = missingChunks(error);
      const again = missing && runs.filter((run) => missing.some((index) => index >= run.first && index < run.first + run.count));
      if (!again || !again.length || attempt >= retries) throw error;
      for (const run of again) await putRun(api, upload.id, run.first, run.body, { retries, pause, path });
    }
  }
}

// --- the mailbox, end to end -----------------------------------------------------------------

/** The case's keys do not check against what this receipt's key vouches for: nothing is shown or sent. */
export class CaseKeysRefused extends Error {}

/** The sender a stored author string names: "reporter", "system" or "guardian". */
export function senderOf(author) {
  if (author === "reporter" || author === "system") return author;
  return "guardian";
}

function parseJsonItem(bytes) {
  const value = JSON.parse(c.fromUtf8(bytes));
  if (value === null || typeof value !== "object" || Array.isArray(value)) throw new c.DecryptionFailed("not an object");
  return value;
}

/**
 * The case private key from the reporter's grant, checked before anything is read or written:
 * it opens with the receipt's key, its public key is the case's, and the reporter's case key
 * binding (docs/crypto.md 6.12) vouches for it. Throws CaseKeysRefused otherwise.
 */
export function unlockCase(envelopes, reporter) {
  let privateKey;
  try {
    privateKey = c.unseal(reporter.publicKey, reporter.privateKey, c.fromBase64(envelopes.sealed_case_key));
  } catch {
    throw new CaseKeysRefused("the case key does not open with this receipt");
  }
  const publicKey = c.publicKeyOf(privateKey);
  const stored = c.fromBase64(envelopes.case_public_key);
  if (c.toHex(publicKey) !== c.toHex(stored)) throw new CaseKeysRefused("the case public key is not the one the case key gives");
  if (typeof envelopes.case_key_binding !== "string") throw new CaseKeysRefused("the case key has no binding to this receipt");
  try {
    c.checkCaseKeyBinding(reporter.privateKey, envelopes.case, publicKey, c.fromBase64(envelopes.case_key_binding));
  } catch {
    throw new CaseKeysRefused("the case key is not the one bound to this receipt");
  }
  return { publicKey, privateKey };
}

/**
 * The team public key, if the case's team key MAC vouches for it under the case key (6.11), to
 * seal an identity to; null if the case has no MAC yet. Throws CaseKeysRefused on a mismatch.
 */
export function checkedTeamKey(envelopes, caseKeys) {
  if (typeof envelopes.team_key_mac !== "string" || typeof envelopes.team_public_key !== "string") return null;
  const teamPublicKey = c.fromBase64(envelopes.team_public_key);
  try {
    c.checkTeamKeyMac(caseKeys.privateKey, teamPublicKey, c.fromBase64(envelopes.team_key_mac));
  } catch {
    throw new CaseKeysRefused("the team key is not the one the case key vouches for");
  }
  return teamPublicKey;
}

/**
 * What GET /api/v1/reporter/envelopes holds, decrypted with the checked case key: {ref, status,
 * statusText, opened, text, answers, messages, attachments, lost, identityGiven, news}. An item
 * that does not decrypt (changed, or credited to someone else) is kept as {unverified: true},
 * as the server's own mailbox shows it.
 */
export function readEnvelopes(envelopes, caseKeys) {
  const ref = envelopes.case;
  const open = (item) => c.decryptItem(caseKeys.publicKey, caseKeys.privateKey, c.fromBase64(item.ciphertext),
    { case: ref, kind: item.kind, author: item.author ?? "" });
  const view = {
    ref,
    status: envelopes.status,
    statusText: envelopes.status_text,
    opened: envelopes.opened,
    text: "",
    answers: {},
    messages: [],
    attachments: [],
    lost: [],
    identityGiven: Boolean(envelopes.identity_given),
    news: envelopes.news || null,
  };
  const metas = new Map();
  for (const item of envelopes.items) {
    if (item.erased_on) { // erased by a guardian: when and why, in the server's words
      if (item.kind === "message") view.messages.push({ id: item.id, erased: true, at: item.at, words: item.erased_words });
      else if (item.kind === "attachment-meta") view.attachments.push({ id: item.id, erased: true, words: item.erased_words });
      continue;
    }
    let plaintext;
    try {
      plaintext = open(item);
      if (item.kind === "disclosure") view.text = c.fromUtf8(plaintext);
      else if (item.kind === "answers") view.answers = parseJsonItem(plaintext);
      else if (item.kind === "message") {
        view.messages.push({ id: item.id, from: senderOf(item.author), text: c.fromUtf8(plaintext), at: item.at,
          authorSealed: item.version === 2 });
      } else if (item.kind === "attachment-meta") metas.set(item.id, { item, meta: parseJsonItem(plaintext) });
    } catch {
      if (item.kind === "message") view.messages.push({ id: item.id, unverified: true, at: item.at });
      else if (item.kind !== "attachment-meta") view.lost.push(item.kind);
    }
  }
  for (const file of envelopes.attachments || []) {
    const found = metas.get(file.meta_item);
    const meta = found && found.meta;
    const good = found && found.item.author === file.author && typeof meta.name === "string"
      && typeof meta.type === "string" && Number.isSafeInteger(meta.size) && meta.size >= 0;
    view.attachments.push(good
      ? { id: file.id, name: meta.name, size: meta.size, type: meta.type, author: file.author, from: senderOf(file.author),
        verified: true }
      : { id: file.id, author: file.author, verified: false });
  }
  return view;
}

/**
 * Download attachment `file` (from readEnvelopes) and decrypt it as it arrives; the Blob is
 * returned only once the final chunk has been read and the size matches the one its details give.
 */
export async function downloadFile(api, file, caseKeys, ref) {
  const response = await api.request("GET", `/api/v1/reporter/attachments/${file.id}/blob`, { raw: true });
  const parts = [];
  let size = 0;
  for await (const part of c.decryptStream(response.body, caseKeys.publicKey, caseKeys.privateKey,
    { case: ref, kind: "attachment", author: file.author })) {
    parts.push(part);
    size += part.length;
  }
  if (size !== file.size) throw new c.DecryptionFailed("the file is not the size its details give");
  return new Blob(parts, { type: file.type || "application/octet-stream" });
}

/** A message item (kind message, author reporter) to the checked case key, base64, for POST /api/v1/reporter/messages. */
export function messageItem(caseKeys, ref, text) {
  return b64(c.encryptItem(caseKeys.publicKey, text, { case: ref, kind: "message", author: "reporter" }));
}

/** The comment with the answer to "would you speak up again?": a speak-up-comment item to the case key, for POST /api/v1/reporter/speak-up. */
export function speakUpItem(caseKeys, ref, text) {
  return b64(c.encryptItem(caseKeys.publicKey, text, { case: ref, kind: "speak-up-comment", author: "reporter" }));
}

/** An identity item to the MAC-checked team key, for POST /api/v1/reporter/identity. */
export function identityItem(teamPublicKey, ref, mode, identity) {
  return b64(c.encryptItem(teamPublicKey, JSON.stringify({ ...identity, mode }), { case: ref, kind: "identity", author: "reporter" }));
}

// --- proof of work (docs/crypto.md 6.15) --------------------------------------------------------

const WORK_TRIES_PER_STEP = 2048;

/**
 * A proof of work for the next report, searched for a little at a time while the reporter writes:
 * GET /api/v1/disclosures/challenge, then c.WorkSearch in short steps between which the page stays
 * responsive. Nothing depends on it: without one (proof of work off, the request failed, not
 * found in time) a report is sent without a proof.
 */
export class WorkProof {
  constructor(api, { now = () => Date.now(), later = (run) => setTimeout(run, 0) } = {}) {
    this.api = api;
    this.now = now;
    this.later = later;
    this.search = null;
    this.expires = 0;
    this.waiting = [];
    this.generation = 0;
  }

  /** Fetch a challenge and start searching; any earlier search is dropped. */
  async start() {
    this.generation += 1;
    const generation = this.generation;
    this.search = null;
    let answer;
    try {
      answer = await this.api.get("/api/v1/disclosures/challenge");
    } catch {
      return; // off, or unreachable: reports go without a proof
    }
    if (generation !== this.generation || typeof answer.challenge !== "string") return;
    // A minute's margin, so that a proof does not expire on its way to the server.
    this.expires = this.now() + Math.max(0, answer.expires_in - 60) * 1000;
    this.search = new c.WorkSearch(answer.challenge, answer.bits);
    const run = () => {
      if (generation !== this.generation) return;
      if (this.search.step(WORK_TRIES_PER_STEP) === null) {
        this.later(run);
        return;
      }
      for (const resolve of this.waiting.splice(0)) resolve();
    };
    run();
  }

  /** The proof found so far, still valid: {challenge, solution}, or null. */
  current() {
    if (!this.search || this.search.solution === null || this.now() > this.expires) return null;
    return { challenge: this.search.challenge, solution: this.search.solution };
  }

  /**
   * A valid proof, waiting at most `ms` for the search (and fetching a new challenge first if
   * this one has expired); null if there is none by then.
   */
  async proof(ms = 5000) {
    if (this.search && this.now() > this.expires) await this.start();
    if (this.current() || !this.search) return this.current();
    await new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiting.push(() => { clearTimeout(timer); resolve(); });
    });
    return this.current();
  }
}
