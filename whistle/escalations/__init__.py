"""Escalations: carrying out the actions plugins return, and the content-free notification outbox."""
