"""The request class: WebOb's form parsing kept in memory, so a guardian's words never touch disk.

`request.POST` (staff forms: replies, notes, outcomes) first copies the body to a seekable
buffer, and WebOb puts any body over `request_body_tempfile_limit` (10 KiB by default) in a
temporary file: a guardian's long note would sit on disk in plaintext. Here the limit is the
largest form a guardian can legitimately send (the longest text, percent-encoded, plus the
other fields), so every accepted form is parsed in memory, and a larger form body is refused
with 413 before anything reads it. Reporter forms never use `request.POST` at all (they stream:
whistle/attachments/uploads.py), and the JSON API reads `body_file` with its own limit.
"""
from __future__ import annotations

from pyramid.httpexceptions import HTTPBadRequest, HTTPRequestEntityTooLarge
from pyramid.request import Request

# A character is at most 4 bytes of UTF-8, each percent-encoded as 3: 12 bytes per character.
BYTES_PER_CHAR = 12
OTHER_FIELDS = 64 * 1024


def form_body_limit(settings) -> int:
    return settings.max_text_chars * BYTES_PER_CHAR + OTHER_FIELDS


class WhistleRequest(Request):
    @property
    def request_body_tempfile_limit(self) -> int:
        return form_body_limit(self.registry.whistle_settings)

    @property
    def POST(self):
        limit = self.request_body_tempfile_limit
        if self.content_length is not None and self.content_length > limit:
            raise HTTPRequestEntityTooLarge(f"The form is larger than {limit} bytes.")
        if self.content_length is None and self.method == "POST":
            # A chunked body of unknown length could outgrow the limit while being copied.
            raise HTTPRequestEntityTooLarge("Send the form with a Content-Length.")
        try:
            return Request.POST.fget(self)
        except ValueError:  # e.g. multipart without a boundary: the client's mistake, not ours
            raise HTTPBadRequest("The form could not be read.") from None
