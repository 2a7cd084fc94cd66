"""The workspace's fixtures (a channel, two guardians, an admin, a submitted case), and the tick's
(`world`: an installation on a committed database with a movable clock), for records' tests."""
from tests.functional.scheduler.conftest import world  # noqa: F401
from tests.functional.workspace.conftest import admin, channel, colleague, guardian, headers, submitted  # noqa: F401
