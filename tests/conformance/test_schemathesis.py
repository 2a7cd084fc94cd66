"""Every API response conforms to the OpenAPI document the app serves: schemathesis walks the whole
document (whistle.openapi's, checked equal to GET /api/v1/openapi.json; a new route is walked
without a line here) against the WSGI app in-process, as each caller in turn: anonymous, a reporter
(a mailbox session), a guardian and an admin (staff sessions), by bearer token as the API takes them.

Every check schemathesis runs by default applies: no 5xx, each status documented for its
operation, the response's content type and body as documented (problem+json for errors), its
documented headers, and the request-handling checks (a request the document forbids is refused,
one it allows is not, authentication not ignored). Generated requests meet a real database: the
app's own transactions commit, on SQLite or on WHISTLE_TEST_DATABASE_URL's PostgreSQL. A call about
one case is about the case that exists (the generated reference is replaced), a channel's is
about the channel that exists.

Bounded by WHISTLE_TEST_CONFORMANCE_EXAMPLES (examples per operation in the fuzzing phase, default
6) and deterministic, so a run takes a minute or two. WHISTLE_TEST_CONFORMANCE_SURVEY=1 records
every mismatch instead of stopping each operation at its first, and
WHISTLE_TEST_CONFORMANCE_SUMMARY=FILE writes them all to FILE (the figures are printed at the end
of the run either way).
"""
from __future__ import annotations

import os

import pytest
import schemathesis
from schemathesis.core.failures import Failure, FailureGroup

from tests.conformance.conftest import TALLY
from whistle.openapi.document import build_document

pytestmark = pytest.mark.slow

EXAMPLES = int(os.environ.get("WHISTLE_TEST_CONFORMANCE_EXAMPLES", "6"))
SURVEY = os.environ.get("WHISTLE_TEST_CONFORMANCE_SURVEY") == "1"

# Calls whose 422 also stands for rules the document states in words but a JSON Schema cannot: that
# what a member names exists (a channel, a guardian, an item of the case, a check-in that is due),
# that bytes are an envelope of the right kind, that a member is one this kind of session may send.
# A schema-valid request refused with 422 is a failure everywhere else.
BEYOND_THE_SCHEMA = {
    "submitDisclosure": "the channel exists and takes reports; a case built on a device matches its directory",
    "adminAddAccount": "the username is free, the password not a common one, the channels exist",
    "changePassword": "the current password or auth key is right; the device's keys have their sizes",
    "resetAuthenticator": "the username and recovery key are right (one 422 for both, by design)",
    "setNotificationAddress": "the channel is one an enabled plugin offers, the address one it takes",
    "getLearningOutcomes": "the period does not end before it starts",
    "addCaseAttachment": "X-Filename is a percent-encoded UTF-8 file name",
    "reporterAttachment": "X-Filename is a percent-encoded UTF-8 file name",
    "replyToReporter": "item only from a session holding no key, text only from one holding it",
    "addNote": "item only from a session holding no key, text only from one holding it",
    "moveCase": "item only from a session holding no key; closing needs the outcome, reopening a reason",
    "placeLegalHold": "item only from a session holding no key, reason only from one holding it",
    "declareConflict": "item only from a session holding no key",
    "grantCase": "the guardian exists, is enabled and may receive the case; sealed keys from a device only",
    "transferCase": "the guardian exists, is enabled and may receive the case; sealed keys from a device only",
    "eraseItem": "the item is a message, note or file of this case",
    "caseUploadStart": "chunks and size are those of a stream envelope",
    "reporterUploadStart": "chunks and bytes are those of a stream envelope",
    "reporterCheckin": "the month is one whose check-in is due",
    "reporterIdentity": "item is an identity item envelope of version 2",
    "reporterMessage": "item is a message item envelope of version 2",
    "reporterSpeakUp": "item is a speak-up-comment item envelope of version 2",
}
ACCEPTED = ["2xx", "3xx", "401", "403", "404", "409", "422", "429"]

schema = schemathesis.openapi.from_dict(build_document(), config=schemathesis.Config.from_dict({
    "seed": 20261205,
    "suppress-health-check": ["all"],
    # No NUL in generated strings: the document's description says every string refuses it (a 422 naming it).
    "generation": {"max-examples": EXAMPLES, "deterministic": True, "database": "none", "allow-x00": False},
    # Three methods no operation declares, for the 405 and its Allow header: the answer is one code for all.
    "phases": {"coverage": {"unexpected-methods": ["DELETE", "PATCH", "TRACE"]}},
    "operations": [
        {"include-operation-id": sorted(BEYOND_THE_SCHEMA),
         "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}}},
        # A case the caller may not see is not there (404), whatever else the request lacks.
        {"include-path-regex": "^/api/v1/cases/\\{ref\\}",
         "checks": {"missing_required_header": {"expected-statuses": ["400", "401", "403", "404", "406", "415",
                                                                      "422"]}}},
    ],
}))


@schema.parametrize()
def test_every_response_conforms_to_the_document(case, world):
    if "ref" in (case.path_parameters or {}):
        case.path_parameters["ref"] = world.case
    if "slug" in (case.path_parameters or {}):
        case.path_parameters["slug"] = "staff"
    # The caller's app, as schemathesis.openapi.from_wsgi would set it: the checks that send a request again
    # (without the token, say) send it there too.
    case.operation.schema.app = case.operation.app = world.app
    if case.operation.label not in world.tokens:
        world.tokens[case.operation.label] = world.token(world.caller)
    token = world.tokens[case.operation.label]
    headers = {"Authorization": f"Bearer {token}"} if token else None
    response = case.call(headers=headers)
    try:
        case.validate_response(response, headers=headers)
    except (Failure, FailureGroup) as error:
        failures = error.exceptions if isinstance(error, FailureGroup) else (error,)
        answer = (f"{case.method} {case.formatted_path} {case.query or ''} {str(case.body)[:150]} -> "
                  f"{response.status_code} {response.text[:200]}")
        for failure in failures:
            key = (world.caller, case.operation.label, failure.title)
            TALLY.failures.setdefault(key, " ".join(failure.message.split())[:300] + " | " + answer)
        if not SURVEY:
            raise
