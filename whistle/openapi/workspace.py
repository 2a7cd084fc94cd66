"""The workspace's and admin area's part of the OpenAPI document (merged by whistle.openapi)."""
from __future__ import annotations

from whistle.cases.actions import MAX_JUNK_AT_ONCE
from whistle.cases.inbox import MAX_PAGE, SORTS
from whistle.cases.lifecycle import CHANGES, FACTOR_SLUGS, JUNK_REASON_SLUGS, STATUSES, SUBSTANTIATED
from whistle.hooks.types import PRIORITIES
from whistle.i18n import LANGUAGES, english
from whistle.notifications.preferences import ALWAYS_ON, EVENTS
from whistle.openapi.components import BEARER, CASE_REF, DATE, DATETIME, FILLED, STR, _body, _json, _problem_responses
from whistle.words import ERASURE_REASONS

INT = {"type": "integer"}
BOOL = {"type": "boolean"}
SUMMARY = {"$ref": "#/components/schemas/CaseSummary"}
STRINGS = {"type": "array", "items": STR}
# Labels as triage takes them: trimmed and lower-cased first (a blank one is dropped), then 1-64
# letters, digits or '-'.
LABELS = {"type": "array", "items": {"type": "string", "pattern": "^\\s*([A-Za-z0-9-]{1,64})?\\s*$"},
          "description": "1-64 letters, digits or '-' each (kept lower-case)"}
NULLABLE_STR = {"type": ["string", "null"]}
NOTICE_LANGUAGE = {"type": ["string", "null"], "enum": [*LANGUAGES, None],
                   "description": "the language of my notices and of their sign-in link; null: as the notification "
                                  "channel writes them (whistle_smtp.languages)"}
NOTIFY_SETTINGS = {"type": "object", "properties": {
    "channel": NULLABLE_STR, "address": NULLABLE_STR, "language": NOTICE_LANGUAGE,
    "channels": {"type": "array", "items": STR, "description": "the channels the enabled plugins offer"},
    "usable": {"type": "boolean", "description": "whether notices can reach me now"},
    "events": {"type": "object", "description": "each event: whether I am told about it (true unless I turned it off)",
               "properties": {event: {"type": "boolean", "description": english(words)}
                              for event, words in EVENTS.items()}}}}
NOTIFY_EVENTS_CHANGE = {
    "type": "object", "additionalProperties": False,
    "description": "events to turn on (true) or off (false); events left out keep their setting; an unknown "
                   "event is a 422 naming it, and so is turning off account_recovery or staffing_change, which are "
                   "always on",
    "properties": {event: {"const": True, "description": f"{words} (always on)"} if event in ALWAYS_ON
                   else {"type": "boolean", "description": english(words)} for event, words in EVENTS.items()}}
# A day as a filter: empty is the same as leaving it out.
DAY_OR_EMPTY = {"oneOf": [DATE, {"const": ""}], "description": "YYYY-MM-DD; empty: not set"}
# A yes-or-no query parameter as the inbox's filters read it: empty is the same as leaving it out.
FLAG = {"type": "string", "pattern": "^([Tt][Rr][Uu][Ee]|[Ff][Aa][Ll][Ss][Ee]|[Oo][Nn]|1|0)?$",
        "description": "true or false (also 1, 0 or on, in any case); empty: not set"}


FACTORS_LIST = {"type": "array", "items": {"enum": list(FACTOR_SLUGS)},
                "description": "The contributory factors named at closure (none is fine); an unknown one is a 422 "
                               "naming factors."}
# The closing record's metadata in GET /api/v1/cases/{ref} (null or empty while the case is open).
CLOSING_PROPERTIES = {
    "substantiated": {"type": ["string", "null"], "enum": [*SUBSTANTIATED, None]},
    "changes": {"type": "array", "items": {"enum": list(CHANGES)}},
    "factors": FACTORS_LIST,
    "records": {"type": "array", "description": "closing records (outcomes: substantiated, changes, factors, "
                "learned, changed) and reasons (about, text), decrypted; team key", "items": {"type": "object"}},
}
B64 = {"type": "string", "contentEncoding": "base64"}
NULLABLE_B64 = {"type": ["string", "null"], "contentEncoding": "base64"}
ENVELOPE_GRANT = {"type": "object", "properties": {"id": INT, "sealed_case_key": B64, "sealed_team_key": NULLABLE_B64,
                                                   "case_key_binding": NULLABLE_B64}}
ENVELOPE_ITEM = {"type": "object", "properties": {
    "id": INT, "kind": STR, "author": {"type": ["string", "null"],
                                       "description": "what the encryption binds; null: version 1"},
    "account_id": {"type": ["integer", "null"]}, "from": STR, "at": DATE, "ciphertext": NULLABLE_B64,
    "erased_on": {**DATE, "description": "set when a guardian erased it: its ciphertext is then null"},
    "erased_reason": {"enum": list(ERASURE_REASONS)},
    "erased_words": {"type": "string", "description": "\"Erased on <date>: <reason>.\", in plain words"}}}
# Whether a reporter's file had its hidden information removed before it was encrypted, as they asked
# (docs/workspace.md); only the outcome, never what was removed.
METADATA_REMOVAL = {"enum": ["removed", "unsupported", "unreadable", "too_large", None],
                    "description": "What became of the file's hidden information (EXIF, document properties) "
                                   "when the reporter asked for it to be removed: removed; unsupported (a format "
                                   "no plugin cleans), unreadable (it could not be read) or too_large, each kept as "
                                   "sent; null when nobody asked, or the file was encrypted on the reporter's device."}
METADATA_REMOVAL_WORDS = {"type": ["string", "null"],
                          "description": "The same in words for people, as the case page shows it; null when null."}
CASE_ENVELOPES = {"type": "object", "required": ["case", "account_id", "public_key", "team_public_key", "grant",
                                                 "team_key_to_replace", "items", "attachments"], "properties": {
    "case": STR, "account_id": INT, "public_key": B64, "team_public_key": B64, "team_key_mac": NULLABLE_B64,
    "key_binding": NULLABLE_B64,
    "grant": ENVELOPE_GRANT,
    "team_key_to_replace": {"type": "boolean", "description": "built on the client, its team key not replaced yet"},
    "items": {"type": "array", "items": ENVELOPE_ITEM},
    "attachments": {"type": "array", "items": {"type": "object", "properties": {
        "id": STR, "meta_item_id": {"type": ["integer", "null"]}, "internal": BOOL, "author": STR, "from": STR,
        "account_id": {"type": ["integer", "null"]}, "created_on": DATE, "bytes": INT, "blob": STR,
        "metadata_removal": METADATA_REMOVAL, "metadata_removal_words": METADATA_REMOVAL_WORDS}}},
    "directory": {"type": ["object", "null"],
                  "description": "the signed key directory (null if none is usable): what a replaced team key "
                                 "and a grant made on the device are sealed to"},
    "names": {"type": "object", "additionalProperties": STR},
    "questions": {"type": "array", "items": {"type": "object"}}}}
LEARNING_OUTCOMES = {"type": "object", "required": ["cases", "total", "limit"], "properties": {
    "cases": {"type": "array", "items": {"type": "object", "required": [
        "case", "channel", "closed", "substantiated", "changes", "factors", "public_key", "team_public_key", "grant",
        "items"], "properties": {
        "case": STR, "channel": STR, "closed": DATE, "substantiated": {"enum": list(SUBSTANTIATED)},
        "changes": {"type": "array", "items": {"enum": list(CHANGES)}}, "factors": FACTORS_LIST,
        "public_key": B64, "team_public_key": B64, "team_key_mac": NULLABLE_B64,
        "grant": ENVELOPE_GRANT,
        "items": {"type": "array", "description": "the closing record: the case's newest outcome item (none if the "
                  "grant holds no team key)", "items": ENVELOPE_ITEM}}}},
    "total": {"type": "integer", "description": "how many closed cases match; at most `limit` are given"},
    "limit": INT}}
COUNT_BY_CHANNEL = {"type": "object", "required": ["channel", "title", "reason", "explanation"], "properties": {
    "channel": STR, "title": STR, "reason": STR, "explanation": {"type": "string", "description": "in plain words"},
    "cases": INT}}
ADMIN_OVERVIEW = {"type": "object", "required": ["by_status", "by_channel", "total", "overdue", "unassigned",
                                                 "unassigned_by_channel", "unattended_channels"], "properties": {
    "by_status": {"type": "object", "additionalProperties": INT},
    "by_channel": {"type": "array", "items": {"type": "object", "properties": {
        "channel": STR, "title": STR, "cases": INT}}},
    "total": INT,
    "overdue": {"type": "object", "properties": {"acknowledgement": INT, "feedback": INT}},
    "unassigned": {"type": "integer", "description": "open cases no enabled guardian holds: nobody can read them"},
    "unassigned_by_channel": {"type": "array", "items": COUNT_BY_CHANNEL, "description":
                              "those cases by channel and why (reason: holders_disabled, "
                              "nobody_could_receive, no_holder_left)"},
    "unattended_channels": {"type": "array", "items": COUNT_BY_CHANNEL, "description":
                            "active channels taking no reports, and why (reason: no_guardians, "
                            "guardians_disabled, members_not_guardians, guardians_disabled_or_not_guardians, "
                            "no_key_directory, not_in_key_directory; no cases member)"},
    "key_directory": {"type": "object", "description": "the organisation key and the signed key directory against "
                      "the database", "properties": {
        "fingerprint": {"type": ["string", "null"], "description": "the organisation key's, to publish"},
        "version": {"type": ["integer", "null"]}, "expires": {"type": ["string", "null"], "format": "date-time"},
        "problem": {"type": ["string", "null"], "description": "why no directory is usable, in plain words"},
        "stale": {"type": "boolean"},
        "differences": {"type": "array", "items": STR, "description": "each difference, in plain words"},
        "swapped": {"type": "array", "items": STR, "description": "usernames whose stored key is not the signed "
                    "one: what a key swap looks like"},
        "auto_sign": {"type": "boolean"}}}}}
CONFIRMATION_NEEDED = {"allOf": [{"$ref": "#/components/schemas/Problem"}, {
    "type": "object", "required": ["channels", "sole_cases"], "properties": {
        "type": {"const": "/api/v1/problems/confirmation-needed"},
        "channels": {"type": "array", "items": STR,
                     "description": "slugs of the channels that would stop taking reports"},
        "sole_cases": {"type": "integer", "description": "open cases only this account holds"}}}]}


def _post(summary: str, operation: str, body: dict, ok: dict, *problems: int) -> dict:
    return {"post": {"summary": summary, "operationId": operation, "security": BEARER, "parameters": [CASE_REF],
                     "requestBody": _body(body),
                     "responses": {**ok, **_problem_responses(400, 401, 404, 415, 422, *problems)}}}


def _object(properties: dict, required: tuple[str, ...] = ()) -> dict:
    return {"type": "object", "additionalProperties": False, "required": list(required), "properties": properties}


# One change to who may receive a channel's cases, as GET /api/v1/staffing-changes lists it.
STAFFING_CHANGE = _object({
    "at": DATETIME,
    "what": {"enum": ["guardian", "first_tier", "second_tier"],
             "description": "made a guardian; added to the channel's first tier (every new case); added to its "
                            "second tier (new cases nobody of the first tier may have)"},
    "account": NULLABLE_STR, "channel": NULLABLE_STR, "channel_title": NULLABLE_STR,
    "made_by": {"type": ["string", "null"], "description": "the admin; null for the operator on the command line"},
    "approved_by": {"type": ["string", "null"], "description": "the second admin, under the two-admin rule"},
    "words": {"type": "string", "description": "the change in a sentence"},
}, ("at", "what", "account", "channel", "channel_title", "made_by", "approved_by", "words"))

# A file as GET /api/v1/cases/{ref} lists it.
CASE_ATTACHMENT = {
    "type": "object", "required": ["id", "name", "size", "type", "from", "internal", "at"],
    "properties": {
        "id": INT, "name": STR, "size": INT, "type": STR,
        "from": {"enum": ["reporter", "guardian"]},
        "by": {"type": ["string", "null"], "description": "The guardian who added it; null for the reporter's files."},
        "internal": {"type": "boolean", "description": "Guardians only (team key); the reporter never sees it."},
        "at": DATE,
        "metadata_removal": METADATA_REMOVAL,
        "metadata_removal_words": METADATA_REMOVAL_WORDS,
    },
}


def _upload() -> dict:
    return {"post": {
        "summary": "Add a file: the raw bytes as the body, the name in X-Filename (UTF-8, percent-encoded). "
                   "Sent to the reporter (case key), or with internal=true for guardians only (team key).",
        "operationId": "addCaseAttachment", "security": BEARER,
        "parameters": [CASE_REF,
                       {"name": "X-Filename", "in": "header", "required": True, "schema": STR},
                       {"name": "internal", "in": "query", "schema": {"enum": ["true", "false"], "default": "false"}}],
        "requestBody": {"required": True, "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}}},
        "responses": {"201": _json(_object({"id": INT, "size": INT, "internal": BOOL}, ("id", "size", "internal")),
                                   "Stored, encrypted."), **_problem_responses(401, 404, 413, 422)}}}


# Device mode: a session holding no key sends what the guardian's device encrypted (docs/crypto.md 7.3).
DEVICE_ITEM = {"type": "string", "description": "Device mode only (a session holding no key): the item envelope "
               "(docs/crypto.md 5.2, version 2, author guardian:<id>) the guardian's device encrypted, in base64, "
               "in place of the text field(s), which such a session may not send (422 naming them); refused from "
               "a session holding a key (422 naming item)."}
SEALED_KEY = {"type": "string", "description": "Device mode only: the case (or team) private key sealed on the "
              "device to the key the signed key directory lists for the guardian (docs/crypto.md 5.1), base64."}


def guardian_upload_paths() -> dict:
    """Files a guardian's device encrypted, uploaded in chunks as the reporter's are (docs/crypto.md 7.2)."""
    upload = {"name": "upload", "in": "path", "required": True, "schema": STR,
              "description": "The upload's id, as POST /api/v1/cases/{ref}/uploads gave it."}
    index = {"name": "index", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0},
             "description": "The first chunk of the run sent (docs/crypto.md 7.2)."}
    state = _object({"id": STR, "chunks": INT, "internal": BOOL, "received": {"type": "array", "items": INT}})
    return {
        "/api/v1/cases/{ref}/uploads": _post(
            "Begin a file the guardian's device encrypted (a stream envelope of version 2, author guardian:<id>, "
            "kind attachment to the case key, or with internal kind internal-attachment to the team key), to be "
            "sent in chunks; `size` is the stream envelope's bytes.", "caseUploadStart",
            _object({"chunks": INT, "size": INT, "internal": BOOL}, ("chunks", "size")),
            {"201": _json(_object({"id": STR, "chunks": INT, "internal": BOOL}), "Begun: send the chunks.")}, 409, 413),
        "/api/v1/cases/{ref}/uploads/{upload}": {
            "get": {"summary": "Which chunks the server has.", "operationId": "caseUploadState", "security": BEARER,
                    "parameters": [CASE_REF, upload],
                    "responses": {"200": _json(state, "The upload."), **_problem_responses(401, 404)}},
            "delete": {"summary": "Cancel the upload.", "operationId": "caseUploadCancel", "security": BEARER,
                       "parameters": [CASE_REF, upload],
                       "responses": {"204": {"description": "Cancelled."}, **_problem_responses(401, 404)}},
        },
        "/api/v1/cases/{ref}/uploads/{upload}/{index}": {"put": {
            "summary": "Send a run of 1 to 16 consecutive chunks from chunk `index`.", "operationId": "caseUploadChunk",
            "security": BEARER, "parameters": [CASE_REF, upload, index],
            "requestBody": {"required": True, "content": {"application/octet-stream": {
                "schema": {"type": "string", "format": "binary"}}}},
            "responses": {"204": {"description": "Kept."}, **_problem_responses(401, 404, 409, 415, 422)}}},
        "/api/v1/cases/{ref}/uploads/{upload}/done": {"post": {
            "summary": "Finish: the chunks become the file; `meta` its attachment-meta item (internal-file "
                       "for an internal file), author guardian:<id>, base64.", "operationId": "caseUploadDone",
            "security": BEARER, "parameters": [CASE_REF, upload],
            "requestBody": _body(_object({"meta": STR}, ("meta",))),
            "responses": {"201": _json(_object({"id": INT, "bytes": INT, "internal": BOOL}), "Stored."),
                          **_problem_responses(400, 401, 404, 409, 413, 415, 422)}}},
    }


def workspace_paths() -> dict:
    text = _object({"text": {"type": "string", "minLength": 1}, "item": DEVICE_ITEM})
    created = {"201": _json(_object({"id": INT}, ("id",)), "Stored, encrypted.")}
    summary = {"200": _json(SUMMARY, "The case summary after the change.")}
    account = _object({"id": INT, "username": STR, "guardian": BOOL, "admin": BOOL, "disabled": BOOL,
                       "channels": STRINGS, "created": DATETIME})
    surge_day = {"name": "day", "in": "path", "required": True, "schema": DATE,
                 "description": "The day of the surge (cases.surge_day), e.g. 2026-12-05."}
    return {
        "/api/v1/surges/{day}/junk": {"post": {
            "summary": "Close cases that came in during a surge of reports as junk, in one go (GET /api/v1/cases"
                       "?surge=DAY lists them): no acknowledgement and no outcome, so no deadline reaches whoever "
                       "sent them; each is audited with the reason, nothing of its content.",
            "description": "Every case must be one of that surge that the caller holds as a guardian: otherwise "
                           "404 and nothing is closed. A case closed already is left as it is and listed in "
                           "already_closed. Reopening one (POST /api/v1/cases/{ref}/transitions, with a reason) "
                           "takes it back.",
            "operationId": "closeSurgeAsJunk", "security": BEARER, "parameters": [surge_day],
            "requestBody": _body(_object({
                "cases": {"type": "array", "minItems": 1, "maxItems": MAX_JUNK_AT_ONCE,
                          "items": {"type": "string", "minLength": 1, "maxLength": 64},
                          "description": "The references of the cases to close."},
                "reason": {"enum": list(JUNK_REASON_SLUGS), "description": "flood: sent in a flood of junk "
                           "reports; spam: advertising or spam; test: a test, not a concern."}},
                ("cases", "reason"))),
            "responses": {"200": _json(_object({"closed": STRINGS, "already_closed": STRINGS},
                                               ("closed", "already_closed")), "Closed."),
                          **_problem_responses(400, 401, 403, 404, 415, 422)},
        }},
        "/api/v1/cases/{ref}/messages": _post(
            "Reply to the reporter (they read it).", "replyToReporter", text, created),
        "/api/v1/cases/{ref}/notes": _post(
            "Add an internal note (team key: never readable by the reporter).", "addNote", text, created),
        "/api/v1/cases/{ref}/transitions": _post(
            "Move the case to another status; closing needs the outcome, reopening a reason.", "moveCase",
            _object({"to": {"enum": list(STATUSES)}, "reason": STR, "substantiated": {"enum": list(SUBSTANTIATED)},
                     "changes": {"type": "array", "items": {"enum": list(CHANGES)}},
                     "factors": FACTORS_LIST, "learned": STR,
                     "changed": {"type": "string", "description": "Optional: what changed in practice, in words "
                                 "(encrypted with what was learned); in device mode inside the item instead."},
                     "item": DEVICE_ITEM}, ("to",)),
            summary, 409),
        "/api/v1/cases/{ref}/triage": _post(
            "Set the priority, add or remove labels.", "triageCase",
            _object({"priority": {"enum": [*PRIORITIES, None], "description": "null or left out: unchanged"},
                     "add_labels": LABELS, "remove_labels": LABELS}),
            summary),
        "/api/v1/cases/{ref}/grants": _post(
            "Grant the case to another enabled guardian (the caller seals the case keys to them).", "grantCase",
            _object({"guardian": STR, "sealed_case_key": SEALED_KEY, "sealed_team_key": SEALED_KEY}, ("guardian",)),
            {"201": _json(_object({"guardian": STR}), "Granted.")}),
        "/api/v1/cases/{ref}/transfer": _post(
            "Grant the case to another guardian and give up the caller's own access.", "transferCase",
            _object({"guardian": STR, "reason": STR, "item": DEVICE_ITEM, "sealed_case_key": SEALED_KEY,
                     "sealed_team_key": SEALED_KEY}, ("guardian",)),
            {"200": _json(_object({"transferred_to": STR}), "Transferred.")}),
        "/api/v1/cases/{ref}/attachments": _upload(),
        "/api/v1/cases/{ref}/envelopes": {"get": {
            "summary": "The case as stored, for a client that decrypts it with the guardian's own key "
                       "(docs/crypto.md 7.4): keys to check, the caller's grant, items and files as ciphertext.",
            "operationId": "getCaseEnvelopes", "security": BEARER, "parameters": [CASE_REF],
            "responses": {"200": _json(CASE_ENVELOPES, "Ciphertext only."), **_problem_responses(401, 404)}}},
        **guardian_upload_paths(),
        "/api/v1/cases/{ref}/legal-hold": {
            **_post("Place a legal hold: the case is not deleted until it is lifted. The reason is stored as a "
                    "team-key reason item ({\"about\": \"legal-hold\", \"text\"}), encrypted by the server or, "
                    "in device mode, sent as the `item` the device encrypted; the audit log records no reason.",
                    "placeLegalHold", _object({"reason": {"type": "string", "minLength": 1}, "item": DEVICE_ITEM}),
                    {"201": _json(SUMMARY, "On hold.")}, 409),
            "delete": {"summary": "Lift the legal hold: the case's deletion day is worked out again.",
                       "operationId": "liftLegalHold", "security": BEARER, "parameters": [CASE_REF],
                       "responses": {"204": {"description": "Lifted."}, **_problem_responses(401, 404, 409)}}},
        "/api/v1/cases/{ref}/erasures": _post(
            "Erase one message, note or file for good: its shred keys are destroyed, its content cleared, its file "
            "deleted; the case keeps when and why (docs/workspace.md). The disclosure, the answers, who the reporter "
            "is and the records of what was done cannot be erased (422 naming item_id).", "eraseItem",
            _object({"item_id": INT, "reason": {"enum": list(ERASURE_REASONS)}}, ("item_id", "reason")),
            {"200": _json(_object({"item_id": INT, "kind": STR, "erased_on": DATE,
                                   "erased_reason": {"enum": list(ERASURE_REASONS)}}), "Erased.")}),
        "/api/v1/staffing-changes": {"get": {
            "summary": "Changes to the caller's channels, most recent first (at most 20), as the inbox lists them: "
                       "who was made a guardian, or added to the first or second tier of a channel the caller is "
                       "a member of, by which admin (null: the operator on the command line), approved by whom "
                       "under the two-admin rule, and when. Each such change also queues a notice, which says "
                       "only that something needs attention.",
            "operationId": "getStaffingChanges", "security": BEARER,
            "responses": {"200": _json(_object({"changes": {"type": "array", "items": STAFFING_CHANGE}},
                                               ("changes",)), "The changes."),
                          **_problem_responses(401, 403)}}},
        "/api/v1/learning/outcomes": {"get": {
            "summary": "The closing records of the closed cases granted to the caller that the filters pick "
                       "(metadata only: no words are sent), as stored, for a device to decrypt and search what "
                       "was learned (docs/crypto.md 7.4): per case its keys to check, the caller's grant and its "
                       "outcome item, nothing else of the case. The newest closures first, at most `limit`; "
                       "audited per case. A faulty filter is a 422 naming it.",
            "operationId": "getLearningOutcomes", "security": BEARER,
            "parameters": [
                {"name": "factors", "in": "query", "schema": {"type": "array", "items": {"enum": list(FACTOR_SLUGS)}},
                 "style": "form", "explode": True, "description": "any of these contributory factors"},
                {"name": "changes", "in": "query", "schema": {"type": "array", "items": {"enum": list(CHANGES)}},
                 "style": "form", "explode": True, "description": "any of these changes"},
                {"name": "substantiated", "in": "query", "schema": {"enum": list(SUBSTANTIATED)}},
                {"name": "channel", "in": "query", "schema": STR, "description": "the channel's slug"},
                {"name": "from", "in": "query", "schema": DAY_OR_EMPTY, "description": "closed on or after"},
                {"name": "to", "in": "query", "schema": DAY_OR_EMPTY,
                 "description": "closed on or before (not before `from`: 422)"},
            ],
            "responses": {"200": _json(LEARNING_OUTCOMES, "Ciphertext and metadata only."),
                          **_problem_responses(401, 403, 422)}}},
        "/api/v1/cases/{ref}/conflict": _post(
            "Declare a conflict of interest: the caller's access ends (409 unless another guardian holds the case).",
            "declareConflict", _object({"reason": STR, "item": DEVICE_ITEM}),
            {"204": {"description": "Access ended."}}, 409),
        "/api/v1/staff/sessions": {
            "get": {"summary": "My sessions.", "operationId": "listSessions", "security": BEARER,
                    "responses": {"200": _json(_object({"sessions": {"type": "array", "items": _object({
                        "id": INT, "created": DATETIME, "idle_expires": DATETIME, "absolute_expires": DATETIME,
                        "current": BOOL})}}), "Where I am signed in."), **_problem_responses(401)}},
            "delete": {"summary": "Log out everywhere.", "operationId": "logoutEverywhere", "security": BEARER,
                       "responses": {"204": {"description": "Every session ended."}, **_problem_responses(401)}},
        },
        "/api/v1/staff/password": {"post": {
            "summary": "Change my password (rewraps my key; my other sessions end).", "operationId": "changePassword",
            "description": "On the device: the current password's auth key (derived with POST "
                           "/api/v1/staff/sign-in-parameters), and the new password's keys derived with a fresh "
                           "salt at no less than the service's cost (docs/crypto.md 6.13); neither password is "
                           "sent, so the service cannot check the new one's strength: the client does. Or "
                           "current and new passwords (the service derives the keys). A wrong current password "
                           "or auth key counts as a failed sign-in (422 naming current or current_auth_key).",
            "security": BEARER, "requestBody": _body({"oneOf": [
                _object({"current_auth_key": {**B64, "description": "32 bytes."},
                         "new_salt": {**B64, "description": "16 bytes, random."},
                         "new_opslimit": INT, "new_memlimit": INT, "new_auth_key": {**B64, "description": "32 bytes."},
                         "new_key_by_device": {**B64, "description": "The private key in a device wrap (74 bytes)."}},
                        ("current_auth_key", "new_salt", "new_opslimit", "new_memlimit", "new_auth_key",
                         "new_key_by_device")),
                _object({"current": FILLED, "new": FILLED}, ("current", "new"))]}),
            "responses": {"204": {"description": "Changed."}, **_problem_responses(400, 401, 415, 422)}}},
        "/api/v1/staff/authenticator": {"post": {
            "summary": "A lost authenticator: with the recovery key, a new TOTP secret replaces the old one, and a "
                       "new recovery key the one used (both shown once; this client's sign-in pause on the account "
                       "is lifted, every session of the account ends, and its owner is sent a notice). A wrong "
                       "username or recovery key gets the same 422, naming recovery_key; 429 with Retry-After, the "
                       "key untried, for a client past its hour's budget of wrong recovery keys, or with a wrong key "
                       "of its own this hour while the service's budget is spent.",
            "operationId": "resetAuthenticator",
            "requestBody": _body(_object({"username": FILLED, "recovery_key": FILLED}, ("username", "recovery_key"))),
            "responses": {"200": _json(_object({"totp_secret": STR, "totp_uri": STR, "recovery_key": STR},
                                               ("totp_secret", "totp_uri", "recovery_key")),
                                       "The new secret, its otpauth:// URI and the new recovery key, shown once."),
                          **_problem_responses(400, 415, 422, 429)}}},
        "/api/v1/staff/notifications": {
            "get": {"summary": "Where I am told that something needs me (channel and address), in which language, "
                               "and about what.",
                    "operationId": "getNotificationAddress", "security": BEARER,
                    "responses": {"200": _json(NOTIFY_SETTINGS, "My notification channel."),
                                  **_problem_responses(401)}},
            "put": {"summary": "Set where I am notified (a null or empty channel means no notices; audited "
                               "without the address), in which language (null: as the channel writes them; "
                               "audited) and which events I am told about (audited with the events turned off). "
                               "Members left out stay as they are.",
                    "operationId": "setNotificationAddress", "security": BEARER,
                    "requestBody": _body(_object({"channel": NULLABLE_STR, "address": NULLABLE_STR,
                                                  "language": NOTICE_LANGUAGE, "events": NOTIFY_EVENTS_CHANGE})),
                    "responses": {"200": _json(NOTIFY_SETTINGS, "Saved."), **_problem_responses(400, 401, 415, 422)}},
        },
        "/api/v1/admin/overview": {"get": {
            "summary": "Case counts by status and channel, overdue counts, the channels not taking reports and "
                       "the open cases nobody can read, with why (admins; no content).",
            "operationId": "adminOverview", "security": BEARER,
            "responses": {"200": _json(ADMIN_OVERVIEW, "Counts."), **_problem_responses(401, 403)}}},
        "/api/v1/admin/audit": {"get": {
            "summary": "The whole audit log, newest first (admins; metadata only).", "operationId": "adminAudit",
            "security": BEARER, "parameters": [
                {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}},
                {"name": "per_page", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}}],
            "responses": {"200": _json(_object({"events": {"type": "array", "items": _object({
                "seq": INT, "at": DATETIME, "actor": STR, "action": STR, "case_id": {"type": ["integer", "null"]},
                "detail": {"type": "object"}})}, "total": INT, "page": INT}), "A page of events."),
                **_problem_responses(401, 403, 422)}}},
        "/api/v1/admin/channels": {"get": {
            "summary": "Channels, their guardians, and whether each is accepting reports (admins).",
            "operationId": "adminChannels",
            "security": BEARER, "responses": {"200": _json({"type": "object"}, "Channels."),
                                              **_problem_responses(401, 403)}}},
        "/api/v1/admin/accounts": {
            "get": {"summary": "Staff accounts (admins).", "operationId": "adminAccounts", "security": BEARER,
                    "responses": {"200": _json(_object({"accounts": {"type": "array", "items": account}}), "Accounts."),
                                  **_problem_responses(401, 403)}},
            "post": {"summary": "Enrol an account; the answer shows the recovery key and TOTP secret once. Under "
                                "the two-admin rule the account is made disabled, without its channels, and "
                                "the rest waits for a second admin's approval (/admin/proposals).",
                     "operationId": "adminAddAccount", "security": BEARER,
                     "requestBody": _body(_object({"username": STR, "password": STR, "guardian": BOOL, "admin": BOOL,
                                                   "channels": STRINGS}, ("username", "password"))),
                     "responses": {"201": _json({"type": "object"}, "Created."),
                                   **_problem_responses(400, 401, 403, 415, 422)}},
        },
        "/api/v1/admin/accounts/{id}": {"patch": {
            "summary": "Change roles, channel memberships or the disabled flag (admins). A change that would stop "
                       "a channel taking reports or leave open cases only this account holds unreadable is "
                       "refused (409, nothing changed) unless the body says \"confirm\": true.",
            "operationId": "adminChangeAccount", "security": BEARER,
            "parameters": [{"name": "id", "in": "path", "required": True, "schema": INT}],
            "requestBody": _body(_object({"guardian": BOOL, "admin": BOOL, "disabled": BOOL, "channels": STRINGS,
                                          "confirm": {"type": "boolean", "description":
                                                      "make the change even if it has the consequences a 409 named"}})),
            "responses": {"200": _json(account, "The account."),
                          "202": _json(_object({"proposal": INT, "state": {"enum": ["proposed"]}, "account": INT},
                                               ("proposal", "state", "account")),
                                       "Under the two-admin rule, a change that gives access is proposed, not "
                                       "made: a second admin approves it at /admin/proposals."),
                          **_problem_responses(400, 401, 403, 404, 415, 422),
                          "409": {"description": "Confirmation needed: `channels` would stop taking reports and "
                                                 "`sole_cases` open cases would become unreadable. Nothing changed.",
                                  "content": {"application/problem+json": {"schema": CONFIRMATION_NEEDED}}}}}},
    }


# The list call's extra filters and the summary's extra fields, for the document's own entries.
LIST_PARAMETERS = [
    {"name": "unread", "in": "query", "schema": FLAG},
    {"name": "surge", "in": "query", "schema": DAY_OR_EMPTY,
     "description": "Only the cases that came in during the surge of reports of that day (surge_day)."},
    {"name": "priority", "in": "query", "schema": {"enum": list(PRIORITIES)}},
    {"name": "label", "in": "query", "schema": STR},
    {"name": "sort", "in": "query", "schema": {"enum": list(SORTS)}},
]
SUMMARY_PROPERTIES = {
    "acknowledged": {"type": ["string", "null"], "format": "date"},
    "feedback_given": {"type": ["string", "null"], "format": "date"},
    "closed": {"type": ["string", "null"], "format": "date"},
    "next_deadline": {"type": ["object", "null"], "properties": {
        "kind": {"enum": ["acknowledge", "feedback"]}, "date": DATE, "days": INT}},
    "delete_on": {"type": ["string", "null"], "format": "date",
                  "description": "the day the case is to be deleted for good (null while open or on legal hold)"},
    "on_hold_since": {"type": ["string", "null"], "format": "date",
                      "description": "the day a legal hold was placed (null: none); it keeps the case until lifted"},
    "surge_day": {"type": ["string", "null"], "format": "date",
                  "description": "the day of the surge of reports the case came in during (null: an ordinary day)"},
    "junk_reason": {"type": ["string", "null"], "enum": [*JUNK_REASON_SLUGS, None],
                    "description": "why guardians closed the case as junk (null: not junk)"},
}
