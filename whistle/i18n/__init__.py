"""Languages: which ones whistle ships, which one a request is in, and how marked text is translated.

A request's language is the first segment of its address (`/cy/report/…`), and nothing else: no
cookie, no Accept-Language, no script, so choosing Welsh leaves no trace a later visitor of the
same device could find, and every link a page makes (request.route_path and friends build on
SCRIPT_NAME) stays in the language it was reached in. English, the language the code is written
in, has no prefix.

Code marks what people read with `_` (a Pyramid TranslationString whose message id is the English
text, with `${name}` markers filled from `mapping`); templates show such a value translated
(`finalize`), and use `{% trans %}` and `_()` for their own words. The catalogues are
whistle/locale/<code>/LC_MESSAGES/whistle.po (Python and templates) and whistle-js.po (the
browser's modules, served by `catalogue_view`); docs/translating.md says how to add a language.

The JSON API answers in English whatever the address: `english()` gives a marked value's English
text for it.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from babel.support import Translations
from pyramid.i18n import TranslationString, TranslationStringFactory, make_localizer
from pyramid.response import Response
from pyramid.threadlocal import get_current_request

DOMAIN = "whistle"
JS_DOMAIN = "whistle-js"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
_ = TranslationStringFactory(DOMAIN)

# Where the language tween leaves the request's language for the locale negotiator.
ENVIRON_KEY = "whistle.language"


@dataclass(frozen=True)
class Language:
    code: str  # the address prefix and the catalogue's directory: "cy"
    name: str  # in the language itself, as the home page offers it: "Cymraeg"
    direction: str  # "ltr" or "rtl": the page's dir attribute
    formats: str  # Babel's locale for numbers and dates: "en_GB"


DEFAULT = "en"
LANGUAGES: dict[str, Language] = {
    language.code: language
    for language in (
        Language("en", "English", "ltr", "en_GB"),
        Language("cy", "Cymraeg", "ltr", "cy_GB"),
        Language("pl", "Polski", "ltr", "pl_PL"),
        Language("ar", "العربية", "rtl", "ar"),
    )
}
# The languages whose pages live under a prefix: every one but the default.
PREFIXED = tuple(code for code in LANGUAGES if code != DEFAULT)


def language_of_path(path: str) -> tuple[str, str]:
    """(language code, the rest of the path) for a raw PATH_INFO: "/cy/report/x" -> ("cy",
    "/report/x"), "/cy" -> ("cy", "/"), "/report/x" -> ("en", "/report/x")."""
    for code in PREFIXED:
        prefix = "/" + code
        if path == prefix or path.startswith(prefix + "/"):
            return code, path[len(prefix):] or "/"
    return DEFAULT, path


def language_tween_factory(handler, registry):
    """Move a language prefix from PATH_INFO to SCRIPT_NAME before routes are matched, so every
    route serves every language and every URL the app builds keeps the prefix."""

    def language_tween(request):
        code, rest = language_of_path(request.environ.get("PATH_INFO", ""))
        request.environ[ENVIRON_KEY] = code
        if code != DEFAULT:
            request.environ["SCRIPT_NAME"] = request.environ.get("SCRIPT_NAME", "") + "/" + code
            request.environ["PATH_INFO"] = rest
        return handler(request)

    return language_tween


def path_in_language(request, code: str, *, here: bool = True) -> str:
    """This page's path in language `code`: the same address under that language's prefix (the
    query left off: a link to another language starts the page afresh); with `here` false, the home
    page in that language (what an error page offers: a refused page must read exactly like an
    address that does not exist)."""
    outer = request.script_name
    current = request_language(request).code
    if current != DEFAULT and outer.endswith("/" + current):
        outer = outer[: -len(current) - 1]
    prefix = "" if code == DEFAULT else "/" + code
    if not here:
        return outer + prefix + "/"
    try:
        path = request.path_info
    except UnicodeDecodeError:  # an address that is not UTF-8 gets an error page, linking home
        path = "/"
    return outer + prefix + path


def link_in_language(link: str, code: str | None) -> str:
    """`link` (an absolute address of a staff page, such as whistle.notifications.link) in language
    `code`: its prefix put in front of the path's last `staff` segment, replacing any language's
    prefix already there, so "https://x.org/staff/login" in Welsh is "https://x.org/cy/staff/login",
    and whistle served under /speakup keeps it. With `code` None, or a path with no `staff`
    segment, the link as it is; so too for a code whistle does not ship, which never reaches a path."""
    if code not in LANGUAGES:
        return link
    parts = urlsplit(link)
    segments = parts.path.split("/")
    staff = [index for index, segment in enumerate(segments) if segment == "staff"]
    if not staff:
        return link
    at = staff[-1]
    mount = segments[:at - 1] if at > 1 and segments[at - 1] in PREFIXED else segments[:at]
    path = "/".join([*mount, *([code] if code != DEFAULT else []), *segments[at:]])
    return urlunsplit(parts._replace(path=path))


def negotiate_locale(request) -> str:
    """Pyramid's locale negotiator: the address's language, and nothing the client could carry."""
    return request.environ.get(ENVIRON_KEY, DEFAULT)


def request_language(request) -> Language:
    return LANGUAGES[negotiate_locale(request)]


def current_language() -> Language:
    """The language of the request being served; English outside one (commands, the tick)."""
    request = get_current_request()
    return request_language(request) if request is not None else LANGUAGES[DEFAULT]


def translate(request, value):
    """`value` in the request's language: a TranslationString translated, with any marked values
    in its mapping translated first; anything else as it is."""
    if not isinstance(value, TranslationString):
        return value
    if value.mapping:
        mapping = {key: translate(request, item) for key, item in value.mapping.items()}
        value = TranslationString(value, mapping=mapping)
    return request.localizer.translate(value)


def english(value):
    """A marked value's English text, its markers filled (what the JSON API answers); the English
    of every marked value inside a dict or list too."""
    if isinstance(value, TranslationString):
        mapping = {key: english(item) for key, item in (value.mapping or {}).items()}
        return TranslationString(value, mapping=mapping).interpolate() if mapping else str(value.interpolate())
    if isinstance(value, Mapping):
        return {key: english(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [english(item) for item in value]
    return value


def localized(value):
    """`value` in the current request's language (English outside one): for text that is put
    together in Python, such as a flash message, before it reaches a template; and each marked
    value inside a dict, for words a page hands its scripts as JSON (labels by their names)."""
    request = get_current_request()
    if request is not None and isinstance(value, Mapping):
        return {key: localized(item) for key, item in value.items()}
    return translate(request, value) if request is not None else english(value)


def in_language(code: str, value):
    """`value` in the language `code`, outside any request: for words sent by the scheduler, such as
    a notice e-mail; anything but a marked value as it is."""
    if not isinstance(value, TranslationString) or code == DEFAULT:
        return english(value)
    if value.mapping:
        value = TranslationString(value, mapping={key: in_language(code, item) for key, item in value.mapping.items()})
    return _localizer(code).translate(value)


@cache
def _localizer(code: str):
    return make_localizer(code, [str(LOCALE_DIR)])


def plural(singular: str, plural_: str, count: int, mapping: Mapping | None = None) -> str:
    """'1 file' or '3 files' in the current request's language, with as many forms as it has
    (Welsh six, Arabic six, Polish three), `count` and `mapping` filling ${name} markers:
    plural("${count} file", "${count} files", n, {"count": n}). Extracted by `make messages`."""
    mapping = {"count": count, **(mapping or {})}
    request = get_current_request()
    if request is None:
        return TranslationString(singular if count == 1 else plural_, mapping=mapping).interpolate()
    translated = {key: translate(request, value) for key, value in mapping.items()}
    return request.localizer.pluralize(singular, plural_, count, domain=DOMAIN, mapping=translated)


def finalize(value):
    """Jinja2's finalize: whatever a template prints goes through here, so a marked value handed to
    a template is shown translated without the template having to ask."""
    if isinstance(value, TranslationString):
        return localized(value)
    return value


@cache
def js_catalogue(code: str) -> str:
    """The browser's catalogue for language `code` as an ES module: `export default {msgid: text}`."""
    messages: dict[str, str] = {}
    if code != DEFAULT:
        translations = Translations.load(str(LOCALE_DIR), [code], JS_DOMAIN)
        catalog = getattr(translations, "_catalog", {})
        messages = {key: text for key, text in catalog.items() if isinstance(key, str) and key and text}
    return "export default " + json.dumps(messages, ensure_ascii=False, sort_keys=True) + ";\n"


def catalogue_view(request) -> Response:
    """GET /i18n/catalogue.js (under the page's prefix): the browser modules' translations, which
    static/js/i18n.js imports."""
    response = Response(js_catalogue(request_language(request).code), content_type="text/javascript",
                        charset="utf-8")
    return response


def includeme(config) -> None:
    config.add_translation_dirs("whistle:locale/")
    config.set_locale_negotiator(negotiate_locale)
    config.add_request_method(request_language, "language", reify=True)
    config.add_view(catalogue_view, route_name="i18n.catalogue", request_method="GET", permission="public:view")
    # Outermost but for the metrics (which count by route name, never by path), so the security
    # headers, health answers and error pages all see the address without its prefix.
    config.add_tween("whistle.i18n.language_tween_factory",
                     under="whistle.health.metrics_tween_factory",
                     over="whistle.security.headers.security_headers_tween_factory")
