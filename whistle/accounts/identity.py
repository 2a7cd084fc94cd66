"""Who a staff caller is: their account, loaded from their login session (see whistle.security.policy)."""
from __future__ import annotations

import base64
from dataclasses import dataclass

from markupsafe import Markup
from pyramid.csrf import get_csrf_token
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.accounts.models import Account
from whistle.security.policy import SessionIdentity
from whistle.sessions.models import STAFF, LoginSession
from whistle.sessions.services import NO_PRIVATE_KEY


@dataclass
class StaffIdentity(SessionIdentity):
    account: Account

    kind = STAFF

    @property
    def principals(self) -> list[str]:
        principals = ["staff", f"account:{self.account.id}"]
        if self.account.is_guardian:
            principals.append("role:guardian")
        if self.account.is_admin:
            principals.append("role:admin")
        return principals

    @property
    def userid(self) -> str:
        return f"account:{self.account.id}"

    @property
    def holds_key(self) -> bool:
        """Whether this session holds the guardian's private key (server-assisted mode); if not,
        it is in device mode: the guardian's device decrypts, and the server never can."""
        return self.keypair.private != NO_PRIVATE_KEY


def load_staff(dbsession: Session, row: LoginSession, keypair: crypto.KeyPair, token: str) -> StaffIdentity | None:
    """The staff caller of a session; None once their account is gone or disabled."""
    account = dbsession.get(Account, row.account_id)
    if account is None or account.disabled:
        return None
    return StaffIdentity(account=account, keypair=keypair, session=row, token=token)


def staff_page_meta(request) -> Markup:
    """What a staff page's scripts need to know, in `<head>`: the mode of this sign-in and, in
    device mode, the page key that opens the guardian's private key kept in sessionStorage
    (docs/crypto.md 6.3), the account and the CSRF token for the script's own requests.
    Nothing for anyone else."""
    identity = request.identity
    if not isinstance(identity, StaffIdentity):
        return Markup("")
    if identity.holds_key:
        return Markup('<meta name="whistle-mode" content="server-assisted">')
    page_key = base64.b64encode(crypto.page_key(identity.token, request.whistle_settings.session_key)).decode("ascii")
    return Markup(
        '<meta name="whistle-mode" content="device">\n'
        '  <meta name="whistle-page-key" content="{}">\n'
        '  <meta name="whistle-account" content="{}">\n'
        '  <meta name="csrf-token" content="{}">'
    ).format(page_key, identity.account.id, get_csrf_token(request))


def page_meta_global(event) -> None:
    request = event["request"]
    if request is not None:
        event["staff_page_meta"] = lambda: staff_page_meta(request)
