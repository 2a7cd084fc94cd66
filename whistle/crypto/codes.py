"""Human-copyable random codes (receipts, recovery keys) in Crockford base32."""
from __future__ import annotations

import unicodedata

from nacl import bindings

# Crockford's alphabet: digits and capitals without I, L, O and U, so that what a person
# reads back can be mapped forgivingly onto it.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
GROUP = 4

# Crockford's decoding rules: O reads as zero, I and L as one.
_CONFUSABLES = str.maketrans({"O": "0", "I": "1", "L": "1"})
# Separators people (and word processors) put in when copying: spaces of every kind are
# handled by str.split(); these are hyphen-minus and the dashes an editor may substitute.
_DASHES = str.maketrans("", "", "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212")


def new_code(length: int) -> str:
    """`length` uniformly random characters (5 bits each), grouped in fours with hyphens."""
    # 256 is a multiple of 32, so `byte % 32` is uniform: no modulo bias.
    chars = "".join(ALPHABET[byte % 32] for byte in bindings.randombytes(length))
    return group(chars)


def group(chars: str) -> str:
    return "-".join(chars[i : i + GROUP] for i in range(0, len(chars), GROUP))


def normalise_code(text: str, length: int) -> str | None:
    """The canonical grouped form of `text`, or None if it is not `length` valid characters.

    Forgiving of case, whitespace, hyphens and dashes, full-width forms (NFKC), and Crockford's
    O->0, I/L->1.
    """
    if not isinstance(text, str):
        return None
    text = unicodedata.normalize("NFKC", text)
    chars = "".join(text.split()).translate(_DASHES).upper().translate(_CONFUSABLES)
    if len(chars) != length or any(c not in ALPHABET for c in chars):
        return None
    return group(chars)


def encode_bits(data: bytes) -> str:
    """`data` in Crockford base32, most significant bit first, ungrouped.

    len(data) * 8 must be a multiple of 5 (a fingerprint's 20 bytes are 32 characters), so
    there is no padding to agree on.
    """
    bits = len(data) * 8
    if bits % 5:
        raise ValueError("length in bits must be a multiple of 5")
    number = int.from_bytes(data, "big")
    return "".join(ALPHABET[(number >> shift) & 31] for shift in range(bits - 5, -5, -5))
