"""WCAG 2.2 AA on every page, in every language, proven in a browser: every page people read
(tests/browser/pages.py: the reporter's, the guardian's and the admin's, forms with their errors,
the case page in its states, the mailbox with messages, the error pages) × every language of
whistle.i18n.LANGUAGES (by its address prefix) × a phone's and a desktop's width × JavaScript on
and off. Each of those is one check, one test: axe-core finds no violation of WCAG 2.0-2.2 A and AA
nor of its best practices, the page does not scroll sideways, and it says its language and direction.

With JavaScript off the page's own scripts never run, and axe is evaluated through the DevTools
protocol (tests/browser/axe.py), so it checks the page as a reporter without JavaScript gets it.

The guardian has two modes, and the matrix checks both. Signed in without JavaScript
(server-assisted) the server renders every page: the staff pages above. Signed in with JavaScript
(device mode) the key stays in the tab and workspace.js draws what the server cannot read: the
pages of pages.DEVICE_PAGES (the case in progress decrypted on the device, with the reporter's
message, the guardian's reply, notes and files; the inbox with its search inside the cases run on
the device), checked with JavaScript on only, in every language at both widths. Each is checked as
drawn: before axe runs, the page must be in device mode and show what only workspace.js shows once
it has decrypted (Page.ready), so an empty or a server-rendered page fails rather than passes. The
guardian signs in that way once for the run, through the sign-in page (login.js), in one tab that
goes from language to language: the key is in the tab's sessionStorage, which no context's storage
state carries.

Fast on purpose (CI runs it beside the other suite): one browser; one context for each signed-in
person per language and JavaScript setting, closed when the next setting begins; each page visited
once and checked at 1280 px, then narrowed to 390 px without loading it again; a page that continues
from another (the receipt after the sent form) continues from where the browser is; no screenshot
but of a failed check. A page with no script at all (the staff pages signed in server-assisted,
most reporter pages) renders the same with JavaScript on as off: its check with JavaScript on is
the one with it off, not run twice (the summary line counts them).

The untranslated text check (test_every_page_is_translated) compares each page's words in Welsh,
Polish and Arabic with the same page in English (the pages drawn in device mode as drawn, with
JavaScript): a text of two or more words left as in English is a string nobody marked. What reads the same in every language is not counted: what the fixtures
typed, names, codes, receipts and case references, code, and the channels' own texts, which guardians
and admins read in the organisation's canonical English."""
from __future__ import annotations

import re
import time
import tomllib
from collections.abc import Callable
from functools import cache

import pytest

from tests.browser.axe import axe_violations, describe
from tests.browser.conftest import HEIGHT, MATRIX_SUMMARY
from tests.browser.pages import (
    ADMIN,
    CLOSED_CHANNEL,
    DEVICE,
    DEVICE_PAGES,
    DISCLOSURE,
    GUARDIAN,
    LONG_WORD,
    REPORTER_PAGES,
    STAFF_PAGES,
    Page,
    Workspace,
    credentials,
)
from tests.browser.staff import sign_in_on_the_device
from tests.e2e.server import ROOT
from whistle.i18n import DEFAULT, LANGUAGES

pytestmark = [pytest.mark.browser, pytest.mark.a11y]

PAGES = REPORTER_PAGES + STAFF_PAGES
BY_NAME = {page.name: page for page in PAGES + DEVICE_PAGES}
assert len(BY_NAME) == len(PAGES) + len(DEVICE_PAGES), "page names are unique"
# 1280 first: a page is loaded at the desktop's width, then narrowed to the phone's.
MATRIX_WIDTHS = (1280, 390)
SCRIPTING = (False, True)
# The pages drawn in device mode need JavaScript: they are checked with it on only.
CHECKS = [(language, javascript, page.name, width)
          for language in LANGUAGES for javascript in SCRIPTING
          for page in PAGES + (DEVICE_PAGES if javascript else []) for width in MATRIX_WIDTHS]

OVERFLOW = """() => {
  const width = document.documentElement.clientWidth;
  if (document.documentElement.scrollWidth <= window.innerWidth) return {scroll: document.documentElement.scrollWidth, width: window.innerWidth};
  const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5
      || e.getBoundingClientRect().left < -0.5)
    .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + String(e.className).split(' ').join('.') : ''));
  return {scroll: document.documentElement.scrollWidth, width: window.innerWidth, wide: wide.slice(0, 8)};
}"""

# A script that would run with JavaScript on (JSON data blocks are not scripts), or a part shown
# only without it.
HAS_SCRIPT = """() => document.querySelector('script[src], script:not([type="application/json"]), noscript') !== null"""

# What a person reads: each visible text node, and the words of controls that have no text node.
VISIBLE_TEXT = """() => {
  const shown = e => { for (; e; e = e.parentElement) { const s = getComputedStyle(e);
      if (s.display === 'none' || s.visibility === 'hidden') return false; } return true; };
  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    // Code (commands, paths) reads the same in every language, and so does a quotation of what
    // someone wrote (the search inside the cases quotes each match, cut to its surroundings).
    if (!parent || ['SCRIPT', 'STYLE', 'NOSCRIPT', 'TEXTAREA', 'CODE', 'KBD', 'SAMP', 'Q'].includes(parent.tagName)
        || !shown(parent)) continue;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (text) texts.push(text);
  }
  for (const e of document.body.querySelectorAll('[aria-label], [placeholder], img[alt], input[type=submit][value]'))
    for (const name of ['aria-label', 'placeholder', 'alt', 'value'])
      if (e.hasAttribute(name) && (name !== 'value' || e.type === 'submit')) texts.push(e.getAttribute(name).trim());
  return texts;
}"""


def prefix_of(language: str) -> Callable[[str], str]:
    prefix = "" if language == DEFAULT else f"/{language}"
    return lambda path: prefix + path


class Tour:
    """The browser's state through the matrix: a page per person for the current (language,
    JavaScript) setting, and which of PAGES each one shows now.

    The guardian in device mode is one tab for the whole run: signed in once, with JavaScript, on
    the sign-in page (login.js keeps the key in the tab's sessionStorage, which a context's storage
    state does not carry, and each sign-in takes a new one-time code). The tab goes from language
    to language by the pages' addresses, as a guardian who changes language does."""

    def __init__(self, chromium, site, workspace: Workspace):
        self.chromium, self.site, self.workspace = chromium, site, workspace
        self.setting: tuple[str, bool] | None = None
        self.pages: dict[str, object] = {}
        self.shown: dict[str, str | None] = {}
        self.device = None  # the guardian's tab in device mode, once signed in

    def close(self) -> None:
        """Close each person's page of this setting; the device tab stays (see finish)."""
        for page in self.pages.values():
            page.context.close()
        self.pages.clear()
        self.shown.clear()

    def finish(self) -> None:
        self.close()
        if self.device is not None:
            self.device.context.close()
            self.device = None

    def new_context(self, javascript: bool, **options):
        context = self.chromium.new_context(
            viewport={"width": MATRIX_WIDTHS[0], "height": HEIGHT}, java_script_enabled=javascript, bypass_csp=True,
            base_url=f"http://127.0.0.1:{self.site.port}", **options)
        context.set_default_timeout(15_000)  # a step that cannot go on fails in seconds, not half a minute
        return context

    def device_tab(self):
        if self.device is None:
            page = self.new_context(True).new_page()
            # The workspace signed the guardian in with the next step's code a moment ago, maybe.
            sign_in_on_the_device(page, credentials(self.site, "guardian"), ahead=1)
            self.device = page
        return self.device

    def page_of(self, who: str, language: str, javascript: bool):
        if self.setting != (language, javascript):
            self.close()
            self.setting = (language, javascript)
        if who == DEVICE:
            assert javascript, "device mode needs JavaScript"
            return self.device_tab()
        if who not in self.pages:
            state = {GUARDIAN: self.workspace.guardian, ADMIN: self.workspace.admin}.get(who)
            self.pages[who] = self.new_context(javascript, **({"storage_state": state} if state else {})).new_page()
        return self.pages[who]

    def show(self, entry: Page, language: str, javascript: bool, width: int):
        """The page of `entry`, at `width`: loaded (and its chain walked) only if not shown already."""
        page = self.page_of(entry.who, language, javascript)
        if page.viewport_size["width"] != width:
            page.set_viewport_size({"width": width, "height": HEIGHT})
        if self.shown.get(entry.who) != entry.name:
            self.walk(page, entry, prefix_of(language))
        return page

    def walk(self, page, entry: Page, at) -> None:
        if entry.after is not None and self.shown.get(entry.who) != entry.after:
            self.walk(page, BY_NAME[entry.after], at)
        self.shown[entry.who] = None  # unknown if the step fails half way
        entry.step(page, self.workspace, at)
        self.shown[entry.who] = entry.name


class Tally:
    """What the matrix did, for the run's summary line."""

    def __init__(self):
        self.started = time.monotonic()
        self.checks = 0
        self.failed = 0
        self.violations = 0
        self.pages: set[str] = set()
        self.texts: dict[tuple[str, str], list[str]] = {}  # (page, language) -> its words, JavaScript off
        self.seconds = {"pages": 0.0, "axe": 0.0}  # loading the pages (and their steps), axe's checks
        # (page, language, width) -> what the check with JavaScript off found, if that page has no script
        self.scriptless: dict[tuple[str, str, int], list[str]] = {}
        self.same_as_off = 0  # checks with JavaScript on that stand on the page's check with it off


@pytest.fixture(scope="module")
def tally():
    tally = Tally()
    yield tally
    if tally.checks:
        languages, widths = len(LANGUAGES), len(MATRIX_WIDTHS)
        device = len(tally.pages & {page.name for page in DEVICE_PAGES})
        served = len(tally.pages) - device
        MATRIX_SUMMARY.append(
            f"accessibility: {served} pages × {languages} languages × {widths} widths × {len(SCRIPTING)} "
            f"(JavaScript on and off) + {device} pages drawn in device mode × {languages} languages × {widths} widths "
            f"(JavaScript on) = {tally.checks} checks"
            + (f" of {len(CHECKS)}" if tally.checks != len(CHECKS) else "")
            + f" ({tally.same_as_off} of them JavaScript on for a page with no script: its check with it off)"
            + f", {tally.violations} violations, {tally.failed} failed, in {time.monotonic() - tally.started:.0f} s "
            f"({tally.seconds['pages']:.0f} s loading pages, {tally.seconds['axe']:.0f} s in axe)")


@pytest.fixture(scope="module")
def tour(chromium, site, workspace):
    tour = Tour(chromium, site, workspace)
    yield tour
    tour.finish()


def check(page, language: str, javascript: bool, tally: Tally) -> tuple[list[str], int]:
    """What is wrong with the page as it is now, and how many axe violations that includes."""
    problems = []
    html = page.evaluate("() => ({lang: document.documentElement.lang, dir: document.documentElement.dir})")
    expected = LANGUAGES[language]
    if html["lang"] != expected.code or (html["dir"] or "ltr") != expected.direction:
        problems.append(f"<html lang={html['lang']!r} dir={html['dir']!r}>, not {expected.code} {expected.direction}")
    # From the top of the page, as a visitor arrives: axe's target-size reads what is under each
    # target on the screen, and a page left scrolled (a refused form's error summary) puts the menu
    # half out of view.
    page.evaluate("() => window.scrollTo(0, 0)")
    started = time.monotonic()
    violations = axe_violations(page, javascript_off=not javascript)
    tally.seconds["axe"] += time.monotonic() - started
    if violations:
        problems.append(describe(violations))
    measured = page.evaluate(OVERFLOW)
    if measured["scroll"] > measured["width"]:
        problems.append(f"scrolls sideways: {measured['scroll']} px wide in a {measured['width']} px window: "
                        f"{measured['wide']}")
    return problems, len(violations)


@pytest.mark.parametrize(("language", "javascript", "name", "width"), CHECKS,
                         ids=[f"{name}-{language}-{width}-{'js' if js else 'nojs'}" for language, js, name, width in CHECKS])
def test_the_page_meets_wcag_22_aa(tour, tally, screenshots, language, javascript, name, width):
    entry = BY_NAME[name]
    key = (name, language, width)
    if javascript and key in tally.scriptless:
        # The page has no script (server-assisted staff pages, most reporter pages): with JavaScript
        # on the browser renders the very DOM it rendered with JavaScript off (the templates have no
        # <noscript>, whistle.css no `scripting` media query), which was checked a moment ago.
        tally.checks += 1
        tally.same_as_off += 1
        if tally.scriptless[key]:
            pytest.fail(f"{name} in {language} at {width} px, no script: as with JavaScript off:\n"
                        + "\n".join(tally.scriptless[key]), pytrace=False)
        return
    started = time.monotonic()
    page = tour.show(entry, language, javascript, width)
    tally.seconds["pages"] += time.monotonic() - started
    # A page the browser draws (device mode) is checked as drawn, never as the empty page before.
    unready = entry.ready(page, tour.workspace) if entry.ready else []
    problems, violations = check(page, language, javascript, tally)
    problems = [f"not as drawn: {', '.join(unready)}"] * bool(unready) + problems
    tally.checks += 1
    tally.pages.add(name)
    tally.violations += violations
    if (not javascript or entry.who == DEVICE) and width == MATRIX_WIDTHS[0]:
        tally.texts[(name, language)] = page.evaluate(VISIBLE_TEXT)
    if not javascript and not page.evaluate(HAS_SCRIPT):
        tally.scriptless[key] = problems
    if problems:
        tally.failed += 1
        shot = screenshots(page, f"a11y-{name}-{language}-{'js' if javascript else 'nojs'}")
        pytest.fail(f"{name} in {language} at {width} px, JavaScript {'on' if javascript else 'off'} ({page.url}; "
                    f"{shot}):\n" + "\n".join(problems), pytrace=False)


# --- untranslated text ---

# What the fixtures typed, names and files: the same in every language.
USER_CONTENT = ("medication", "night-shift", DISCLOSURE, *DISCLOSURE.split("\n\n"), *DISCLOSURE.split(LONG_WORD), LONG_WORD, "I have found the rota for last week too.", "Thank you. Could you tell me which nights?",
                "Check the drug round records against", "The fire door on level 2 is propped open every night.",
                "Agency staff are not shown the handover notes.", "Agency staff now get the handover notes at the start of each shift.",
                "The big boys take our lunch money every day.", "Sam Carter", "sam.carter@example.org", "Ward 7",
                "We learned that the night shift needs a second signature.", "not an address", "nobody.here",
                "new.guardian", "demo.guardian", "demo.admin", "demo.youth", "demo.safeguarding",
                "rota-week-49-night-shift-ward-7-signed-for-not-given.pdf")
BRAND = re.compile(r"\bwhistle\b", re.IGNORECASE)


def organisation_texts() -> tuple[str, ...]:
    """The channels' own English texts (config/channels.toml, and the channel that is not open,
    pages.CLOSED_CHANNEL): titles, introductions, questions and answers. Reporters read them in their
    language; guardians and admins read the organisation's canonical English, by design, so these are
    not untranslated strings."""
    with open(ROOT / "config" / "channels.toml", "rb") as handle:
        channels = tomllib.load(handle)["channel"] + tomllib.loads(CLOSED_CHANNEL)["channel"]
    texts = []
    for channel in channels:
        texts += [channel["title"], channel.get("introduction", "")]
        for field in channel.get("fields", []):
            texts += [field.get("label", ""), field.get("help", ""), *field.get("choices", [])]
    return tuple(text for text in texts if text)

WORD = re.compile(r"[^\W\d_]{2,}")  # two or more letters: a word, not a number, code or date part
CODE = re.compile(r"\b[0-9A-Z]{4}(?:-[0-9A-Z]{4}){2,}\b|\b[A-Z2-7]{5}-[A-Z2-7]{5}\b|(?<!\w)/[a-z0-9/_-]+|\b[A-Z]+-\d+(?:-\d+)*\b|\S+@\S+|https?://\S+|\S+\.(?:pdf|txt)\b")


@cache
def same_in_every_language() -> tuple[str, ...]:
    """What the fixtures typed and the channels' own texts, longest first, so that a text is taken out
    before a shorter one inside it (a label inside the disclosure)."""
    return tuple(sorted({*USER_CONTENT, *organisation_texts()}, key=len, reverse=True))


def words_to_translate(text: str) -> bool:
    """True when `text` has 2+ words of its own: not the brand, user content, codes or numbers."""
    for typed in same_in_every_language():
        text = text.replace(typed, " ")
    text = CODE.sub(" ", BRAND.sub(" ", text))
    return len(WORD.findall(text)) >= 2


def untranslated(english: list[str], translated: list[str]) -> list[str]:
    """The text nodes of the translated page that are word for word the English page's."""
    same = set(english)
    return sorted({text for text in translated if text in same and words_to_translate(text)})


def test_every_page_is_translated(tour, tally):
    """Each page in every language but English: no text node of 2+ words left as in English. Uses
    the words the matrix collected in this run, and visits (JavaScript off, but for the pages drawn
    in device mode) what it did not."""
    def texts(name: str, language: str) -> list[str]:
        if (name, language) not in tally.texts:
            entry = BY_NAME[name]
            page = tour.show(entry, language, entry.who == DEVICE, MATRIX_WIDTHS[0])
            assert not entry.ready or not entry.ready(page, tour.workspace), f"{name} in {language} is not drawn"
            tally.texts[(name, language)] = page.evaluate(VISIBLE_TEXT)
        return tally.texts[(name, language)]

    found: dict[str, list[str]] = {}
    for language in (code for code in LANGUAGES if code != DEFAULT):
        for entry in PAGES + DEVICE_PAGES:
            left = untranslated(texts(entry.name, DEFAULT), texts(entry.name, language))
            if left:
                found[f"{entry.name} ({language})"] = left
    assert not found, f"{sum(map(len, found.values()))} untranslated texts:\n" + "\n".join(
        f"{where}:\n  " + "\n  ".join(left) for where, left in found.items())


def test_untranslated_text_is_told_from_user_content_codes_and_numbers():
    assert words_to_translate("Send your report")
    assert not words_to_translate("whistle")
    assert not words_to_translate("Sam Carter")
    assert not words_to_translate("ABCD-EFGH-JKLM-NPQR-STUV")
    assert not words_to_translate("5 12 2026")
    assert not words_to_translate("Y2RNA-DSJVN")
    assert not words_to_translate("/report/raise-a-concern")
    assert not words_to_translate("Young people's voice")  # a channel's own title, canonical for guardians
    assert words_to_translate("Young people's voice is closed")
    assert not words_to_translate("rota-week-49-night-shift-ward-7-signed-for-not-given.pdf")
    assert untranslated(["Send your report", "Ward 7", "Anfon"], ["Send your report", "Ward 7", "Anfonwch"]) == [
        "Send your report"]
