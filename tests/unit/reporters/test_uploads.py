"""Streaming form parsing: fields in memory with a cap, files as chunk iterators, never request.POST."""
from __future__ import annotations

import pytest
from pyramid.request import Request

from whistle.attachments.uploads import FilePart, MalformedForm, form_parts


def multipart(*parts: tuple[str, str | None, bytes]) -> Request:
    boundary = "XyZ123"
    body = b""
    for name, filename, content in parts:
        disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"--{boundary}\r\nContent-Disposition: {disposition}\r\n".encode()
        if filename is not None:
            body += b"Content-Type: application/octet-stream\r\n"
        body += b"\r\n" + content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return Request.blank("/", POST=None, method="POST", body=body,
                         content_type=f"multipart/form-data; boundary={boundary}")


def collect(request, limit=1000):
    out = []
    for part in form_parts(request, max_field_bytes=limit):
        if isinstance(part, FilePart):
            out.append((part.name, part.filename, b"".join(part.chunks)))
        else:
            out.append((part.name, part.value))
    return out


def test_fields_and_files_in_order():
    big = b"z" * 300_000
    request = multipart(("csrf_token", None, b"t"), ("text", None, "grüße".encode()), ("files", "a.bin", big),
                        ("files", "", b""))
    assert collect(request) == [("csrf_token", "t"), ("text", "grüße"), ("files", "a.bin", big), ("files", "", b"")]


def test_unread_file_parts_are_skipped():
    request = multipart(("files", "a.bin", b"a" * 100_000), ("after", None, b"yes"))
    names = [part.name for part in form_parts(request, max_field_bytes=100)]
    assert names == ["files", "after"]


def test_an_oversized_field_or_broken_body_is_refused():
    with pytest.raises(MalformedForm):
        collect(multipart(("text", None, b"x" * 2000)), limit=1000)
    broken = Request.blank("/", method="POST", body=b"--XyZ123\r\nnonsense",
                           content_type="multipart/form-data; boundary=XyZ123")
    with pytest.raises(MalformedForm):
        collect(broken)


def test_urlencoded_forms_are_read_with_a_cap():
    request = Request.blank("/", method="POST", body=b"a=1&b=two+words&a=3",
                            content_type="application/x-www-form-urlencoded")
    assert collect(request) == [("a", "1"), ("b", "two words"), ("a", "3")]
    with pytest.raises(MalformedForm):
        collect(Request.blank("/", method="POST", body=b"a=" + b"x" * 50,
                              content_type="application/x-www-form-urlencoded"), limit=10)
