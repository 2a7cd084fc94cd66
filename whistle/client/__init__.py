"""whistle-report: a reporter's client that encrypts and decrypts on the reporter's own machine.

It speaks the end-to-end reporter API (docs/crypto.md 7.1, 7.2) and imports nothing of the server:
whistle.crypto and the standard library only, so what it trusts is the organisation's signed key
directory, pinned by fingerprint, and nothing a database row says. docs/whistle-report.md.
"""
