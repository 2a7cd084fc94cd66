"""The small pieces every part of the OpenAPI document is built from (whistle.openapi.document and
whistle.openapi.workspace): problem responses, JSON bodies, common schemas and parameters."""
from __future__ import annotations

PROBLEM = {"$ref": "#/components/schemas/Problem"}


def _problem_responses(*statuses: int) -> dict:
    descriptions = {
        400: "Malformed request (not JSON, not an object, nested too deeply).",
        401: "Not logged in, or the session expired.",
        403: "Logged in, but not allowed.",
        404: "No such resource, or not one the caller may see (existence is not revealed).",
        409: "The move is not allowed from the current state.",
        413: "The body is larger than allowed.",
        415: "The body is not application/json in UTF-8.",
        422: "Validation failed; `errors` names each faulty field.",
        429: "Too many attempts; wait and try again.",
        503: "Busy: every Argon2id slot of the server stayed taken (type /api/v1/problems/busy). Nothing was done; "
             "send it again after Retry-After seconds.",
    }
    return {
        str(status): {"description": descriptions[status],
                      "content": {"application/problem+json": {"schema": PROBLEM}}}
        for status in statuses
    }


def limited(description: str, *problem_types: str) -> dict:
    """A 429 for a budget that is spent (docs/operations.md, "Limits"): its problem types, each
    with `retry_after`, and the Retry-After header; nothing of the request was kept."""
    schema = {"allOf": [PROBLEM, {"type": "object", "properties": {
        "type": {"enum": list(problem_types)} if len(problem_types) > 1 else {"const": problem_types[0]},
        "retry_after": {"type": "integer", "minimum": 1, "description": "Seconds until it may be sent again."}}}]}
    return {"429": {"description": description,
                    "headers": {"Retry-After": {"description": "Seconds until it may be sent again.",
                                                "schema": {"type": "integer", "minimum": 1}}},
                    "content": {"application/problem+json": {"schema": schema}}}}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _closed(schema: dict) -> dict:
    """An object schema that refuses members it does not name, as the API does (422 naming each:
    whistle.jsonapi.reject_unknown_members); alternatives (oneOf) each so."""
    if "oneOf" in schema:
        return {**schema, "oneOf": [_closed(alternative) for alternative in schema["oneOf"]]}
    if schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema:
        return {**schema, "additionalProperties": False}
    return schema


def _body(schema: dict) -> dict:
    return {"required": True, "content": {"application/json": {"schema": _closed(schema)}}}


BEARER: list[dict[str, list[str]]] = [{"bearer": []}]
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
STR = {"type": "string"}
# A string the API refuses when empty ("Required").
FILLED = {"type": "string", "minLength": 1}
CASE_REF = {"name": "ref", "in": "path", "required": True, "schema": STR, "description": "The case reference."}
