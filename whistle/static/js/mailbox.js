// The reporter's mailbox, decrypted on this device (docs/crypto.md 6.2.1, 6.12, 7.2).
//
// Progressive enhancement of the receipt form (templates/reporters/login.jinja2): a receipt of
// version 2 is turned into the lookup value and the reporter's keys here, an end-to-end session
// (ciphertext only) is opened with the lookup value, the case key is checked against the binding,
// and the conversation is decrypted and shown in this page. Replies are encrypted to the checked
// case key, files are encrypted and uploaded in chunks, downloads are decrypted as they arrive.
// The session token and the keys live in this page's memory only. A receipt of version 1, or any
// failure to load, leaves the form to post as it does without JavaScript.

import { InvalidReceipt, receiptVersion, toBase64 } from "./crypto.js";
import { element, fill } from "./dom.js";
import { pageLanguage, t } from "./i18n.js";
import { removeHiddenInfo } from "./hidden-info.js";
import { warnBeforeIdleEnd } from "./session-timeout.js";
import {
  Api, ApiError, CaseKeysRefused, NetworkError, checkedTeamKey, downloadFile, fetchAnyDirectory, identityItem,
  messageItem, readEnvelopes, receiptKeys, speakUpItem, unlockCase, uploadFile,
} from "./reporter.js";

const MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
  "November", "December"];
const UNKNOWN_RECEIPT = t("We could not open a report with that receipt. Check each character and try again.");
const TOO_MANY = t("Very many receipts are being tried on this service right now, so it is too busy to check yours. "
  + "Nothing is wrong with your report. Please wait a minute and try again.");
const WORDS = {
  loginMode: t("A receipt of 24 letters and digits opens your report on this device: it is decrypted here, and what "
    + "you send is encrypted here before it leaves. A receipt of 20 is opened by the service."),
  mode: t("Encrypted on this device: this page decrypts your report here, and encrypts what you send before it leaves."),
  opening: t("Opening your report on this device…"),
  offline: t("The service could not be reached. Check your connection and try again."),
  failed: t("Something went wrong. Nothing you wrote is lost: please try again in a moment."),
  refused: t("Your report could not be opened safely: its keys do not match your receipt. Nothing was shown or sent. "
    + "Please tell the organisation, or send a new report."),
  ended: t("Your visit has ended. Enter your receipt to open your report again."),
  messageEmpty: t("Write a message or choose a file to send."),
  sending: t("Encrypting and sending…"),
  file: t("Sending file {i} of {n} ({name}): {percent}%"),
  sent: t("Sent."),
  fileFailed: t("The file {name} could not be sent. Please try again."),
  downloading: t("Decrypting {name}…"),
  downloadFailed: t("{name} could not be opened: it may have been changed after it was sent. It was not saved."),
  replyRefused: t("Your message was not sent: your report's keys no longer match your receipt, so it could not be "
    + "sent safely. Nothing was sent. Please tell the organisation, or send a new report."),
  identityRefused: t("Your details were not sent: your report's keys no longer match your receipt, so they could not "
    + "be sent safely. Nothing was sent. Please tell the organisation another way."),
  identityNotYet: t("Your details were not sent: they can be sent safely only after the people handling your report "
    + "have opened it. Please try again in a few days."),
  withdrawConfirm: t("Tick the box to confirm that you want to withdraw your report."),
  chooseAnswer: t("Choose yes, no or not sure."),
};
// Where the case is, as the API says it (in English: reporters/services.py STATUS_WORDS and
// STATUS_WORDS_PLAIN), in the page's language.
const STATUS_WORDS = {
  "Your report has arrived. Nobody has confirmed reading it yet.":
    t("Your report has arrived. Nobody has confirmed reading it yet."),
  "Your report has been read and acknowledged by the people handling it.":
    t("Your report has been read and acknowledged by the people handling it."),
  "The people handling your report are deciding what to do about it.":
    t("The people handling your report are deciding what to do about it."),
  "Your concern is being looked into.": t("Your concern is being looked into."),
  "You have been told what was done. The case is still open in case you want to reply.":
    t("You have been told what was done. The case is still open in case you want to reply."),
  "This case is closed. You can still read everything here.": t("This case is closed. You can still read everything here."),
  "We have got your message. Someone will read it soon.": t("We have got your message. Someone will read it soon."),
  "Someone has read your message.": t("Someone has read your message."),
  "The people helping you are deciding what to do.": t("The people helping you are deciding what to do."),
  "The people helping you are looking into it.": t("The people helping you are looking into it."),
  "The people helping you have told you what they did. You can still write back.":
    t("The people helping you have told you what they did. You can still write back."),
  "This is finished. You can still read everything here.": t("This is finished. You can still read everything here."),
  "The people handling your report are working on it.": t("The people handling your report are working on it."),
};
const SPEAK_UP_LABELS = { yes: t("Yes"), no: t("No"), not_sure: t("Not sure") };

function dayWords(text) {
  const match = /^(\d{4})-(\d{2})-(\d{2})/.exec(text || "");
  if (!match) return "";
  if (pageLanguage !== "en") {
    // The page's language says the month's name (the server's words say "5 December 2026" in English).
    const day = new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3])));
    return new Intl.DateTimeFormat(pageLanguage, { day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
      numberingSystem: "latn" }).format(day); // Western digits, as the server's dates have
  }
  return `${Number(match[3])} ${MONTHS[Number(match[2]) - 1]} ${match[1]}`;
}

function sizeWords(size) {
  if (size < 1000) return `${size} bytes`;
  if (size < 1000 ** 2) return `${Math.round(size / 1000)} kB`;
  if (size < 1000 ** 3) return `${(size / 1000 ** 2).toFixed(1)} MB`;
  return `${(size / 1000 ** 3).toFixed(1)} GB`;
}

function field(id, labelText, control, help = null) {
  return element("div", { class: "field", id: `field-${id}` }, element("label", { for: id }, labelText), help, control);
}

/** The channel of the case as GET /api/v1/channels describes it (its questions' labels, the ways it offers to say who one is). */
function channelOf(envelopes, channels) {
  return channels.find((entry) => entry.slug === envelopes.channel) || null;
}

class Mailbox {
  constructor(loginForm) {
    this.loginForm = loginForm;
    this.main = document.getElementById("main");
    this.loginNodes = null;
    // Under the page's language prefix, so the news comes in the page's language (the rest of the
    // API is English under any prefix).
    this.api = new Api({ base: loginForm.dataset.apiBase || "" });
    this.session = null; // {reporter, caseKeys, ref, envelopes} while the report is open
    this.idle = null; // the warning before the session ends on idle, while the report is open
    this.draft = "";
    // Whether this service offers to remove hidden information from files (the metadata_removal
    // plugin): the page then offers it for photos, which it cleans itself (hidden-info.js).
    this.offerRemoval = loginForm.dataset.removeMetadata === "true";
    // The mailbox's own addresses, as the server built them (in the page's language).
    this.caseUrl = loginForm.dataset.caseUrl;
    this.leaveUrl = loginForm.dataset.leaveUrl;
  }

  start() {
    const mode = document.getElementById("encryption-mode");
    if (mode) {
      mode.textContent = WORDS.loginMode;
      mode.classList.add("on-device");
    }
    this.loginStatus = element("p", { id: "open-status", class: "send-status", role: "status", "aria-live": "polite" });
    this.loginForm.querySelector("button[type='submit']").before(this.loginStatus);
    this.loginForm.addEventListener("submit", (event) => this.login(event));
    window.addEventListener("pagehide", () => this.forget());
    // A page the browser kept anyway comes back as the receipt form, the visit ended.
    window.addEventListener("pageshow", (event) => { if (event.persisted && this.loginNodes) this.leave(); });
    // Back to the receipt form's own address ends the visit; Back within the mailbox (after "sent") does not.
    window.addEventListener("popstate", () => {
      if (this.session && window.location.pathname !== this.caseUrl) this.leave();
    });
  }

  // --- signing in --------------------------------------------------------------------------

  receiptError(text) {
    const box = this.loginForm.querySelector("#field-receipt");
    box.querySelector("p.error")?.remove();
    box.classList.add("invalid");
    box.querySelector("label").after(element("p", { class: "error", id: "error-receipt", role: "alert" }, text));
    this.loginForm.querySelector("#receipt").focus();
  }

  async login(event) {
    const input = this.loginForm.querySelector("#receipt");
    let version;
    try {
      version = receiptVersion(input.value);
    } catch (error) {
      if (error instanceof InvalidReceipt) return; // the server says what is wrong with it, as without JavaScript
      throw error;
    }
    if (version !== 2) return; // a receipt of version 1 opens only on the server: the form posts
    event.preventDefault();
    if (this.busy) return;
    this.busy = true;
    this.loginStatus.textContent = WORDS.opening;
    try {
      const directory = await fetchAnyDirectory(this.api);
      const reporter = receiptKeys(input.value, directory.document);
      const answer = await this.api.post("/api/v1/reporter/session", { lookup_value: toBase64(reporter.lookupValue) });
      this.api.token = answer.token;
      this.session = { reporter };
      await this.refresh({ pushed: false });
      this.watchIdle(answer.expires_in);
      input.value = "";
    } catch (error) {
      this.loginStatus.textContent = "";
      this.session = null;
      await this.endSession();
      if (error instanceof ApiError && error.status === 401) this.receiptError(UNKNOWN_RECEIPT);
      else if (error instanceof ApiError && error.status === 429) this.receiptError(TOO_MANY);
      else if (error instanceof CaseKeysRefused) this.receiptError(WORDS.refused);
      else if (error instanceof NetworkError) this.receiptError(WORDS.offline);
      else {
        // No usable key directory, or the service cannot serve this end to end: the server opens
        // the receipt, as it does without JavaScript.
        this.busy = false;
        this.loginForm.submit();
      }
    } finally {
      this.busy = false;
    }
  }

  // --- reading -----------------------------------------------------------------------------

  async refresh({ pushed = true } = {}) {
    const envelopes = await this.api.get("/api/v1/reporter/envelopes");
    if (!this.channels) this.channels = (await this.api.get("/api/v1/channels")).channels;
    const caseKeys = unlockCase(envelopes, this.session.reporter);
    this.session.caseKeys = caseKeys;
    this.session.ref = envelopes.case;
    this.session.envelopes = envelopes;
    this.session.view = readEnvelopes(envelopes, caseKeys);
    this.session.channel = channelOf(envelopes, this.channels);
    this.render();
    if (!pushed) history.pushState({ whistle: "mailbox" }, "", this.caseUrl);
  }

  /**
   * The case's keys as the server holds them now, checked again (unlockCase) before anything is
   * encrypted to them: a key or grant changed in the database while this page was open is refused
   * in plain words, before anything is sent, rather than noticed only after.
   */
  async currentKeys() {
    const envelopes = await this.api.get("/api/v1/reporter/envelopes");
    return { envelopes, caseKeys: unlockCase(envelopes, this.session.reporter) };
  }

  render() {
    const view = this.session.view;
    if (!this.loginNodes) this.loginNodes = this.pageNodes();
    for (const node of this.pageNodes()) node.remove();
    document.title = `${t("Your report")} · whistle`;
    const content = [
      element("h1", { tabindex: "-1" }, t("Your report")),
      element("p", { id: "encryption-mode", class: "mode-line on-device" }, WORDS.mode),
      this.renderNews(view),
      element("dl", { class: "meta" },
        element("dt", {}, t("Reference")), element("dd", {}, view.ref),
        element("dt", {}, t("Sent on")), element("dd", {}, dayWords(view.opened)),
        element("dt", {}, t("Where things are")), element("dd", { class: "status" }, STATUS_WORDS[view.statusText] || view.statusText || "")),
      element("p", { class: "help" },
        t("When you have finished, press \"Leave\". If you do nothing for a while you will be signed out anyway.")),
      this.renderWithdrawn(),
      this.renderSpeakUp(),
      this.renderConversation(view),
      this.renderFiles(view),
      this.withdrawn() ? null : this.renderReply(),
      this.withdrawn() ? null : this.renderIdentity(view),
      this.renderBoard(),
      this.renderWithdraw(view),
      this.renderSent(view),
    ];
    for (const node of content) if (node) this.main.append(node);
    this.showLeave();
  }

  renderNews(view) {
    // GET /api/v1/reporter/envelopes gives what changed as the mailbox page shows it (reporters/news.py).
    const news = view.news;
    const summary = news && Array.isArray(news.summary) ? news.summary : [];
    if (!summary.length) return null;
    const [headline, ...lines] = summary;
    const section = element("section", { id: "news", class: "news", "aria-labelledby": "news-title" },
      element("h2", { id: "news-title" }, t("What is new")), element("p", { class: "headline" }, headline));
    if (lines.length) section.append(element("ul", { class: "news-items" }, ...lines.map((line) => element("li", {}, line))));
    if (news.check_back && news.check_back.text) {
      section.append(element("p", { class: "check-back", id: "check-back" }, news.check_back.text));
    }
    return section;
  }

  renderConversation(view) {
    const section = element("section", { id: "conversation" }, element("h2", {}, t("Messages")));
    if (!view.messages.length) {
      section.append(element("p", {}, t("No messages yet. The people handling your report will write here.")));
      return section;
    }
    const list = element("ol", { class: "messages" });
    for (const message of view.messages) {
      if (message.erased) {
        list.append(element("li", { class: "message erased" },
          element("p", { class: "who" }, t("A message, ${day}", { day: dayWords(message.at) })),
          element("div", { class: "text" }, String(message.words))));
        continue;
      }
      if (message.unverified) {
        list.append(element("li", { class: "message unverified" },
          element("p", { class: "who" }, t("A message, ${day}", { day: dayWords(message.at) })),
          element("div", { class: "text" },
            t("This message could not be checked, so it is not shown. It may have been changed after it was sent."))));
        continue;
      }
      const day = dayWords(message.at);
      const who = message.from === "reporter" ? t("You, ${day}", { day })
        : t("The people handling your report, ${day}", { day });
      const hint = message.authorSealed ? null
        : element("span", { class: "hint" }, " ", t("(sent before this service sealed who wrote each message)"));
      list.append(element("li", { class: `message from-${message.from}` },
        element("p", { class: "who" }, who, hint),
        element("div", { class: "text", dir: "auto" }, message.text)));
    }
    section.append(list);
    return section;
  }

  renderFiles(view) {
    const section = element("section", { id: "files" }, element("h2", {}, t("Files")));
    if (!view.attachments.length) {
      section.append(element("p", {}, t("No files yet.")));
      return section;
    }
    const list = element("ul", { class: "attachments" });
    for (const file of view.attachments) {
      if (file.erased) {
        list.append(element("li", { class: "erased" }, t("A file: ${words}", { words: file.words })));
        continue;
      }
      if (!file.verified) {
        list.append(element("li", { class: "unverified" },
          t("A file that could not be checked, so it is not offered. It may have been changed after it was sent.")));
        continue;
      }
      const link = element("a", { href: `${this.caseUrl}/attachments/${file.id}`, "data-file": String(file.id), dir: "ltr" }, file.name);
      link.addEventListener("click", (event) => { event.preventDefault(); this.download(file); });
      const size = sizeWords(file.size);
      const about = file.from === "reporter" ? size : t("${size}, from the people handling your report", { size });
      list.append(element("li", {}, link, ` (${about})`));
    }
    section.append(list);
    section.append(element("p", { id: "download-status", class: "send-status", role: "status", "aria-live": "polite" }));
    return section;
  }

  renderReply() {
    const text = element("textarea", { id: "text", name: "text", rows: "6", autocomplete: "off" });
    text.value = this.draft;
    const files = element("input", { id: "reply-files", name: "files", type: "file", multiple: true });
    const status = element("p", { id: "reply-status", class: "send-status", role: "status", "aria-live": "polite" });
    const removal = this.offerRemoval ? this.removalField() : null;
    const form = element("form", { id: "message-form", autocomplete: "off", novalidate: true },
      field("text", t("Your message"), text),
      ...(removal ? [removal] : []),
      field("reply-files", element("span", {}, t("Files"), " ", element("span", { class: "optional" }, t("(optional)"))), files,
        element("p", { class: "help" }, removal
          ? t("Photos and documents can contain hidden details, such as where and when a photo was taken or who wrote "
            + "a document. They are encrypted on this device before they are sent.")
          : t("Photos and documents can contain hidden details, such as where and when a photo was taken or who wrote "
            + "a document. They are encrypted on this device before they are sent, so that hidden information is not "
            + "taken out of them."))),
      status,
      element("button", { type: "submit", class: "button primary" }, t("Send securely")));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.reply(form, text, files, status); });
    return element("section", { id: "reply" }, element("h2", {}, t("Send a message or add files")), form);
  }

  /** The box "Remove hidden information…", ticked, as the page without JavaScript has it, with
   *  what this page does: photos only (intake/_remove_metadata.jinja2 says the same). */
  removalField() {
    const box = element("input", { type: "checkbox", id: "remove_metadata", name: "remove_metadata", value: "yes",
      "aria-describedby": "remove-metadata-device" });
    box.checked = true;
    return element("div", { class: "field", id: "field-remove-metadata" },
      element("label", { class: "choice" }, box, " ", t("Remove hidden information (like location and author) from my files")),
      element("p", { class: "help", id: "remove-metadata-device" }, t("Your files are encrypted on this device before they "
        + "leave it, so the service never sees them. With this ticked, this page takes hidden information out of photos "
        + "(JPEG and PNG) first; PDFs, office documents and other files are sent as they are, with theirs. Without "
        + "JavaScript, the service also removes it from PDFs and office documents.")));
  }

  renderIdentity(view) {
    const section = element("section", { id: "identity" }, element("h2", {}, t("Who you are")));
    if (view.identityGiven) {
      section.append(element("p", {}, t("You told us who you are. Only the people handling your report can see it.")));
      return section;
    }
    const modes = this.identityModes().filter((mode) => mode !== "anonymous");
    if (!modes.length) {
      section.append(element("p", {}, t("You are anonymous.")));
      return section;
    }
    const labels = { confidential: t("Only the people handling my concern"), open: t("I am happy for it to be known") };
    const choices = modes.map((mode) => element("label", { class: "choice" },
      element("input", { type: "radio", name: "identity_mode", value: mode }), ` ${labels[mode] || mode}`));
    const name = element("input", { id: "identity.name", name: "identity.name", type: "text", autocomplete: "off" });
    const contact = element("input", { id: "identity.contact", name: "identity.contact", type: "text", autocomplete: "off" });
    const staff = this.session.channel?.reporters_are_staff !== false;
    const personnel = staff
      ? field("identity.personnel_id", t("Staff number (optional)"),
        element("input", { id: "identity.personnel_id", name: "identity.personnel_id", type: "text", autocomplete: "off" }))
      : null;
    const status = element("p", { id: "identity-status", class: "send-status", role: "status", "aria-live": "polite" });
    const form = element("form", { id: "identity-form", autocomplete: "off", novalidate: true },
      element("div", { class: "field", id: "field-identity_mode" },
        element("fieldset", {}, element("legend", {}, t("Who may know your name?")), ...choices)),
      field("identity.name", t("Your name"), name),
      field("identity.contact", t("How we can reach you (optional)"), contact),
      ...(personnel ? [personnel] : []),
      status,
      element("button", { type: "submit", class: "button" }, t("Tell them who I am")));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.reveal(form, status); });
    section.append(element("p", {}, t("You are anonymous. If you want, you can tell the people handling your report who "
      + "you are. You cannot take this back later.")), form);
    return section;
  }

  // "Would you speak up again?", once the case is closed (not withdrawn): the answer is metadata, the
  // comment is encrypted here to the checked case key (kind speak-up-comment) before it is sent.
  renderSpeakUp() {
    const envelopes = this.session.envelopes;
    if (!envelopes.speak_up_asked) return null;
    const answered = envelopes.speak_up_again;
    const section = element("section", { id: "speak-up", class: "news", "aria-labelledby": "speak-up-title" },
      element("h2", { id: "speak-up-title" }, answered ? t("Your answer: would you speak up again?") : t("Would you speak up again?")),
      element("p", {}, answered
        ? t("You answered: ${answer}. Thank you. You can change your answer below.",
          { answer: SPEAK_UP_LABELS[answered] || answered })
        : t("Your report is closed. Knowing whether you would raise a concern again, after how this one was handled, "
          + "helps the organisation make speaking up safer. Answering is up to you.")));
    const choices = Object.entries(SPEAK_UP_LABELS).map(([value, words]) => element("label", { class: "choice" },
      element("input", { type: "radio", name: "answer", value, ...(answered === value ? { checked: true } : {}) }), ` ${words}`));
    const comment = element("textarea", { id: "comment", name: "comment", rows: "3", autocomplete: "off" });
    const status = element("p", { id: "speak-up-status", class: "send-status", role: "status", "aria-live": "polite" });
    const form = element("form", { id: "speak-up-form", autocomplete: "off", novalidate: true },
      element("div", { class: "field", id: "field-answer" },
        element("fieldset", {}, element("legend", {}, t("Your answer")), ...choices)),
      field("comment", element("span", {}, t("Would you like to say why?"), " ",
        element("span", { class: "optional" }, t("(optional)"))),
      comment, element("p", { class: "help" }, t("Only the people who handled your report can read it. It is encrypted on "
        + "this device before it is sent."))),
      status, element("button", { type: "submit", class: "button" }, answered ? t("Change my answer") : t("Send my answer")));
    form.addEventListener("submit", (event) => { event.preventDefault(); this.speakUp(form, comment, status); });
    section.append(form);
    return section;
  }

  async speakUp(form, comment, status) {
    if (this.busy) return;
    this.clearFieldErrors(form);
    const answer = new FormData(form).get("answer");
    if (!answer) {
      this.fieldError(form, "answer", WORDS.chooseAnswer);
      return;
    }
    this.busy = true;
    try {
      const body = { answer };
      if (comment.value.trim()) {
        const { caseKeys } = await this.currentKeys();
        status.textContent = WORDS.sending;
        body.item = speakUpItem(caseKeys, this.session.ref, comment.value.trim());
      }
      await this.api.post("/api/v1/reporter/speak-up", body);
      await this.refresh();
      document.getElementById("speak-up-status").textContent = WORDS.sent;
    } catch (error) {
      status.textContent = "";
      if (error instanceof ApiError && error.status === 401) this.ended();
      else if (error instanceof CaseKeysRefused) status.textContent = WORDS.replyRefused;
      else if (error instanceof ApiError && error.problem && error.problem.detail) status.textContent = error.problem.detail;
      else status.textContent = error instanceof NetworkError ? WORDS.offline : WORDS.failed;
    } finally {
      this.busy = false;
    }
  }

  // The "you said, we did" board (a channel with the board only): the entries about this idea, and
  // whether the organisation may quote the reporter's words, changeable until one is published.
  renderBoard() {
    const board = this.session.envelopes.board;
    if (!board) return null;
    const section = element("section", { id: "board", "aria-labelledby": "board-title" },
      element("h2", { id: "board-title" }, t("“You said, we did”")));
    for (const entry of board.acted_on || []) {
      section.append(element("p", { class: "acted-on" },
        element("strong", {}, t("Your idea was acted on:"), " ", element("a", { href: entry.url }, entry.title))));
    }
    if (board.locked) {
      section.append(element("p", {}, board.consent ? t("You agreed that your words could be quoted on the board.")
        : t("You did not agree to be quoted, so the board uses the organisation's own words.")));
      return section;
    }
    const consent = element("input", { type: "checkbox", name: "consent", value: "yes", ...(board.consent ? { checked: true } : {}) });
    const status = element("p", { id: "board-status", class: "send-status", role: "status", "aria-live": "polite" });
    const form = element("form", { id: "board-consent-form", novalidate: true },
      element("div", { class: "field", id: "field-board-consent" },
        element("label", { class: "choice" }, consent, " ", t("You may quote my words on the board"))),
      status, element("button", { type: "submit", class: "button" }, t("Save my choice")));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (this.busy) return;
      this.busy = true;
      try {
        await this.api.post("/api/v1/reporter/board-consent", { consent: consent.checked });
        await this.refresh();
        document.getElementById("board-status").textContent = WORDS.sent;
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) this.ended();
        else if (error instanceof ApiError && error.problem && error.problem.detail) status.textContent = error.problem.detail;
        else status.textContent = error instanceof NetworkError ? WORDS.offline : WORDS.failed;
      } finally {
        this.busy = false;
      }
    });
    section.append(element("p", {}, t("When an idea is acted on, the organisation may say so on its public “you said, we "
      + "did” board, in its own words. It will only quote your words if you agree.")), form);
    return section;
  }

  withdrawn() {
    return this.session.envelopes.withdrawn_on || null;
  }

  renderWithdrawn() {
    const day = this.withdrawn();
    if (!day) return null;
    return element("section", { id: "withdrawn", class: "news" }, element("h2", {}, t("You withdrew this report")),
      element("p", {}, t("You withdrew this report on ${day}. Nobody is working on it any more and nothing "
        + "more can be sent to it. It will be deleted as the organisation's rules say.", { day: dayWords(day) })),
      element("p", {}, t("If you want to raise something, you can send a new report.")));
  }

  // Withdrawing: the same warning as the page without JavaScript (reporters/withdraw.jinja2), then POST
  // /api/v1/reporter/withdrawal. It carries no content, so nothing is encrypted.
  renderWithdraw(view) {
    if (view.status === "closed") return null;
    const section = element("section", { id: "withdraw" }, element("h2", {}, t("Withdraw your report")),
      element("p", {}, t("If you no longer want your report to be handled, you can withdraw it. You cannot undo this.")));
    const open = element("button", { type: "button", class: "button" }, t("Withdraw my report"));
    open.addEventListener("click", () => {
      open.remove();
      const days = this.session.envelopes.retention_withdrawn_days ?? 0;
      const deleted = days === 0
        ? t("It will be deleted within a day. The organisation may have to keep it for longer if the law requires it "
          + "(a legal hold).")
        : days === 1
          ? t("It will be deleted 1 day after you withdraw it. The organisation may have to keep it for longer if the "
            + "law requires it (a legal hold).")
          : t("It will be deleted ${days} days after you withdraw it. The organisation may have to keep it for longer "
            + "if the law requires it (a legal hold).", { days });
      const confirm = element("input", { type: "checkbox", name: "confirm", value: "yes" });
      const status = element("p", { id: "withdraw-status", class: "send-status", role: "status", "aria-live": "polite" });
      const form = element("form", { id: "withdraw-form", novalidate: true },
        element("section", { id: "withdraw-warning", class: "warning" }, element("h3", {}, t("What withdrawing means")),
          element("ul", {},
            element("li", {}, t("The people handling your report will stop working on it. They will be told that you "
              + "withdrew it, not why.")),
            element("li", {}, t("Your report will be closed. You will still be able to read it with your receipt until "
              + "it is deleted, but you will not be able to send anything more.")),
            element("li", {}, deleted),
            element("li", {}, t("You cannot undo this.")))),
        element("div", { class: "field", id: "field-confirm" },
          element("label", { class: "choice" }, confirm, " ", t("I understand, and I want to withdraw my report"))),
        status, element("button", { type: "submit", class: "button" }, t("Withdraw my report")));
      form.addEventListener("submit", (event) => { event.preventDefault(); this.withdraw(form, confirm, status); });
      section.append(form);
    });
    section.append(open);
    return section;
  }

  async withdraw(form, confirm, status) {
    if (this.busy) return;
    this.clearFieldErrors(form);
    if (!confirm.checked) {
      const box = form.querySelector("#field-confirm");
      box.classList.add("invalid");
      box.prepend(element("p", { class: "error", id: "error-confirm", role: "alert" }, WORDS.withdrawConfirm));
      return;
    }
    this.busy = true;
    try {
      await this.api.post("/api/v1/reporter/withdrawal", { confirm: true });
      await this.refresh();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.ended();
      else if (error instanceof ApiError && error.problem && error.problem.detail) status.textContent = error.problem.detail;
      else status.textContent = error instanceof NetworkError ? WORDS.offline : WORDS.failed;
    } finally {
      this.busy = false;
    }
  }

  identityModes() {
    const channel = this.session.channel;
    return channel ? channel.identity_modes : [];
  }

  renderSent(view) {
    const section = element("section", { id: "what-you-sent" }, element("h2", {}, t("What you sent")));
    if (view.lost.includes("disclosure")) {
      section.append(element("p", { class: "unverified" },
        t("What you sent could not be checked, so it is not shown here. It may have been changed after it was sent.")));
    } else {
      section.append(element("div", { class: "disclosure", dir: "auto" }, view.text));
    }
    const fields = this.session.channel ? this.session.channel.fields : [];
    const labels = Object.fromEntries(fields.map((spec) => [spec.name, spec.label]));
    const yesNo = new Set(fields.filter((spec) => spec.type === "yes_no").map((spec) => spec.name));
    const entries = Object.entries(view.answers);
    if (entries.length) {
      const list = element("dl", { class: "answers" });
      for (const [name, answer] of entries) {
        list.append(element("dt", {}, labels[name] || t("Another answer")),
          element("dd", {}, Array.isArray(answer) ? answer.join(", ")
            : yesNo.has(name) ? SPEAK_UP_LABELS[answer] || String(answer).charAt(0).toUpperCase() + String(answer).slice(1)
              : String(answer)));
      }
      section.append(list);
    }
    return section;
  }

  pageNodes() {
    return [...this.main.children].filter((node) => !node.matches("aside.help-now"));
  }

  showLeave() {
    if (document.getElementById("leave-form")) return;
    const button = element("button", { type: "submit", class: "button" }, t("Leave"));
    const leave = element("form", { id: "leave-form", class: "leave", method: "post", action: this.leaveUrl }, button);
    leave.addEventListener("submit", async (event) => {
      event.preventDefault();
      await this.endSession();
      this.wipe();
      leave.submit(); // the server's page that says the report is closed on this device
    });
    document.querySelector("header.site").append(leave);
  }

  // --- writing -----------------------------------------------------------------------------

  progress(status, i, n, file) {
    return (done, total) => {
      status.textContent = fill(WORDS.file, {
        i, n, name: file.name, percent: total ? Math.floor((100 * done) / total) : 100,
      });
    };
  }

  fieldError(form, id, text) {
    const box = form.querySelector(`#field-${CSS.escape(id)}`);
    box.classList.add("invalid");
    box.querySelector("p.error")?.remove();
    box.querySelector("label, legend").after(element("p", { class: "error", id: `error-${id}`, role: "alert" }, text));
  }

  clearFieldErrors(form) {
    for (const node of form.querySelectorAll("p.error")) node.remove();
    for (const node of form.querySelectorAll(".invalid")) node.classList.remove("invalid");
  }

  async reply(form, textBox, filesBox, status) {
    if (this.busy) return;
    this.clearFieldErrors(form);
    const text = textBox.value;
    const files = [...filesBox.files];
    const removeMetadata = Boolean(form.querySelector("#remove_metadata")?.checked);
    if (!text.trim() && !files.length) {
      this.fieldError(form, "text", WORDS.messageEmpty);
      textBox.focus();
      return;
    }
    this.busy = true;
    form.querySelector("button").disabled = true;
    const { ref } = this.session;
    try {
      const { caseKeys } = await this.currentKeys();
      if (text.trim()) {
        status.textContent = WORDS.sending;
        await this.api.post("/api/v1/reporter/messages", { item: messageItem(caseKeys, ref, text.trim()) });
        textBox.value = "";
        this.draft = "";
      }
      const failed = [];
      for (const [i, chosen] of files.entries()) {
        try {
          const { file, outcome } = removeMetadata ? await removeHiddenInfo(chosen) : { file: chosen, outcome: null };
          await uploadFile(this.api, file, caseKeys.publicKey, ref,
            { onProgress: this.progress(status, i + 1, files.length, file), metadataRemoval: outcome });
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) throw error;
          failed.push(chosen.name);
        }
      }
      filesBox.value = "";
      await this.refresh();
      const newStatus = document.getElementById("reply-status");
      newStatus.textContent = failed.length ? failed.map((name) => fill(WORDS.fileFailed, { name })).join(" ") : WORDS.sent;
      history.pushState({ whistle: "mailbox" }, "", `${this.caseUrl}#sent`);
    } catch (error) {
      status.textContent = "";
      this.draft = textBox.value;
      if (error instanceof ApiError && error.status === 401) this.ended();
      else if (error instanceof CaseKeysRefused) this.fieldError(form, "text", WORDS.replyRefused);
      else if (error instanceof ApiError && error.status === 422 && error.problem.errors) {
        this.fieldError(form, "text", Object.values(error.problem.errors).join(" "));
      } else this.fieldError(form, "text", error instanceof NetworkError ? WORDS.offline : WORDS.failed);
    } finally {
      this.busy = false;
      const button = form.querySelector("button");
      if (button) button.disabled = false;
    }
  }

  async reveal(form, status) {
    if (this.busy) return;
    this.clearFieldErrors(form);
    const data = new FormData(form);
    const mode = data.get("identity_mode");
    const name = (data.get("identity.name") || "").trim();
    const contact = (data.get("identity.contact") || "").trim();
    const personnelId = (data.get("identity.personnel_id") || "").trim();
    if (!mode) {
      this.fieldError(form, "identity_mode", t("Choose one of the ways offered to tell us (or not) who you are."));
      return;
    }
    if (!name) {
      this.fieldError(form, "identity.name", t("Give your name, or choose to stay anonymous."));
      return;
    }
    this.busy = true;
    try {
      const { envelopes, caseKeys } = await this.currentKeys();
      const team = checkedTeamKey(envelopes, caseKeys);
      if (!team) {
        status.textContent = WORDS.identityNotYet;
        return;
      }
      const identity = { name, ...(contact ? { contact } : {}), ...(personnelId ? { personnel_id: personnelId } : {}) };
      await this.api.post("/api/v1/reporter/identity", { item: identityItem(team, this.session.ref, mode, identity), identity_mode: mode });
      await this.refresh();
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.ended();
      else if (error instanceof ApiError && error.status === 409) status.textContent = error.problem.detail || WORDS.identityNotYet;
      else if (error instanceof CaseKeysRefused) status.textContent = WORDS.identityRefused;
      else status.textContent = error instanceof NetworkError ? WORDS.offline : WORDS.failed;
    } finally {
      this.busy = false;
    }
  }

  async download(file) {
    const status = document.getElementById("download-status");
    status.textContent = fill(WORDS.downloading, { name: file.name });
    try {
      const blob = await downloadFile(this.api, file, this.session.caseKeys, this.session.ref);
      const url = URL.createObjectURL(blob);
      const link = element("a", { href: url, download: file.name, hidden: true });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      status.textContent = "";
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) this.ended();
      else status.textContent = error instanceof NetworkError ? WORDS.offline : fill(WORDS.downloadFailed, { name: file.name });
    }
  }

  // --- ending ------------------------------------------------------------------------------

  // The session ends after a while without activity: warn two minutes before and offer to stay
  // signed in (session-timeout.js); at the end, take what was decrypted off the page.
  watchIdle(idleSeconds) {
    this.idle = warnBeforeIdleEnd({
      idleSeconds,
      expiresIn: idleSeconds,
      keepAlive: async () => {
        try {
          return (await this.api.request("POST", "/api/v1/reporter/session/keep-alive")).expires_in;
        } catch (error) {
          if (error instanceof ApiError && error.status === 401) return null;
          throw error;
        }
      },
      signOut: () => this.leave(),
      signInAgain: () => this.ended(),
      ended: () => this.ended(),
    });
    this.api.onAnswer = () => this.idle?.touched();
  }

  stopWatchingIdle() {
    this.idle?.stop();
    this.idle = null;
    this.api.onAnswer = null;
  }

  async endSession() {
    if (!this.api.token) return;
    try {
      await this.api.request("DELETE", "/api/v1/reporter/session");
    } catch {
      // It ends by itself after a while idle.
    }
    this.api.token = null;
  }

  wipe() {
    this.session = null;
    for (const node of this.main.querySelectorAll("#conversation, #files, #reply, #identity, #what-you-sent, #news, dl.meta, #withdrawn, #withdraw, #speak-up, #board")) node.remove();
  }

  ended() {
    this.api.token = null;
    this.leave(WORDS.ended);
  }

  leave(notice = null) {
    this.stopWatchingIdle();
    this.wipe();
    for (const node of this.pageNodes()) node.remove();
    for (const node of this.loginNodes || []) this.main.append(node);
    this.loginNodes = null;
    document.getElementById("leave-form")?.remove();
    this.loginStatus.textContent = notice || "";
    void this.endSession();
  }

  forget() {
    // Leaving the page (the quick exit, closing the tab): end the session and drop what was shown.
    this.stopWatchingIdle();
    if (this.api.token) {
      try {
        fetch("/api/v1/reporter/session", { method: "DELETE", keepalive: true, credentials: "omit",
          headers: { Authorization: `Bearer ${this.api.token}` } });
      } catch {
        // nothing more can be done from a page that is going away
      }
      this.api.token = null;
    }
    if (!this.loginNodes) return; // the receipt form only: nothing was shown
    this.wipe();
    for (const node of this.pageNodes()) node.remove();
  }
}

const loginForm = document.querySelector("form#receipt-form") || document.querySelector("form[action$='/mailbox']");
if (loginForm) new Mailbox(loginForm).start();
