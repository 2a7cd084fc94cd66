// The password page, on the device (docs/workspace.md, docs/crypto.md 6.13).
//
// Progressive enhancement of the server's form (templates/accounts/password.jinja2), in device
// mode only: the new password is checked here by the rules the server would check (it never sees
// it), the current password's auth key is derived with the account's salt and cost, the new
// password's keys with a fresh salt at the service's cost, and the private key this tab holds
// (keyring.js) is wrapped under the new wrap key. Only keys are posted: neither password leaves
// this page. Server-assisted (the session holds the key), the form posts as it does without
// JavaScript, and the service changes the password.

import * as c from "./crypto.js";
import { devicePage, loadKey } from "./keyring.js";
import { OFFLINE, Refused, post } from "./staff-forms.js";
import { t } from "./i18n.js";

const form = document.getElementById("password-form");
const MIN_LENGTH = 12; // whistle.accounts.services.MIN_PASSWORD_LENGTH
const WORKING = t("Changing your password on this device…");
const DONE = t("Your password is changed. Your other sessions have ended.");
const FAILED = t("Something went wrong while changing your password. Please try again in a moment.");
const NO_KEY = t("This tab no longer holds your key, so your password cannot be changed here. Sign out, sign in again, and then change it.");
const LABELS = { current: t("Current password"), new: t("New password"), again: t("New password again") };

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  for (const child of children) node.append(child);
  return node;
}

/** The page field a server's field name is shown at: the device's keys belong to one of the passwords. */
function pageField(name) {
  if (name in LABELS) return name;
  return name && name.startsWith("current") ? "current" : "new";
}

function clearMessages() {
  document.getElementById("error-summary")?.remove();
  document.getElementById("password-done")?.remove();
  for (const name of Object.keys(LABELS)) form.elements[name]?.removeAttribute("aria-invalid");
}

/** "Label: message." with the message's first letter lowered, as whistle.words.field_error. */
function fieldError(label, message) {
  const text = message.trim();
  const lowered = text.length > 1 && /^\p{Lu}\p{Ll}/u.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
  return `${label}: ${lowered}`;
}

/** The error summary as the server's page shows it (templates/_forms.jinja2 summary). */
function showProblem(message, field) {
  clearMessages();
  const target = field ? pageField(field) : null;
  const words = target ? fieldError(LABELS[target], message) : message;
  const item = target ? element("a", { href: `#${target}` }, words) : words;
  const summary = element("div", { class: "error-summary", role: "alert", "aria-labelledby": "error-summary-title",
    id: "error-summary", tabindex: "-1" },
  element("h2", { id: "error-summary-title" }, t("There is a problem")), element("ul", {}, element("li", {}, item)));
  form.prepend(summary);
  if (target) form.elements[target]?.setAttribute("aria-invalid", "true");
  summary.focus();
}

function showDone() {
  clearMessages();
  form.before(element("p", { role: "status", id: "password-done" }, DONE));
}

function working(on) {
  const status = document.getElementById("password-status");
  status.textContent = WORKING;
  status.hidden = !on;
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

let commonPasswords = null;

/** The service's list of common passwords (lower-cased, as whistle.accounts.services.common_passwords). */
async function common() {
  if (commonPasswords === null) {
    let response;
    try {
      response = await fetch(form.dataset.commonPasswords, { credentials: "same-origin" });
    } catch {
      throw new Refused(OFFLINE, null);
    }
    if (!response.ok) throw new Error(`status ${response.status}`);
    const lines = (await response.text()).split("\n").map((line) => line.replace(/\r$/, ""));
    commonPasswords = new Set(lines.filter((line) => line && !line.startsWith("#")));
  }
  return commonPasswords;
}

/** The rules whistle.accounts.services.check_password applies, which the server cannot apply here. */
async function checkNew(password, again) {
  if (again !== password) throw new Refused(t("The two new passwords differ."), "again");
  if ([...password].length < MIN_LENGTH) {
    throw new Refused(t("The password must be at least ${count} characters long.", { count: MIN_LENGTH }), "new");
  }
  if ((await common()).has(password.trim().toLowerCase())) {
    throw new Refused(t("That password is on a list of common passwords; choose another."), "new");
  }
}

async function change(held) {
  const current = form.elements.current.value;
  const fresh = form.elements.new.value;
  await checkNew(fresh, form.elements.again.value);
  const parameters = await post(form.dataset.parameters, JSON.stringify({ username: form.dataset.username }),
    "application/json");
  if (parameters.scheme !== "device/1") throw new Error("this account does not sign in on the device");
  const currentKeys = c.deriveSignInKeys(current, c.fromBase64(parameters.salt), parameters);
  const cost = { opslimit: Number(form.dataset.opslimit), memlimit: Number(form.dataset.memlimit) };
  const salt = c.randomBytes(c.SIGN_IN_SALT_LEN);
  const newKeys = c.deriveSignInKeys(fresh, salt, cost);
  const fields = {
    current_auth_key: c.toBase64(currentKeys.authKey),
    new_salt: c.toBase64(salt),
    new_opslimit: String(cost.opslimit),
    new_memlimit: String(cost.memlimit),
    new_auth_key: c.toBase64(newKeys.authKey),
    new_key_by_device: c.toBase64(c.wrapForDevice(held.privateKey, newKeys.wrapKey)),
    csrf_token: form.elements.csrf_token.value,
  };
  await post(form.action, new URLSearchParams(fields), "application/x-www-form-urlencoded");
}

if (form && devicePage()) {
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    working(true);
    try {
      const held = loadKey();
      if (held === null) throw new Refused(NO_KEY, null);
      await change(held);
      showDone();
    } catch (error) {
      showProblem(error instanceof Refused ? error.message : FAILED, error instanceof Refused ? error.field : null);
    } finally {
      // As the server's page after an answer: the passwords are not kept in the form.
      for (const name of Object.keys(LABELS)) form.elements[name].value = "";
      working(false);
      busy = false;
    }
  });
  // The page held the button until the form was taken over: no password is posted.
  for (const button of form.querySelectorAll("button[data-device-held]")) button.disabled = false;
}
