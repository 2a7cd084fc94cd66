"""Errors as types, and their RFC 9457 problem-document form for the JSON API."""
from __future__ import annotations

from http import HTTPStatus

from pyramid.response import Response

from whistle.i18n import english

PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error the API reports as a problem document (and the HTML side as an error page).

    `errors` names each faulty field: [{"field": name, "message": text}]; `members` are further
    members of the document that a problem type defines (RFC 9457 §3.2), e.g. {"reason": ...}.
    """

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        type: str = "about:blank",
        title: str | None = None,
        errors: list[dict] | None = None,
        members: dict | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.type = type
        self.title = title or HTTPStatus(status).phrase
        self.errors = errors
        self.members = members or {}

    def as_dict(self) -> dict:
        """The problem document; the API answers in English, so a marked (translatable) detail or
        field message is given as its English text."""
        body = {**self.members, "type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if self.errors is not None:
            body["errors"] = self.errors
        return english(body)


def validation_problem(errors: dict[str, str], detail: str = "Some fields need attention.") -> Problem:
    return Problem(
        422,
        detail,
        type="/api/v1/problems/validation",
        title="Invalid request",
        errors=[{"field": name, "message": message} for name, message in errors.items()],
    )


def problem_response(problem: Problem, headers: dict | None = None) -> Response:
    response = Response(status=problem.status, json_body=problem.as_dict(), headers=headers or {})
    response.content_type = PROBLEM_JSON
    return response
