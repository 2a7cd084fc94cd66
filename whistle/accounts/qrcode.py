"""QR codes for pages, as inline SVG markup made on the server.

The CSP allows no script and no `data:` image (`img-src 'self'`), so the code cannot be drawn
in the browser or embedded as a data URI; an <svg> element in the page is neither. segno is
pure Python and deterministic: the same text always gives the same drawing.
"""
from __future__ import annotations

import segno
from markupsafe import Markup, escape


def qr_svg(text: str, *, label: str) -> Markup:
    """`text` as a QR code: an <svg> element with role="img", `label` as its accessible name and
    title, black modules on white with the standard four-module quiet zone."""
    code = segno.make_qr(text, error="m")
    svg = code.svg_inline(scale=5, border=4, dark="#000", light="#fff", title=label, svgclass="qr-code")
    if not svg.startswith("<svg "):
        raise ValueError("segno returned something other than an <svg> element")
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(label)}" ', 1))
