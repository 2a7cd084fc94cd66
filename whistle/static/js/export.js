// Exporting a case on the guardian's device (device mode, docs/workspace.md): the server holds no key
// for this sign-in, so the archive is built here from what workspace.js decrypted, with zip.js
// (served from /static/vendor/zipjs/, web workers off: the CSP allows none), and saved as a download.
//
// The page first POSTs {"encrypted"} to /staff/cases/{ref}/export/device: the server records the
// export and hands back what needs no key (case.html's frame with empty places, timeline.html, the
// README). The places are filled here, each file is fetched as ciphertext and decrypted, and the
// archive is made in this page's memory: AES-256 (WinZip AE-2, with WebCrypto) when the guardian
// gives a passphrase. Nothing decrypted, and never the passphrase, is sent anywhere.
//
// The rules for names in files/ and for passphrases: export-names.js.

import { BlobWriter, TextReader, Uint8ArrayReader, ZipWriter, configure } from "../vendor/zipjs/zip.js";
import { passphraseErrors, safeNames } from "./export-names.js";
import { csrfToken, devicePage, loadKey } from "./keyring.js";
import { element } from "./dom.js";
import { t } from "./i18n.js";
import {
  answersNodes, CHANGED, dayWords, disclosureNodes, fileParts, identityNodes, label, openedCase, recordAbout, save,
  sizeWords,
} from "./workspace.js";

configure({ useWebWorkers: false });

/** What went wrong, in words for the guardian. */
class ExportError extends Error {}

const WORDS = {
  notOpened: t("The case is not open on this device yet: wait until it is shown, then export it."),
  signIn: t("Sign in again to export cases on this device."),
  building: t("Building the archive on this device…"),
  failed: t("The archive could not be built on this device, so nothing was saved. Reload the page and try again."),
};

// --- case.html's places, filled with the same markup the server gives a server-assisted export ------

function nameOf(envelopes, accountId) {
  return (envelopes.names || {})[String(accountId)] || t("a guardian");
}

function erasedArticle(kind, heading, marker) {
  return element("article", { class: `${kind} erased` }, element("h3", {}, heading),
    element("p", { class: "erased" }, `${marker.erased_words.charAt(0).toUpperCase()}${marker.erased_words.slice(1)}.`));
}

/** Entries with the erased ones shown as erased, and erased ones the device could not list added, in order. */
function withErased(entries, erased, kinds) {
  const shown = entries.map((entry) => (erased.has(entry.id) ? { ...erased.get(entry.id), at: entry.at } : entry));
  const present = new Set(shown.map((entry) => entry.id));
  for (const marker of erased.values()) {
    if (kinds.includes(marker.kind) && !present.has(marker.id)) shown.push(marker);
  }
  return shown.sort((a, b) => (String(a.at).slice(0, 10) < String(b.at).slice(0, 10) ? -1
    : String(a.at).slice(0, 10) > String(b.at).slice(0, 10) ? 1 : 0));
}

/** The answers as the case page draws them, and "No answers." where there are none. */
function answers(view, envelopes) {
  const nodes = answersNodes(view, envelopes).filter((node) => node.tagName !== "DL" || node.children.length);
  if (!nodes.length) nodes.push(element("p", {}, t("No answers.")));
  return nodes;
}

function messages(view, envelopes, erased) {
  const shown = withErased(view.messages, erased, ["message"]);
  if (!shown.length) return [element("p", {}, t("No messages."))];
  return shown.map((m) => {
    if (m.erased_words) return erasedArticle("message", t("A message, ${day}", { day: dayWords(m.at) }), m);
    if (m.unverified) {
      return element("article", { class: "message unverified" },
        element("h3", {}, t("A message that could not be verified, ${day}", { day: dayWords(m.at) })), element("p", {}, CHANGED));
    }
    const reporter = m.from === "reporter";
    const who = reporter ? t("The reporter") : nameOf(envelopes, m.accountId);
    return element("article", { class: `message from-${reporter ? "reporter" : "guardian"}` },
      element("h3", {}, t("${who}, ${day}", { who, day: dayWords(m.at) })),
      element("p", { dir: "auto" }, m.text));
  });
}

function notes(view, envelopes, erased) {
  const shown = withErased(view.notes, erased, ["note"]);
  if (!shown.length) return [element("p", {}, t("No notes."))];
  return shown.map((n) => {
    if (n.erased_words) return erasedArticle("note", t("A note, ${day}", { day: dayWords(n.at) }), n);
    if (n.unverified) {
      return element("article", { class: "note unverified" },
        element("h3", {}, t("A note that could not be verified, ${day}", { day: dayWords(n.at) })), element("p", {}, CHANGED));
    }
    return element("article", { class: "note" },
      element("h3", {}, t("${who}, ${day}", { who: nameOf(envelopes, n.accountId), day: dayWords(n.at) })),
      element("p", { dir: "auto" }, n.text));
  });
}

function records(view, words, erased) {
  const shown = withErased(view.records, erased, ["outcome", "reason"]);
  if (!shown.length) return [element("p", {}, t("None."))];
  return shown.map((r) => {
    if (r.erased_words) return erasedArticle("record", t("A record, ${day}", { day: dayWords(r.at) }), r);
    if (r.unverified) {
      const day = dayWords(r.at);
      return element("article", { class: "record unverified" },
        element("h3", {}, r.kind === "outcome" ? t("An outcome that could not be verified, ${day}", { day })
          : t("A reason that could not be verified, ${day}", { day })),
        element("p", {}, CHANGED));
    }
    if (r.kind === "outcome") {
      const changes = (Array.isArray(r.changes) ? r.changes : []).map((change) => label(words.changes, change)).join(", ");
      return element("article", { class: "record" }, element("h3", {}, t("Closing record, ${day}", { day: dayWords(r.at) })),
        element("dl", { class: "meta" }, element("dt", {}, t("Substantiated")), element("dd", {}, label(words.substantiated, r.substantiated)),
          element("dt", {}, t("What changed")), element("dd", {}, changes)),
        element("p", { dir: "auto" }, r.learned === undefined || r.learned === null ? "" : String(r.learned)));
    }
    return element("article", { class: "record" }, element("h3", {}, `${recordAbout(r.about, words)}, ${dayWords(r.at)}`),
      element("p", { dir: "auto" }, r.text === undefined || r.text === null ? "" : String(r.text)));
  });
}

function fileList(files, envelopes) {
  if (!files.length) return [element("p", {}, t("No files."))];
  const list = element("ul", { class: "files" });
  for (const { file, path, erased } of files) {
    const who = file.from === "reporter" ? t("from the reporter") : t("by ${name}", { name: nameOf(envelopes, file.account_id) });
    const where = file.internal ? t(", guardians only") : (file.from === "reporter" ? "" : t(", sent to the reporter"));
    const day = dayWords(file.created_on);
    if (erased) {
      list.append(element("li", { class: "erased" },
        t("A file (${who}${where}, ${day}), ${erased}.", { who, where, day, erased: erased.erased_words })));
    } else if (!path) {
      list.append(element("li", { class: "unverified" }, t("A file that could not be verified (${who}${where}, ${day}): it was changed after it was added, or credited to someone else, so it is not in the archive.", { who, where, day })));
    } else {
      list.append(element("li", {}, element("a", { href: path.split("/").map(encodeURIComponent).join("/"), dir: "ltr" }, file.name), " ",
        element("span", { class: "hint" }, t("(${size}, ${who}${where}, ${day}; in the archive as ${path})",
          { size: sizeWords(file.size), who, where, day, path }))));
    }
  }
  return [list];
}

/** case.html: the server's frame with each empty place replaced by its markup, as text (a parsed copy of the
 *  frame would have its inline style checked against this page's CSP, which forbids it). */
function fillFrame(html, opened, files, erased) {
  const { envelopes, view, words } = opened;
  const places = {
    disclosure: disclosureNodes(view),
    answers: answers(view, envelopes),
    identity: identityNodes(view, words),
    messages: messages(view, envelopes, erased),
    notes: notes(view, envelopes, erased),
    records: records(view, words, erased),
    files: fileList(files, envelopes),
  };
  return html.replace(/<div data-case-content="([a-z-]+)"><\/div>/g, (_, name) => {
    if (!places[name]) throw new Error(`no content for ${name}`);
    return places[name].map((node) => node.outerHTML).join("\n");
  });
}

// --- the form -----------------------------------------------------------------------------------------

function showErrors(form, errors) {
  for (const [name, id] of [["passphrase", "export-passphrase"], ["passphrase_again", "export-passphrase-again"]]) {
    const input = form.querySelector(`#${id}`);
    const box = input.closest(".field");
    box.querySelector(".field-error")?.remove();
    input.removeAttribute("aria-invalid");
    box.classList.toggle("invalid", Boolean(errors[name]));
    if (!errors[name]) continue;
    const labelText = box.querySelector("label").textContent;
    input.before(element("p", { class: "field-error", id: `${id}-error` }, `${labelText}: ${errors[name]}`));
    input.setAttribute("aria-invalid", "true");
    input.setAttribute("aria-describedby", [`${id}-error`, box.querySelector(".help") ? `${id}-help` : ""].filter(Boolean).join(" "));
  }
}

async function build(form, status) {
  const opened = openedCase();
  const guardian = loadKey();
  if (!guardian) throw new ExportError(WORDS.signIn);
  if (!opened) throw new ExportError(WORDS.notOpened);
  const passphrase = form.querySelector("#export-passphrase").value;
  const errors = passphraseErrors(passphrase, form.querySelector("#export-passphrase-again").value,
    Number(form.dataset.minPassphrase) || 12);
  showErrors(form, errors);
  status.textContent = "";
  if (Object.keys(errors).length) {
    form.querySelector(`#${errors.passphrase ? "export-passphrase" : "export-passphrase-again"}`).focus();
    return;
  }
  status.textContent = WORDS.building;
  const response = await fetch(form.dataset.exportDevice, {
    method: "POST", credentials: "same-origin", cache: "no-store",
    headers: { Accept: "application/json", "Content-Type": "application/json", "X-CSRF-Token": csrfToken() },
    body: JSON.stringify({ encrypted: Boolean(passphrase) }),
  });
  const frame = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new ExportError(t("The export was not recorded, so the archive was not built: ${detail}",
      { detail: frame.detail || response.status }));
  }
  const { envelopes, keys, view } = opened;
  const erased = new Map((frame.erased || []).map((marker) => [marker.id, marker]));
  const metaErased = (file) => erased.get(file.meta_item_id);
  const stored = view.files.filter((file) => file.verified && !metaErased(file));
  const paths = safeNames(stored.map((file) => file.name)).map((name) => `files/${name}`);
  const pathOf = new Map(stored.map((file, index) => [file, paths[index]]));
  const listed = view.files.map((file) => ({ file, path: pathOf.get(file), erased: metaErased(file) }));
  // A file erased with its stored copy: only its details' item is left to say it was there.
  const metas = new Set(view.files.map((file) => file.meta_item_id));
  for (const marker of erased.values()) {
    if ((marker.kind === "attachment-meta" || marker.kind === "internal-file") && !metas.has(marker.id)) {
      listed.push({ file: { from: marker.from, account_id: marker.account_id, internal: marker.kind === "internal-file",
        created_on: marker.at }, erased: marker });
    }
  }
  const options = passphrase ? { password: passphrase, encryptionStrength: 3 } : {};
  const writer = new ZipWriter(new BlobWriter("application/zip"), { ...options, useWebWorkers: false });
  await writer.add("case.html", new TextReader(fillFrame(frame.case_html, opened, listed, erased)));
  await writer.add("timeline.html", new TextReader(frame.timeline_html));
  await writer.add("README.txt", new TextReader(frame.readme));
  for (const file of stored) {
    let parts;
    try {
      parts = await fileParts(file, envelopes.case, keys);
    } catch {
      throw new ExportError(t("${name} could not be decrypted (it may have been changed after it was added), so the archive was not saved. Nothing was kept.", { name: file.name }));
    }
    const bytes = new Uint8Array(file.size);
    let at = 0;
    for (const part of parts) {
      bytes.set(part, at);
      at += part.length;
    }
    await writer.add(pathOf.get(file), new Uint8ArrayReader(bytes));
  }
  save(await writer.close(), frame.filename);
  for (const input of form.querySelectorAll("input[type=password]")) input.value = "";
  status.textContent = t("The archive ${name} was saved to this device. The export is recorded in the case's timeline.",
    { name: frame.filename });
}

function start() {
  if (!devicePage()) return;
  const form = document.getElementById("export-form");
  if (!form) return;
  const status = form.querySelector("[data-export-status]");
  const button = form.querySelector("button[type=submit]");
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    button.disabled = true;
    build(form, status).catch((error) => {
      status.textContent = error instanceof ExportError ? error.message : WORDS.failed;
    }).finally(() => {
      button.disabled = false;
    });
  });
  // Built only here from now on: the page held the button until now, so the form never posts to the
  // server-assisted route from a sign-in that keeps no key there.
  button.disabled = false;
}

start();
