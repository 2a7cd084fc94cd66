// Every signed-in page (staff pages, the reporter's mailbox, on the server or on the device): two
// minutes before the session ends for want of activity, a dialog says so and offers to stay signed in
// (WCAG 2.2.1 Timing Adjustable). "Stay signed in" gives the session a full idle limit again; "Sign
// out" signs out as the page's own sign-out does. A server-rendered page carries what this needs in
// [data-session-timeout] (templates/_session_timeout.jinja2) and is watched from here; the mailbox on
// the device, whose session is a bearer token in its memory, calls warnBeforeIdleEnd itself. Without
// JavaScript the page says the limit in words, and nothing else changes.
import { t } from "./i18n.js";

// Two minutes' warning; with a limit under four minutes (a test's), half of it.
const WARN_BEFORE_SECONDS = 120;
// The server moves a session's idle end only in steps of a minute (EXPIRY_STEP in
// whistle/sessions/services.py), so after any other request the end may be up to a minute sooner.
const EXPIRY_STEP_SECONDS = 60;

const source = document.querySelector("[data-session-timeout]");
if (source) {
  const signOutForm = document.querySelector(source.dataset.signOutForm);
  warnBeforeIdleEnd({
    idleSeconds: Number(source.dataset.idleSeconds),
    expiresIn: Number(source.dataset.expiresIn),
    keepAlive: () => keepAliveWithCsrf(source.dataset.keepAlive, source.dataset.csrfToken),
    signOut: () => (signOutForm ? signOutForm.requestSubmit() : location.assign(location.href)),
    signInAgain: () => location.assign(location.href),
  });
}

/** A server-rendered page's "Stay signed in": the seconds left afterwards, or null when the session
 *  has ended; throws when the service cannot be reached. */
async function keepAliveWithCsrf(url, csrfToken) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "X-CSRF-Token": csrfToken, Accept: "application/json" },
  });
  const answer = response.ok ? await response.json() : null;
  return answer && answer.signed_in ? answer.expires_in : null;
}

/**
 * Watches a session that ends after `idleSeconds` without activity and has `expiresIn` seconds left.
 * `keepAlive()` extends it and resolves to the seconds left (null: it has ended; it throws when the
 * service cannot be reached); `signOut()` and `signInAgain()` are what the dialog's buttons do.
 * `ended()`, if given, is called instead of the dialog saying so when the session has ended (the
 * mailbox on the device then takes what it decrypted off the page). Returns `touched()`, to call after
 * any other request the session made (which moved its end), and `stop()`, to call when the page signs
 * out by itself.
 */
export function warnBeforeIdleEnd({ idleSeconds, expiresIn, keepAlive, signOut, signInAgain, ended = null }) {
  let endsAt = Date.now() + expiresIn * 1000;
  const warnBefore = Math.min(WARN_BEFORE_SECONDS, idleSeconds / 2) * 1000;
  let warnTimer = null;
  let tick = null;
  let lastFocus = null;
  let stopped = false;

  const dialog = buildDialog();
  document.body.append(dialog.root);

  function schedule() {
    clearTimeout(warnTimer);
    const untilWarning = Math.max(0, endsAt - Date.now() - warnBefore);
    warnTimer = setTimeout(warn, untilWarning);
  }

  function warn() {
    lastFocus = document.activeElement;
    dialog.showWarning();
    update();
    clearInterval(tick);
    tick = setInterval(update, 1000);
  }

  function update() {
    const left = Math.max(0, Math.round((endsAt - Date.now()) / 1000));
    if (left === 0) {
      end();
      return;
    }
    dialog.setTimeLeft(left);
  }

  function end() {
    clearInterval(tick);
    if (ended) ended();
    else dialog.showEnded();
  }

  async function stay() {
    dialog.setBusy(true);
    try {
      const left = await keepAlive();
      if (stopped) return;
      if (left === null || left === undefined) {
        end();
        return;
      }
      endsAt = Date.now() + left * 1000;
      clearInterval(tick);
      dialog.hide();
      if (lastFocus && document.contains(lastFocus)) lastFocus.focus();
      schedule();
    } catch {
      dialog.showProblem();
    } finally {
      dialog.setBusy(false);
    }
  }

  function buildDialog() {
    const root = document.createElement("div");
    root.className = "session-timeout";
    root.id = "session-timeout";
    root.setAttribute("role", "alertdialog");
    root.setAttribute("aria-modal", "true");
    root.setAttribute("aria-labelledby", "session-timeout-title");
    root.setAttribute("aria-describedby", "session-timeout-text");
    root.hidden = true;

    const box = document.createElement("div");
    box.className = "session-timeout-box";
    const title = document.createElement("h2");
    title.id = "session-timeout-title";
    title.tabIndex = -1;
    const text = document.createElement("p");
    text.id = "session-timeout-text";
    const timeLeft = document.createElement("p");
    timeLeft.className = "session-timeout-left";
    const problem = document.createElement("p");
    problem.className = "error";
    problem.hidden = true;

    const buttons = document.createElement("div");
    buttons.className = "session-timeout-buttons";
    const stayButton = button(t("Stay signed in"), "button primary", stay);
    const signOutButton = button(t("Sign out"), "button", signOut);
    const againButton = button(t("Sign in again"), "button primary", () => { dialog.hide(); signInAgain(); });
    againButton.hidden = true;
    buttons.append(stayButton, signOutButton, againButton);
    box.append(title, text, timeLeft, problem, buttons);
    root.append(box);

    // Escape means "not now", which must not sign anyone out: it stays signed in.
    root.addEventListener("keydown", (event) => {
      if (event.key === "Escape" && !stayButton.hidden) {
        event.preventDefault();
        stay();
      }
      if (event.key === "Tab") keepFocusInside(event, [stayButton, signOutButton, againButton]);
    });

    return {
      root,
      showWarning() {
        title.textContent = t("Are you still there?");
        text.textContent = t("For your safety you will be signed out soon, because nothing has happened for a while.");
        problem.hidden = true;
        stayButton.hidden = signOutButton.hidden = false;
        againButton.hidden = true;
        root.hidden = false;
        stayButton.focus();
      },
      setTimeLeft(seconds) {
        const minutes = Math.floor(seconds / 60);
        const rest = String(seconds % 60).padStart(2, "0");
        timeLeft.textContent = t("Time left: ${time}", { time: `${minutes}:${rest}` });
      },
      showEnded() {
        title.textContent = t("You have been signed out");
        text.textContent = t("Nothing happened for a while, so you were signed out to keep your information safe.");
        timeLeft.textContent = "";
        stayButton.hidden = signOutButton.hidden = true;
        againButton.hidden = false;
        root.hidden = false;
        title.focus();
      },
      showProblem() {
        problem.textContent = t("That did not work. Check your connection and try again.");
        problem.hidden = false;
      },
      setBusy(busy) {
        stayButton.disabled = busy;
      },
      hide() {
        root.hidden = true;
      },
    };
  }

  schedule();
  return {
    touched() {
      if (stopped || !dialog.root.hidden) return;
      endsAt = Math.max(endsAt, Date.now() + (idleSeconds - EXPIRY_STEP_SECONDS) * 1000);
      schedule();
    },
    stop() {
      stopped = true;
      clearTimeout(warnTimer);
      clearInterval(tick);
      dialog.root.remove();
    },
  };
}

function button(label, className, onClick) {
  const element = document.createElement("button");
  element.type = "button";
  element.className = className;
  element.textContent = label;
  element.addEventListener("click", onClick);
  return element;
}

// Tab and Shift+Tab go round the dialog's visible buttons, never behind it.
function keepFocusInside(event, buttons) {
  const visible = buttons.filter((element) => !element.hidden);
  if (visible.length === 0) return;
  const first = visible[0];
  const last = visible[visible.length - 1];
  if (event.shiftKey && document.activeElement === first) {
    event.preventDefault();
    last.focus();
  } else if (!event.shiftKey && document.activeElement === last) {
    event.preventDefault();
    first.focus();
  }
}
