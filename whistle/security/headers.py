"""A tween that puts the security headers of ARCHITECTURE.md §2.7 on every response."""
from __future__ import annotations

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


def security_headers_tween_factory(handler, registry):
    secure = registry.whistle_settings.cookies_secure

    def security_headers_tween(request):
        response = handler(request)
        response.headers.update(SECURITY_HEADERS)
        response.headers.pop("Server", None)
        if secure:
            response.headers["Strict-Transport-Security"] = HSTS
        return response

    return security_headers_tween
