"""Columns stored under a shred wrap, read and written as if they were not (docs/crypto.md 5.10).

A grant's sealed keys (under the case's shred key), an item's ciphertext (under the item's own)
and a file's first bytes (under the file's own) are stored wrapped, so destroying those keys in the
shred key store (whistle.shredding) makes every copy of them unreadable, backups included. The
code reads and writes them through `shredded(...)` attributes that show the unwrapped value:

- writing one keeps the value in memory; when the session flushes, `wrap_before_flush` gives a new
  case, item or file its shred key (made and committed in the store at once) and stores the value
  wrapped under its key. A row without a handle (written before shredding existed, and not yet
  wrapped by the "shred wraps" job) is stored as it is;
- reading one unwraps the stored value with the key from the store (DecryptionFailed once the key
  is destroyed); a row without a handle is read as it is. The keys a session needs are fetched
  together, once per session, for every row it holds (`_key_for`).

So the devices and the rest of the code see what they saw before: the server unwraps before
anything leaves it.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Session, object_session

from whistle import crypto
from whistle.shredding import destroyed_generation, shred_store_of

_PLAIN = "_shred_plain"  # instance.__dict__: attribute -> the unwrapped value (read or written)
_PENDING = "_shred_pending"  # instance.__dict__: attributes written since the last flush
_KEYS = "shred_keys"  # session.info: (generation, {handle: key}) of the keys fetched in this session

# The classes with shredded attributes: {class: [(stored attribute, purpose)]}, filled by `shredded`.
_SHREDDED: dict[type, list[tuple[str, str]]] = {}
# Each class's handle: a function from a row (and its session) to the handle its values are
# wrapped under (None: stored unwrapped). A class whose rows have a key of their own has a method
# give_shred_handle(session), called for a new row, and for an old one when a value is written.
_HANDLES: dict[type, Callable[[Any, Session], bytes | None]] = {}


def shredded(stored: str, purpose: str) -> hybrid_property:
    """An attribute showing the unwrapped value of the column attribute `stored`, wrapped for
    `purpose` (docs/crypto.md 5.10); in queries it stands for the stored column (its NULL is the
    value's NULL: a wrap never hides one)."""

    def get(self) -> Any:
        plain = self.__dict__.setdefault(_PLAIN, {})
        if stored not in plain:
            plain[stored] = _unwrapped(self, stored, purpose)
        return plain[stored]

    def set_(self, value: Any) -> None:
        self.__dict__.setdefault(_PLAIN, {})[stored] = value
        self.__dict__.setdefault(_PENDING, set()).add(stored)
        # The row is marked changed; what is written is the wrap `wrap_before_flush` makes.
        setattr(self, stored, value)

    def expression(cls) -> Any:
        return getattr(cls, stored)

    attribute = hybrid_property(get, set_, expr=expression)
    attribute.shredded_column = stored  # type: ignore[attr-defined]
    return attribute


def stored_name(cls: type, name: str) -> str:
    """The stored attribute behind the shredded attribute `name` of `cls` ("ciphertext" ->
    "wrapped_ciphertext")."""
    attribute = cls.__dict__.get(name)
    stored = getattr(attribute, "shredded_column", None) if attribute is not None else None
    if stored is None:
        raise AttributeError(f"{cls.__name__}.{name} is not a shredded attribute")
    return stored


def register(cls: type, handle_of: Callable[[Any, Session], bytes | None], fields: list[tuple[str, str]]) -> None:
    """Declare `cls`'s shredded columns (stored attribute, purpose) and how its handle is found."""
    _SHREDDED[cls] = fields
    _HANDLES[cls] = handle_of
    event.listen(cls, "expire", _expired, propagate=True)
    event.listen(cls, "refresh", _refreshed, propagate=True)


def _drop(target, attrs) -> None:
    """Forget what `target` holds unwrapped of the stored attributes `attrs` (None: all of them),
    and any value written to them and not yet flushed (the session dropped it with them)."""
    if target is None:  # a row the session no longer holds in memory
        return
    for name in (_PLAIN, _PENDING):
        held = target.__dict__.get(name)
        if held is None:
            continue
        for stored in [stored for stored in held if attrs is None or stored in attrs]:
            if isinstance(held, dict):
                del held[stored]
            else:
                held.discard(stored)


def _expired(target, attrs) -> None:
    _drop(target, attrs)


def _refreshed(target, _context, attrs) -> None:
    # Read from the database again: what was unwrapped before may be stale.
    _drop(target, attrs)


def forget(target) -> None:
    """Drop what `target` holds unwrapped in memory (an erased item's content)."""
    _drop(target, None)


def _unwrapped(row, stored: str, purpose: str) -> Any:
    value = getattr(row, stored)
    if value is None:
        return None
    session = object_session(row)
    if session is None:
        raise crypto.DecryptionFailed("a shredded value read outside any database session")
    handle = _HANDLES[type(row)](row, session)
    if handle is None:
        return value  # written before shredding existed: stored as it is
    key = _key_for(session, handle)
    if key is None:
        raise crypto.DecryptionFailed("its shred key is destroyed")
    return crypto.shred_unwrap(key, handle, purpose, value)


def _key_for(session: Session, handle: bytes) -> bytes | None:
    """The key of `handle`, fetched from the store with those of every row the session holds."""
    keys = _cached_keys(session)
    if handle not in keys:
        # Every handle already loaded (a case's, an item's, a file's; read from the row's dict, so
        # nothing more is loaded for it): one query for a page of a case, not one per item.
        wanted = {handle} | {found for row in list(session.identity_map.values())
                             for found in [row.__dict__.get("shred_handle")]
                             if isinstance(found, bytes) and found not in keys}
        fetched = shred_store_of(session).keys(wanted)
        for each in wanted:
            keys[each] = fetched.get(each)
    return keys[handle]


def remember_key(session: Session, handle: bytes, key: bytes) -> None:
    """A key just made in this session: found without asking the store."""
    _cached_keys(session)[handle] = key


def _cached_keys(session: Session) -> dict[bytes, bytes | None]:
    """The keys this session fetched, by handle (None: destroyed); emptied whenever this process
    has destroyed keys since, so a destroyed key is not used again."""
    generation = destroyed_generation()
    cached = session.info.get(_KEYS)
    if cached is None or cached[0] != generation:
        cached = session.info[_KEYS] = (generation, {})
    keys: dict[bytes, bytes | None] = cached[1]
    return keys


def wrap_before_flush(session: Session, _context, _instances) -> None:
    """Store every shredded value written since the last flush wrapped under its row's key; give
    a new case, item or file its shred key first (made and committed in the store at once)."""
    pending = [row for row in list(session.new) + list(session.dirty)
               if type(row) in _SHREDDED and row.__dict__.get(_PENDING)]
    for row in [row for row in session.new if hasattr(type(row), "give_shred_handle")]:
        row.give_shred_handle(session)
    for row in pending:
        handle_of = _HANDLES[type(row)]
        handle = handle_of(row, session)
        if handle is None and hasattr(row, "give_shred_handle"):
            handle = row.give_shred_handle(session)
        plain = row.__dict__[_PLAIN]
        for stored, purpose in _SHREDDED[type(row)]:
            if stored not in row.__dict__[_PENDING]:
                continue
            value = plain[stored]
            if value is None or handle is None:
                setattr(row, stored, value)
                continue
            key = _key_for(session, handle)
            if key is None:
                raise crypto.CryptoError("cannot write under a destroyed shred key")
            setattr(row, stored, crypto.shred_wrap(key, handle, purpose, value))
        row.__dict__.pop(_PENDING, None)


def new_handle(session: Session) -> bytes:
    """A new shred key, committed in the session's store; its handle."""
    handle, key = shred_store_of(session).new_key()
    remember_key(session, handle, key)
    return handle


event.listen(Session, "before_flush", wrap_before_flush)
