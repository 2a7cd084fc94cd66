"""Who is asking: sessions from a bearer token (API) or a cookie (HTML), checked against ACLs.

Deny by default: the root and every context carry ACLs ending in DENY_ALL, and every view
declares the permission it needs (a test walks the view registry to make sure).

The policy knows login sessions, not what they belong to: each area that has callers tells it,
in its includeme, how to load its kind of caller (`config.add_identity_loader(kind, loader)`:
accounts loads staff, reporters load a case's reporter) and how to recognise an API token that
is no session (`config.add_token_resolver(resolver)`: protection's HR integrations).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyramid.authorization import ACLHelper, Everyone
from pyramid.interfaces import ICSRFStoragePolicy
from pyramid.request import RequestLocalCache
from sqlalchemy.orm import Session

from whistle import crypto
from whistle.security.cookies import cookie_profile
from whistle.sessions.models import REPORTER, STAFF, LoginSession
from whistle.sessions.services import resolve_session
from whistle.settings import Settings

# The session cookies' base names; whistle.security.cookies decides the name sent (`__Host-`).
SESSION_COOKIES = {STAFF: "whistle_staff", REPORTER: "whistle_reporter"}


class Identity:
    """A caller the policy recognised. Subclasses say who they are as ACL principals and as the
    user id Pyramid (and the audit log's actor) knows them by."""

    @property
    def principals(self) -> list[str]:
        raise NotImplementedError

    @property
    def userid(self) -> str:
        raise NotImplementedError


@dataclass
class SessionIdentity(Identity):
    """A caller with a login session (staff or reporter): its kind, the private key the session
    carries, unwrapped for this request, the session row and the client's token."""

    keypair: crypto.KeyPair = field(repr=False)
    session: LoginSession | None
    token: str = field(repr=False)

    kind = ""  # the session kind (whistle.sessions.models) a subclass stands for


# loader(dbsession, session row, key pair, token) -> the caller, or None (the row's owner is gone or disabled)
IdentityLoader = Callable[[Session, LoginSession, crypto.KeyPair, str], SessionIdentity | None]
# resolver(dbsession, settings, token) -> the caller an API token that is no session stands for, or None
TokenResolver = Callable[[Session, Settings, str], Identity | None]


# The reporter's own pages: there a reporter's session counts before a staff one, so that
# a guardian signed in to the workspace can open their own report in the same browser.
REPORTER_PAGES = ("/mailbox", "/exit")


def bearer_token(request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


def is_api(request) -> bool:
    return request.path_info.startswith("/api/")


def session_kind(request) -> str | None:
    """The kind of login session the caller has (STAFF, REPORTER), or None."""
    identity = request.identity
    return identity.kind if isinstance(identity, SessionIdentity) else None


class SecurityPolicy:
    def __init__(self, cookies_secure: bool) -> None:
        self.acl = ACLHelper()
        # Pyramid asks for the identity several times a request (permission check, views,
        # audit); resolving the session each time would mean repeated reads, writes and unwraps.
        self.identity_cache = RequestLocalCache(self._load_identity)
        self.cookies = {kind: cookie_profile(base, secure=cookies_secure) for kind, base in SESSION_COOKIES.items()}
        self.loaders: dict[str, IdentityLoader] = {}
        self.token_resolvers: list[TokenResolver] = []

    def _token(self, request) -> tuple[str | None, str | None]:
        """(token, kind it must have). The API takes only bearer tokens, pages only cookies,
        so a browser's cookie can never authorise an API call (no CSRF through the API)."""
        if is_api(request):
            return bearer_token(request), None
        kinds = [REPORTER, STAFF] if request.path_info.startswith(REPORTER_PAGES) else [STAFF, REPORTER]
        for kind in kinds:
            profile = self.cookies[kind]
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
            # An API token that is no session may stand for something else (an HR integration).
            return self._resolve_token(request, token) if kind is None else None
        loader = self.loaders.get(opened.row.kind)
        if loader is None:
            return None
        return loader(request.dbsession, opened.row, crypto.KeyPair.from_private(opened.private_key), token)

    def _resolve_token(self, request, token: str):
        for resolve in self.token_resolvers:
            identity = resolve(request.dbsession, request.registry.whistle_settings, token)
            if identity is not None:
                return identity
        return None

    def authenticated_userid(self, request):
        identity = request.identity
        return identity.userid if identity is not None else None

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
