// The staff sign-in page, on the device (docs/workspace.md, docs/crypto.md 6.13).
//
// Progressive enhancement of the server's form (templates/accounts/login.jinja2): the submit is
// taken over, the salt and cost are fetched for the username, the sign-in keys are derived here
// with Argon2id, and only the auth key is posted (with the code and the CSRF token). The answer
// carries the guardian's private key wrapped for this device; it is opened here, checked against
// the account's public key, and kept for this tab under the new session's page key (keyring.js).
// The password never leaves this page. An account made before device sign-in posts its password
// this once; the server moves it over and answers as for a device. If this module fails to load,
// the form posts as it does without JavaScript (server-assisted).

import * as c from "./crypto.js";
import { forgetKey, storeKey } from "./keyring.js";
import { element } from "./dom.js";
import { Refused, post } from "./staff-forms.js";
import { t } from "./i18n.js";

const form = document.getElementById("login-form");
const status = document.getElementById("login-status");
const WORKING = t("Checking your password on this device…");
const FAILED = t("Something went wrong while signing in. Please try again in a moment.");

// The sign-in page is where signing out lands: whatever a previous sign-in kept in this tab goes.
forgetKey();

/** The error summary as the server's page shows it (templates/_forms.jinja2 summary). */
function showProblem(message, field) {
  document.getElementById("error-summary")?.remove();
  const target = field && document.getElementById(field) ? field : "username";
  const summary = element("div", { class: "error-summary", role: "alert", "aria-labelledby": "error-summary-title",
    id: "error-summary" },
  element("h2", { id: "error-summary-title" }, t("There is a problem")),
  element("ul", {}, element("li", {}, element("a", { href: `#${target}` }, message))));
  form.before(summary);
  summary.focus?.();
}

function working(on, text = WORKING) {
  status.textContent = text;
  status.hidden = !on;
  for (const button of form.querySelectorAll("button")) button.disabled = on;
}

// Where the salt and cost come from. The page names it (the service may live under a path), but it
// must end in this path: the desk checks the cost of every answer there (a server naming a trivial
// cost could guess the password from the auth key), so a page pointing elsewhere is not followed.
const PARAMETERS_PATH = "/api/v1/staff/sign-in-parameters";

function parametersUrl() {
  const url = new URL(form.dataset.parameters || PARAMETERS_PATH, window.location.href);
  if (url.origin !== window.location.origin || !url.pathname.endsWith(PARAMETERS_PATH) || url.search) {
    throw new Error("the sign-in page names an unexpected address for the sign-in parameters");
  }
  return url.pathname;
}

function sameBytes(a, b) {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

async function signIn() {
  const username = form.elements.username.value;
  const password = form.elements.password.value;
  const otp = form.elements.otp.value;
  const csrf = form.elements.csrf_token.value;
  const parameters = await post(parametersUrl(), JSON.stringify({ username }), "application/json");
  const fields = { username, otp, csrf_token: csrf };
  let keys = null;
  if (parameters.scheme === "device/1") {
    keys = c.deriveSignInKeys(password, c.fromBase64(parameters.salt), parameters);
    fields.auth_key = c.toBase64(keys.authKey);
  } else if (parameters.scheme === "password") {
    fields.password = password; // the one time: the server moves this account over
  } else {
    throw new Error("unknown sign-in scheme");
  }
  const answer = await post(form.action, new URLSearchParams(fields), "application/x-www-form-urlencoded");
  if (keys === null) keys = c.deriveSignInKeys(password, c.fromBase64(answer.salt), answer);
  const privateKey = c.unwrapForDevice(c.fromBase64(answer.key_by_device), keys.wrapKey);
  if (!sameBytes(c.publicKeyOf(privateKey), c.fromBase64(answer.public_key))) {
    throw new Error("the key does not belong to this account");
  }
  if (!storeKey(privateKey, answer.account_id, c.fromBase64(answer.page_key))) {
    throw new Error("this browser cannot keep the key for this tab");
  }
  return answer.next;
}

if (form) {
  let busy = false;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    working(true);
    try {
      const next = await signIn();
      window.location.assign(next);
    } catch (error) {
      working(false);
      // As the server's page after a failure: the username kept, the password and code empty.
      form.elements.password.value = "";
      form.elements.otp.value = "";
      showProblem(error instanceof Refused ? error.message : FAILED, error instanceof Refused ? error.field : null);
      busy = false;
    }
  });
}
