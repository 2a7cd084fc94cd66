"""Canonical JSON: the one byte form of a JSON value that gets signed (docs/crypto.md 6.8)."""
from __future__ import annotations

import json
from typing import Any

# JavaScript's Number holds integers exactly only up to 2**53 - 1; beyond that the browser's
# parser would read a different number than Python did, and the two could not agree on the bytes.
MAX_SAFE_INTEGER = 2**53 - 1


def canonical_json(value: object) -> bytes:
    """`value` as UTF-8 JSON with sorted keys and no spaces; the bytes a signature covers.

    Only null, booleans, integers within +-(2**53 - 1), strings, lists and objects with string
    keys are allowed, because two implementations would not write anything else alike: a float
    or a non-string key raises TypeError, an integer out of that range or a string that is not
    valid Unicode (a lone surrogate) ValueError.
    """
    _check(value, depth=0)
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return text.encode("utf-8")


def parse_canonical_json(data: bytes) -> Any:
    """The value whose canonical form is exactly `data`, or ValueError.

    Refuses what `canonical_json` would not write: floats, duplicate keys, unsorted keys,
    spaces, escapes where the character itself belongs, a byte order mark. A signed document is
    read with this, so what was signed and what is read cannot differ.
    """
    if not isinstance(data, bytes):
        raise TypeError("canonical JSON is parsed from bytes")
    try:
        text = data.decode("utf-8")
        value = json.loads(
            text,
            object_pairs_hook=_no_duplicates,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError):
        raise ValueError("not JSON in UTF-8") from None
    if canonical_json(value) != data:
        raise ValueError("JSON not in canonical form")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        raise ValueError("duplicate key in JSON object")
    return result


def _no_float(text: str) -> Any:
    raise ValueError("floats are not allowed in canonical JSON")


_MAX_DEPTH = 64


def _check(value: object, depth: int) -> None:
    if depth > _MAX_DEPTH:
        raise ValueError("JSON nested too deeply")
    if value is None or isinstance(value, bool):
        return
    if isinstance(value, int):
        if not -MAX_SAFE_INTEGER <= value <= MAX_SAFE_INTEGER:
            raise ValueError("integer outside +-(2**53 - 1) in canonical JSON")
        return
    if isinstance(value, str):
        _check_string(value)
        return
    if isinstance(value, (list, tuple)):
        for item in value:
            _check(item, depth + 1)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise TypeError("object keys must be strings in canonical JSON")
            _check_string(key)
            _check(item, depth + 1)
        return
    raise TypeError(f"{type(value).__name__} is not allowed in canonical JSON (floats are not)")


def _check_string(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("string is not valid Unicode (lone surrogate)") from None
