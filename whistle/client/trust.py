"""The organisation's key directory, taken only as docs/crypto.md 6.9 says: signed by the pinned
organisation key, not expired, not older than a version already seen.

On first use the key is pinned: the client shows its fingerprint (computed here from the key, next
to the one the server names) and the reporter compares it with the one the organisation publishes on
its own website, or gives it beforehand with --fingerprint. After that the server's "public_key"
member is ignored: a directory signed by any other key is refused.
"""
from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from whistle import crypto

from .api import Api, ApiError, path
from .state import ServerState, StateStore


class Refused(Exception):
    """The client will not go on; the message says why in plain words. Nothing was sent."""


class NoDirectory(Refused):
    """The server gives no key directory for that channel."""


# Asks the reporter a yes/no question on their terminal; None when there is no terminal to ask on.
Confirm = Callable[[str], bool | None]


def directory_of(api: Api, slug: str, store: StateStore, *, fingerprint: str | None, confirm: Confirm,
                 say: Callable[[str], None], now: datetime | None = None) -> crypto.DirectoryDocument:
    """The channel's verified directory; the pin and the version seen are saved once it verified."""
    try:
        published = api.call("GET", path("channels", slug, "keys"))
    except ApiError as error:
        raise NoDirectory(f"The server gives no key directory for {slug!r}: {error.words()}") from None
    if not isinstance(published, dict):
        raise Refused("The server's key directory is not one this client reads. Nothing was sent.")
    state = store.load(api.origin)
    key = state.public_key if state.public_key is not None else _first_use(published, fingerprint, confirm, say)
    if state.public_key is not None and fingerprint is not None and _normal(fingerprint) != state.fingerprint:
        raise Refused(f"The fingerprint you gave is not the one pinned for {api.origin} ({state.fingerprint}). "
                      "Nothing was sent. If the organisation really changed its key, it will say so on its "
                      "own website; then remove the pin from the state directory and start again.")
    try:
        document = crypto.open_directory(published, key, now=now or datetime.now(UTC),
                                         lowest_version=state.directory_version)
    except crypto.BadSignature:
        raise Refused("The key directory is not signed by the organisation key this client "
                      f"{'trusts' if state.public_key is not None else 'was shown'} "
                      f"({crypto.fingerprint(key)}). Someone may be impersonating the service. Nothing was sent.") \
            from None
    except crypto.DirectoryRefused as error:
        raise Refused(f"The key directory was refused: {error}. Nothing was sent.") from None
    store.save(ServerState(api.origin, key, crypto.fingerprint(key),
                           max(state.directory_version, document.version)))
    return document


def _normal(fingerprint: str) -> str:
    normal = crypto.normalise_fingerprint(fingerprint)
    if normal is None:
        raise Refused("A fingerprint is 32 letters and digits, in groups of four (XXXX-XXXX-...).")
    return normal


def _first_use(published: dict[str, Any], fingerprint: str | None, confirm: Confirm,
               say: Callable[[str], None]) -> bytes:
    try:
        key = base64.b64decode(published.get("public_key") or "", validate=True)
    except (binascii.Error, TypeError, ValueError):
        key = b""
    if len(key) != 32:
        raise Refused("The server did not give the organisation's public key, so it cannot be checked and "
                      "pinned. Nothing was sent.")
    computed = crypto.fingerprint(key)
    if published.get("key") != computed:
        raise Refused(f"The server names the fingerprint {published.get('key')!r} but its key has the "
                      f"fingerprint {computed}. Nothing was sent.")
    if fingerprint is not None:
        if _normal(fingerprint) != computed:
            raise Refused(f"The organisation key this server gives has the fingerprint {computed}, not the one "
                          f"you gave ({_normal(fingerprint)}). Someone may be impersonating the service. "
                          "Nothing was sent.")
        say(f"The organisation's fingerprint is {computed}, as you gave it. It is pinned from now on.")
        return key
    say(f"First use of this service. The organisation's key has the fingerprint\n\n    {computed}\n\n"
        f"(computed here from the key; the service names the same: {published.get('key')}). Compare it, "
        "character by character, with the fingerprint the organisation publishes on its own website (not a "
        "page of this service).")
    answer = confirm("Is it the same? [y/N] ")
    if answer is None:
        raise Refused("There is no terminal to ask you to compare the fingerprint on: give it with "
                      "--fingerprint. Nothing was sent.")
    if not answer:
        raise Refused("You did not confirm the fingerprint. Nothing was sent.")
    return key
