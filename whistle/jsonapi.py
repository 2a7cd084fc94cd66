"""Reading JSON request bodies for the API: size, type and shape checked before anything else.

Every string in the body, member names included, is checked here once for what Unicode text may
not hold (a lone surrogate cannot be encoded as UTF-8, so it would fail deep inside encryption or
the database; NUL cannot be stored or looked up in PostgreSQL text), so no view has to.
"""
from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from whistle.errors import Problem, validation_problem

# Far deeper than any call takes (answers are one level of lists), and shallow enough that no code
# walking the data recursively (the JSON renderer, hooks, json.dumps of the answers) can overflow.
MAX_DEPTH = 32
NOT_TEXT = ("This contains a character that is not text (a NUL, or half of a UTF-16 surrogate pair). "
            "Send the text as valid Unicode.")


def read_json(request, *, limit: int | None = None) -> dict[str, Any]:
    """The request's JSON object, or a Problem (413, 415, 400, 422) that says what is wrong with it.
    `limit`: the most bytes the body may have (default: the setting whistle.api.max_json_bytes)."""
    limit = request.registry.whistle_settings.max_json_bytes if limit is None else limit
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, f"The request body is larger than {limit} bytes.")
    if request.content_type != "application/json":
        raise Problem(415, "Send the body as application/json.")
    if request.charset.lower() not in ("utf-8", "utf8"):
        raise Problem(415, "Send the body as UTF-8 (RFC 8259): no other charset is accepted.")
    body = request.body_file.read(limit + 1)
    if len(body) > limit:
        raise Problem(413, f"The request body is larger than {limit} bytes.")
    try:
        data = json.loads(body.decode("utf-8"), parse_constant=_not_json)
    except RecursionError:
        raise Problem(400, f"The request body is nested too deeply (at most {MAX_DEPTH} levels).") from None
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Problem(400, "The request body must be a JSON object.")
    errors = _not_text(data)
    if errors:
        raise validation_problem(errors)
    return data


def _not_json(constant: str):
    # Python's json reads NaN and Infinity, which are not JSON (RFC 8259) and compare unequal to
    # everything, themselves included.
    raise ValueError(f"{constant} is not JSON")


def _not_text(data: dict) -> dict[str, str]:
    """{field: message} for every string (or member name) that is not valid text, named by its path
    ("answers.where", "add_labels.1"). Iterative, so depth is checked rather than trusted."""
    errors: dict[str, str] = {}
    pending: list[tuple[tuple[str, ...], Any]] = [((), data)]
    while pending:
        path, value = pending.pop()
        if len(path) > MAX_DEPTH:
            raise Problem(400, f"The request body is nested too deeply (at most {MAX_DEPTH} levels).")
        if isinstance(value, str):
            if not _is_text(value):
                errors[_field(path)] = NOT_TEXT
        elif isinstance(value, dict):
            for name, member in value.items():
                member_path = (*path, _printable(name))
                if not _is_text(name):
                    errors[_field(member_path)] = NOT_TEXT
                pending.append((member_path, member))
        elif isinstance(value, list):
            pending.extend(((*path, str(index)), item) for index, item in enumerate(value))
    return dict(sorted(errors.items()))


def _is_text(value: str) -> bool:
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # only a surrogate code point fails to encode
        return False
    return True


def _printable(name: str) -> str:
    # A member name is echoed back in the problem, so what cannot be encoded is shown as U+FFFD.
    return "".join("\ufffd" if ch == "\x00" or "\ud800" <= ch <= "\udfff" else ch for ch in name)


def _field(path: tuple[str, ...]) -> str:
    return ".".join(path)


def reject_unknown_members(data: dict, allowed: set[str]) -> dict[str, str]:
    """Errors for members the call does not take, so a typo is named instead of ignored."""
    return {name: "Unknown member." for name in data if name not in allowed}


def decode_base64(value: Any) -> bytes | None:
    """The bytes of standard base64 with padding (RFC 4648 §4), as the end-to-end API takes them;
    None for anything else (not a string, another alphabet, missing padding, stray characters)."""
    if not isinstance(value, str) or not value.isascii():
        return None
    try:
        return base64.b64decode(value, validate=True)
    except binascii.Error:
        return None
