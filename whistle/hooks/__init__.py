"""The plugin system: hook specs, the allowlist-driven manager, and `request.hooks`."""
from whistle.hooks.manager import Hooks, PluginError
from whistle.hooks.markers import hookimpl, hookspec

__all__ = ["Hooks", "PluginError", "hook_caller", "hookimpl", "hookspec", "includeme"]


def includeme(config) -> None:
    settings = config.registry.whistle_settings
    config.registry.hooks = Hooks.from_names(settings.plugins, settings.plugins_plaintext)

    def call_hook(request, hook: str, **kwargs):
        """Call `hook`; a plugin that raises is audited (plugin, hook, error type) and skipped."""

        def audit_failure(plugin: str, hook_name: str, error: str) -> None:
            request.audit("plugin.failed", actor="system", detail={"plugin": plugin, "hook": hook_name, "error": error})

        return request.registry.hooks.call(hook, on_error=audit_failure, **kwargs)

    config.add_request_method(call_hook, "call_hook")


# --- plugins: hooks wired into core (issue 5, part X) ---


def hook_caller(hooks: Hooks, dbsession, clock):
    """`request.call_hook` for services that run without a request (intake, the CLI, a tick):
    call(hook, **kwargs) -> results; a plugin that raises is audited as "plugin.failed"."""
    from whistle import audit

    def audit_failure(plugin: str, hook_name: str, error: str) -> None:
        audit.record(dbsession, clock, actor="system", action="plugin.failed",
                     detail={"plugin": plugin, "hook": hook_name, "error": error})

    def call(hook: str, **kwargs):
        return hooks.call(hook, on_error=audit_failure, **kwargs)

    return call
