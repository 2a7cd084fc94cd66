"""A plugin that raises in the hooks it implements (for the failure-isolation tests)."""
from whistle import hookimpl


@hookimpl
def whistle_intake_fields(channel):
    raise RuntimeError(f"content that must not be logged: {channel}")
