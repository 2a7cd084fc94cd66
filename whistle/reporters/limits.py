"""What one client may spend on the mailbox (docs/operations.md, "Limits"): wrong receipts, and
files started. A client is told apart only by `whistle.throttles.client_hash` (its address hashed
with the hour's subkey of the session key file, the same on every node); the budgets live in the
throttles table, shared by every node.

- Wrong receipts (and lookup values): `receipt_failures_per_client` per 10 minutes from one
  client, checked before the receipt's Argon2id; the whole service's budget (the slow lane,
  whistle.reporters.services) still applies beside it.
- Files: `uploads_per_client` per 10 minutes from one client and `uploads_per_minute` across the
  service, for each file a reporter sends (the mailbox form, the API's upload, an upload in chunks
  started), checked before the file is read and counted once it is stored.

It takes the request, so it is delivery: it reads the client's address, the settings and the clock.
"""
from __future__ import annotations

from whistle.throttles import (
    CLIENT_WINDOW,
    RECEIPT_TRIES,
    SERVICE_WINDOW,
    UPLOADS,
    Budget,
    BudgetSpent,
    check,
    client_budget,
    client_hash,
    count,
)


class TooManyTries(BudgetSpent):
    """This client has tried too many wrong receipts: `retry_after` seconds until it may again."""


class TooManyUploads(BudgetSpent):
    """This client, or the whole service, has started all the files it may for now."""


def _receipt_budget(request) -> list[Budget]:
    client = client_hash(request.environ, request.clock, RECEIPT_TRIES, request.whistle_settings.session_key)
    return client_budget(RECEIPT_TRIES, client, request.whistle_settings.receipt_failures_per_client, CLIENT_WINDOW)


def check_receipt_tries(request) -> None:
    """Raise TooManyTries if this client's wrong receipts have used up its budget. A plain read."""
    try:
        check(request.dbsession, request.clock, _receipt_budget(request))
    except BudgetSpent as spent:
        raise TooManyTries(spent.retry_after) from None


def count_wrong_receipt(request) -> None:
    """Count one wrong receipt (or lookup value) against this client."""
    count(request.dbsession, request.clock, _receipt_budget(request))


def _upload_budgets(request) -> list[Budget]:
    settings = request.whistle_settings
    client = client_hash(request.environ, request.clock, UPLOADS, request.whistle_settings.session_key)
    return [*client_budget(UPLOADS, client, settings.uploads_per_client, CLIENT_WINDOW),
            Budget(UPLOADS, settings.uploads_per_minute, SERVICE_WINDOW)]


def check_uploads(request, files: int = 1) -> None:
    """Raise TooManyUploads if this client, or the service, cannot start `files` more files now
    (plain reads: counted by count_uploads once they are stored)."""
    try:
        check(request.dbsession, request.clock, _upload_budgets(request), more=files)
    except BudgetSpent as spent:
        raise TooManyUploads(spent.retry_after) from None


def count_uploads(request, files: int = 1) -> None:
    """Count `files` stored files in this client's budget and the service's."""
    for _ in range(files):
        count(request.dbsession, request.clock, _upload_budgets(request))
