"""Reading a form post as a stream of fields and files, without WebOb's parser.

WebOb (`request.POST`) hands multipart bodies to `cgi.FieldStorage`, which writes every file
part to a temporary file, and first copies any body over 10 KiB into another temporary file
(`BaseRequest.request_body_tempfile_limit`, in `make_body_seekable`): plaintext on disk either
way. These helpers read `wsgi.input` piece by piece instead: small fields are collected in
memory (with a size cap), and a file part is handed over as an iterator of chunks, to be
encrypted as it is read. Never touch `request.POST` or `request.params` on a route that uses them.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

from multipart import MultipartError, MultipartSegment, PushMultipartParser, parse_options_header
from pyramid.interfaces import ICSRFStoragePolicy

READ_SIZE = 64 * 1024
MAX_FIELDS = 200


class MalformedForm(Exception):
    """The body is not a form we can read, or a field is larger than allowed."""


def csrf_ok(request, supplied) -> bool:
    """The form's CSRF token checked without pyramid.csrf.check_csrf_token, which reads
    request.POST (and so would send a multipart body through cgi.FieldStorage)."""
    policy = request.registry.getUtility(ICSRFStoragePolicy)
    return isinstance(supplied, str) and bool(supplied) and policy.check_csrf_token(request, supplied)


@dataclass
class Field:
    name: str
    value: str


@dataclass
class FilePart:
    name: str
    filename: str
    content_type: str
    chunks: Iterator[bytes] = field(repr=False)


def filename_header(request) -> str | None:
    """The file's name from the API's X-Filename header (UTF-8, percent-encoded); None when it is
    missing, empty or not valid UTF-8."""
    try:
        return unquote(request.headers.get("X-Filename", ""), encoding="utf-8", errors="strict") or None
    except UnicodeDecodeError:
        return None


def body_chunks(request) -> Iterator[bytes]:
    """A raw request body (the API's file uploads) piece by piece, never as a whole."""
    return _read_pieces(request)


def _read_pieces(request) -> Iterator[bytes]:
    body = request.body_file  # WebOb limits this to Content-Length; it does not buffer it
    while True:
        piece = body.read(READ_SIZE)
        if not piece:
            return
        yield piece


def form_parts(request, *, max_field_bytes: int) -> Iterator[Field | FilePart]:
    """Each field and file of the posted form, in the order the browser sent them.

    A FilePart's chunks must be consumed (or skipped) before asking for the next part; the
    caller may stop early, which leaves the rest of the body unread. A file input left empty
    comes as a FilePart with filename "" and no bytes.
    """
    content_type, options = parse_options_header(request.headers.get("Content-Type", ""))
    if content_type == "application/x-www-form-urlencoded":
        limit = max_field_bytes
        if request.content_length is not None and request.content_length > limit:
            raise MalformedForm("The form is larger than allowed.")
        body = request.body_file.read(limit + 1)
        if len(body) > limit:
            raise MalformedForm("The form is larger than allowed.")
        try:
            # errors="strict": a percent-encoded byte sequence that is not UTF-8 is refused, not
            # quietly replaced with U+FFFD (which would change what the reporter sent).
            pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, max_num_fields=MAX_FIELDS,
                              errors="strict")
        except (UnicodeDecodeError, ValueError):
            raise MalformedForm("The form could not be read.") from None
        for name, value in pairs:
            yield Field(name, value)
        return
    if content_type != "multipart/form-data" or not options.get("boundary"):
        raise MalformedForm("Send the form as multipart/form-data or application/x-www-form-urlencoded.")
    yield from _multipart(request, options["boundary"], max_field_bytes)


def _multipart(request, boundary: str, max_field_bytes: int) -> Iterator[Field | FilePart]:
    parser = PushMultipartParser(boundary, max_segment_count=MAX_FIELDS)

    def events():
        try:
            for piece in _read_pieces(request):
                yield from parser.parse(piece)
            if not parser.closed:
                yield from parser.parse(b"")
        except MultipartError:
            raise MalformedForm("The form could not be read.") from None
        if not parser.closed:
            raise MalformedForm("The form ended too early.")

    stream = events()

    def file_chunks() -> Iterator[bytes]:
        for event in stream:
            if event is None:  # end of this part
                return
            yield bytes(event)

    for event in stream:
        if not isinstance(event, MultipartSegment):
            continue
        if event.filename is None:
            value = bytearray()
            for piece in stream:
                if piece is None:
                    break
                value += piece
                if len(value) > max_field_bytes:
                    raise MalformedForm(f"The field {event.name!r} is larger than allowed.")
            try:
                yield Field(event.name, value.decode("utf-8"))
            except UnicodeDecodeError:
                raise MalformedForm("The form could not be read.") from None
        else:
            part = FilePart(event.name, event.filename, event.content_type or "application/octet-stream", file_chunks())
            yield part
            for _ in part.chunks:  # skip whatever the caller left unread
                pass
