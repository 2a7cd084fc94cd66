"""Notifications: the content-free outbox, the guardian's notice preferences, and delivery by the tick."""
