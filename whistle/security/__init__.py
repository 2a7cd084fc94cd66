"""Security: the policy, deny-by-default ACLs, CSRF and the security-header tween."""
from whistle.security.csrf import SessionBoundCSRF
from whistle.security.permissions import Permission
from whistle.security.policy import SecurityPolicy

__all__ = ["UNDECLARED", "Permission", "SecurityPolicy", "includeme"]

UNDECLARED = "undeclared:denied"


def includeme(config) -> None:
    settings = config.registry.whistle_settings
    policy = SecurityPolicy(cookies_secure=settings.cookies_secure)
    config.set_security_policy(policy)

    def add_identity_loader(config, kind: str, loader) -> None:
        """How a caller with a login session of `kind` is loaded (see whistle.security.policy)."""
        policy.loaders[kind] = config.maybe_dotted(loader)

    def add_token_resolver(config, resolver) -> None:
        """What an API token that is no login session may stand for (see whistle.security.policy)."""
        policy.token_resolvers.append(config.maybe_dotted(resolver))

    config.add_directive("add_identity_loader", add_identity_loader)
    config.add_directive("add_token_resolver", add_token_resolver)
    # A view that forgets to declare its permission gets one nobody holds: deny by default.
    config.set_default_permission(UNDECLARED)
    # The CSRF token is derived from the login session, or for a visitor without one (a
    # reporter writing a report) from a random value in its own cookie (whistle/security/csrf.py).
    # The API is exempt: it authenticates only by bearer token, never by cookie, and takes only
    # application/json, which a cross-site form cannot send.
    config.set_csrf_storage_policy(SessionBoundCSRF(settings.session_key, secure=settings.cookies_secure))
    # check_origin is off because "Referrer-Policy: no-referrer" makes browsers send
    # "Origin: null" on form posts; the token (tied to the session, SameSite=Strict) protects instead.
    config.set_default_csrf_options(
        require_csrf=True, check_origin=False, callback=lambda request: not request.path_info.startswith("/api/")
    )
    config.add_tween("whistle.security.headers.security_headers_tween_factory")
