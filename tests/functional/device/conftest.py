"""The workspace's fixtures (a channel, two guardians, a submitted case), for device mode's tests."""
from tests.functional.workspace.conftest import admin, channel, colleague, guardian, headers, submitted  # noqa: F401
