"""Typed errors raised by whistle.crypto; nothing from nacl ever escapes this package."""


class CryptoError(Exception):
    """Base class of every error whistle.crypto raises on purpose."""


class DecryptionFailed(CryptoError):
    """Wrong key, tampered, truncated or malformed envelope, or wrong associated data.

    Deliberately one type for all of these: callers must not (and cannot) tell a wrong
    password from a tampered envelope, so nothing leaks through the error either.
    Messages never contain key material, passwords, receipts or plaintext.
    """


class UnsupportedVersion(DecryptionFailed):
    """The envelope's version or type byte is not one this code reads here."""


class Expired(DecryptionFailed):
    """A value sealed to be carried by a client (whistle.crypto.carried) whose time is up."""


class InvalidReceipt(CryptoError):
    """A receipt that does not normalise to 20 Crockford base32 characters."""


class BadSignature(CryptoError):
    """A signed key directory whose signature does not verify with the organisation's key."""


class KeyMismatch(CryptoError):
    """A public key that is not the one its authenticator (a MAC under a private key) vouches for."""


class DirectoryRefused(CryptoError):
    """A key directory a client must not use: not of this format, expired, or older than one seen."""


class KdfBusy(Exception):
    """Every Argon2id slot of this process stayed taken for the whole wait (whistle.crypto.keys):
    the service is busy, try again after `retry_after` seconds. Not a CryptoError, so that code
    treating a CryptoError as a wrong password or receipt never counts this as one."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("every Argon2id slot is taken")
        self.retry_after = retry_after
