"""Proof of work on the report form (docs/crypto.md 6.15): challenges for the form's JavaScript,
and the check of a proof sent with a report, which spends it."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.clock import Clock, start_of_day
from whistle.intake.models import SpentChallenge
from whistle.settings import Settings


def new_challenge(settings: Settings, clock: Clock) -> str | None:
    """A fresh challenge for the report form, or None while proof of work is off."""
    if not settings.proof_of_work:
        return None
    return crypto.new_challenge(crypto.work_key(settings.session_key), bits=settings.proof_of_work_bits,
                                issued=int(clock.now().timestamp()))


def spend_proof(dbsession: Session, settings: Settings, clock: Clock, proof: object) -> bool:
    """Whether `proof` ({"challenge": text, "solution": number}, as a client sent it) is a valid
    proof of work not used before; if it is, it is used now (in this transaction: a report refused
    later gives it back). Anything wrong, expired or used is simply False, never an error: a
    genuine reporter's report goes on as one without a proof."""
    if not settings.proof_of_work or not isinstance(proof, dict):
        return False
    now = clock.now()
    lifetime = settings.proof_of_work_lifetime
    challenge = crypto.check_proof(proof.get("challenge"), proof.get("solution"),
                                   crypto.work_key(settings.session_key), bits=settings.proof_of_work_bits,
                                   now=int(now.timestamp()), lifetime=int(lifetime.total_seconds()))
    if challenge is None:
        return False
    # Forget challenges that have expired anyway: a used one only needs remembering while it is valid.
    dbsession.execute(delete(SpentChallenge).where(SpentChallenge.expires_at < now),
                      execution_options={"synchronize_session": False})
    # Kept to the end of the day the challenge expires on: a finer time would say when a reporter
    # opened the form (every record of a reporter's is dated to the day).
    expires = start_of_day(datetime.fromtimestamp(challenge.issued, UTC) + lifetime) + timedelta(days=1)
    try:
        with dbsession.begin_nested():
            dbsession.add(SpentChallenge(nonce=challenge.nonce, expires_at=expires))
    except IntegrityError:
        return False  # used before (or by a report sent at this very moment)
    return True
