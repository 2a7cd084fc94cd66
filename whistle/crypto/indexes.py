"""Blind indexes: keyed hashes that let the server match a value without storing it."""
from __future__ import annotations

import unicodedata

from . import envelopes

_PERSON_PURPOSE = b"whistle-bidx"


def _person_for(purpose: str) -> bytes:
    # Personalisation is limited to 16 bytes, so it is derived from the purpose by hashing;
    # any purpose name works and each gets an unrelated hash function.
    if not isinstance(purpose, str) or not purpose:
        raise ValueError("purpose must be a non-empty str")
    return envelopes.blake2b(purpose.encode("utf-8"), size=16, person=_PERSON_PURPOSE)


def normalise_value(value: str) -> str:
    """NFC, strip surrounding whitespace, casefold, NFC again (casefolding can denormalise)."""
    value = unicodedata.normalize("NFC", value).strip().casefold()
    return unicodedata.normalize("NFC", value)


def blind_index(value: str, pepper: bytes, *, purpose: str) -> bytes:
    """Keyed BLAKE2b-256 of the normalised `value`; equal values (for one purpose) match.

    Only as strong as the value is unpredictable: without the pepper nothing can be guessed;
    with the pepper, a short value like a personnel number can be found by trying them all.
    """
    pepper = envelopes.check_secret_key(pepper, "pepper")
    if not isinstance(value, str):
        raise TypeError("value must be a str")
    data = normalise_value(value).encode("utf-8")
    return envelopes.blake2b(data, size=32, key=pepper, person=_person_for(purpose))
