// The reporter's end-to-end client without a page (whistle/static/js/reporter.js): recipients,
// the form check, building a case, the chunked upload and reading envelopes, with real crypto.
// The transport in the upload and retry tests is a stand-in for fetch() that records what a
// server would have received: a real server is what tests/browser/test_e2e_reporter.py drives.
// Run with `node --test tests/js/` (tests/unit/crypto/test_js_crypto.py does, in the suite).
import assert from "node:assert/strict";
import { test } from "node:test";

import * as c from "../../whistle/static/js/crypto.js";
import * as r from "../../whistle/static/js/reporter.js";

const COST = { opslimit: 1, memlimit: 8192 };
const b64 = (bytes) => c.toBase64(bytes);

function team() {
  const people = { 17: c.newKeyPair(), 19: c.newKeyPair(), 23: c.newKeyPair() };
  const escrow = c.newKeyPair();
  const document = {
    format: "whistle-key-directory/1",
    version: 4,
    receipt: { salt: b64(c.randomBytes(16)), ...COST },
    escrow: { public_key: b64(escrow.publicKey) },
    guardians: Object.fromEntries(Object.entries(people).map(([id, pair]) => [id, { username: `g${id}`, public_key: b64(pair.publicKey) }])),
    channels: { staff: { first_tier: [17, 19], second_tier: [23] }, lone: { first_tier: [], second_tier: [23] } },
  };
  return { people, escrow, document };
}

const CHANNEL = {
  fields: [
    { name: "where", label: "Where?", type: "single_choice", required: true, choices: ["Ward 7", "Kitchen"], routing: true },
    { name: "when", label: "When?", type: "date", required: false },
    { name: "who", label: "Who?", type: "multiple_choice", required: false, choices: ["Me", "A colleague"] },
    { name: "now", label: "Happening now?", type: "yes_no", required: true },
  ],
  identityModes: ["anonymous", "confidential", "open"],
  identityFields: ["name", "contact", "personnel_id"],
  plain: false,
  maxTextChars: 100,
};

test("recipients: the first tier minus those left out, else the second tier; standby; escrow", () => {
  const { document, escrow } = team();
  let chosen = c.recipients(document, "staff");
  assert.deepEqual([chosen.holders, chosen.standby], [[17, 19], [23]]);
  assert.deepEqual(chosen.escrowKey, escrow.publicKey);
  chosen = c.recipients(document, "staff", [17]);
  assert.deepEqual([chosen.holders, chosen.standby], [[19], [23]]);
  chosen = c.recipients(document, "staff", [17, 19]);
  assert.deepEqual([chosen.holders, chosen.standby], [[23], []]);
  chosen = c.recipients(document, "lone", []);
  assert.deepEqual([chosen.holders, chosen.standby], [[23], []]);
  assert.deepEqual(c.recipients(document, "nowhere").holders, []);
  assert.equal(c.recipients({ ...document, escrow: null }, "staff").escrowKey, null);
});

test("case references look like the server's: ten base32 characters", () => {
  const seen = new Set();
  for (let i = 0; i < 200; i += 1) {
    const ref = r.newCaseRef();
    assert.match(ref, /^[A-Z2-7]{5}-[A-Z2-7]{5}$/);
    seen.add(ref);
  }
  assert.equal(seen.size, 200);
});

test("the form is checked as the server checks it, naming each field", () => {
  const { report, errors } = r.checkReport(CHANNEL, {
    text: "  ", answers: { where: "Roof", when: "2026-02-30", who: ["Me", "Nobody"], now: "" },
    identityMode: "confidential", identity: { name: "", personnel_id: "x".repeat(501) },
  });
  assert.equal(report, null);
  assert.deepEqual(errors, {
    text: "Tell us what happened: this box cannot be empty.",
    "answers.where": "Choose one of the options given.",
    "answers.when": "Give a date as YYYY-MM-DD, for example 2026-03-31.",
    "answers.who": "Choose from the options given.",
    "answers.now": "This question needs an answer.",
    "identity.personnel_id": "Expected text under 500 characters.",
    "identity.name": "Give your name, or choose to stay anonymous.",
  });
  const plain = r.checkReport({ ...CHANNEL, plain: true }, { text: "x".repeat(101), answers: { where: "Ward 7", now: "yes", extra: "1" } });
  assert.deepEqual(plain.errors, {
    text: "This is too long. Please make it shorter (up to 100 letters), or add it as a file.",
    "answers.extra": "This question is not on this form.",
  });
  // Characters, not UTF-16 units: 100 emoji are 100 characters, as Python counts them.
  assert.deepEqual(r.checkReport(CHANNEL, { text: "🙂".repeat(100), answers: { where: "Ward 7", now: "no" } }).errors, {});
});

test("a checked report splits the routing answers (sent in the clear) from the rest (encrypted)", () => {
  const { report, errors } = r.checkReport(CHANNEL, {
    text: "  Something is wrong.\n", answers: { where: "Ward 7", when: "", who: ["A colleague"], now: "yes" },
    identityMode: "open", identity: { name: " Sam ", contact: "", personnel_id: "" },
  });
  assert.deepEqual(errors, {});
  assert.deepEqual(report, {
    text: "Something is wrong.", answers: { who: ["A colleague"], now: "yes" }, routingAnswers: { where: "Ward 7" },
    identityMode: "open", identity: { name: "Sam" },
  });
});

test("a case built here: exactly the contract's members, sealed to exactly the recipients, every item readable", () => {
  const { people, escrow, document } = team();
  const report = { text: "Über — the ward 7 rota is falsified 🙂", answers: { now: "yes" }, routingAnswers: { where: "Ward 7" },
    identityMode: "confidential", identity: { name: "Sam" } };
  const built = r.buildCase(document, "staff", report, { leftOut: [19] });
  const { body } = built;
  assert.deepEqual(Object.keys(body).sort(), ["case", "case_public_key", "channel", "directory_version", "format", "grants",
    "identity_mode", "items", "left_out", "reporter", "routing_answers", "team_key_mac", "team_public_key"]);
  assert.equal(body.format, "e2e/1");
  assert.equal(body.directory_version, 4);
  assert.deepEqual(body.left_out, [19]);
  assert.deepEqual(body.routing_answers, { where: "Ward 7" });
  assert.equal(c.receiptVersion(built.receipt), 2);
  assert.deepEqual(body.grants.map((g) => [g.holder, g.account_id]), [["reporter", undefined], ["guardian", 17], ["standby", 23], ["escrow", undefined]]);
  for (const grant of body.grants) {
    assert.equal(c.fromBase64(grant.sealed_case_key).length, 82);
    assert.equal("sealed_team_key" in grant, grant.holder !== "reporter");
  }
  const reporter = r.receiptKeys(built.receipt, document);
  assert.equal(body.reporter.lookup_value, b64(reporter.lookupValue));
  assert.equal(body.reporter.public_key, b64(reporter.publicKey));
  const caseKey = c.unseal(reporter.publicKey, reporter.privateKey, c.fromBase64(body.grants[0].sealed_case_key));
  const caseKeys = { publicKey: c.publicKeyOf(caseKey), privateKey: caseKey };
  assert.equal(body.case_public_key, b64(caseKeys.publicKey));
  c.checkCaseKeyBinding(reporter.privateKey, body.case, caseKeys.publicKey, c.fromBase64(body.reporter.case_key_binding));
  for (const [index, holder] of [[1, people[17]], [2, people[23]], [3, escrow]]) {
    const grant = body.grants[index];
    assert.deepEqual(c.unseal(holder.publicKey, holder.privateKey, c.fromBase64(grant.sealed_case_key)), caseKey);
    const teamKey = c.unseal(holder.publicKey, holder.privateKey, c.fromBase64(grant.sealed_team_key));
    assert.equal(b64(c.publicKeyOf(teamKey)), body.team_public_key);
    c.checkTeamKeyMac(caseKey, c.publicKeyOf(teamKey), c.fromBase64(body.team_key_mac));
  }
  const teamKey = c.unseal(people[17].publicKey, people[17].privateKey, c.fromBase64(body.grants[1].sealed_team_key));
  const open = ({ kind, ciphertext }, keys) => c.fromUtf8(c.decryptItem(keys.publicKey, keys.privateKey, c.fromBase64(ciphertext),
    { case: body.case, kind, author: "reporter" }));
  assert.deepEqual(body.items.map((item) => item.kind), ["disclosure", "answers", "identity"]);
  assert.equal(open(body.items[0], caseKeys), report.text);
  assert.deepEqual(JSON.parse(open(body.items[1], caseKeys)), { now: "yes" });
  assert.deepEqual(JSON.parse(open(body.items[2], { publicKey: c.publicKeyOf(teamKey), privateKey: teamKey })),
    { name: "Sam", mode: "confidential" });
  // Nothing secret in what is sent: not the receipt, not the text, not a private key.
  const sent = JSON.stringify(body);
  for (const secret of [built.receipt, "falsified", "Sam", b64(caseKey), b64(reporter.privateKey)]) assert.ok(!sent.includes(secret), secret);
});

test("nobody left to read it: refused before anything is sent", () => {
  const { document } = team();
  const report = { text: "x", answers: {}, routingAnswers: {}, identityMode: "anonymous", identity: null };
  assert.throws(() => r.buildCase(document, "lone", report, { leftOut: [23] }), r.NobodyToReceive);
});

/** A stand-in for fetch(): answers from `script(method, path, body)`, recording every call. */
function transport(script) {
  const calls = [];
  const fetch = async (url, init) => {
    const body = init.body === undefined ? undefined : init.body;
    calls.push({ method: init.method, path: url, body, headers: init.headers });
    const answer = await script(init.method, url, body, calls.length);
    if (answer instanceof Error) throw answer;
    const [status, json] = answer;
    return new Response(status === 204 ? null : JSON.stringify(json ?? {}), { status, headers: { "Content-Type": "application/json" } });
  };
  return { fetch, calls };
}

test("a changed directory (409) is fetched again and the case rebuilt once; a second refusal is the caller's", async () => {
  const first = team();
  const second = team();
  second.document.version = 5;
  const report = { text: "x", answers: {}, routingAnswers: {}, identityMode: "anonymous", identity: null };
  const changed = [409, { type: "https://whistle.example/api/v1/problems/directory-changed", detail: "changed" }];
  const { fetch, calls } = transport((method, path, body, n) => (n === 1 ? changed : [201, { case: JSON.parse(body).case, token: "t", expires_in: 900 }]));
  const api = new r.Api({ fetch });
  const sent = await r.sendCase(api, { document: first.document }, "staff", report, { refetch: async () => ({ document: second.document }) });
  assert.equal(calls.length, 2);
  assert.equal(JSON.parse(calls[0].body).directory_version, 4);
  assert.equal(JSON.parse(calls[1].body).directory_version, 5);
  assert.equal(sent.answer.token, "t");
  const always = transport(() => changed);
  await assert.rejects(r.sendCase(new r.Api({ fetch: always.fetch }), { document: first.document }, "staff", report,
    { refetch: async () => ({ document: second.document }) }), (error) => error instanceof r.ApiError && error.is("directory-changed"));
  assert.equal(always.calls.length, 2);
});

test("a file is uploaded in runs of its stream's chunks, a failed run sent again, and the runs are the file's stream", async () => {
  const caseKeys = c.newKeyPair();
  const data = Uint8Array.from({ length: 2 * 65536 + 300 }, (_, i) => (i * 31) % 256);
  const file = new File([data], "rota.pdf", { type: "application/pdf" });
  const received = new Map();
  let failedOnce = false;
  let meta = null;
  const { fetch, calls } = transport(async (method, path, body) => {
    if (method === "POST" && path === "/api/v1/reporter/uploads") return [201, { id: "u1", chunks: JSON.parse(body).chunks }];
    const put = /^\/api\/v1\/reporter\/uploads\/u1\/(\d+)$/.exec(path);
    if (method === "PUT" && put) {
      if (put[1] === "2" && !failedOnce) {
        failedOnce = true;
        return new TypeError("connection reset");
      }
      received.set(Number(put[1]), body);
      return [204];
    }
    if (method === "POST" && path === "/api/v1/reporter/uploads/u1/done") {
      meta = JSON.parse(body).meta;
      return [201, { id: 9, bytes: 1 }];
    }
    return [404, { detail: "no" }];
  });
  const progress = [];
  const answer = await r.uploadFile(new r.Api({ fetch, token: "tok" }), file, caseKeys.publicKey, "ABCDE-FGHIJ",
    { onProgress: (done, total) => progress.push([done, total]), pause: 1, runChunks: 2 });
  assert.deepEqual(answer, { id: 9, bytes: 1 });
  assert.deepEqual(JSON.parse(calls[0].body), { chunks: 4, bytes: c.streamCiphertextSize(data.length) });
  assert.equal(calls.filter((call) => call.method === "PUT").length, 3, "the run from chunk 2 twice");
  assert.ok(calls.every((call) => call.headers.Authorization === "Bearer tok"));
  assert.deepEqual([...received.keys()].sort(), [0, 2], "runs of two chunks, from chunk 0 and chunk 2");
  assert.deepEqual([received.get(0).length, received.get(2).length], [106 + 65553, 65553 + 273 + 256]);
  assert.deepEqual(progress.at(-1), [c.streamCiphertextSize(data.length), c.streamCiphertextSize(data.length)]);
  const stream = c.concat(received.get(0), received.get(2));
  const out = [];
  for await (const part of c.decryptStream((async function* () {
    yield stream.subarray(0, 106);
    for (let at = 106; at < stream.length; at += 65553) yield stream.subarray(at, at + 65553);
  })(), caseKeys.publicKey, caseKeys.privateKey, { case: "ABCDE-FGHIJ", kind: "attachment", author: "reporter" })) out.push(part);
  assert.deepEqual(c.concat(...out), data);
  const details = c.decryptItem(caseKeys.publicKey, caseKeys.privateKey, c.fromBase64(meta),
    { case: "ABCDE-FGHIJ", kind: "attachment-meta", author: "reporter" });
  assert.deepEqual(JSON.parse(c.fromUtf8(details)), { name: "rota.pdf", size: data.length, type: "application/pdf" });
});

test("runs are of 16 chunks, the last one what is left", async () => {
  const { fetch, calls } = transport(async (method, path, body) => {
    if (method === "POST" && path.endsWith("/uploads")) return [201, { id: "u4", chunks: JSON.parse(body).chunks }];
    return method === "PUT" ? [204] : [201, { id: 1, bytes: 1 }];
  });
  await r.uploadFile(new r.Api({ fetch }), new Blob([new Uint8Array(20 * 65536 + 5)]), c.newKeyPair().publicKey, "R");
  const puts = calls.filter((call) => call.method === "PUT");
  assert.deepEqual(puts.map((call) => call.path), ["/api/v1/reporter/uploads/u4/0", "/api/v1/reporter/uploads/u4/16"]);
  assert.ok(puts.every((call) => call.body instanceof Uint8Array), "bytes, which every fetch sends as they are");
  assert.deepEqual(puts.map((call) => call.body.length), [106 + 15 * 65553, 5 * 65553 + 273]);
});

test("chunks the server lost before the end are sent again from the kept run, and the upload finished again", async () => {
  let finishes = 0;
  const { fetch, calls } = transport(async (method, path, body) => {
    if (method === "POST" && path.endsWith("/uploads")) return [201, { id: "u5", chunks: JSON.parse(body).chunks }];
    if (method === "PUT") return [204];
    finishes += 1;
    return finishes === 1 ? [409, { detail: "Chunks to send again", missing: [3] }] : [201, { id: 2, bytes: 1 }];
  });
  const answer = await r.uploadFile(new r.Api({ fetch }), new Blob([new Uint8Array(6 * 65536)]), c.newKeyPair().publicKey, "R",
    { runChunks: 2, pause: 1 });
  assert.deepEqual(answer, { id: 2, bytes: 1 });
  const paths = calls.map((call) => `${call.method} ${call.path.replace("/api/v1/reporter/uploads", "")}`);
  assert.deepEqual(paths.slice(-3), ["POST /u5/done", "PUT /u5/2", "POST /u5/done"]);
  const runs = calls.filter((call) => call.method === "PUT" && call.path.endsWith("/2"));
  assert.equal(runs.length, 2);
  assert.deepEqual(runs[1].body, runs[0].body,
    "the same bytes: a stream cannot be encrypted again to them");
});

test("a refused run (4xx) is not sent again, and the upload is not finished", async () => {
  const { fetch, calls } = transport((method, path) => {
    if (method === "POST" && path.endsWith("/uploads")) return [201, { id: "u2", chunks: 2 }];
    return path.endsWith("/u2/0") ? [422, { detail: "too big" }] : [204];
  });
  await assert.rejects(r.uploadFile(new r.Api({ fetch }), new Blob([new Uint8Array(10)]), c.newKeyPair().publicKey, "R", { pause: 1 }),
    (error) => error instanceof r.ApiError && error.status === 422);
  assert.deepEqual(calls.filter((call) => call.method === "PUT").map((call) => call.path), ["/api/v1/reporter/uploads/u2/0"]);
  assert.ok(!calls.some((call) => call.path.endsWith("/done")));
});

test("at most `window` runs are on their way at once", async () => {
  let open = 0;
  let most = 0;
  const { fetch } = transport(async (method, path) => {
    if (method === "POST" && path.endsWith("/uploads")) return [201, { id: "u3", chunks: 10 }];
    if (method === "PUT") {
      open += 1;
      most = Math.max(most, open);
      await new Promise((resolve) => { setTimeout(resolve, 5); });
      open -= 1;
      return [204];
    }
    return [201, { id: 1, bytes: 1 }];
  });
  await r.uploadFile(new r.Api({ fetch }), new Blob([new Uint8Array(8 * 65536)]), c.newKeyPair().publicKey, "R", { window: 3, runChunks: 2 });
  assert.equal(most, 3);
});

function mailbox() {
  const { document } = team();
  const report = { text: "What I saw.", answers: { now: "yes" }, routingAnswers: {}, identityMode: "anonymous", identity: null };
  const built = r.buildCase(document, "staff", report);
  const { body } = built;
  const reporter = r.receiptKeys(built.receipt, document);
  const item = (id, kind, author, plaintext) => ({ id, kind, author, version: 2, at: "2026-12-05",
    ciphertext: b64(c.encryptItem(c.fromBase64(body.case_public_key), plaintext, { case: body.case, kind, author })) });
  const envelopes = {
    case: body.case, status: "new", status_text: "Waiting to be read", opened: "2026-12-05",
    case_public_key: body.case_public_key, team_public_key: body.team_public_key, team_key_mac: body.team_key_mac,
    sealed_case_key: body.grants[0].sealed_case_key, case_key_binding: body.reporter.case_key_binding,
    items: [
      { ...body.items[0], id: 1, author: "reporter", version: 2, at: "2026-12-05" },
      { ...body.items[1], id: 2, author: "reporter", version: 2, at: "2026-12-05" },
      item(3, "message", "guardian:17", "Thank you, we are looking into it."),
      item(4, "attachment-meta", "guardian:17", JSON.stringify({ name: "reply.txt", size: 5, type: "text/plain" })),
      item(5, "message", "reporter", "More."),
    ],
    attachments: [{ id: 8, meta_item: 4, bytes: 400, author: "guardian:17" }],
    identity_given: false,
    news: null,
  };
  return { envelopes, reporter, built };
}

test("the mailbox: the case key checked against the binding, every item decrypted with its author", () => {
  const { envelopes, reporter } = mailbox();
  const caseKeys = r.unlockCase(envelopes, reporter);
  const view = r.readEnvelopes(envelopes, caseKeys);
  assert.equal(view.text, "What I saw.");
  assert.deepEqual(view.answers, { now: "yes" });
  assert.deepEqual(view.messages.map((m) => [m.from, m.text]), [["guardian", "Thank you, we are looking into it."], ["reporter", "More."]]);
  assert.deepEqual(view.attachments, [{ id: 8, name: "reply.txt", size: 5, type: "text/plain", author: "guardian:17", from: "guardian", verified: true }]);
  assert.ok(r.checkedTeamKey(envelopes, caseKeys));
});

test("the mailbox: an item credited to someone else, or a file whose details name another author, is not shown", () => {
  const { envelopes, reporter } = mailbox();
  envelopes.items[2].author = "guardian:19";
  envelopes.attachments[0].author = "reporter";
  const view = r.readEnvelopes(envelopes, r.unlockCase(envelopes, reporter));
  assert.deepEqual(view.messages[0], { id: 3, unverified: true, at: "2026-12-05" });
  assert.equal(view.attachments[0].verified, false);
});

test("the mailbox: a message or file a guardian erased is shown as erased, with the server's words", () => {
  const { envelopes, reporter } = mailbox();
  const words = "Erased on 5 December 2026: Sent in error.";
  envelopes.items[2] = { id: 3, kind: "message", author: null, version: null, ciphertext: null, at: "2026-12-05",
    erased_on: "2026-12-05", erased_words: words };
  envelopes.items[3] = { id: 4, kind: "attachment-meta", author: null, version: null, ciphertext: null, at: "2026-12-05",
    erased_on: "2026-12-05", erased_words: words };
  envelopes.attachments = []; // an erased file's row is gone
  const view = r.readEnvelopes(envelopes, r.unlockCase(envelopes, reporter));
  assert.deepEqual(view.messages[0], { id: 3, erased: true, at: "2026-12-05", words });
  assert.equal(view.messages[1].text, "More.");
  assert.deepEqual(view.attachments, [{ id: 4, erased: true, words }]);
  assert.deepEqual(view.lost, []);
});

test("the mailbox: a replaced case key, a missing binding or a swapped team key is refused", () => {
  const { envelopes, reporter } = mailbox();
  // A database writer's own case key, sealed to the reporter, with the case's public key to match.
  const theirs = c.newKeyPair();
  const swapped = { ...envelopes, sealed_case_key: b64(c.seal(reporter.publicKey, theirs.privateKey)), case_public_key: b64(theirs.publicKey) };
  assert.throws(() => r.unlockCase(swapped, reporter), r.CaseKeysRefused);
  assert.throws(() => r.unlockCase({ ...envelopes, case_key_binding: null }, reporter), r.CaseKeysRefused);
  assert.throws(() => r.unlockCase({ ...envelopes, case_public_key: b64(c.newKeyPair().publicKey) }, reporter), r.CaseKeysRefused);
  const other = r.receiptKeys(c.newReceiptV2(), team().document);
  assert.throws(() => r.unlockCase(envelopes, other), r.CaseKeysRefused);
  const caseKeys = r.unlockCase(envelopes, reporter);
  assert.throws(() => r.checkedTeamKey({ ...envelopes, team_public_key: b64(c.newKeyPair().publicKey) }, caseKeys), r.CaseKeysRefused);
  assert.equal(r.checkedTeamKey({ ...envelopes, team_key_mac: null }, caseKeys), null);
});

test("a reply and an identity are encrypted to the checked keys, by the reporter", () => {
  const { envelopes, reporter } = mailbox();
  const caseKeys = r.unlockCase(envelopes, reporter);
  const message = c.fromBase64(r.messageItem(caseKeys, envelopes.case, "A reply"));
  assert.equal(c.fromUtf8(c.decryptItem(caseKeys.publicKey, caseKeys.privateKey, message, { case: envelopes.case, kind: "message", author: "reporter" })), "A reply");
});

test("the comment at closure is a speak-up-comment item to the checked case key, never readable as a message", () => {
  const { envelopes, reporter } = mailbox();
  const caseKeys = r.unlockCase(envelopes, reporter);
  const item = c.fromBase64(r.speakUpItem(caseKeys, envelopes.case, "They listened"));
  const context = { case: envelopes.case, kind: "speak-up-comment", author: "reporter" };
  assert.equal(c.fromUtf8(c.decryptItem(caseKeys.publicKey, caseKeys.privateKey, item, context)), "They listened");
  assert.throws(() => c.decryptItem(caseKeys.publicKey, caseKeys.privateKey, item, { ...context, kind: "message" }));
});
