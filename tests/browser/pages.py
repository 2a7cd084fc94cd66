"""Every page people read, and how to reach it in a browser: the reporter's pages, the guardian's
and the admin's, forms with their errors shown, a report the service cannot take (sent before, nobody
to receive it, a channel not open), the case page in its states, the mailbox with messages, and the
error pages. Shared by the staff pages' checks (test_staff_pages.py) and the accessibility matrix
(test_accessibility_matrix.py), which visits each in every language.

A page is reached by a step, `step(page, workspace, at)`: `at(path)` puts the language's prefix
before an address ("/report/x" -> "/cy/report/x"). Steps never find a control by its words, which
are translated: forms are sent by their own submit button, found by the form's id or a field in it.
A page may continue from another (`after`): the receipt page from the sent form, Leave from the
receipt; the matrix takes that page's step from where the other left the browser, or walks the
chain from its start when the browser is elsewhere."""
from __future__ import annotations

import base64
import re
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import pyotp
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

import whistle.models  # noqa: F401 -- every mapper, so the models' relationships resolve
from tests.e2e.reporter_helpers import call, call_json
from whistle import crypto
from whistle.cases.models import Case
from whistle.intake.services import SUBMISSION_PURPOSE, new_submission_token

CHANNEL = "raise-a-concern"
YOUNG = "young-peoples-voice"
IDEAS = "ideas-for-improvement"
# What people paste: a link, a hash, a reference with no space to break at.
LONG_WORD = "https://intranet.example.org/rotas/ward-7/" + "night-shift-handover-" * 6 + "0f3a9c2e7b1d5a8f4c6e0b2d9a7f3c1e"
DISCLOSURE = ("Medication is signed for on the night shift but not given. It has happened at least four times this "
              f"month; the rota is on {LONG_WORD}\n\nI am worried someone will be hurt.")
A_WRONG_RECEIPT = "ABCD-EFGH-JKLM-NPQR-STUV"
# Every channel of the browser site has demo.guardian as its only guardian (tests/browser/conftest.py):
# a report naming them is one the conflicts plugin keeps from them, so nobody could receive it.
ABOUT_THE_GUARDIAN = "demo.guardian shouts at us at lunch time and takes our phones."
# The day of the surge the untouched case arrived in (build_workspace marks it).
SURGE_DAY = "2026-12-05"

# A channel with no guardian, which takes no reports: its address says it is not open. The shared
# channels stay live; this one is the organisation's own (its texts are the untranslated check's
# organisation texts too), in every language its reporters read.
CLOSED = "estates-and-facilities"
CLOSED_CHANNEL = f"""
[[channel]]
slug = "{CLOSED}"
title = "Estates and facilities"
introduction = "For concerns about our buildings, equipment and grounds."
identity_modes = ["anonymous"]
guardians = []

  [channel.translations.cy]
  title = "Ystadau a chyfleusterau"
  introduction = "Ar gyfer pryderon am ein hadeiladau, ein hoffer a'n tiroedd."

  [channel.translations.pl]
  title = "Budynki i wyposażenie"
  introduction = "Zgłoszenia dotyczące naszych budynków, sprzętu i terenu."

  [channel.translations.ar]
  title = "المباني والمرافق"
  introduction = "للمخاوف المتعلقة بمبانينا ومعداتنا وأراضينا."
"""

Step = Callable  # step(page, workspace, at)


@dataclass
class Workspace:
    """What the pages show: three cases in three states, and a signed-in guardian and admin."""

    open_ref: str  # acknowledged and being assessed: messages, notes, files, labels, a long word
    open_receipt: str  # its reporter's receipt: the mailbox with messages both ways and files
    new_ref: str  # received, untouched; it arrived during the surge of SURGE_DAY
    sent_before_token: str  # the form token new_ref's case was sent with, before receipts came from it
    closed_ref: str  # closed with its outcome
    guardian: dict  # Playwright storage state of a signed-in demo.guardian
    admin: dict  # ... of demo.admin


def credentials(site, name: str) -> dict[str, str]:
    text = (site.directory / "var" / f"demo-{name}.txt").read_text()
    return {key.strip(): value.strip() for key, _, value in (line.partition(":") for line in text.splitlines())}


def code(who: dict, step: int) -> str:
    """A TOTP code `step` periods ahead: each sign-in needs a later code than the last (the server
    allows one period of drift), so a second sign-in within 30 seconds uses the next one."""
    return pyotp.TOTP(who["TOTP secret"]).at(time.time() + 30 * step)


def api(site, method: str, path: str, data=None, headers=None, expect=(200, 201, 204)):
    status, body = call_json(site.port, method, path, data, headers)
    assert status in expect, (path, status, body)
    return body


def api_session(site, who: dict) -> str:
    """A bearer token for `who`, signing in through the API. Other tests of the run sign the same
    demo accounts in, and a code is taken once: a refused code is retried with the next period's."""
    for tries in range(3):
        status, body = call_json(site.port, "POST", "/api/v1/staff/session",
                                 {"username": who["username"], "password": who["password"], "otp": code(who, 0)})
        if status in (200, 201):
            return body["token"]
        next_period()
    raise AssertionError(("/api/v1/staff/session", status, body))


def next_period() -> None:
    """Wait for the next TOTP period, whose code nobody can have used yet."""
    time.sleep(30 - time.time() % 30 + 0.5)


def upload(site, path: str, name: str, content: bytes, headers: dict) -> None:
    status, _, body = call(site.port, "POST", path, content, dict(headers, **{
        "Content-Type": "application/pdf", "X-Filename": quote(name)}))
    assert status == 201, body


def sign_in(chromium, site, who: dict, step: int) -> dict:
    """Sign in through the form, without JavaScript; the session's cookies, for other contexts."""
    context = chromium.new_context(base_url=f"http://127.0.0.1:{site.port}", java_script_enabled=False)
    try:
        page = context.new_page()
        # A code another test of this run already used (the keyboard journey and the device tests
        # sign the same demo accounts in) is refused as reused: then the next period's.
        for tries in range(3):
            if tries:
                next_period()
            page.goto("/staff/login")
            page.fill("#username", who["username"])
            page.fill("#password", who["password"])
            page.fill("#otp", code(who, step if not tries else 0))
            page.get_by_role("button", name="Sign in").click()
            if "/staff/login" not in page.url:
                return context.storage_state()
        raise AssertionError(page.inner_text("main"))
    finally:
        context.close()


def set_case_columns(site, ref: str, **columns) -> None:
    """Set `columns` of the case `ref` in the site's database (SQLite): a state no request of the
    service as it is now makes, as a case from an older version or a surge the tests cannot cause
    (the surge mark is raised for them, tests/e2e/server.py)."""
    engine = create_engine(f"sqlite:///{site.directory / 'var' / 'whistle.sqlite'}")
    try:
        with Session(engine) as session:
            case = session.scalars(select(Case).where(Case.ref == ref)).one()
            for name, value in columns.items():
                setattr(case, name, value)
            session.commit()
    finally:
        engine.dispose()


def submission_token_index(site, token: str) -> bytes:
    """What the case of a form sent with `token` keeps of it (whistle.intake.services.submission_token_id)."""
    pepper = base64.b64decode((site.directory / "var" / "keys" / "lookup_pepper").read_text().strip())
    return crypto.blind_index(token, pepper, purpose=SUBMISSION_PURPOSE)


def build_workspace(site, chromium) -> Workspace:
    def disclose(text: str, **extra) -> dict:
        return api(site, "POST", "/api/v1/disclosures", {"channel": CHANNEL, "text": text, "answers": {"ongoing": "yes"},
                                                          **extra})

    opened = disclose(DISCLOSURE, answers={"ongoing": "yes", "where": "Ward 7", "concern_type": "Patient or client safety"},
                      identity_mode="confidential", identity={"name": "Sam Carter", "contact": "sam.carter@example.org"})
    new = disclose("The fire door on level 2 is propped open every night.")
    closed = disclose("Agency staff are not shown the handover notes.")

    reporter = {"Authorization": "Bearer " + api(site, "POST", "/api/v1/reporter/session", {"receipt": opened["receipt"]})["token"]}
    api(site, "POST", "/api/v1/reporter/messages", {"text": "I have found the rota for last week too."}, reporter)
    upload(site, "/api/v1/reporter/attachments", "rota-week-49-night-shift-ward-7-signed-for-not-given.pdf", b"%PDF- rota",
           reporter)

    guardian = credentials(site, "guardian")
    token = api_session(site, guardian)
    staff = {"Authorization": f"Bearer {token}"}
    ref = opened["case"]
    for to in ("acknowledged", "assessing"):
        api(site, "POST", f"/api/v1/cases/{ref}/transitions", {"to": to}, staff)
    api(site, "POST", f"/api/v1/cases/{ref}/messages", {"text": "Thank you. Could you tell me which nights?"}, staff)
    api(site, "POST", f"/api/v1/cases/{ref}/notes", {"text": f"Check the drug round records against {LONG_WORD}"}, staff)
    api(site, "POST", f"/api/v1/cases/{ref}/triage", {"priority": "high", "add_labels": ["medication", "night-shift"]}, staff)
    upload(site, f"/api/v1/cases/{ref}/attachments", "what-happens-next.pdf", b"%PDF- next", staff)
    upload(site, f"/api/v1/cases/{ref}/attachments?internal=true", "drug-round-audit-december.pdf", b"%PDF- audit", staff)
    for step in ({"to": "acknowledged"}, {"to": "assessing"},
                 {"to": "closed", "substantiated": "partly", "changes": ["training", "process"],
                  "learned": "Agency staff now get the handover notes at the start of each shift."}):
        api(site, "POST", f"/api/v1/cases/{closed['case']}/transitions", step, staff)

    # The untouched case arrived in a surge (the surge pages list it, for closing as junk), and was
    # sent from a form before receipts were derived from the form's token (docs/crypto.md): its
    # receipt is random, so that form sent again is told it was already sent, with no receipt.
    # Only the surge pages and the inbox's mark on the case show either.
    sent_before_token = new_submission_token()
    set_case_columns(site, new["case"], surge_day=date.fromisoformat(SURGE_DAY),
                     submission_token_id=submission_token_index(site, sent_before_token))
    closed_channel = site.directory / "closed-channel.toml"
    closed_channel.write_text(CLOSED_CHANNEL)
    site.whistle("channels", "load", str(closed_channel))

    return Workspace(open_ref=ref, open_receipt=opened["receipt"], new_ref=new["case"], closed_ref=closed["case"],
                     sent_before_token=sent_before_token,
                     guardian=sign_in(chromium, site, guardian, 1), admin=sign_in(chromium, site, credentials(site, "admin"), 0))


def english(path: str) -> str:
    return path


def submit(page, form: str) -> None:
    """Send the form `form` (a selector) with its last submit button, whatever its words.

    The click returns once the navigation has started; the answer is read only when its page has loaded.
    """
    page.locator(f"{form} button[type=submit]").last.click()
    page.wait_for_load_state()


# --- the steps ---

def go(path: str) -> Step:
    return lambda page, ws, at: page.goto(at(path.format(ws=ws)))


def send_form(path: str, form: str, fields: dict[str, str], *, choose: dict[str, str] | None = None) -> Step:
    """Open `path` ("{ws.open_ref}" filled from the workspace), pick each `choose` (select: value),
    fill each of `fields` (selector: text), and send `form` (a selector)."""
    def step(page, ws, at):
        page.goto(at(path.format(ws=ws)))
        for selector, value in (choose or {}).items():
            page.select_option(selector, value)
        for selector, text in fields.items():
            page.fill(selector, text)
        submit(page, form)
    return step


# The staff forms refused: a wrong account, recovery key or passphrase, an address that is none, a
# case closed without saying what was learned.
NEW_PASSPHRASE = "a perfectly long new passphrase"
refused_sign_in = send_form("/staff/login", "form:has(#otp)", {
    "#username": "nobody.here", "#password": "not the password", "#otp": "123456"})
refused_password_reset = send_form("/staff/forgot-password", "form:has(#recovery_key)", {
    "#username": "nobody.here", "#recovery_key": "NOT-THE-KEY", "#new": NEW_PASSPHRASE, "#again": NEW_PASSPHRASE})
refused_authenticator_reset = send_form("/staff/reset-authenticator", "form:has(#recovery_key)", {
    "#username": "nobody.here", "#recovery_key": "NOT-THE-KEY"})
refused_password_change = send_form("/staff/password", "form:has(#again)", {
    "#current": "not checked: the new ones differ", "#new": NEW_PASSPHRASE,
    "#again": "a different long new passphrase"})
refused_notifications = send_form("/staff/notifications", "form:has(#address)", {"#address": "not an address"},
                                  choose={"#channel": "email"})
refused_close = send_form("/staff/cases/{ws.open_ref}", "#move-closed", {
    "#move-closed [name=learned]": "We learned that the night shift needs a second signature."})


def refused_account(page, ws, at):
    page.goto(at("/admin/guardians"))
    page.fill("#username", "new.guardian")
    page.fill("#password", "a perfectly long first passphrase")
    page.fill("#again", "a different long first passphrase")
    submit(page, "form:has(#again)")


def account_page(page, ws, at):
    page.goto(at("/admin/guardians"))
    page.locator("tr", has_text="demo.guardian").locator("a[href*='/admin/guardians/']").first.click()
    page.wait_for_url(re.compile(r".*/admin/guardians/\d+$"))


def confirm_surge(page, ws, at):
    """The surge's cases (each ticked) sent to be closed as junk: the confirm step, not yet closed."""
    page.goto(at(f"/staff/surges/{SURGE_DAY}"))
    submit(page, "#surge-form")
    page.locator("#surge-confirm").wait_for()


def confirm_disabling(page, ws, at):
    account_page(page, ws, at)
    page.check("[name=disabled]")
    submit(page, "form:has([name=disabled])")
    page.locator("#confirm").wait_for(state="visible")  # fails after the context's timeout: no confirm step


def empty_report(slug: str) -> Step:
    """The form sent with nothing written, asking to share who one is: errors shown."""
    def step(page, ws, at):
        page.goto(at(f"/report/{slug}"))
        page.fill("#text", "   ")
        confidential = page.locator("input[name='identity_mode'][value='confidential']")
        if confidential.count():
            confidential.check()
        submit(page, "#disclosure-form")
    return step


def send_young(page, ws, at):
    """The young people's form filled in and sent: the receipt page."""
    page.goto(at(f"/report/{YOUNG}"))
    page.fill("#text", "The big boys take our lunch money every day.")
    page.check("input[name='answers.happening_now'][value='yes']")
    page.check("input[name='answers.about'][value='Me']")
    submit(page, "#disclosure-form")
    page.wait_for_url(f"**/report/{YOUNG}/receipt")


def leave_receipt(page, ws, at):
    submit(page, f"form[action$='/report/{YOUNG}/receipt/leave']")
    page.wait_for_url(f"**/report/{YOUNG}/receipt/leave")


# intake.js, which (with JavaScript on) takes the form's submit over and answers in the form page.
INTAKE_SCRIPT = re.compile(r".*/static/js/intake\.js.*")


@contextmanager
def intake_script_not_loaded(page):
    """The form as a browser whose script did not load has it: it posts to the server, and gets the
    server's page. Without JavaScript that is every browser; the pages the server answers a sent form
    with have no script, so their check with JavaScript on is the one with it off."""
    page.route(INTAKE_SCRIPT, lambda route: route.abort())
    try:
        yield
    finally:
        page.unroute(INTAKE_SCRIPT)


def sent_again(page, ws, at):
    """The form the untouched case was sent with, sent again (its token): already sent, and no receipt
    to show again."""
    with intake_script_not_loaded(page):
        page.goto(at(f"/report/{CHANNEL}"))
        page.fill("#text", "The fire door on level 2 is propped open every night.")
        page.check("input[name='answers.ongoing'][value='yes']")
        page.locator("#disclosure-form [name=submission_token]").evaluate("(field, token) => { field.value = token; }",
                                                                            ws.sent_before_token)
        submit(page, "#disclosure-form")
    # Neither the form again nor the receipt page: the way back to the report with its receipt.
    assert page.locator("#disclosure-form").count() == 0 and not page.url.endswith("/receipt"), page.url
    page.locator("main a[href$='/mailbox']").wait_for()


def naming_the_guardian(page, ws, at):
    """A young person's report about the only guardian of the channel: nobody can receive it."""
    with intake_script_not_loaded(page):
        page.goto(at(f"/report/{YOUNG}"))
        page.fill("#text", ABOUT_THE_GUARDIAN)
        page.check("input[name='answers.about'][value='A grown-up']")
        submit(page, "#disclosure-form")
    # What they wrote, to copy into another channel: the refusal, not the form again.
    assert page.locator("#disclosure-form").count() == 0, page.url
    page.locator("textarea#typed").wait_for()


def wrong_receipt(page, ws, at):
    page.goto(at("/mailbox"))
    page.fill("#receipt", A_WRONG_RECEIPT)
    submit(page, "#receipt-form")


def open_mailbox(page, ws, at):
    """The reporter of the case in progress: messages both ways, a file each way."""
    page.goto(at("/mailbox"))
    if page.locator("#receipt").count() == 0:  # still signed in from an earlier page
        page.goto(at("/mailbox/case"))
        return
    page.fill("#receipt", ws.open_receipt)
    submit(page, "#receipt-form")
    page.wait_for_url("**/mailbox/case")


def empty_message(page, ws, at):
    page.goto(at("/mailbox/case"))
    submit(page, "#message-form")


def leave_mailbox(page, ws, at):
    page.goto(at("/mailbox/case"))
    submit(page, "#leave-form")
    page.wait_for_url("**/mailbox/leave")


# --- device mode: the guardian signed in with JavaScript, the case decrypted in the browser ---

# The open case's words, as the fixtures wrote them (build_workspace): the same in every language.
REPORTER_MESSAGE = "I have found the rota for last week too."
GUARDIAN_REPLY = "Thank you. Could you tell me which nights?"
REPORTER_FILE = "rota-week-49-night-shift-ward-7-signed-for-not-given.pdf"
# A word of the open case's disclosure and its reporter's message, found by the inbox's search.
SEARCHED = "rota"

# What only workspace.js draws, once it has decrypted the case on the device: the server's page in
# device mode has an empty slot with a hint where each of these goes, and the server-assisted page
# has no envelopes to decrypt and no file link that decrypts.
DRAWN_CASE = """([disclosure, message, reply, file]) => {
  const text = (selector) => [...document.querySelectorAll(selector)].map(e => e.textContent).join("\\n");
  const problems = [];
  if (document.querySelector("meta[name='whistle-mode']")?.content !== "device") problems.push("not in device mode");
  if (!document.getElementById("case-envelopes")) problems.push("no envelopes: the server-assisted page");
  if (document.documentElement.dataset.caseOpened !== "true") problems.push("workspace.js did not open the case");
  if (document.querySelector("[data-case-content], .device-needed")) problems.push("a slot left unfilled");
  if (document.querySelector(".unverified")) problems.push("something could not be verified");
  if (!text(".disclosure").includes(disclosure)) problems.push("no disclosure");
  if (!text("article.message.from-reporter").includes(message)) problems.push("no reporter's message");
  if (!text("article.message.from-guardian").includes(reply)) problems.push("no guardian's reply");
  if (!text("#files-from-reporter a[data-file]").includes(file)) problems.push("no reporter's file to decrypt");
  if (!document.querySelector("#notes article.note")) problems.push("no note");
  return problems;
}"""
# The inbox in device mode, its search inside the cases run on the device: done (the status is no
# longer "Searching case i of n…"), and the open case's matches listed.
SEARCHED_CASES = """(ref) => {
  const status = document.querySelector("[data-search-status]")?.textContent.trim() ?? "";
  return status !== "" && !status.endsWith("…")
    && [...document.querySelectorAll("[data-search-results] a.ref")].some(a => a.textContent === ref);
}"""
DRAWN_SEARCH = """(refs) => {
  const problems = [];
  if (document.querySelector("meta[name='whistle-mode']")?.content !== "device") problems.push("not in device mode");
  const form = document.getElementById("device-search");
  if (!form || form.hidden) problems.push("the search inside the cases is not shown");
  if (!document.querySelector("[data-search-results] li q")) problems.push("no match drawn");
  const status = document.querySelector("[data-search-status]")?.textContent ?? "";
  for (const ref of refs) if (status.includes(ref)) problems.push(`${ref} could not be searched`);
  return problems;
}"""


def case_on_the_device(page, ws, at):
    """The case in progress opened in device mode: workspace.js decrypts it and draws it."""
    page.goto(at(f"/staff/cases/{ws.open_ref}"))
    page.wait_for_selector("html[data-case-opened='true']")


def drawn_case(page, ws) -> list[str]:
    return page.evaluate(DRAWN_CASE, [DISCLOSURE.split(LONG_WORD)[0].strip(), REPORTER_MESSAGE, GUARDIAN_REPLY,
                                      REPORTER_FILE])


def search_on_the_device(page, ws, at):
    """The inbox in device mode, with its search inside the cases (decrypted on the device) done."""
    page.goto(at("/staff/cases"))
    page.fill("#device-search-query", SEARCHED)
    submit(page, "#device-search")
    page.wait_for_function(SEARCHED_CASES, arg=ws.open_ref)


def drawn_search(page, ws) -> list[str]:
    return page.evaluate(DRAWN_SEARCH, [ws.open_ref, ws.new_ref, ws.closed_ref])


NOBODY, GUARDIAN, ADMIN, DEVICE = "nobody", "guardian", "admin", "device"


@dataclass(frozen=True)
class Page:
    name: str
    who: str  # whose browser: NOBODY (a reporter, or staff not signed in), GUARDIAN, ADMIN, DEVICE (JavaScript on only)
    step: Step
    after: str | None = None  # the page this one continues from, if any
    # What is wrong with the page as it must be when checked (device mode: drawn by the browser),
    # ready(page, workspace) -> problems; None for a page the server renders.
    ready: Callable | None = None


REPORTER_PAGES: list[Page] = [
    Page("home", NOBODY, go("/")),
    Page("form-concern", NOBODY, go(f"/report/{CHANNEL}")),
    Page("form-concern-refused", NOBODY, empty_report(CHANNEL)),
    Page("form-young", NOBODY, go(f"/report/{YOUNG}")),
    Page("form-young-refused", NOBODY, empty_report(YOUNG)),
    Page("form-ideas", NOBODY, go(f"/report/{IDEAS}")),
    Page("form-ideas-refused", NOBODY, empty_report(IDEAS)),
    Page("already-sent", NOBODY, sent_again),
    Page("nobody-can-receive", NOBODY, naming_the_guardian),
    Page("not-live", NOBODY, go(f"/report/{CLOSED}")),
    Page("receipt", NOBODY, send_young),
    Page("receipt-left", NOBODY, leave_receipt, after="receipt"),
    Page("receipt-gone", NOBODY, go(f"/report/{YOUNG}/receipt"), after="receipt-left"),
    Page("mailbox-sign-in", NOBODY, go("/mailbox")),
    Page("mailbox-sign-in-refused", NOBODY, wrong_receipt),
    Page("mailbox", NOBODY, open_mailbox),
    Page("mailbox-refused", NOBODY, empty_message, after="mailbox"),
    Page("mailbox-withdraw", NOBODY, go("/mailbox/case/withdraw"), after="mailbox-refused"),
    Page("mailbox-left", NOBODY, leave_mailbox, after="mailbox-withdraw"),
    Page("board", NOBODY, go("/board")),
    Page("not-found", NOBODY, go("/report/no-such-channel")),
]

STAFF_PAGES: list[Page] = [
    Page("staff-login", NOBODY, go("/staff/login")),
    Page("staff-login-refused", NOBODY, refused_sign_in),
    Page("forgot-password", NOBODY, go("/staff/forgot-password")),
    Page("forgot-password-refused", NOBODY, refused_password_reset),
    Page("reset-authenticator", NOBODY, go("/staff/reset-authenticator")),
    Page("reset-authenticator-refused", NOBODY, refused_authenticator_reset),
    Page("inbox", GUARDIAN, go("/staff/cases")),
    Page("inbox-filtered", GUARDIAN, go("/staff/cases?label=night-shift&sort=priority&unread=true")),
    Page("inbox-refused", GUARDIAN, go("/staff/cases?status=nonsense&priority=loud")),
    Page("inbox-surge", GUARDIAN, go(f"/staff/cases?surge={SURGE_DAY}")),
    Page("surge", GUARDIAN, go(f"/staff/surges/{SURGE_DAY}")),
    Page("surge-confirm", GUARDIAN, confirm_surge),
    Page("case-received", GUARDIAN, go("/staff/cases/{ws.new_ref}")),
    Page("case-in-progress", GUARDIAN, go("/staff/cases/{ws.open_ref}")),
    Page("case-closed", GUARDIAN, go("/staff/cases/{ws.closed_ref}")),
    Page("case-refused", GUARDIAN, refused_close),
    Page("password", GUARDIAN, go("/staff/password")),
    Page("password-refused", GUARDIAN, refused_password_change),
    Page("sessions", GUARDIAN, go("/staff/sessions")),
    Page("notifications", GUARDIAN, go("/staff/notifications")),
    Page("notifications-refused", GUARDIAN, refused_notifications),
    Page("statistics", GUARDIAN, go("/staff/statistics")),
    Page("statistics-refused", GUARDIAN, go("/staff/statistics?from=2026-13&to=soon")),
    Page("staff-not-found", GUARDIAN, go("/staff/cases/NO-SUCH-CASE")),
    Page("forbidden", GUARDIAN, go("/admin")),
    Page("learning", GUARDIAN, go("/staff/learning")),
    Page("learning-refused", GUARDIAN, go("/staff/learning?factors=weather&from=someday")),
    Page("learning-report", GUARDIAN, go("/staff/learning/report")),
    Page("admin-overview", ADMIN, go("/admin")),
    Page("admin-accounts", ADMIN, go("/admin/guardians")),
    Page("admin-accounts-refused", ADMIN, refused_account),
    Page("admin-account", ADMIN, account_page),
    Page("admin-account-confirm", ADMIN, confirm_disabling),
    Page("admin-channels", ADMIN, go("/admin/channels")),
    Page("admin-audit", ADMIN, go("/admin/audit")),
    Page("admin-statistics", ADMIN, go("/admin/statistics")),
    Page("admin-statistics-one-channel", ADMIN, go(f"/admin/statistics?channel={CHANNEL}")),
    Page("admin-notifications", ADMIN, go("/admin/notifications")),
    Page("admin-proposals", ADMIN, go("/admin/proposals")),
    Page("admin-not-found", ADMIN, go("/admin/guardians/999999")),
]

# The guardian in device mode (signed in with JavaScript on: the key kept in the tab, the server
# holding none): pages that workspace.js draws in the browser, with JavaScript on only.
DEVICE_PAGES: list[Page] = [
    Page("case-in-progress-device", DEVICE, case_on_the_device, ready=drawn_case),
    Page("inbox-device-search", DEVICE, search_on_the_device, ready=drawn_search),
]
