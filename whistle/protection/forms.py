"""Checking what guardians, reporters and HR integrations send about retaliation watch."""
from __future__ import annotations

from datetime import date
from typing import Any

from whistle.i18n import _
from whistle.numbers import whole_number
from whistle.protection.services import EVENT_TYPES

MAX_PERSONNEL_ID_CHARS = 64
MAX_WINDOW_MONTHS = 120


def _personnel_id(value, errors: dict, field: str = "personnel_id") -> str:
    if not isinstance(value, str) or not value.strip():
        errors[field] = _("Give the personnel number as text.")
    elif len(value) > MAX_PERSONNEL_ID_CHARS:
        errors[field] = _("At most ${limit} characters.", mapping={"limit": MAX_PERSONNEL_ID_CHARS})
    return value.strip() if isinstance(value, str) else ""


def _date(value, errors: dict, field: str) -> date | None:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors[field] = _("Give a date as YYYY-MM-DD.")
    return None


def validate_event(data: dict) -> tuple[dict, dict[str, str]]:
    errors: dict[str, str] = {}
    clean = {"personnel_id": _personnel_id(data.get("personnel_id"), errors),
             "effective": _date(data.get("effective"), errors, "effective"),
             "type": data.get("type")}
    if clean["type"] not in EVENT_TYPES:
        errors["type"] = "One of the personnel event types in the API description."
    return clean, errors


def validate_protection(fields: dict, today: date) -> tuple[dict, dict[str, str]]:
    """The guardian's form: personnel number, start date (default today), window in months (default 24)."""
    errors: dict[str, str] = {}
    clean: dict[str, Any] = {"personnel_id": _personnel_id(fields.get("personnel_id"), errors)}
    starts = fields.get("starts_on") or today.isoformat()
    clean["starts_on"] = _date(starts, errors, "starts_on")
    window = str(fields.get("window_months") or "24").strip()
    months = whole_number(window)
    if months is None or not 1 <= months <= MAX_WINDOW_MONTHS:
        errors["window_months"] = _("A whole number of months from 1 to ${most}.", mapping={"most": MAX_WINDOW_MONTHS})
    clean["window_months"] = None if "window_months" in errors else months
    return clean, errors
