"""Scheduled work: `whistle tick` and the embedded scheduler thread (see docs/operations.md)."""
