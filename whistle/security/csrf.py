"""CSRF tokens tied to who is asking (Pyramid's ICSRFStoragePolicy).

- A request with a staff or reporter login session: the token is a keyed hash of the session
  token (whistle.crypto.csrf_token_for_session). It changes whenever the session does: signing
  in opens a new session, so a token from before is refused; signing out ends it. It cannot be
  turned back into the session token, so a token seen in a page opens nothing.
- A visitor without a session (a reporter writing a report, anyone on a sign-in page): a random
  value in its own HttpOnly, SameSite=Strict cookie, and the token is a keyed hash of that value
  (a signed double-submit). The cookie value itself is not a token, so a cookie planted or read
  elsewhere is no use in a form. The cookie goes when a session opens or closes.

Tokens are compared in constant time. The key is a subkey of the session key file.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass

from pyramid.interfaces import ICSRFStoragePolicy
from zope.interface import implementer

from whistle import crypto
from whistle.security.cookies import cookie_profile
from whistle.security.policy import SessionIdentity

CSRF_COOKIE = "whistle_csrf"
_STATE = "whistle.csrf"


@dataclass
class _RequestState:
    """What this request changed: a session opened or closed, and the visitor cookie's value."""

    session_changed: bool = False
    session: tuple[str, str] | None = None  # (kind, token)
    browser_changed: bool = False
    browser_value: str | None = None
    writes_cookie: bool = False


@implementer(ICSRFStoragePolicy)
class SessionBoundCSRF:
    def __init__(self, session_key: bytes, *, secure: bool) -> None:
        self.key = crypto.csrf_key(session_key)
        self.cookie = cookie_profile(CSRF_COOKIE, secure=secure)

    # --- ICSRFStoragePolicy ---

    def new_csrf_token(self, request) -> str:
        """A session's token is its own (it changes with the session); a visitor without one
        gets a fresh cookie value, and so a fresh token."""
        session = self._session(request)
        if session is not None:
            return crypto.csrf_token_for_session(session[1], self.key)
        value = crypto.new_csrf_cookie_value()
        self._leave_browser_value(request, value)
        return crypto.csrf_token_for_browser(value, self.key)

    def get_csrf_token(self, request) -> str:
        return self._expected(request) or self.new_csrf_token(request)

    def check_csrf_token(self, request, supplied_token) -> bool:
        expected = self._expected(request)
        if expected is None or not isinstance(supplied_token, str) or not supplied_token:
            return False
        return hmac.compare_digest(expected.encode("ascii"), supplied_token.encode("utf-8", "surrogatepass"))

    # --- told by the security policy (remember / forget) ---

    def session_opened(self, request, kind: str, token: str) -> None:
        """A login session starts with this response: its token is the one for forms rendered
        from now on, and the visitor cookie goes, so no token from before the login works."""
        state = self._state(request)
        state.session_changed, state.session = True, (kind, token)
        self._leave_browser_value(request, None)

    def session_closed(self, request, kind: str) -> None:
        """The session of `kind` ends with this response; the next form gets a new visitor cookie."""
        current = self._session(request)
        if current is not None and current[0] != kind:
            return  # another kind of session (staff and mailbox in one browser) goes on
        state = self._state(request)
        state.session_changed, state.session = True, None
        self._leave_browser_value(request, None)

    # --- helpers ---

    def _state(self, request) -> _RequestState:
        state = request.environ.get(_STATE)
        if state is None:
            state = request.environ[_STATE] = _RequestState()
        return state

    def _session(self, request) -> tuple[str, str] | None:
        state = self._state(request)
        if state.session_changed:
            return state.session
        identity = request.identity
        return (identity.kind, identity.token) if isinstance(identity, SessionIdentity) else None

    def _browser_value(self, request) -> str | None:
        state = self._state(request)
        if state.browser_changed:
            return state.browser_value
        return self.cookie.bind(request).get_value() or None

    def _expected(self, request) -> str | None:
        session = self._session(request)
        if session is not None:
            return crypto.csrf_token_for_session(session[1], self.key)
        value = self._browser_value(request)
        return None if value is None else crypto.csrf_token_for_browser(value, self.key)

    def _leave_browser_value(self, request, value: str | None) -> None:
        """Have the response leave the visitor cookie at `value` (None: deleted)."""
        state = self._state(request)
        state.browser_changed, state.browser_value = True, value
        if not state.writes_cookie:
            state.writes_cookie = True
            request.add_response_callback(self._write_cookie)

    def _write_cookie(self, request, response) -> None:
        # One callback writes the final value, however often it changed during the request.
        state = self._state(request)
        sent = self.cookie.bind(request).get_value() or None
        if state.browser_value != sent:
            self.cookie.set_cookies(response, state.browser_value)
