"""Every shipped language is complete: each string the code, templates and browser modules mark is
in every language's catalogue, translated, not fuzzy, with the same ${name} and %(name)s markers as
the English; and the templates (.pot) are up to date with the source (`make messages`)."""
from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from whistle.i18n import DEFAULT, LANGUAGES, LOCALE_DIR

ROOT = Path(__file__).resolve().parents[2]
DOMAINS = {"whistle": ("babel.cfg", {"_": None, "plural": (1, 2)}), "whistle-js": ("babel-js.cfg", {"t": None})}
MARKERS = re.compile(r"\$\{\w+\}|%\(\w+\)[sd]")
TRANSLATED = [code for code in LANGUAGES if code != DEFAULT]


@cache
def extracted(domain: str) -> frozenset[str]:
    """The message ids the source marks now, as `make messages` would extract them."""
    config, keywords = DOMAINS[domain]
    with open(ROOT / config) as handle:
        method_map, options_map = parse_mapping_cfg(handle)
    found = extract_from_dir(str(ROOT), method_map, options_map, keywords={**DEFAULT_KEYWORDS, **keywords})
    messages = set()
    for _filename, _lineno, message, _comments, _context in found:
        # A plural's id is its singular (the catalogue's msgid; the plural is its msgid_plural).
        messages.add(message if isinstance(message, str) else message[0])
    return frozenset(messages)


def catalogue(path: Path):
    with open(path, "rb") as handle:
        return read_po(handle)


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_template_is_up_to_date_with_the_source(domain):
    template = {message.id if isinstance(message.id, str) else message.id[0]
                for message in catalogue(LOCALE_DIR / f"{domain}.pot") if message.id}
    singulars = set(extracted(domain))
    missing, stale = singulars - template, template - singulars
    assert not missing and not stale, f"run `make messages`: new {sorted(missing)[:10]}, gone {sorted(stale)[:10]}"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("code", TRANSLATED)
def test_every_marked_string_is_translated_and_none_is_fuzzy(code, domain):
    messages = catalogue(LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po")
    untranslated, fuzzy, markers = [], [], []
    for message in messages:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        if not all(strings):
            untranslated.append(ids[0])
        elif message.fuzzy:
            fuzzy.append(ids[0])
        elif any(sorted(MARKERS.findall(text)) != sorted(MARKERS.findall(ids[0])) for text in strings[:1]):
            markers.append(ids[0])
    present = {m.id if isinstance(m.id, str) else m.id[0] for m in messages if m.id}
    absent = sorted(extracted(domain) - present)
    assert not (absent or untranslated or fuzzy or markers), (
        f"{code}/{domain}.po: {len(absent)} missing (run `make messages`), {len(untranslated)} untranslated, "
        f"{len(fuzzy)} fuzzy, {len(markers)} with other markers than the English; first: "
        f"{(absent + untranslated + fuzzy + markers)[:5]}")


# What a translation keeps in English on purpose: code, addresses, formats, markers, markup, and
# the names of things (an English body's name, programs, file types, a menu item of Windows).
KEPT_IN_ENGLISH = re.compile(
    r"<code>.*?</code>|\S+@\S+|\bYYYY-MM-DD\b|\$\{\w+\}|%\(\w+\)[sd]|\{\w+\}|<[^>]+>|&\w+;|\b\S+\.html\b"
    r"|Freedom to Speak Up|National Guardian's Office|Tor Browser|The Unarchiver|WinZip|Keka|7-Zip|Extract all"
    r"|\b(?:Word|Excel|PowerPoint|JPEG|PNG|WebP|TIFF|PDFs?|AES|ZIP)\b", re.S)
ENGLISH_WORD = re.compile(r"[A-Za-z][A-Za-z']+")


def word_pairs(text: str) -> set[tuple[str, str]]:
    words = [word.lower() for word in ENGLISH_WORD.findall(KEPT_IN_ENGLISH.sub(" | ", text))]
    return set(zip(words, words[1:]))


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("code", TRANSLATED)
def test_no_translation_keeps_english_words_of_its_original(code, domain):
    """English left inside a translated sentence ("Anfon report securely") passes the untranslated
    check and the page check (it is not the whole English text): any two words in a row that the
    translation shares with its English original, outside what stays English on purpose, fail."""
    left = []
    for message in catalogue(LOCALE_DIR / code / "LC_MESSAGES" / f"{domain}.po"):
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string)
        english = set().union(*(word_pairs(text) for text in ids))
        left += [(ids[0], sorted(english & word_pairs(text))) for text in strings if english & word_pairs(text)]
    assert not left, f"{code}/{domain}.po: {len(left)} translations keep English words; first: {left[:5]}"


def marked_in_python() -> dict[str, str]:
    """Every literal `_("…")` and `plural("…", …)` in the application's and bundled plugins' Python,
    found with ast (Babel's extractor misses a call nested in another call's arguments), by where."""
    found = {}
    paths = [*(ROOT / "whistle").rglob("*.py"), *(ROOT / "plugins").glob("whistle_*/whistle_*/**/*.py")]
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in ("_", "plural")
                    and node.args and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                found.setdefault(node.args[0].value, f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_every_string_python_marks_reaches_the_template():
    template = {message.id if isinstance(message.id, str) else message.id[0]
                for message in catalogue(LOCALE_DIR / "whistle.pot") if message.id}
    missed = {message: where for message, where in marked_in_python().items() if message not in template}
    assert not missed, ("marked but not extracted (a call inside another call's arguments? give it a name of "
                        f"its own): {sorted(missed.items())[:10]}")


TRANS_BLOCK = re.compile(r"\{%-?\s*trans\b(?P<args>.*?)-?%\}(?P<body>.*?)\{%-?\s*endtrans\s*-?%\}", re.S)
PLURALIZE = re.compile(r"\{%-?\s*pluralize\b\s*(?P<name>\w*)\s*-?%\}")


def test_every_plural_in_a_template_counts_by_its_count():
    """Jinja's `{% pluralize %}` counts by the trans tag's FIRST variable unless it is named: in
    `{% trans period=p, count=n %}…{% pluralize %}` the count would be the period's words: English
    happens to pick the plural, and every other language fails with a TypeError (the statistics of
    several channels, in Welsh, Polish and Arabic, did)."""
    wrong = []
    for path in sorted((ROOT / "whistle" / "templates").rglob("*.jinja2")):
        text = path.read_text()
        for block in TRANS_BLOCK.finditer(text):
            pluralize = PLURALIZE.search(block["body"])
            if pluralize is None or pluralize["name"]:
                continue
            first = re.match(r"\s*(\w+)", block["args"])
            if first is None or first[1] != "count":
                wrong.append(f"{path.relative_to(ROOT)}:{text[:block.start()].count(chr(10)) + 1}")
    assert not wrong, "write {% pluralize count %} (or put count first): " + ", ".join(wrong)
