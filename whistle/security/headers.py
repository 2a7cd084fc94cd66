"""A tween that puts the security headers of ARCHITECTURE.md §2.7 on every response, and Onion-Location on
every page when the service has an onion address."""
from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup

# No script may run, nothing may be framed, forms post only to us, and nothing is cached or
# referred: a reporter's visit leaves as little as possible in the browser and on the wire.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), interest-cohort=()",
}
HSTS = "max-age=63072000; includeSubDomains"

# Pages that load a script (the reporter pages that encrypt on the device, and the signed-in pages
# with the idle warning) run the app's own module scripts and libsodium's WebAssembly, and fetch only
# from this origin. Every page that loads no script keeps the policy above: no script at all.
SCRIPTS_CSP = (
    "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; style-src 'self'; "
    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
PAGE_SCRIPTS = "whistle.page_scripts"


def page_script(request, name: str) -> Markup:
    """The tag that loads whistle/static/js/`name` as a module, for a template; the response to
    this request then gets SCRIPTS_CSP, so a page gets the script policy only by loading a script."""
    request.environ[PAGE_SCRIPTS] = True
    src = request.static_path(f"whistle:static/js/{name}")
    return Markup('<script type="module" src="{}"></script>').format(src)


# Characters a path or query keeps as they are in the Onion-Location URL; anything else (a space, a
# quote, a byte beyond ASCII) is percent-encoded, so the header is always one well-formed URL.
URL_SAFE = "/:@!$&'()*+,;=-._~%?"


def onion_location(environ, onion_address: str) -> str | None:
    """The same page at the onion address, for a page visited over the clearnet; None for the API
    (Tor Browser offers the switch on pages only) and for a visit over the onion service itself
    (its Host is the .onion address: Tor Browser sends it, and nginx's onion block passes it on)."""
    host = environ.get("HTTP_HOST", "").split(":")[0].lower()
    path = environ.get("PATH_INFO", "")
    if host.endswith(".onion") or path.startswith("/api/"):
        return None
    # PATH_INFO is WSGI's latin-1 string of the raw bytes; the query string is as the client sent it.
    target = quote(path.encode("latin-1"), safe=URL_SAFE)
    query = environ.get("QUERY_STRING", "")
    if query:
        target += "?" + quote(query.encode("latin-1"), safe=URL_SAFE)
    return f"http://{onion_address}{target}"


def security_headers_tween_factory(handler, registry):
    secure = registry.whistle_settings.cookies_secure
    onion_address = registry.whistle_settings.onion_address

    def security_headers_tween(request):
        response = handler(request)
        response.headers.update(SECURITY_HEADERS)
        if request.environ.get(PAGE_SCRIPTS):
            response.headers["Content-Security-Policy"] = SCRIPTS_CSP
        response.headers.pop("Server", None)
        if secure:
            response.headers["Strict-Transport-Security"] = HSTS
        if onion_address and response.content_type == "text/html":
            location = onion_location(request.environ, onion_address)
            if location is not None:
                response.headers["Onion-Location"] = location
        return response

    return security_headers_tween
