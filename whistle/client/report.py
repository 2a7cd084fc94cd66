"""A case built on the reporter's machine (docs/crypto.md 7.1): the keys, the grants sealed to the
keys the verified directory lists, the items encrypted before anything is sent, and the body of
POST /api/v1/disclosures. Only routing answers travel in the clear (the channel marks them)."""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from whistle import crypto

FORMAT = "e2e/1"
AUTHOR = "reporter"
IDENTITY_FIELDS = ("name", "contact", "personnel_id")
MAX_ANSWER_CHARS = 2000


class BadReport(Exception):
    """What the reporter gave does not fit the channel: `errors` names each field."""

    def __init__(self, errors: dict[str, str]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{name}: {message}" for name, message in errors.items()))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def new_case_ref() -> str:
    """The server's format: ten base32 characters of random bytes (50 bits), "K7QMA-XHD4P"."""
    chars = base64.b32encode(crypto.random_bytes(10)).decode("ascii")[:10]
    return f"{chars[:5]}-{chars[5:]}"


@dataclass(frozen=True)
class Report:
    """What the reporter says, checked against the channel, before anything is encrypted."""

    channel: str
    text: str
    answers: dict[str, Any]  # to non-routing questions: encrypted
    routing_answers: dict[str, Any]  # to routing questions: in the clear, for triage
    identity_mode: str = "anonymous"
    identity: dict[str, str] | None = None
    left_out: tuple[int, ...] = ()


@dataclass(frozen=True)
class Built:
    """A case ready to send. The receipt and keys stay on this machine; `body` is all that leaves it."""

    receipt: str = field(repr=False)
    ref: str
    case_keys: crypto.KeyPair = field(repr=False)
    body: dict[str, Any] = field(repr=False)
    holders: tuple[int, ...]
    standby: tuple[int, ...]
    escrow: bool


def check_report(channel: Mapping[str, Any], *, text: str, answers: Mapping[str, Sequence[str]],
                 identity_mode: str, identity: Mapping[str, str], left_out: Iterable[str],
                 directory: crypto.DirectoryDocument, in_clear: Iterable[str] = ()) -> Report:
    """The report, checked as the server's form checks it (the server cannot read most of it to
    check it): answers against the questionnaire, the identity against the channel's modes, and
    those left out against the guardians the directory lists for the channel. BadReport names
    every field that is wrong.

    Which questions are routing questions (answered in the clear, for triage) the server says, and
    nothing signs that: so an answer goes in the clear only if the reporter named it in `in_clear`
    (`--answer-in-clear`), and a routing question answered without it is refused, not sent."""
    errors: dict[str, str] = {}
    text = text.strip()
    if not text:
        errors["text"] = "Tell us what happened: the text cannot be empty."
    fields = {spec["name"]: spec for spec in channel.get("fields", [])}
    clean: dict[str, Any] = {}
    for name in answers:
        if name not in fields:
            errors[f"answers.{name}"] = f"this channel has no question {name!r}"
    for name, spec in fields.items():
        value, error = _answer(spec, list(answers.get(name, [])))
        if error:
            errors[f"answers.{name}"] = error
        elif value not in (None, []):
            clean[name] = value
    routing = {name for name, spec in fields.items() if spec.get("routing")}
    agreed = set(in_clear)
    for name in sorted(routing & set(clean) - agreed):
        errors[f"answers.{name}"] = (f"the service asks for this answer unencrypted (it decides who reads the report); "
                                     f"give it with --answer-in-clear {name}=... if you agree, or leave it out")
    for name in sorted(agreed & set(fields) - routing):
        errors[f"answers.{name}"] = "this answer is encrypted like the report: give it with --answer, not in the clear"
    if identity_mode not in channel.get("identity_modes", ["anonymous"]):
        errors["identity_mode"] = f"this channel offers {', '.join(channel.get('identity_modes', []))}"
    given = {name: value.strip() for name, value in identity.items() if value and value.strip()}
    if identity_mode == "anonymous" and given:
        errors["identity_mode"] = "you gave a name or contact: choose --identity-mode confidential or open"
    if identity_mode != "anonymous" and "identity_mode" not in errors and not given.get("name"):
        errors["identity.name"] = "give your name with --name, or stay anonymous"
    if any(len(value) > 500 for value in given.values()):
        errors["identity"] = "keep each of name and contact under 500 characters"
    tiers = directory.listed_for(channel["slug"])
    listed = {directory.guardians[i].username: i for i in (*tiers.first_tier, *tiers.second_tier)}
    ids = []
    for username in left_out:
        if username not in listed:
            errors["left_out"] = (f"{username!r} does not receive reports on this channel; those who do: "
                                  f"{', '.join(sorted(listed)) or 'nobody'}")
        else:
            ids.append(listed[username])
    if errors:
        raise BadReport(errors)
    return Report(channel["slug"], text, {k: v for k, v in clean.items() if k not in routing},
                  {k: v for k, v in clean.items() if k in routing}, identity_mode,
                  given if identity_mode != "anonymous" else None, tuple(sorted(set(ids))))


def _answer(spec: Mapping[str, Any], values: list[str]) -> tuple[Any, str | None]:
    kind, required, choices = spec.get("type"), spec.get("required"), spec.get("choices", [])
    if kind == "multiple_choice":
        unknown = [v for v in values if v not in choices]
        if unknown:
            return None, f"choose from: {', '.join(choices)}"
        if required and not values:
            return None, "choose at least one"
        return values, None
    if len(values) > 1:
        return None, "answer this question once"
    value = values[0].strip() if values else ""
    if not value:
        return (None, "this question needs an answer") if required else (None, None)
    if len(value) > MAX_ANSWER_CHARS and kind != "long_text":
        return None, f"keep this under {MAX_ANSWER_CHARS} characters"
    if kind == "single_choice" and value not in choices:
        return None, f"choose one of: {', '.join(choices)}"
    if kind == "yes_no" and value not in ("yes", "no"):
        return None, "answer yes or no"
    if kind == "date":
        try:
            date.fromisoformat(value)
        except ValueError:
            return None, "give a date as YYYY-MM-DD"
    return value, None


def build_case(report: Report, directory: crypto.DirectoryDocument) -> Built:
    """Every key made here and every value encrypted here, to the keys in the verified directory."""
    who = crypto.recipients(directory, report.channel, report.left_out)
    if not who.holders:
        raise BadReport({"left_out": "nobody would be left to read this report on this channel; "
                                     "send it through another channel"})
    receipt = crypto.new_receipt_v2()
    reporter = crypto.derive_reporter_keys_v2(receipt, directory.receipt_salt, directory.receipt_cost)
    case, team = crypto.KeyPair.generate(), crypto.KeyPair.generate()
    ref = new_case_ref()

    def sealed_pair(public_key: bytes) -> dict[str, str]:
        return {"sealed_case_key": b64(crypto.seal(public_key, case.private)),
                "sealed_team_key": b64(crypto.seal(public_key, team.private))}

    grants: list[dict[str, Any]] = [{"holder": "reporter",
                                     "sealed_case_key": b64(crypto.seal(reporter.keypair.public, case.private))}]
    for holder, ids in (("guardian", who.holders), ("standby", who.standby)):
        for account_id in ids:
            key = directory.key_of(account_id)
            assert key is not None  # recipients() takes ids from the directory's own tiers
            grants.append({"holder": holder, "account_id": account_id, **sealed_pair(key)})
    if who.escrow_key is not None:
        grants.append({"holder": "escrow", **sealed_pair(who.escrow_key)})

    def item(kind: str, public_key: bytes, plaintext: bytes) -> dict[str, str]:
        return {"kind": kind, "ciphertext": b64(crypto.encrypt_item(public_key, plaintext, case=ref, kind=kind,
                                                                    author=AUTHOR))}

    items = [item("disclosure", case.public, report.text.encode("utf-8"))]
    if report.answers:
        items.append(item("answers", case.public, _json(report.answers)))
    if report.identity:
        items.append(item("identity", team.public, _json(dict(report.identity, mode=report.identity_mode))))
    body = {
        "format": FORMAT, "channel": report.channel, "case": ref, "directory_version": directory.version,
        "case_public_key": b64(case.public), "team_public_key": b64(team.public),
        "team_key_mac": b64(crypto.team_key_mac(case.private, team.public)),
        "reporter": {"lookup_value": b64(reporter.lookup_value), "public_key": b64(reporter.keypair.public),
                     "case_key_binding": b64(crypto.case_key_binding(reporter.keypair.private, ref, case.public))},
        "grants": grants, "items": items, "identity_mode": report.identity_mode,
        "routing_answers": report.routing_answers, "left_out": list(report.left_out),
    }
    return Built(receipt, ref, case, body, who.holders, who.standby, who.escrow_key is not None)


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8")
