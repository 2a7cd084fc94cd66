"""The workspace's fixtures (a channel, two guardians, an admin, a submitted case), for records' tests."""
from tests.functional.workspace.conftest import admin, channel, colleague, guardian, headers, submitted  # noqa: F401
