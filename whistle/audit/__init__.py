"""The audit log: who did what to which case, when; metadata only, hash-chained."""
from whistle.audit.services import appending_in_bulk, checkpoint_job, record, verify_chain

__all__ = ["appending_in_bulk", "checkpoint_job", "includeme", "record", "verify_chain"]


def includeme(config) -> None:
    def audit(request, action: str, *, case_id: int | None = None, detail: dict | None = None,
              actor: str | None = None):
        """Record `action` for the request's caller (a staff account, the reporter, or anonymous)."""
        if actor is None:
            actor = request.authenticated_userid or "anonymous"
        return record(request.dbsession, request.clock, actor=actor, action=action, case_id=case_id, detail=detail)

    config.add_request_method(audit, "audit")
