// The report form, encrypted on this device (docs/crypto.md 7.1, docs/for-reporters.md).
//
// Progressive enhancement of the server's form (templates/intake/form.jinja2): once the crypto
// module has loaded and the channel's signed key directory checks, the submit is taken over: the
// form is checked as the server would, the case is built and encrypted here, posted as ciphertext,
// its files uploaded in encrypted chunks, and the receipt shown by this page (it never reaches the
// server). If anything here fails to load, nothing is taken over and the form posts as it does
// without JavaScript: a report is never lost to a script.

import { element } from "./dom.js";
import { removeHiddenInfo } from "./hidden-info.js";
import { pageLanguage, t } from "./i18n.js";
import {
  Api, ApiError, NetworkError, NobodyToReceive, WorkProof, checkReport, fetchDirectory, sendCase, uploadFile,
} from "./reporter.js";

const form = document.getElementById("disclosure-form");
const RECEIPT_SHOWN_MS = 15 * 60 * 1000;

// (the usual words, the plain words) in the page's language (i18n.js); ${name} markers filled by `words`.
const WORDS = {
  mode: [t("Encrypted on this device before it is sent."),
    t("Your message is locked on this phone or computer before it is sent.")],
  fingerprint: [t("To check this page, compare the organisation's key fingerprint with the one it publishes:"),
    t("The organisation's key fingerprint, if a grown-up wants to check it:")],
  summary: [t("Please check the form"), t("Please look at the form again")],
  sending: [t("Encrypting your report on this device and sending it…"), t("Locking your message and sending it…")],
  file: [t("Sending file ${i} of ${n} (${name}): ${percent}%"), t("Sending file ${i} of ${n} (${name}): ${percent}%")],
  offline: [t("Nothing was sent: the service could not be reached. Check your connection and press Send again. "
    + "Your words are still in the form."),
  t("Nothing was sent: we could not reach the service. Check your internet and press Send again. Your words are still here.")],
  failed: [t("Nothing was sent: something went wrong while sending. Your words are still in the form: please press "
    + "Send again in a moment."),
  t("Nothing was sent: something went wrong. Your words are still here. Please press Send again in a moment.")],
  busy: [t("The service is busy. Nothing was sent yet: please wait a minute and press Send again."),
    t("The service is busy. Nothing was sent yet. Please wait a minute and press Send again.")],
  nobody: [t("Nobody would be left to read your report: please untick at least one person in the list."),
    t("Nobody would be left to read your message. Please untick at least one person.")],
  fileFailed: [t("Your report was sent, but the file ${name} could not be: add it again from your report's page."),
    t("Your message was sent, but the file ${name} was not. You can add it later with your secret code.")],
};

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December"];

/** "4 March 2027" from "2027-03-04", as the server's day_words writes a day; in another language,
 *  the browser's words for it (Intl), as the server's are Babel's, or the day as it is given when
 *  the browser has no words for that language (rather than English words on a Welsh page). */
function dayWords(isoDay) {
  const [year, month, day] = isoDay.split("-").map(Number);
  if (pageLanguage === "en") return `${day} ${MONTHS[month - 1]} ${year}`;
  if (!Intl.DateTimeFormat.supportedLocalesOf([pageLanguage]).length) return isoDay;
  return new Intl.DateTimeFormat(pageLanguage, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC" })
    .format(new Date(Date.UTC(year, month - 1, day)));
}

function slugOf(target) {
  if (target.dataset.channel) return target.dataset.channel;
  // The form's address is /report/<slug>, after a language's prefix (/cy/report/<slug>) if any.
  const parts = new URL(target.action, document.baseURI).pathname.split("/");
  return decodeURIComponent(parts[parts.indexOf("report") + 1] || "");
}

class IntakePage {
  constructor(formElement, directory, channel) {
    this.form = formElement;
    this.directory = directory;
    this.slug = channel.slug;
    this.plain = formElement.dataset.plain === "true";
    this.main = document.getElementById("main");
    this.channel = {
      fields: channel.fields,
      identityModes: channel.identity_modes,
      identityFields: [...formElement.querySelectorAll("input[name^='identity.']")].map((input) => input.name.slice(9)),
      plain: this.plain,
      maxTextChars: Number(formElement.dataset.maxTextChars) || 20000,
    };
    this.api = new Api();
    // A proof of work for the service's flood limits, found while the reporter writes.
    this.work = new WorkProof(new Api());
    this.busy = false;
    this.formNodes = null;
    this.title = document.title;
  }

  words(key, values = {}) {
    return WORDS[key][this.plain ? 1 : 0].replace(/\$\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  }

  start() {
    const mode = document.getElementById("encryption-mode");
    if (mode) {
      mode.textContent = this.words("mode");
      mode.classList.add("on-device");
      const print = element("p", { class: "fingerprint help", id: "key-fingerprint" },
        `${this.words("fingerprint")} `, element("code", {}, this.directory.fingerprint));
      mode.after(print);
    }
    // Files are encrypted here, where the server cannot take hidden information out of them: this
    // page removes it from photos itself (hidden-info.js), and the note says what it does not do.
    const removal = document.getElementById("remove_metadata");
    if (removal) {
      removal.setAttribute("aria-describedby", "remove-metadata-device");
      document.getElementById("remove-metadata-help").hidden = true;
      document.getElementById("remove-metadata-device").hidden = false;
    }
    const button = this.form.querySelector("button[type='submit']");
    this.status = element("p", { id: "send-status", class: "send-status", role: "status", "aria-live": "polite" });
    button.before(this.status);
    this.button = button;
    // The form's own check, in the server's words, instead of the browser's bubbles.
    this.form.noValidate = true;
    this.form.addEventListener("submit", (event) => this.submit(event));
    window.addEventListener("popstate", () => this.showForm());
    // Nothing of the report or the receipt stays in a page the browser might keep for Back.
    window.addEventListener("pagehide", () => this.forget());
    // A page the browser kept anyway comes back as an empty form.
    window.addEventListener("pageshow", (event) => { if (event.persisted) this.showForm(); });
    this.work.start();
  }

  values() {
    const data = new FormData(this.form);
    const answers = {};
    for (const spec of this.channel.fields) {
      const all = data.getAll(`answers.${spec.name}`).filter((value) => typeof value === "string");
      answers[spec.name] = spec.type === "multiple_choice" ? all : (all[0] ?? "");
    }
    const identity = {};
    for (const name of this.channel.identityFields) identity[name] = data.get(`identity.${name}`) || "";
    return {
      text: data.get("text") || "",
      answers,
      identityMode: data.get("identity_mode") || "anonymous",
      identity,
      leftOut: data.getAll("left_out").map(Number).filter(Number.isSafeInteger),
      files: this.form.querySelector("input[type='file']")?.files || [],
      removeMetadata: data.get("remove_metadata") === "yes",
    };
  }

  clearErrors() {
    for (const node of this.main.querySelectorAll(".error-summary, .field p.error")) node.remove();
    for (const node of this.form.querySelectorAll(".field.invalid")) node.classList.remove("invalid");
  }

  showErrors(errors, message = null) {
    this.clearErrors();
    const list = element("ul");
    for (const [name, text] of Object.entries(errors)) {
      const field = document.getElementById(`field-${name}`);
      if (field) {
        field.classList.add("invalid");
        const anchor = field.querySelector("textarea, input, label.choice") || field.lastChild;
        const error = element("p", { class: "error", id: `error-${name}` }, text);
        if (anchor && anchor.parentNode) anchor.parentNode.insertBefore(error, anchor);
        else field.append(error);
      }
      list.append(element("li", {}, field ? element("a", { href: `#field-${name}` }, text) : text));
    }
    const summary = element("div", { class: "error-summary", role: "alert", tabindex: "-1" },
      element("h2", {}, this.words("summary")));
    if (message) summary.append(element("p", {}, message));
    if (list.children.length) summary.append(list);
    const heading = this.main.querySelector("h1");
    heading.after(summary);
    summary.focus();
  }

  async submit(event) {
    event.preventDefault();
    if (this.busy) return;
    const values = this.values();
    const { report, errors } = checkReport(this.channel, values);
    if (!report) {
      this.showErrors(errors);
      return;
    }
    this.busy = true;
    this.button.disabled = true;
    this.clearErrors();
    this.status.textContent = this.words("sending");
    let sent;
    try {
      sent = await sendCase(this.api, this.directory, this.slug, report, {
        leftOut: values.leftOut,
        refetch: async () => (this.directory = await fetchDirectory(this.api, this.slug)),
        proof: await this.work.proof(),
      });
    } catch (error) {
      this.failed(error);
      return;
    }
    // That proof is used now: the next report from this page gets its own.
    this.work.start();
    // From here the case exists: whatever happens to the files, the receipt must be shown.
    this.api.token = sent.answer.token;
    const notSent = [];
    const files = [...values.files];
    for (const [i, chosen] of files.entries()) {
      try {
        const { file, outcome } = values.removeMetadata ? await removeHiddenInfo(chosen)
          : { file: chosen, outcome: null };
        await uploadFile(this.api, file, sent.built.caseKeys.publicKey, sent.built.ref, {
          metadataRemoval: outcome,
          onProgress: (done, total) => {
            this.status.textContent = this.words("file", {
              i: i + 1, n: files.length, name: file.name, percent: total ? Math.floor((100 * done) / total) : 100,
            });
          },
        });
      } catch {
        notSent.push(chosen.name);
      }
    }
    try {
      await this.api.request("DELETE", "/api/v1/reporter/session");
    } catch {
      // It ends by itself after a while idle; the receipt matters more.
    }
    this.api.token = null;
    this.showReceipt(sent.built.receipt, sent.answer.case, notSent, sent.answer.acknowledge_by);
  }

  failed(error) {
    this.busy = false;
    this.button.disabled = false;
    this.status.textContent = "";
    if (error instanceof NobodyToReceive) {
      this.showErrors({ left_out: this.words("nobody") });
    } else if (error instanceof ApiError && error.status === 422 && error.problem.errors) {
      this.showErrors(error.problem.errors);
    } else if (error instanceof ApiError && error.status === 429) {
      this.showErrors({}, this.words("busy"));
    } else if (error instanceof NetworkError) {
      this.showErrors({}, this.words("offline"));
    } else {
      this.showErrors({}, error instanceof ApiError && error.problem.detail ? error.problem.detail : this.words("failed"));
    }
  }

  wipeForm() {
    for (const field of this.form.querySelectorAll("textarea, input")) {
      if (field.type === "hidden") continue;
      if (field.type === "checkbox" || field.type === "radio") {
        field.checked = field.name === "identity_mode" && field.value === "anonymous";
        field.defaultChecked = field.checked;
      } else {
        field.value = "";
        if (field.type !== "file") field.defaultValue = "";
      }
    }
    this.status.textContent = "";
    this.clearErrors();
    this.button.disabled = false;
    this.busy = false;
  }

  pageNodes() {
    return [...this.main.children].filter((node) => !node.matches("aside.help-now, template"));
  }

  showReceipt(receipt, ref, notSent, answerBy) {
    this.wipeForm();
    const template = document.getElementById("receipt-template");
    const view = template.content.cloneNode(true);
    view.querySelector("[data-slot='receipt']").textContent = receipt;
    view.querySelector("[data-slot='case-ref']").textContent = ref;
    const answerByLine = view.querySelector("[data-slot-line='answer-by']");
    if (answerBy && answerByLine) {
      answerByLine.textContent = answerByLine.dataset.words.replace("{day}", dayWords(answerBy));
      answerByLine.hidden = false;
    }
    const heading = view.querySelector("h1");
    for (const name of notSent) heading.after(element("p", { class: "error", role: "alert" }, this.words("fileFailed", { name })));
    this.formNodes = this.pageNodes();
    for (const node of this.formNodes) node.remove();
    this.main.append(view);
    document.title = template.dataset.title || this.title;
    // The form's own address, so the receipt page's keeps the page's language prefix (/cy/…).
    const formPath = new URL(this.form.action, document.baseURI).pathname;
    history.pushState({ whistle: "receipt" }, "", `${formPath}/receipt`);
    // As the server's receipt page does: after 15 minutes the receipt is no longer shown.
    this.expiry = setTimeout(() => window.location.replace(window.location.href), RECEIPT_SHOWN_MS);
    window.scrollTo(0, 0);
    const shown = this.main.querySelector("h1");
    shown.setAttribute("tabindex", "-1"); // so a screen reader starts reading the receipt page
    shown.focus();
  }

  showForm() {
    clearTimeout(this.expiry);
    if (!this.formNodes) return;
    for (const node of this.pageNodes()) node.remove();
    for (const node of this.formNodes) this.main.append(node);
    this.formNodes = null;
    document.title = this.title;
  }

  forget() {
    this.wipeForm();
    if (this.formNodes) for (const node of this.pageNodes()) node.remove();
    clearTimeout(this.expiry);
  }
}

async function start() {
  if (!form) return;
  const api = new Api();
  const slug = slugOf(form);
  const [directory, { channels }] = await Promise.all([fetchDirectory(api, slug), api.get("/api/v1/channels")]);
  const channel = channels.find((entry) => entry.slug === slug);
  if (!channel || !directory.document.channels[slug]) return;
  new IntakePage(form, directory, channel).start();
}

// Any failure here leaves the form as the server sent it: it then posts without JavaScript.
start().catch(() => {});
