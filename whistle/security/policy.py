"""Who is asking: sessions from a bearer token (API) or a cookie (HTML), checked against ACLs.

Deny by default: the root and every context carry ACLs ending in DENY_ALL, and every view
declares the permission it needs (a test walks the view registry to make sure).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from pyramid.authorization import ACLHelper, Everyone
from pyramid.interfaces import ICSRFStoragePolicy
from pyramid.request import RequestLocalCache

from whistle import crypto
from whistle.accounts.models import Account
from whistle.cases.models import Case
from whistle.security.cookies import cookie_profile
from whistle.sessions.models import REPORTER, STAFF, LoginSession
from whistle.sessions.services import resolve_session

# The session cookies' base names; whistle.security.cookies decides the name sent (`__Host-`).
SESSION_COOKIES = {STAFF: "whistle_staff", REPORTER: "whistle_reporter"}


@dataclass
class StaffIdentity:
    account: Account
    keypair: crypto.KeyPair = field(repr=False)
    session: LoginSession
    token: str = field(repr=False)

    @property
    def principals(self) -> list[str]:
        principals = ["staff", f"account:{self.account.id}"]
        if self.account.is_guardian:
            principals.append("role:guardian")
        if self.account.is_admin:
            principals.append("role:admin")
        return principals


@dataclass
class ReporterIdentity:
    case: Case
    keypair: crypto.KeyPair = field(repr=False)
    session: LoginSession
    token: str = field(repr=False)

    @property
    def principals(self) -> list[str]:
        return ["reporter", f"reporter-case:{self.case.id}"]


@dataclass
class IntegrationIdentity:
    """A system such as an HR database, allowed only to post personnel events (issue 5, part Y)."""

    integration_id: int

    @property
    def principals(self) -> list[str]:
        return ["integration", f"integration:{self.integration_id}"]


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


class SecurityPolicy:
    def __init__(self, cookies_secure: bool) -> None:
        self.acl = ACLHelper()
        # Pyramid asks for the identity several times a request (permission check, views,
        # audit); resolving the session each time would mean repeated reads, writes and unwraps.
        self.identity_cache = RequestLocalCache(self._load_identity)
        self.cookies = {kind: cookie_profile(base, secure=cookies_secure) for kind, base in SESSION_COOKIES.items()}

    def _token(self, request) -> tuple[str | None, str | None]:
        """(token, kind it must have). The API takes only bearer tokens, pages only cookies,
        so a browser's cookie can never authorise an API call (no CSRF through the API)."""
        if is_api(request):
            return bearer_token(request), None
        for kind, profile in self.cookies.items():
            token = profile.bind(request).get_value()
            if token:
                return token, kind
        return None, None

    def identity(self, request):
        return self.identity_cache.get_or_create(request)

    def _load_identity(self, request):
        token, kind = self._token(request)
        if not token:
            return None
        settings = request.registry.whistle_settings
        opened = resolve_session(request.dbsession, settings, request.clock, token, kind)
        if opened is None:
            # Issue 5, part Y: an API token that is no session may be an integration's.
            return _integration_identity(request, token) if kind is None else None
        row, keypair = opened.row, crypto.KeyPair.from_private(opened.private_key)
        if row.kind == STAFF:
            account = request.dbsession.get(Account, row.account_id)
            if account is None or account.disabled:
                return None
            return StaffIdentity(account=account, keypair=keypair, session=row, token=token)
        case = request.dbsession.get(Case, row.case_id)
        return None if case is None else ReporterIdentity(case=case, keypair=keypair, session=row, token=token)

    def authenticated_userid(self, request):
        identity = request.identity
        if isinstance(identity, StaffIdentity):
            return f"account:{identity.account.id}"
        if isinstance(identity, IntegrationIdentity):
            return f"integration:{identity.integration_id}"
        return "reporter" if isinstance(identity, ReporterIdentity) else None

    def permits(self, request, context, permission):
        identity = request.identity
        principals = [Everyone] + (identity.principals if identity else [])
        return self.acl.permits(context, principals, str(permission))

    def remember(self, request, token, kind=STAFF, **kw):
        _csrf_policy(request).session_opened(request, kind, token)  # a new session, a new CSRF token
        return self.cookies[kind].bind(request).get_headers(token)

    def forget(self, request, kind=STAFF, **kw):
        _csrf_policy(request).session_closed(request, kind)
        return self.cookies[kind].bind(request).get_headers(None)


def _csrf_policy(request):
    return request.registry.getUtility(ICSRFStoragePolicy)


def _integration_identity(request, token: str) -> IntegrationIdentity | None:
    from whistle.protection.services import resolve_integration  # here: keeps this module free of import cycles

    integration = resolve_integration(request.dbsession, request.registry.whistle_settings, token)
    return None if integration is None else IntegrationIdentity(integration_id=integration.id)
