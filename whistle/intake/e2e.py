"""A case built on the reporter's device (docs/crypto.md 7.1): checking what the client sends, and
storing it. The server sees ciphertext, public keys, and the answers to routing questions.

What can be checked is checked before anything is written: the shapes of every key, sealed key and
item; that the grants are exactly the recipients the current signed key directory gives for the
channel and the guardians the reporter left out; the item kinds a reporter writes; sizes; that
the case reference and the receipt's lookup id are free. What cannot be checked (the ciphertexts,
the team key MAC, the reporter's case key binding) is checked by the clients that read them.
"""
from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from whistle import audit, crypto
from whistle.cases.events import CaseOpened
from whistle.cases.info import case_info
from whistle.cases.models import (
    HOLDER_ESCROW,
    HOLDER_GUARDIAN,
    HOLDER_REPORTER,
    HOLDER_STANDBY,
    ITEM_ANSWERS,
    ITEM_DISCLOSURE,
    ITEM_IDENTITY,
    Case,
    CaseGrant,
    CaseItem,
)
from whistle.clock import Clock
from whistle.deadlines import profile_named
from whistle.hooks.types import Disclosure
from whistle.intake.forms import MAX_IDENTITY_BYTES, check_answer, wants_plain
from whistle.intake_channels.models import Channel
from whistle.intake_channels.services import default_guardians, second_tier_guardians
from whistle.jsonapi import decode_base64
from whistle.key_directory.services import Directory, try_current_directory
from whistle.routing.services import NobodyCanReceive, triage_new_case
from whistle.settings import Settings
from whistle.throttles import RECEIPT_FAILURES, RECEIPT_FAILURES_WINDOW, count_one

FORMAT = "e2e/1"
# The server's case reference format (whistle.cases.services.new_case_ref): ten base32 characters.
CASE_REF = re.compile(r"[A-Z2-7]{5}-[A-Z2-7]{5}")
MEMBERS = {"format", "channel", "case", "directory_version", "case_public_key", "team_public_key", "team_key_mac",
           "reporter", "grants", "items", "identity_mode", "routing_answers", "left_out",
           # a proof of work (whistle.intake.work), read by the view before anything here
           "proof"}
REPORTER_MEMBERS = {"lookup_value", "public_key", "case_key_binding"}
GRANT_MEMBERS = {"holder", "account_id", "sealed_case_key", "sealed_team_key"}
ITEM_MEMBERS = {"kind", "ciphertext"}
HOLDERS = (HOLDER_REPORTER, HOLDER_GUARDIAN, HOLDER_STANDBY, HOLDER_ESCROW)
ITEM_KINDS = (ITEM_DISCLOSURE, ITEM_ANSWERS, ITEM_IDENTITY)
KEY_BYTES = 32


class DirectoryChanged(Exception):
    """The client built the case for a key directory that is no longer the current one: it must
    fetch the directory again and rebuild. `version`: the current one."""

    def __init__(self, version: int) -> None:
        super().__init__(f"the current key directory is version {version}")
        self.version = version


class CaseRefTaken(Exception):
    """The case reference the client made is already a case's."""


class ReceiptTaken(Exception):
    """The lookup id of the client's receipt already finds a case."""


class GrantsRefused(Exception):
    """The grants are not the ones the directory gives: `errors` names the fields ({"grants": ...})."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("the grants are not the directory's recipients")
        self.errors = errors


@dataclass(frozen=True)
class ClientGrant:
    holder: str
    account_id: int | None
    sealed_case_key: bytes
    sealed_team_key: bytes | None


@dataclass(frozen=True)
class ClientBuiltCase:
    """A case as the client built it, its shapes checked (parse_client_case)."""

    channel: Channel
    ref: str
    directory_version: int
    case_public_key: bytes
    team_public_key: bytes
    team_key_mac: bytes
    lookup_value: bytes
    reporter_public_key: bytes
    reporter_case_key_binding: bytes
    grants: tuple[ClientGrant, ...]
    items: tuple[tuple[str, bytes], ...]  # (kind, ciphertext)
    identity_mode: str
    routing_answers: dict[str, Any]
    left_out: frozenset[int]


def _bytes(value: Any, size: int | None = None) -> bytes | None:
    """Standard base64 with padding, of `size` bytes if given; None if it is not."""
    data = decode_base64(value)
    return data if data is not None and (size is None or len(data) == size) else None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def item_limits(settings: Settings) -> dict[str, int]:
    """The most plaintext bytes an item of each kind a reporter writes may hold: the text limit
    (max_text_chars characters of up to 4 bytes) for text and answers, less for an identity."""
    text = settings.max_text_chars * 4
    return {ITEM_DISCLOSURE: text, ITEM_ANSWERS: text, ITEM_IDENTITY: MAX_IDENTITY_BYTES}


def max_body_bytes(settings: Settings) -> int:
    """How large a POST /api/v1/disclosures body may be: the JSON limit for everything else, plus the
    items of a case built on the client at their largest, in base64 (a disclosure and answers at the
    text limit are more than the plaintext form's body would be, once padded and encoded)."""
    items = sum(crypto.item_size(limit) for limit in item_limits(settings).values())
    return settings.max_json_bytes + 4 * (items // 3 + 1)


def routing_fields(questionnaire: list[dict]) -> dict[str, dict]:
    """The questions whose answers travel in the clear with an end-to-end report, by name."""
    return {spec["name"]: spec for spec in questionnaire if spec.get("routing")}


def parse_client_case(data: Mapping[str, Any], channel: Channel | None, *, settings: Settings,
                      questionnaire: list[dict]) -> tuple[ClientBuiltCase | None, dict[str, str]]:
    """(the case, {}) or (None, errors naming each faulty field, e.g. "grants.2.sealed_case_key").
    Only shapes: what needs the directory or the database is submit_client_built's."""
    errors: dict[str, str] = {}
    if data.get("format") != FORMAT:
        errors["format"] = f'Expected "{FORMAT}".'
    if channel is None:
        errors["channel"] = "No such channel: see GET /api/v1/channels."
    ref = data.get("case")
    if not isinstance(ref, str) or not CASE_REF.fullmatch(ref):
        errors["case"] = "Expected a case reference: ten of A-Z and 2-7, as XXXXX-XXXXX."
    version = data.get("directory_version")
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        errors["directory_version"] = "Expected the version of the key directory the case was built with."
    keys = {name: _bytes(data.get(name), KEY_BYTES) for name in ("case_public_key", "team_public_key", "team_key_mac")}
    for name, value in keys.items():
        if value is None:
            errors[name] = "Expected 32 bytes in base64."

    reporter = data.get("reporter")
    reporter_values: dict[str, bytes | None] = {}
    if not isinstance(reporter, dict):
        errors["reporter"] = "Expected an object with lookup_value, public_key and case_key_binding."
    else:
        errors.update({f"reporter.{name}": "Unknown member." for name in reporter if name not in REPORTER_MEMBERS})
        for name in sorted(REPORTER_MEMBERS):
            reporter_values[name] = _bytes(reporter.get(name), KEY_BYTES)
            if reporter_values[name] is None:
                errors[f"reporter.{name}"] = "Expected 32 bytes in base64."

    grants = _grants(data.get("grants"), errors)
    mode = data.get("identity_mode")
    if channel is not None and mode not in channel.identity_modes:
        errors["identity_mode"] = f"Expected one of {', '.join(channel.identity_modes)}."
    items = _items(data.get("items"), mode, item_limits(settings), errors)
    routing_answers = _routing_answers(data.get("routing_answers", {}), channel, questionnaire, errors)
    left_out = data.get("left_out", [])
    if not isinstance(left_out, list) or not all(_whole(i) for i in left_out) or len(set(left_out)) != len(left_out):
        errors["left_out"] = "Expected a list of the guardians' account ids, each once."
        left_out = []

    if errors:
        return None, errors
    assert channel is not None and isinstance(ref, str) and isinstance(version, int) and isinstance(mode, str)
    return ClientBuiltCase(
        channel=channel, ref=ref, directory_version=version,
        case_public_key=keys["case_public_key"] or b"", team_public_key=keys["team_public_key"] or b"",
        team_key_mac=keys["team_key_mac"] or b"",
        lookup_value=reporter_values["lookup_value"] or b"", reporter_public_key=reporter_values["public_key"] or b"",
        reporter_case_key_binding=reporter_values["case_key_binding"] or b"",
        grants=tuple(grants), items=tuple(items), identity_mode=mode, routing_answers=routing_answers,
        left_out=frozenset(left_out),
    ), {}


def _grants(value: Any, errors: dict[str, str]) -> list[ClientGrant]:
    if not isinstance(value, list) or not value:
        errors["grants"] = "Expected a list of grants: the reporter's, one per recipient, and escrow's."
        return []
    grants = []
    for index, grant in enumerate(value):
        where = f"grants.{index}"
        if not isinstance(grant, dict):
            errors[where] = "Expected an object with holder, account_id, sealed_case_key and sealed_team_key."
            continue
        errors.update({f"{where}.{name}": "Unknown member." for name in grant if name not in GRANT_MEMBERS})
        holder = grant.get("holder")
        if holder not in HOLDERS:
            errors[f"{where}.holder"] = f"Expected one of {', '.join(HOLDERS)}."
            continue
        for_guardian = holder in (HOLDER_GUARDIAN, HOLDER_STANDBY)
        account_id = grant.get("account_id")
        if for_guardian and not _whole(account_id):
            errors[f"{where}.account_id"] = "Expected the guardian's account id."
        elif not for_guardian and "account_id" in grant:
            errors[f"{where}.account_id"] = f"A grant to the {holder} has no account id."
        sealed = {}
        for name in ("sealed_case_key", "sealed_team_key"):
            if name == "sealed_team_key" and holder == HOLDER_REPORTER:
                if name in grant:
                    errors[f"{where}.{name}"] = "The reporter holds no team key."
                continue
            sealed[name] = value = _bytes(grant.get(name))
            if value is None or not crypto.is_sealed_key(value):
                errors[f"{where}.{name}"] = (f"Expected a 32-byte key in a sealed envelope: {crypto.SEALED_KEY_SIZE} "
                                             "bytes in base64.")
        if not any(field.startswith(f"{where}.") for field in errors):
            grants.append(ClientGrant(holder, account_id if for_guardian else None, sealed["sealed_case_key"] or b"",
                                      sealed.get("sealed_team_key")))
    return grants


def _items(value: Any, mode: Any, limits: Mapping[str, int], errors: dict[str, str]) -> list[tuple[str, bytes]]:
    if not isinstance(value, list):
        errors["items"] = "Expected a list of items: the disclosure, the answers, the identity."
        return []
    items = []
    for index, item in enumerate(value):
        where = f"items.{index}"
        if not isinstance(item, dict):
            errors[where] = "Expected an object with kind and ciphertext."
            continue
        errors.update({f"{where}.{name}": "Unknown member." for name in item if name not in ITEM_MEMBERS})
        kind = item.get("kind")
        if kind not in ITEM_KINDS:
            errors[f"{where}.kind"] = f"Expected one of {', '.join(ITEM_KINDS)}."
            continue
        ciphertext = _bytes(item.get("ciphertext"))
        if ciphertext is None or not crypto.is_item_of_size(ciphertext, limits[kind]):
            errors[f"{where}.ciphertext"] = (
                f"Expected an item envelope of version 2 (docs/crypto.md 5.2) in base64, of at most "
                f"{crypto.item_size(limits[kind])} bytes for a {kind}.")
            continue
        items.append((kind, ciphertext))
    # Only kinds that are text: a list or an object as a kind is already named above, and cannot be counted.
    kinds_given = Counter(item["kind"] for item in value
                          if isinstance(item, dict) and isinstance(item.get("kind"), str))
    if kinds_given[ITEM_DISCLOSURE] != 1:
        errors.setdefault("items", "Expected exactly one disclosure item.")
    elif kinds_given[ITEM_ANSWERS] > 1:
        errors.setdefault("items", "Expected at most one answers item.")
    elif mode == "anonymous" and kinds_given[ITEM_IDENTITY]:
        errors.setdefault("items", "An anonymous report carries no identity item.")
    elif mode in ("confidential", "open") and kinds_given[ITEM_IDENTITY] != 1:
        errors.setdefault("items", f"A report sent as {mode} carries exactly one identity item.")
    return items


def _routing_answers(value: Any, channel: Channel | None, questionnaire: list[dict],
                     errors: dict[str, str]) -> dict[str, Any]:
    if not isinstance(value, dict):
        errors["routing_answers"] = "Expected an object of answers to the routing questions, by field name."
        return {}
    if channel is None:
        return {}
    fields = routing_fields(questionnaire)
    plain = wants_plain(channel)
    clean: dict[str, Any] = {}
    for name in value:
        if name not in fields:
            errors[f"routing_answers.{name}"] = ("Not a routing question of this channel: its answer goes in the "
                                                 "encrypted answers item.")
    for name, spec in fields.items():
        answer, error = check_answer(spec, value.get(name), plain)
        if error:
            errors[f"routing_answers.{name}"] = error
        elif answer not in (None, []):
            clean[name] = answer
    return clean


# --- storing it --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Recipients:
    """The guardians a client-built case is stored for: holders and standby by account id, the tier
    the holders come from, and whether the directory has an escrow key."""

    holders: tuple[int, ...]
    standby: tuple[int, ...]
    tier: int
    escrow: bool


def expected_recipients(directory: Directory, built: ClientBuiltCase) -> Recipients:
    """What the client must have sealed to (crypto.recipients over the current directory), or
    GrantsRefused naming left_out when it leaves out someone the directory does not list."""
    document = crypto.parse_directory(directory.document)
    listed = document.listed_for(built.channel.slug)
    if not built.left_out <= set(listed.first_tier) | set(listed.second_tier):
        raise GrantsRefused({"left_out": "Leave out only guardians the key directory lists for this channel."})
    chosen = crypto.recipients(document, built.channel.slug, built.left_out)
    tier = 1 if set(chosen.holders) & set(listed.first_tier) else 2
    return Recipients(chosen.holders, chosen.standby, tier, chosen.escrow_key is not None)


def _check_grants(built: ClientBuiltCase, recipients: Recipients) -> None:
    expected = Counter([(HOLDER_REPORTER, None)] + [(HOLDER_GUARDIAN, i) for i in recipients.holders]
                       + [(HOLDER_STANDBY, i) for i in recipients.standby]
                       + ([(HOLDER_ESCROW, None)] if recipients.escrow else []))
    given = Counter((grant.holder, grant.account_id) for grant in built.grants)
    if given != expected:
        holders = ", ".join(str(i) for i in recipients.holders)
        standby = ", ".join(str(i) for i in recipients.standby) or "none"
        raise GrantsRefused({"grants": (
            f"Expected exactly one grant for the reporter, one per guardian holding the case ({holders}), one per "
            f"guardian on standby ({standby}), {'and one for escrow' if recipients.escrow else 'and none for escrow'}"
            ": the recipients the key directory gives for this channel and left_out.")})


def submit_client_built(dbsession: Session, settings: Settings, clock: Clock, built: ClientBuiltCase, *,
                        call_hook, deadline_profiles=None, surge: bool = False) -> Case:
    """Store a case built on the reporter's device; the caller opens the reporter's end-to-end
    session. Checked first, nothing written on a refusal:

    - DirectoryChanged: built for another directory version than the current one;
    - GrantsRefused: left_out names someone the directory does not list for the channel, or the
      grants are not exactly crypto.recipients of the directory and left_out;
    - NobodyCanReceive: no usable directory, no holder at all, or none of the holders still an
      enabled guardian of the channel (those who are not any more are dropped, not stored);
    - CaseRefTaken, ReceiptTaken: the reference, or the receipt's lookup id, finds a case.

    Then as the no-JavaScript path does: the case (with the server's own case key binding, so a
    guardian's first visit is checked as on any case), its grants and items (author "reporter"),
    `case.opened` and (left out, second tier or standby) `case.routed` audited, triage with the
    routing answers only, `whistle_case_opened`, and CaseOpened without keys (the server has none).
    `surge`: reports are arriving past the service's surge mark, so the case is marked with the day."""
    directory = try_current_directory(dbsession, settings, clock)
    if directory is None:
        raise NobodyCanReceive(built.channel.slug)
    if directory.version != built.directory_version:
        raise DirectoryChanged(directory.version)
    recipients = expected_recipients(directory, built)
    _check_grants(built, recipients)
    if not recipients.holders:
        raise NobodyCanReceive(built.channel.slug)
    enabled = {account.id for account in default_guardians(dbsession, built.channel)
               + second_tier_guardians(dbsession, built.channel)}
    grants = [grant for grant in built.grants if grant.account_id is None or grant.account_id in enabled]
    holders = [grant.account_id for grant in grants if grant.holder == HOLDER_GUARDIAN]
    standby = [grant.account_id for grant in grants if grant.holder == HOLDER_STANDBY]
    if not holders:
        raise NobodyCanReceive(built.channel.slug)
    if dbsession.scalars(select(Case.id).where(Case.ref == built.ref)).first() is not None:
        raise CaseRefTaken(built.ref)
    lookup_id = crypto.lookup_id(built.lookup_value, settings.lookup_pepper)
    if dbsession.scalars(select(Case.id).where(Case.reporter_lookup_id == lookup_id)).first() is not None:
        # A lookup value that finds a case, told apart from one that does not: counted as a wrong
        # receipt, in the one budget every lookup is (an honest client meets this one in 2**120).
        count_one(dbsession, clock, RECEIPT_FAILURES, RECEIPT_FAILURES_WINDOW)
        raise ReceiptTaken()

    today = clock.today()
    profile = profile_named(built.channel.deadline_profile, deadline_profiles)
    case = Case(
        ref=built.ref, channel=built.channel, status="received",
        public_key=built.case_public_key, team_public_key=built.team_public_key, team_key_mac=built.team_key_mac,
        # The client made the team key pair: the first guardian to unlock the case replaces it
        # (whistle.cases.services.replace_client_team_key).
        built_on_client=True,
        # The server's own binding needs only the case public key: a guardian's first unlock checks
        # their grant against it, as on a case the server made (docs/crypto.md 6.12).
        key_binding=crypto.case_key_binding(settings.session_key, built.ref, built.case_public_key),
        reporter_lookup_id=lookup_id, reporter_public_key=built.reporter_public_key,
        opened_on=today, ack_due=profile.ack_due(today), feedback_due=profile.feedback_due(today, None),
        surge_day=today if surge else None,
    )
    for grant in grants:
        case.grants.append(CaseGrant(
            holder=grant.holder, account_id=grant.account_id, sealed_case_key=grant.sealed_case_key,
            sealed_team_key=grant.sealed_team_key, granted_on=today,
            case_key_binding=built.reporter_case_key_binding if grant.holder == HOLDER_REPORTER else None))
    for kind, ciphertext in built.items:
        case.items.append(CaseItem(kind=kind, author="reporter", ciphertext=ciphertext, created_on=today))
    dbsession.add(case)
    dbsession.flush()
    audit.record(dbsession, clock, actor=audit.services.REPORTER, action="case.opened", case_id=case.id,
                 detail={"channel": built.channel.slug, "identity_mode": built.identity_mode})
    if built.left_out or recipients.tier == 2 or standby:  # as routing audits it (whistle.routing.services)
        audit.record(dbsession, clock, actor=audit.services.SYSTEM, action="case.routed", case_id=case.id,
                     detail={"account_ids": holders, "tier": recipients.tier, "excluded": len(built.left_out),
                             "standby_ids": standby})
    # Plugins see the routing answers and nothing else of the report: its words are not here.
    disclosure = Disclosure(channel=built.channel.slug, text="", answers=dict(built.routing_answers), identity=None)
    triage_new_case(dbsession, clock, case, disclosure, call_hook=call_hook)
    call_hook("whistle_case_opened", case=case_info(dbsession, case))
    call_hook.publish(CaseOpened(case=case, keys=None, excluded=built.left_out, directory=directory))
    return case
