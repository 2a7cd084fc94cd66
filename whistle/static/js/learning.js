// The learning search and report in device mode (docs/workspace.md, "Learning"): the server holds
// no key for this sign-in, so the closing records of the cases the page lists are decrypted here.
//
// The page lists the closed cases its filters (metadata, sent to the server as usual) picked, each
// with a slot for what was learned. This script fetches those cases' closing records as stored
// (GET /staff/learning/outcomes, the same filters: the outcome items and the keys to check them,
// nothing else of the case), unlocks each case with the guardian's key exactly as the case page
// does, decrypts the record and fills the slot. On the search page, the words box filters the
// listed cases by what was learned and what changed, here: the box has no name and its words go
// into no request.

import { devicePage, loadKey } from "./keyring.js";
import { element, fill } from "./dom.js";
import { readCase, unlock } from "./workspace.js";
import { t } from "./i18n.js";

// The {name} markers are filled by fill() (dom.js), after translation.
const WORDS = {
  signIn: t("Sign in again to read what was learned on this device."),
  opening: t("Decrypting the closing records on this device…"),
  openedOne: t("1 closing record decrypted on this device."),
  opened: t("{n} closing records decrypted on this device."),
  failed: t("Some closing records could not be opened on this device: {refs}."),
  fetchFailed: t("The closing records could not be fetched. Reload the page to try again."),
  unverified: t("The closing record could not be verified. It was changed after it was written, or credited to "
    + "someone who did not write it, so it is not shown."),
  none: t("No closing record in words."),
  found: t("{n} of the {total} cases listed mention that."),
  nothing: t("None of the {total} cases listed mentions that."),
  all: t("All {total} cases listed are shown."),
};

async function fetchOutcomes(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin",
    cache: "no-store" });
  if (!response.ok) throw new Error(`outcomes: ${response.status}`);
  return response.json();
}

/** The closing record of one case from its outcome envelope: {learned, changed} or {unverified}. */
export async function readRecord(envelope, guardian) {
  const keys = await unlock(envelope, guardian);
  const view = readCase({ ...envelope, attachments: [] }, keys);
  const outcome = view.records.find((record) => record.kind === "outcome");
  if (!outcome) return null;
  if (outcome.unverified) return { unverified: true };
  return {
    learned: typeof outcome.learned === "string" ? outcome.learned : "",
    changed: typeof outcome.changed === "string" ? outcome.changed : "",
  };
}

/** Whether `words` occur (ignoring case) in what was learned or what changed. */
export function mentions(record, words) {
  if (!record || record.unverified) return false;
  const wanted = words.toLocaleLowerCase();
  return [record.learned, record.changed].some((text) => String(text || "").toLocaleLowerCase().includes(wanted));
}

function recordNodes(record) {
  if (!record) return [element("p", { class: "hint" }, WORDS.none)];
  if (record.unverified) return [element("p", { class: "unverified" }, WORDS.unverified)];
  const nodes = [element("h4", {}, t("What was learned")), element("p", { class: "learned", dir: "auto" }, record.learned)];
  if (record.changed) {
    nodes.push(element("h4", {}, t("What changed, in practice")), element("p", { class: "changed", dir: "auto" }, record.changed));
  }
  return nodes;
}

async function openRecords(source, status) {
  const guardian = loadKey();
  const records = new Map();
  if (!guardian) {
    status.textContent = WORDS.signIn;
    return records;
  }
  status.textContent = WORDS.opening;
  const answer = await fetchOutcomes(source.outcomes);
  const failed = [];
  for (const envelope of answer.cases) {
    const slot = document.querySelector(`[data-learning-record="${CSS.escape(envelope.case)}"]`);
    if (!slot) continue;
    let record;
    try {
      record = await readRecord(envelope, guardian);
    } catch {
      failed.push(envelope.case);
      slot.replaceChildren(element("p", { class: "unverified" }, WORDS.unverified));
      continue;
    }
    records.set(envelope.case, record);
    slot.replaceChildren(...recordNodes(record));
  }
  const n = records.size;
  let words = fill(n === 1 ? WORDS.openedOne : WORDS.opened, { n });
  if (failed.length) words += ` ${fill(WORDS.failed, { refs: failed.join(", ") })}`;
  status.textContent = words;
  document.documentElement.dataset.learningOpened = "true";
  return records;
}

function setUpSearch(form, records, status) {
  const input = form.querySelector("input[type=search]");
  const rows = [...document.querySelectorAll(".learning-case[data-case]")];
  form.hidden = false;
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const words = input.value.trim();
    let shown = 0;
    for (const row of rows) {
      const match = !words || mentions(records.get(row.dataset.case), words);
      row.hidden = !match;
      if (match) shown += 1;
    }
    const total = rows.length;
    status.textContent = !words ? fill(WORDS.all, { total })
      : fill(shown ? WORDS.found : WORDS.nothing, { n: shown, total });
  });
}

async function start() {
  const holder = document.getElementById("learning-source");
  if (!holder) return;
  const source = JSON.parse(holder.textContent);
  const status = document.querySelector("[data-learning-status]");
  let records = new Map();
  try {
    records = await openRecords(source, status);
  } catch {
    status.textContent = WORDS.fetchFailed;
  }
  const form = document.getElementById("learning-device-search");
  if (form) setUpSearch(form, records, status);
}

if (devicePage()) start();
