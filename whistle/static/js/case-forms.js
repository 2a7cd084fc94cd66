// The case page's forms in device mode (docs/workspace.md): the guardian's device encrypts what they
// write before it leaves the page. Each form's text becomes an item envelope (docs/crypto.md 5.2) of
// the kind and to the key the server-assisted path would use, in an `item` field; the plaintext
// field is disabled so it is never sent; the form is then submitted as usual (the page reloads).
// Grants seal the case and team keys to the key the signed key directory lists for the guardian;
// files are encrypted here and uploaded in chunks. Nothing runs in server-assisted mode.

import * as c from "./crypto.js";
import { csrfToken, devicePage, loadKey, organisationKey } from "./keyring.js";
import { Api, ApiError, uploadFile } from "./reporter.js";
import { t } from "./i18n.js";

const NO_KEY = t("Your key is not on this page any more (the sign-in changed). Sign in again, then send this again.");
const KEYS_REFUSED = t("The keys of this case do not check against your key, so nothing was sent. Tell an administrator.");
const SEND_FAILED = t("It could not be sent: check your connection and try again.");

function say(form, message) {
  let box = form.querySelector(".form-error[data-case-forms]");
  if (!box) {
    box = document.createElement("p");
    box.className = "form-error";
    box.setAttribute("role", "alert");
    box.dataset.caseForms = "";
    form.querySelector("button[type=submit]").before(box);
  }
  box.textContent = message;
  box.hidden = !message;
}

function same(a, b) {
  return a.length === b.length && c.toHex(a) === c.toHex(b);
}

/** The case's keys as this guardian's grant holds them, each checked (or null with a reason). */
function caseKeys(envelopes, me) {
  const grant = envelopes.grant;
  if (!grant) throw new Error(KEYS_REFUSED);
  const casePrivate = c.unseal(me.publicKey, me.privateKey, c.fromBase64(grant.sealed_case_key));
  const casePublic = c.publicKeyOf(casePrivate);
  if (!same(casePublic, c.fromBase64(envelopes.public_key))) throw new Error(KEYS_REFUSED);
  if (grant.case_key_binding) {
    c.checkCaseKeyBinding(me.privateKey, envelopes.case, casePublic, c.fromBase64(grant.case_key_binding));
  }
  let team = null;
  if (grant.sealed_team_key) {
    const teamPrivate = c.unseal(me.publicKey, me.privateKey, c.fromBase64(grant.sealed_team_key));
    const teamPublic = c.publicKeyOf(teamPrivate);
    if (!same(teamPublic, c.fromBase64(envelopes.team_public_key))) throw new Error(KEYS_REFUSED);
    if (envelopes.team_key_mac) c.checkTeamKeyMac(casePrivate, teamPublic, c.fromBase64(envelopes.team_key_mac));
    team = { publicKey: teamPublic, privateKey: teamPrivate };
  }
  return { case: { publicKey: casePublic, privateKey: casePrivate }, team };
}

// What each form writes: the field it replaces, the item's kind, and its plaintext (as the
// server-assisted path writes it: whistle.cases.services.parse_item and the services).
const TEAM_KINDS = new Set(["note", "outcome", "reason", "identity", "internal-file"]);

function text(form, name) {
  const field = form.elements[name];
  return field ? field.value.trim() : "";
}

function chars(value) {
  return [...value].length;
}

function checkText(form, value, { required, missing }) {
  const most = Number(form.dataset.maxChars);
  if (!value) return required ? missing : null;
  if (most && chars(value) > most) return t("At most ${count} characters.", { count: most });
  return null;
}

function plan(form) {
  const to = form.elements.to ? form.elements.to.value : null;
  switch (form.id) {
    case "reply-form":
      return { fields: ["text"], kind: "message", body: (v) => v.text, required: t("Write something first.") };
    case "note-form":
      return { fields: ["text"], kind: "note", body: (v) => v.text, required: t("Write something first.") };
    case "transfer-form":
      return { fields: ["reason"], kind: "reason", body: (v) => JSON.stringify({ about: "transfer", text: v.reason }), grant: true };
    case "conflict-form":
      return { fields: ["reason"], kind: "reason", body: (v) => JSON.stringify({ about: "conflict-of-interest", text: v.reason }) };
    case "grant-form":
      return { fields: [], grant: true };
    default:
      // A form whose one text is a reason about something (data-device-reason: a legal hold).
      if (form.dataset.deviceReason) {
        return { fields: ["reason"], kind: "reason", required: t("Write the reason (a sentence is enough)."),
                 body: (v) => JSON.stringify({ about: form.dataset.deviceReason, text: v.reason }) };
      }
      if (!to) return null;
      if (to === "closed") {
        const ticked = (name) => [...new Set([...form.querySelectorAll(`input[name=${name}]:checked`)]
          .map((box) => box.value))];
        return {
          fields: ["learned", "changed"], optional: ["changed"], kind: "outcome",
          required: t("Say what was learned (a sentence is enough)."),
          body: (v) => JSON.stringify({
            substantiated: form.elements.substantiated.value,
            changes: ticked("changes"),
            factors: ticked("factors"),
            learned: v.learned,
            changed: v.changed,
          }),
        };
      }
      if (form.elements.reason) {
        return { fields: ["reason"], kind: "reason", required: t("Say why the case is reopened."),
                 body: (v) => JSON.stringify({ about: "reopen", text: v.reason }) };
      }
      return { fields: [] };
  }
}

function setHidden(form, name, value) {
  let input = form.querySelector(`input[type=hidden][name="${name}"][data-case-forms]`);
  if (!input) {
    input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.dataset.caseForms = "";
    form.append(input);
  }
  input.value = value;
}

// The organisation key to open the directory with (keyring.organisationKey: the desk's pin if the page
// came through the desk), found when the page starts: a submit handler must decide at once.
let trustedKey;

/** The signed key directory in the envelopes, opened with the organisation key (docs/crypto.md 6.9). */
function directory(envelopes) {
  const published = envelopes.directory;
  if (!published) throw new Error(t("There is no usable signed key directory, so the case cannot be given to anyone."));
  if (trustedKey instanceof Error) throw trustedKey;
  if (!trustedKey) throw new Error(t("The key directory is still being checked: try again in a moment."));
  return c.openDirectory(published, trustedKey);
}

function sealFor(form, envelopes, keys) {
  const username = form.elements.guardian.value;
  if (!username) throw Object.assign(new Error(t("Choose a guardian.")), { field: "guardian" });
  const listed = Object.values(directory(envelopes).guardians || {}).find((entry) => entry.username === username);
  if (!listed) {
    throw new Error(t("${name} is not in the signed key directory yet, so the case cannot be sealed to them: an admin "
      + "must sign a new key directory first.", { name: username }));
  }
  if (!keys.team) throw new Error(KEYS_REFUSED);
  const to = c.fromBase64(listed.public_key);
  setHidden(form, "sealed_case_key", c.toBase64(c.seal(to, keys.case.privateKey)));
  setHidden(form, "sealed_team_key", c.toBase64(c.seal(to, keys.team.privateKey)));
}

function encryptForm(form, envelopes, me) {
  const what = plan(form);
  if (!what) return true;
  const values = {};
  for (const name of what.fields) values[name] = text(form, name);
  for (const name of what.fields) {
    const required = Boolean(what.required) && !(what.optional || []).includes(name);
    const problem = checkText(form, values[name], { required, missing: what.required });
    if (problem) {
      say(form, problem);
      return false;
    }
  }
  const keys = caseKeys(envelopes, me);
  if (what.grant) sealFor(form, envelopes, keys);
  const given = what.fields.some((name) => values[name]);
  if (what.kind && given) {
    const pair = TEAM_KINDS.has(what.kind) ? keys.team : keys.case;
    if (!pair) throw new Error(KEYS_REFUSED);
    const item = c.encryptItem(pair.publicKey, what.body(values), {
      case: envelopes.case, kind: what.kind, author: `guardian:${me.accountId}`,
    });
    setHidden(form, "item", c.toBase64(item));
  }
  for (const name of what.fields) if (form.elements[name]) form.elements[name].disabled = true;
  return true;
}

async function sendFiles(form, envelopes, me) {
  const internal = form.id === "internal-file-form";
  const input = form.querySelector("input[type=file]");
  const files = [...input.files];
  if (!files.length) {
    say(form, t("Choose a file first."));
    return;
  }
  const most = Number(form.dataset.maxFileBytes);
  const big = files.find((file) => most && file.size > most);
  if (big) {
    say(form, t("Each file can be at most ${limit}.", { limit: form.dataset.fileLimit }));
    return;
  }
  const keys = caseKeys(envelopes, me);
  const pair = internal ? keys.team : keys.case;
  if (!pair) throw new Error(KEYS_REFUSED);
  const api = new Api({ csrf: csrfToken() });
  const progress = document.createElement("progress");
  progress.max = 1;
  progress.value = 0;
  form.querySelector("button[type=submit]").before(progress);
  const path = `/staff/cases/${encodeURIComponent(envelopes.case)}/uploads`;
  for (const [at, file] of files.entries()) {
    await uploadFile(api, file, pair.publicKey, envelopes.case, {
      as: { path, author: `guardian:${me.accountId}`, internal },
      onProgress: (sent, total) => { progress.value = (at + (total ? sent / total : 1)) / files.length; },
    });
  }
  window.location.assign(`${window.location.pathname}#files`);
  window.location.reload();
}

function start() {
  if (!devicePage()) return;
  const holder = document.getElementById("case-envelopes");
  if (!holder) return;
  const first = JSON.parse(holder.textContent);
  if (first.directory) {
    organisationKey(first.directory).then((key) => { trustedKey = key; }, (error) => { trustedKey = error; });
  }
  const forms = ["reply-form", "note-form", "transfer-form", "conflict-form", "grant-form", "send-file-form",
    "internal-file-form"].map((id) => document.getElementById(id)).filter(Boolean);
  forms.push(...document.querySelectorAll("form.move"), ...document.querySelectorAll("form[data-device-reason]"));
  for (const form of forms) {
    form.addEventListener("submit", (event) => {
      // Read now, not at start: the first visit to a case built on the client replaces its team key
      // (workspace.js), and what is written must go to the new one.
      const envelopes = JSON.parse(holder.textContent);
      const me = loadKey();
      const files = form.id === "send-file-form" || form.id === "internal-file-form";
      if (!me || me.accountId !== envelopes.account_id) {
        event.preventDefault();
        say(form, NO_KEY);
        return;
      }
      say(form, "");
      if (files) {
        event.preventDefault();
        form.querySelector("button[type=submit]").disabled = true;
        sendFiles(form, envelopes, me).catch((error) => {
          form.querySelector("button[type=submit]").disabled = false;
          say(form, error instanceof ApiError ? error.message : (error.message || SEND_FAILED));
        });
        return;
      }
      try {
        if (!encryptForm(form, envelopes, me)) event.preventDefault();
      } catch (error) {
        event.preventDefault();
        say(form, error instanceof c.CryptoError ? KEYS_REFUSED : error.message);
      }
    });
    // Sent only through the handler above from now on: the page held the button until now.
    for (const button of form.querySelectorAll("button[data-device-held]")) button.disabled = false;
  }
}

start();
