"""The OpenAPI document itself, built from small reusable pieces."""
from __future__ import annotations

from functools import cache
from typing import Any

from whistle.cases.inbox import MAX_PAGE
from whistle.cases.lifecycle import STATUSES
from whistle.openapi.components import (
    BEARER,
    CASE_REF,
    DATE,
    DATETIME,
    FILLED,
    PROBLEM,
    STR,
    _body,
    _json,
    _problem_responses,
    limited,
)
from whistle.openapi.workspace import (
    CASE_ATTACHMENT,
    CLOSING_PROPERTIES,
    FLAG,
    LIST_PARAMETERS,
    SUMMARY_PROPERTIES,
    workspace_paths,
)
from whistle.protection.services import ADVERSE_EVENT_TYPES, NEUTRAL_EVENT_TYPES

B64 = {"type": "string", "contentEncoding": "base64", "description": "Standard base64 with padding."}
# 32 bytes in standard base64 with padding: 43 characters and one "=".
BASE64_32_BYTES = "^[A-Za-z0-9+/]{43}=$"
B64_32 = {"type": "string", "contentEncoding": "base64", "description": "32 bytes, standard base64 with padding."}

SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "description": "RFC 9457 problem details.",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": STR, "title": STR, "status": {"type": "integer"}, "detail": STR,
            "errors": {"type": "array", "items": {"type": "object", "required": ["field", "message"],
                                                  "properties": {"field": STR, "message": STR}}},
        },
    },
    "Field": {
        "type": "object",
        "required": ["name", "label", "type", "required", "routing"],
        "properties": {
            "name": STR, "label": STR, "help": STR, "required": {"type": "boolean"},
            "routing": {"type": "boolean", "description": "A routing question: its answer is read by the service "
                        "to get the report to the right people quickly, so a report encrypted on the device sends "
                        "it in the clear (routing_answers), not in the encrypted answers."},
            "type": {"enum": ["text", "long_text", "single_choice", "multiple_choice", "date", "yes_no"]},
            "choices": {"type": "array", "items": STR},
        },
    },
    "Channel": {
        "type": "object",
        "required": ["slug", "title", "identity_modes", "reporters_are_staff", "fields", "accepting_reports"],
        "properties": {
            "slug": STR, "title": STR, "introduction": STR,
            "identity_modes": {"type": "array", "items": {"enum": ["anonymous", "confidential", "open"]}},
            "reporters_are_staff": {"type": "boolean", "description": "Whether the channel's reporters are staff: "
                                    "only then does an identity carry a staff number (personnel_id)."},
            "fields": {"type": "array", "items": {"$ref": "#/components/schemas/Field"}},
            "accepting_reports": {"type": "boolean", "description":
                                  "false while no enabled guardian would receive its cases: a disclosure to it "
                                  "is refused (409, type /api/v1/problems/channel-not-live)"},
            "translations": {
                "type": "object", "description":
                "The channel's texts in other languages, by language code (cy, pl, ar), as the organisation "
                "wrote them; any text may be missing (the English one is used instead). Answers are always "
                "sent in the English choices (`fields[].choices`), whatever language they were shown in.",
                "additionalProperties": {"$ref": "#/components/schemas/ChannelTranslation"}},
        },
    },
    "ChannelTranslation": {
        "type": "object",
        "properties": {
            "title": STR, "introduction": STR,
            "wording": {"type": "object", "properties": {"text_label": STR, "text_help": STR}},
            "help_now": {"type": "object", "description": "The help panel's title and its lines' texts, in the "
                         "order of the English lines (whose links they keep).",
                         "properties": {"title": STR, "lines": {"type": "array", "items": STR}}},
            "fields": {"type": "object", "description": "By field name: its label, help and choices (as many "
                       "as the English ones, in the same order).",
                       "additionalProperties": {"type": "object", "properties": {
                           "label": STR, "help": STR, "choices": {"type": "array", "items": STR}}}},
        },
    },
    "ChannelNotLive": {
        "description": "The channel takes no reports: no enabled guardian (tier 1 or 2) would receive them. "
                       "Nothing was stored. Why is for the organisation's admins (their overview says), not "
                       "for the public.",
        "allOf": [{"$ref": "#/components/schemas/Problem"}, {
            "type": "object", "required": ["channel"],
            "properties": {
                "type": {"const": "/api/v1/problems/channel-not-live"},
                "channel": STR,
            }}],
    },
    "NobodyCanReceive": {
        "description": "Nobody who receives the channel's reports could receive this one: every guardian of "
                       "its tiers was left out (a conflict of interest: it may be about them) or is no longer "
                       "enabled. Nothing was stored; send it through another channel.",
        "allOf": [{"$ref": "#/components/schemas/Problem"}, {
            "type": "object", "required": ["channel"],
            "properties": {
                "type": {"const": "/api/v1/problems/nobody-can-receive"},
                "channel": STR,
            }}],
    },
    "Proof": {
        "type": "object",
        "description": "A proof of work (docs/crypto.md 6.15): a challenge from GET /api/v1/disclosures/challenge "
                       "and a solution. Never an error: a wrong, expired or used proof counts as none.",
        "properties": {"challenge": STR,
                       "solution": {"type": "integer", "minimum": 0, "maximum": 9007199254740991}},
    },
    "Identity": {
        "type": ["object", "null"],
        "properties": {"name": STR, "contact": STR,
                       "personnel_id": {"type": "string", "description": "A staff number: refused (422) on a channel "
                                        "whose reporters are not staff."}},
        "additionalProperties": False,
    },
    "Disclosure": {
        "type": "object",
        "required": ["channel", "text"],
        "additionalProperties": False,
        "properties": {
            "channel": STR,
            "text": {"type": "string", "minLength": 1},
            "answers": {"type": "object", "additionalProperties": {
                "oneOf": [STR, {"type": "array", "items": STR}]}},
            "identity": {"$ref": "#/components/schemas/Identity"},
            "identity_mode": {"enum": ["anonymous", "confidential", "open"],
                              "description": "Defaults to confidential when identity is given, else anonymous."},
            "left_out": {"type": "array", "items": {"type": "integer"},
                         "description": "Guardians the reporter leaves out (account ids the channel's key directory "
                                        "lists, GET /api/v1/channels/{slug}/keys): excluded as for a conflict of "
                                        "interest. Leaving out everyone who could read it is a 409 "
                                        "nobody-can-receive."},
            "proof": {"$ref": "#/components/schemas/Proof"},
        },
    },
    "DirectoryChanged": {
        "description": "The case was built for a key directory that is no longer the current one. Nothing was "
                       "stored: fetch the channel's directory again and build the case again.",
        "allOf": [{"$ref": "#/components/schemas/Problem"}, {
            "type": "object", "required": ["directory_version"],
            "properties": {"type": {"const": "/api/v1/problems/directory-changed"},
                           "directory_version": {"type": "integer", "description": "The current version."}}}],
    },
    "ClientBuiltDisclosure": {
        "type": "object",
        "description": "A case built and encrypted on the reporter's device (docs/crypto.md 7.1). All bytes are "
                       "standard base64 with padding. The grants must be exactly the recipients the current "
                       "directory gives for the channel and left_out: one for the reporter (no team key), one per "
                       "holder (\"guardian\") and per second-tier guardian on standby (\"standby\"), each with "
                       "account_id, and one for escrow when the directory has an escrow key; each sealed value is "
                       "82 bytes (a 32-byte key in a sealed envelope). Items are envelopes of version 2 by "
                       "\"reporter\": exactly one disclosure, at most one answers (the answers to questions that "
                       "are not routing questions), and an identity (to the team key) exactly when identity_mode "
                       "is not anonymous; each within the text limit (an identity within 8 KiB) plus the "
                       "envelope's overhead.",
        "required": ["format", "channel", "case", "directory_version", "case_public_key", "team_public_key",
                     "team_key_mac", "reporter", "grants", "items", "identity_mode"],
        "additionalProperties": False,
        "properties": {
            "format": {"const": "e2e/1"},
            "channel": STR,
            "case": {"type": "string", "pattern": "^[A-Z2-7]{5}-[A-Z2-7]{5}$",
                     "description": "Made by the client (50 random bits); taken: 409 case-ref-taken."},
            "directory_version": {"type": "integer", "description": "The version of the key directory used: "
                                  "another than the current one is a 409 directory-changed."},
            "case_public_key": B64_32, "team_public_key": B64_32, "team_key_mac": B64_32,
            "reporter": {"type": "object", "additionalProperties": False,
                         "required": ["lookup_value", "public_key", "case_key_binding"],
                         "properties": {"lookup_value": B64_32, "public_key": B64_32, "case_key_binding": B64_32}},
            "grants": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["holder", "sealed_case_key"],
                "properties": {"holder": {"enum": ["reporter", "guardian", "standby", "escrow"]},
                               "account_id": {"type": "integer", "description": "guardian and standby only"},
                               "sealed_case_key": B64, "sealed_team_key": {**B64, "description": "all but the "
                                                                                  "reporter's"}}}},
            "items": {"type": "array", "items": {
                "type": "object", "additionalProperties": False, "required": ["kind", "ciphertext"],
                "properties": {"kind": {"enum": ["disclosure", "answers", "identity"]}, "ciphertext": B64}}},
            "identity_mode": {"enum": ["anonymous", "confidential", "open"]},
            "routing_answers": {"type": "object", "description": "Answers to the channel's routing questions only "
                                "(`routing: true` in GET /api/v1/channels), in the clear: checked as the form "
                                "checks answers, and given to the triage plugins.",
                                "additionalProperties": {"oneOf": [STR, {"type": "array", "items": STR}]}},
            "left_out": {"type": "array", "items": {"type": "integer"},
                         "description": "Guardians the reporter left out: ids the directory lists for the channel."},
            "proof": {"$ref": "#/components/schemas/Proof"},
        },
    },
    "Session": {
        "type": "object", "required": ["token", "expires_in"],
        "properties": {"token": STR, "expires_in": {"type": "integer", "description": "Idle seconds."},
                       "key_by_device": {"type": "string", "contentEncoding": "base64",
                                         "description": "Device sessions only: the private key in a device wrap "
                                                        "(docs/crypto.md 5.8), opened with wrap_key."},
                       "public_key": {"type": "string", "contentEncoding": "base64",
                                      "description": "Device sessions only: the key the unwrapped one must match."},
                       "account_id": {"type": "integer"},
                       "scheme": {"const": "device/1"},
                       "salt": {"type": "string", "contentEncoding": "base64",
                                "description": "Only when this sign-in moved the account over."},
                       "opslimit": {"type": "integer"}, "memlimit": {"type": "integer"}},
    },
    "SignInParameters": {
        "type": "object", "required": ["scheme"],
        "properties": {"scheme": {"enum": ["device/1", "password"]},
                       "salt": {"type": "string", "contentEncoding": "base64", "description": "16 bytes."},
                       "opslimit": {"type": "integer"}, "memlimit": {"type": "integer"}},
    },
    "ReporterSession": {
        "type": "object", "required": ["token", "expires_in", "holds_key"],
        "properties": {"token": STR, "expires_in": {"type": "integer", "description": "Idle seconds."},
                       "holds_key": {"type": "boolean", "description": "true: opened with a receipt, the "
                                     "server decrypts for it; false: opened with a lookup value, it reads and "
                                     "writes ciphertext only (the envelopes API)."}},
    },
    "CaseSummary": {
        "type": "object",
        "required": ["case", "channel", "status", "priority", "labels", "opened", "ack_due", "feedback_due", "unread"],
        "properties": {
            "case": STR, "channel": STR, "status": STR, "priority": STR,
            "labels": {"type": "array", "items": STR}, "opened": DATE, "ack_due": DATE, "feedback_due": DATE,
            "unread": {"type": "integer"},
        },
    },
    "Message": {
        "type": "object", "required": ["id", "from", "text", "at"],
        "properties": {"id": {"type": "integer"}, "from": {"enum": ["reporter", "guardian"]}, "text": STR, "at": DATE,
                       "author_sealed": {"type": "boolean", "description": "False for a message written before "
                                         "the encryption bound who wrote it: its sender cannot be verified."}},
    },
    "Attachment": {
        "type": "object", "required": ["id", "name", "size"],
        "properties": {"id": {"type": "integer"}, "name": STR, "size": {"type": "integer"},
                       "from": {"enum": ["reporter", "guardian"],
                                "description": "guardian: sent by the people handling the report"},
                       "new": {"type": "boolean", "description": "Sent by the guardians since the last visit."}},
    },
    "Unverified": {
        "type": "object", "required": ["id", "unverified", "kind"],
        "description": "An item (or attachment) that failed to verify: changed after it was written. It stands "
                       "in the item's place; nothing of its content is given.",
        "properties": {"id": {"type": "integer"}, "unverified": {"const": True}, "kind": STR, "at": DATE,
                       "from": STR, "internal": {"type": "boolean"}},
    },
    "Event": {
        "type": "object", "required": ["action", "actor", "at"],
        "properties": {"action": STR, "actor": STR, "at": DATETIME},
    },
}


# --- what is new since the reporter's last visit ---
REPORTER_NEWS = {
    "type": "object", "description": "What changed since the reporter's last visit, and when to come back. Its "
                                     "sentences (status_text, summary, check_back.text) are prose for the "
                                     "reporter, so unlike the rest of the API they are in the language of the "
                                     "address: /cy/api/v1/... answers them in Welsh (prefixes /cy, /pl, /ar); "
                                     "without a prefix, in English.",
    "required": ["first_visit", "since", "new_messages", "new_files", "status_changed", "status", "status_text",
                 "new_questions", "summary", "check_back"],
    "properties": {
        "first_visit": {"type": "boolean", "description": "The first visit with the receipt: news is since sending."},
        "since": {"type": ["string", "null"], "format": "date",
                  "description": "The last visit's day (on a first visit, the day the report was sent); "
                                 "null if unknown."},
        "new_messages": {"type": "integer", "description": "Messages from the guardians since then."},
        "new_files": {"type": "integer", "description": "Files from the guardians since then."},
        "status_changed": {"type": "boolean"},
        "status": STR,
        "status_text": {"type": "string", "description": "The status now, in plain words."},
        "new_questions": {"type": "array", "items": {"type": "integer"},
                          "description": "Check-in months whose question came due since then."},
        "summary": {"type": "array", "items": STR, "description": "The same news in plain sentences."},
        "check_back": {"type": "object", "required": ["on", "text"], "properties": {
            "on": {"type": ["string", "null"], "format": "date",
                   "description": "When to come back; null when nothing more is expected."},
            "text": {"type": "string", "description": "The suggestion in plain words."},
        }},
    },
}
# --- end reporter news ---


# What the reporter has said about their report since sending it (GET /api/v1/reporter/case and
# /envelopes): metadata only.
REPORTER_VOICE = {
    "withdrawn_on": {"type": ["string", "null"], "format": "date",
                     "description": "The day the reporter withdrew the report (it is closed); null if they did not."},
    "retention_withdrawn_days": {"type": "integer", "description": "How many days after a withdrawal the channel "
                                 "keeps the report before deleting it (0: at once), for the warning before "
                                 "withdrawing."},
    "speak_up_asked": {"type": "boolean", "description": "Whether the mailbox asks \"would you speak up again?\" "
                       "(the case is closed, and was not withdrawn): POST /api/v1/reporter/speak-up."},
    "speak_up_again": {"enum": ["yes", "no", "not_sure", None], "description": "The reporter's answer, if given."},
    "board": {"type": ["object", "null"], "description": "On a channel with the \"you said, we did\" board (null "
              "elsewhere): whether the reporter agreed to be quoted, whether that can still change (not once an "
              "entry is published), and the entries about their idea.", "properties": {
                  "consent": {"type": "boolean"}, "locked": {"type": "boolean"},
                  "acted_on": {"type": "array", "items": {"type": "object", "properties": {
                      "id": {"type": "integer"}, "title": STR,
                      "url": {**STR, "description": "The entry on the public board page."}}}}}},
}


def voice_paths() -> dict:
    """The reporter's say after sending: withdrawing (no content) and "would you speak up again?"."""
    return {
        "/api/v1/reporter/speak-up": {"post": {
            "summary": "Answer \"would you speak up again?\" once the case is closed (not withdrawn), with an "
                       "optional comment; the answer may be changed later, and every comment is kept.",
            "description": "`answer` is metadata (counted in the statistics). The comment is content: as `comment` "
                           "text the server encrypts at once (a session that holds the reporter's key only; from an "
                           "end-to-end session a 403), or as `item`, a `speak-up-comment` item of version 2 by "
                           "\"reporter\" to the case public key that the device encrypted (docs/crypto.md 5.2).",
            "operationId": "reporterSpeakUp", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["answer"], "additionalProperties": False,
                                  "not": {"required": ["comment", "item"]},
                                  "properties": {"answer": {"enum": ["yes", "no", "not_sure"]}, "comment": STR,
                                                 "item": {"type": "string", "contentEncoding": "base64"}},
                                  "description": "A comment as `comment` or as `item`, not both."}),
            "responses": {"200": _json({"type": "object", "properties": {
                "speak_up_again": {"enum": ["yes", "no", "not_sure"]}}}, "Recorded."),
                **_problem_responses(400, 401, 403, 415, 422),
                "409": {"description": "Not asked: the case is open, or was withdrawn (type "
                                       "/api/v1/problems/speak-up-not-asked).",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
        }},
        "/api/v1/reporter/withdrawal": {"post": {
            "summary": "Withdraw the report: the case closes with that outcome, its guardians are told (without "
                       "content), and it is kept or deleted by the channel's rule for withdrawn reports. It cannot "
                       "be undone; afterwards the reporter can read the case but not write to it (409, type "
                       "/api/v1/problems/withdrawn).",
            "operationId": "reporterWithdraw", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["confirm"], "additionalProperties": False,
                                  "properties": {"confirm": {"const": True}}}),
            "responses": {"200": _json({"type": "object", "required": ["status", "withdrawn_on"], "properties": {
                "status": {"const": "closed"}, "withdrawn_on": DATE}}, "Withdrawn."),
                **_problem_responses(400, 401, 415, 422),
                "409": {"description": "The case is closed already (type /api/v1/problems/closed).",
                        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}},
        }},
    }


BOARD_ENTRY = {"type": "object", "required": ["id", "title", "you_said", "we_did", "month", "channel"], "properties": {
    "id": {"type": "integer"}, "title": STR,
    "you_said": {**STR, "description": "The idea, in the publishing guardian's own words."},
    "we_did": {**STR, "description": "What changed because of it."},
    "month": {**STR, "description": "The month it was published, YYYY-MM (the board says no more of when)."},
    "channel": {**STR, "description": "The title of the channel it came from."}}}
BOARD_TEXTS = {"type": "object", "required": ["title", "you_said", "we_did"], "additionalProperties": False,
               "properties": {"title": STR, "you_said": STR, "we_did": STR}}


def board_paths() -> dict:
    """The "you said, we did" board: the public list, and a guardian publishing from a case."""
    entry_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    not_board = {"description": "The case's channel does not publish on the board (type "
                                "/api/v1/problems/not-a-board-channel).",
                 "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
    return {
        "/api/v1/board": {"get": {
            "summary": "The public \"you said, we did\" board, newest first (no sign-in).", "operationId": "board",
            "security": [],
            "responses": {"200": _json({"type": "object", "required": ["entries"], "properties": {
                "entries": {"type": "array", "items": BOARD_ENTRY}}}, "The board.")}}},
        "/api/v1/cases/{ref}/board": {"post": {
            "summary": "Publish an entry about the case on the public board, in the guardian's own words (never "
                       "the reporter's unless they agreed: board_consent). Channels with the board only.",
            "operationId": "publishBoardEntry", "security": BEARER, "parameters": [CASE_REF],
            "requestBody": _body(BOARD_TEXTS),
            "responses": {"201": _json(BOARD_ENTRY, "Published."), **_problem_responses(400, 401, 404, 415, 422),
                          "409": not_board}}},
        "/api/v1/cases/{ref}/board/{id}": {
            "put": {"summary": "Edit the case's entry.", "operationId": "editBoardEntry", "security": BEARER,
                    "parameters": [CASE_REF, entry_id], "requestBody": _body(BOARD_TEXTS),
                    "responses": {"200": _json(BOARD_ENTRY, "Edited."),
                                  **_problem_responses(400, 401, 404, 415, 422)}},
            "delete": {"summary": "Unpublish (delete) the case's entry.", "operationId": "unpublishBoardEntry",
                       "security": BEARER, "parameters": [CASE_REF, entry_id],
                       "responses": {"204": {"description": "Unpublished."}, **_problem_responses(401, 404)}}},
        "/api/v1/reporter/board-consent": {"post": {
            "summary": "The reporter agrees (true) or not (false) that a board entry may quote their words; "
                       "changeable until an entry about their idea is published (then 409, type "
                       "/api/v1/problems/board-consent-locked). Channels with the board only (409).",
            "operationId": "reporterBoardConsent", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["consent"], "additionalProperties": False,
                                  "properties": {"consent": {"type": "boolean"}}}),
            "responses": {"200": _json({"type": "object", "properties": {"board_consent": {"type": "boolean"}}},
                                       "Recorded."), **_problem_responses(400, 401, 409, 415, 422)}}},
    }


def mailbox_paths() -> dict:
    """The reporter's calls (API.md, "Reporter"), all under a reporter session's bearer token."""
    case_schema = {"type": "object", "required": ["case", "status", "opened", "text", "answers", "messages",
                                                  "attachments", "unverified"], "properties": {
        "unverified": {"type": "array", "items": {"$ref": "#/components/schemas/Unverified"},
                       "description": "The items that failed to verify (changed after they were written), the "
                                      "disclosure or the answers among them: their text or answers are then empty "
                                      "here, which does not mean nothing was sent."},
        "case": STR, "status": STR,
        "status_text": {"type": "string",
                        "description": "The status in plain words (the channel's, if it asks for plain words)."},
        "opened": DATE,
        "text": {"type": "string",
                 "description": "What the reporter sent: the disclosure's text, as the mailbox page shows it."},
        "answers": {"type": "object", "description": "The reporter's answers to the channel's questions, by field name "
                    "(a string, or a list of strings for a multiple choice), as sent.",
                    "additionalProperties": {"oneOf": [STR, {"type": "array", "items": STR}]}},
        "messages": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Message"},
                                                          {"$ref": "#/components/schemas/Unverified"}]}},
        "attachments": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Attachment"},
                                                             {"$ref": "#/components/schemas/Unverified"}]}},
        "identity_given": {"type": "boolean", "description": "Whether the reporter told the guardians who they are."},
        "protection_consent": {"type": "boolean", "description": "Whether the reporter asked for retaliation watch."},
        "checkins_due": {"type": "array", "items": {"type": "integer"},
                         "description": "Months after opening whose check-in question is waiting for an answer."},
        "news": REPORTER_NEWS,
        **REPORTER_VOICE,
    }}
    download = {"200": {"description": "The decrypted file, as an attachment.",
                        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}
    attachment_id = {"name": "id", "in": "path", "required": True, "schema": {"type": "integer"}}
    return {
        "/api/v1/reporter/session": {
            "post": {
                "summary": "Come back with the receipt, or with the lookup value a device derived from it. Unknown "
                           "and wrong receipts and lookup values get the same 401, counted in one budget.",
                "description": "Exactly one of `receipt` (version 1, 20 characters, or version 2, 24: the server "
                               "derives the keys and decrypts for the session, `holds_key` true) or `lookup_value` "
                               "(docs/crypto.md 6.2.1: an end-to-end session without a key, `holds_key` false, "
                               "which reads ciphertext (GET /api/v1/reporter/envelopes) and writes items "
                               "encrypted on the device; the plaintext calls answer it 403).",
                "operationId": "reporterLogin",
                "requestBody": _body({"type": "object", "additionalProperties": False, "oneOf": [
                    {"required": ["receipt"]}, {"required": ["lookup_value"]}], "properties": {
                    "receipt": STR,
                    "lookup_value": {"type": "string", "contentEncoding": "base64", "pattern": BASE64_32_BYTES,
                                     "description": "32 bytes, standard base64 with padding."}}}),
                "responses": {"200": _json({"$ref": "#/components/schemas/ReporterSession"}, "Logged in."),
                              **_problem_responses(400, 401, 415, 422, 503),
                              **limited("Not tried: too many wrong receipts from this client in the last minutes "
                                        "(type /api/v1/problems/too-many-receipt-tries), or the service is too "
                                        "busy with wrong receipts to try one now (about:blank).",
                                        "/api/v1/problems/too-many-receipt-tries", "about:blank")},
            },
            "delete": {"summary": "Leave (end this session, of either kind).", "operationId": "reporterLogout",
                       "security": BEARER,
                       "responses": {"204": {"description": "Left."}, **_problem_responses(401)}},
        },
        "/api/v1/reporter/session/keep-alive": {"post": {
            "summary": "Stay signed in: a full idle limit from now for this session (of either kind).",
            "description": "What the mailbox on the device calls when the reporter answers \"Stay signed in\" to "
                           "the warning it shows before the session ends for want of activity (WCAG 2.2.1). "
                           "No body.",
            "operationId": "reporterKeepAlive", "security": BEARER,
            "responses": {"200": _json({"type": "object", "additionalProperties": False,
                                        "required": ["signed_in", "expires_in"],
                                        "properties": {"signed_in": {"type": "boolean", "const": True},
                                                       "expires_in": {"type": "integer", "minimum": 0,
                                                                      "description": "Seconds until the session "
                                                                                     "ends if nothing happens."}}},
                                       "Extended."),
                          **_problem_responses(401)},
        }},
        "/api/v1/reporter/case": {"get": {
            "summary": "The reporter's case: status, conversation, files. Never internal notes.",
            "operationId": "reporterCase", "security": BEARER,
            "responses": {"200": _json(case_schema, "The case."), **_problem_responses(401)},
        }},
        "/api/v1/reporter/messages": {"post": {
            "summary": "Send the guardians a message: as text (the server encrypts it; a session that holds the "
                       "reporter's key only), or as an item the device encrypted (either kind of session).",
            "description": "`item`: a message item of version 2 by \"reporter\" (docs/crypto.md 5.2) to the case "
                           "public key the device derived from the case private key it opened, standard base64; at "
                           "most the text limit plus the envelope's overhead. The server cannot read or check what "
                           "it is encrypted to. `text` from an end-to-end session is a 403.",
            "operationId": "reporterMessage", "security": BEARER,
            "requestBody": _body({"oneOf": [
                {"type": "object", "required": ["text"], "additionalProperties": False, "properties": {"text": STR}},
                {"type": "object", "required": ["item"], "additionalProperties": False, "properties": {
                    "item": {"type": "string", "contentEncoding": "base64"}}}]}),
            "responses": {"201": _json({"type": "object", "required": ["id"],
                                        "properties": {"id": {"type": "integer"}}},
                                       "Sent."), **_problem_responses(400, 401, 403, 415, 422),
                          "409": {"description": "The reporter withdrew the report (type /api/v1/problems/withdrawn): "
                                                 "nothing more can be sent to it (files and identity alike).",
                                  "content": {"application/problem+json": {
                                      "schema": {"$ref": "#/components/schemas/Problem"}}}}},
        }},
        "/api/v1/reporter/envelopes": {"get": {
            "summary": "The case as stored, for the reporter's device to decrypt (either kind of session).",
            "description": "The device opens `sealed_case_key` with the reporter's key, checks the case public key "
                           "against `case_key_binding` (null on a case made before bindings existed) and the team "
                           "public key against `team_key_mac` (null: not checkable yet) before trusting either "
                           "(docs/crypto.md 6.11, 6.12). Items of the kinds a reporter reads only, never team-key "
                           "kinds; each decrypts with the case ref, its kind and `author`. Marks everything seen, "
                           "as GET /api/v1/reporter/case does.",
            "operationId": "reporterEnvelopes", "security": BEARER,
            "responses": {"200": _json({"type": "object", "required": [
                "case", "channel", "status", "status_text", "opened", "case_public_key", "team_public_key",
                "team_key_mac", "sealed_case_key", "case_key_binding", "items", "attachments", "identity_given",
                "news"],
                "properties": {
                    "case": STR, "status": STR, "status_text": STR, "opened": DATE,
                    "channel": {**STR, "description": "The case's channel (its slug, as GET /api/v1/channels "
                                "lists it): for its questions' labels and wording."},
                    "case_public_key": B64_32, "team_public_key": B64_32,
                    "team_key_mac": {"type": ["string", "null"], "contentEncoding": "base64"},
                    "sealed_case_key": {**B64, "description": "The reporter's grant: the case private key sealed "
                                        "to the reporter's public key."},
                    "case_key_binding": {"type": ["string", "null"], "contentEncoding": "base64",
                                         "description": "The reporter's grant's binding; null for old cases."},
                    "items": {"type": "array", "items": {"type": "object", "required": [
                        "id", "kind", "author", "version", "ciphertext", "at"], "properties": {
                        "id": {"type": "integer"},
                        "kind": {"enum": ["disclosure", "answers", "message", "attachment-meta"]},
                        "author": {"type": ["string", "null"], "description": "Exactly the author the item's "
                                   "encryption binds: \"reporter\", \"system\", \"guardian:7\"; null for "
                                   "version 1."},
                        "version": {"enum": [1, 2, None]},
                        "ciphertext": {"type": ["string", "null"], "contentEncoding": "base64",
                                       "description": "Null once a guardian erased the item (version null too)."},
                        "at": DATE,
                        "erased_on": {**DATE, "description": "Set when a guardian erased the item."},
                        "erased_words": {"type": "string",
                                         "description": "\"Erased on <date>: <reason>.\", in plain words, in "
                                                        "the language of the address, as the news."}}}},
                    "attachments": {"type": "array", "items": {"type": "object", "required": [
                        "id", "meta_item", "bytes", "author"], "properties": {
                        "id": {"type": "integer"},
                        "meta_item": {"type": "integer", "description": "The id of its attachment-meta item."},
                        "bytes": {"type": "integer", "description": "The stored ciphertext's size."},
                        "author": STR}}},
                    "identity_given": {"type": "boolean"},
                    "news": REPORTER_NEWS,
                    **REPORTER_VOICE,
                }}, "The ciphertext."), **_problem_responses(401)},
        }},
        "/api/v1/reporter/identity": {"post": {
            "summary": "Say who the reporter is, as an identity item the device encrypted to the team key it checked "
                       "with the team key MAC (either kind of session).",
            "operationId": "reporterIdentity", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["item", "identity_mode"],
                                  "additionalProperties": False, "properties": {
                "item": {"type": "string", "contentEncoding": "base64",
                         "description": "An identity item of version 2 by \"reporter\", at most 8 KiB of "
                                        "plaintext, to the team public key."},
                "identity_mode": {"enum": ["confidential", "open"]}}}),
            "responses": {"201": _json({"type": "object", "required": ["id"],
                                        "properties": {"id": {"type": "integer"}}}, "Stored."),
                          **_problem_responses(400, 401, 415, 422),
                          "409": {"description": "Already given (type /api/v1/problems/identity-given), or the case "
                                                 "has no team key MAC yet (type /api/v1/problems/team-key-unchecked: "
                                                 "try again after the guardians have opened it). Nothing stored.",
                                  "content": {"application/problem+json": {"schema": PROBLEM}}}},
        }},
        "/api/v1/reporter/attachments": {"post": {
            "summary": "Add a file: the raw bytes as the body, the name in X-Filename (UTF-8, percent-encoded).",
            "operationId": "reporterAttachment", "security": BEARER,
            "parameters": [{"name": "X-Filename", "in": "header", "required": True, "schema": STR}],
            "requestBody": {"required": True, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
            "responses": {"201": _json({"type": "object", "required": ["id", "size"], "properties": {
                "id": {"type": "integer"}, "size": {"type": "integer"}}}, "Stored, encrypted."),
                **_problem_responses(401, 413, 422), **TOO_MANY_UPLOADS},
        }},
        "/api/v1/reporter/attachments/{id}": {"get": {
            "summary": "Download one of the case's files.", "operationId": "reporterDownload", "security": BEARER,
            "parameters": [attachment_id], "responses": {**download, **_problem_responses(401, 404)},
        }},
**chunked_upload_paths(attachment_id),
        "/api/v1/cases/{ref}/attachments/{id}": {"get": {
            "summary": "Download one of the case's files, decrypted for the guardian.",
            "operationId": "caseDownload", "security": BEARER,
            "parameters": [CASE_REF, attachment_id], "responses": {**download, **_problem_responses(401, 404)},
        }},
    }


TOO_MANY_UPLOADS = limited("Too many files from this client in the last minutes, or to the whole service in the "
                           "last minute: nothing was stored. Send it again after Retry-After seconds.",
                           "/api/v1/problems/too-many-uploads")


def chunked_upload_paths(attachment_id: dict) -> dict:
    """Files a reporter's client encrypts itself and uploads in chunks (docs/crypto.md 7.2), and the
    stored ciphertext of the case's files: for either kind of reporter session."""
    upload = {"name": "upload", "in": "path", "required": True, "schema": STR,
              "description": "The upload's id, as POST /api/v1/reporter/uploads gave it."}
    index = {"name": "index", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0},
             "description": "Which chunk: 0 is the stream's 106-byte header, 1 to chunks-2 are 65553 bytes each, "
                            "chunks-1 is the final chunk (273 to 65553 bytes)."}
    upload_state = {"type": "object", "required": ["id", "chunks", "received"], "properties": {
        "id": STR, "chunks": {"type": "integer"},
        "received": {"type": "array", "items": {"type": "integer"}, "description": "The chunks the server has."}}}
    missing = {"description": "Chunks are missing, or were lost from the server's disk before the end (their "
                              "bytes do not match the digest recorded with them): `missing` lists them; nothing was "
                              "stored. Send them (again), then finish.",
               "content": {"application/problem+json": {"schema": {"allOf": [PROBLEM, {
                   "type": "object", "properties": {"missing": {"type": "array", "items": {"type": "integer"}}}}]}}}}
    return {
        "/api/v1/reporter/uploads": {"post": {
            "summary": "Begin a file the client encrypted (a stream envelope of version 2, kind attachment, author "
                       "reporter, to the case public key), to be sent in chunks.",
            "description": "`chunks` and `bytes` must be those of a stream of some file size "
                           "(chunks = 2 + floor(size / 65536), bytes as docs/crypto.md 7.2 gives them), within the "
                           "attachment limit; an upload left unfinished is deleted after a day or two.",
            "operationId": "reporterUploadStart", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["chunks", "bytes"], "additionalProperties": False,
                                  "properties": {"chunks": {"type": "integer", "minimum": 2},
                                                 "bytes": {"type": "integer", "minimum": 0}}}),
            "responses": {"201": _json({"type": "object", "required": ["id", "chunks"], "properties": {
                "id": STR, "chunks": {"type": "integer"}}}, "Begun: send the chunks."),
                **_problem_responses(400, 401, 413, 415, 422),
                "409": {"description": "Too many files of this case are on their way at once.",
                        "content": {"application/problem+json": {"schema": PROBLEM}}},
                **TOO_MANY_UPLOADS},
        }},
        "/api/v1/reporter/uploads/{upload}": {
            "get": {"summary": "Which chunks the server has.", "operationId": "reporterUploadState",
                    "security": BEARER, "parameters": [upload],
                    "responses": {"200": _json(upload_state, "The upload."), **_problem_responses(401, 404)}},
            "delete": {"summary": "Cancel the upload: its chunks are deleted.", "operationId": "reporterUploadCancel",
                       "security": BEARER, "parameters": [upload],
                       "responses": {"204": {"description": "Cancelled."}, **_problem_responses(401, 404)}},
        },
        "/api/v1/reporter/uploads/{upload}/{index}": {"put": {
            "summary": "Send a run of 1 to 16 consecutive chunks from chunk `index` (the body's length says how "
                       "many: each chunk's length follows from the upload's shape). Sending chunks again with the "
                       "same bytes is fine (204).",
            "operationId": "reporterUploadChunk", "security": BEARER, "parameters": [upload, index],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"204": {"description": "Kept."}, **_problem_responses(401, 404, 422),
                          "409": {"description": "A chunk of the run was received already, with other bytes: "
                                                 "nothing of the run is kept.",
                                  "content": {"application/problem+json": {"schema": PROBLEM}}},
                          "415": {"description": "The body is not application/octet-stream.",
                                  "content": {"application/problem+json": {"schema": PROBLEM}}}},
        }},
        "/api/v1/reporter/uploads/{upload}/done": {"post": {
            "summary": "Finish: the chunks, in order, become the file, with `meta` its details.",
            "operationId": "reporterUploadDone", "security": BEARER, "parameters": [upload],
            "requestBody": _body({"type": "object", "required": ["meta"], "additionalProperties": False,
                                  "properties": {"meta": {"type": "string", "description":
                                                          "An attachment-meta item (docs/crypto.md 5.2) of version 2, "
                                                          "author reporter, to the case public key: base64."}}}),
            "responses": {"201": _json({"type": "object", "required": ["id", "bytes"], "properties": {
                "id": {"type": "integer", "description": "The attachment's id."},
                "bytes": {"type": "integer", "description": "Its stored (encrypted) size."}}}, "Stored."),
                "409": missing, **_problem_responses(400, 401, 404, 413, 415, 422)},
        }},
        "/api/v1/reporter/attachments/{id}/blob": {"get": {
            "summary": "One of the case's files as stored: its stream envelope (docs/crypto.md 5.3), to decrypt "
                       "with the case key.",
            "operationId": "reporterAttachmentBlob", "security": BEARER, "parameters": [attachment_id],
            "responses": {"200": {"description": "The ciphertext.", "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}}, **_problem_responses(401, 404)},
        }},
    }


def retaliation_paths() -> dict:
    """HR integrations' personnel events, and the reporter's consent and check-ins."""
    checkins_due = {"type": "array", "items": {"type": "integer"},
                    "description": "Months after opening whose check-in question is waiting for an answer."}
    return {
        "/api/v1/personnel-events": {"post": {
            "summary": "An HR system reports an event about a member of staff. Always 202: the answer never "
                       "reveals whether the person is under retaliation watch.",
            "operationId": "personnelEvent",
            "security": [{"integration": []}],
            "requestBody": _body({"type": "object", "required": ["personnel_id", "type", "effective"],
                                  "additionalProperties": False, "properties": {
                "personnel_id": STR,
                "type": {"enum": list(ADVERSE_EVENT_TYPES + NEUTRAL_EVENT_TYPES),
                         "description": "Adverse types (the detriments of EU Directive 2019/1937 Art. 19): "
                                        + ", ".join(ADVERSE_EVENT_TYPES) + ". Accepted, never alerting: "
                                        + ", ".join(NEUTRAL_EVENT_TYPES) + "."},
                "effective": DATE}}),
            "responses": {"202": _json({"type": "object", "properties": {"status": {"const": "accepted"}}},
                                       "Accepted."),
                          **_problem_responses(400, 401, 403, 415, 422)},
        }},
        "/api/v1/reporter/protection-consent": {"post": {
            "summary": "The reporter asks the guardians to watch for retaliation against them "
                       "(409 on a channel whose reporters are not staff).",
            "operationId": "reporterProtectionConsent", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["consent"],
                                  "properties": {"consent": {"const": True}}}),
            "responses": {"200": _json({"type": "object", "properties": {"protection_consent": {"type": "boolean"}}},
                                       "Recorded."), **_problem_responses(400, 401, 409, 415, 422)},
        }},
        "/api/v1/reporter/checkins": {"post": {
            "summary": "Answer a check-in: has the reporter suffered detriment since speaking up?",
            "operationId": "reporterCheckin", "security": BEARER,
            "requestBody": _body({"type": "object", "required": ["month", "detriment"], "properties": {
                "month": {"type": "integer"}, "detriment": {"type": "boolean"}}}),
            "responses": {"200": _json({"type": "object", "properties": {"checkins_due": checkins_due}}, "Recorded."),
                          **_problem_responses(400, 401, 415, 422)},
        }},
    }


# A bearer call for one kind of session refuses the other kind with 403: a staff session on a
# reporter's call, a reporter's session on a staff call.
OTHER_KIND = {"/api/v1/reporter/": "A staff session: this call takes a reporter's session.",
              "/api/v1/staff/": "A reporter's session: this call takes a staff session."}


def _refusing_the_other_kind(paths: dict) -> None:
    for path, operations in paths.items():
        for prefix, description in OTHER_KIND.items():
            if not path.startswith(prefix):
                continue
            for operation in operations.values():
                if operation.get("security") and "403" not in operation["responses"]:
                    operation["responses"]["403"] = {
                        "description": description, "content": {"application/problem+json": {"schema": PROBLEM}}}


@cache
def build_document() -> dict:
    paths: dict[str, Any] = {
        "/api/v1/channels": {"get": {
            "summary": "List the channels a reporter can use.",
            "operationId": "listChannels",
            "responses": {"200": _json({"type": "object", "required": ["channels"], "properties": {
                "channels": {"type": "array", "items": {"$ref": "#/components/schemas/Channel"}}}}, "The channels.")},
        }},
        "/api/v1/channels/{slug}/keys": {"get": {
            "summary": "The signed key directory: the guardians' public keys, signed by the organisation key.",
            "description": "The whole directory as published. A client checks `signature` (Ed25519 over "
                           "`whistle-key-directory\\0` followed by the bytes of `document`) with the organisation's "
                           "public key, whose fingerprint (`key`) it compares with the one the organisation publishes "
                           "on its own website; then the expiry and that the version is not lower than one it has "
                           "seen; then reads the channel's entry (docs/crypto.md, \"The signed key directory\").",
            "operationId": "channelKeys",
            "parameters": [{"name": "slug", "in": "path", "required": True, "schema": STR,
                            "description": "The channel's slug (GET /api/v1/channels)."}],
            "responses": {
                "200": _json({"type": "object", "required": ["document", "signature", "key", "public_key"],
                              "properties": {
                    "document": {"type": "string", "description": "The directory as canonical JSON text: the "
                                 "exact bytes (UTF-8) that were signed."},
                    "signature": {"type": "string", "description": "The Ed25519 signature, base64."},
                    "key": {"type": "string", "description": "The fingerprint of the organisation key that "
                            "signed it."},
                    "public_key": {"type": "string", "description": "The organisation's Ed25519 public key, "
                                   "base64: for a client's first use only, after it has compared the key's "
                                   "fingerprint with the one the organisation publishes. A client that has "
                                   "pinned a key uses that one."}}}, "The signed directory."),
                "404": {"description": "No such channel, no directory signed yet, or one that does not list the "
                                       "channel.", "content": {"application/problem+json": {"schema": PROBLEM}}},
                "409": {"description": "The directory has expired or cannot be verified: the organisation must "
                                       "sign a new one.", "content": {"application/problem+json": {"schema": PROBLEM}}},
            },
        }},
        "/api/v1/disclosures": {"post": {
            "summary": "Submit a disclosure: in plain text (the server encrypts it; answers with the receipt, shown "
                       "once and never stored), or built and encrypted on the reporter's device (\"format\": "
                       "\"e2e/1\", docs/crypto.md 7.1; answers with an end-to-end reporter session).",
            "operationId": "submitDisclosure",
            "requestBody": _body({"oneOf": [{"$ref": "#/components/schemas/Disclosure"},
                                            {"$ref": "#/components/schemas/ClientBuiltDisclosure"}]}),
            "responses": {"201": _json({"oneOf": [
                {"type": "object", "required": ["receipt", "case"], "properties": {"receipt": STR, "case": STR}},
                {"type": "object", "required": ["case", "token", "expires_in"], "description": "A case built on "
                 "the device: its reference and an end-to-end reporter session (holds no key) for what follows.",
                 "properties": {"case": STR, "token": STR,
                                "expires_in": {"type": "integer", "description": "Idle seconds."},
                                "acknowledge_by": {"type": ["string", "null"], "format": "date",
                                                   "description": "The day the case's guardians must acknowledge "
                                                                  "it by, for the receipt page."}}}]}, "Stored."),
                          **_problem_responses(400, 413, 415, 422, 503),
                          **limited("Too many reports from this client in the last minutes, or to the whole "
                                    "service in the last minute: nothing was stored. Send it again after "
                                    "Retry-After seconds.", "/api/v1/problems/too-many-reports"),
                          "409": {"description": "The channel is not taking reports (see accepting_reports in "
                                                 "GET /api/v1/channels), or nobody who receives its reports "
                                                 "could receive this one; for a case built on the device, also: "
                                                 "the key directory changed since it was fetched (fetch it again "
                                                 "and rebuild), or the case reference or receipt is taken (make "
                                                 "another). Nothing was stored.",
                                  "content": {"application/problem+json": {"schema": {"oneOf": [
                                      {"$ref": "#/components/schemas/ChannelNotLive"},
                                      {"$ref": "#/components/schemas/NobodyCanReceive"},
                                      {"$ref": "#/components/schemas/DirectoryChanged"},
                                      {"allOf": [PROBLEM, {"type": "object", "properties": {"type": {"enum": [
                                          "/api/v1/problems/case-ref-taken",
                                          "/api/v1/problems/receipt-taken"]}}}]}]}}}}},
        }},
        "/api/v1/disclosures/challenge": {"get": {
            "summary": "A proof-of-work challenge (docs/crypto.md 6.15): solved on the reporter's device and sent "
                       "as `proof` with POST /api/v1/disclosures, it lets the report past the service-wide budget "
                       "while the service is flooded (never past the per-client one). Optional: a report without "
                       "a proof, or with a wrong, expired or used one, is taken as without.",
            "operationId": "disclosureChallenge",
            "responses": {"200": _json({"type": "object", "required": ["challenge", "bits", "expires_in"],
                                        "properties": {
                                            "challenge": STR,
                                            "bits": {"type": "integer", "minimum": 1, "maximum": 32,
                                                     "description": "The leading zero bits the hash must have."},
                                            "expires_in": {"type": "integer",
                                                           "description": "Seconds the challenge stays valid."}}},
                                       "A challenge."),
                          "404": {"description": "Proof of work is off (type /api/v1/problems/proof-of-work-off): "
                                                 "reports need none.",
                                  "content": {"application/problem+json": {"schema": PROBLEM}}}},
        }},
        "/api/v1/staff/sign-in-parameters": {"post": {
            "summary": "The salt and Argon2id cost a device derives a guardian's sign-in keys with.",
            "description": "An unknown username gets stand-in values, the same each time; an account made "
                           "before device sign-in gets the scheme \"password\" (it signs in with its password "
                           "once, which moves it over).",
            "operationId": "staffSignInParameters",
            "requestBody": _body({"type": "object", "required": ["username"], "additionalProperties": False,
                                  "properties": {"username": FILLED}}),
            "responses": {"200": _json({"$ref": "#/components/schemas/SignInParameters"}, "The parameters."),
                          **_problem_responses(400, 415, 422)},
        }},
        "/api/v1/staff/session": {
            "post": {
                "summary": "Sign in as staff: with the auth key derived on the device (the session holds no key), "
                           "or with the password (server-assisted: the session holds the guardian's key).",
                "description": "Device: POST /api/v1/staff/sign-in-parameters, derive auth_key and wrap_key "
                               "(docs/crypto.md 6.13), send auth_key; open key_by_device with wrap_key. "
                               "Password: an account made before device sign-in is moved over by it; with "
                               "whistle.workspace.server_assisted false the session holds no key and the answer "
                               "is a device one with the new salt and cost, and a moved-over account is refused.",
                "operationId": "staffLogin",
                "requestBody": _body({"oneOf": [
                    {"type": "object", "required": ["username", "auth_key", "otp"], "additionalProperties": False,
                     "properties": {"username": FILLED, "otp": FILLED,
                                    "auth_key": {"type": "string", "contentEncoding": "base64",
                                                 "pattern": BASE64_32_BYTES,
                                                 "description": "32 bytes, derived on the device."}}},
                    {"type": "object", "required": ["username", "password", "otp"], "additionalProperties": False,
                     "properties": {"username": FILLED, "password": FILLED, "otp": FILLED}}]}),
                "responses": {"200": _json({"$ref": "#/components/schemas/Session"}, "Logged in."),
                              **_problem_responses(400, 401, 415, 422),
                              "429": {"description": "Not checked (type /api/v1/problems/sign-in-paused), with "
                                                     "Retry-After: this client has failed too often (on this "
                                                     "username, or on any), or has just failed while the service's "
                                                     "budget of failed sign-ins a minute is spent. A client that "
                                                     "has not failed is always checked.",
                                      "content": {"application/problem+json": {"schema": PROBLEM}}},
                              **_problem_responses(400, 401, 415, 422, 503),
                              "403": {"description": "A password sign-in while server-assisted sign-in is off "
                                                     "(type /api/v1/problems/server-assisted-off): sign in on the "
                                                     "device.",
                                      "content": {"application/problem+json": {"schema": PROBLEM}}}},
            },
            "delete": {
                "summary": "Log out (end this session).", "operationId": "staffLogout", "security": BEARER,
                "responses": {"204": {"description": "Logged out."}, **_problem_responses(401)},
            },
        },
        "/api/v1/cases": {"get": {
            "summary": "The cases granted to the caller.", "operationId": "listCases", "security": BEARER,
            "parameters": [
                {"name": "status", "in": "query", "schema": {"enum": list(STATUSES)}},
                {"name": "channel", "in": "query", "schema": STR},
                {"name": "overdue", "in": "query", "schema": FLAG},
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 100}},
            ],
            "responses": {"200": _json({"type": "object", "required": ["cases", "total", "page"], "properties": {
                "cases": {"type": "array", "items": {"$ref": "#/components/schemas/CaseSummary"}},
                "total": {"type": "integer"}, "page": {"type": "integer"}}}, "A page of cases."),
                **_problem_responses(401, 403, 422)},
        }},
        "/api/v1/cases/{ref}": {"get": {
            "summary": "One case, decrypted for the caller.", "operationId": "getCase", "security": BEARER,
            "parameters": [CASE_REF],
            "responses": {"200": _json({"type": "object", "required": ["case", "status", "text", "answers"],
                                        "properties": {
                "case": STR, "channel": STR, "status": STR, "opened": DATE, "text": STR,
                "answers": {"type": "object"}, "identity": {"$ref": "#/components/schemas/Identity"},
                **CLOSING_PROPERTIES,
                "messages": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Message"},
                                                                  {"$ref": "#/components/schemas/Unverified"}]}},
                "notes": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/Message"},
                                                               {"$ref": "#/components/schemas/Unverified"}]}},
                "attachments": {"type": "array", "items": {"oneOf": [{"$ref": "#/components/schemas/CaseAttachment"},
                                                                     {"$ref": "#/components/schemas/Unverified"}]}},
                "unverified": {"type": "array", "items": {"$ref": "#/components/schemas/Unverified"}},
                "withdrawn_on": {"type": ["string", "null"], "format": "date",
                                 "description": "The day the reporter withdrew the report; null if they did not."},
                "speak_up_again": {"enum": ["yes", "no", "not_sure", None], "description": "The reporter's answer "
                                   "at closure to \"would you speak up again?\"; null: not (yet) answered."},
                "speak_up_comments": {"type": "array", "description": "The reporter's comments with that answer.",
                                      "items": {"type": "object", "properties": {
                                          "id": {"type": "integer"}, "text": STR, "at": DATE}}},
                "events": {"type": "array", "items": {"$ref": "#/components/schemas/Event"},
                           "description": "The case's audit events in order; of the readings (case.viewed, "
                                          "recorded once a day for each guardian) only the latest 20."},
                "earlier_reads_left_out": {"type": "boolean", "description": "Whether older readings were left "
                                           "out of `events` (the audit log keeps every one)."}}}, "The case."),
                **_problem_responses(401, 404)},
        }},
        "/healthz": {"get": {
            "summary": "Liveness: 200 when the process answers; it looks at nothing else (that is /readyz).",
            "operationId": "health",
            "responses": {"200": _json({"type": "object", "properties": {"status": {"const": "ok"}}}, "Alive.")},
        }},
        "/readyz": {"get": {
            "summary": "Readiness: the database answers and its schema is at the migrations' head, the key files "
                       "can be read and the blob store answers. Nothing else is said; the reasons go to the log.",
            "operationId": "ready",
            "responses": {"200": _json({"type": "object", "properties": {"status": {"const": "ready"}}}, "Ready."),
                          "503": _json({"type": "object", "properties": {"status": {"const": "not ready"}}},
                                       "Not ready: send it no work.")},
        }},
        "/metrics": {"get": {
            "summary": "Counts in the Prometheus text format, for the holder of the metrics token: "
                       "'Authorization: Bearer <the contents of whistle.metrics.token_file>'. Without it, a wrong "
                       "one, or none configured, 404 as for any address that does not exist (so no security "
                       "scheme is declared: a refusal is not a 401).",
            "operationId": "metrics",
            "responses": {"200": {"description": "The Prometheus text exposition (version 0.0.4).",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          "404": {"description": "No token configured, or none or a wrong one sent."}},
        }},
        "/api/v1/openapi.json": {"get": {
            "summary": "This document.", "operationId": "openapi",
            "responses": {"200": {"description": "The OpenAPI document."}},
        }},
    }
    paths.update(mailbox_paths())
    paths.update(voice_paths())
    paths.update(board_paths())
    paths.update(retaliation_paths())
    # The guardian's workspace and the admin area (whistle.openapi.workspace).
    paths.update(workspace_paths())
    _refusing_the_other_kind(paths)
    SCHEMAS["CaseAttachment"] = CASE_ATTACHMENT
    paths["/api/v1/cases"]["get"]["parameters"].extend(LIST_PARAMETERS)
    SCHEMAS["CaseSummary"]["properties"].update(SUMMARY_PROPERTIES)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "whistle",
            "version": "1",
            "description": "The public API of a whistle installation. Errors are RFC 9457 problem documents. "
                           "Reporter-visible timestamps are dates only. Request bodies are UTF-8 JSON objects "
                           "nested at most 32 levels; a string (or member name) holding NUL or an unpaired "
                           "surrogate escape such as \\ud800 is a 422 naming it by its path, e.g. `answers.where`.",
        },
        "paths": paths,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "A session token from a login call."},
                "integration": {"type": "http", "scheme": "bearer",
                                "description": "An integration token from `whistle integration add NAME`."},
            },
        },
    }
