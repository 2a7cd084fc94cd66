"""Escalations: carrying out the actions plugins return, plugins' rules on events, and each case's date rules."""
