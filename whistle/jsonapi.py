"""Reading JSON request bodies for the API: size, type and shape checked before anything else."""
from __future__ import annotations

import json
from typing import Any

from whistle.errors import Problem


def read_json(request) -> dict[str, Any]:
    """The request's JSON object, or a Problem (413, 415, 400) that says what is wrong with it."""
    limit = request.registry.whistle_settings.max_json_bytes
    if request.content_length is not None and request.content_length > limit:
        raise Problem(413, f"The request body is larger than {limit} bytes.")
    if request.content_type != "application/json":
        raise Problem(415, "Send the body as application/json.")
    body = request.body_file.read(limit + 1)
    if len(body) > limit:
        raise Problem(413, f"The request body is larger than {limit} bytes.")
    try:
        data = json.loads(body.decode(request.charset or "utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "The request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise Problem(400, "The request body must be a JSON object.")
    return data


def reject_unknown_members(data: dict, allowed: set[str]) -> dict[str, str]:
    """Errors for members the call does not take, so a typo is named instead of ignored."""
    return {name: "Unknown member." for name in data if name not in allowed}
