"""Routing: who gets a new case (the channel's guardians, plugins' routing and exclusions, the second tier),
and its triage."""
