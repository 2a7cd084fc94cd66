"""The organisation key the desk trusts, and the key directories it lets through.

At start every channel's directory is taken as whistle-report takes it (whistle.client.trust): the key
pinned on first use (or given with --fingerprint) or the one pinned before, the version never going
back. After that every keys answer the server sends through the desk is checked the same way against
the pinned key, so a page's scripts never see a directory the desk did not verify.
"""
from __future__ import annotations

import base64
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from whistle import crypto
from whistle.client import trust
from whistle.client.api import Api, ApiError, path
from whistle.client.state import ServerState, StateStore


class Pin:
    """The pinned organisation key of one server, and the highest directory version seen."""

    def __init__(self, api: Api, store: StateStore, public_key: bytes) -> None:
        self.api = api
        self.store = store
        self.public_key = public_key
        self.fingerprint = crypto.fingerprint(public_key)
        self._lock = threading.Lock()

    @classmethod
    def take(cls, api: Api, store: StateStore, *, fingerprint: str | None, confirm: trust.Confirm,
             say: Callable[[str], None]) -> Pin:
        """Fetch the channel list and each channel's directory, and check them (trust.Refused, in plain
        words, if any is signed by another key than the pinned one, or goes back a version)."""
        try:
            channels = api.call("GET", path("channels"))
        except ApiError as error:
            raise trust.Refused(f"The server did not give its channel list: {error.words()}") from None
        if not isinstance(channels, dict) or not isinstance(channels.get("channels"), list):
            raise trust.Refused("The server's channel list is not one the desk reads.")
        checked = 0
        for channel in channels["channels"]:
            slug = channel.get("slug") if isinstance(channel, dict) else None
            if not isinstance(slug, str):
                raise trust.Refused("The server's channel list is not one the desk reads.")
            try:
                trust.directory_of(api, slug, store, fingerprint=fingerprint, confirm=confirm, say=say)
            except trust.NoDirectory:
                continue  # a channel nobody is listed for yet: nothing to check, nothing to seal to
            checked += 1
        state = store.load(api.origin)
        if not checked or state.public_key is None:
            raise trust.Refused("The server publishes no key directory, so the desk has nothing to pin the "
                                "organisation's key with.")
        return cls(api, store, state.public_key)

    def check(self, published: Any, *, now: datetime | None = None) -> crypto.DirectoryDocument:
        """The directory in a keys answer, verified with the pinned key and not older than the highest
        version seen (which it then raises); trust.Refused with the reason otherwise."""
        with self._lock:
            state = self.store.load(self.api.origin)
            if state.public_key is not None and state.public_key != self.public_key:
                raise trust.Refused("The organisation key pinned in the state directory changed while the desk "
                                    "was running.")
            try:
                document = crypto.open_directory(published, self.public_key, now=now or datetime.now(UTC),
                                                 lowest_version=state.directory_version)
            except crypto.BadSignature:
                raise trust.Refused("The key directory is not signed by the organisation key the desk trusts "
                                    f"({self.fingerprint}). Someone may be impersonating the service.") from None
            except crypto.DirectoryRefused as error:
                raise trust.Refused(f"The key directory was refused: {error}.") from None
            if document.version > state.directory_version:
                self.store.save(ServerState(self.api.origin, self.public_key, self.fingerprint, document.version))
            return document

    def check_answer(self, body: bytes) -> None:
        """check() on the bytes of a keys answer (trust.Refused if they are not JSON)."""
        try:
            published = json.loads(body)
        except ValueError:
            raise trust.Refused("The key directory the server sent is not JSON.") from None
        self.check(published)

    def organisation(self) -> dict[str, str | int]:
        """What /desk/organisation.json tells the page's scripts: the pinned key, not the server's word,
        and the newest directory version seen, below which the scripts refuse a directory (the one a
        case's envelopes carry does not pass through check())."""
        with self._lock:
            newest = self.store.load(self.api.origin).directory_version
        return {"public_key": base64.b64encode(self.public_key).decode("ascii"), "fingerprint": self.fingerprint,
                "directory_version": newest}
