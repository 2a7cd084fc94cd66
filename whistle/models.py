"""Every mapped class, imported in one place so the metadata (and Alembic) sees them all."""
from whistle.accounts.models import Account
from whistle.admin.models import StaffingChange, StaffingProposal
from whistle.attachments.models import (
    PendingUpload,
    PendingUploadChunk,
    StoredBlobName,
    StoredBlobPiece,
    UnreferencedBlob,
)
from whistle.audit.models import AuditEvent, AuditHead
from whistle.board.models import BoardEntry
from whistle.cases.models import Attachment, Case, CaseGrant, CaseItem, CaseLabel, CaseRead
from whistle.db import Base
from whistle.escalations.models import ScheduleMark
from whistle.intake.models import SpentChallenge
from whistle.intake_channels.models import Channel, ChannelGuardian
from whistle.key_directory.models import KeyDirectory
from whistle.notifications.models import Notification
from whistle.protection.models import CheckIn, Integration, Protection, ProtectionAlert
from whistle.scheduler.models import JobRun, SchedulerLease
from whistle.sessions.models import LoginSession
from whistle.throttles import Throttle

__all__ = [
    "Account", "Attachment", "AuditEvent", "AuditHead", "Base", "BoardEntry", "Case", "CaseGrant", "CaseItem",
    "CaseLabel",
    "CaseRead", "Channel", "ChannelGuardian", "CheckIn", "Integration", "JobRun", "KeyDirectory", "LoginSession",
    "Notification",
    "PendingUpload", "PendingUploadChunk", "Protection", "ProtectionAlert", "ScheduleMark", "SchedulerLease",
    "SpentChallenge", "StaffingChange", "StaffingProposal", "StoredBlobName", "StoredBlobPiece", "Throttle",
    "UnreferencedBlob",
]
