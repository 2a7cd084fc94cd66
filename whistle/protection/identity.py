"""Who an HR integration caller is: a system allowed only to post personnel events, known by its API token."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from whistle.protection.services import resolve_integration
from whistle.security.policy import Identity
from whistle.settings import Settings


@dataclass
class IntegrationIdentity(Identity):
    integration_id: int

    @property
    def principals(self) -> list[str]:
        return ["integration", f"integration:{self.integration_id}"]

    @property
    def userid(self) -> str:
        return f"integration:{self.integration_id}"


def integration_of(dbsession: Session, settings: Settings, token: str) -> IntegrationIdentity | None:
    """The enabled integration whose token this is, or None."""
    integration = resolve_integration(dbsession, settings, token)
    return None if integration is None else IntegrationIdentity(integration_id=integration.id)
