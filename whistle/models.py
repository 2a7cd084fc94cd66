"""Every mapped class, imported in one place so the metadata (and Alembic) sees them all."""
from whistle.accounts.models import Account
from whistle.audit.models import AuditEvent, AuditHead
from whistle.cases.models import Case, CaseGrant, CaseItem
from whistle.channels.models import Channel, ChannelGuardian
from whistle.db import Base
from whistle.sessions.models import LoginSession

__all__ = [
    "Account", "AuditEvent", "AuditHead", "Base", "Case", "CaseGrant", "CaseItem",
    "Channel", "ChannelGuardian", "LoginSession",
]
